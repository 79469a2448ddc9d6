/*
 * Pretraining a member's feature table (see encoder_pretrain.h and docs/encoder.md).
 *
 * Per centre word with features (bucket f, weight a_f), total weight Z:
 *     x = sum_f a_f E[f] / Z
 *     for each context word c, for t in {c} + negatives:
 *         g = lr (label_t - sig(u_t . x));  dx += g u_t;  u_t += g x
 *     E[f] += (a_f Z / sum_f' a_f'^2) dx
 * (dx accumulated with the u_t before their update.) The rows' step is the gradient's,
 * a_f / Z, scaled so that x itself moves by dx: with the bare gradient the rows learn
 * about Z times slower than the outputs, and a short pretraining leaves the table one
 * direction (a word's frequency) and noise; with dx on every row, as fastText does,
 * n-gram rows that weigh 1/100 of a word grow a hundredfold and drown the words.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aios/aios_math.h"
#include "aios/kernels.h"
#include "encoder_pretrain.h"
#include "encoder_train.h"
#include "rng.h"

#define MAX_WORD 64                 /* bytes kept of a word: the encoder's cut */
#define NEG_TABLE (1u << 22)

void enc_pretrain_defaults(struct enc_pretrain_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->epochs = 3;
    o->lr = 0.05f;
    o->window = 5;
    o->negatives = 5;
    o->min_count = 5;
    o->subsample = 1e-4f;
}

/* ---------------------------------------------------------------- vocabulary */

struct vocab {
    char *chars;                    /* the words, NUL-terminated, one after the other */
    size_t nchars, capchars;
    size_t *start;                  /* word i at chars + start[i] */
    uint64_t *count;
    uint32_t n, cap;
    uint32_t *slots;                /* open addressing: word index + 1, 0 empty */
    uint32_t nslots;                /* a power of two */
};

static uint32_t hash_word(const char *w, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)w[i]) * 16777619u;
    return h;
}

static bool vocab_grow_slots(struct vocab *v)
{
    uint32_t ns = v->nslots ? v->nslots * 2 : 1u << 16;
    uint32_t *s = calloc(ns, sizeof(*s));

    if (!s)
        return false;
    for (uint32_t i = 0; i < v->n; i++) {
        const char *w = v->chars + v->start[i];
        uint32_t h = hash_word(w, strlen(w)) & (ns - 1);
        while (s[h])
            h = (h + 1) & (ns - 1);
        s[h] = i + 1;
    }
    free(v->slots);
    v->slots = s;
    v->nslots = ns;
    return true;
}

/* The index of the word w[0..len), added if new; UINT32_MAX when out of memory. */
static uint32_t vocab_id(struct vocab *v, const char *w, size_t len)
{
    if ((uint64_t)(v->n + 1) * 2 > v->nslots && !vocab_grow_slots(v))
        return UINT32_MAX;
    uint32_t h = hash_word(w, len) & (v->nslots - 1);
    while (v->slots[h]) {
        uint32_t i = v->slots[h] - 1;
        const char *s = v->chars + v->start[i];
        if (strlen(s) == len && !memcmp(s, w, len))
            return i;
        h = (h + 1) & (v->nslots - 1);
    }
    if (v->n == v->cap) {
        uint32_t nc = v->cap ? v->cap * 2 : 4096;
        size_t *st = realloc(v->start, nc * sizeof(*st));
        if (!st)
            return UINT32_MAX;
        v->start = st;
        uint64_t *ct = realloc(v->count, nc * sizeof(*ct));
        if (!ct)
            return UINT32_MAX;
        v->count = ct;
        v->cap = nc;
    }
    if (v->nchars + len + 1 > v->capchars) {
        size_t nc = (v->nchars + len + 1) * 2;
        char *c = realloc(v->chars, nc);
        if (!c)
            return UINT32_MAX;
        v->chars = c;
        v->capchars = nc;
    }
    memcpy(v->chars + v->nchars, w, len);
    v->chars[v->nchars + len] = '\0';
    v->start[v->n] = v->nchars;
    v->count[v->n] = 0;
    v->nchars += len + 1;
    v->slots[h] = v->n + 1;
    return v->n++;
}

static void vocab_free(struct vocab *v)
{
    free(v->chars);
    free(v->start);
    free(v->count);
    free(v->slots);
}

/* ---------------------------------------------------------------- corpus */

struct corpus {
    uint32_t *tok;                  /* word ids */
    size_t ntok, captok;
    size_t *line;                   /* line i is tok[line[i] .. line[i + 1]) */
    size_t nlines, caplines;
};

static bool push_tok(struct corpus *c, uint32_t id)
{
    if (c->ntok == c->captok) {
        size_t nc = c->captok ? c->captok * 2 : 1u << 20;
        uint32_t *t = realloc(c->tok, nc * sizeof(*t));
        if (!t)
            return false;
        c->tok = t;
        c->captok = nc;
    }
    c->tok[c->ntok++] = id;
    return true;
}

static bool push_line(struct corpus *c)
{
    if (c->nlines + 1 >= c->caplines) {
        size_t nc = c->caplines ? c->caplines * 2 : 1u << 16;
        size_t *l = realloc(c->line, nc * sizeof(*l));
        if (!l)
            return false;
        c->line = l;
        c->caplines = nc;
    }
    c->line[++c->nlines] = c->ntok;
    return true;
}

/* Words by the encoder's rule, ASCII lowered, cut at MAX_WORD bytes; lines as passages. */
static bool tokenize(const char *text, struct vocab *v, struct corpus *c)
{
    const unsigned char *s = (const unsigned char *)text;
    char w[MAX_WORD];

    if (!push_line(c))              /* reserves line[0] = 0 */
        return false;
    c->nlines = 0;
    c->line[0] = 0;
    while (*s) {
        if (*s == '\n') {
            if (c->ntok > c->line[c->nlines] && !push_line(c))
                return false;
            s++;
            continue;
        }
        if (!aios_encoder_word_byte(*s)) {
            s++;
            continue;
        }
        size_t len = 0;
        while (aios_encoder_word_byte(*s)) {
            unsigned char ch = *s++;
            if (ch >= 'A' && ch <= 'Z')
                ch = (unsigned char)(ch - 'A' + 'a');
            if (len < sizeof(w))
                w[len++] = (char)ch;
        }
        uint32_t id = vocab_id(v, w, len);
        if (id == UINT32_MAX || !push_tok(c, id))
            return false;
        v->count[id]++;
    }
    if (c->ntok > c->line[c->nlines] && !push_line(c))
        return false;
    return true;
}

/* ---------------------------------------------------------------- training */

static float sigmoid(float z)
{
    if (z > 20.0f)
        return 1.0f;
    if (z < -20.0f)
        return 0.0f;
    return 1.0f / (1.0f + aios_expf(-z));
}

int enc_pretrain(const char *text, const struct enc_pretrain_opts *o, float **emb,
                 char *err, size_t errlen)
{
    char msg[160];
    struct aios_encoder_params p = o->p;

    *emb = NULL;
    p.members = 1;
    p.no_bigrams = 0;
    if (aios_encoder_file_size(&p, AIOS_ENC_FP32, msg, sizeof(msg)) == 0) {
        snprintf(err, errlen, "%s", msg);
        return -1;
    }
    if (o->epochs < 1 || o->window < 1 || o->negatives < 1 || o->min_count < 1 ||
        !(o->lr > 0.0f) || !(o->subsample >= 0.0f)) {
        snprintf(err, errlen, "pretrain: bad options (epochs, window, negatives, min count "
                 "and learning rate must be positive, subsampling not negative)");
        return -1;
    }

    struct vocab v = { 0 };
    struct corpus c = { 0 };
    int rc = -1;
    float *e = NULL, *u = NULL, *x = NULL, *dx = NULL, *keep = NULL;
    uint32_t *target = NULL, *neg = NULL, *kept = NULL;
    struct enc_feats wf = { 0 };
    size_t *first = NULL;
    float *wtotal = NULL, *wstep = NULL;
    uint64_t rng = o->seed;

    if (!tokenize(text, &v, &c))
        goto oom;

    /* Words predicted: those seen min_count times, numbered 0.. in first-seen order. */
    uint32_t ntarget = 0;
    uint64_t total = 0;
    target = malloc(((size_t)v.n + 1) * sizeof(*target));
    keep = malloc(((size_t)v.n + 1) * sizeof(*keep));
    if (!target || !keep)
        goto oom;
    for (uint32_t i = 0; i < v.n; i++) {
        target[i] = v.count[i] >= (uint64_t)o->min_count ? ntarget++ : UINT32_MAX;
        total += v.count[i];
    }
    if (ntarget == 0) {
        snprintf(err, errlen, "pretrain: no word occurs %d times in the text", o->min_count);
        goto out;
    }
    /* Keep probability sqrt(t / f) (at most 1) of a word of frequency f. */
    for (uint32_t i = 0; i < v.n; i++) {
        float f = (float)v.count[i] / (float)total;
        keep[i] = 1.0f;
        if (o->subsample > 0.0f && f > o->subsample)
            keep[i] = aios_sqrtf(o->subsample / f);
    }
    /* Negatives: the predicted words, each count^0.75 times in proportion. */
    neg = malloc(NEG_TABLE * sizeof(*neg));
    if (!neg)
        goto oom;
    {
        double z = 0.0, acc = 0.0;
        for (uint32_t i = 0; i < v.n; i++)
            if (target[i] != UINT32_MAX)
                z += (double)aios_expf(0.75f * aios_logf((float)v.count[i]));
        uint32_t i = 0, k = 0;
        while (i < v.n && target[i] == UINT32_MAX)
            i++;
        acc = (double)aios_expf(0.75f * aios_logf((float)v.count[i])) / z;
        for (k = 0; k < NEG_TABLE; k++) {
            neg[k] = target[i];
            if ((double)(k + 1) / NEG_TABLE > acc) {
                uint32_t j = i + 1;
                while (j < v.n && target[j] == UINT32_MAX)
                    j++;
                if (j < v.n) {
                    i = j;
                    acc += (double)aios_expf(0.75f * aios_logf((float)v.count[i])) / z;
                }
            }
        }
    }

    /* The features of every predicted word, made once: word t's are
     * wf.f[first[t] .. first[t + 1]), of total weight wtotal[t]; its rows step by their
     * weight times wstep[t] = wtotal[t] / (sum of its weights squared). */
    first = malloc(((size_t)ntarget + 1) * sizeof(*first));
    wtotal = malloc(((size_t)ntarget + 1) * sizeof(*wtotal));
    wstep = malloc(((size_t)ntarget + 1) * sizeof(*wstep));
    if (!first || !wtotal || !wstep)
        goto oom;
    for (uint32_t i = 0; i < v.n; i++) {
        uint32_t t = target[i];
        if (t == UINT32_MAX)
            continue;
        first[t] = wf.n;
        wf.total = 0.0f;
        enc_feats_append(&p, v.chars + v.start[i], &wf);
        float sq = 0.0f;
        for (size_t f = first[t]; f < wf.n; f++)
            sq += wf.f[f].weight * wf.f[f].weight;
        wtotal[t] = wf.total;
        wstep[t] = wf.total / sq;
    }
    first[ntarget] = wf.n;

    size_t dim = p.dim, rows = (size_t)p.buckets * dim;
    e = malloc(rows * sizeof(*e));
    u = calloc((size_t)ntarget * dim, sizeof(*u));
    x = malloc(dim * sizeof(*x));
    dx = malloc(dim * sizeof(*dx));
    kept = malloc((c.ntok + 1) * sizeof(*kept));
    if (!e || !u || !x || !dx || !kept)
        goto oom;
    /* E ~ U(-1/dim, 1/dim), u = 0: the first steps move the outputs, then both. */
    for (size_t i = 0; i < rows; i++)
        e[i] = (2.0f * rng_uniform(&rng) - 1.0f) / (float)dim;

    uint64_t steps_total = (uint64_t)o->epochs * c.ntok, done = 0;
    clock_t t0 = clock();
    for (int ep = 0; ep < o->epochs; ep++) {
        double loss = 0.0;
        uint64_t centres = 0;
        for (size_t li = 0; li < c.nlines; li++) {
            /* This epoch's draw of the line's words. */
            size_t nk = 0;
            for (size_t t = c.line[li]; t < c.line[li + 1]; t++)
                if (keep[c.tok[t]] >= 1.0f || rng_uniform(&rng) < keep[c.tok[t]])
                    kept[nk++] = c.tok[t];
            done += c.line[li + 1] - c.line[li];
            float lr = o->lr * (1.0f - (float)((double)done / (double)steps_total));
            if (lr < o->lr * 1e-4f)
                lr = o->lr * 1e-4f;
            for (size_t i = 0; i < nk; i++) {
                uint32_t ct = target[kept[i]];
                if (ct == UINT32_MAX)
                    continue;
                size_t b = 1 + rng_below(&rng, (uint32_t)o->window);
                size_t lo = i >= b ? i - b : 0, hi = i + 1 + b < nk ? i + 1 + b : nk;
                if (lo == i && hi == i + 1)
                    continue;
                /* Skip-gram: the centre word's own features predict each context word. */
                const struct enc_feat *cf = wf.f + first[ct];
                size_t nf = first[ct + 1] - first[ct];
                memset(x, 0, dim * sizeof(float));
                for (size_t f = 0; f < nf; f++) {
                    const float *row = e + (size_t)cf[f].bucket * dim;
                    float a = cf[f].weight;
                    for (size_t d = 0; d < dim; d++)
                        x[d] += a * row[d];
                }
                float inv = 1.0f / wtotal[ct];
                for (size_t d = 0; d < dim; d++)
                    x[d] *= inv;

                memset(dx, 0, dim * sizeof(float));
                for (size_t j = lo; j < hi; j++) {
                    uint32_t cw = target[kept[j]];
                    if (j == i || cw == UINT32_MAX)
                        continue;
                    for (int k = 0; k <= o->negatives; k++) {
                        uint32_t w = cw;
                        float label = 1.0f;
                        if (k > 0) {
                            w = neg[rng_below(&rng, NEG_TABLE)];
                            if (w == cw)
                                continue;
                            label = 0.0f;
                        }
                        float *uw = u + (size_t)w * dim;
                        float s = sigmoid(aios_dot_f32(uw, x, dim));
                        loss -= aios_logf(label > 0.0f ? s + 1e-7f : 1.0f - s + 1e-7f);
                        float g = lr * (label - s);
                        for (size_t d = 0; d < dim; d++)
                            dx[d] += g * uw[d];
                        for (size_t d = 0; d < dim; d++)
                            uw[d] += g * x[d];
                    }
                }
                for (size_t f = 0; f < nf; f++) {
                    float *row = e + (size_t)cf[f].bucket * dim;
                    float a = cf[f].weight * wstep[ct];
                    for (size_t d = 0; d < dim; d++)
                        row[d] += a * dx[d];
                }
                centres++;
            }
        }
        if (o->verbose)
            fprintf(stderr, "pretrain%s%s: epoch %d/%d  %zu words (%u predicted), %llu "
                    "centres  loss %.4f  %.1f s\n", o->name ? " " : "", o->name ? o->name : "",
                    ep + 1, o->epochs, c.ntok, (unsigned)ntarget,
                    (unsigned long long)centres,
                    centres ? loss / (double)centres : 0.0,
                    (double)(clock() - t0) / CLOCKS_PER_SEC);
    }
    *emb = e;
    e = NULL;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "pretrain: out of memory");
out:
    vocab_free(&v);
    free(c.tok);
    free(c.line);
    free(target);
    free(keep);
    free(neg);
    free(e);
    free(u);
    free(x);
    free(dx);
    free(kept);
    free(wf.f);
    free(first);
    free(wtotal);
    free(wstep);
    return rc;
}
