/*
 * aios-encoder-eval: how well an encoder file's embeddings classify by nearest neighbours
 * (brute-force cosine k-NN; docs/encoder.md).
 *
 *   aios-encoder-eval --weights ENC.bin --corpus aios/intents --tests tests/intents/paraphrases.txt
 *       embeds the corpus, classifies each held-out sentence, prints the accuracy per
 *       intent and overall (--errors: each miss).
 *   aios-encoder-eval --weights ENC.bin --clinc data_full.json [--clinc-oos]
 *       embeds CLINC150's train split (with --clinc-oos also oos_train, as an intent
 *       "oos"), chooses the out-of-scope threshold on calibration sentences that are not
 *       in the test split: val's in-scope sentences, and as out-of-scope ones val's and
 *       (unless --clinc-oos trained on them) oos_train's. It prints in-scope accuracy and
 *       out-of-scope recall on the test split as JSON at two thresholds: the highest
 *       calibration in-scope accuracy with calibration out-of-scope recall >= OOS_FLOOR
 *       (the operating point the target is stated at), and the one maximising
 *       calibration accuracy with in-scope and out-of-scope sentences weighted as in the
 *       test split; and without a threshold.
 *
 * Classification: the k (default 5) most similar examples vote with their cosine; the
 * intent with the largest sum wins; its score is the cosine of its nearest example. A
 * sentence whose score is below the threshold (or whose winner is "oos") is out of scope.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aios/encoder.h"
#include "intent_data.h"

struct index {
    float *vec;       /* [n][dim] */
    int *label;
    size_t n, dim;
};

static unsigned char scratch_mem[1 << 16];

static void embed_all(const struct aios_encoder *enc, const struct dataset *d, float *out,
                      size_t dim)
{
    struct aios_arena scratch;

    aios_arena_init(&scratch, scratch_mem, sizeof(scratch_mem));
    for (size_t i = 0; i < d->n; i++)
        if (aios_encoder_embed(enc, d->ex[i].text, out + i * dim, &scratch) != AIOS_OK) {
            fprintf(stderr, "aios-encoder-eval: embedding failed\n");
            exit(1);
        }
}

struct verdict { int label; float score; };

static struct verdict classify(const struct index *ix, const float *q, int k, int nlabels,
                               float *votes, float *best)
{
    int *top = calloc((size_t)k, sizeof(*top));
    float *topsim = calloc((size_t)k, sizeof(*topsim));
    int have = 0;

    if (!top || !topsim)
        abort();
    for (size_t i = 0; i < ix->n; i++) {
        float s = aios_encoder_cosine(q, ix->vec + i * ix->dim, ix->dim);
        if (have < k || s > topsim[have - 1]) {
            int j = have < k ? have++ : k - 1;
            while (j > 0 && topsim[j - 1] < s) {
                top[j] = top[j - 1];
                topsim[j] = topsim[j - 1];
                j--;
            }
            top[j] = (int)i;
            topsim[j] = s;
        }
    }
    for (int c = 0; c < nlabels; c++) {
        votes[c] = 0.0f;
        best[c] = -2.0f;
    }
    for (int j = 0; j < have; j++) {
        int c = ix->label[top[j]];
        if (topsim[j] > 0.0f)
            votes[c] += topsim[j];
        if (topsim[j] > best[c])
            best[c] = topsim[j];
    }
    struct verdict v = { .label = have ? ix->label[top[0]] : 0, .score = -2.0f };
    for (int c = 0; c < nlabels; c++)
        if (votes[c] > votes[v.label])
            v.label = c;
    v.score = best[v.label];
    free(top);
    free(topsim);
    return v;
}

static void load_encoder(const char *path, struct aios_encoder *enc, void **keep)
{
    size_t size;
    char *file = read_file(path, &size);
    char err[256];

    if (!file) {
        fprintf(stderr, "aios-encoder-eval: cannot read %s\n", path);
        exit(1);
    }
    void *buf = aligned_alloc(16, (size + 15) & ~(size_t)15);
    if (!buf)
        abort();
    memcpy(buf, file, size);
    free(file);
    if (aios_encoder_load(enc, buf, size, err, sizeof(err)) != AIOS_OK) {
        fprintf(stderr, "aios-encoder-eval: %s: %s\n", path, err);
        exit(1);
    }
    *keep = buf;
}

static void build_index(const struct aios_encoder *enc, const struct dataset *d, struct index *ix)
{
    ix->dim = aios_encoder_dim(enc);
    ix->n = d->n;
    ix->vec = malloc(d->n * ix->dim * sizeof(float));
    ix->label = malloc(d->n * sizeof(int));
    if (!ix->vec || !ix->label)
        abort();
    embed_all(enc, d, ix->vec, ix->dim);
    for (size_t i = 0; i < d->n; i++)
        ix->label[i] = d->ex[i].label;
}

static void usage(void)
{
    fprintf(stderr, "usage: aios-encoder-eval --weights FILE (--corpus DIR --tests FILE [--errors]\n"
                    "                         | --clinc FILE [--clinc-oos]) [-k K]\n");
    exit(2);
}

static int eval_tests(const struct aios_encoder *enc, const char *corpus, const char *tests,
                      int k, bool errors)
{
    struct labels l = { 0 };
    struct dataset train = { 0 }, test = { 0 };
    char err[512];
    struct index ix;

    if (data_read_corpus(corpus, &l, &train, err, sizeof(err)) ||
        data_read_tsv(tests, &l, &test, err, sizeof(err))) {
        fprintf(stderr, "aios-encoder-eval: %s\n", err);
        return 1;
    }
    build_index(enc, &train, &ix);
    float *q = malloc(ix.dim * sizeof(float));
    float *votes = malloc((size_t)l.count * sizeof(float));
    float *best = malloc((size_t)l.count * sizeof(float));
    int *right = calloc((size_t)l.count, sizeof(int)), *total = calloc((size_t)l.count, sizeof(int));
    size_t ok = 0;
    struct aios_arena scratch;
    aios_arena_init(&scratch, scratch_mem, sizeof(scratch_mem));
    for (size_t i = 0; i < test.n; i++) {
        aios_encoder_embed(enc, test.ex[i].text, q, &scratch);
        struct verdict v = classify(&ix, q, k, l.count, votes, best);
        int y = test.ex[i].label;
        total[y]++;
        if (v.label == y) {
            right[y]++;
            ok++;
        } else if (errors) {
            printf("  miss: %-18s -> %-18s %.3f  %s\n", l.names[y], l.names[v.label],
                   (double)v.score, test.ex[i].text);
        }
    }
    printf("%-20s %8s\n", "intent", "accuracy");
    for (int c = 0; c < l.count; c++)
        if (total[c])
            printf("%-20s %3d/%-3d %5.1f%%\n", l.names[c], right[c], total[c],
                   100.0 * right[c] / total[c]);
    printf("overall: %zu/%zu = %.1f%% (k=%d, %zu examples)\n", ok, test.n,
           100.0 * (double)ok / (double)test.n, k, train.n);
    free(q);
    free(votes);
    free(best);
    free(right);
    free(total);
    free(ix.vec);
    free(ix.label);
    dataset_free(&train);
    dataset_free(&test);
    labels_free(&l);
    return 0;
}

struct scored { float score; bool in_scope, correct; };

/* The operating point of the target: calibration out-of-scope recall at least
 * this. */
#define OOS_FLOOR 0.5

static void run_split(const struct aios_encoder *enc, const struct index *ix, const struct dataset *d,
                      int oos_label, int k, int nlabels, struct scored *out)
{
    float *q = malloc(ix->dim * sizeof(float));
    float *votes = malloc((size_t)nlabels * sizeof(float));
    float *best = malloc((size_t)nlabels * sizeof(float));
    struct aios_arena scratch;

    aios_arena_init(&scratch, scratch_mem, sizeof(scratch_mem));
    for (size_t i = 0; i < d->n; i++) {
        aios_encoder_embed(enc, d->ex[i].text, q, &scratch);
        struct verdict v = classify(ix, q, k, nlabels, votes, best);
        int y = d->ex[i].label;
        out[i].in_scope = y >= 0 && y != oos_label;
        /* A winner "oos" reads as a score below any threshold. */
        out[i].score = v.label == oos_label ? -3.0f : v.score;
        out[i].correct = v.label == y;
    }
    free(q);
    free(votes);
    free(best);
}

/* In-scope accuracy and out-of-scope recall at threshold t. */
static void rates(const struct scored *s, size_t n, float t, double *acc, double *rec)
{
    size_t in = 0, in_ok = 0, out = 0, out_ok = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i].in_scope) {
            in++;
            in_ok += s[i].correct && s[i].score >= t;
        } else {
            out++;
            out_ok += s[i].score < t;
        }
    }
    *acc = in ? (double)in_ok / (double)in : 0.0;
    *rec = out ? (double)out_ok / (double)out : 0.0;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* The threshold at the operating points: each calibration score (and -inf: no threshold)
 * is a candidate. *floor_t: the highest in-scope accuracy with out-of-scope recall >=
 * OOS_FLOOR; *weighted_t: the highest accuracy with in-scope and out-of-scope sentences
 * weighted w_in : 1 - w_in. */
static void choose_thresholds(const struct scored *s, size_t n, double w_in, float *floor_t,
                              float *weighted_t)
{
    float *cand = malloc((n + 1) * sizeof(float));
    size_t nc = 0;

    if (!cand)
        abort();
    cand[nc++] = -2.5f;
    for (size_t i = 0; i < n; i++)
        if (s[i].score > -2.5f)
            cand[nc++] = s[i].score;
    qsort(cand, nc, sizeof(float), cmp_float);
    double best = -1.0, facc = -1.0;
    *weighted_t = cand[0];
    *floor_t = cand[nc - 1];
    for (size_t i = 0; i < nc; i++) {
        double a, r;
        rates(s, n, cand[i], &a, &r);
        if (w_in * a + (1.0 - w_in) * r > best) {
            best = w_in * a + (1.0 - w_in) * r;
            *weighted_t = cand[i];
        }
        if (r >= OOS_FLOOR && a > facc) {
            facc = a;
            *floor_t = cand[i];
        }
    }
    free(cand);
}

/* One operating point as JSON: its threshold, the calibration and the test figures. */
static void print_point(const char *name, float t, const struct scored *cal, size_t ncal,
                        const struct scored *test, size_t ntest)
{
    double ca, cr, ta, tr;

    rates(cal, ncal, t, &ca, &cr);
    rates(test, ntest, t, &ta, &tr);
    printf("\"%s\": {\"threshold\": %.4f, \"calibration_in_scope_accuracy\": %.2f, "
           "\"calibration_oos_recall\": %.2f, \"in_scope_accuracy\": %.2f, "
           "\"oos_recall\": %.2f}", name, (double)t, 100 * ca, 100 * cr, 100 * ta, 100 * tr);
}

static int eval_clinc(const struct aios_encoder *enc, const char *path, bool with_oos, int k)
{
    struct labels l = { 0 };
    struct dataset train = { 0 }, cal = { 0 }, test = { 0 };
    char err[512];
    char *json = read_file(path, NULL);

    if (!json) {
        fprintf(stderr, "aios-encoder-eval: cannot read %s\n", path);
        return 1;
    }
    /* Calibration: everything outside the test split that training did not see. */
    if (data_read_clinc(json, "train", &l, 1, &train, err, sizeof(err)) ||
        (with_oos && data_read_clinc(json, "oos_train", &l, 1, &train, err, sizeof(err))) ||
        data_read_clinc(json, "val", &l, 0, &cal, err, sizeof(err)) ||
        data_read_clinc(json, "oos_val", &l, 0, &cal, err, sizeof(err)) ||
        (!with_oos && data_read_clinc(json, "oos_train", &l, 0, &cal, err, sizeof(err))) ||
        data_read_clinc(json, "test", &l, 0, &test, err, sizeof(err)) ||
        data_read_clinc(json, "oos_test", &l, 0, &test, err, sizeof(err))) {
        fprintf(stderr, "aios-encoder-eval: %s\n", err);
        return 1;
    }
    free(json);
    int oos_label = labels_find(&l, "oos", 0);
    struct index ix;
    clock_t t0 = clock();
    build_index(enc, &train, &ix);
    struct scored *sc = malloc(cal.n * sizeof(*sc)), *st = malloc(test.n * sizeof(*st));
    if (!sc || !st)
        abort();
    run_split(enc, &ix, &cal, oos_label, k, l.count, sc);
    run_split(enc, &ix, &test, oos_label, k, l.count, st);

    size_t cal_in = 0, test_in = 0;
    for (size_t i = 0; i < cal.n; i++)
        cal_in += sc[i].in_scope;
    for (size_t i = 0; i < test.n; i++)
        test_in += st[i].in_scope;
    float floor_t, weighted_t;
    choose_thresholds(sc, cal.n, (double)test_in / (double)test.n, &floor_t, &weighted_t);
    double acc, rec, cacc0, crec0, acc0, rec0;
    rates(st, test.n, floor_t, &acc, &rec);
    rates(sc, cal.n, -2.5f, &cacc0, &crec0);
    rates(st, test.n, -2.5f, &acc0, &rec0);
    printf("{\"in_scope_accuracy\": %.2f, \"oos_recall\": %.2f, ", 100 * acc, 100 * rec);
    printf("\"operating_point\": \"calibration oos recall >= %.0f%%\", ", 100 * OOS_FLOOR);
    print_point("oos_recall_floor", floor_t, sc, cal.n, st, test.n);
    printf(", ");
    print_point("weighted_accuracy", weighted_t, sc, cal.n, st, test.n);
    printf(", \"in_scope_accuracy_no_threshold\": %.2f, "
           "\"calibration_in_scope_accuracy_no_threshold\": %.2f, "
           "\"calibration_sentences\": {\"in_scope\": %zu, \"oos\": %zu, \"oos_from\": \"%s\"}, "
           "\"test_sentences\": {\"in_scope\": %zu, \"oos\": %zu}, \"k\": %d, "
           "\"train_sentences\": %zu, \"oos_class\": %s, \"seconds\": %.1f}\n",
           100 * acc0, 100 * cacc0, cal_in, cal.n - cal_in,
           with_oos ? "oos_val" : "oos_val, oos_train", test_in, test.n - test_in, k, train.n,
           with_oos ? "true" : "false", (double)(clock() - t0) / CLOCKS_PER_SEC);
    free(sc);
    free(st);
    free(ix.vec);
    free(ix.label);
    dataset_free(&train);
    dataset_free(&cal);
    dataset_free(&test);
    labels_free(&l);
    return 0;
}

int main(int argc, char **argv)
{
    const char *weights = NULL, *corpus = NULL, *tests = NULL, *clinc = NULL;
    bool errors = false, clinc_oos = false;
    int k = 5;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--weights") && v)
            weights = argv[++i];
        else if (!strcmp(a, "--corpus") && v)
            corpus = argv[++i];
        else if (!strcmp(a, "--tests") && v)
            tests = argv[++i];
        else if (!strcmp(a, "--clinc") && v)
            clinc = argv[++i];
        else if (!strcmp(a, "--clinc-oos"))
            clinc_oos = true;
        else if (!strcmp(a, "--errors"))
            errors = true;
        else if (!strcmp(a, "-k") && v)
            k = atoi(argv[++i]);
        else
            usage();
    }
    if (!weights || k < 1 || (!clinc && (!corpus || !tests)))
        usage();
    struct aios_encoder enc;
    void *buf;
    load_encoder(weights, &enc, &buf);
    int rc = clinc ? eval_clinc(&enc, clinc, clinc_oos, k)
                   : eval_tests(&enc, corpus, tests, k, errors);
    free(buf);
    return rc;
}
