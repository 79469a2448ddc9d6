/*
 * The sentence encoder's trainer (host only; the model is aios/include/aios/encoder.h,
 * the design docs/encoder.md). Used by tools/aios-train-encoder.c and the unit test.
 *
 * Objective: additive-margin cosine softmax over the intents (AM-softmax): the encoder's
 * unit vector e, one learned unit prototype p_c per intent, logits s * (e . p_c - m [c is
 * the label]). It pulls every sentence towards its intent's prototype and away from the
 * others' by a margin, which is what nearest-neighbour search over example embeddings
 * needs. Plain SGD, one example at a time, learning rate decaying linearly to 0.
 *
 * Ensemble: p.members encoders are trained independently, one after the other, member i
 * with hash seed p.seed + i and its own initialisation, shuffles and augmentation draws
 * (one generator runs through all of them); the file holds them all (encoder.h).
 *
 * Augmentation: each epoch, every example is also seen as `aug_copies` variants in which
 * each word that has substitutes (a table built from WordNet by the caller) is replaced,
 * with probability aug_prob, by one of them drawn at random, and each word not replaced is
 * dropped with probability aug_drop (word dropout).
 *
 * Deterministic: one thread, a seeded generator (splitmix64) for initialisation,
 * shuffling and augmentation, and every sum in a fixed order: the same inputs and seed
 * give the same weights bit for bit.
 */
#ifndef TOOLS_ENCODER_TRAIN_H
#define TOOLS_ENCODER_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "aios/encoder.h"

struct enc_example {
    const char *text;
    int label;            /* 0 .. classes-1 */
};

/* word -> substitutes (each one or more words), for augmentation. */
struct enc_subst {
    char **words;         /* sorted, lower-case */
    char ***subs;         /* subs[i][0..nsubs[i]) */
    int *nsubs;
    size_t count;
    void *pending;        /* pairs added, not yet sorted by enc_subst_finish */
};

struct enc_train_opts {
    struct aios_encoder_params p;
    uint64_t seed;
    int epochs;
    float lr;             /* initial learning rate */
    float scale, margin;  /* AM-softmax s and m */
    int aug_copies;
    float aug_prob;
    float aug_drop;       /* drop each word not replaced with this probability (0: none) */
    float init;           /* E ~ U(-init, init); 0 = zeros */
    /* The last pretrained_members members take their E from pretrained[0..) (each
     * buckets x dim, made with that member's featurisation: encoder_pretrain.h) and keep
     * it, moved and scaled per dimension so the training sentences' vectors are
     * standardised: only their dense layer is trained. Pretraining makes no bigram rows,
     * so p.no_bigrams should name those members. */
    uint32_t pretrained_members;
    const float *const *pretrained;
    int verbose;          /* a progress line per epoch on stderr */
};

/* Reasonable defaults for the intent corpus. */
void enc_train_defaults(struct enc_train_opts *o);

struct enc_model {
    struct aios_encoder_params p;
    float *emb;           /* [members][buckets][dim] */
    float *w;             /* [members][out_dim][dim] */
    float *b;             /* [members][out_dim] */
};

/* Train on n examples of `classes` intents (subst may be NULL). 0, or -1 with the reason
 * in err. The model's arrays are malloc'ed: enc_model_free. */
int enc_train(const struct enc_example *ex, size_t n, int classes,
              const struct enc_train_opts *o, const struct enc_subst *subst,
              struct enc_model *m, char *err, size_t errlen);
void enc_model_free(struct enc_model *m);

/* The model as an encoder file (AIOS_ENC_FP32 or AIOS_ENC_INT8), malloc'ed and 16-byte
 * aligned, size in *size; NULL with the reason in err. */
unsigned char *enc_model_file(const struct enc_model *m, int encoding, size_t *size,
                              char *err, size_t errlen);

/* Substitution table: add word -> sub pairs (a pair added twice is kept once), then
 * enc_subst_finish, once, before use. */
void enc_subst_add(struct enc_subst *s, const char *word, const char *sub);
void enc_subst_finish(struct enc_subst *s);
void enc_subst_free(struct enc_subst *s);
/* The substitutes of word, NULL when none. */
char **enc_subst_find(const struct enc_subst *s, const char *word, int *n);

/* A text's features, as aios_encoder_featurize gives them, in a growing list. */
struct enc_feat { uint32_t bucket; float weight; };
struct enc_feats { struct enc_feat *f; size_t n, cap; float total; };

/* Append text's features under p to fs; fs->total grows by their total weight. */
void enc_feats_append(const struct aios_encoder_params *p, const char *text,
                      struct enc_feats *fs);

#endif /* TOOLS_ENCODER_TRAIN_H */
