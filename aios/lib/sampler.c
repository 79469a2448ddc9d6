/*
 * libaios sampler (see sampler.h).
 *
 * The nucleus needs the candidates in order of probability. There is no qsort in the
 * partition, and the result must not depend on a sort's stability, so candidates are
 * ordered by a total order (probability descending, then id ascending) with a heap
 * written here, no extra memory: the heap is built in O(n) and only the nucleus is
 * taken out of it, O(k log n). Only tokens that can possibly be in the nucleus enter the
 * heap: one with p < (1 - topp) / (n - 1) cannot, since the tokens above it would
 * already cover topp (llama2.c's cut-off).
 */
#include <stdbool.h>
#include <stdint.h>

#include "aios/kernels.h"
#include "aios/sampler.h"
#include "kprintf.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif

/* Seed 0 would leave xorshift at 0 forever. */
#define SEED_ZERO_REPLACEMENT 0x9e3779b97f4a7c15ull

uint32_t aios_random_u32(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (uint32_t)((*state * 0x2545f4914f6cdd1dull) >> 32);
}

float aios_random_f32(uint64_t *state)
{
    return (float)(aios_random_u32(state) >> 8) / 16777216.0f;
}

int aios_sampler_init(struct aios_sampler *s, int32_t vocab_size, float temperature,
                      float topp, uint64_t seed, struct aios_arena *arena, char *err,
                      size_t errlen)
{
    if (vocab_size < 1)
        return kfail(err, errlen, AIOS_EINVAL, "sampler: vocab_size %d is not positive",
                     (int)vocab_size);
    /* Written to be false for NaN too. */
    if (!(temperature >= 0.0f && temperature <= 1e6f))
        return kfail(err, errlen, AIOS_EINVAL, "sampler: temperature must be in [0, 1e6]");
    if (!(topp >= 0.0f && topp <= 1.0f))
        return kfail(err, errlen, AIOS_EINVAL, "sampler: top-p must be in [0, 1]");
    s->vocab_size = vocab_size;
    s->temperature = temperature;
    s->topp = topp;
    s->rng_state = seed != 0 ? seed : SEED_ZERO_REPLACEMENT;
    s->candidates = aios_arena_alloc(arena, (size_t)vocab_size * sizeof(*s->candidates),
                                     _Alignof(struct aios_prob_index));
    if (s->candidates == NULL)
        return kfail(err, errlen, AIOS_ENOMEM,
                     "sampler: the arena has no room for %d candidates", (int)vocab_size);
    return AIOS_OK;
}

#if defined(__aarch64__) && defined(__ARM_NEON)
/* Greedy decoding runs this over the whole vocabulary for every token. In two passes:
 * the largest value that is not NaN (compare-and-select, so a NaN never enters; the
 * maximum of the lanes is then the same in any order), then the first index holding a
 * value equal to it. That is the index the plain loop below finds: it moves only to a
 * strictly greater value, so it stops at the first of the values equal to the maximum
 * (-0 and +0 included), and when all are NaN neither finds anything and the answer is 0. */
int32_t aios_argmax(const float *x, int32_t n)
{
    float32x4_t m0 = vdupq_n_f32(-__builtin_inff()), m1 = m0, m2 = m0, m3 = m0;
    int32_t i = 0;
    float max;

    for (; i + 16 <= n; i += 16) {
        float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4);
        float32x4_t c = vld1q_f32(x + i + 8), d = vld1q_f32(x + i + 12);

        m0 = vbslq_f32(vcgtq_f32(a, m0), a, m0);
        m1 = vbslq_f32(vcgtq_f32(b, m1), b, m1);
        m2 = vbslq_f32(vcgtq_f32(c, m2), c, m2);
        m3 = vbslq_f32(vcgtq_f32(d, m3), d, m3);
    }
    max = vmaxvq_f32(vmaxq_f32(vmaxq_f32(m0, m1), vmaxq_f32(m2, m3)));
    for (; i < n; i++)
        if (x[i] > max)
            max = x[i];

    float32x4_t mv = vdupq_n_f32(max);
    for (i = 0; i + 16 <= n; i += 16) {
        uint32x4_t e = vorrq_u32(vorrq_u32(vceqq_f32(vld1q_f32(x + i), mv),
                                           vceqq_f32(vld1q_f32(x + i + 4), mv)),
                                 vorrq_u32(vceqq_f32(vld1q_f32(x + i + 8), mv),
                                           vceqq_f32(vld1q_f32(x + i + 12), mv)));
        if (vmaxvq_u32(e) != 0)
            break;
    }
    for (; i < n; i++)
        if (x[i] == max)
            return i;
    return 0;
}
#else
int32_t aios_argmax(const float *x, int32_t n)
{
    int32_t best = 0;

    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best] || (x[best] != x[best] && x[i] == x[i]))
            best = i;
    return best;
}
#endif

#define ARGMAX_MAX_PARTS 64

struct argmax_job {
    const float *x;
    int32_t n;
    int32_t best[ARGMAX_MAX_PARTS];   /* each part's answer for its range */
};

static void argmax_part(void *arg, int part, int nparts)
{
    struct argmax_job *j = arg;
    size_t lo, hi;

    aios_exec_split((size_t)j->n, part, nparts, &lo, &hi);
    j->best[part] = (int32_t)lo + aios_argmax(j->x + lo, (int32_t)(hi - lo));
}

/* Each part finds the first index of its range's maximum; then the parts' answers are
 * taken in order with the plain loop's rule (strictly greater, or a number after NaN),
 * which picks the first part holding the overall maximum: the same index as one pass. */
int32_t aios_argmax_exec(const float *x, int32_t n, struct aios_exec *exec)
{
    struct argmax_job j = { .x = x, .n = n };
    int32_t best;

    /* Every part gets at least two elements. */
    if (exec == NULL || exec->nparts <= 1 || exec->nparts > ARGMAX_MAX_PARTS ||
        n < 2 * exec->nparts)
        return aios_argmax(x, n);
    aios_exec_run(exec, argmax_part, &j);
    best = j.best[0];
    for (int p = 1; p < exec->nparts; p++) {
        int32_t c = j.best[p];

        if (x[c] > x[best] || (x[best] != x[best] && x[c] == x[c]))
            best = c;
    }
    return best;
}

/* Draw from probs[0..n) with coin in [0, 1); the last token when rounding leaves the
 * cumulative sum short of coin. */
static int32_t sample_all(const float *probs, int32_t n, float coin)
{
    float cdf = 0.0f;

    for (int32_t i = 0; i < n; i++) {
        cdf += probs[i];
        if (coin < cdf)
            return i;
    }
    return n - 1;
}

/* a comes before b: higher probability, then lower id. */
static bool before(const struct aios_prob_index *a, const struct aios_prob_index *b)
{
    return a->prob > b->prob || (a->prob == b->prob && a->index < b->index);
}

/* Restore the heap below root: every node comes before its children. */
static void sift_down(struct aios_prob_index *a, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && before(&a[child + 1], &a[child]))
            child++;
        if (!before(&a[child], &a[root]))
            return;
        struct aios_prob_index t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

static int32_t sample_topp(struct aios_sampler *s, const float *probs, float coin)
{
    const int32_t n = s->vocab_size;
    struct aios_prob_index *cand = s->candidates;
    const float cutoff = (1.0f - s->topp) / (float)(n > 1 ? n - 1 : 1);
    size_t count = 0, taken = 0;
    float cumulative = 0.0f;

    for (int32_t i = 0; i < n; i++)
        if (probs[i] >= cutoff) {
            cand[count].prob = probs[i];
            cand[count].index = i;
            count++;
        }
    /* None: either NaN probabilities, or (tiny vocabularies) a cut-off above the top
     * probability, which then alone exceeds topp, so the nucleus is just that token. */
    if (count == 0)
        return aios_argmax(probs, n);
    /* Heap-select: take candidates in order until they cover topp, so only the nucleus
     * is ever sorted. The k-th taken lands at cand[count - k]. */
    for (size_t i = count / 2; i-- > 0;)
        sift_down(cand, i, count);
    for (size_t end = count; end > 0 && !(cumulative > s->topp);) {
        end--;
        struct aios_prob_index t = cand[0];
        cand[0] = cand[end];
        cand[end] = t;
        sift_down(cand, 0, end);
        cumulative += cand[end].prob;
        taken++;
    }
    float r = coin * cumulative;
    float cdf = 0.0f;
    for (size_t k = 1; k <= taken; k++) {
        cdf += cand[count - k].prob;
        if (r < cdf)
            return cand[count - k].index;
    }
    return cand[count - taken].index;
}

int32_t aios_sample(struct aios_sampler *s, float *logits)
{
    return aios_sample_exec(s, logits, NULL);
}

int32_t aios_sample_exec(struct aios_sampler *s, float *logits, struct aios_exec *exec)
{
    const int32_t n = s->vocab_size;

    if (s->temperature == 0.0f)
        return aios_argmax_exec(logits, n, exec);
    for (int32_t i = 0; i < n; i++)
        logits[i] /= s->temperature;
    aios_softmax(logits, (size_t)n);
    float coin = aios_random_f32(&s->rng_state);
    if (s->topp <= 0.0f || s->topp >= 1.0f)
        return sample_all(logits, n, coin);
    return sample_topp(s, logits, coin);
}
