/*
 * libaios model: parsing and validating a llama2.c checkpoint held in memory.
 *
 * Two formats, both little-endian, both llama2.c's:
 *
 *  - Legacy fp32 (llama2.c run.c): 7 int32 (dim, hidden_dim, n_layers, n_heads,
 *    n_kv_heads, vocab_size, seq_len), then fp32 tensors: token_embedding[vocab][dim],
 *    rms_att[L][dim], wq[L][dim][dim], wk[L][kv_dim][dim], wv[L][kv_dim][dim],
 *    wo[L][dim][dim], rms_ffn[L][dim], w1[L][hidden][dim], w2[L][dim][hidden],
 *    w3[L][hidden][dim], rms_final[dim], freq_cis_real and _imag [seq_len][head_size/2]
 *    (present, not used), and wcls[vocab][dim] when vocab_size is negative (a separate
 *    classifier; positive means the classifier is the token embedding).
 *
 *  - Version 2 int8 (llama2.c export.py --version 2, read by runq.c): a 256-byte header
 *    (uint32 magic 0x616b3432 "ak42", int32 version 2, the 7 int32 above, uint8
 *    shared_classifier, int32 group_size, zeros), fp32 rms_att[L][dim], rms_ffn[L][dim],
 *    rms_final[dim], then Q8_0 matrices: token_embedding, wq, wk, wv, wo, w1, w2, w3
 *    (each layer's matrix in turn: its int8 values, then its fp32 scales, one per
 *    group_size consecutive values) and wcls when not shared.
 *
 * The loader checks every header field, requires the buffer to be exactly the size the
 * header implies (sizes computed in 64 bits with overflow checks), and refuses anything
 * it could not run without reading out of bounds. Weights are not copied: the model
 * points into the caller's buffer, which must stay valid and unchanged, and be 4-byte
 * aligned (the fp32 sections, including each scale array, must land on 4-byte
 * boundaries; the loader checks this rather than risk unaligned float loads, which
 * fault on the partition's strict-alignment configuration).
 */
#ifndef AIOS_MODEL_H
#define AIOS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aios/common.h"

#define AIOS_MODEL_MAGIC 0x616b3432u
#define AIOS_MODEL_V2_HEADER 256
#define AIOS_MODEL_LEGACY_HEADER 28

/* Limits on the header's parameters: far above any model the partition can hold, low
 * enough that no size computation can overflow. */
#define AIOS_MODEL_MAX_PARAM (1 << 20)   /* dim, hidden_dim, vocab_size, seq_len */
#define AIOS_MODEL_MAX_LAYERS 1024
#define AIOS_MODEL_MAX_GROUP 65536       /* keeps a group's int8 dot product in int32 */

enum aios_weight_type {
    AIOS_WEIGHTS_F32 = 1,   /* legacy fp32 file */
    AIOS_WEIGHTS_Q8 = 2,    /* version 2 file, Q8_0 matrices */
};

struct aios_config {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    int32_t group_size;        /* Q8_0 group; 0 for fp32 */
    bool shared_classifier;    /* the classifier is the token embedding */
    enum aios_weight_type type;
    /* Derived by aios_config_check. */
    int32_t head_size;         /* dim / n_heads */
    int32_t kv_dim;            /* dim * n_kv_heads / n_heads */
};

/* One [rows][cols] matrix per layer (per model for the embedding and the classifier). */
struct aios_matrix {
    const float *f;    /* fp32: layer l at f + l * rows * cols */
    const int8_t *q;   /* Q8_0: layer l's values at (const char *)q + l * stride */
    const float *s;    /* Q8_0: layer l's scales at (const char *)s + l * stride */
    size_t stride;     /* Q8_0: bytes from one layer's matrix to the next */
    int32_t rows, cols;
};

struct aios_model {
    struct aios_config cfg;
    const float *rms_att;     /* [n_layers][dim] */
    const float *rms_ffn;     /* [n_layers][dim] */
    const float *rms_final;   /* [dim] */
    struct aios_matrix tok, wq, wk, wv, wo, w1, w2, w3, wcls;
};

/*
 * Parse size bytes at buf (4-byte aligned) into m. Returns AIOS_OK, or AIOS_EINVAL with
 * the reason in err (e.g. "model: group size 48 does not divide hidden_dim 100").
 */
int aios_model_load(struct aios_model *m, const void *buf, size_t size, char *err,
                    size_t errlen);

/*
 * Check c's seven parameters, type, group_size and shared_classifier the way the loader
 * does, and fill in head_size and kv_dim. For tools that write models.
 */
int aios_config_check(struct aios_config *c, char *err, size_t errlen);

/* The exact file size for a checked config (cfg.type says which format). */
uint64_t aios_model_file_size(const struct aios_config *c);

/*
 * Quantize the fp32 model src into a version 2 (Q8_0) image with the given group size,
 * exactly as aios_quantize_q8 quantizes activations (per group s = max|w| / 127,
 * q = round(w / s)); the result loads with aios_model_load. With dst NULL only checks
 * and sets *size to the image's size; otherwise dst (4-byte aligned) must hold *size >=
 * that many bytes, and *size is set to the bytes written. AIOS_EINVAL (reason in err)
 * when src is not fp32, the group size does not fit the shape, or a matrix's value
 * count is not a multiple of 4 (its scales would be misaligned); AIOS_ERANGE when dst
 * is too small.
 */
int aios_model_quantize(const struct aios_model *src, int32_t group_size, void *dst,
                        size_t *size, char *err, size_t errlen);

static inline const float *aios_matrix_f32(const struct aios_matrix *m, int32_t layer)
{
    return m->f + (size_t)layer * (size_t)m->rows * (size_t)m->cols;
}

static inline const int8_t *aios_matrix_q(const struct aios_matrix *m, int32_t layer)
{
    return (const int8_t *)((const char *)m->q + (size_t)layer * m->stride);
}

static inline const float *aios_matrix_s(const struct aios_matrix *m, int32_t layer)
{
    return (const float *)(const void *)((const char *)m->s + (size_t)layer * m->stride);
}

#endif /* AIOS_MODEL_H */
