/*
 * See kernel_checks.h. Each reference below is the portable definition written out
 * plainly, one element and one operation at a time; the kernels may work on several
 * rows, groups or elements at once with SIMD, and must still give the same bits. Shapes
 * are chosen to reach every path: row counts that are and are not multiples of four,
 * lengths below, at and past each vector width, every group size class (the unrolled 32
 * and 64, other multiples of 16, and the rest), and the special values (NaN, infinities,
 * signed zeros, denormals, exact rounding ties).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aios/aios_math.h"
#include "aios/kernels.h"
#include "aios/sampler.h"
#include "kernel_checks.h"
#include "kprintf.h"

#define MAX_ROWS 9
#define MAX_N 1024

static struct {
    void (*say)(const char *line);
    int failures;
    uint64_t rng;
} ck;

static uint32_t next_u32(void)
{
    ck.rng ^= ck.rng >> 12;
    ck.rng ^= ck.rng << 25;
    ck.rng ^= ck.rng >> 27;
    return (uint32_t)((ck.rng * 0x2545f4914f6cdd1dull) >> 32);
}

/* Uniform in [lo, hi). */
static float uniform(float lo, float hi)
{
    return lo + (hi - lo) * ((float)(next_u32() >> 8) / 16777216.0f);
}

static uint32_t bits(float f)
{
    uint32_t u;

    memcpy(&u, &f, sizeof(u));
    return u;
}

static float from_bits(uint32_t u)
{
    float f;

    memcpy(&f, &u, sizeof(f));
    return f;
}

/* Equal bits, or both NaN (a NaN's payload is not part of any promise). */
static void expect(const char *what, size_t a, size_t b, size_t c, float got, float want)
{
    char line[160];

    if (bits(got) == bits(want) || (got != got && want != want))
        return;
    if (ck.failures++ < 8) {
        ksnprintf(line, sizeof(line), "%s (%zu, %zu, %zu): got 0x%08x, want 0x%08x", what, a,
                  b, c, (unsigned)bits(got), (unsigned)bits(want));
        ck.say(line);
    }
}

static void expect_int(const char *what, size_t a, size_t b, long got, long want)
{
    char line[160];

    if (got == want)
        return;
    if (ck.failures++ < 8) {
        ksnprintf(line, sizeof(line), "%s (%zu, %zu): got %ld, want %ld", what, a, b, got, want);
        ck.say(line);
    }
}

/* Random values with, now and then, one of the values that take other paths. */
static float special_or(float v)
{
    static const uint32_t specials[] = {
        0x7fc00000u, 0xffc00001u, 0x7f800000u, 0xff800000u, 0x00000000u, 0x80000000u,
        0x00000001u, 0x807fffffu, 0x7f7fffffu,
    };
    uint32_t r = next_u32();

    if (r % 29 == 0)
        return from_bits(specials[(r >> 8) % (sizeof(specials) / sizeof(specials[0]))]);
    return v;
}

/* ---------------------------------------------------------------- references */

static float ref_dot(const float *a, const float *b, size_t n)
{
    float lane[8] = { 0 };
    size_t full = n / 8 * 8;

    for (size_t i = 0; i < full; i++)
        lane[i % 8] = lane[i % 8] + a[i] * b[i];
    float sum = ((lane[0] + lane[4]) + (lane[2] + lane[6])) +
                ((lane[1] + lane[5]) + (lane[3] + lane[7]));
    for (size_t i = full; i < n; i++)
        sum = sum + a[i] * b[i];
    return sum;
}

static float ref_q8(const int8_t *w, const float *ws, const int8_t *x, const float *xs,
                    size_t n, size_t gs)
{
    float val = 0.0f;

    for (size_t g = 0; g < n / gs; g++) {
        int32_t d = 0;

        for (size_t i = g * gs; i < (g + 1) * gs; i++)
            d += (int32_t)w[i] * (int32_t)x[i];
        val = val + ((float)d * ws[g]) * xs[g];
    }
    return val;
}

static int8_t ref_round(float v)
{
    if (!(v > -127.0f))
        return v != v ? 0 : -127;
    if (!(v < 127.0f))
        return 127;
    if (v >= 0.0f)
        return (int8_t)(int)((double)v + 0.5);
    return (int8_t)-(int)(0.5 - (double)v);
}

static void ref_quantize(int8_t *q, float *s, const float *x, size_t n, size_t gs)
{
    for (size_t g = 0; g * gs < n; g++) {
        float amax = 0.0f;

        for (size_t i = g * gs; i < (g + 1) * gs; i++) {
            float a = x[i] < 0.0f ? -x[i] : x[i];
            if (a > amax)
                amax = a;
        }
        s[g] = amax / 127.0f;
        for (size_t i = g * gs; i < (g + 1) * gs; i++)
            q[i] = s[g] == 0.0f ? 0 : ref_round(x[i] / s[g]);
    }
}

static int32_t ref_argmax(const float *x, int32_t n)
{
    int32_t best = 0;

    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best] || (x[best] != x[best] && x[i] == x[i]))
            best = i;
    return best;
}

static void ref_softmax(float *x, size_t n)
{
    float max = x[0], sum = 0.0f;

    for (size_t i = 1; i < n; i++)
        if (x[i] > max)
            max = x[i];
    for (size_t i = 0; i < n; i++) {
        x[i] = aios_expf(x[i] - max);
        sum = sum + x[i];
    }
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] / sum;
}

/* ---------------------------------------------------------------- the checks */

static float fa[MAX_ROWS * (MAX_N + 8)], fb[MAX_N + 8], fc[MAX_N + 8], fd[MAX_N + 8];
static float out[MAX_N + 8], want[MAX_N + 8];
static int8_t qa[MAX_ROWS * MAX_N], qb[MAX_N];
static float sa[MAX_ROWS * MAX_N], sb[MAX_N];

static void check_f32_rows(void)
{
    static const size_t lengths[] = { 0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 33, 48, 64,
                                      100, 288 };

    for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
        size_t n = lengths[li], stride = n + (li % 3);

        for (size_t i = 0; i < MAX_ROWS * stride; i++)
            fa[i] = uniform(-1.0f, 1.0f) * 100.0f;
        for (size_t i = 0; i < n; i++)
            fb[i] = uniform(-1.0f, 1.0f);
        for (size_t rows = 0; rows <= MAX_ROWS; rows++) {
            aios_dot_f32_rows(out, fa, stride, fb, n, rows);
            for (size_t r = 0; r < rows; r++)
                expect("dot_f32_rows", n, rows, r, out[r], ref_dot(fa + r * stride, fb, n));
        }
        for (size_t lo = 0; lo <= 4; lo++) {
            for (size_t r = 0; r < MAX_ROWS; r++)
                out[r] = -1.0f;
            aios_matvec_f32_rows(out, fa, fb, n, lo, MAX_ROWS);
            for (size_t r = 0; r < MAX_ROWS; r++)
                expect("matvec_f32_rows", n, lo, r, out[r],
                       r < lo ? -1.0f : ref_dot(fa + r * n, fb, n));
        }
        expect("dot_f32", n, 0, 0, aios_dot_f32(fa, fb, n), ref_dot(fa, fb, n));
    }
}

static void check_q8_rows(void)
{
    static const size_t group_sizes[] = { 4, 8, 12, 16, 32, 48, 64, 128 };

    for (size_t gi = 0; gi < sizeof(group_sizes) / sizeof(group_sizes[0]); gi++) {
        size_t gs = group_sizes[gi];

        for (size_t groups = 1; groups <= 10 && groups * gs <= MAX_N; groups++) {
            size_t n = groups * gs;

            for (size_t i = 0; i < MAX_ROWS * n; i++)
                qa[i] = (int8_t)(next_u32() >> 24);   /* -128 included */
            for (size_t i = 0; i < n; i++)
                qb[i] = (int8_t)((int)(next_u32() % 255) - 127);
            for (size_t g = 0; g < MAX_ROWS * groups; g++)
                sa[g] = uniform(-0.02f, 0.02f);
            for (size_t g = 0; g < groups; g++)
                sb[g] = uniform(0.0f, 0.05f);
            for (size_t lo = 0; lo <= 2; lo++) {
                for (size_t hi = lo; hi <= MAX_ROWS; hi++) {
                    for (size_t r = 0; r < MAX_ROWS; r++)
                        out[r] = -1.0f;
                    aios_matvec_q8_rows(out, qa, sa, qb, sb, n, gs, lo, hi);
                    for (size_t r = 0; r < MAX_ROWS; r++)
                        expect("matvec_q8_rows", gs, groups, r, out[r],
                               r < lo || r >= hi ? -1.0f
                                                 : ref_q8(qa + r * n, sa + r * groups, qb, sb,
                                                          n, gs));
                }
            }
            expect("dot_q8", gs, groups, 0, aios_dot_q8(qa, sa, qb, sb, n, gs),
                   ref_q8(qa, sa, qb, sb, n, gs));
        }
    }
}

static void check_elementwise(void)
{
    static const size_t lengths[] = { 0, 1, 3, 4, 5, 8, 15, 16, 17, 31, 48, 63, 64, 65, 100,
                                      200, 768 };

    for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
        size_t n = lengths[li];

        /* The weighted sum of attention: count rows of n values, stride apart. */
        for (size_t count = 0; count <= 7; count++) {
            size_t stride = n + 3;

            for (size_t i = 0; i < count * stride; i++)
                fa[i] = uniform(-2.0f, 2.0f);
            for (size_t t = 0; t < count; t++)
                fb[t] = uniform(0.0f, 1.0f);
            aios_weighted_sum(out, fb, fa, stride, n, count);
            for (size_t i = 0; i < n; i++) {
                float v = 0.0f;

                for (size_t t = 0; t < count; t++)
                    v = v + fb[t] * fa[t * stride + i];
                expect("weighted_sum", n, count, i, out[i], v);
            }
        }

        /* exp, SwiGLU, element-wise add, RMSNorm */
        for (size_t i = 0; i < n; i++) {
            fa[i] = special_or(uniform(-110.0f, 95.0f));
            fb[i] = special_or(uniform(-12.0f, 12.0f));
            fc[i] = uniform(-3.0f, 3.0f);
            fd[i] = uniform(0.9f, 1.1f);
        }
        aios_expf_n(out, fa, n);
        for (size_t i = 0; i < n; i++)
            expect("expf_n", n, i, 0, out[i], aios_expf(fa[i]));
        memcpy(out, fb, n * sizeof(float));
        aios_swiglu(out, fc, n);
        for (size_t i = 0; i < n; i++)
            expect("swiglu", n, i, 0, out[i], (fb[i] / (1.0f + aios_expf(-fb[i]))) * fc[i]);
        memcpy(out, fc, n * sizeof(float));
        aios_add(out, fb, n);
        for (size_t i = 0; i < n; i++)
            expect("add", n, i, 0, out[i], fc[i] + fb[i]);
        if (n > 0) {
            float inv = 1.0f / aios_sqrtf(ref_dot(fc, fc, n) / (float)n + 1e-5f);

            aios_rmsnorm(out, fc, fd, n);
            for (size_t i = 0; i < n; i++)
                expect("rmsnorm", n, i, 0, out[i], fd[i] * (inv * fc[i]));
        }

        /* Softmax: scores, some with ties, signed zeros, a NaN or an infinity. */
        for (int variant = 0; variant < 4 && n > 0; variant++) {
            for (size_t i = 0; i < n; i++) {
                fa[i] = variant == 1 ? (float)(int)uniform(-3.0f, 3.0f) * 0.0f
                                     : uniform(-20.0f, 20.0f);
                if (variant == 2)
                    fa[i] = special_or(fa[i]);
            }
            if (variant == 3)
                fa[0] = __builtin_nanf("");
            memcpy(out, fa, n * sizeof(float));
            memcpy(want, fa, n * sizeof(float));
            aios_softmax(out, n);
            ref_softmax(want, n);
            for (size_t i = 0; i < n; i++)
                expect("softmax", n, (size_t)variant, i, out[i], want[i]);
        }
    }
}

/* aios_expf_n over a sweep of [-120, 100] and the edges of its range, 4 lanes at a time
 * and in the scalar tail. */
static void check_exp(void)
{
    static const float edges[] = { -104.0f, -103.97208f, -103.9721f, -87.33655f, -0.0f, 0.0f,
                                   88.72283f, 88.72284f, 89.0f, 89.00001f, 1e-30f, -1e-30f };
    size_t n = 0;

    for (int i = 0; i <= 4000; i++)
        fa[n++] = -120.0f + 220.0f * (float)i / 4000.0f + uniform(0.0f, 0.05f);
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
        fa[n++] = edges[i];
    for (size_t i = 0; i < n; i += 1000) {
        size_t m = n - i < 1000 ? n - i : 1000;

        aios_expf_n(out, fa + i, m);
        for (size_t k = 0; k < m; k++)
            expect("expf_n sweep", i + k, 0, 0, out[k], aios_expf(fa[i + k]));
    }
}

static void check_rope(void)
{
    static const size_t head_sizes[] = { 2, 4, 6, 8, 10, 16, 48, 64 };

    for (size_t hi = 0; hi < sizeof(head_sizes) / sizeof(head_sizes[0]); hi++) {
        size_t hs = head_sizes[hi];

        for (size_t heads = 1; heads <= 3; heads++) {
            size_t n = hs * heads;

            for (size_t p = 0; p < hs / 2; p++) {
                fc[p] = uniform(-1.0f, 1.0f);
                fd[p] = uniform(-1.0f, 1.0f);
            }
            for (size_t i = 0; i < n; i++)
                fa[i] = out[i] = uniform(-4.0f, 4.0f);
            aios_rope(out, n, fc, fd, hs);
            for (size_t i = 0; i < n; i += 2) {
                size_t p = (i % hs) / 2;
                float a = fa[i], b = fa[i + 1];

                expect("rope", hs, heads, i, out[i], a * fc[p] - b * fd[p]);
                expect("rope", hs, heads, i + 1, out[i + 1], a * fd[p] + b * fc[p]);
            }
        }
    }
}

static void check_quantize(void)
{
    static const size_t group_sizes[] = { 4, 8, 16, 32, 64 };

    for (size_t gi = 0; gi < sizeof(group_sizes) / sizeof(group_sizes[0]); gi++) {
        size_t gs = group_sizes[gi], groups = 12, n = gs * groups;

        for (int variant = 0; variant < 3; variant++) {
            for (size_t g = 0; g < groups; g++) {
                float scale = uniform(0.01f, 4.0f) / 127.0f;

                if (variant == 1)   /* a power of two, so that ties below are exact */
                    scale = from_bits((uint32_t)(117 + next_u32() % 20) << 23);
                for (size_t i = g * gs; i < (g + 1) * gs; i++) {
                    /* Halves: x / s lands exactly on k + 0.5, the rounding's tie. */
                    float v = variant == 1 ? ((float)(int)uniform(-126.0f, 126.0f) + 0.5f) * scale
                                           : uniform(-1.0f, 1.0f) * 127.0f * scale;
                    fa[i] = variant == 2 ? special_or(v) : v;
                }
                if (variant == 1)
                    fa[g * gs + g % gs] = (g % 2 ? -127.0f : 127.0f) * scale;   /* s = scale */
            }
            /* A group of zeros, one of denormals (its scale underflows), and one whose
             * largest value is negative. */
            for (size_t i = 0; i < gs; i++) {
                fa[i] = 0.0f;
                fa[gs + i] = from_bits(1u + (uint32_t)i);
                fa[2 * gs + i] = -(float)(i + 1);
            }
            aios_quantize_q8(qa, sa, fa, n, gs);
            ref_quantize(qb, sb, fa, n, gs);
            for (size_t g = 0; g < groups; g++)
                expect("quantize scale", gs, (size_t)variant, g, sa[g], sb[g]);
            for (size_t i = 0; i < n; i++)
                expect_int("quantize", gs, i, qa[i], qb[i]);
        }
    }
}

static void check_argmax(void)
{
    static const int32_t lengths[] = { 1, 2, 3, 5, 15, 16, 17, 31, 32, 33, 64, 100, 1000 };

    for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
        int32_t n = lengths[li];

        for (int variant = 0; variant < 6; variant++) {
            for (int32_t i = 0; i < n; i++) {
                float v = uniform(-5.0f, 5.0f);

                switch (variant) {
                case 1: v = (float)(int)uniform(-2.0f, 3.0f); break;   /* ties */
                case 2: v = special_or(v); break;
                case 3: v = (next_u32() & 1) ? 0.0f : -0.0f; break;    /* signed zeros */
                case 4: v = __builtin_nanf(""); break;                 /* all NaN */
                case 5: v = (next_u32() % 3) ? __builtin_nanf("") : -__builtin_inff(); break;
                default: break;
                }
                fa[i] = v;
            }
            expect_int("argmax", (size_t)n, (size_t)variant, aios_argmax(fa, n),
                       ref_argmax(fa, n));
        }
    }
}

int aios_kernel_checks(void (*say)(const char *line))
{
    ck.say = say;
    ck.failures = 0;
    ck.rng = 0x853c49e6748fea9bull;
    check_f32_rows();
    check_q8_rows();
    check_elementwise();
    check_exp();
    check_rope();
    check_quantize();
    check_argmax();
    return ck.failures;
}
