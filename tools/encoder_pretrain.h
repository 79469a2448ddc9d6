/*
 * Pretraining an encoder member's feature table E on plain text (host only; used by
 * tools/aios-train-encoder.c and the unit test; design in docs/encoder.md).
 *
 * Skip-gram with negative sampling over the encoder's own features: each word of the
 * text (the centre) is featurised exactly as the encoder featurises a one-word sentence
 * (aios_encoder_featurize: its bucket and its character n-grams, with the word weight),
 * x = sum a_f E[f] / Z, and x is trained to predict each word within a window either side
 * (drawn between 1 and `window` words), against `negatives` words drawn from the unigram
 * distribution to the power 0.75: loss -log sig(u_c . x) - sum log sig(-u_n . x), with one
 * output vector u per word seen at least min_count times. Frequent words are dropped at
 * random (probability 1 - sqrt(subsample / frequency)) each epoch. Plain SGD, the
 * learning rate decaying linearly to 0. Bigrams get no rows: a member with a pretrained
 * table reads no bigrams (aios_encoder_params.no_bigrams).
 *
 * So every feature the encoder reads of a word (its bucket, its n-grams) gets a row that
 * places it by the words it occurs with, including words no intent example has; a member
 * whose E is this table, kept fixed while its dense layer is trained on the intents,
 * reads such words by what the text taught it.
 *
 * Deterministic: one thread, a seeded generator (splitmix64), sums in a fixed order,
 * exp from aios_math: the same text, options and seed give the same table bit for bit.
 */
#ifndef TOOLS_ENCODER_PRETRAIN_H
#define TOOLS_ENCODER_PRETRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "aios/encoder.h"

struct enc_pretrain_opts {
    struct aios_encoder_params p;   /* the member's: its hash seed, buckets, dim, ... */
    uint64_t seed;                  /* the generator's */
    int epochs;
    float lr;
    int window;                     /* 1.. */
    int negatives;                  /* 1.. */
    int min_count;                  /* words predicted: those seen this often */
    float subsample;                /* 0: keep every word */
    int verbose;                    /* a progress line per epoch on stderr */
    const char *name;               /* in progress lines */
};

void enc_pretrain_defaults(struct enc_pretrain_opts *o);

/*
 * Pretrain E[buckets][dim] on text (NUL-terminated; each line is a passage: windows never
 * cross a line). 0 with the table malloc'ed in *emb, or -1 with the reason in err (bad
 * options, no word seen min_count times, out of memory).
 */
int enc_pretrain(const char *text, const struct enc_pretrain_opts *o, float **emb,
                 char *err, size_t errlen);

#endif /* TOOLS_ENCODER_PRETRAIN_H */
