/*
 * Unit tests for the sentence encoder (aios/lib/encoder.c) and its trainer
 * (tools/encoder_train.c).
 *
 * Training: two runs in this process on a tiny corpus with the same seed (and a synonym
 * table, so augmentation runs) write byte-identical fp32 and int8 files; another seed
 * writes different ones; the trained encoder puts each training sentence nearest to its
 * own intent.
 *
 * The loader: a valid file loads; a file truncated at many lengths, with a bad magic,
 * version, header size, encoding, bucket count, dim, out_dim, n-gram range, flags,
 * word weight, member count, reserved bytes, body size, trailing data, a corrupt body
 * (checksum) or at a misaligned address is refused with AIOS_EINVAL and a message naming
 * the problem.
 *
 * Embedding: deterministic to the bit, unit length, the documented formula on a
 * hand-made file (one member and two), int8 within cosine 0.99 of fp32 (measured:
 * >= 0.999), case and punctuation ignored, digit runs folded, empty and punctuation-only
 * text give the zero vector, very long text, non-ASCII and malformed UTF-8 are fine, a
 * too-small scratch arena gives AIOS_ENOMEM and every call hands its scratch back.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aios/encoder.h"
#include "encoder_pretrain.h"
#include "encoder_train.h"

static const struct enc_example corpus[] = {
    { "set a timer for 5 minutes", 0 },     { "start a countdown of 30 seconds", 0 },
    { "timer 10 minutes please", 0 },       { "remind me in an hour", 0 },
    { "wake me up in 20 minutes", 0 },      { "set an alarm for 7 minutes", 0 },
    { "delete notes.txt", 1 },              { "remove the file todo.txt", 1 },
    { "erase draft.txt please", 1 },        { "get rid of log.txt", 1 },
    { "trash the file ideas.md", 1 },       { "please delete report.txt", 1 },
    { "what is the temperature", 2 },       { "how much memory is free", 2 },
    { "show cpu usage", 2 },                { "how long has the system been up", 2 },
    { "is the disk full", 2 },              { "show the partitions", 2 },
};
#define N_CORPUS (sizeof(corpus) / sizeof(corpus[0]))
/* The small encoders' vectors: two members of 24. */
#define EDIM 48

static void small_opts(struct enc_train_opts *o, uint64_t seed)
{
    enc_train_defaults(o);
    o->p.buckets = 4096;
    o->p.dim = 32;
    o->p.out_dim = 24;
    o->p.members = 2;
    o->aug_drop = 0.3f;   /* word dropout too, so the deterministic tests cover it */
    o->epochs = 15;
    o->seed = seed;
}

static void synonyms(struct enc_subst *s)
{
    memset(s, 0, sizeof(*s));
    enc_subst_add(s, "delete", "erase");
    enc_subst_add(s, "delete", "wipe off");
    enc_subst_add(s, "remove", "take away");
    enc_subst_add(s, "timer", "clock");
    enc_subst_add(s, "delete", "erase");     /* a duplicate, kept once */
    enc_subst_add(s, "temperature", "hot");
    enc_subst_finish(s);
}

static unsigned char *train_file(uint64_t seed, int encoding, size_t *size)
{
    struct enc_train_opts o;
    struct enc_subst s;
    struct enc_model m;
    char err[256];

    small_opts(&o, seed);
    synonyms(&s);
    assert_int_equal(enc_train(corpus, N_CORPUS, 3, &o, &s, &m, err, sizeof(err)), 0);
    unsigned char *f = enc_model_file(&m, encoding, size, err, sizeof(err));
    assert_non_null(f);
    enc_model_free(&m);
    enc_subst_free(&s);
    return f;
}

static unsigned char scratch_mem[1 << 16];

static void embed(const struct aios_encoder *e, const char *text, float *out)
{
    struct aios_arena a;

    aios_arena_init(&a, scratch_mem, sizeof(scratch_mem));
    assert_int_equal(aios_encoder_embed(e, text, out, &a), AIOS_OK);
    assert_int_equal(a.used, 0);
}

static float norm(const float *v, size_t n)
{
    double s = 0;

    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return (float)sqrt(s);
}

/* ---------------------------------------------------------------- training */

static void test_subst_table(void **state)
{
    struct enc_subst s;
    int n;

    (void)state;
    synonyms(&s);
    char **d = enc_subst_find(&s, "delete", &n);
    assert_non_null(d);
    assert_int_equal(n, 2);
    assert_string_equal(d[0], "erase");
    assert_string_equal(d[1], "wipe off");
    assert_null(enc_subst_find(&s, "nothing", &n));
    assert_int_equal(n, 0);
    enc_subst_free(&s);
}

static void test_training_deterministic(void **state)
{
    (void)state;
    for (int enc = AIOS_ENC_FP32; enc <= AIOS_ENC_INT8; enc++) {
        size_t a_size, b_size, c_size;
        unsigned char *a = train_file(7, enc, &a_size);
        unsigned char *b = train_file(7, enc, &b_size);
        unsigned char *c = train_file(8, enc, &c_size);
        assert_int_equal(a_size, b_size);
        assert_memory_equal(a, b, a_size);
        assert_int_equal(a_size, c_size);
        assert_memory_not_equal(a + AIOS_ENC_HEADER_SIZE, c + AIOS_ENC_HEADER_SIZE,
                                a_size - AIOS_ENC_HEADER_SIZE);
        free(a);
        free(b);
        free(c);
    }
}

static void test_training_separates_intents(void **state)
{
    size_t size;
    unsigned char *f = train_file(3, AIOS_ENC_FP32, &size);
    struct aios_encoder e;
    char err[128];
    float v[N_CORPUS][EDIM];

    (void)state;
    assert_int_equal(aios_encoder_load(&e, f, size, err, sizeof(err)), AIOS_OK);
    assert_int_equal(aios_encoder_dim(&e), EDIM);
    for (size_t i = 0; i < N_CORPUS; i++)
        embed(&e, corpus[i].text, v[i]);
    /* Leave-one-out nearest neighbour over the training sentences. */
    int right = 0;
    for (size_t i = 0; i < N_CORPUS; i++) {
        size_t best = i == 0 ? 1 : 0;
        for (size_t j = 0; j < N_CORPUS; j++)
            if (j != i &&
                aios_encoder_cosine(v[i], v[j], EDIM) > aios_encoder_cosine(v[i], v[best], EDIM))
                best = j;
        right += corpus[best].label == corpus[i].label;
    }
    assert_true(right >= (int)N_CORPUS - 2);
    free(f);
}

static void test_training_refuses(void **state)
{
    struct enc_train_opts o;
    struct enc_model m;
    char err[128];
    struct enc_example bad = { "hello", 5 };

    (void)state;
    small_opts(&o, 1);
    assert_int_equal(enc_train(&bad, 1, 3, &o, NULL, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "label"));
    o.p.dim = 6;
    assert_int_equal(enc_train(corpus, N_CORPUS, 3, &o, NULL, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "dim"));
}

/* ---------------------------------------------------------------- the loader */

static void expect_refusal(unsigned char *f, size_t size, const char *what)
{
    struct aios_encoder e;
    char err[160] = "";

    assert_int_equal(aios_encoder_load(&e, f, size, err, sizeof(err)), AIOS_EINVAL);
    if (!strstr(err, what))
        fail_msg("expected \"%s\" in \"%s\"", what, err);
}

static void put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);   /* the host is little-endian, like the file */
}

static void test_loader_refusals(void **state)
{
    size_t size;
    unsigned char *good = train_file(1, AIOS_ENC_INT8, &size);
    unsigned char *f = aligned_alloc(16, size + 32);
    struct aios_encoder e;
    char err[160];

    (void)state;
    memcpy(f, good, size);
    assert_int_equal(aios_encoder_load(&e, f, size, err, sizeof(err)), AIOS_OK);
    assert_int_equal(e.encoding, AIOS_ENC_INT8);
    assert_int_equal(e.p.buckets, 4096);

    /* Truncated anywhere in the header, and at many body lengths. */
    for (size_t n = 0; n < AIOS_ENC_HEADER_SIZE; n++)
        expect_refusal(f, n, "truncated header");
    for (size_t n = AIOS_ENC_HEADER_SIZE; n < size; n += 997)
        expect_refusal(f, n, "truncated");
    expect_refusal(f, size - 1, "truncated");
    assert_int_equal(aios_encoder_load(&e, NULL, size, err, sizeof(err)), AIOS_EINVAL);

    /* Trailing data. */
    memset(f + size, 0, 32);
    expect_refusal(f, size + 4, "trailing");

    /* Misaligned. */
    unsigned char *m = aligned_alloc(16, size + 16);
    memcpy(m + 1, good, size);
    expect_refusal(m + 1, size, "aligned");
    free(m);

    struct { size_t off; uint32_t value; const char *what; } cases[] = {
        { 0, 0x12345678, "bad magic" },
        { 4, 2, "version 2" },
        { 4, 4, "version 4" },
        { 8, 64, "header size" },
        { 12, 2, "encoding" },
        { 16, 0, "buckets" },
        { 16, (1u << 24) + 1, "buckets" },
        { 16, 4097, "body bytes" },
        { 20, 0, "dim" },
        { 20, 6, "dim" },
        { 20, 2048, "dim" },
        { 20, 0xffffffffu, "dim" },
        { 24, 2, "out_dim" },
        { 24, 4096, "out_dim" },
        { 24, 0, "body bytes" },
        { 32, 0, "n-gram" },
        { 32, 6, "n-gram" },
        { 36, 9, "n-gram" },
        { 40, 1u << 7, "flags" },
        { 44, 1001, "word weight" },
        { 48, 12, "body bytes" },
        { 52, 1, "body bytes" },
        { 88, 0, "members" },
        { 88, 17, "members" },
        { 88, 1, "body bytes" },
        { 88, 16, "body bytes" },     /* 16 members load, if the body holds them */
        { 92, 4, "beyond" },          /* member 2 of 2 */
        { 92, 1u << 31, "beyond" },
        { 96, 1, "reserved" },
        { 100, 1, "reserved" },
        { 124, 0xff, "reserved" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(f, good, size);
        put32(f + cases[i].off, cases[i].value);
        expect_refusal(f, size, cases[i].what);
    }
    /* A body byte or the stored digest changed: the checksum. */
    memcpy(f, good, size);
    f[size / 2] ^= 1;
    expect_refusal(f, size, "checksum");
    memcpy(f, good, size);
    f[60] ^= 0x80;
    expect_refusal(f, size, "checksum");
    /* The seed is not covered by bounds, only by nothing: any value loads. */
    memcpy(f, good, size);
    put32(f + 28, 0xdeadbeef);
    assert_int_equal(aios_encoder_load(&e, f, size, err, sizeof(err)), AIOS_OK);
    /* Both members bigram-free loads; bigram-free members without bigrams do not. */
    memcpy(f, good, size);
    put32(f + 92, 3);
    assert_int_equal(aios_encoder_load(&e, f, size, err, sizeof(err)), AIOS_OK);
    assert_int_equal(e.p.no_bigrams, 3);
    put32(f + 40, AIOS_ENC_F_WORDS | AIOS_ENC_F_DIGITS);
    expect_refusal(f, size, "without bigrams");
    free(f);
    free(good);
}

static void test_writer_refusals(void **state)
{
    struct aios_encoder_params p = { .buckets = 8, .dim = 4, .out_dim = 0,
                                     .flags = AIOS_ENC_F_WORDS, .members = 1 };
    float emb[32] = { 0 };
    char err[128];
    _Alignas(16) unsigned char out[512];

    (void)state;
    size_t n = aios_encoder_file_size(&p, AIOS_ENC_FP32, err, sizeof(err));
    assert_int_equal(n, AIOS_ENC_HEADER_SIZE + 8 * 4 * 4);
    assert_int_equal(aios_encoder_write(out, n - 1, &p, AIOS_ENC_FP32, emb, NULL, NULL, err,
                                        sizeof(err)), AIOS_EINVAL);
    assert_int_equal(aios_encoder_write(out, n, &p, 5, emb, NULL, NULL, err, sizeof(err)),
                     AIOS_EINVAL);
    p.dim = 5;
    assert_int_equal(aios_encoder_file_size(&p, AIOS_ENC_FP32, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "dim 5"));
    p.dim = 4;
    p.members = 0;
    assert_int_equal(aios_encoder_file_size(&p, AIOS_ENC_FP32, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "members"));
    p.members = 3;
    assert_int_equal(aios_encoder_file_size(&p, AIOS_ENC_FP32, err, sizeof(err)),
                     AIOS_ENC_HEADER_SIZE + 3 * 8 * 4 * 4);
    /* 3 x 1024 values: more than an embedding holds. */
    p.out_dim = 1024;
    assert_int_equal(aios_encoder_file_size(&p, AIOS_ENC_FP32, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "members"));
    p.out_dim = 0;
    p.no_bigrams = 1;
    assert_int_equal(aios_encoder_file_size(&p, AIOS_ENC_FP32, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "without bigrams"));
    p.flags |= AIOS_ENC_F_BIGRAMS;
    p.no_bigrams = 8;
    assert_int_equal(aios_encoder_file_size(&p, AIOS_ENC_FP32, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "beyond"));
    p.members = AIOS_ENC_MAX_MEMBERS;
    p.no_bigrams = 1u << (AIOS_ENC_MAX_MEMBERS - 1);
    assert_int_equal(aios_encoder_file_size(&p, AIOS_ENC_FP32, err, sizeof(err)),
                     AIOS_ENC_HEADER_SIZE + AIOS_ENC_MAX_MEMBERS * 8 * 4 * 4);
}

/* ---------------------------------------------------------------- embedding */

struct grab { uint32_t bucket[16]; float weight[16]; int n; };

static void grab(void *ctx, uint32_t bucket, float weight)
{
    struct grab *g = ctx;

    if (g->n < 16) {
        g->bucket[g->n] = bucket;
        g->weight[g->n] = weight;
    }
    g->n++;
}

/* A hand-made file: words only, no n-grams, no dense layer, E[r][d] = r + d. */
static void test_formula(void **state)
{
    struct aios_encoder_params p = { .buckets = 97, .dim = 8, .out_dim = 0, .seed = 5,
                                     .flags = AIOS_ENC_F_WORDS, .members = 1 };
    float emb[2 * 97 * 8];
    char err[128];
    size_t n = aios_encoder_file_size(&p, AIOS_ENC_FP32, err, sizeof(err));
    unsigned char *f = aligned_alloc(16, (n + 15) & ~(size_t)15);
    struct aios_encoder e;
    struct grab g = { .n = 0 };
    float out[8];

    (void)state;
    for (int r = 0; r < 97; r++)
        for (int d = 0; d < 8; d++)
            emb[r * 8 + d] = (float)(r + d);
    assert_int_equal(aios_encoder_write(f, n, &p, AIOS_ENC_FP32, emb, NULL, NULL, err, sizeof(err)),
                     AIOS_OK);
    assert_int_equal(aios_encoder_load(&e, f, n, err, sizeof(err)), AIOS_OK);
    assert_true(aios_encoder_featurize(&p, "Alpha, beta!", grab, &g) == 2.0f);
    assert_int_equal(g.n, 2);
    assert_true(g.weight[0] == 1.0f && g.weight[1] == 1.0f);
    embed(&e, "Alpha, beta!", out);
    float x[8], s = 0.0f;
    for (int d = 0; d < 8; d++) {
        x[d] = (0.0f + 1.0f * (float)(g.bucket[0] + (uint32_t)d)) + 1.0f * (float)(g.bucket[1] + (uint32_t)d);
        x[d] *= 1.0f / 2.0f;
        s += x[d] * x[d];
    }
    for (int d = 0; d < 8; d++)
        assert_true(fabsf(out[d] - x[d] / sqrtf(s)) < 1e-6f);

    /* Two members, the second's E[r][d] = r - d, hashing with seed 6: their unit vectors
     * side by side, over sqrt(2). */
    for (int r = 0; r < 97; r++)
        for (int d = 0; d < 8; d++)
            emb[97 * 8 + r * 8 + d] = (float)(r - d);
    p.members = 2;
    size_t n2 = aios_encoder_file_size(&p, AIOS_ENC_FP32, err, sizeof(err));
    unsigned char *f2 = aligned_alloc(16, (n2 + 15) & ~(size_t)15);
    float out2[16], y[8], t = 0.0f;
    struct aios_encoder_params p1 = p;
    struct grab g1 = { .n = 0 };
    assert_int_equal(aios_encoder_write(f2, n2, &p, AIOS_ENC_FP32, emb, NULL, NULL, err,
                                        sizeof(err)), AIOS_OK);
    assert_int_equal(aios_encoder_load(&e, f2, n2, err, sizeof(err)), AIOS_OK);
    assert_int_equal(aios_encoder_dim(&e), 16);
    embed(&e, "Alpha, beta!", out2);
    p1.seed = 6;
    aios_encoder_featurize(&p1, "Alpha, beta!", grab, &g1);
    for (int d = 0; d < 8; d++) {
        y[d] = ((float)g1.bucket[0] - (float)d + (float)g1.bucket[1] - (float)d) / 2.0f;
        t += y[d] * y[d];
    }
    for (int d = 0; d < 8; d++) {
        assert_true(fabsf(out2[d] - x[d] / sqrtf(s) / sqrtf(2.0f)) < 1e-6f);
        assert_true(fabsf(out2[8 + d] - y[d] / sqrtf(t) / sqrtf(2.0f)) < 1e-6f);
    }
    free(f2);

    /* The same two members with bigrams on and the second bigram-free: the first reads
     * the bigram (x over 3), the second only its two words (y over 2, as above). */
    p.flags = AIOS_ENC_F_WORDS | AIOS_ENC_F_BIGRAMS;
    p.no_bigrams = 2;
    struct aios_encoder_params m0 = aios_encoder_member_params(&p, 0);
    struct aios_encoder_params m1 = aios_encoder_member_params(&p, 1);
    assert_true(m0.seed == 5 && m1.seed == 6 && m0.flags == p.flags);
    assert_true(m1.flags == AIOS_ENC_F_WORDS && m0.no_bigrams == 0 && m1.no_bigrams == 0);
    f2 = aligned_alloc(16, (n2 + 15) & ~(size_t)15);
    assert_int_equal(aios_encoder_write(f2, n2, &p, AIOS_ENC_FP32, emb, NULL, NULL, err,
                                        sizeof(err)), AIOS_OK);
    assert_int_equal(aios_encoder_load(&e, f2, n2, err, sizeof(err)), AIOS_OK);
    embed(&e, "Alpha, beta!", out2);
    struct grab g0 = { .n = 0 };
    assert_true(aios_encoder_featurize(&m0, "Alpha, beta!", grab, &g0) == 3.0f);
    assert_int_equal(g0.n, 3);
    float z[8], u = 0.0f;
    for (int d = 0; d < 8; d++) {
        z[d] = 0.0f;
        for (int k = 0; k < 3; k++)
            z[d] += g0.weight[k] * (float)(g0.bucket[k] + (uint32_t)d);
        z[d] *= 1.0f / 3.0f;
        u += z[d] * z[d];
    }
    for (int d = 0; d < 8; d++) {
        assert_true(fabsf(out2[d] - z[d] / sqrtf(u) / sqrtf(2.0f)) < 1e-6f);
        assert_true(fabsf(out2[8 + d] - y[d] / sqrtf(t) / sqrtf(2.0f)) < 1e-6f);
    }
    free(f2);
    p.members = 1;
    p.no_bigrams = 0;

    /* With bigrams and n-grams: counts and weights as documented. */
    p.flags = AIOS_ENC_F_ALL;
    p.minn = 3;
    p.maxn = 4;
    g.n = 0;
    /* "<ab>": 2 trigrams + 1 four-gram = 3 n-grams + the word: 4 features of 1/4 each; the
     * same for "cd"; then one bigram. */
    assert_true(aios_encoder_featurize(&p, "ab cd", grab, &g) == 3.0f);
    assert_int_equal(g.n, 9);
    assert_true(g.weight[0] == 0.25f && g.weight[4] == 0.25f && g.weight[8] == 1.0f);
    /* The word's own share set to 600/1000: the n-grams share the rest. */
    p.word_permille = 600;
    g.n = 0;
    assert_true(aios_encoder_featurize(&p, "ab cd", grab, &g) == 3.0f);
    assert_true(g.weight[0] == 0.6f && g.weight[1] == (1.0f - 0.6f) / 3.0f);
    /* A word without n-grams (minn 4 > "<a>") keeps the whole weight. */
    p.minn = p.maxn = 4;
    g.n = 0;
    assert_true(aios_encoder_featurize(&p, "a", grab, &g) == 1.0f);
    assert_int_equal(g.n, 1);
    assert_true(g.weight[0] == 1.0f);
    free(f);
}

static void test_featurize_normalises(void **state)
{
    struct aios_encoder_params p = { .buckets = 1000003, .dim = 8, .seed = 9, .minn = 3, .maxn = 5,
                                     .flags = AIOS_ENC_F_ALL };
    struct grab a = { .n = 0 }, b = { .n = 0 };

    (void)state;
    aios_encoder_featurize(&p, "Set a TIMER, for 5 minutes!", grab, &a);
    aios_encoder_featurize(&p, "set a timer for 300 minutes", grab, &b);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.bucket, b.bucket, sizeof(a.bucket));
    /* Without digit folding the numbers differ. */
    p.flags &= ~(uint32_t)AIOS_ENC_F_DIGITS;
    a.n = b.n = 0;
    aios_encoder_featurize(&p, "5", grab, &a);
    aios_encoder_featurize(&p, "300", grab, &b);
    assert_true(a.bucket[0] != b.bucket[0]);
    /* The seed changes the buckets. */
    a.n = b.n = 0;
    aios_encoder_featurize(&p, "hello", grab, &a);
    p.seed = 10;
    aios_encoder_featurize(&p, "hello", grab, &b);
    assert_true(a.bucket[0] != b.bucket[0]);
}

static void test_embed_properties(void **state)
{
    size_t f32_size, i8_size;
    unsigned char *f32 = train_file(2, AIOS_ENC_FP32, &f32_size);
    unsigned char *i8 = train_file(2, AIOS_ENC_INT8, &i8_size);
    struct aios_encoder ef, eq;
    char err[128];
    float a[EDIM], b[EDIM];
    static const char *const texts[] = {
        "delete notes.txt", "set a timer for 10 minutes", "what is the cpu temperature",
        "wipe ideas.txt", "how hot is it", "something else entirely", "x",
        "h\xc3\xa9llo w\xc3\xb6rld \xe2\x98\x83", "bad \xff\xfe utf8 \x80\x80",
    };

    (void)state;
    assert_true(i8_size < f32_size / 3);
    assert_int_equal(aios_encoder_load(&ef, f32, f32_size, err, sizeof(err)), AIOS_OK);
    assert_int_equal(aios_encoder_load(&eq, i8, i8_size, err, sizeof(err)), AIOS_OK);
    float worst = 1.0f;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        embed(&ef, texts[i], a);
        embed(&ef, texts[i], b);
        assert_memory_equal(a, b, sizeof(a));                    /* deterministic */
        assert_true(fabsf(norm(a, EDIM) - 1.0f) < 1e-5f);          /* unit length */
        embed(&eq, texts[i], b);
        assert_true(fabsf(norm(b, EDIM) - 1.0f) < 1e-5f);
        float c = aios_encoder_cosine(a, b, EDIM);
        if (c < worst)
            worst = c;
    }
    print_message("int8 vs fp32: worst cosine %.6f\n", (double)worst);
    assert_true(worst >= 0.99f);

    /* No words: the zero vector. */
    static const char *const empty[] = { "", " ", "?!.,;:-- ...", "\t\n" };
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        embed(&ef, empty[i], a);
        assert_true(norm(a, EDIM) == 0.0f);
    }

    /* Very long text and a very long word. */
    size_t len = 200000;
    char *big = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        big[i] = "delete the file notes.txt now "[i % 30];
    big[len] = '\0';
    embed(&ef, big, a);
    assert_true(fabsf(norm(a, EDIM) - 1.0f) < 1e-5f);
    memset(big, 'q', len);
    embed(&eq, big, a);
    assert_true(fabsf(norm(a, EDIM) - 1.0f) < 1e-5f);
    free(big);

    /* Too little scratch: ENOMEM, arena unchanged; NULL arguments: EINVAL. */
    unsigned char small[64];
    struct aios_arena s;
    aios_arena_init(&s, small, sizeof(small));
    assert_int_equal(aios_encoder_embed(&ef, "hello", a, &s), AIOS_ENOMEM);
    assert_int_equal(s.used, 0);
    assert_int_equal(aios_encoder_embed(&ef, NULL, a, &s), AIOS_EINVAL);
    assert_int_equal(aios_encoder_embed(NULL, "x", a, &s), AIOS_EINVAL);
    free(f32);
    free(i8);
}

static void test_no_dense_layer(void **state)
{
    struct enc_train_opts o;
    struct enc_model m;
    struct aios_encoder e;
    char err[128];
    size_t size;
    float v[64];

    (void)state;
    small_opts(&o, 4);
    o.p.out_dim = 0;
    assert_int_equal(enc_train(corpus, N_CORPUS, 3, &o, NULL, &m, err, sizeof(err)), 0);
    unsigned char *f = enc_model_file(&m, AIOS_ENC_INT8, &size, err, sizeof(err));
    assert_non_null(f);
    assert_int_equal(aios_encoder_load(&e, f, size, err, sizeof(err)), AIOS_OK);
    assert_int_equal(aios_encoder_dim(&e), 64);
    embed(&e, "remove the log", v);
    assert_true(fabsf(norm(v, 64) - 1.0f) < 1e-5f);
    enc_model_free(&m);
    free(f);
}

/* ---------------------------------------------------------------- pretraining */

/* A text in which delete and erase (and sunny and rainy) occur in the same contexts and
 * never in each other's. */
static char *pretrain_text(void)
{
    static const char *const file_words[] = { "delete", "erase" };
    static const char *const sky_words[] = { "sunny", "rainy" };
    static const char *const things[] = { "file", "note", "report", "draft" };
    static const char *const days[] = { "today", "tomorrow", "outside", "there" };
    size_t cap = 1 << 16, len = 0;
    char *t = malloc(cap);

    assert_non_null(t);
    for (int i = 0; i < 400; i++) {
        len += (size_t)snprintf(t + len, cap - len, "please %s the old %s now\n",
                                file_words[i % 2], things[(i / 2) % 4]);
        len += (size_t)snprintf(t + len, cap - len, "it is %s and warm %s\n",
                                sky_words[i % 2], days[(i / 2) % 4]);
        assert_true(len + 64 < cap);
    }
    return t;
}

static void pretrain_opts(struct enc_pretrain_opts *o, uint64_t seed)
{
    enc_pretrain_defaults(o);
    o->p.buckets = 4096;
    o->p.dim = 16;
    o->p.minn = 3;
    o->p.maxn = 5;
    o->p.flags = AIOS_ENC_F_WORDS | AIOS_ENC_F_DIGITS;
    o->p.word_permille = 850;
    o->p.members = 1;
    o->epochs = 5;
    o->lr = 0.05f;
    o->subsample = 0.0f;
    o->seed = seed;
}

/* x of a one-word text under a table, unit length. */
static void word_vector(const struct enc_pretrain_opts *o, const float *emb, const char *w,
                        float *x)
{
    struct enc_feats fs = { 0 };

    enc_feats_append(&o->p, w, &fs);
    memset(x, 0, o->p.dim * sizeof(float));
    for (size_t k = 0; k < fs.n; k++)
        for (size_t d = 0; d < o->p.dim; d++)
            x[d] += fs.f[k].weight * emb[(size_t)fs.f[k].bucket * o->p.dim + d];
    float n = norm(x, o->p.dim);
    for (size_t d = 0; d < o->p.dim; d++)
        x[d] /= n;
    free(fs.f);
}

static float dot(const float *a, const float *b, size_t n)
{
    float s = 0.0f;

    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static void test_pretrain(void **state)
{
    struct enc_pretrain_opts o;
    char err[160], *text = pretrain_text();
    float *e1, *e2, *e3;
    size_t rows = 4096 * 16;

    (void)state;
    pretrain_opts(&o, 7);
    assert_int_equal(enc_pretrain(text, &o, &e1, err, sizeof(err)), 0);
    assert_int_equal(enc_pretrain(text, &o, &e2, err, sizeof(err)), 0);
    assert_memory_equal(e1, e2, rows * sizeof(float));
    o.seed = 8;
    assert_int_equal(enc_pretrain(text, &o, &e3, err, sizeof(err)), 0);
    assert_memory_not_equal(e1, e3, rows * sizeof(float));

    /* Words of the same contexts end nearer each other than words of other contexts. */
    float del[16], era[16], sun[16], rai[16];
    o.seed = 7;
    word_vector(&o, e1, "delete", del);
    word_vector(&o, e1, "erase", era);
    word_vector(&o, e1, "sunny", sun);
    word_vector(&o, e1, "rainy", rai);
    print_message("pretrained cosines: delete-erase %.3f, sunny-rainy %.3f, delete-sunny %.3f, "
                  "delete-rainy %.3f, erase-sunny %.3f\n", dot(del, era, 16), dot(sun, rai, 16),
                  dot(del, sun, 16), dot(del, rai, 16), dot(era, sun, 16));
    assert_true(dot(del, era, 16) > dot(del, sun, 16) + 0.2f);
    assert_true(dot(del, era, 16) > dot(del, rai, 16) + 0.2f);
    assert_true(dot(sun, rai, 16) > dot(era, sun, 16) + 0.2f);
    free(e2);
    free(e3);

    /* A member trained on the corpus with that table keeps it, up to the per-dimension
     * standardisation: E'[r][d] = (E[r][d] - mu_d) k_d for every row; and the file says
     * it reads no bigrams. */
    struct enc_train_opts t;
    struct enc_model m;
    const float *tables[1] = { e1 };
    small_opts(&t, 3);
    t.p.buckets = 4096;
    t.p.dim = 16;
    t.p.out_dim = 16;
    t.p.members = 2;
    t.p.no_bigrams = 2;
    t.pretrained_members = 1;
    t.pretrained = tables;
    assert_int_equal(enc_train(corpus, N_CORPUS, 3, &t, NULL, &m, err, sizeof(err)), 0);
    const float *kept = m.emb + rows;
    for (size_t d = 0; d < 16; d++) {
        float k = (kept[16 + d] - kept[d]) / (e1[16 + d] - e1[d]);
        float mu = e1[d] - kept[d] / k;
        assert_true(k > 0.0f);
        for (size_t r = 2; r < 4096; r += 37)
            assert_true(fabsf((e1[r * 16 + d] - mu) * k - kept[r * 16 + d]) <
                        1e-3f * (1.0f + fabsf(kept[r * 16 + d])));
    }
    size_t size;
    unsigned char *f = enc_model_file(&m, AIOS_ENC_FP32, &size, err, sizeof(err));
    struct aios_encoder e;
    float v[32];
    assert_non_null(f);
    assert_int_equal(aios_encoder_load(&e, f, size, err, sizeof(err)), AIOS_OK);
    assert_int_equal(e.p.no_bigrams, 2);
    embed(&e, "wipe the draft", v);
    assert_true(fabsf(norm(v, 32) - 1.0f) < 1e-5f);
    free(f);
    enc_model_free(&m);

    /* More pretrained members than members. */
    t.pretrained_members = 3;
    assert_int_equal(enc_train(corpus, N_CORPUS, 3, &t, NULL, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "pretrained"));
    free(e1);
    free(text);
}

static void test_pretrain_refuses(void **state)
{
    struct enc_pretrain_opts o;
    char err[160];
    float *e = (float *)&o;

    (void)state;
    pretrain_opts(&o, 1);
    o.epochs = 0;
    assert_int_equal(enc_pretrain("a b c", &o, &e, err, sizeof(err)), -1);
    assert_null(e);
    assert_non_null(strstr(err, "bad options"));
    pretrain_opts(&o, 1);
    o.p.dim = 6;
    assert_int_equal(enc_pretrain("a b c", &o, &e, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "dim 6"));
    /* No word five times: nothing to predict. */
    pretrain_opts(&o, 1);
    assert_int_equal(enc_pretrain("one two three four\nfive six", &o, &e, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no word occurs 5 times"));
    assert_int_equal(enc_pretrain("", &o, &e, err, sizeof(err)), -1);
    assert_null(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subst_table),
        cmocka_unit_test(test_training_deterministic),
        cmocka_unit_test(test_training_separates_intents),
        cmocka_unit_test(test_training_refuses),
        cmocka_unit_test(test_loader_refusals),
        cmocka_unit_test(test_writer_refusals),
        cmocka_unit_test(test_formula),
        cmocka_unit_test(test_featurize_normalises),
        cmocka_unit_test(test_embed_properties),
        cmocka_unit_test(test_no_dense_layer),
        cmocka_unit_test(test_pretrain),
        cmocka_unit_test(test_pretrain_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
