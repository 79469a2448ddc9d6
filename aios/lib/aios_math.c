/*
 * libaios math without libm (see aios_math.h for the accuracy and domain of each).
 *
 * Every function reduces its argument in double, evaluates a truncated Taylor series in
 * double, and rounds to float once. Double leaves about 29 spare bits, so the float
 * result is the correctly rounded one except when the exact value lies within ~2^-29 ulp
 * of a rounding boundary, and never more than 1 ulp off. The series are plain Taylor
 * series rather than minimax fits: a few more terms, but every coefficient is an exact
 * expression (1/n!) anyone can check. Bits are moved between double and integer through
 * a union, which C11 defines and which does not depend on memcpy being a builtin under
 * -ffreestanding.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aios/aios_math.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

union dbits {
    double d;
    uint64_t u;
};

/* Adding and subtracting 1.5 * 2^52 rounds a double of magnitude < 2^51 to the nearest
 * integer (ties to even) using only the FPU's default rounding: no rint() needed. */
#define ROUND_SHIFT 0x1.8p52

/* ln 2 split so that k * LN2_HI is exact for |k| < 2^21: the reduction x - k ln 2 then
 * loses nothing to cancellation. */
#define LN2_HI 0x1.62e42feep-1
#define LN2_LO 0x1.a39ef35793c76p-33
#define LOG2_E 0x1.71547652b82fep+0
#define SQRT_2 0x1.6a09e667f3bcdp+0

/* pi/2 in three pieces: 24, 24 and 53 significant bits. n * PIO2_1 and n * PIO2_2 are
 * exact for |n| < 2^29, which is what lets sin/cos reduce any |x| <= 2^28 accurately. */
#define PIO2_1 0x1.921fb4p+0
#define PIO2_2 0x1.4442dp-24
#define PIO2_3 0x1.8469898cc517p-48
#define TWO_OVER_PI 0x1.45f306dc9c883p-1

/* The largest float, and the midpoint above it from which conversion rounds to inf. */
#define FLT_MAX_D 0x1.fffffep+127
#define FLT_OVERFLOW_D 0x1.ffffffp+127

static float float_nan(void)
{
    return __builtin_nanf("");
}

static float float_inf(void)
{
    return __builtin_inff();
}

/* 2^k for the normal exponent range |k| <= 1022, built from its bit pattern. */
static double pow2i(int k)
{
    union dbits b = { .u = (uint64_t)(k + 1023) << 52 };

    return b.d;
}

/* Horner's steps of e^r's Taylor series after its 1/13! term, 1/12! down to 1: each of
 * exp_core's versions (scalar, NEON, SSE2) defines EXP_TERM(c) as p = c + r p in its own
 * arithmetic, so all of them do the same operations in the same order. */
#define EXP_TAYLOR_TERMS                                                                  \
    EXP_TERM(1.0 / 479001600.0); EXP_TERM(1.0 / 39916800.0); EXP_TERM(1.0 / 3628800.0);  \
    EXP_TERM(1.0 / 362880.0); EXP_TERM(1.0 / 40320.0); EXP_TERM(1.0 / 5040.0);           \
    EXP_TERM(1.0 / 720.0); EXP_TERM(1.0 / 120.0); EXP_TERM(1.0 / 24.0);                  \
    EXP_TERM(1.0 / 6.0); EXP_TERM(0.5); EXP_TERM(1.0); EXP_TERM(1.0)

/* e^x for -104 <= x <= 89 (all the float range needs): x = k ln 2 + r, |r| <= ln2/2; e^r by its Taylor series to r^13
 * (the next term is below 4e-18). */
static double exp_core(double x)
{
    double kd = (x * LOG2_E + ROUND_SHIFT) - ROUND_SHIFT;
    double r = (x - kd * LN2_HI) - kd * LN2_LO;
    double p;

    p = 1.0 / 6227020800.0;   /* 1/13! */
#define EXP_TERM(c) p = (c) + r * p
    EXP_TAYLOR_TERMS;
#undef EXP_TERM
    /* Callers keep x within [-104, 89], so k is within [-151, 129]: 2^k is a normal
     * double and the product exact. */
    return p * pow2i((int)kd);
}

/* ln x for a positive, finite, normal double: x = m 2^e with m in [sqrt(1/2), sqrt(2)),
 * ln m = 2 atanh(s) with s = (m-1)/(m+1), |s| <= 0.172, series to s^23. */
static double log_core(double x)
{
    union dbits b = { .d = x };
    int e = (int)(b.u >> 52) - 1023;
    double m, f, s, s2, p;

    b.u = (b.u & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    m = b.d;
    if (m > SQRT_2) {
        m *= 0.5;
        e++;
    }
    f = m - 1.0;
    s = f / (2.0 + f);
    s2 = s * s;
    p = 1.0 / 23.0;
    p = 1.0 / 21.0 + s2 * p;
    p = 1.0 / 19.0 + s2 * p;
    p = 1.0 / 17.0 + s2 * p;
    p = 1.0 / 15.0 + s2 * p;
    p = 1.0 / 13.0 + s2 * p;
    p = 1.0 / 11.0 + s2 * p;
    p = 1.0 / 9.0 + s2 * p;
    p = 1.0 / 7.0 + s2 * p;
    p = 1.0 / 5.0 + s2 * p;
    p = 1.0 / 3.0 + s2 * p;
    p = 1.0 + s2 * p;
    return (double)e * LN2_HI + ((double)e * LN2_LO + 2.0 * s * p);
}

/* e^t rounded to float, with overflow and underflow decided before converting (a double
 * beyond the float range is not something to hand the conversion). */
static float exp_to_float(double t)
{
    if (t > 89.0)
        return float_inf();
    if (t < -104.0)
        return 0.0f;
    double r = exp_core(t);
    if (r >= FLT_OVERFLOW_D)
        return float_inf();
    return (float)r;
}

float aios_expf(float x)
{
    if (x != x)
        return x;
    return exp_to_float((double)x);
}

/*
 * aios_expf over an array, for the forward pass's SwiGLU gate and softmaxes (thousands of
 * exponentials per token). Two lanes at a time in double vectors (NEON or SSE2), doing
 * exactly exp_core's and exp_to_float's double operations (a vector add or multiply
 * rounds each lane as the scalar instruction does, and nothing is fused), so every
 * element gets the bits aios_expf gives it; the limits become selects.
 */
#if defined(__aarch64__) && defined(__ARM_NEON)
static inline __attribute__((always_inline)) float64x2_t exp_core2(float64x2_t x)
{
    const float64x2_t shift = vdupq_n_f64(ROUND_SHIFT);
    float64x2_t kd = vsubq_f64(vaddq_f64(vmulq_f64(x, vdupq_n_f64(LOG2_E)), shift), shift);
    float64x2_t r = vsubq_f64(vsubq_f64(x, vmulq_f64(kd, vdupq_n_f64(LN2_HI))),
                              vmulq_f64(kd, vdupq_n_f64(LN2_LO)));
    float64x2_t p;

#define EXP_TERM(c) p = vaddq_f64(vdupq_n_f64(c), vmulq_f64(r, p))
    p = vdupq_n_f64(1.0 / 6227020800.0);
    EXP_TAYLOR_TERMS;
#undef EXP_TERM
    /* 2^k from its bits; lanes outside [-104, 89], where k is meaningless, are replaced
     * by the caller. */
    int64x2_t k = vcvtq_s64_f64(kd);
    float64x2_t two_k = vreinterpretq_f64_s64(vshlq_n_s64(vaddq_s64(k, vdupq_n_s64(1023)), 52));

    return vmulq_f64(p, two_k);
}

static inline __attribute__((always_inline)) float32x4_t expf4(float32x4_t x)
{
    float64x2_t tlo = vcvt_f64_f32(vget_low_f32(x)), thi = vcvt_high_f64_f32(x);
    float64x2_t rlo = exp_core2(tlo), rhi = exp_core2(thi);
    float32x4_t f = vcvt_high_f32_f64(vcvt_f32_f64(rlo), rhi);
    const float32x4_t inf = vdupq_n_f32(float_inf());
    const float64x2_t ovf = vdupq_n_f64(FLT_OVERFLOW_D);
    uint32x4_t big = vcombine_u32(vmovn_u64(vcgeq_f64(rlo, ovf)), vmovn_u64(vcgeq_f64(rhi, ovf)));

    f = vbslq_f32(big, inf, f);
    f = vbslq_f32(vcltq_f32(x, vdupq_n_f32(-104.0f)), vdupq_n_f32(0.0f), f);
    f = vbslq_f32(vcgtq_f32(x, vdupq_n_f32(89.0f)), inf, f);
    return vbslq_f32(vceqq_f32(x, x), f, x);   /* NaN: x itself */
}
#elif defined(__SSE2__)
/* The same on x86-64 with SSE2's double vectors (its baseline, so on any x86-64). */
static inline __attribute__((always_inline)) __m128d exp_core2(__m128d x)
{
    const __m128d shift = _mm_set1_pd(ROUND_SHIFT);
    __m128d kd = _mm_sub_pd(_mm_add_pd(_mm_mul_pd(x, _mm_set1_pd(LOG2_E)), shift), shift);
    __m128d r = _mm_sub_pd(_mm_sub_pd(x, _mm_mul_pd(kd, _mm_set1_pd(LN2_HI))),
                           _mm_mul_pd(kd, _mm_set1_pd(LN2_LO)));
    __m128d p;

#define EXP_TERM(c) p = _mm_add_pd(_mm_set1_pd(c), _mm_mul_pd(r, p))
    p = _mm_set1_pd(1.0 / 6227020800.0);
    EXP_TAYLOR_TERMS;
#undef EXP_TERM
    /* k + 1023 (in 1..2046 wherever the caller keeps the lane) into a 64-bit lane's
     * exponent field. */
    __m128i k = _mm_add_epi32(_mm_cvttpd_epi32(kd), _mm_set1_epi32(1023));
    __m128i e = _mm_slli_epi64(_mm_unpacklo_epi32(k, _mm_setzero_si128()), 52);

    return _mm_mul_pd(p, _mm_castsi128_pd(e));
}

static inline __attribute__((always_inline)) __m128 select4(__m128 mask, __m128 a, __m128 b)
{
    return _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b));
}

static inline __attribute__((always_inline)) __m128 expf4(__m128 x)
{
    __m128d tlo = _mm_cvtps_pd(x), thi = _mm_cvtps_pd(_mm_movehl_ps(x, x));
    __m128d rlo = exp_core2(tlo), rhi = exp_core2(thi);
    __m128 f = _mm_movelh_ps(_mm_cvtpd_ps(rlo), _mm_cvtpd_ps(rhi));
    const __m128 inf = _mm_set1_ps(float_inf());
    const __m128d ovf = _mm_set1_pd(FLT_OVERFLOW_D);
    __m128 big = _mm_shuffle_ps(_mm_castpd_ps(_mm_cmpge_pd(rlo, ovf)),
                                _mm_castpd_ps(_mm_cmpge_pd(rhi, ovf)), _MM_SHUFFLE(2, 0, 2, 0));

    f = select4(big, inf, f);
    f = _mm_andnot_ps(_mm_cmplt_ps(x, _mm_set1_ps(-104.0f)), f);
    f = select4(_mm_cmpgt_ps(x, _mm_set1_ps(89.0f)), inf, f);
    return select4(_mm_cmpunord_ps(x, x), x, f);   /* NaN: x itself */
}
#endif

void aios_expf_n(float *y, const float *x, size_t n)
{
    size_t i = 0;

#if defined(__aarch64__) && defined(__ARM_NEON)
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, expf4(vld1q_f32(x + i)));
#elif defined(__SSE2__)
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(y + i, expf4(_mm_loadu_ps(x + i)));
#endif
    for (; i < n; i++)
        y[i] = aios_expf(x[i]);
}

float aios_logf(float x)
{
    if (x != x)
        return x;
    if (x < 0.0f)
        return float_nan();
    if (x == 0.0f)
        return -float_inf();
    if (x == float_inf())
        return x;
    return (float)log_core((double)x);
}

float aios_powf(float x, float y)
{
    if (y == 0.0f || x == 1.0f)
        return 1.0f;
    if (x != x || y != y || x < 0.0f)
        return float_nan();
    if (x == 0.0f)
        return y > 0.0f ? 0.0f : float_inf();
    if (x == float_inf())
        return y > 0.0f ? float_inf() : 0.0f;
    /* y * ln x is exact to ~1e-16 relative, so e^(y ln x) keeps double accuracy for any
     * result in the float range; an infinite y lands in exp_to_float's limits. */
    return exp_to_float((double)y * log_core((double)x));
}

/* sin and cos of x (|x| <= 2^28): x = n pi/2 + r with |r| <= ~pi/4, then Taylor series
 * to r^17 (sin) and r^16 (cos), and the quadrant n mod 4 picks and signs them. */
static bool sincos_core(float x, double *sp, double *cp)
{
    double xd = x;

    if (!(xd <= 0x1p28 && xd >= -0x1p28))
        return false;
    double nd = (xd * TWO_OVER_PI + ROUND_SHIFT) - ROUND_SHIFT;
    double r = ((xd - nd * PIO2_1) - nd * PIO2_2) - nd * PIO2_3;
    double r2 = r * r;
    double s, c;

    s = -1.0 / 355687428096000.0;      /* -1/17! */
    s = 1.0 / 1307674368000.0 + r2 * s;
    s = -1.0 / 6227020800.0 + r2 * s;
    s = 1.0 / 39916800.0 + r2 * s;
    s = -1.0 / 362880.0 + r2 * s;
    s = 1.0 / 5040.0 + r2 * s;
    s = -1.0 / 120.0 + r2 * s;
    s = 1.0 / 6.0 + r2 * s;
    s = r - r * r2 * s;

    c = 1.0 / 20922789888000.0;        /* 1/16! */
    c = -1.0 / 87178291200.0 + r2 * c;
    c = 1.0 / 479001600.0 + r2 * c;
    c = -1.0 / 3628800.0 + r2 * c;
    c = 1.0 / 40320.0 + r2 * c;
    c = -1.0 / 720.0 + r2 * c;
    c = 1.0 / 24.0 + r2 * c;
    c = -0.5 + r2 * c;
    c = 1.0 + r2 * c;

    switch ((int32_t)nd & 3) {
    case 0: *sp = s;  *cp = c;  break;
    case 1: *sp = c;  *cp = -s; break;
    case 2: *sp = -s; *cp = -c; break;
    default: *sp = -c; *cp = s; break;
    }
    return true;
}

void aios_sincosf(float x, float *s, float *c)
{
    double sd, cd;

    if (!sincos_core(x, &sd, &cd)) {
        *s = *c = float_nan();
        return;
    }
    *s = (float)sd;
    *c = (float)cd;
}

float aios_sinf(float x)
{
    float s, c;

    aios_sincosf(x, &s, &c);
    return s;
}

float aios_cosf(float x)
{
    float s, c;

    aios_sincosf(x, &s, &c);
    return c;
}
