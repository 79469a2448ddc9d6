/*
 * The sentence encoder's trainer (see encoder_train.h and docs/encoder.md).
 *
 * Each member of the file (encoder.h) is trained on its own, one after the other, as below.
 * Forward, for one sentence with features (bucket f, weight a_f) and total weight Z:
 *     x = sum_f a_f E[f] / Z;  h = tanh(W x + b) (or h = x without a dense layer);
 *     e = h / |h|;  cos_c = e . P_c / |P_c|;  logit_c = s (cos_c - m [c = y]);
 *     loss = -log softmax(logit)_y.
 * Backward by hand, in the reverse order, and an SGD step on P, W, b and the rows of E
 * the sentence touched. All arithmetic is float in a fixed order, and exp comes from
 * aios_math, so nothing depends on the machine's libm.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aios/aios_math.h"
#include "aios/kernels.h"
#include "encoder_train.h"
#include "rng.h"

void enc_train_defaults(struct enc_train_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->p.buckets = 1u << 16;
    o->p.dim = 128;
    o->p.out_dim = 128;
    o->p.seed = 1;
    o->p.minn = 3;
    o->p.maxn = 5;
    o->p.flags = AIOS_ENC_F_ALL;
    o->p.word_permille = 850;
    o->p.members = 3;
    o->seed = 1;
    o->epochs = 30;
    o->lr = 0.2f;
    o->scale = 16.0f;
    o->margin = 0.2f;
    o->aug_copies = 2;
    o->aug_prob = 0.3f;
    o->init = 0.0f;
}

/* ---------------------------------------------------------------- substitution table */

struct pair { char *word, *sub; size_t order; };

/* Before enc_subst_finish the pairs sit in a flat list. */
struct pending { struct pair *pairs; size_t count, cap; };

void enc_subst_add(struct enc_subst *s, const char *word, const char *sub)
{
    struct pending *p = s->pending;

    if (!p) {
        p = calloc(1, sizeof(*p));
        if (!p)
            abort();
        s->pending = p;
    }
    if (p->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 1024;
        p->pairs = realloc(p->pairs, p->cap * sizeof(*p->pairs));
        if (!p->pairs)
            abort();
    }
    p->pairs[p->count].word = strdup(word);
    p->pairs[p->count].sub = strdup(sub);
    if (!p->pairs[p->count].word || !p->pairs[p->count].sub)
        abort();
    p->pairs[p->count].order = p->count;
    p->count++;
}

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = strcmp(x->word, y->word);

    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

void enc_subst_finish(struct enc_subst *s)
{
    struct pending *p = s->pending;

    s->pending = NULL;
    if (!p)
        return;
    qsort(p->pairs, p->count, sizeof(*p->pairs), pair_cmp);
    s->words = calloc(p->count + 1, sizeof(*s->words));
    s->subs = calloc(p->count + 1, sizeof(*s->subs));
    s->nsubs = calloc(p->count + 1, sizeof(*s->nsubs));
    if (!s->words || !s->subs || !s->nsubs)
        abort();
    for (size_t i = 0; i < p->count;) {
        size_t j = i;
        while (j < p->count && !strcmp(p->pairs[j].word, p->pairs[i].word))
            j++;
        char **list = calloc(j - i, sizeof(*list));
        int n = 0;
        if (!list)
            abort();
        for (size_t k = i; k < j; k++) {
            bool dup = false;
            for (int t = 0; t < n && !dup; t++)
                dup = !strcmp(list[t], p->pairs[k].sub);
            if (dup)
                free(p->pairs[k].sub);
            else
                list[n++] = p->pairs[k].sub;
            if (k > i)
                free(p->pairs[k].word);
        }
        s->words[s->count] = p->pairs[i].word;
        s->subs[s->count] = list;
        s->nsubs[s->count] = n;
        s->count++;
        i = j;
    }
    free(p->pairs);
    free(p);
}

void enc_subst_free(struct enc_subst *s)
{
    if (s->words) {
        for (size_t i = 0; i < s->count; i++) {
            for (int k = 0; k < s->nsubs[i]; k++)
                free(s->subs[i][k]);
            free(s->subs[i]);
            free(s->words[i]);
        }
    }
    if (s->pending) {
        struct pending *p = s->pending;
        for (size_t i = 0; i < p->count; i++) {
            free(p->pairs[i].word);
            free(p->pairs[i].sub);
        }
        free(p->pairs);
        free(p);
    }
    free(s->words);
    free(s->subs);
    free(s->nsubs);
    memset(s, 0, sizeof(*s));
}

char **enc_subst_find(const struct enc_subst *s, const char *word, int *n)
{
    size_t lo = 0, hi = s ? s->count : 0;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->words[mid], word);
        if (c == 0) {
            *n = s->nsubs[mid];
            return s->subs[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *n = 0;
    return NULL;
}

/* ---------------------------------------------------------------- features */

static void collect(void *ctx, uint32_t bucket, float weight)
{
    struct enc_feats *fs = ctx;

    if (fs->n == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 64;
        fs->f = realloc(fs->f, fs->cap * sizeof(*fs->f));
        if (!fs->f)
            abort();
    }
    fs->f[fs->n].bucket = bucket;
    fs->f[fs->n].weight = weight;
    fs->n++;
}

void enc_feats_append(const struct aios_encoder_params *p, const char *text,
                      struct enc_feats *fs)
{
    fs->total += aios_encoder_featurize(p, text, collect, fs);
}

static void featurize(const struct aios_encoder_params *p, const char *text,
                      struct enc_feats *fs)
{
    fs->n = 0;
    fs->total = 0.0f;
    enc_feats_append(p, text, fs);
}

/* text with words replaced by substitutes (each with probability prob) and the words not
 * replaced dropped (each with probability drop), words joined by single spaces, into *buf
 * (grown as needed). Whether anything was replaced or dropped. */
static bool augment(const char *text, const struct enc_subst *s, float prob, float drop,
                    uint64_t *rng, char **buf, size_t *cap)
{
    const unsigned char *t = (const unsigned char *)text;
    char word[128];
    size_t len = 0;
    bool changed = false;

    for (;;) {
        while (*t && !aios_encoder_word_byte(*t))
            t++;
        if (!*t)
            break;
        size_t wl = 0;
        while (aios_encoder_word_byte(*t)) {
            unsigned char c = *t++;
            if (wl + 1 < sizeof(word))
                word[wl++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        word[wl] = '\0';
        int n;
        char **subs = enc_subst_find(s, word, &n);
        const char *out = word;
        if (subs && n > 0 && rng_uniform(rng) < prob) {
            out = subs[rng_below(rng, (uint32_t)n)];
            changed = true;
        } else if (drop > 0.0f && rng_uniform(rng) < drop) {
            changed = true;
            continue;
        }
        size_t ol = strlen(out);
        if (len + ol + 2 > *cap) {
            *cap = (len + ol + 2) * 2;
            *buf = realloc(*buf, *cap);
            if (!*buf)
                abort();
        }
        if (len)
            (*buf)[len++] = ' ';
        memcpy(*buf + len, out, ol);
        len += ol;
    }
    if (!*buf || *cap == 0) {
        *cap = 16;
        *buf = realloc(*buf, *cap);
        if (!*buf)
            abort();
    }
    (*buf)[len] = '\0';
    return changed;
}

/* ---------------------------------------------------------------- training */

struct trainer {
    const struct enc_train_opts *o;
    struct enc_model *m;
    float *emb, *w, *b;      /* the member being trained: its part of m's arrays */
    bool fixed_emb;          /* its E is pretrained and stays as it is */
    int classes;
    float *proto;            /* [classes][odim] */
    float *x, *h, *e, *de, *dx, *dz, *cosv, *pn;
    size_t dim, odim;
};

static float tanh_f(float z)
{
    float a = z < 0.0f ? -z : z;
    float t = 1.0f - 2.0f / (aios_expf(2.0f * a) + 1.0f);

    return z < 0.0f ? -t : t;
}

/* One SGD step on one sentence; returns its loss, *correct = whether the nearest
 * prototype is the label. */
static float step(struct trainer *t, const struct enc_feats *fs, int label, float lr, int *correct)
{
    const struct enc_train_opts *o = t->o;
    struct enc_model *m = t->m;
    size_t dim = t->dim, odim = t->odim;
    float *x = t->x, *h = t->h, *e = t->e;

    *correct = 0;
    if (fs->total == 0.0f)
        return 0.0f;
    memset(x, 0, dim * sizeof(float));
    for (size_t i = 0; i < fs->n; i++) {
        const float *row = t->emb + (size_t)fs->f[i].bucket * dim;
        float a = fs->f[i].weight;
        for (size_t d = 0; d < dim; d++)
            x[d] += a * row[d];
    }
    float inv_total = 1.0f / fs->total;
    for (size_t d = 0; d < dim; d++)
        x[d] *= inv_total;
    if (m->p.out_dim) {
        for (size_t k = 0; k < odim; k++)
            h[k] = tanh_f(aios_dot_f32(t->w + k * dim, x, dim) + t->b[k]);
    } else {
        memcpy(h, x, dim * sizeof(float));
    }
    float norm = aios_sqrtf(aios_dot_f32(h, h, odim) + 1e-12f);
    for (size_t k = 0; k < odim; k++)
        e[k] = h[k] / norm;

    /* Logits, softmax. */
    int best = 0;
    float maxl = -1e30f;
    for (int c = 0; c < t->classes; c++) {
        const float *p = t->proto + (size_t)c * odim;
        t->pn[c] = aios_sqrtf(aios_dot_f32(p, p, odim) + 1e-12f);
        t->cosv[c] = aios_dot_f32(e, p, odim) / t->pn[c];
        if (t->cosv[c] > t->cosv[best])
            best = c;
    }
    *correct = best == label;
    float *prob = t->dz;     /* borrowed: classes <= dim is not guaranteed, see alloc */
    for (int c = 0; c < t->classes; c++) {
        prob[c] = o->scale * (t->cosv[c] - (c == label ? o->margin : 0.0f));
        if (prob[c] > maxl)
            maxl = prob[c];
    }
    float sum = 0.0f;
    for (int c = 0; c < t->classes; c++) {
        prob[c] = aios_expf(prob[c] - maxl);
        sum += prob[c];
    }
    float loss = -aios_logf(prob[label] / sum);

    /* Backward: g_c = dL/dcos_c; de; prototype updates. */
    float *de = t->de;
    memset(de, 0, odim * sizeof(float));
    for (int c = 0; c < t->classes; c++) {
        float g = o->scale * (prob[c] / sum - (c == label ? 1.0f : 0.0f));
        float *p = t->proto + (size_t)c * odim;
        float gp = g / t->pn[c];
        if (gp == 0.0f)
            continue;
        for (size_t k = 0; k < odim; k++)
            de[k] += gp * p[k];
        /* dcos/dP = (e - cos * P/|P|) / |P| */
        for (size_t k = 0; k < odim; k++)
            p[k] -= lr * gp * (e[k] - t->cosv[c] * p[k] / t->pn[c]);
    }
    /* Through the normalisation: dh = (de - (de . e) e) / |h|. */
    float dee = aios_dot_f32(de, e, odim);
    float *dh = t->de;
    for (size_t k = 0; k < odim; k++)
        dh[k] = (de[k] - dee * e[k]) / norm;

    float *dx = t->dx;
    if (m->p.out_dim) {
        float *dz = t->dz;
        for (size_t k = 0; k < odim; k++)
            dz[k] = dh[k] * (1.0f - h[k] * h[k]);
        memset(dx, 0, dim * sizeof(float));
        for (size_t k = 0; k < odim; k++) {
            float *wr = t->w + k * dim;
            float g = dz[k];
            for (size_t d = 0; d < dim; d++)
                dx[d] += g * wr[d];
            for (size_t d = 0; d < dim; d++)
                wr[d] -= lr * g * x[d];
            t->b[k] -= lr * g;
        }
    } else {
        memcpy(dx, dh, dim * sizeof(float));
    }
    for (size_t i = 0; i < fs->n && !t->fixed_emb; i++) {
        float *row = t->emb + (size_t)fs->f[i].bucket * dim;
        float a = lr * fs->f[i].weight * inv_total;
        for (size_t d = 0; d < dim; d++)
            row[d] -= a * dx[d];
    }
    return loss;
}

/*
 * A pretrained table, moved and scaled per dimension so that the training sentences' x
 * have mean 0 and variance 1/dim in every dimension (|x| about 1, as a trained table
 * gives): E[f] = (E[f] - mu) / (sd sqrt(dim)). Exact for every x, since a sentence's
 * feature weights sum to its total: x' = (x - mu) / (sd sqrt(dim)). mean, var: dim floats.
 */
static void standardise(float *emb, uint32_t buckets, size_t dim, const struct enc_feats *fs,
                        size_t n, float *mean, float *var)
{
    double *s1 = calloc(dim, sizeof(double)), *s2 = calloc(dim, sizeof(double));
    float *x = malloc(dim * sizeof(float));
    size_t used = 0;

    if (!s1 || !s2 || !x)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (fs[i].total == 0.0f)
            continue;
        memset(x, 0, dim * sizeof(float));
        for (size_t k = 0; k < fs[i].n; k++) {
            const float *row = emb + (size_t)fs[i].f[k].bucket * dim;
            for (size_t d = 0; d < dim; d++)
                x[d] += fs[i].f[k].weight * row[d];
        }
        for (size_t d = 0; d < dim; d++) {
            double v = (double)(x[d] / fs[i].total);
            s1[d] += v;
            s2[d] += v * v;
        }
        used++;
    }
    for (size_t d = 0; d < dim; d++) {
        double mu = used ? s1[d] / (double)used : 0.0;
        double v = used ? s2[d] / (double)used - mu * mu : 0.0;
        mean[d] = (float)mu;
        var[d] = v > 1e-12 ? (float)v : 1.0f;
    }
    float root = aios_sqrtf((float)dim);
    for (size_t d = 0; d < dim; d++)
        var[d] = 1.0f / (aios_sqrtf(var[d]) * root);
    for (size_t r = 0; r < buckets; r++)
        for (size_t d = 0; d < dim; d++)
            emb[r * dim + d] = (emb[r * dim + d] - mean[d]) * var[d];
    free(s1);
    free(s2);
    free(x);
}

void enc_model_free(struct enc_model *m)
{
    free(m->emb);
    free(m->w);
    free(m->b);
    memset(m, 0, sizeof(*m));
}

int enc_train(const struct enc_example *ex, size_t n, int classes,
              const struct enc_train_opts *o, const struct enc_subst *subst,
              struct enc_model *m, char *err, size_t errlen)
{
    struct trainer t = { .o = o, .m = m, .classes = classes };
    uint64_t rng = o->seed;
    char msg[160];

    memset(m, 0, sizeof(*m));
    if (aios_encoder_file_size(&o->p, AIOS_ENC_FP32, msg, sizeof(msg)) == 0) {
        snprintf(err, errlen, "%s", msg);
        return -1;
    }
    if (o->pretrained_members > o->p.members) {
        snprintf(err, errlen, "train: %u pretrained members of %u", o->pretrained_members,
                 o->p.members);
        return -1;
    }
    if (n == 0 || classes < 1) {
        snprintf(err, errlen, "train: no examples");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (ex[i].label < 0 || ex[i].label >= classes) {
            snprintf(err, errlen, "train: example %zu has label %d of %d", i, ex[i].label,
                     classes);
            return -1;
        }

    m->p = o->p;
    t.dim = o->p.dim;
    t.odim = o->p.out_dim ? o->p.out_dim : o->p.dim;
    size_t rows = (size_t)o->p.buckets * t.dim;
    size_t big = t.odim > (size_t)classes ? t.odim : (size_t)classes;
    size_t members = o->p.members;
    m->emb = malloc(members * rows * sizeof(float));
    m->w = calloc(members * t.odim * t.dim + 1, sizeof(float));
    m->b = calloc(members * t.odim + 1, sizeof(float));
    t.proto = malloc((size_t)classes * t.odim * sizeof(float));
    t.x = calloc(t.dim, sizeof(float));
    t.dx = calloc(t.dim, sizeof(float));
    t.h = calloc(t.odim, sizeof(float));
    t.e = calloc(t.odim, sizeof(float));
    t.de = calloc(t.odim, sizeof(float));
    t.dz = calloc(big, sizeof(float));
    t.cosv = calloc((size_t)classes, sizeof(float));
    t.pn = calloc((size_t)classes, sizeof(float));
    size_t *order = malloc(n * sizeof(*order));
    struct enc_feats *orig = calloc(n, sizeof(*orig));
    struct enc_feats var = { 0 };
    char *buf = NULL;
    size_t bufcap = 0;
    if (!m->emb || !m->w || !m->b || !t.proto || !t.x || !t.dx || !t.h || !t.e || !t.de ||
        !t.dz || !t.cosv || !t.pn || !order || !orig) {
        snprintf(err, errlen, "train: out of memory");
        enc_model_free(m);
        return -1;
    }

    /* The members one after the other, each with its own hash seed, initialisation and
     * shuffles, from the one generator. */
    for (uint32_t mb = 0; mb < members; mb++) {
        struct aios_encoder_params fp = aios_encoder_member_params(&o->p, mb);
        t.emb = m->emb + mb * rows;
        t.w = m->w + mb * t.odim * t.dim;
        t.b = m->b + mb * t.odim;
        /* Initialisation: E ~ U(-init, init) (0: zeros, so a bucket no training sentence
         * touches adds nothing), W ~ U(+-sqrt(6 / (dim + out_dim))) (Glorot), b = 0,
         * prototypes ~ U(-1, 1). Fresh for each member. */
        t.fixed_emb = mb >= members - o->pretrained_members;
        if (t.fixed_emb)
            memcpy(t.emb, o->pretrained[mb - (members - o->pretrained_members)],
                   rows * sizeof(float));
        else
            for (size_t i = 0; i < rows; i++)
                t.emb[i] = o->init > 0.0f ? (2.0f * rng_uniform(&rng) - 1.0f) * o->init : 0.0f;
        if (o->p.out_dim) {
            float a = aios_sqrtf(6.0f / (float)(t.dim + t.odim));
            for (size_t i = 0; i < t.odim * t.dim; i++)
                t.w[i] = (2.0f * rng_uniform(&rng) - 1.0f) * a;
            for (size_t k = 0; k < t.odim; k++)
                t.b[k] = (2.0f * rng_uniform(&rng) - 1.0f) * 0.1f;
        }
        for (size_t i = 0; i < (size_t)classes * t.odim; i++)
            t.proto[i] = 2.0f * rng_uniform(&rng) - 1.0f;

        for (size_t i = 0; i < n; i++)
            featurize(&fp, ex[i].text, &orig[i]);
        if (t.fixed_emb)
            standardise(t.emb, o->p.buckets, t.dim, orig, n, t.x, t.dx);

        size_t total_steps = (size_t)o->epochs * n * (size_t)(1 + (subst ? o->aug_copies : 0));
        size_t done = 0;
        clock_t t0 = clock();
        for (int ep = 0; ep < o->epochs; ep++) {
            double loss = 0.0;
            size_t seen = 0, right = 0;
            for (size_t i = 0; i < n; i++)
                order[i] = i;
            for (size_t i = n; i > 1; i--) {
                size_t j = rng_below(&rng, (uint32_t)i);
                size_t tmp = order[i - 1];
                order[i - 1] = order[j];
                order[j] = tmp;
            }
            for (size_t k = 0; k < n; k++) {
                size_t i = order[k];
                int ok;
                float lr = o->lr * (1.0f - (float)done / (float)total_steps);
                loss += step(&t, &orig[i], ex[i].label, lr, &ok);
                right += (size_t)ok;
                seen++;
                done++;
                for (int a = 0; subst && a < o->aug_copies; a++) {
                    lr = o->lr * (1.0f - (float)done / (float)total_steps);
                    done++;
                    if (!augment(ex[i].text, subst, o->aug_prob, o->aug_drop, &rng, &buf,
                                 &bufcap))
                        continue;
                    featurize(&fp, buf, &var);
                    loss += step(&t, &var, ex[i].label, lr, &ok);
                    seen++;
                }
            }
            if (o->verbose)
                fprintf(stderr, "train: member %u/%u  epoch %2d/%d  loss %.4f  "
                        "train accuracy %.1f%%  %.1f s\n", (unsigned)mb + 1, (unsigned)members,
                        ep + 1, o->epochs, seen ? loss / (double)seen : 0.0,
                        100.0 * (double)right / (double)n,
                        (double)(clock() - t0) / CLOCKS_PER_SEC);
        }
    }

    for (size_t i = 0; i < n; i++)
        free(orig[i].f);
    free(orig);
    free(var.f);
    free(buf);
    free(order);
    free(t.proto);
    free(t.x);
    free(t.dx);
    free(t.h);
    free(t.e);
    free(t.de);
    free(t.dz);
    free(t.cosv);
    free(t.pn);
    return 0;
}

unsigned char *enc_model_file(const struct enc_model *m, int encoding, size_t *size,
                              char *err, size_t errlen)
{
    size_t n = aios_encoder_file_size(&m->p, encoding, err, errlen);
    unsigned char *buf;

    if (n == 0)
        return NULL;
    buf = aligned_alloc(16, (n + 15) & ~(size_t)15);
    if (!buf) {
        snprintf(err, errlen, "encoder: out of memory for a %zu-byte file", n);
        return NULL;
    }
    if (aios_encoder_write(buf, n, &m->p, encoding, m->emb, m->w, m->b, err, errlen) != AIOS_OK) {
        free(buf);
        return NULL;
    }
    *size = n;
    return buf;
}
