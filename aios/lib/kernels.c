/*
 * libaios kernels (see kernels.h for the summation orders they promise).
 *
 * Two implementations of the fp32 inner loop: NEON intrinsics on AArch64, and plain C
 * that GCC vectorises on x86-64. The plain C dot product is written with 8 independent
 * accumulators precisely so that vectorising it needs no reassociation (which GCC only
 * does under -ffast-math): each SIMD lane is one accumulator, so the vector code adds in
 * the order the source says. The NEON version holds the same 8 accumulators in two
 * float32x4 registers and multiplies and adds separately (vmulq + vaddq, not vfmaq),
 * because the host does not fuse either (-ffp-contract=off everywhere).
 *
 * The int8 dot product has three (SDOT or widening NEON, SSE2, plain C): its sums are
 * exact integers, so they agree whatever the instructions.
 */
#include <stdbool.h>
#include <stdint.h>

#include "aios/aios_math.h"
#include "aios/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define AIOS_NEON 1
#elif defined(__SSE2__)
#include <emmintrin.h>
#define AIOS_SSE2 1
#endif

float aios_dot_f32(const float *a, const float *b, size_t n)
{
    size_t i = 0;
    float sum;

#ifdef AIOS_NEON
    float32x4_t lo = vdupq_n_f32(0.0f), hi = vdupq_n_f32(0.0f);

    for (; i + 8 <= n; i += 8) {
        lo = vaddq_f32(lo, vmulq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
        hi = vaddq_f32(hi, vmulq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4)));
    }
    float32x4_t s4 = vaddq_f32(lo, hi);                                /* l_j + l_(j+4) */
    float32x2_t s2 = vadd_f32(vget_low_f32(s4), vget_high_f32(s4));    /* (l0+l4)+(l2+l6), ... */
    sum = vget_lane_f32(s2, 0) + vget_lane_f32(s2, 1);
#else
    float acc[8] = { 0 };

    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += a[i + j] * b[i + j];
    float s0 = acc[0] + acc[4], s1 = acc[1] + acc[5];
    float s2 = acc[2] + acc[6], s3 = acc[3] + acc[7];
    sum = (s0 + s2) + (s1 + s3);
#endif
    for (; i < n; i++)
        sum += a[i] * b[i];
    return sum;
}

/* Integer sums are exact, so each machine may add in whatever order is fastest. */
static inline __attribute__((always_inline)) int32_t dot_i8(const int8_t *a, const int8_t *b,
                                                            size_t n)
{
    size_t i = 0;
    int32_t sum = 0;

#if defined(AIOS_NEON) && defined(__ARM_FEATURE_DOTPROD)
    int32x4_t acc = vdupq_n_s32(0);

    for (; i + 16 <= n; i += 16)
        acc = vdotq_s32(acc, vld1q_s8(a + i), vld1q_s8(b + i));
    sum = vaddvq_s32(acc);
#elif defined(AIOS_NEON)
    int32x4_t acc = vdupq_n_s32(0);

    for (; i + 16 <= n; i += 16) {
        int8x16_t va = vld1q_s8(a + i), vb = vld1q_s8(b + i);
        /* An int8 product fits int16 (|p| <= 2^14); vpadalq widens pairs of them to
         * int32 before adding, so nothing overflows. */
        int16x8_t p = vmull_s8(vget_low_s8(va), vget_low_s8(vb));
        acc = vpadalq_s16(acc, p);
        p = vmull_s8(vget_high_s8(va), vget_high_s8(vb));
        acc = vpadalq_s16(acc, p);
    }
    sum = vaddvq_s32(acc);
#elif defined(AIOS_SSE2)
    /* x86-64's baseline has no int8 multiply: sign-extend to int16 (unpack a byte into
     * both halves of a word, shift right arithmetically), then pmaddwd multiplies and adds
     * pairs into int32. GCC's vectorisation of the plain loop is 2.5x slower. */
    __m128i acc = _mm_setzero_si128();

    for (; i + 16 <= n; i += 16) {
        __m128i va = _mm_loadu_si128((const __m128i *)(const void *)(a + i));
        __m128i vb = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
        __m128i alo = _mm_srai_epi16(_mm_unpacklo_epi8(va, va), 8);
        __m128i ahi = _mm_srai_epi16(_mm_unpackhi_epi8(va, va), 8);
        __m128i blo = _mm_srai_epi16(_mm_unpacklo_epi8(vb, vb), 8);
        __m128i bhi = _mm_srai_epi16(_mm_unpackhi_epi8(vb, vb), 8);
        acc = _mm_add_epi32(acc, _mm_madd_epi16(alo, blo));
        acc = _mm_add_epi32(acc, _mm_madd_epi16(ahi, bhi));
    }
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4e));
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xb1));
    sum = _mm_cvtsi128_si32(acc);
#endif
    for (; i < n; i++)
        sum += (int32_t)a[i] * (int32_t)b[i];
    return sum;
}

int32_t aios_dot_i8(const int8_t *a, const int8_t *b, size_t n)
{
    return dot_i8(a, b, n);
}

#ifdef AIOS_SSE2
/* The four int32 lane sums of a group (n a multiple of 16), not yet added together. */
static inline __attribute__((always_inline)) __m128i group_lanes(const int8_t *a,
                                                                 const int8_t *b, size_t n)
{
    __m128i acc = _mm_setzero_si128();

    for (size_t i = 0; i < n; i += 16) {
        __m128i va = _mm_loadu_si128((const __m128i *)(const void *)(a + i));
        __m128i vb = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
        acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_srai_epi16(_mm_unpacklo_epi8(va, va), 8),
                                                _mm_srai_epi16(_mm_unpacklo_epi8(vb, vb), 8)));
        acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_srai_epi16(_mm_unpackhi_epi8(va, va), 8),
                                                _mm_srai_epi16(_mm_unpackhi_epi8(vb, vb), 8)));
    }
    return acc;
}

/* Groups g..g+3 at once: their integer sums come out of one transposing reduction instead
 * of four horizontal ones, and the scale products are one vector multiply each. The
 * float operations per group are the portable code's, in the same order. */
static inline __attribute__((always_inline)) float dot_q8_4groups(
    float val, const int8_t *aq, const float *as, const int8_t *bq, const float *bs,
    size_t gs)
{
    __m128i s0 = group_lanes(aq, bq, gs), s1 = group_lanes(aq + gs, bq + gs, gs);
    __m128i s2 = group_lanes(aq + 2 * gs, bq + 2 * gs, gs);
    __m128i s3 = group_lanes(aq + 3 * gs, bq + 3 * gs, gs);
    __m128i u01 = _mm_add_epi32(_mm_unpacklo_epi32(s0, s1), _mm_unpackhi_epi32(s0, s1));
    __m128i u23 = _mm_add_epi32(_mm_unpacklo_epi32(s2, s3), _mm_unpackhi_epi32(s2, s3));
    __m128i sums = _mm_add_epi32(_mm_unpacklo_epi64(u01, u23), _mm_unpackhi_epi64(u01, u23));
    __m128 p = _mm_mul_ps(_mm_mul_ps(_mm_cvtepi32_ps(sums), _mm_loadu_ps(as)), _mm_loadu_ps(bs));
    float part[4];

    _mm_storeu_ps(part, p);
    val += part[0];
    val += part[1];
    val += part[2];
    val += part[3];
    return val;
}
#endif

float aios_dot_q8(const int8_t *aq, const float *as, const int8_t *bq, const float *bs,
                  size_t n, size_t gs)
{
    size_t groups = n / gs, g = 0;
    float val = 0.0f;

#ifdef AIOS_SSE2
    if (gs % 16 == 0)
        for (; g + 4 <= groups; g += 4)
            val = dot_q8_4groups(val, aq + g * gs, as + g, bq + g * gs, bs + g, gs);
#endif
    for (; g < groups; g++)
        val += ((float)dot_i8(aq + g * gs, bq + g * gs, gs) * as[g]) * bs[g];
    return val;
}

void aios_matvec_f32_rows(float *out, const float *w, const float *x, size_t n,
                          size_t lo, size_t hi)
{
    for (size_t r = lo; r < hi; r++)
        out[r] = aios_dot_f32(w + r * n, x, n);
}

void aios_matvec_q8_rows(float *out, const int8_t *wq, const float *ws, const int8_t *xq,
                         const float *xs, size_t n, size_t gs, size_t lo, size_t hi)
{
    size_t groups = n / gs;

    for (size_t r = lo; r < hi; r++)
        out[r] = aios_dot_q8(wq + r * n, ws + r * groups, xq, xs, n, gs);
}

struct matmul_job {
    float *out;
    const float *w, *x;
    const int8_t *wq, *xq;
    const float *ws, *xs;
    size_t n, gs, rows;
};

static void matmul_f32_part(void *arg, int part, int nparts)
{
    const struct matmul_job *j = arg;
    size_t lo, hi;

    aios_exec_split(j->rows, part, nparts, &lo, &hi);
    aios_matvec_f32_rows(j->out, j->w, j->x, j->n, lo, hi);
}

static void matmul_q8_part(void *arg, int part, int nparts)
{
    const struct matmul_job *j = arg;
    size_t lo, hi;

    aios_exec_split(j->rows, part, nparts, &lo, &hi);
    aios_matvec_q8_rows(j->out, j->wq, j->ws, j->xq, j->xs, j->n, j->gs, lo, hi);
}

void aios_matmul_f32(float *out, const float *w, const float *x, size_t n, size_t rows,
                     struct aios_exec *exec)
{
    struct matmul_job j = { .out = out, .w = w, .x = x, .n = n, .rows = rows };

    aios_exec_run(exec, matmul_f32_part, &j);
}

void aios_matmul_q8(float *out, const int8_t *wq, const float *ws, const int8_t *xq,
                    const float *xs, size_t n, size_t gs, size_t rows,
                    struct aios_exec *exec)
{
    struct matmul_job j = { .out = out, .wq = wq, .ws = ws, .xq = xq, .xs = xs,
                            .n = n, .gs = gs, .rows = rows };

    aios_exec_run(exec, matmul_q8_part, &j);
}

void aios_rmsnorm(float *out, const float *x, const float *w, size_t n)
{
    float ms = aios_dot_f32(x, x, n) / (float)n + 1e-5f;
    float inv = 1.0f / aios_sqrtf(ms);

    for (size_t i = 0; i < n; i++)
        out[i] = w[i] * (inv * x[i]);
}

void aios_softmax(float *x, size_t n)
{
    float max = x[0], sum = 0.0f;

    for (size_t i = 1; i < n; i++)
        if (x[i] > max)
            max = x[i];
    for (size_t i = 0; i < n; i++) {
        x[i] = aios_expf(x[i] - max);
        sum += x[i];
    }
    for (size_t i = 0; i < n; i++)
        x[i] /= sum;
}

/* Nearest integer to v in [-127, 127], halves away from zero (as C's round()); NaN -> 0.
 * v + 0.5 is formed in double, where it is exact, so 0.49999997f rounds to 0. */
static int8_t round_q8(float v)
{
    if (!(v > -127.0f))
        return v != v ? 0 : -127;
    if (!(v < 127.0f))
        return 127;
    if (v >= 0.0f)
        return (int8_t)(int)((double)v + 0.5);
    return (int8_t)-(int)(0.5 - (double)v);
}

void aios_quantize_q8(int8_t *q, float *s, const float *x, size_t n, size_t gs)
{
    for (size_t g = 0; g * gs < n; g++) {
        const float *xg = x + g * gs;
        int8_t *qg = q + g * gs;
        float amax = 0.0f;

        for (size_t i = 0; i < gs; i++) {
            float a = xg[i] < 0.0f ? -xg[i] : xg[i];
            if (a > amax)
                amax = a;
        }
        float scale = amax / 127.0f;
        s[g] = scale;
        if (scale == 0.0f) {
            for (size_t i = 0; i < gs; i++)
                qg[i] = 0;
            continue;
        }
        for (size_t i = 0; i < gs; i++)
            qg[i] = round_q8(xg[i] / scale);
    }
}

void aios_dequantize_q8(float *out, const int8_t *q, const float *s, size_t n, size_t gs)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (float)q[i] * s[i / gs];
}
