/*
 * aios-hnsw-bench: recall@10 and queries per second of the HNSW index (aios/lib/hnsw.c)
 * against brute force, over a sweep of ef_search, on
 *   (a) a synthetic clustered set: 20,000 x 128 in 100 Gaussian clusters, 1,000 queries
 *       from the same mixture (seeded, so every run measures the same data);
 *   (b) Fashion-MNIST (60,000 x 784 training images as the index, the first 1,000 test
 *       images as queries, squared L2 on the raw 0..255 pixels), read from the IDX files
 *       of Debian's package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist,
 *       gzipped; read with zlib) or --fmnist DIR. Skipped, saying so, when absent.
 * Output: one JSON object per line on stdout (build figures, brute force, then one line
 * per ef_search); progress on stderr. Single-threaded; the brute force uses the same
 * 8-lane fp32 loop the index does, so the comparison is of algorithms, not kernels.
 *
 * usage: aios-hnsw-bench [--fmnist DIR] [--no-synthetic] [--no-fmnist] [--queries N]
 *                        [--m M] [--efc N] [--limit N]   (index only the first N points)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "aios/hnsw.h"

#define K 10
#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

static const size_t ef_sweep[] = { 10, 16, 32, 64, 128, 256 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "aios-hnsw-bench: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

/* ---------------------------------------------------------------- data */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = (rng_state += 0x9E3779B97F4A7C15ull);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Irwin-Hall approximation of N(0, 1): no libm needed. */
static float gauss(void)
{
    float s = 0;
    for (int i = 0; i < 12; i++)
        s += (float)(rnd() >> 40) / (float)(1 << 24);
    return s - 6.0f;
}

static float *clustered(size_t n, size_t d, size_t nc, float spread, uint64_t seed)
{
    float *c = xmalloc(nc * d * sizeof(float)), *v = xmalloc(n * d * sizeof(float));
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

/* An IDX image file (magic 0x00000803, big-endian n, rows, cols, then bytes), gzipped or
 * not, as floats. NULL with a reason in why. */
static float *read_idx(const char *path, size_t *n, size_t *dim, char *why, size_t whylen)
{
    gzFile f = gzopen(path, "rb");
    unsigned char hdr[16];

    if (f == NULL) {
        snprintf(why, whylen, "%s not found", path);
        return NULL;
    }
    if (gzread(f, hdr, 16) != 16 || hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 8 || hdr[3] != 3) {
        snprintf(why, whylen, "%s: not an IDX image file", path);
        gzclose(f);
        return NULL;
    }
    uint32_t v[3];
    for (int i = 0; i < 3; i++)
        v[i] = (uint32_t)hdr[4 + 4 * i] << 24 | (uint32_t)hdr[5 + 4 * i] << 16 |
               (uint32_t)hdr[6 + 4 * i] << 8 | hdr[7 + 4 * i];
    *n = v[0];
    *dim = (size_t)v[1] * v[2];
    if (*n == 0 || *dim == 0 || *n > 10000000 || *dim > AIOS_HNSW_MAX_DIM) {
        snprintf(why, whylen, "%s: implausible shape", path);
        gzclose(f);
        return NULL;
    }
    size_t bytes = *n * *dim;
    unsigned char *raw = xmalloc(bytes);
    size_t got = 0;
    while (got < bytes) {
        size_t chunk = bytes - got > (1u << 30) ? (1u << 30) : bytes - got;
        int r = gzread(f, raw + got, (unsigned)chunk);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    gzclose(f);
    if (got != bytes) {
        snprintf(why, whylen, "%s: truncated", path);
        free(raw);
        return NULL;
    }
    float *out = xmalloc(bytes * sizeof(float));
    for (size_t i = 0; i < bytes; i++)
        out[i] = raw[i];
    free(raw);
    return out;
}

/* ---------------------------------------------------------------- brute force */

/* Squared L2 with 8 lane accumulators (vectorised by the compiler, as in hnsw.c). */
static float l2sq(const float *a, const float *b, size_t n)
{
    float acc[8] = { 0 }, sum;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            float d = a[i + j] - b[i + j];
            acc[j] += d * d;
        }
    sum = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
    for (; i < n; i++) {
        float d = a[i] - b[i];
        sum += d * d;
    }
    return sum;
}

/* The K nearest of each query, into truth[q * K ...]. Returns the seconds taken. */
static double brute_force(const float *v, size_t n, const float *qs, size_t nq, size_t d,
                          uint32_t *truth)
{
    double t0 = now();
    for (size_t q = 0; q < nq; q++) {
        float best[K];
        uint32_t *ids = truth + q * K;
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            float dist = l2sq(qs + q * d, v + i * d, d);
            if (m == K && dist >= best[K - 1])
                continue;
            size_t pos = m < K ? m : K - 1;
            while (pos > 0 && best[pos - 1] > dist) {
                best[pos] = best[pos - 1];
                ids[pos] = ids[pos - 1];
                pos--;
            }
            best[pos] = dist;
            ids[pos] = (uint32_t)i;
            if (m < K)
                m++;
        }
    }
    return now() - t0;
}

/* ---------------------------------------------------------------- one data set */

struct opts {
    uint32_t m, efc;
    size_t queries, limit;
};

static void run(const char *name, const float *v, size_t n, const float *qs, size_t nq,
                size_t d, const struct opts *o)
{
    struct aios_hnsw_params p = { (uint32_t)d, AIOS_HNSW_L2, o->m, o->efc, (uint32_t)n, 42 };
    size_t bytes = aios_hnsw_bytes(&p);
    unsigned char *mem = xmalloc(bytes);
    struct aios_arena a;
    struct aios_hnsw h;
    char err[200];

    aios_arena_init(&a, mem, bytes);
    if (aios_hnsw_init(&h, &p, &a, err, sizeof err) != AIOS_OK) {
        fprintf(stderr, "aios-hnsw-bench: %s\n", err);
        exit(1);
    }
    fprintf(stderr, "%s: building %zu x %zu (M %u, ef_construction %u)...\n", name, n, d,
            o->m, o->efc);
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        if (aios_hnsw_insert(&h, v + i * d, (uint32_t)i) != AIOS_OK) {
            fprintf(stderr, "aios-hnsw-bench: insert %zu failed\n", i);
            exit(1);
        }
        if ((i + 1) % 10000 == 0)
            fprintf(stderr, "  %zu inserted, %.1f s\n", i + 1, now() - t0);
    }
    double build = now() - t0;
    printf("{\"dataset\":\"%s\",\"n\":%zu,\"dim\":%zu,\"queries\":%zu,\"M\":%u,"
           "\"ef_construction\":%u,\"build_s\":%.2f,\"inserts_per_s\":%.0f,"
           "\"index_bytes\":%zu,\"file_bytes\":%zu}\n",
           name, n, d, nq, o->m, o->efc, build, (double)n / build, bytes,
           aios_hnsw_save_size(&h));
    fflush(stdout);

    fprintf(stderr, "%s: brute force over %zu queries...\n", name, nq);
    uint32_t *truth = xmalloc(nq * K * sizeof(uint32_t));
    double bf = brute_force(v, n, qs, nq, d, truth);
    printf("{\"dataset\":\"%s\",\"method\":\"brute_force\",\"recall@10\":1.0000,\"qps\":%.1f}\n",
           name, (double)nq / bf);
    fflush(stdout);

    size_t sbytes = aios_hnsw_search_bytes(&h, K, ef_sweep[sizeof ef_sweep / sizeof ef_sweep[0] - 1]);
    unsigned char *smem = xmalloc(sbytes);
    struct aios_arena s;
    aios_arena_init(&s, smem, sbytes);
    for (size_t e = 0; e < sizeof ef_sweep / sizeof ef_sweep[0]; e++) {
        size_t hits = 0, found;
        uint32_t labels[K];
        /* a warm-up pass, then the timed one */
        for (size_t q = 0; q < nq && q < 50; q++)
            aios_hnsw_search(&h, qs + q * d, K, ef_sweep[e], labels, NULL, &found, &s);
        double q0 = now();
        for (size_t q = 0; q < nq; q++) {
            if (aios_hnsw_search(&h, qs + q * d, K, ef_sweep[e], labels, NULL, &found, &s) !=
                AIOS_OK) {
                fprintf(stderr, "aios-hnsw-bench: search failed\n");
                exit(1);
            }
            for (size_t i = 0; i < found; i++)
                for (size_t j = 0; j < K; j++)
                    hits += labels[i] == truth[q * K + j];
        }
        double secs = now() - q0;
        printf("{\"dataset\":\"%s\",\"method\":\"hnsw\",\"ef_search\":%zu,\"recall@10\":%.4f,"
               "\"qps\":%.1f,\"speedup\":%.1f}\n",
               name, ef_sweep[e], (double)hits / (double)(nq * K), (double)nq / secs,
               bf / secs);
        fflush(stdout);
    }
    free(smem);
    free(truth);
    free(mem);
}

static void synthetic(const struct opts *o)
{
    const size_t n = o->limit && o->limit < 20000 ? o->limit : 20000, d = 128;
    size_t nq = o->queries;
    /* one draw from the mixture: the first n points are indexed, the rest are queries */
    float *all = clustered(n + nq, d, 100, 1.0f, 7);
    run("synthetic-clustered", all, n, all + n * d, nq, d, o);
    free(all);
}

static void fashion_mnist(const char *dir, const struct opts *o)
{
    char train[512], test[512], why[1100];
    size_t n, d, nq, dq;

    snprintf(train, sizeof train, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(test, sizeof test, "%s/t10k-images-idx3-ubyte.gz", dir);
    float *v = read_idx(train, &n, &d, why, sizeof why);
    float *q = v ? read_idx(test, &nq, &dq, why, sizeof why) : NULL;
    if (v == NULL || q == NULL || d != dq) {
        if (v != NULL && q != NULL)
            snprintf(why, sizeof why, "%s and %s differ in shape", train, test);
        fprintf(stderr, "skipped: fashion-mnist: %s (Debian package dataset-fashion-mnist)\n",
                why);
        printf("{\"dataset\":\"fashion-mnist\",\"skipped\":\"");
        for (const char *c = why; *c; c++)   /* a JSON string whatever the path holds */
            printf(*c == '"' || *c == '\\' ? "\\%c" : (unsigned char)*c < 0x20 ? "?" : "%c", *c);
        printf(" (Debian package dataset-fashion-mnist)\"}\n");
        free(v);
        free(q);
        return;
    }
    if (o->limit && o->limit < n)
        n = o->limit;
    if (o->queries < nq)
        nq = o->queries;
    run("fashion-mnist", v, n, q, nq, d, o);
    free(v);
    free(q);
}

int main(int argc, char **argv)
{
    struct opts o = { 16, 200, 1000, 0 };
    const char *dir = FMNIST_DIR;
    int syn = 1, fm = 1;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--no-synthetic") == 0) {
            syn = 0;
        } else if (strcmp(arg, "--no-fmnist") == 0) {
            fm = 0;
        } else if (val != NULL && strcmp(arg, "--fmnist") == 0) {
            dir = val;
            i++;
        } else if (val != NULL && strcmp(arg, "--queries") == 0) {
            o.queries = strtoul(val, NULL, 10);
            i++;
        } else if (val != NULL && strcmp(arg, "--m") == 0) {
            o.m = (uint32_t)strtoul(val, NULL, 10);
            i++;
        } else if (val != NULL && strcmp(arg, "--efc") == 0) {
            o.efc = (uint32_t)strtoul(val, NULL, 10);
            i++;
        } else if (val != NULL && strcmp(arg, "--limit") == 0) {
            o.limit = strtoul(val, NULL, 10);
            i++;
        } else {
            fprintf(stderr,
                    "usage: %s [--fmnist DIR] [--no-synthetic] [--no-fmnist] [--queries N]\n"
                    "          [--m M] [--efc N] [--limit N]\n", argv[0]);
            return 2;
        }
    }
    if (o.queries == 0)
        o.queries = 1;
    if (syn)
        synthetic(&o);
    if (fm)
        fashion_mnist(dir, &o);
    return 0;
}
