/*
 * libaios kernels (see kernels.h for the summation orders they promise).
 *
 * The plain C in this file is the definition: every other path computes the same IEEE
 * operations in the same order, only on several rows (or groups, or elements) at once.
 * Three builds of the hot loops:
 *
 *  - plain C, which GCC vectorises on x86-64 where that needs no reassociation. The fp32
 *    dot product is written with 8 independent accumulators precisely so that each SIMD
 *    lane is one accumulator and the vector code adds in the order the source says (GCC
 *    only reassociates under -ffast-math).
 *  - SSE2 on x86-64 (its baseline, so the host build runs on any x86-64): matrix rows
 *    four at a time, sharing the loads (and for int8 the sign extension) of the input.
 *  - NEON on AArch64 (the partition; SDOT on the Cortex-A76, widening multiplies on a
 *    plain ARMv8): the same, with multiplies and adds kept separate (vmulq + vaddq, never
 *    vfmaq), because the host does not fuse either (-ffp-contract=off everywhere).
 *
 * Int8 dot products of a group are exact integers, so they agree whatever the
 * instructions; what must match is the float work after them, and that is done per row
 * and per group in the portable order. Several rows at once keep one row per vector lane,
 * which leaves each row's sequence of operations as it was.
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
#include <xmmintrin.h>
#define AIOS_SSE2 1
#endif

#define INLINE static inline __attribute__((always_inline))

/* ---------------------------------------------------------------- fp32 dot products */

#ifdef AIOS_NEON
/* The low (zip1) or high (zip2) halves of a and b, side by side. */
INLINE float32x4_t zip1_64(float32x4_t a, float32x4_t b)
{
    float64x2_t lo = vzip1q_f64(vreinterpretq_f64_f32(a), vreinterpretq_f64_f32(b));

    return vreinterpretq_f32_f64(lo);
}

INLINE float32x4_t zip2_64(float32x4_t a, float32x4_t b)
{
    float64x2_t hi = vzip2q_f64(vreinterpretq_f64_f32(a), vreinterpretq_f64_f32(b));

    return vreinterpretq_f32_f64(hi);
}

/* Eight lane sums (lo: l0..l3, hi: l4..l7) as ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)):
 * the order kernels.h documents. */
INLINE float combine8(float32x4_t lo, float32x4_t hi)
{
    float32x4_t s4 = vaddq_f32(lo, hi);                                /* l_j + l_(j+4) */
    float32x2_t s2 = vadd_f32(vget_low_f32(s4), vget_high_f32(s4));    /* (l0+l4)+(l2+l6), ... */

    return vget_lane_f32(s2, 0) + vget_lane_f32(s2, 1);
}
#endif

float aios_dot_f32(const float *a, const float *b, size_t n)
{
    size_t i = 0;
    float sum;

#ifdef AIOS_NEON
    float32x4_t lo = vdupq_n_f32(0.0f), hi = vdupq_n_f32(0.0f);

    /* Two steps per iteration: the same adds, in the same order, fewer branches. */
    for (; i + 16 <= n; i += 16) {
        lo = vaddq_f32(lo, vmulq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
        hi = vaddq_f32(hi, vmulq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4)));
        lo = vaddq_f32(lo, vmulq_f32(vld1q_f32(a + i + 8), vld1q_f32(b + i + 8)));
        hi = vaddq_f32(hi, vmulq_f32(vld1q_f32(a + i + 12), vld1q_f32(b + i + 12)));
    }
    for (; i + 8 <= n; i += 8) {
        lo = vaddq_f32(lo, vmulq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
        hi = vaddq_f32(hi, vmulq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4)));
    }
    sum = combine8(lo, hi);
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

/*
 * out[k] = aios_dot_f32(w[k], x, n) for four rows: the input is loaded once for all four,
 * and the four rows' additions are independent chains the CPU can overlap (one row's
 * chain is bound by the add latency).
 */
#if defined(AIOS_NEON)
/* The next 8 elements of row k: 32 bytes per load instruction, the pointer stepped by
 * the load. */
#define F32_ROW(k, xv)                                                 \
    do {                                                               \
        float32x4x2_t wv = vld1q_f32_x2(p##k);                         \
        p##k += 8;                                                     \
        lo##k = vaddq_f32(lo##k, vmulq_f32(wv.val[0], (xv).val[0]));   \
        hi##k = vaddq_f32(hi##k, vmulq_f32(wv.val[1], (xv).val[1]));   \
    } while (0)

/* combine8 for four rows at once: s_k = lo_k + hi_k, then per row (s0 + s2) + (s1 + s3),
 * the pairs of two rows side by side in one vector. */
INLINE float32x4_t combine8_x4(float32x4_t lo0, float32x4_t hi0, float32x4_t lo1,
                               float32x4_t hi1, float32x4_t lo2, float32x4_t hi2,
                               float32x4_t lo3, float32x4_t hi3)
{
    float32x4_t s0 = vaddq_f32(lo0, hi0), s1 = vaddq_f32(lo1, hi1);
    float32x4_t s2 = vaddq_f32(lo2, hi2), s3 = vaddq_f32(lo3, hi3);
    float32x4_t t01 = vaddq_f32(zip1_64(s0, s1), zip2_64(s0, s1));   /* row 0, 1: */
    float32x4_t t23 = vaddq_f32(zip1_64(s2, s3), zip2_64(s2, s3));   /* s0+s2, s1+s3 */

    return vpaddq_f32(t01, t23);
}

/* Rows w[0..3]: the sums of the 8-aligned prefix, then the rest one by one. */
INLINE void finish_x4(float *out, float32x4_t sums, const float *const w[4], const float *x,
                      size_t i, size_t n)
{
    if (i == n) {
        vst1q_f32(out, sums);
        return;
    }
    float r0 = vgetq_lane_f32(sums, 0), r1 = vgetq_lane_f32(sums, 1);
    float r2 = vgetq_lane_f32(sums, 2), r3 = vgetq_lane_f32(sums, 3);
    for (; i < n; i++) {
        r0 += w[0][i] * x[i];
        r1 += w[1][i] * x[i];
        r2 += w[2][i] * x[i];
        r3 += w[3][i] * x[i];
    }
    out[0] = r0;
    out[1] = r1;
    out[2] = r2;
    out[3] = r3;
}

static void dot_f32_x4(float *out, const float *const w[4], const float *x, size_t n,
                       size_t ahead)
{
    const float *p0 = w[0], *p1 = w[1], *p2 = w[2], *p3 = w[3], *px = x;
    float32x4_t lo0 = vdupq_n_f32(0.0f), hi0 = lo0, lo1 = lo0, hi1 = lo0;
    float32x4_t lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
    size_t blocks = n / 8;

    (void)ahead;   /* the Cortex-A76 needs no hints, and each would cost an instruction */
    for (size_t b = blocks; b > 0; b--) {
        float32x4x2_t xv = vld1q_f32_x2(px);

        px += 8;
        F32_ROW(0, xv);
        F32_ROW(1, xv);
        F32_ROW(2, xv);
        F32_ROW(3, xv);
    }
    finish_x4(out, combine8_x4(lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3), w, x, blocks * 8, n);
}

#undef F32_ROW
#elif defined(AIOS_SSE2)
INLINE float combine8_sse2(__m128 lo, __m128 hi)
{
    float s[4];

    _mm_storeu_ps(s, _mm_add_ps(lo, hi));
    return (s[0] + s[2]) + (s[1] + s[3]);
}

/* A hint to fetch the line ahead floats past p. The address may lie past the matrix (a
 * prefetch never faults), so it is formed as an integer, not by pointer arithmetic. */
INLINE void prefetch(const float *p, size_t ahead)
{
    _mm_prefetch((const char *)((uintptr_t)p + ahead * sizeof(float)), _MM_HINT_T0);
}

/* Four rows read side by side defeat the hardware prefetcher of the x86-64 machines tried
 * (an AMD EPYC streams a matrix from memory at less than half the speed of reading its
 * rows one after another), so each row asks for the line `ahead` floats further on. */
static void dot_f32_x4(float *out, const float *const w[4], const float *x, size_t n,
                       size_t ahead)
{
    const float *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
    __m128 lo0 = _mm_setzero_ps(), hi0 = lo0, lo1 = lo0, hi1 = lo0;
    __m128 lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        __m128 xl = _mm_loadu_ps(x + i), xh = _mm_loadu_ps(x + i + 4);

        if (i % 16 == 0) {   /* once per 64-byte line */
            prefetch(w0 + i, ahead);
            prefetch(w1 + i, ahead);
            prefetch(w2 + i, ahead);
            prefetch(w3 + i, ahead);
        }

        lo0 = _mm_add_ps(lo0, _mm_mul_ps(_mm_loadu_ps(w0 + i), xl));
        hi0 = _mm_add_ps(hi0, _mm_mul_ps(_mm_loadu_ps(w0 + i + 4), xh));
        lo1 = _mm_add_ps(lo1, _mm_mul_ps(_mm_loadu_ps(w1 + i), xl));
        hi1 = _mm_add_ps(hi1, _mm_mul_ps(_mm_loadu_ps(w1 + i + 4), xh));
        lo2 = _mm_add_ps(lo2, _mm_mul_ps(_mm_loadu_ps(w2 + i), xl));
        hi2 = _mm_add_ps(hi2, _mm_mul_ps(_mm_loadu_ps(w2 + i + 4), xh));
        lo3 = _mm_add_ps(lo3, _mm_mul_ps(_mm_loadu_ps(w3 + i), xl));
        hi3 = _mm_add_ps(hi3, _mm_mul_ps(_mm_loadu_ps(w3 + i + 4), xh));
    }
    float r0 = combine8_sse2(lo0, hi0), r1 = combine8_sse2(lo1, hi1);
    float r2 = combine8_sse2(lo2, hi2), r3 = combine8_sse2(lo3, hi3);
    for (; i < n; i++) {
        r0 += w0[i] * x[i];
        r1 += w1[i] * x[i];
        r2 += w2[i] * x[i];
        r3 += w3[i] * x[i];
    }
    out[0] = r0;
    out[1] = r1;
    out[2] = r2;
    out[3] = r3;
}
#else
static void dot_f32_x4(float *out, const float *const w[4], const float *x, size_t n,
                       size_t ahead)
{
    (void)ahead;
    for (int k = 0; k < 4; k++)
        out[k] = aios_dot_f32(w[k], x, n);
}
#endif

void aios_dot_f32_rows(float *out, const float *w, size_t stride, const float *x, size_t n,
                       size_t rows)
{
    /* Prefetch distance: whole blocks of four rows, about 16 KiB. */
    size_t ahead = stride * ((4096 / (stride + 1) + 4) & ~(size_t)3);
    size_t r = 0;

    for (; r + 4 <= rows; r += 4) {
        const float *rw[4] = { w + r * stride, w + (r + 1) * stride, w + (r + 2) * stride,
                               w + (r + 3) * stride };
        dot_f32_x4(out + r, rw, x, n, ahead);
    }
    for (; r < rows; r++)
        out[r] = aios_dot_f32(w + r * stride, x, n);
}

void aios_matvec_f32_rows(float *out, const float *w, const float *x, size_t n,
                          size_t lo, size_t hi)
{
    if (hi > lo)
        aios_dot_f32_rows(out + lo, w + lo * n, n, x, n, hi - lo);
}

/* ---------------------------------------------------------------- int8 dot products */

/* Integer sums are exact, so each machine may add in whatever order is fastest. */
INLINE int32_t dot_i8(const int8_t *a, const int8_t *b, size_t n)
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
        acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(va), vget_low_s8(vb)));
        acc = vpadalq_s16(acc, vmull_high_s8(va, vb));
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

/* The definition of a Q8_0 row's value: group by group, in order. */
float aios_dot_q8(const int8_t *aq, const float *as, const int8_t *bq, const float *bs,
                  size_t n, size_t gs)
{
    size_t groups = n / gs;
    float val = 0.0f;

    for (size_t g = 0; g < groups; g++)
        val += ((float)dot_i8(aq + g * gs, bq + g * gs, gs) * as[g]) * bs[g];
    return val;
}

/*
 * Four rows of a Q8_0 matrix-vector product at once (group size a multiple of 16): the
 * rows' values live in the four lanes of one float vector, so each row still computes
 * val += ((float)idot * ws) * xs group by group in order, while the input is loaded once
 * for the four rows and the float work is one vector operation for all of them.
 */
#if defined(AIOS_NEON)
/* acc + the products of 16 int8 pairs, in int32 lanes (which lane gets which product
 * differs between the two, and does not matter: only the lanes' total is used). */
INLINE int32x4_t madd16(int32x4_t acc, int8x16_t a, int8x16_t b)
{
#ifdef __ARM_FEATURE_DOTPROD
    return vdotq_s32(acc, a, b);
#else
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
#endif
}

/* One group's products in four int32 lanes (gs a multiple of 16). With gs a constant the
 * loop unrolls; 32 bytes come in with one load instruction. */
INLINE int32x4_t group_lanes(const int8_t *w, const int8_t *x, size_t gs)
{
    int32x4_t acc = vdupq_n_s32(0);
    size_t i = 0;

    for (; i + 32 <= gs; i += 32) {
        int8x16x2_t a = vld1q_s8_x2(w + i), b = vld1q_s8_x2(x + i);

        acc = madd16(madd16(acc, a.val[0], b.val[0]), a.val[1], b.val[1]);
    }
    if (i < gs)
        acc = madd16(acc, vld1q_s8(w + i), vld1q_s8(x + i));
    return acc;
}

/* The lanes of a, b, c and d summed: one transposing reduction instead of four. */
INLINE int32x4_t sum4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d)
{
    return vpaddq_s32(vpaddq_s32(a, b), vpaddq_s32(c, d));
}

/* ((float)idot * ws) * xs for groups g..g+3 of one row. */
INLINE float32x4_t row_4groups(const int8_t *w, const float *ws, const int8_t *x,
                               float32x4_t xs, size_t gs)
{
    int32x4_t d = sum4(group_lanes(w, x, gs), group_lanes(w + gs, x + gs, gs),
                       group_lanes(w + 2 * gs, x + 2 * gs, gs),
                       group_lanes(w + 3 * gs, x + 3 * gs, gs));

    return vmulq_f32(vmulq_f32(vcvtq_f32_s32(d), vld1q_f32(ws)), xs);
}

/* Rows w0..w3 (scales s0..s3) into out[0..3], any group size that is a multiple of 16. */
INLINE void q8_x4_any(float *out, const int8_t *w0, const int8_t *w1, const int8_t *w2,
                      const int8_t *w3, const float *s0, const float *s1, const float *s2,
                      const float *s3, const int8_t *xq, const float *xs, size_t groups,
                      size_t gs)
{
    float32x4_t val = vdupq_n_f32(0.0f);   /* lane k: row k */
    size_t g = 0;

    /* Four groups at a time: p_k holds groups g..g+3 of row k; transposed, c_j holds
     * group g+j of the four rows, added in group order. */
    for (; g + 4 <= groups; g += 4) {
        const int8_t *x = xq + g * gs;
        size_t off = g * gs;
        float32x4_t xsv = vld1q_f32(xs + g);
        float32x4_t p0 = row_4groups(w0 + off, s0 + g, x, xsv, gs);
        float32x4_t p1 = row_4groups(w1 + off, s1 + g, x, xsv, gs);
        float32x4_t p2 = row_4groups(w2 + off, s2 + g, x, xsv, gs);
        float32x4_t p3 = row_4groups(w3 + off, s3 + g, x, xsv, gs);
        float32x4_t t0 = vtrn1q_f32(p0, p1), t1 = vtrn2q_f32(p0, p1);
        float32x4_t t2 = vtrn1q_f32(p2, p3), t3 = vtrn2q_f32(p2, p3);

        val = vaddq_f32(val, zip1_64(t0, t2));
        val = vaddq_f32(val, zip1_64(t1, t3));
        val = vaddq_f32(val, zip2_64(t0, t2));
        val = vaddq_f32(val, zip2_64(t1, t3));
    }
    /* The rest one group at a time, the four rows' sums side by side. */
    for (; g < groups; g++) {
        const int8_t *x = xq + g * gs;
        size_t off = g * gs;
        int32x4_t d = sum4(group_lanes(w0 + off, x, gs), group_lanes(w1 + off, x, gs),
                           group_lanes(w2 + off, x, gs), group_lanes(w3 + off, x, gs));
        float32x4_t sc = vld1q_dup_f32(s0 + g);

        sc = vld1q_lane_f32(s1 + g, sc, 1);
        sc = vld1q_lane_f32(s2 + g, sc, 2);
        sc = vld1q_lane_f32(s3 + g, sc, 3);
        val = vaddq_f32(val, vmulq_n_f32(vmulq_f32(vcvtq_f32_s32(d), sc), xs[g]));
    }
    vst1q_f32(out, val);
}

/*
 * Group sizes 32 and 64: the loads are LDP pairs at immediate offsets from a pointer that
 * moves once per four groups. (GCC 12 pairs two vld1q_s8 only now and then, and its LD1
 * of several registers has no offset form, so it spends an address add on each; here
 * the pair is asked for directly. The "m" operand tells the compiler that memory from p
 * on is read, as far as four groups of 64 reach: its address is p itself, so it costs no
 * instruction, where one naming p + off would cost an add.)
 */
#define LDP_Q(a, b, p, off)                                                        \
    __asm__("ldp %q0, %q1, [%2, %3]"                                               \
            : "=w"(a), "=w"(b)                                                     \
            : "r"(p), "i"(off), "m"(*(const int8_t(*)[256])(const void *)(p)))

/* Group j (of four) at p: gs 32 fills val[0..1], 64 fills val[0..3]. */
#define LOAD_GROUP(v, p, j, gs)                                                    \
    do {                                                                           \
        if ((gs) == 64) {                                                          \
            LDP_Q((v).val[0], (v).val[1], p, 64 * (j));                            \
            LDP_Q((v).val[2], (v).val[3], p, 64 * (j) + 32);                       \
        } else {                                                                   \
            LDP_Q((v).val[0], (v).val[1], p, 32 * (j));                            \
            (v).val[2] = (v).val[0];                                               \
            (v).val[3] = (v).val[1];                                               \
        }                                                                          \
    } while (0)

INLINE int32x4_t dot_loaded(int8x16x4_t w, int8x16x4_t x, size_t gs)
{
    int32x4_t acc = madd16(madd16(vdupq_n_s32(0), w.val[0], x.val[0]), w.val[1], x.val[1]);

    if (gs == 64)
        acc = madd16(madd16(acc, w.val[2], x.val[2]), w.val[3], x.val[3]);
    return acc;
}

/* Group j of four of the row at w against x. */
#define DOT_GROUP(w, j, x, gs)                                                     \
    ({                                                                             \
        int8x16x4_t wv_;                                                           \
        LOAD_GROUP(wv_, w, j, gs);                                                 \
        dot_loaded(wv_, x, gs);                                                    \
    })

/* Four groups of one row: ((float)idot * ws) * xs for each. */
INLINE float32x4_t row_4groups_at(const int8_t *w, const float *ws, int8x16x4_t x0,
                                  int8x16x4_t x1, int8x16x4_t x2, int8x16x4_t x3,
                                  float32x4_t xs, size_t gs)
{
    int32x4_t d0 = DOT_GROUP(w, 0, x0, gs), d1 = DOT_GROUP(w, 1, x1, gs);
    int32x4_t d2 = DOT_GROUP(w, 2, x2, gs), d3 = DOT_GROUP(w, 3, x3, gs);

    return vmulq_f32(vmulq_f32(vcvtq_f32_s32(sum4(d0, d1, d2, d3)), vld1q_f32(ws)), xs);
}

INLINE void q8_x4_fixed(float *out, const int8_t *w0, const int8_t *w1, const int8_t *w2,
                        const int8_t *w3, const float *s0, const float *s1, const float *s2,
                        const float *s3, const int8_t *xq, const float *xs, size_t groups,
                        size_t gs)
{
    float32x4_t val = vdupq_n_f32(0.0f);   /* lane k: row k */
    size_t g = 0;

    for (; g + 4 <= groups; g += 4) {
        int8x16x4_t x0, x1, x2, x3;

        LOAD_GROUP(x0, xq, 0, gs);
        LOAD_GROUP(x1, xq, 1, gs);
        LOAD_GROUP(x2, xq, 2, gs);
        LOAD_GROUP(x3, xq, 3, gs);
        float32x4_t xsv = vld1q_f32(xs + g);
        float32x4_t p0 = row_4groups_at(w0, s0 + g, x0, x1, x2, x3, xsv, gs);
        float32x4_t p1 = row_4groups_at(w1, s1 + g, x0, x1, x2, x3, xsv, gs);
        float32x4_t p2 = row_4groups_at(w2, s2 + g, x0, x1, x2, x3, xsv, gs);
        float32x4_t p3 = row_4groups_at(w3, s3 + g, x0, x1, x2, x3, xsv, gs);
        float32x4_t t0 = vtrn1q_f32(p0, p1), t1 = vtrn2q_f32(p0, p1);
        float32x4_t t2 = vtrn1q_f32(p2, p3), t3 = vtrn2q_f32(p2, p3);

        xq += 4 * gs;
        w0 += 4 * gs;
        w1 += 4 * gs;
        w2 += 4 * gs;
        w3 += 4 * gs;
        val = vaddq_f32(val, zip1_64(t0, t2));
        val = vaddq_f32(val, zip1_64(t1, t3));
        val = vaddq_f32(val, zip2_64(t0, t2));
        val = vaddq_f32(val, zip2_64(t1, t3));
    }
    for (; g < groups; g++) {
        int8x16x4_t x;

        LOAD_GROUP(x, xq, 0, gs);
        int32x4_t d0 = DOT_GROUP(w0, 0, x, gs), d1 = DOT_GROUP(w1, 0, x, gs);
        int32x4_t d2 = DOT_GROUP(w2, 0, x, gs), d3 = DOT_GROUP(w3, 0, x, gs);
        float32x4_t sc = vld1q_dup_f32(s0 + g);

        xq += gs;
        w0 += gs;
        w1 += gs;
        w2 += gs;
        w3 += gs;
        sc = vld1q_lane_f32(s1 + g, sc, 1);
        sc = vld1q_lane_f32(s2 + g, sc, 2);
        sc = vld1q_lane_f32(s3 + g, sc, 3);
        val = vaddq_f32(val, vmulq_n_f32(vmulq_f32(vcvtq_f32_s32(sum4(d0, d1, d2, d3)), sc),
                                         xs[g]));
    }
    vst1q_f32(out, val);
}
#undef DOT_GROUP
#undef LOAD_GROUP
#undef LDP_Q

INLINE void q8_x4(float *out, const int8_t *w0, const int8_t *w1, const int8_t *w2,
                  const int8_t *w3, const float *s0, const float *s1, const float *s2,
                  const float *s3, const int8_t *xq, const float *xs, size_t groups, size_t gs)
{
    if (gs == 32 || gs == 64)
        q8_x4_fixed(out, w0, w1, w2, w3, s0, s1, s2, s3, xq, xs, groups, gs);
    else
        q8_x4_any(out, w0, w1, w2, w3, s0, s1, s2, s3, xq, xs, groups, gs);
}
#define Q8_X4 1
#elif defined(AIOS_SSE2)
INLINE __m128i load128(const int8_t *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* The int8 lanes of v as int16: each byte unpacked into both halves of a word, then
 * shifted down arithmetically. */
INLINE __m128i widen_lo(__m128i v)
{
    return _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);
}

INLINE __m128i widen_hi(__m128i v)
{
    return _mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8);
}

INLINE __m128i madd16(__m128i acc, __m128i w, __m128i xlo, __m128i xhi)
{
    acc = _mm_add_epi32(acc, _mm_madd_epi16(widen_lo(w), xlo));
    return _mm_add_epi32(acc, _mm_madd_epi16(widen_hi(w), xhi));
}

/* Lane k of the result: the sum of the lanes of the k-th argument. */
INLINE __m128i sum4(__m128i a, __m128i b, __m128i c, __m128i d)
{
    __m128i ab = _mm_add_epi32(_mm_unpacklo_epi32(a, b), _mm_unpackhi_epi32(a, b));
    __m128i cd = _mm_add_epi32(_mm_unpacklo_epi32(c, d), _mm_unpackhi_epi32(c, d));

    return _mm_add_epi32(_mm_unpacklo_epi64(ab, cd), _mm_unpackhi_epi64(ab, cd));
}

/* One group at a time: the input is widened once for the four rows. (x86-64 has 16
 * vector registers, too few to keep four groups of four rows in flight.) */
INLINE void q8_x4(float *out, const int8_t *w0, const int8_t *w1, const int8_t *w2,
                  const int8_t *w3, const float *s0, const float *s1, const float *s2,
                  const float *s3, const int8_t *xq, const float *xs, size_t groups, size_t gs)
{
    __m128 val = _mm_setzero_ps();   /* lane k: row k */

    for (size_t g = 0; g < groups; g++) {
        __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;

        for (size_t i = g * gs; i < (g + 1) * gs; i += 16) {
            __m128i xv = load128(xq + i), xlo = widen_lo(xv), xhi = widen_hi(xv);

            a0 = madd16(a0, load128(w0 + i), xlo, xhi);
            a1 = madd16(a1, load128(w1 + i), xlo, xhi);
            a2 = madd16(a2, load128(w2 + i), xlo, xhi);
            a3 = madd16(a3, load128(w3 + i), xlo, xhi);
        }
        __m128 d = _mm_cvtepi32_ps(sum4(a0, a1, a2, a3));
        __m128 sc = _mm_set_ps(s3[g], s2[g], s1[g], s0[g]);

        val = _mm_add_ps(val, _mm_mul_ps(_mm_mul_ps(d, sc), _mm_set1_ps(xs[g])));
    }
    _mm_storeu_ps(out, val);
}
#define Q8_X4 1
#endif

#ifdef Q8_X4
/* Rows lo..hi four at a time; a last block of fewer rows repeats its last row in the
 * spare lanes and keeps only the real ones. */
INLINE void q8_rows(float *out, const int8_t *wq, const float *ws, const int8_t *xq,
                    const float *xs, size_t n, size_t gs, size_t lo, size_t hi)
{
    size_t groups = n / gs, r = lo;

    for (; r + 4 <= hi; r += 4) {
        const int8_t *w = wq + r * n;
        const float *s = ws + r * groups;

        q8_x4(out + r, w, w + n, w + 2 * n, w + 3 * n, s, s + groups, s + 2 * groups,
              s + 3 * groups, xq, xs, groups, gs);
    }
    if (r < hi) {
        size_t r1 = r + 1 < hi ? r + 1 : r, r2 = r + 2 < hi ? r + 2 : r;
        float v[4];

        q8_x4(v, wq + r * n, wq + r1 * n, wq + r2 * n, wq + r2 * n, ws + r * groups,
              ws + r1 * groups, ws + r2 * groups, ws + r2 * groups, xq, xs, groups, gs);
        for (size_t k = 0; r + k < hi; k++)
            out[r + k] = v[k];
    }
}

/* The common group sizes get their own copies, with the group loops unrolled. */
static void q8_rows_gs32(float *out, const int8_t *wq, const float *ws, const int8_t *xq,
                         const float *xs, size_t n, size_t lo, size_t hi)
{
    q8_rows(out, wq, ws, xq, xs, n, 32, lo, hi);
}

static void q8_rows_gs64(float *out, const int8_t *wq, const float *ws, const int8_t *xq,
                         const float *xs, size_t n, size_t lo, size_t hi)
{
    q8_rows(out, wq, ws, xq, xs, n, 64, lo, hi);
}

static void q8_rows_any(float *out, const int8_t *wq, const float *ws, const int8_t *xq,
                        const float *xs, size_t n, size_t gs, size_t lo, size_t hi)
{
    q8_rows(out, wq, ws, xq, xs, n, gs, lo, hi);
}
#endif

void aios_matvec_q8_rows(float *out, const int8_t *wq, const float *ws, const int8_t *xq,
                         const float *xs, size_t n, size_t gs, size_t lo, size_t hi)
{
    size_t groups = n / gs;

#ifdef Q8_X4
    if (gs == 32) {
        q8_rows_gs32(out, wq, ws, xq, xs, n, lo, hi);
        return;
    }
    if (gs == 64) {
        q8_rows_gs64(out, wq, ws, xq, xs, n, lo, hi);
        return;
    }
    if (gs % 16 == 0) {
        q8_rows_any(out, wq, ws, xq, xs, n, gs, lo, hi);
        return;
    }
#endif
    for (size_t r = lo; r < hi; r++)
        out[r] = aios_dot_q8(wq + r * n, ws + r * groups, xq, xs, n, gs);
}

/* ---------------------------------------------------------------- whole products */

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

/* ---------------------------------------------------------------- element-wise */

void aios_rmsnorm(float *out, const float *x, const float *w, size_t n)
{
    float ms = aios_dot_f32(x, x, n) / (float)n + 1e-5f;
    float inv = 1.0f / aios_sqrtf(ms);
    size_t i = 0;

#ifdef AIOS_NEON
    for (; i + 4 <= n; i += 4)
        vst1q_f32(out + i, vmulq_f32(vld1q_f32(w + i), vmulq_n_f32(vld1q_f32(x + i), inv)));
#endif
    for (; i < n; i++)
        out[i] = w[i] * (inv * x[i]);
}

void aios_add(float *x, const float *y, size_t n)
{
    size_t i = 0;

#ifdef AIOS_NEON
    for (; i + 4 <= n; i += 4)
        vst1q_f32(x + i, vaddq_f32(vld1q_f32(x + i), vld1q_f32(y + i)));
#endif
    for (; i < n; i++)
        x[i] += y[i];
}

void aios_weighted_sum(float *out, const float *a, const float *v, size_t stride, size_t n,
                       size_t count)
{
    size_t i = 0;

#ifdef AIOS_NEON
    /* Sixteen outputs at a time stay in registers over all the rows. */
    for (; i + 16 <= n; i += 16) {
        float32x4_t o0 = vdupq_n_f32(0.0f), o1 = o0, o2 = o0, o3 = o0;

        for (size_t t = 0; t < count; t++) {
            const float *vt = v + t * stride + i;
            float at = a[t];

            o0 = vaddq_f32(o0, vmulq_n_f32(vld1q_f32(vt), at));
            o1 = vaddq_f32(o1, vmulq_n_f32(vld1q_f32(vt + 4), at));
            o2 = vaddq_f32(o2, vmulq_n_f32(vld1q_f32(vt + 8), at));
            o3 = vaddq_f32(o3, vmulq_n_f32(vld1q_f32(vt + 12), at));
        }
        vst1q_f32(out + i, o0);
        vst1q_f32(out + i + 4, o1);
        vst1q_f32(out + i + 8, o2);
        vst1q_f32(out + i + 12, o3);
    }
    for (; i + 4 <= n; i += 4) {
        float32x4_t o = vdupq_n_f32(0.0f);

        for (size_t t = 0; t < count; t++)
            o = vaddq_f32(o, vmulq_n_f32(vld1q_f32(v + t * stride + i), a[t]));
        vst1q_f32(out + i, o);
    }
#endif
    for (size_t k = i; k < n; k++)
        out[k] = 0.0f;
    for (size_t t = 0; t < count; t++)
        for (size_t k = i; k < n; k++)
            out[k] += a[t] * v[t * stride + k];
}

void aios_rope(float *v, size_t n, const float *cs, const float *sn, size_t head_size)
{
    size_t half = head_size / 2;

    for (size_t h = 0; h < n; h += head_size) {
        float *vh = v + h;
        size_t p = 0;

#ifdef AIOS_NEON
        /* Four pairs at a time, split into their a and b halves by LD2. */
        for (; p + 4 <= half; p += 4) {
            float32x4x2_t ab = vld2q_f32(vh + 2 * p), r;
            float32x4_t c4 = vld1q_f32(cs + p), s4 = vld1q_f32(sn + p);

            r.val[0] = vsubq_f32(vmulq_f32(ab.val[0], c4), vmulq_f32(ab.val[1], s4));
            r.val[1] = vaddq_f32(vmulq_f32(ab.val[0], s4), vmulq_f32(ab.val[1], c4));
            vst2q_f32(vh + 2 * p, r);
        }
#endif
        for (; p < half; p++) {
            float a = vh[2 * p], b = vh[2 * p + 1];

            vh[2 * p] = a * cs[p] - b * sn[p];
            vh[2 * p + 1] = a * sn[p] + b * cs[p];
        }
    }
}

void aios_swiglu(float *gate, const float *up, size_t n)
{
    float e[64];

    /* The exponentials a batch at a time, through the vectorised aios_expf_n. */
    for (size_t i = 0; i < n; i += 64) {
        size_t m = n - i < 64 ? n - i : 64, k = 0;
        float *g = gate + i;
        const float *u = up + i;

#ifdef AIOS_NEON
        for (; k + 4 <= m; k += 4)
            vst1q_f32(e + k, vnegq_f32(vld1q_f32(g + k)));
#endif
        for (; k < m; k++)
            e[k] = -g[k];
        aios_expf_n(e, e, m);
        k = 0;
#ifdef AIOS_NEON
        for (; k + 4 <= m; k += 4) {
            float32x4_t d = vaddq_f32(vdupq_n_f32(1.0f), vld1q_f32(e + k));
            vst1q_f32(g + k, vmulq_f32(vdivq_f32(vld1q_f32(g + k), d), vld1q_f32(u + k)));
        }
#endif
        for (; k < m; k++)
            g[k] = (g[k] / (1.0f + e[k])) * u[k];
    }
}

void aios_softmax(float *x, size_t n)
{
    float max = x[0], sum = 0.0f;
    size_t i = 1;

#ifdef AIOS_NEON
    /* The scalar loop's comparisons lane by lane (a NaN never enters; a NaN x[0] stays);
     * the lanes' maximum is then exact in any order. It may come out +0 where the loop
     * keeps -0, which changes nothing below: x - 0 and x + 0 are x, and e^-0 = e^+0. */
    if (n >= 8) {
        float32x4_t m = vdupq_n_f32(max);

        for (i = 0; i + 4 <= n; i += 4) {
            float32x4_t v = vld1q_f32(x + i);
            m = vbslq_f32(vcgtq_f32(v, m), v, m);
        }
        max = max != max ? max : vmaxvq_f32(m);
    }
#endif
    for (; i < n; i++)
        if (x[i] > max)
            max = x[i];
    i = 0;
#ifdef AIOS_NEON
    for (; i + 4 <= n; i += 4)
        vst1q_f32(x + i, vsubq_f32(vld1q_f32(x + i), vdupq_n_f32(max)));
#endif
    for (; i < n; i++)
        x[i] -= max;
    aios_expf_n(x, x, n);
    for (i = 0; i < n; i++)
        sum += x[i];
    i = 0;
#ifdef AIOS_NEON
    for (; i + 4 <= n; i += 4)
        vst1q_f32(x + i, vdivq_f32(vld1q_f32(x + i), vdupq_n_f32(sum)));
#endif
    for (; i < n; i++)
        x[i] /= sum;
}

/* ---------------------------------------------------------------- Q8_0 */

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

/* max |x[i]|, i < n, skipping NaNs (they never compare greater). */
static float absmax(const float *x, size_t n)
{
    float amax = 0.0f;
    size_t i = 0;

#ifdef AIOS_NEON
    /* FMAX lane by lane: the maximum is exact in any order, but a NaN wins it. Then
     * (rarely) the plain loop below does the whole group again, skipping NaNs. */
    if (n >= 8) {
        float32x4_t m0 = vdupq_n_f32(0.0f), m1 = m0;

        for (; i + 8 <= n; i += 8) {
            float32x4x2_t v = vld1q_f32_x2(x + i);

            m0 = vmaxq_f32(m0, vabsq_f32(v.val[0]));
            m1 = vmaxq_f32(m1, vabsq_f32(v.val[1]));
        }
        amax = vmaxvq_f32(vmaxq_f32(m0, m1));
        if (amax != amax) {
            amax = 0.0f;
            i = 0;
        }
    }
#endif
    for (; i < n; i++) {
        float a = x[i] < 0.0f ? -x[i] : x[i];
        if (a > amax)
            amax = a;
    }
    return amax;
}

void aios_quantize_q8(int8_t *q, float *s, const float *x, size_t n, size_t gs)
{
    for (size_t g = 0; g * gs < n; g++) {
        const float *xg = x + g * gs;
        int8_t *qg = q + g * gs;
        float scale = absmax(xg, gs) / 127.0f;
        size_t i = 0;

        s[g] = scale;
        if (scale == 0.0f) {
            for (; i < gs; i++)
                qg[i] = 0;
            continue;
        }
#ifdef AIOS_NEON
        /* FCVTAS rounds to nearest with halves away from zero, exactly round_q8 on
         * x / scale, and NaN converts to 0. The saturating narrows clamp to [-128, 127]
         * (|x / scale| is at most 127 but for a denormal scale, which has lost its
         * precision), and the last max raises -128 to -127. */
        float32x4_t sv = vdupq_n_f32(scale);

        for (; i + 8 <= gs; i += 8) {
            float32x4x2_t v = vld1q_f32_x2(xg + i);
            int32x4_t a = vcvtaq_s32_f32(vdivq_f32(v.val[0], sv));
            int32x4_t b = vcvtaq_s32_f32(vdivq_f32(v.val[1], sv));
            int8x8_t ab = vqmovn_s16(vqmovn_high_s32(vqmovn_s32(a), b));

            vst1_s8(qg + i, vmax_s8(ab, vdup_n_s8(-127)));
        }
#endif
        for (; i < gs; i++)
            qg[i] = round_q8(xg[i] / scale);
    }
}

void aios_dequantize_q8(float *out, const int8_t *q, const float *s, size_t n, size_t gs)
{
    for (size_t g = 0; g * gs < n; g++)
        for (size_t i = g * gs; i < (g + 1) * gs; i++)
            out[i] = (float)q[i] * s[g];
}
