/*
 * Unit tests for the HNSW index (aios/lib/hnsw.c).
 *
 * Exactness: on small sets of integer vectors (squared L2 distances exact in float, ties
 * broken by insertion order on both sides) a search with ef >= n gives exactly the brute
 * force answer, for every k; k above the live count returns fewer; empty index.
 * Quality: recall@10 against brute force on 5,000 points of dim 64 in 50 Gaussian
 * clusters (M 16, ef_construction 200, ef_search 64, 200 queries) must reach 0.95, and
 * so must ef_search 16 (which the heuristic neighbour selection needs); after
 * deleting every tenth element no deleted label comes back and recall against the
 * survivors stays >= 0.95; the same for cosine and inner product on smaller sets; a
 * rebuild from the survivors. The measured recalls are printed.
 * Files: a save/load round trip answers every query identically, keeps growing exactly
 * like the original and saves byte for byte the same; the same inserts and seed give a
 * byte-identical file, another seed a different one. Every damaged file is refused with
 * AIOS_EINVAL, a message and the arena untouched: truncated at every length, one more
 * byte, flipped bytes (checksum mismatch), bad magic, another version, and, with the
 * checksum recomputed, each structural lie the loader must catch.
 * Argument checks: bad parameters, duplicate labels, non-finite or zero vectors, a full
 * index, an arena or scratch one byte too small.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aios/hnsw.h"
#include "sha256.h"

/* ---------------------------------------------------------------- helpers */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = (rng_state += 0x9E3779B97F4A7C15ull);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static float uniform(void) { return (float)(rnd() >> 40) / (float)(1 << 24); }

/* Irwin-Hall: the sum of 12 uniforms minus 6 is close enough to N(0, 1) here. */
static float gauss(void)
{
    float s = 0;
    for (int i = 0; i < 12; i++)
        s += uniform();
    return s - 6.0f;
}

/* n points of dim d around nc centres; queries come from the same mixture. */
static float *clustered(size_t n, size_t d, size_t nc, float spread, uint64_t seed)
{
    float *c = malloc(nc * d * sizeof(float)), *v = malloc(n * d * sizeof(float));
    assert_non_null(c);
    assert_non_null(v);
    rng_state = seed;
    for (size_t i = 0; i < nc * d; i++)
        c[i] = gauss();
    for (size_t i = 0; i < n; i++) {
        size_t k = rnd() % nc;
        for (size_t j = 0; j < d; j++)
            v[i * d + j] = c[k * d + j] + spread * gauss();
    }
    free(c);
    return v;
}

static void normalise(float *v, size_t n, size_t d)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < d; j++)
            s += (double)v[i * d + j] * v[i * d + j];
        float inv = (float)(1.0 / __builtin_sqrt(s));
        for (size_t j = 0; j < d; j++)
            v[i * d + j] *= inv;
    }
}

struct arena_buf {
    unsigned char *mem;
    struct aios_arena a;
};

static void arena_new(struct arena_buf *b, size_t size)
{
    b->mem = malloc(size ? size : 1);
    assert_non_null(b->mem);
    aios_arena_init(&b->a, b->mem, size);
}

static struct aios_hnsw_params params(uint32_t dim, uint32_t metric, uint32_t m, uint32_t efc,
                                      uint32_t max, uint64_t seed)
{
    struct aios_hnsw_params p = { dim, metric, m, efc, max, seed };
    return p;
}

/* An index of exactly aios_hnsw_bytes(p). */
static void index_new(struct aios_hnsw *h, struct arena_buf *b, const struct aios_hnsw_params *p)
{
    char err[160] = "";
    size_t bytes = aios_hnsw_bytes(p);

    assert_true(bytes > 0);
    arena_new(b, bytes);
    int rc = aios_hnsw_init(h, p, &b->a, err, sizeof err);
    if (rc != AIOS_OK)
        fail_msg("init: %d %s", rc, err);
}

/* Brute-force distance as the index defines it (any summation order will do for recall;
 * the exact tests use integers). */
static double ref_dist(uint32_t metric, const float *a, const float *b, size_t d)
{
    double s = 0;
    for (size_t j = 0; j < d; j++)
        s += metric == AIOS_HNSW_L2 ? ((double)a[j] - b[j]) * ((double)a[j] - b[j])
                                    : (double)a[j] * b[j];
    return metric == AIOS_HNSW_L2 ? s : 1.0 - s;
}

/* The k nearest of q among v[0..n) whose alive[] is set (NULL: all), by (distance,
 * index), into out; returns how many. */
static size_t brute(uint32_t metric, const float *v, size_t n, size_t d, const float *q,
                    const unsigned char *alive, size_t k, uint32_t *out, double *outd)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (alive != NULL && !alive[i])
            continue;
        double dd = ref_dist(metric, q, v + i * d, d);
        size_t pos = m < k ? m : k;
        while (pos > 0 && (outd[pos - 1] > dd))
            pos--;
        if (pos >= k)
            continue;
        size_t last = m < k ? m : k - 1;
        memmove(out + pos + 1, out + pos, (last - pos) * sizeof *out);
        memmove(outd + pos + 1, outd + pos, (last - pos) * sizeof *outd);
        out[pos] = (uint32_t)i;
        outd[pos] = dd;
        if (m < k)
            m++;
    }
    return m;
}

/* Mean recall@k over nq queries; labels are the point indices (+ label_base). */
static double recall(const struct aios_hnsw *h, const float *v, size_t n, size_t d,
                     const float *qs, size_t nq, const unsigned char *alive, size_t k,
                     size_t ef, uint32_t label_base)
{
    struct arena_buf s;
    uint32_t got[64], truth[64];
    double td[64];
    size_t hits = 0, total = 0;

    arena_new(&s, aios_hnsw_search_bytes(h, k, ef));
    for (size_t i = 0; i < nq; i++) {
        size_t found = 0;
        assert_int_equal(aios_hnsw_search(h, qs + i * d, k, ef, got, NULL, &found, &s.a),
                         AIOS_OK);
        assert_int_equal(s.a.used, 0);
        size_t nt = brute(h->p.metric, v, n, d, qs + i * d, alive, k, truth, td);
        for (size_t a = 0; a < found; a++) {
            assert_true(got[a] >= label_base && got[a] - label_base < n);
            if (alive != NULL)
                assert_true(alive[got[a] - label_base]);   /* deleted never returned */
            for (size_t b = 0; b < nt; b++)
                if (got[a] - label_base == truth[b])
                    hits++;
        }
        total += nt;
    }
    free(s.mem);
    return (double)hits / (double)total;
}

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

/* ---------------------------------------------------------------- arguments */

static void test_bad_params(void **state)
{
    (void)state;
    struct aios_hnsw_params bad[] = {
        params(0, AIOS_HNSW_L2, 16, 100, 10, 1),
        params(AIOS_HNSW_MAX_DIM + 1, AIOS_HNSW_L2, 16, 100, 10, 1),
        params(8, 3, 16, 100, 10, 1),
        params(8, AIOS_HNSW_L2, 1, 100, 10, 1),
        params(8, AIOS_HNSW_L2, AIOS_HNSW_MAX_M + 1, 100, 10, 1),
        params(8, AIOS_HNSW_L2, 16, 0, 10, 1),
        params(8, AIOS_HNSW_L2, 16, AIOS_HNSW_MAX_EF + 1, 10, 1),
        params(8, AIOS_HNSW_L2, 16, 100, 0, 1),
        params(8, AIOS_HNSW_L2, 16, 100, AIOS_HNSW_MAX_ELEMENTS + 1, 1),
    };
    const char *why[] = { "dim", "dim", "metric", "M", "M", "ef_construction",
                          "ef_construction", "max_elements", "max_elements" };
    unsigned char mem[4096];
    struct aios_arena a;
    struct aios_hnsw h;
    char err[160];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        aios_arena_init(&a, mem, sizeof mem);
        err[0] = 0;
        assert_int_equal(aios_hnsw_bytes(&bad[i]), 0);
        assert_int_equal(aios_hnsw_init(&h, &bad[i], &a, err, sizeof err), AIOS_EINVAL);
        assert_true(contains(err, why[i]));
        assert_int_equal(a.used, 0);
    }
    assert_int_equal(aios_hnsw_init(NULL, &bad[0], &a, err, sizeof err), AIOS_EINVAL);
}

static void test_arena_too_small(void **state)
{
    (void)state;
    struct aios_hnsw_params p = params(24, AIOS_HNSW_L2, 6, 40, 500, 3);
    size_t bytes = aios_hnsw_bytes(&p);
    unsigned char *mem = malloc(bytes + 128);
    struct aios_arena a;
    struct aios_hnsw h;
    char err[160];

    assert_non_null(mem);
    /* aios_hnsw_bytes is enough at any alignment of the arena's base */
    for (size_t off = 0; off < 64; off += 5) {
        aios_arena_init(&a, mem + off, bytes);
        assert_int_equal(aios_hnsw_init(&h, &p, &a, err, sizeof err), AIOS_OK);
    }
    /* and exactly enough at the worst one (a base 1 past 64-byte alignment): one byte
     * less fails, wherever the shortfall shows */
    unsigned char *base = (unsigned char *)(((uintptr_t)mem + 63) & ~(uintptr_t)63) + 1;
    aios_arena_init(&a, base, bytes);
    assert_int_equal(aios_hnsw_init(&h, &p, &a, err, sizeof err), AIOS_OK);
    for (size_t less = 1; less < bytes; less = less * 3 + 1) {
        aios_arena_init(&a, base, bytes - less);
        err[0] = 0;
        assert_int_equal(aios_hnsw_init(&h, &p, &a, err, sizeof err), AIOS_ENOMEM);
        assert_true(contains(err, "arena too small"));
        assert_int_equal(a.used, 0);
    }
    free(mem);
}

static void test_insert_refusals(void **state)
{
    (void)state;
    struct aios_hnsw_params p = params(4, AIOS_HNSW_COSINE, 4, 10, 3, 9);
    struct arena_buf b;
    struct aios_hnsw h;
    float v[4] = { 1, 2, 3, 4 }, zero[4] = { 0 }, bad[4] = { 1, 2, 3, 4 };

    index_new(&h, &b, &p);
    assert_int_equal(aios_hnsw_insert(&h, v, 7), AIOS_OK);
    assert_int_equal(aios_hnsw_insert(&h, v, 7), AIOS_EINVAL);   /* duplicate label */
    assert_int_equal(aios_hnsw_count(&h), 1);
    assert_int_equal(aios_hnsw_insert(&h, zero, 8), AIOS_EINVAL);
    bad[2] = __builtin_nanf("");
    assert_int_equal(aios_hnsw_insert(&h, bad, 8), AIOS_EINVAL);
    bad[2] = __builtin_inff();
    assert_int_equal(aios_hnsw_insert(&h, bad, 8), AIOS_EINVAL);
    assert_int_equal(aios_hnsw_insert(&h, NULL, 8), AIOS_EINVAL);
    assert_int_equal(h.n, 1);
    /* delete, then the label is free again (as a new node) */
    assert_int_equal(aios_hnsw_delete(&h, 7), AIOS_OK);
    assert_int_equal(aios_hnsw_delete(&h, 7), AIOS_EINVAL);
    assert_false(aios_hnsw_contains(&h, 7));
    assert_int_equal(aios_hnsw_insert(&h, v, 7), AIOS_OK);
    assert_true(aios_hnsw_contains(&h, 7));
    assert_int_equal(aios_hnsw_count(&h), 1);
    assert_int_equal(aios_hnsw_insert(&h, v, 0xffffffffu), AIOS_OK);
    /* three nodes exist (one deleted): full */
    assert_int_equal(aios_hnsw_insert(&h, v, 9), AIOS_ERANGE);
    assert_int_equal(aios_hnsw_delete(&h, 12345), AIOS_EINVAL);

    /* queries: NaN refused, zero refused under cosine, scratch one byte short */
    struct arena_buf s;
    uint32_t lab[4];
    float d[4];
    size_t found = 99;
    arena_new(&s, aios_hnsw_search_bytes(&h, 4, 10));
    assert_int_equal(aios_hnsw_search(&h, bad, 4, 10, lab, d, &found, &s.a), AIOS_EINVAL);
    assert_int_equal(found, 0);
    assert_int_equal(aios_hnsw_search(&h, zero, 4, 10, lab, d, &found, &s.a), AIOS_EINVAL);
    assert_int_equal(aios_hnsw_search(&h, v, 4, 10, lab, d, &found, &s.a), AIOS_OK);
    assert_int_equal(found, 2);
    assert_int_equal(lab[0], 7);   /* same vector, the earlier live node first */
    assert_int_equal(lab[1], 0xffffffffu);
    assert_true(d[0] < 1e-6f && d[0] > -1e-6f);
    s.a.size = 64;
    assert_int_equal(aios_hnsw_search(&h, v, 4, 10, lab, d, &found, &s.a), AIOS_ENOMEM);
    assert_int_equal(s.a.used, 0);
    free(s.mem);
    free(b.mem);
}

/* ---------------------------------------------------------------- exactness */

static void exact_case(uint32_t m, uint32_t n, uint32_t dim, uint64_t seed)
{
    struct aios_hnsw_params p = params(dim, AIOS_HNSW_L2, m, 32, n, seed);
    struct arena_buf b, s;
    struct aios_hnsw h;
    float *v = malloc((size_t)n * dim * sizeof(float)), q[16];
    uint32_t lab[256], truth[256];
    float d[256];
    double td[256];

    assert_non_null(v);
    index_new(&h, &b, &p);
    rng_state = seed * 77 + 1;
    for (size_t i = 0; i < (size_t)n * dim; i++)
        v[i] = (float)((int)(rnd() % 17) - 8);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(aios_hnsw_insert(&h, v + (size_t)i * dim, i), AIOS_OK);
    assert_int_equal(aios_hnsw_count(&h), n);
    arena_new(&s, aios_hnsw_search_bytes(&h, n, n));
    for (int t = 0; t < 40; t++) {
        for (uint32_t j = 0; j < dim; j++)
            q[j] = (float)((int)(rnd() % 21) - 10);
        for (size_t k = 1; k <= n; k += 1 + k / 4) {
            size_t found = 0, nt = brute(AIOS_HNSW_L2, v, n, dim, q, NULL, k, truth, td);
            assert_int_equal(aios_hnsw_search(&h, q, k, n, lab, d, &found, &s.a), AIOS_OK);
            assert_int_equal(found, nt);
            for (size_t i = 0; i < found; i++) {
                assert_int_equal(lab[i], truth[i]);
                assert_true((double)d[i] == td[i]);
            }
        }
        /* k above the live count gives them all */
        size_t found = 0;
        assert_int_equal(aios_hnsw_search(&h, q, n + 50, 0, lab, NULL, &found, &s.a), AIOS_OK);
        assert_int_equal(found, n);
    }
    free(s.mem);
    free(b.mem);
    free(v);
}

static void test_exact_small(void **state)
{
    (void)state;
    exact_case(2, 30, 3, 1);
    exact_case(4, 100, 5, 2);
    exact_case(8, 200, 7, 3);
    exact_case(3, 150, 16, 4);
}

static void test_empty_and_single(void **state)
{
    (void)state;
    struct aios_hnsw_params p = params(3, AIOS_HNSW_L2, 4, 8, 4, 1);
    struct arena_buf b, s;
    struct aios_hnsw h;
    float q[3] = { 1, 2, 3 };
    uint32_t lab[4];
    size_t found = 7;

    index_new(&h, &b, &p);
    arena_new(&s, aios_hnsw_search_bytes(&h, 4, 4));
    assert_int_equal(aios_hnsw_search(&h, q, 4, 4, lab, NULL, &found, &s.a), AIOS_OK);
    assert_int_equal(found, 0);
    assert_int_equal(aios_hnsw_insert(&h, q, 5), AIOS_OK);
    assert_int_equal(aios_hnsw_search(&h, q, 4, 4, lab, NULL, &found, &s.a), AIOS_OK);
    assert_int_equal(found, 1);
    assert_int_equal(lab[0], 5);
    assert_int_equal(aios_hnsw_search(&h, q, 0, 4, NULL, NULL, &found, &s.a), AIOS_OK);
    assert_int_equal(found, 0);
    assert_int_equal(aios_hnsw_delete(&h, 5), AIOS_OK);
    assert_int_equal(aios_hnsw_search(&h, q, 4, 4, lab, NULL, &found, &s.a), AIOS_OK);
    assert_int_equal(found, 0);
    free(s.mem);
    free(b.mem);
}

/* ---------------------------------------------------------------- recall */

#define BIG_N 5000
#define BIG_D 64
#define BIG_Q 200

struct big {
    float *v, *q;
    struct aios_hnsw h;
    struct arena_buf b;
    unsigned char alive[BIG_N];
};

static struct big *big_index(void)
{
    static struct big *big;

    if (big != NULL)
        return big;
    big = calloc(1, sizeof *big);
    assert_non_null(big);
    /* one draw from the mixture: the first BIG_N points are indexed, the rest are queries */
    big->v = clustered(BIG_N + BIG_Q, BIG_D, 50, 1.0f, 11);
    big->q = big->v + (size_t)BIG_N * BIG_D;
    struct aios_hnsw_params p = params(BIG_D, AIOS_HNSW_L2, 16, 200, BIG_N + 10, 42);
    index_new(&big->h, &big->b, &p);
    for (uint32_t i = 0; i < BIG_N; i++) {
        assert_int_equal(aios_hnsw_insert(&big->h, big->v + (size_t)i * BIG_D, 1000 + i), AIOS_OK);
        big->alive[i] = 1;
    }
    return big;
}

static void test_recall_clustered(void **state)
{
    (void)state;
    struct big *g = big_index();
    double r = recall(&g->h, g->v, BIG_N, BIG_D, g->q, BIG_Q, NULL, 10, 64, 1000);

    printf("[ INFO     ] recall@10 %.4f (5000 x 64, 50 clusters, M 16, efC 200, ef 64)\n", r);
    assert_true(r >= 0.95);
    double r16 = recall(&g->h, g->v, BIG_N, BIG_D, g->q, BIG_Q, NULL, 10, 16, 1000);
    printf("[ INFO     ] recall@10 %.4f at ef 16\n", r16);
    /* Linking to the plain nearest M instead of algorithm 4 gives about 0.83 here. */
    assert_true(r16 >= 0.95);
}

static void test_delete_recall(void **state)
{
    (void)state;
    struct big *g = big_index();
    size_t before = aios_hnsw_count(&g->h);

    for (uint32_t i = 0; i < BIG_N; i += 10) {
        assert_int_equal(aios_hnsw_delete(&g->h, 1000 + i), AIOS_OK);
        g->alive[i] = 0;
    }
    assert_int_equal(aios_hnsw_count(&g->h), before - BIG_N / 10);
    /* recall() fails on any deleted label returned */
    double r = recall(&g->h, g->v, BIG_N, BIG_D, g->q, BIG_Q, g->alive, 10, 64, 1000);
    printf("[ INFO     ] recall@10 %.4f after deleting 10%%\n", r);
    assert_true(r >= 0.95);
    /* the deleted points themselves as queries: never returned, even at distance 0 */
    struct arena_buf s;
    uint32_t lab[10];
    arena_new(&s, aios_hnsw_search_bytes(&g->h, 10, 64));
    for (uint32_t i = 0; i < BIG_N; i += 50) {
        size_t found = 0;
        assert_int_equal(aios_hnsw_search(&g->h, g->v + (size_t)i * BIG_D, 10, 64, lab, NULL,
                                          &found, &s.a), AIOS_OK);
        assert_int_equal(found, 10);
        for (size_t j = 0; j < found; j++)
            assert_true(g->alive[lab[j] - 1000]);
    }
    free(s.mem);

    /* a rebuild from the survivors: same answers quality, no deleted nodes */
    struct aios_hnsw r2;
    struct arena_buf b2;
    struct aios_hnsw_params p = g->h.p;
    p.max_elements = BIG_N;
    index_new(&r2, &b2, &p);
    assert_int_equal(aios_hnsw_rebuild(&r2, &g->h), AIOS_OK);
    assert_int_equal(aios_hnsw_count(&r2), aios_hnsw_count(&g->h));
    assert_int_equal(r2.n_deleted, 0);
    double rr = recall(&r2, g->v, BIG_N, BIG_D, g->q, BIG_Q, g->alive, 10, 64, 1000);
    printf("[ INFO     ] recall@10 %.4f after a rebuild from the survivors\n", rr);
    assert_true(rr >= 0.95);
    free(b2.mem);
}

static void metric_case(uint32_t metric)
{
    const size_t n = 1500, d = 32, nq = 100;
    float *v = clustered(n, d, 20, 0.4f, 5 + metric);
    float *q = clustered(nq, d, 20, 0.4f, 5 + metric);
    struct aios_hnsw_params p = params(d, metric, 12, 100, n, 8);
    struct arena_buf b;
    struct aios_hnsw h;

    if (metric == AIOS_HNSW_IP) {   /* the caller's job under IP */
        normalise(v, n, d);
        normalise(q, nq, d);
    }
    index_new(&h, &b, &p);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(aios_hnsw_insert(&h, v + (size_t)i * d, i), AIOS_OK);
    if (metric == AIOS_HNSW_COSINE) {   /* the reference needs unit vectors too */
        normalise(v, n, d);
        normalise(q, nq, d);
    }
    double r = recall(&h, v, n, d, q, nq, NULL, 10, 48, 0);
    printf("[ INFO     ] recall@10 %.4f (%s, 1500 x 32, ef 48)\n", r,
           metric == AIOS_HNSW_COSINE ? "cosine" : "inner product");
    assert_true(r >= 0.95);
    free(b.mem);
    free(v);
    free(q);
}

static void test_cosine_and_ip(void **state)
{
    (void)state;
    metric_case(AIOS_HNSW_COSINE);
    metric_case(AIOS_HNSW_IP);
}

/* ---------------------------------------------------------------- files */

static unsigned char *save(const struct aios_hnsw *h, size_t *len)
{
    size_t size = aios_hnsw_save_size(h), got = 0;
    unsigned char *buf = malloc(size + 1);

    assert_non_null(buf);
    assert_int_equal(aios_hnsw_save(h, buf, size - 1, &got), AIOS_ERANGE);
    assert_int_equal(got, size);
    assert_int_equal(aios_hnsw_save(h, buf, size, &got), AIOS_OK);
    assert_int_equal(got, size);
    *len = size;
    return buf;
}

static void test_save_load_roundtrip(void **state)
{
    (void)state;
    struct big *g = big_index();
    size_t len, len2;
    unsigned char *file = save(&g->h, &len);
    struct aios_hnsw h2;
    struct arena_buf b2, s1, s2;
    char err[160] = "";

    /* from an odd address: the loader must not assume alignment */
    unsigned char *odd = malloc(len + 1);
    assert_non_null(odd);
    memcpy(odd + 1, file, len);
    arena_new(&b2, aios_hnsw_bytes(&g->h.p));
    int rc = aios_hnsw_load(&h2, odd + 1, len, BIG_D, &b2.a, err, sizeof err);
    if (rc != AIOS_OK)
        fail_msg("load: %s", err);
    assert_int_equal(h2.n, g->h.n);
    assert_int_equal(aios_hnsw_count(&h2), aios_hnsw_count(&g->h));

    arena_new(&s1, aios_hnsw_search_bytes(&g->h, 10, 64));
    arena_new(&s2, aios_hnsw_search_bytes(&h2, 10, 64));
    for (size_t i = 0; i < BIG_Q; i++) {
        uint32_t l1[10], l2[10];
        float d1[10], d2[10];
        size_t f1, f2;
        assert_int_equal(aios_hnsw_search(&g->h, g->q + i * BIG_D, 10, 64, l1, d1, &f1, &s1.a), 0);
        assert_int_equal(aios_hnsw_search(&h2, g->q + i * BIG_D, 10, 64, l2, d2, &f2, &s2.a), 0);
        assert_int_equal(f1, f2);
        assert_memory_equal(l1, l2, f1 * sizeof l1[0]);
        assert_memory_equal(d1, d2, f1 * sizeof d1[0]);
    }
    /* saves back to the same bytes, and grows identically */
    unsigned char *again = save(&h2, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(file, again, len);
    free(again);
    for (uint32_t i = 0; i < 10; i++) {
        assert_int_equal(aios_hnsw_insert(&g->h, g->q + (size_t)i * BIG_D, 90000 + i), AIOS_OK);
        assert_int_equal(aios_hnsw_insert(&h2, g->q + (size_t)i * BIG_D, 90000 + i), AIOS_OK);
    }
    assert_int_equal(aios_hnsw_insert(&h2, g->q, 1), AIOS_ERANGE);   /* max_elements kept */
    unsigned char *a1 = save(&g->h, &len), *a2 = save(&h2, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(a1, a2, len);
    /* the caller expecting another dim is refused */
    struct arena_buf b3;
    arena_new(&b3, aios_hnsw_bytes(&g->h.p));
    assert_int_equal(aios_hnsw_load(&h2, a1, len, 32, &b3.a, err, sizeof err), AIOS_EINVAL);
    assert_true(contains(err, "dim mismatch"));
    /* arena one byte too small */
    b3.a.size = aios_hnsw_bytes(&g->h.p) - 64;
    b3.a.base = (unsigned char *)(((uintptr_t)b3.mem + 63) & ~(uintptr_t)63) + 1;
    assert_int_equal(aios_hnsw_load(&h2, a1, len, 0, &b3.a, err, sizeof err), AIOS_ENOMEM);
    assert_int_equal(b3.a.used, 0);
    free(b3.mem);
    free(a1);
    free(a2);
    free(file);
    free(odd);
    free(s1.mem);
    free(s2.mem);
    free(b2.mem);
}

static unsigned char *build_file(uint64_t seed, uint32_t n, size_t *len, struct aios_hnsw *out,
                                 struct arena_buf *ob)
{
    struct aios_hnsw_params p = params(8, AIOS_HNSW_L2, 4, 24, n + 8, seed);
    float *v = clustered(n, 8, 6, 0.5f, 21);
    struct aios_hnsw h;
    struct arena_buf b;

    index_new(&h, &b, &p);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(aios_hnsw_insert(&h, v + (size_t)i * 8, 3 * i + 1), AIOS_OK);
    for (uint32_t i = 0; i < n; i += 7)
        assert_int_equal(aios_hnsw_delete(&h, 3 * i + 1), AIOS_OK);
    unsigned char *file = save(&h, len);
    free(v);
    if (out != NULL) {
        *out = h;
        *ob = b;
    } else {
        free(b.mem);
    }
    return file;
}

static void test_determinism(void **state)
{
    (void)state;
    size_t l1, l2, l3;
    unsigned char *f1 = build_file(77, 600, &l1, NULL, NULL);
    unsigned char *f2 = build_file(77, 600, &l2, NULL, NULL);
    unsigned char *f3 = build_file(78, 600, &l3, NULL, NULL);

    assert_int_equal(l1, l2);
    assert_memory_equal(f1, f2, l1);
    assert_true(l1 != l3 || memcmp(f1, f3, l1) != 0);
    free(f1);
    free(f2);
    free(f3);
}

/* ---- damaged files */

struct layout {
    uint32_t count, dim, entry;
    size_t labels, levels, flags, vectors, links;
};

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static struct layout layout_of(const unsigned char *f)
{
    struct layout l;
    l.dim = rd32(f + 52);
    l.count = rd32(f + 80);
    l.entry = rd32(f + 88);
    l.labels = 128;
    l.levels = 128 + 4 * (size_t)l.count;
    l.flags = l.levels + l.count;
    l.vectors = (l.flags + l.count + 3) & ~(size_t)3;
    l.links = l.vectors + (size_t)l.count * l.dim * 4;
    return l;
}

/* Offset of node s's count word on level lv in the link section. */
static size_t link_at(const unsigned char *f, const struct layout *l, uint32_t s, uint32_t lv)
{
    size_t off = l->links;
    for (uint32_t i = 0; i < l->count; i++)
        for (uint32_t k = 0; k <= f[l->levels + i]; k++) {
            if (i == s && k == lv)
                return off;
            off += 4 + 4 * (size_t)rd32(f + off);
        }
    fail_msg("no node %u level %u", s, lv);
    return 0;
}

static void rechecksum(unsigned char *f, size_t len)
{
    sha256(f + 44, len - 44, f + 12);
}

static struct arena_buf damage_arena;

static void refused(const unsigned char *f, size_t len, uint32_t expect_dim, const char *why)
{
    struct aios_hnsw h;
    char err[200] = "";

    aios_arena_init(&damage_arena.a, damage_arena.mem, damage_arena.a.size);
    int rc = aios_hnsw_load(&h, f, len, expect_dim, &damage_arena.a, err, sizeof err);
    if (rc != AIOS_EINVAL || (why != NULL && !contains(err, why)) || err[0] == 0)
        fail_msg("expected a refusal with \"%s\", got %d \"%s\"", why ? why : "", rc, err);
    assert_int_equal(damage_arena.a.used, 0);
    assert_null(h.vectors);
}

/* Copy f, let edit change it, recompute the checksum, expect a refusal naming why. */
#define LIE(why, edit)                                                  \
    do {                                                                \
        unsigned char *c = malloc(len);                                 \
        assert_non_null(c);                                             \
        memcpy(c, f, len);                                              \
        edit;                                                           \
        rechecksum(c, len);                                             \
        refused(c, len, 0, why);                                        \
        free(c);                                                        \
    } while (0)

static void test_damaged_files(void **state)
{
    (void)state;
    size_t len;
    struct aios_hnsw orig;
    struct arena_buf ob;
    unsigned char *f = build_file(5, 300, &len, &orig, &ob);
    struct layout l = layout_of(f);
    struct aios_hnsw h;
    char err[200];

    arena_new(&damage_arena, aios_hnsw_bytes(&orig.p));
    /* the file as it is loads */
    assert_int_equal(aios_hnsw_load(&h, f, len, 8, &damage_arena.a, err, sizeof err), AIOS_OK);

    /* truncated at every length, and one byte too many */
    for (size_t n = 0; n < len; n++)
        refused(f, n, 0, n < 128 ? "truncated header" : "truncated");
    unsigned char *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, f, len);
    longer[len] = 0;
    refused(longer, len + 1, 0, "size mismatch");
    free(longer);

    /* flipped bits anywhere the checksum covers or in the checksum itself (the size
     * field excepted: that one reads as truncation) */
    unsigned char *c = malloc(len);
    assert_non_null(c);
    for (size_t i = 12; i < len; i += (i < 200 ? 1 : 37)) {
        if (i >= 44 && i < 52)
            continue;
        memcpy(c, f, len);
        c[i] ^= (unsigned char)(1u << (i % 8));
        refused(c, len, 0, "checksum mismatch");
    }
    memcpy(c, f, len);
    c[0] = 'X';
    refused(c, len, 0, "bad magic");
    memcpy(c, f, len);
    wr32(c + 8, 2);
    refused(c, len, 0, "unsupported version 2");
    free(c);

    /* structural lies under a valid checksum */
    uint32_t s1 = 1;   /* a node with at least one level-0 neighbour */
    size_t at = link_at(f, &l, s1, 0);
    assert_true(rd32(f + at) >= 2);
    uint32_t hi = 0;   /* a node with level >= 1 */
    while (f[l.levels + hi] == 0)
        hi++;
    uint32_t low = 0;  /* a level-0 node other than s1 */
    while (f[l.levels + low] != 0 || low == s1)
        low++;

    LIE("neighbour id 300 out of range", wr32(c + at + 4, 300));
    LIE("out of range", wr32(c + at + 4, 0xffffffffu));
    LIE("links to itself", wr32(c + at + 4, s1));
    LIE("names a neighbour twice", wr32(c + at + 8, rd32(c + at + 4)));
    LIE("neighbours, at most 8", wr32(c + at, 9));
    LIE("level 200 above the limit", c[l.levels + 3] = 200);
    LIE("the seed gives", c[l.levels + low] = 1);
    LIE("dim 0 out of range", wr32(c + 52, 0));
    LIE("dim 9 and", wr32(c + 52, 9));   /* sizes no longer add up */
    LIE("entry point 300 out of range", wr32(c + 88, 300));
    LIE("entry point", wr32(c + 88, low));
    LIE("max level 17 above", wr32(c + 92, 17));
    LIE("not on the top level", wr32(c + 92, rd32(c + 92) + 1));
    LIE("more than max_elements", wr32(c + 68, 200));
    LIE("deleted of", wr32(c + 84, 301));
    LIE("flagged deleted", wr32(c + 84, rd32(c + 84) + 1));
    LIE("bad flags", c[l.flags + 5] = 2);
    LIE("NaN or infinite", wr32(c + l.vectors + 4 * 17, 0x7fc00000u));
    LIE("NaN or infinite", wr32(c + l.vectors + 4 * 33, 0xff800000u));
    LIE("label 4 on live nodes 1 and 2", wr32(c + l.labels + 4 * 2, 4));
    LIE("unknown metric", wr32(c + 56, 7));
    LIE("M 1 out of range", wr32(c + 60, 1));
    LIE("ef_construction 0", wr32(c + 64, 0));
    LIE("reserved header byte", c[120] = 1);
    LIE("link words need", wr32(c + 96, rd32(c + 96) + 1));
    LIE("need", wr32(c + 80, 299));
    if ((l.flags + l.count) % 4 != 0)
        LIE("padding", c[l.flags + l.count] = 1);
    /* a neighbour that lacks the level it is linked on */
    size_t up = link_at(f, &l, hi, 1);
    if (rd32(f + up) > 0)
        LIE("has no level 1", wr32(c + up + 4, low));
    /* the link section's words shifted between lists: counts say otherwise */
    LIE(NULL, wr32(c + at, rd32(c + at) - 1));
    /* the expected dim */
    refused(f, len, 16, "dim mismatch: the file has 8, expected 16");

    free(damage_arena.mem);
    free(ob.mem);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_arena_too_small),
        cmocka_unit_test(test_insert_refusals),
        cmocka_unit_test(test_empty_and_single),
        cmocka_unit_test(test_exact_small),
        cmocka_unit_test(test_recall_clustered),
        cmocka_unit_test(test_delete_recall),
        cmocka_unit_test(test_cosine_and_ip),
        cmocka_unit_test(test_save_load_roundtrip),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_damaged_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
