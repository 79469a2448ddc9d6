/*
 * libaios sampler: picks the next token from the logits.
 *
 * temperature 0 is greedy (argmax, the lowest id on ties). Otherwise the logits are
 * divided by the temperature and softmaxed, and the token is drawn from the whole
 * distribution, or when 0 < topp < 1 from the nucleus: the most probable tokens whose
 * probabilities add up to more than topp, in order of decreasing probability (ties by
 * increasing id). The random numbers come from a xorshift64* generator (llama2.c's
 * semantics: 32 random bits per draw, 24 of them for a float in [0, 1)), so a seed gives
 * the same tokens on every machine.
 */
#ifndef AIOS_SAMPLER_H
#define AIOS_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "aios/common.h"
#include "aios/exec.h"

struct aios_prob_index {
    float prob;
    int32_t index;
};

struct aios_sampler {
    int32_t vocab_size;
    float temperature;
    float topp;
    uint64_t rng_state;
    struct aios_prob_index *candidates;   /* [vocab_size], in the arena */
};

/* vocab_size >= 1, temperature >= 0, topp in [0, 1] (0 or 1: no nucleus cut). Returns
 * AIOS_OK, AIOS_EINVAL for a bad parameter or AIOS_ENOMEM, with the reason in err. */
int aios_sampler_init(struct aios_sampler *s, int32_t vocab_size, float temperature,
                      float topp, uint64_t seed, struct aios_arena *arena, char *err,
                      size_t errlen);

/* The next token for logits[vocab_size]; the logits are overwritten (scaled and turned
 * into probabilities) unless the sampler is greedy. Always in [0, vocab_size), NaN
 * logits included. */
int32_t aios_sample(struct aios_sampler *s, float *logits);

/* aios_sample, with a greedy sampler's argmax split over exec's parts (NULL: this thread
 * only). The same token whatever the split. */
int32_t aios_sample_exec(struct aios_sampler *s, float *logits, struct aios_exec *exec);

/* The index of the largest of x[0..n), the lowest on ties; NaNs are never chosen unless
 * all are NaN (then 0). */
int32_t aios_argmax(const float *x, int32_t n);

/* The same, each of exec's parts searching a contiguous range (NULL: this thread). */
int32_t aios_argmax_exec(const float *x, int32_t n, struct aios_exec *exec);

/* The generator: 32 random bits, and a float uniform in [0, 1) with 24 random bits. */
uint32_t aios_random_u32(uint64_t *state);
float aios_random_f32(uint64_t *state);

#endif /* AIOS_SAMPLER_H */
