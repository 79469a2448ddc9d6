/*
 * libaios sentence encoder: text to a fixed-size, L2-normalised vector whose cosine
 * similarity to another sentence's vector says how close their meanings are (the intent
 * engine classifies a sentence by its nearest example sentences).
 *
 * Model (docs/encoder.md): the text is lower-cased (ASCII) and split into words; each
 * word contributes its own hashed bucket and the buckets of its character n-grams
 * (fastText subwords, "<" and ">" marking the word's ends), each adjacent word pair one
 * bigram bucket. x = the weighted mean of those buckets' rows of an embedding table
 * E[buckets][dim]; h = tanh(W x + b) (W[out_dim][dim]); the member's result is h / |h|.
 * With out_dim 0 there is no dense layer and it is x / |x|. A file holds `members`
 * such encoders of one shape, trained independently (member i hashes with seed + i); the
 * embedding is their results side by side, scaled to unit length (an ensemble whose
 * cosine is the mean of the members' cosines).
 *
 * Weights come from tools/aios-train-encoder in one of two encodings of the same file
 * format: fp32 (the trainer's own) or int8 (E as int8 rows, one float scale per row: a
 * quarter of the size, for the partition). W and b stay fp32 in both.
 *
 * File format (little-endian; the buffer must be 4-byte aligned):
 *     offset  size
 *     0       4    magic 0x636e6561 ("aenc")
 *     4       4    version (3)
 *     8       4    header size (128)
 *     12      4    encoding: 0 fp32, 1 int8
 *     16      4    buckets          1 .. 2^24
 *     20      4    dim              4 .. 1024, a multiple of 4
 *     24      4    out_dim          0 (no dense layer) or 4 .. 1024, a multiple of 4
 *     28      4    hash seed
 *     32      4    minn             n-gram range: 1 <= minn <= maxn <= 8;
 *     36      4    maxn               minn = maxn = 0: no character n-grams
 *     40      4    flags            AIOS_ENC_F_*; no unknown bits
 *     44      4    word weight      0 .. 1000 (word_permille)
 *     48      8    body size (bytes after the header)
 *     56      32   SHA-256 of the body
 *     88      4    members          1 .. 16; members * (out_dim or dim) <= 2048
 *     92      4    bigram-free members: bit i set, member i reads no bigrams (only
 *                  with AIOS_ENC_F_BIGRAMS; no bit at or above members)
 *     96      32   zeros
 *     128          body: for each member, in order:
 *                        fp32: float E[buckets][dim]
 *                        int8: int8 E[buckets][dim], float scale[buckets]
 *                        then float W[out_dim][dim], float b[out_dim]
 * The loader checks every field, the exact size and the checksum, and refuses anything
 * else with AIOS_EINVAL and a one-line reason; weights are not scanned for NaN (a NaN
 * weight gives a NaN vector, never an out-of-bounds access).
 *
 * Determinism: every sum runs in an order fixed by the source (rows accumulated in
 * feature order, dot products by aios_dot_f32, tanh and sqrt from aios_math), so a given
 * file and text give the same bits on the host and on AArch64 (docs/inference.md).
 */
#ifndef AIOS_ENCODER_H
#define AIOS_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aios/common.h"

#define AIOS_ENC_MAGIC 0x636e6561u   /* "aenc" read little-endian */
#define AIOS_ENC_VERSION 3u
#define AIOS_ENC_HEADER_SIZE 128u
#define AIOS_ENC_MAX_BUCKETS (1u << 24)
#define AIOS_ENC_MAX_DIM 1024u
#define AIOS_ENC_MAX_NGRAM 8u
#define AIOS_ENC_MAX_MEMBERS 16u
/* An embedding (all members side by side) has at most this many values. */
#define AIOS_ENC_MAX_EMBED 2048u
/* Longer words are featurised from their first AIOS_ENC_MAX_WORD bytes. */
#define AIOS_ENC_MAX_WORD 64u

enum {
    AIOS_ENC_FP32 = 0,
    AIOS_ENC_INT8 = 1,
};

/* Which features exist. */
enum {
    AIOS_ENC_F_WORDS = 1u << 0,     /* one bucket per word */
    AIOS_ENC_F_BIGRAMS = 1u << 1,   /* one bucket per adjacent word pair */
    AIOS_ENC_F_DIGITS = 1u << 2,    /* every run of digits in a word reads as one "0" */
    AIOS_ENC_F_ALL = (1u << 3) - 1,
};

/* Everything that decides how text becomes features and how big the tables are. */
struct aios_encoder_params {
    uint32_t buckets;
    uint32_t dim;
    uint32_t out_dim;    /* 0: no dense layer */
    uint32_t seed;       /* hash seed */
    uint32_t minn, maxn; /* character n-gram lengths, bytes of "<word>"; 0, 0: none */
    uint32_t flags;      /* AIOS_ENC_F_* */
    uint32_t word_permille; /* a word's own bucket's share of the word, in 1/1000 (0: equal
                             * shares with its n-grams, as fastText) */
    uint32_t members;    /* independent encoders of this shape, 1..AIOS_ENC_MAX_MEMBERS;
                          * member i featurises with hash seed seed + i */
    uint32_t no_bigrams; /* bit i set: member i featurises without bigrams (a member
                          * pretrained on running text, whose bigram rows are untrained;
                          * docs/encoder.md) */
};

/* A loaded encoder: points into the caller's buffer, which must outlive it. */
struct aios_encoder {
    struct aios_encoder_params p;
    int encoding;              /* AIOS_ENC_FP32 or AIOS_ENC_INT8 */
    struct aios_encoder_member {
        const float *emb;      /* fp32: E[buckets][dim] */
        const int8_t *qemb;    /* int8: E[buckets][dim] */
        const float *qscale;   /* int8: scale[buckets] */
        const float *w;        /* W[out_dim][dim] */
        const float *b;        /* b[out_dim] */
    } m[AIOS_ENC_MAX_MEMBERS];
};

/* Called once per feature in order: bucket, and its weight in the mean (before the
 * division by the total returned by aios_encoder_featurize). */
typedef void (*aios_encoder_feature_fn)(void *ctx, uint32_t bucket, float weight);

/* Whether byte c is part of a word (the rule below): ASCII letters and digits, and bytes
 * >= 0x80. */
bool aios_encoder_word_byte(unsigned char c);

/* Member i's own featurisation: p with hash seed seed + i, and without bigrams when
 * no_bigrams says so. p is trusted, i < p->members. */
struct aios_encoder_params aios_encoder_member_params(const struct aios_encoder_params *p,
                                                      uint32_t i);

/*
 * The features of the NUL-terminated text under p (for member i of a file:
 * aios_encoder_member_params(p, i)), in the order embedding adds them.
 * Words: maximal runs of ASCII letters, ASCII digits and bytes >= 0x80 (so UTF-8
 * letters stay inside words and are hashed as bytes), ASCII upper case lowered; anything
 * else separates words. For each word, in text order: its own bucket and its character
 * n-grams, which share a weight of 1: equally when word_permille is 0, else the word's
 * own bucket word_permille / 1000 and the n-grams the rest equally (a word without
 * n-grams keeps all of it); then the bigram of it and the previous word (weight 1). Returns
 * Z, the total weight (words + bigrams): x = sum(weight * E[bucket]) / Z. 0 when the text
 * has no words. p is trusted (a loaded encoder's, or the trainer's).
 */
float aios_encoder_featurize(const struct aios_encoder_params *p, const char *text,
                             aios_encoder_feature_fn fn, void *ctx);

/*
 * Load an encoder file of len bytes at buf (4-byte aligned; it must outlive enc).
 * AIOS_OK, or AIOS_EINVAL with the reason in err: "encoder: truncated header",
 * "encoder: bad magic", "encoder: version 7 not supported", "encoder: checksum
 * mismatch", ...
 */
int aios_encoder_load(struct aios_encoder *enc, const void *buf, size_t len, char *err,
                      size_t errlen);

/* The length of the vectors aios_encoder_embed writes: members * (out_dim, or dim
 * without a dense layer), at most AIOS_ENC_MAX_EMBED. */
size_t aios_encoder_dim(const struct aios_encoder *enc);

/*
 * out[0..aios_encoder_dim) = the embedding of the NUL-terminated text: unit length, or
 * all zeros when the text has no words (or its vector is zero). Working memory (4 bytes
 * per dim and out_dim) comes from scratch and is released before returning. AIOS_OK,
 * AIOS_ENOMEM when scratch is too small, AIOS_EINVAL for a NULL argument.
 */
int aios_encoder_embed(const struct aios_encoder *enc, const char *text, float *out,
                       struct aios_arena *scratch);

/* Cosine of two unit vectors of n values: their dot product, in aios_dot_f32's order. */
float aios_encoder_cosine(const float *a, const float *b, size_t n);

/*
 * Writing files (the trainer and the tests). The size of a file for p and encoding, 0
 * when p is outside the loader's limits (reason in err).
 */
size_t aios_encoder_file_size(const struct aios_encoder_params *p, int encoding,
                              char *err, size_t errlen);

/*
 * Write a file for p in the given encoding to out[0..size) (size from
 * aios_encoder_file_size, out 4-byte aligned) from fp32 weights, each member's after the
 * previous one's: emb[members][buckets][dim], w[members][out_dim][dim],
 * b[members][out_dim]. int8 rows: s = max|row| / 127, q = round(x / s) (Q8_0 with
 * the row as the group). AIOS_OK or AIOS_EINVAL (reason in err).
 */
int aios_encoder_write(void *out, size_t size, const struct aios_encoder_params *p,
                       int encoding, const float *emb, const float *w, const float *b,
                       char *err, size_t errlen);

#endif /* AIOS_ENCODER_H */
