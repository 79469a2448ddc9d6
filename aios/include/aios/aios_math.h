/*
 * libaios math: the few elementary functions inference needs, without libm.
 *
 * The partition has no libm, and the host's libm differs from any other libm in the last
 * bit. These functions are written so that the host and the AArch64 build return the
 * same bits for the same input: each is a fixed sequence of IEEE-754 double operations
 * (+ - * /, conversions), which both machines round identically, provided the code is
 * built with -ffp-contract=off (no fused multiply-add) and runs with the FPU in its
 * default mode (round to nearest, no flush-to-zero). Working in double and rounding to
 * float once at the end makes them nearly correctly rounded.
 *
 * Accuracy, checked against glibc in tests/unit/test_model.c (error in float ulps):
 *   aios_expf   every finite x; <= 1 ulp (0 for x < -103.98, +inf for x > 88.73)
 *   aios_logf   x > 0 finite; <= 1 ulp
 *   aios_powf   x > 0 finite, |y * ln x| <= 88; <= 1 ulp
 *   aios_sinf, aios_cosf, aios_sincosf
 *               |x| <= 2^28 (RoPE angles are pos * freq < 2^20); <= 1 ulp.
 *               Larger |x|, infinities and NaN give NaN.
 *   aios_sqrtf  correctly rounded (the hardware instruction)
 * Out of the domain (x <= 0 for log/pow, NaN anywhere) the result is NaN, 0 or inf as
 * libm would give, never a trap.
 */
#ifndef AIOS_MATH_H
#define AIOS_MATH_H

#include <stddef.h>

float aios_expf(float x);
/* y[i] = aios_expf(x[i]) for i < n, the same bits, faster (y may be x). */
void aios_expf_n(float *y, const float *x, size_t n);
float aios_logf(float x);
float aios_powf(float x, float y);
float aios_sinf(float x);
float aios_cosf(float x);
void aios_sincosf(float x, float *s, float *c);

/* One instruction on x86-64 (sqrtss) and AArch64 (fsqrt) when built with
 * -fno-math-errno; IEEE requires it correctly rounded, so both agree. */
static inline float aios_sqrtf(float x)
{
    return __builtin_sqrtf(x);
}

#endif /* AIOS_MATH_H */
