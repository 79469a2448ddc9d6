/*
 * Unit tests for the libaios engine: the model loader (aios/lib/model.c), the math
 * without libm (aios_math.c), the kernels, the forward pass and the sampler.
 *
 * Model images are built here in memory from the format description (the layout is
 * written out again in this file, not taken from the loader): fp32 legacy and version 2
 * int8, with a shared or a separate classifier, grouped KV heads. The loader must accept
 * them and place each tensor where the format says; every malformed variant (truncated
 * at every length, trailing bytes, wrong magic and version, each parameter zero,
 * negative or absurd, heads not dividing dim, KV heads not dividing heads, an odd head
 * size, a group size not dividing dim or hidden_dim, a bad classifier flag, dirty
 * padding, a misaligned buffer or misaligned scales) must give AIOS_EINVAL and a message
 * naming the problem.
 *
 * aios_math is compared with glibc over the ranges the engine uses (at most 1 ulp
 * apart); aios_dot_f32 with the summation order kernels.h documents, bit for bit, and
 * every other kernel with its plain definition (tests/reference/kernel_checks.c). The
 * forward pass must be deterministic, refuse positions and tokens out of range, and give
 * bit-identical logits with executors splitting the work in 2 and 3 parts. The sampler:
 * greedy ties and NaNs, reproducibility from a seed, the distribution it draws from, and
 * the nucleus it keeps.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aios/aios_math.h"
#include "aios/common.h"
#include "aios/exec.h"
#include "aios/forward.h"
#include "aios/kernels.h"
#include "aios/model.h"
#include "aios/sampler.h"
#include "../reference/kernel_checks.h"

/* ---------------------------------------------------------------- building images */

struct shape {
    int32_t dim, hidden, layers, heads, kv_heads, vocab, seq;
    bool separate;     /* separate classifier */
    bool int8;
    int32_t group;
};

static const struct shape TINY = { 16, 24, 2, 4, 2, 40, 8, false, false, 0 };
static const struct shape TINY_SEP = { 16, 24, 2, 4, 4, 40, 8, true, false, 0 };
static const struct shape TINY_Q8 = { 16, 24, 2, 4, 2, 40, 8, false, true, 8 };
static const struct shape TINY_Q8_SEP = { 16, 24, 2, 4, 1, 40, 8, true, true, 4 };

struct image {
    unsigned char *bytes;   /* 64-byte aligned, with spare room after size */
    size_t size, cap;
    uint64_t rng;
};

static float rnd(struct image *im)
{
    im->rng ^= im->rng >> 12;
    im->rng ^= im->rng << 25;
    im->rng ^= im->rng >> 27;
    return (float)((im->rng * 0x2545f4914f6cdd1dull) >> 40) / 16777216.0f * 2.0f - 1.0f;
}

static void put(struct image *im, const void *p, size_t n)
{
    assert_true(im->size + n <= im->cap);
    memcpy(im->bytes + im->size, p, n);
    im->size += n;
}

static void put_i32(struct image *im, int32_t v)
{
    put(im, &v, 4);
}

static void put_floats(struct image *im, size_t n, float center, float scale)
{
    for (size_t i = 0; i < n; i++) {
        float v = center + scale * rnd(im);
        put(im, &v, 4);
    }
}

/* count matrices of rows x cols: fp32, or per matrix int8 values then fp32 scales. */
static void put_matrices(struct image *im, const struct shape *s, size_t count, size_t rows,
                         size_t cols)
{
    for (size_t m = 0; m < count; m++) {
        if (!s->int8) {
            put_floats(im, rows * cols, 0.0f, 1.0f / sqrtf((float)cols));
            continue;
        }
        for (size_t i = 0; i < rows * cols; i++) {
            int8_t q = (int8_t)(rnd(im) * 127.0f);
            put(im, &q, 1);
        }
        put_floats(im, rows * cols / (size_t)s->group, 1.0f / 127.0f / sqrtf((float)cols),
                   0.0f);
    }
}

static struct image build(const struct shape *s, uint64_t seed)
{
    struct image im = { .cap = 1 << 20, .rng = seed * 2654435761u + 1 };
    size_t D = (size_t)s->dim, H = (size_t)s->hidden, L = (size_t)s->layers;
    size_t KV = D / (size_t)s->heads * (size_t)s->kv_heads, V = (size_t)s->vocab;
    size_t HS = s->heads > 0 ? D / (size_t)s->heads : 0;

    im.bytes = aligned_alloc(64, im.cap);
    assert_non_null(im.bytes);
    memset(im.bytes, 0, im.cap);
    if (!s->int8) {
        int32_t h[7] = { s->dim, s->hidden, s->layers, s->heads, s->kv_heads,
                         s->separate ? -s->vocab : s->vocab, s->seq };
        put(&im, h, sizeof(h));
        put_matrices(&im, s, 1, V, D);
        put_floats(&im, L * D, 1.0f, 0.1f);
        put_matrices(&im, s, L, D, D);
        put_matrices(&im, s, L, KV, D);
        put_matrices(&im, s, L, KV, D);
        put_matrices(&im, s, L, D, D);
        put_floats(&im, L * D, 1.0f, 0.1f);
        put_matrices(&im, s, L, H, D);
        put_matrices(&im, s, L, D, H);
        put_matrices(&im, s, L, H, D);
        put_floats(&im, D, 1.0f, 0.1f);
        put_floats(&im, 2 * (size_t)s->seq * HS / 2, 0.0f, 1.0f);
        if (s->separate)
            put_matrices(&im, s, 1, V, D);
        return im;
    }
    put_i32(&im, (int32_t)0x616b3432);
    put_i32(&im, 2);
    int32_t h[7] = { s->dim, s->hidden, s->layers, s->heads, s->kv_heads, s->vocab, s->seq };
    put(&im, h, sizeof(h));
    unsigned char shared = s->separate ? 0 : 1;
    put(&im, &shared, 1);
    put_i32(&im, s->group);
    im.size = 256;
    put_floats(&im, L * D, 1.0f, 0.1f);
    put_floats(&im, L * D, 1.0f, 0.1f);
    put_floats(&im, D, 1.0f, 0.1f);
    put_matrices(&im, s, 1, V, D);
    put_matrices(&im, s, L, D, D);
    put_matrices(&im, s, L, KV, D);
    put_matrices(&im, s, L, KV, D);
    put_matrices(&im, s, L, D, D);
    put_matrices(&im, s, L, H, D);
    put_matrices(&im, s, L, D, H);
    put_matrices(&im, s, L, H, D);
    if (s->separate)
        put_matrices(&im, s, 1, V, D);
    return im;
}

static void set_i32(struct image *im, size_t off, int32_t v)
{
    memcpy(im->bytes + off, &v, 4);
}

static char err[256];

static int load(struct aios_model *m, const struct image *im)
{
    err[0] = '\0';
    return aios_model_load(m, im->bytes, im->size, err, sizeof(err));
}

/* The image must be refused with a message containing want. */
static void expect_refused(const struct image *im, const char *want)
{
    struct aios_model m;

    int rc = load(&m, im);
    if (rc != AIOS_EINVAL || strstr(err, want) == NULL)
        fail_msg("expected AIOS_EINVAL with \"%s\", got %d: \"%s\"", want, rc, err);
}

/* ---------------------------------------------------------------- the loader */

static void test_load_fp32(void **state)
{
    (void)state;
    struct image im = build(&TINY, 1);
    struct aios_model m;

    assert_int_equal(load(&m, &im), AIOS_OK);
    assert_int_equal(m.cfg.type, AIOS_WEIGHTS_F32);
    assert_int_equal(m.cfg.dim, 16);
    assert_int_equal(m.cfg.head_size, 4);
    assert_int_equal(m.cfg.kv_dim, 8);
    assert_true(m.cfg.shared_classifier);
    const float *f = (const float *)(const void *)(im.bytes + 28);
    assert_ptr_equal(m.tok.f, f);
    f += 40 * 16;
    assert_ptr_equal(m.rms_att, f);
    f += 2 * 16;
    assert_ptr_equal(m.wq.f, f);
    f += 2 * 16 * 16;
    assert_ptr_equal(m.wk.f, f);
    f += 2 * 8 * 16 * 2 + 2 * 16 * 16;
    assert_ptr_equal(m.rms_ffn, f);
    f += 2 * 16;
    assert_ptr_equal(m.w1.f, f);
    f += 3 * 2 * 24 * 16;
    assert_ptr_equal(m.rms_final, f);
    assert_ptr_equal(m.wcls.f, m.tok.f);
    assert_ptr_equal(aios_matrix_f32(&m.w2, 1), m.w2.f + 16 * 24);
    free(im.bytes);

    im = build(&TINY_SEP, 2);
    assert_int_equal(load(&m, &im), AIOS_OK);
    assert_false(m.cfg.shared_classifier);
    assert_int_equal(m.cfg.vocab_size, 40);
    assert_ptr_equal(m.wcls.f, (const float *)(const void *)(im.bytes + im.size) - 40 * 16);
    free(im.bytes);
}

static void test_load_int8(void **state)
{
    (void)state;
    struct image im = build(&TINY_Q8, 3);
    struct aios_model m;

    assert_int_equal(load(&m, &im), AIOS_OK);
    assert_int_equal(m.cfg.type, AIOS_WEIGHTS_Q8);
    assert_int_equal(m.cfg.group_size, 8);
    assert_ptr_equal(m.rms_att, (const float *)(const void *)(im.bytes + 256));
    size_t off = 256 + (2 * 16 * 2 + 16) * 4;
    assert_ptr_equal(m.tok.q, (const int8_t *)(im.bytes + off));
    off += 40 * 16;
    assert_ptr_equal(m.tok.s, (const float *)(const void *)(im.bytes + off));
    off += 40 * 16 / 8 * 4;
    /* wq: layer 0's values, layer 0's scales, then layer 1's. */
    assert_ptr_equal(aios_matrix_q(&m.wq, 0), (const int8_t *)(im.bytes + off));
    assert_ptr_equal(aios_matrix_s(&m.wq, 0), (const float *)(const void *)(im.bytes + off + 256));
    assert_ptr_equal(aios_matrix_q(&m.wq, 1), (const int8_t *)(im.bytes + off + 256 + 32 * 4));
    assert_ptr_equal(m.wcls.q, m.tok.q);
    free(im.bytes);

    im = build(&TINY_Q8_SEP, 4);
    assert_int_equal(load(&m, &im), AIOS_OK);
    assert_false(m.cfg.shared_classifier);
    assert_int_equal(m.cfg.n_kv_heads, 1);
    assert_ptr_equal(m.wcls.s, (const float *)(const void *)(im.bytes + im.size) - 40 * 16 / 4);
    free(im.bytes);
}

static void test_truncated_and_extra(void **state)
{
    (void)state;
    const struct shape *shapes[] = { &TINY, &TINY_SEP, &TINY_Q8, &TINY_Q8_SEP };

    for (size_t k = 0; k < 4; k++) {
        struct image im = build(shapes[k], 5);
        size_t full = im.size;
        struct aios_model m;

        for (size_t n = 0; n < full; n++) {
            im.size = n;
            if (load(&m, &im) != AIOS_EINVAL || err[0] == '\0')
                fail_msg("shape %zu truncated to %zu bytes: accepted or silent", k, n);
        }
        im.size = full - 1;
        expect_refused(&im, "truncated");
        im.size = full + 1;
        expect_refused(&im, "trailing");
        im.size = full + 4;
        expect_refused(&im, "trailing");
        im.size = full;
        assert_int_equal(load(&m, &im), AIOS_OK);
        free(im.bytes);
    }
}

static void test_header_fields(void **state)
{
    (void)state;
    static const char *const names[7] = { "dim", "hidden_dim", "n_layers", "n_heads",
                                          "n_kv_heads", "vocab_size", "seq_len" };
    const int32_t bad[] = { 0, -1, 1 << 21, INT32_MAX, INT32_MIN };

    for (int v2 = 0; v2 < 2; v2++) {
        for (int field = 0; field < 7; field++) {
            for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
                struct image im = build(v2 ? &TINY_Q8 : &TINY, 6);
                /* Legacy: a negative vocab_size is the separate-classifier flag. */
                if (!v2 && field == 5 && bad[b] < 0 && bad[b] != INT32_MIN) {
                    free(im.bytes);
                    continue;
                }
                set_i32(&im, (v2 ? 8 : 0) + 4 * (size_t)field, bad[b]);
                if (!v2 && field == 0)
                    expect_refused(&im, "magic");   /* the first word is no dim at all */
                else
                    expect_refused(&im, names[field]);
                free(im.bytes);
            }
        }
    }
}

static void test_shape_rules(void **state)
{
    (void)state;
    struct image im;
    struct shape s;

    im = build(&TINY, 7);
    set_i32(&im, 12, 3);
    expect_refused(&im, "n_heads 3 does not divide dim 16");
    free(im.bytes);

    im = build(&TINY, 7);
    set_i32(&im, 16, 3);   /* kv heads 3, heads 4 */
    expect_refused(&im, "n_kv_heads 3 does not divide n_heads 4");
    free(im.bytes);

    im = build(&TINY, 7);
    set_i32(&im, 16, 5);   /* more kv heads than heads */
    expect_refused(&im, "n_kv_heads");
    free(im.bytes);

    s = TINY;
    s.heads = 16;          /* head size 1 */
    s.kv_heads = 16;
    im = build(&s, 7);
    expect_refused(&im, "odd");
    free(im.bytes);

    s = TINY;
    s.dim = 18;
    s.heads = 3;           /* head size 6: even, fine */
    s.kv_heads = 3;
    im = build(&s, 7);
    struct aios_model m;
    assert_int_equal(load(&m, &im), AIOS_OK);
    free(im.bytes);
}

static void test_int8_header(void **state)
{
    (void)state;
    struct image im;
    struct shape s;

    im = build(&TINY_Q8, 8);
    set_i32(&im, 0, 0x616b3433);   /* one letter off: neither format */
    expect_refused(&im, "magic");
    free(im.bytes);

    for (int32_t v = -1; v <= 3; v++) {
        if (v == 2)
            continue;
        im = build(&TINY_Q8, 8);
        set_i32(&im, 4, v);
        expect_refused(&im, "version");
        free(im.bytes);
    }

    im = build(&TINY_Q8, 8);
    im.bytes[36] = 2;
    expect_refused(&im, "shared_classifier");
    free(im.bytes);

    im = build(&TINY_Q8, 8);
    im.bytes[200] = 1;
    expect_refused(&im, "padding byte 200");
    free(im.bytes);

    const int32_t groups[] = { 0, -8, 1 << 20 };
    for (size_t g = 0; g < 3; g++) {
        im = build(&TINY_Q8, 8);
        set_i32(&im, 37, groups[g]);
        expect_refused(&im, "group size");
        free(im.bytes);
    }

    s = TINY_Q8;
    s.group = 3;           /* divides neither 16 nor 24 */
    im = build(&s, 8);
    expect_refused(&im, "group size 3 does not divide dim 16");
    free(im.bytes);

    s = TINY_Q8;
    s.hidden = 20;
    s.group = 8;           /* divides dim 16, not hidden 20 */
    im = build(&s, 8);
    expect_refused(&im, "group size 8 does not divide hidden_dim 20");
    free(im.bytes);

    s = (struct shape){ 6, 6, 1, 1, 1, 259, 4, false, true, 2 };   /* 259 * 6 values */
    im = build(&s, 8);
    expect_refused(&im, "not 4-byte aligned");
    free(im.bytes);

    s.vocab = 258;         /* 258 * 6 = 1548, a multiple of 4: aligned */
    im = build(&s, 8);
    struct aios_model m;
    assert_int_equal(load(&m, &im), AIOS_OK);
    free(im.bytes);
}

static void test_misaligned_buffer(void **state)
{
    (void)state;
    struct image im = build(&TINY, 9);
    struct aios_model m;

    memmove(im.bytes + 2, im.bytes, im.size);
    assert_int_equal(aios_model_load(&m, im.bytes + 2, im.size, err, sizeof(err)),
                     AIOS_EINVAL);
    assert_non_null(strstr(err, "aligned"));
    assert_int_equal(aios_model_load(&m, NULL, 0, err, sizeof(err)), AIOS_EINVAL);
    free(im.bytes);
}

static void test_quantize_roundtrip(void **state)
{
    (void)state;
    struct image im = build(&TINY_SEP, 10);
    struct aios_model m, q;
    size_t size;

    assert_int_equal(load(&m, &im), AIOS_OK);
    assert_int_equal(aios_model_quantize(&m, 5, NULL, &size, err, sizeof(err)), AIOS_EINVAL);
    assert_non_null(strstr(err, "group size 5 does not divide dim 16"));
    assert_int_equal(aios_model_quantize(&m, 8, NULL, &size, err, sizeof(err)), AIOS_OK);
    void *buf = aligned_alloc(64, (size + 63) & ~(size_t)63);
    size_t small = size - 1;
    assert_int_equal(aios_model_quantize(&m, 8, buf, &small, err, sizeof(err)), AIOS_ERANGE);
    assert_int_equal(aios_model_quantize(&m, 8, buf, &size, err, sizeof(err)), AIOS_OK);
    assert_int_equal(aios_model_load(&q, buf, size, err, sizeof(err)), AIOS_OK);
    assert_int_equal(q.cfg.group_size, 8);
    assert_false(q.cfg.shared_classifier);
    assert_memory_equal(q.rms_ffn, m.rms_ffn, 2 * 16 * sizeof(float));
    /* Each weight within half a step of its group's scale. */
    const struct aios_matrix *fm[] = { &m.wq, &m.w2, &m.wcls }, *qm[] = { &q.wq, &q.w2, &q.wcls };
    for (int k = 0; k < 3; k++)
        for (int32_t l = 0; l < (k == 2 ? 1 : 2); l++) {
            size_t n = (size_t)fm[k]->rows * (size_t)fm[k]->cols;
            const float *w = aios_matrix_f32(fm[k], l), *s = aios_matrix_s(qm[k], l);
            const int8_t *qv = aios_matrix_q(qm[k], l);
            for (size_t i = 0; i < n; i++)
                assert_true(fabsf(w[i] - (float)qv[i] * s[i / 8]) <= s[i / 8] * 0.5001f);
        }
    free(buf);
    free(im.bytes);
}

/* ---------------------------------------------------------------- math */

static int64_t ordered(float f)
{
    int32_t i;

    memcpy(&i, &f, 4);
    return i < 0 ? (int64_t)INT32_MIN - i : i;
}

static int64_t ulp_diff(float a, float b)
{
    if (isnan(a) && isnan(b))
        return 0;
    if (isnan(a) || isnan(b))
        return INT64_MAX;
    int64_t d = ordered(a) - ordered(b);
    return d < 0 ? -d : d;
}

#define CHECK_ULP(got, want, x)                                                          \
    do {                                                                                 \
        float g_ = (got), w_ = (want);                                                   \
        if (ulp_diff(g_, w_) > 1)                                                        \
            fail_msg("%s(%.9g) = %.9g, libm %.9g", #got, (double)(x), (double)g_,        \
                     (double)w_);                                                        \
    } while (0)

static void test_math_vs_libm(void **state)
{
    (void)state;
    struct image r = { .rng = 12345 };

    for (int i = 0; i < 400000; i++) {
        float u = (rnd(&r) + 1.0f) * 0.5f;   /* [0, 1) */
        /* exp over its whole finite range, and densely where softmax and SiLU live. */
        float x = -104.0f + u * 193.0f;
        CHECK_ULP(aios_expf(x), expf(x), x);
        x = -20.0f + u * 40.0f;
        CHECK_ULP(aios_expf(x), expf(x), x);
        /* log over many binades. */
        float y = ldexpf(0.5f + u, (int)(i % 250) - 125);
        CHECK_ULP(aios_logf(y), logf(y), y);
        /* RoPE frequencies: 10000^e, e in [0, 1); and general powers. */
        CHECK_ULP(aios_powf(10000.0f, u), powf(10000.0f, u), u);
        float b = ldexpf(0.5f + u, (i % 16) - 8), e = (float)((i % 257) - 128) / 16.0f;
        float p = powf(b, e);
        if (isfinite(p) && p != 0.0f)
            CHECK_ULP(aios_powf(b, e), p, b);
        /* sin and cos: small angles, and RoPE angles up to pos 2^20. */
        float a = (2.0f * u - 1.0f) * ldexpf(1.0f, (i % 24) - 3);
        CHECK_ULP(aios_sinf(a), sinf(a), a);
        CHECK_ULP(aios_cosf(a), cosf(a), a);
        a = (float)(i % 4096) * aios_powf(10000.0f, -u);
        CHECK_ULP(aios_sinf(a), sinf(a), a);
        CHECK_ULP(aios_cosf(a), cosf(a), a);
        float s, c;
        aios_sincosf(a, &s, &c);
        assert_true(s == aios_sinf(a) && c == aios_cosf(a));
    }
    /* Edges. */
    assert_true(isinf(aios_expf(89.0f)) && aios_expf(89.0f) > 0);
    assert_true(aios_expf(-200.0f) == 0.0f);
    assert_true(aios_expf(0.0f) == 1.0f);
    assert_true(isnan(aios_expf(NAN)));
    assert_true(aios_expf(-INFINITY) == 0.0f && isinf(aios_expf(INFINITY)));
    CHECK_ULP(aios_expf(88.72283f), expf(88.72283f), 88.72283f);
    CHECK_ULP(aios_expf(-100.0f), expf(-100.0f), -100.0f);
    assert_true(isnan(aios_logf(-1.0f)) && isinf(aios_logf(0.0f)));
    assert_true(aios_logf(1.0f) == 0.0f);
    assert_true(aios_powf(2.0f, 0.0f) == 1.0f && aios_powf(0.0f, 2.0f) == 0.0f);
    assert_true(isnan(aios_powf(-2.0f, 0.5f)));
    assert_true(isnan(aios_sinf(INFINITY)) && isnan(aios_cosf(NAN)));
    assert_true(isnan(aios_sinf(1e30f)));
    assert_true(aios_sinf(0.0f) == 0.0f && aios_cosf(0.0f) == 1.0f);
    assert_true(aios_sqrtf(2.0f) == sqrtf(2.0f));
}

/* ---------------------------------------------------------------- kernels */

static void test_dot_order(void **state)
{
    (void)state;
    struct image r = { .rng = 99 };
    float a[203], b[203];

    for (size_t i = 0; i < 203; i++) {
        a[i] = rnd(&r) * 1000.0f;
        b[i] = rnd(&r);
    }
    for (size_t n = 0; n <= 203; n++) {
        /* kernels.h's order, written out plainly. */
        volatile float lane[8] = { 0 };
        size_t full = n / 8 * 8;
        for (size_t i = 0; i < full; i++) {
            volatile float p = a[i] * b[i];
            lane[i % 8] = lane[i % 8] + p;
        }
        volatile float l04 = lane[0] + lane[4], l26 = lane[2] + lane[6];
        volatile float l15 = lane[1] + lane[5], l37 = lane[3] + lane[7];
        volatile float lo = l04 + l26, hi = l15 + l37;
        volatile float sum = lo + hi;
        for (size_t i = full; i < n; i++) {
            volatile float p = a[i] * b[i];
            sum = sum + p;
        }
        float got = aios_dot_f32(a, b, n);
        assert_memory_equal(&got, (const float *)&sum, sizeof(float));
    }
}

static void test_quantize_q8_kernel(void **state)
{
    (void)state;
    const float x[8] = { 127.0f, 63.5f, -63.5f, 0.4f, -0.6f, 1.5f, 0.0f, -127.0f };
    int8_t q[8];
    float s[2];

    aios_quantize_q8(q, s, x, 8, 4);
    assert_true(s[0] == 127.0f / 127.0f);
    assert_int_equal(q[0], 127);
    assert_int_equal(q[1], 64);    /* halves away from zero */
    assert_int_equal(q[2], -64);
    assert_int_equal(q[3], 0);
    assert_int_equal(q[4], -1);
    assert_int_equal(q[5], 2);
    assert_int_equal(q[7], -127);

    const float zeros[4] = { 0 }, nans[4] = { NAN, 1.0f, -2.0f, NAN };
    aios_quantize_q8(q, s, zeros, 4, 4);
    assert_true(s[0] == 0.0f);
    assert_int_equal(q[0] | q[1] | q[2] | q[3], 0);
    aios_quantize_q8(q, s, nans, 4, 4);
    assert_int_equal(q[0], 0);
    assert_int_equal(q[2], -127);

    /* Q8 dot product: groups in order, the int dot exact. */
    int8_t aq[8] = { 1, 2, 3, 4, -5, -6, 7, 8 }, bq[8] = { 1, 1, 1, 1, 2, 2, 2, 2 };
    float as[2] = { 0.5f, 0.25f }, bs[2] = { 2.0f, 4.0f };
    assert_true(aios_dot_q8(aq, as, bq, bs, 8, 4) == 10.0f * 0.5f * 2.0f + 8.0f * 0.25f * 4.0f);
    assert_int_equal(aios_dot_i8(aq, bq, 8), 18);
    int8_t big[64];
    memset(big, -128, sizeof(big));
    assert_int_equal(aios_dot_i8(big, big, 64), 64 * 16384);
}

static void say_line(const char *line)
{
    print_message("%s\n", line);
}

/* Every kernel's fast path (here SSE2 and plain C; arm64-logits --kernels runs the same
 * checks on NEON) against its plain definition, bit for bit. */
static void test_kernels_match_definitions(void **state)
{
    (void)state;
    assert_int_equal(aios_kernel_checks(say_line), 0);
}

/* ---------------------------------------------------------------- forward */

struct run {
    struct image im;
    struct aios_model m;
    struct aios_state s;
    struct aios_arena arena;
    void *mem;
};

static void run_open(struct run *r, const struct shape *sh, uint64_t seed)
{
    r->im = build(sh, seed);
    assert_int_equal(load(&r->m, &r->im), AIOS_OK);
    size_t need = aios_state_size(&r->m);
    r->mem = malloc(need);
    aios_arena_init(&r->arena, r->mem, need);
    assert_int_equal(aios_state_init(&r->s, &r->m, &r->arena, err, sizeof(err)), AIOS_OK);
}

static void run_close(struct run *r)
{
    free(r->mem);
    free(r->im.bytes);
}

/* Runs the parts one after another, last first, to show the order does not matter. */
static void serial_parts(struct aios_exec *e, aios_task_fn fn, void *arg)
{
    int *calls = e->ctx;

    for (int p = e->nparts - 1; p >= 0; p--)
        fn(arg, p, e->nparts);
    (*calls)++;
}

static const struct shape *const FORWARD_SHAPES[] = { &TINY, &TINY_SEP, &TINY_Q8, &TINY_Q8_SEP };

static void test_forward_deterministic(void **state)
{
    (void)state;
    for (size_t k = 0; k < 4; k++) {
        struct run a, b;
        run_open(&a, FORWARD_SHAPES[k], 20);
        run_open(&b, FORWARD_SHAPES[k], 20);
        const int32_t tokens[8] = { 1, 7, 39, 0, 12, 12, 3, 25 };
        for (int32_t pos = 0; pos < 8; pos++) {
            const float *la = aios_forward(&a.s, tokens[pos], pos, NULL);
            const float *lb = aios_forward(&b.s, tokens[pos], pos, NULL);
            assert_non_null(la);
            assert_non_null(lb);
            assert_memory_equal(la, lb, 40 * sizeof(float));
            float sum = 0;
            for (int i = 0; i < 40; i++) {
                assert_true(isfinite(la[i]));
                sum += fabsf(la[i]);
            }
            assert_true(sum > 0.0f);
        }
        /* Restarting at position 0 gives the first logits again. */
        float first[40];
        memcpy(first, aios_forward(&b.s, 1, 0, NULL), sizeof(first));
        struct run c;
        run_open(&c, FORWARD_SHAPES[k], 20);
        assert_memory_equal(first, aios_forward(&c.s, 1, 0, NULL), sizeof(first));
        run_close(&a);
        run_close(&b);
        run_close(&c);
    }
}

static void test_forward_refuses(void **state)
{
    (void)state;
    struct run r;

    run_open(&r, &TINY, 21);
    assert_null(aios_forward(&r.s, 1, 8, NULL));   /* seq_len 8 */
    assert_null(aios_forward(&r.s, 1, -1, NULL));
    assert_null(aios_forward(&r.s, 40, 0, NULL));  /* vocab 40 */
    assert_null(aios_forward(&r.s, -1, 0, NULL));
    assert_non_null(aios_forward(&r.s, 39, 7, NULL));

    /* A state that does not fit the arena: ENOMEM, arena untouched. */
    unsigned char small[256];
    struct aios_arena arena;
    struct aios_state s;
    aios_arena_init(&arena, small, sizeof(small));
    arena.used = 8;
    assert_int_equal(aios_state_init(&s, &r.m, &arena, err, sizeof(err)), AIOS_ENOMEM);
    assert_int_equal(arena.used, 8);
    assert_non_null(strstr(err, "state"));
    run_close(&r);
}

static void test_forward_parallel_identical(void **state)
{
    (void)state;
    for (size_t k = 0; k < 4; k++) {
        struct run ref, two, three;
        int calls2 = 0, calls3 = 0;
        struct aios_exec e2 = { serial_parts, 2, &calls2 }, e3 = { serial_parts, 3, &calls3 };

        run_open(&ref, FORWARD_SHAPES[k], 30 + k);
        run_open(&two, FORWARD_SHAPES[k], 30 + k);
        run_open(&three, FORWARD_SHAPES[k], 30 + k);
        for (int32_t pos = 0; pos < 8; pos++) {
            int32_t tok = (pos * 17 + 3) % 40;
            const float *l1 = aios_forward(&ref.s, tok, pos, NULL);
            const float *l2 = aios_forward(&two.s, tok, pos, &e2);
            const float *l3 = aios_forward(&three.s, tok, pos, &e3);
            assert_memory_equal(l1, l2, 40 * sizeof(float));
            assert_memory_equal(l1, l3, 40 * sizeof(float));
        }
        assert_true(calls2 > 0 && calls2 == calls3);
        run_close(&ref);
        run_close(&two);
        run_close(&three);
    }
}

/* The int8 engine on a quantized copy stays near the fp32 engine. */
static void test_forward_int8_close(void **state)
{
    (void)state;
    struct run f;
    struct aios_model q;
    struct aios_state qs;
    size_t size;

    run_open(&f, &TINY_SEP, 40);
    assert_int_equal(aios_model_quantize(&f.m, 8, NULL, &size, err, sizeof(err)), AIOS_OK);
    void *buf = aligned_alloc(64, (size + 63) & ~(size_t)63);
    assert_int_equal(aios_model_quantize(&f.m, 8, buf, &size, err, sizeof(err)), AIOS_OK);
    assert_int_equal(aios_model_load(&q, buf, size, err, sizeof(err)), AIOS_OK);
    void *mem = malloc(aios_state_size(&q));
    struct aios_arena arena;
    aios_arena_init(&arena, mem, aios_state_size(&q));
    assert_int_equal(aios_state_init(&qs, &q, &arena, err, sizeof(err)), AIOS_OK);
    for (int32_t pos = 0; pos < 8; pos++) {
        const float *lf = aios_forward(&f.s, pos + 1, pos, NULL);
        const float *lq = aios_forward(&qs, pos + 1, pos, NULL);
        double diff = 0, mag = 0;
        for (int i = 0; i < 40; i++) {
            diff = fmax(diff, fabs((double)lf[i] - lq[i]));
            mag = fmax(mag, fabs((double)lf[i]));
        }
        assert_true(diff < 0.1 * mag);
    }
    free(mem);
    free(buf);
    run_close(&f);
}

/* ---------------------------------------------------------------- sampler */

static unsigned char sampler_mem[1 << 16];

static void sampler_open(struct aios_sampler *s, int32_t n, float t, float p, uint64_t seed)
{
    struct aios_arena arena;

    aios_arena_init(&arena, sampler_mem, sizeof(sampler_mem));
    assert_int_equal(aios_sampler_init(s, n, t, p, seed, &arena, err, sizeof(err)), AIOS_OK);
}

static void test_sampler_greedy(void **state)
{
    (void)state;
    struct aios_sampler s;
    float l[6] = { 1.0f, 3.0f, -2.0f, 3.0f, 2.9f, 0.0f };

    sampler_open(&s, 6, 0.0f, 0.9f, 1);
    assert_int_equal(aios_sample(&s, l), 1);   /* the lowest of the tied maxima */
    assert_true(l[1] == 3.0f);                 /* greedy leaves the logits alone */
    float n[4] = { NAN, -1.0f, NAN, 5.0f };
    assert_int_equal(aios_argmax(n, 4), 3);
    float all_nan[2] = { NAN, NAN };
    assert_int_equal(aios_argmax(all_nan, 2), 0);
    float inf[3] = { 0.0f, INFINITY, INFINITY };
    assert_int_equal(aios_argmax(inf, 3), 1);

    /* Split over 2 to 7 parts: the same index as one pass, whichever part holds it,
     * with ties across parts, NaN-only parts and signed zeros. */
    float v[97];
    int calls = 0;
    uint64_t rng = 5;
    for (int trial = 0; trial < 400; trial++) {
        int32_t len = 1 + (int32_t)(aios_random_u32(&rng) % 97);
        for (int32_t i = 0; i < len; i++) {
            uint32_t r = aios_random_u32(&rng);
            v[i] = r % 5 == 0 ? NAN : r % 7 == 0 ? -0.0f : (float)(int)(r % 9) - 4.0f;
            if (trial % 50 == 0)
                v[i] = NAN;
        }
        for (int parts = 2; parts <= 7; parts++) {
            struct aios_exec e = { serial_parts, parts, &calls };
            assert_int_equal(aios_argmax_exec(v, len, &e), aios_argmax(v, len));
        }
    }
    assert_true(calls > 0);

    struct aios_arena arena;
    aios_arena_init(&arena, sampler_mem, 16);
    assert_int_equal(aios_sampler_init(&s, 100, 1.0f, 0.9f, 1, &arena, err, sizeof(err)),
                     AIOS_ENOMEM);
    aios_arena_init(&arena, sampler_mem, sizeof(sampler_mem));
    assert_int_equal(aios_sampler_init(&s, 0, 1.0f, 0.9f, 1, &arena, err, sizeof(err)),
                     AIOS_EINVAL);
    assert_int_equal(aios_sampler_init(&s, 4, -1.0f, 0.9f, 1, &arena, err, sizeof(err)),
                     AIOS_EINVAL);
    assert_int_equal(aios_sampler_init(&s, 4, NAN, 0.9f, 1, &arena, err, sizeof(err)),
                     AIOS_EINVAL);
    assert_int_equal(aios_sampler_init(&s, 4, 1.0f, 1.5f, 1, &arena, err, sizeof(err)),
                     AIOS_EINVAL);
}

/* Draw 'draws' tokens from fixed logits; counts per token. */
static void histogram(float t, float p, uint64_t seed, const float *logits, int32_t n,
                      int draws, int *count)
{
    struct aios_sampler s;
    float l[16];

    sampler_open(&s, n, t, p, seed);
    memset(count, 0, (size_t)n * sizeof(int));
    for (int d = 0; d < draws; d++) {
        memcpy(l, logits, (size_t)n * sizeof(float));
        int32_t tok = aios_sample(&s, l);
        assert_true(tok >= 0 && tok < n);
        count[tok]++;
    }
}

static void test_sampler_distribution(void **state)
{
    (void)state;
    /* probabilities 0.5, 0.3, 0.15, 0.05 */
    const float logits[4] = { logf(0.5f), logf(0.3f), logf(0.15f), logf(0.05f) };
    int c1[4], c2[4];

    histogram(1.0f, 0.0f, 7, logits, 4, 20000, c1);
    const double want[4] = { 0.5, 0.3, 0.15, 0.05 };
    for (int i = 0; i < 4; i++)
        assert_true(fabs(c1[i] / 20000.0 - want[i]) < 0.015);

    /* Same seed, same draws; another seed, other draws. */
    histogram(1.0f, 0.0f, 7, logits, 4, 20000, c2);
    assert_memory_equal(c1, c2, sizeof(c1));
    histogram(1.0f, 0.0f, 8, logits, 4, 20000, c2);
    assert_memory_not_equal(c1, c2, sizeof(c1));
    struct aios_sampler a, b;
    float la[4], lb[4];
    sampler_open(&a, 4, 1.0f, 0.9f, 0);   /* seed 0 is usable too */
    memcpy(la, logits, sizeof(la));
    (void)aios_sample(&a, la);
    sampler_open(&b, 4, 1.0f, 0.9f, 0);
    memcpy(lb, logits, sizeof(lb));
    (void)aios_sample(&b, lb);
    assert_memory_equal(la, lb, sizeof(la));

    /* Top-p 0.7: the nucleus is {0, 1} (0.5 + 0.3 > 0.7), drawn 5:3. */
    histogram(1.0f, 0.7f, 9, logits, 4, 20000, c1);
    assert_int_equal(c1[2] + c1[3], 0);
    assert_true(fabs(c1[0] / 20000.0 - 0.625) < 0.015);
    /* Top-p 0.85: {0, 1, 2}. */
    histogram(1.0f, 0.85f, 9, logits, 4, 20000, c1);
    assert_int_equal(c1[3], 0);
    assert_true(c1[2] > 0);
    /* Top-p 0.4: only the most likely. */
    histogram(1.0f, 0.4f, 9, logits, 4, 1000, c1);
    assert_int_equal(c1[0], 1000);

    /* Low temperature concentrates on the argmax, high flattens. */
    histogram(0.05f, 0.0f, 10, logits, 4, 2000, c1);
    assert_true(c1[0] > 1990);
    histogram(100.0f, 0.0f, 10, logits, 4, 20000, c1);
    for (int i = 0; i < 4; i++)
        assert_true(fabs(c1[i] / 20000.0 - 0.25) < 0.02);

    /* Ties in the nucleus are ordered by id: with equal probabilities and top-p 0.45, the
     * two lowest ids form the nucleus (0.25 + 0.25 > 0.45). */
    const float flat[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
    histogram(1.0f, 0.45f, 11, flat, 4, 4000, c1);
    assert_int_equal(c1[2] + c1[3], 0);
    assert_true(c1[0] > 1800 && c1[1] > 1800);

    /* NaN logits still give a token in range. */
    float bad[4] = { NAN, NAN, NAN, NAN };
    struct aios_sampler s;
    sampler_open(&s, 4, 1.0f, 0.9f, 3);
    int32_t tok = aios_sample(&s, bad);
    assert_true(tok >= 0 && tok < 4);
    sampler_open(&s, 4, 1.0f, 0.0f, 3);
    bad[0] = bad[1] = bad[2] = bad[3] = NAN;
    tok = aios_sample(&s, bad);
    assert_true(tok >= 0 && tok < 4);
}

static int by_prob_then_id(const void *a, const void *b)
{
    const struct aios_prob_index *x = a, *y = b;

    if (x->prob != y->prob)
        return x->prob > y->prob ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The nucleus as llama2.c builds it (qsort of the candidates), to check the heap. */
static int32_t reference_topp(const float *probs, int32_t n, float topp, float coin)
{
    struct aios_prob_index c[64];
    float cutoff = (1.0f - topp) / (float)(n - 1), cumulative = 0.0f, cdf = 0.0f;
    int count = 0, last;

    for (int32_t i = 0; i < n; i++)
        if (probs[i] >= cutoff)
            c[count++] = (struct aios_prob_index){ probs[i], i };
    if (count == 0)   /* topp below the top probability: the nucleus is the top token */
        return aios_argmax(probs, n);
    qsort(c, (size_t)count, sizeof(c[0]), by_prob_then_id);
    last = count - 1;
    for (int i = 0; i < count; i++) {
        cumulative += c[i].prob;
        if (cumulative > topp) {
            last = i;
            break;
        }
    }
    for (int i = 0; i <= last; i++) {
        cdf += c[i].prob;
        if (coin * cumulative < cdf)
            return c[i].index;
    }
    return c[last].index;
}

static void test_sampler_topp_matches_sort(void **state)
{
    (void)state;
    struct image r = { .rng = 4242 };

    for (int trial = 0; trial < 5000; trial++) {
        int32_t n = 2 + trial % 60;
        float logits[64], probs[64];
        float topp = 0.05f + 0.9f * (rnd(&r) + 1.0f) * 0.5f;
        uint64_t seed = (uint64_t)trial + 1;

        /* Few distinct values, so ties are common. */
        for (int32_t i = 0; i < n; i++)
            logits[i] = (float)(int)(rnd(&r) * 3.0f);
        memcpy(probs, logits, sizeof(logits));
        aios_softmax(probs, (size_t)n);
        uint64_t rng = seed;
        float coin = aios_random_f32(&rng);

        struct aios_sampler s;
        sampler_open(&s, n, 1.0f, topp, seed);
        int32_t got = aios_sample(&s, logits);
        assert_int_equal(got, reference_topp(probs, n, topp, coin));
    }
}

static void test_random(void **state)
{
    (void)state;
    uint64_t s = 1;
    uint32_t first = aios_random_u32(&s);
    /* xorshift64* from state 1: computed independently (state 1 -> 0x2000001, ...). */
    uint64_t x = 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    assert_int_equal(first, (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32));
    for (int i = 0; i < 100000; i++) {
        float f = aios_random_f32(&s);
        assert_true(f >= 0.0f && f < 1.0f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_fp32),
        cmocka_unit_test(test_load_int8),
        cmocka_unit_test(test_truncated_and_extra),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_shape_rules),
        cmocka_unit_test(test_int8_header),
        cmocka_unit_test(test_misaligned_buffer),
        cmocka_unit_test(test_quantize_roundtrip),
        cmocka_unit_test(test_math_vs_libm),
        cmocka_unit_test(test_dot_order),
        cmocka_unit_test(test_quantize_q8_kernel),
        cmocka_unit_test(test_kernels_match_definitions),
        cmocka_unit_test(test_forward_deterministic),
        cmocka_unit_test(test_forward_refuses),
        cmocka_unit_test(test_forward_parallel_identical),
        cmocka_unit_test(test_forward_int8_close),
        cmocka_unit_test(test_sampler_greedy),
        cmocka_unit_test(test_sampler_distribution),
        cmocka_unit_test(test_sampler_topp_matches_sort),
        cmocka_unit_test(test_random),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
