/*
 * libaios forward pass (see forward.h). aios_forward reads top to bottom like the
 * Llama 2 paper: embed, then per layer an attention block and a feed-forward block,
 * each a pre-norm residual branch, then the final norm and the classifier.
 *
 * Parallel work is handed to the executor in as few rounds as possible (q, k and v in
 * one; w1, w3 and the SwiGLU gate in one), because each round costs the cores a
 * synchronisation, and what only depends on a part's own outputs is done in the part,
 * not by the calling core alone between rounds: the residual add after wo and w2, the
 * rotation of each query head, and for Q8_0 the quantizing of w2's input. Every round
 * splits independent outputs (matrix rows, attention heads), so no value depends on the
 * split.
 *
 * Q8_0 models: before each matrix product the input vector is quantized to Q8_0 with
 * the model's group size (as llama2.c's runq.c does), so the product is an exact int8
 * dot product per group; the token embedding is dequantized row by row on lookup.
 * Attention, norms and the residual stream stay in fp32.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "aios/aios_math.h"
#include "aios/forward.h"
#include "aios/kernels.h"
#include "kprintf.h"

/* A cache line on both machines; also keeps NEON loads of each buffer aligned. */
#define STATE_ALIGN 64

/* ---------------------------------------------------------------- run state */

struct carver {
    struct aios_arena *arena;   /* NULL: only count */
    size_t total;
    bool ok;
};

static void *carve(struct carver *z, size_t count, size_t elem)
{
    size_t bytes;
    void *p;

    if (__builtin_mul_overflow(count, elem, &bytes) ||
        __builtin_add_overflow(z->total, bytes + STATE_ALIGN, &z->total)) {
        z->ok = false;
        z->total = SIZE_MAX;
        return NULL;
    }
    if (z->arena == NULL || !z->ok)
        return NULL;
    p = aios_arena_alloc(z->arena, bytes, STATE_ALIGN);
    if (p == NULL)
        z->ok = false;
    return p;
}

static void carve_state(struct carver *z, struct aios_state *s, const struct aios_model *m)
{
    const struct aios_config *c = &m->cfg;
    size_t dim = (size_t)c->dim, hidden = (size_t)c->hidden_dim;
    size_t cache = (size_t)c->n_layers * (size_t)c->seq_len * (size_t)c->kv_dim;

    s->x = carve(z, dim, sizeof(float));
    s->xb = carve(z, dim, sizeof(float));
    s->xb2 = carve(z, dim, sizeof(float));
    s->hb = carve(z, hidden, sizeof(float));
    s->hb2 = carve(z, hidden, sizeof(float));
    s->q = carve(z, dim, sizeof(float));
    s->att = carve(z, (size_t)c->n_heads * (size_t)c->seq_len, sizeof(float));
    s->logits = carve(z, (size_t)c->vocab_size, sizeof(float));
    s->key_cache = carve(z, cache, sizeof(float));
    s->value_cache = carve(z, cache, sizeof(float));
    s->inv_freq = carve(z, (size_t)c->head_size / 2, sizeof(float));
    s->rope_cos = carve(z, (size_t)c->head_size / 2, sizeof(float));
    s->rope_sin = carve(z, (size_t)c->head_size / 2, sizeof(float));
    if (c->type == AIOS_WEIGHTS_Q8) {
        s->xq = carve(z, dim, sizeof(int8_t));
        s->xs = carve(z, dim / (size_t)c->group_size, sizeof(float));
        s->hq = carve(z, hidden, sizeof(int8_t));
        s->hqs = carve(z, hidden / (size_t)c->group_size, sizeof(float));
    }
}

size_t aios_state_size(const struct aios_model *m)
{
    struct carver z = { .arena = NULL, .total = 0, .ok = true };
    struct aios_state s;

    carve_state(&z, &s, m);
    return z.total;
}

int aios_state_init(struct aios_state *s, const struct aios_model *m,
                    struct aios_arena *arena, char *err, size_t errlen)
{
    struct carver z = { .arena = arena, .total = 0, .ok = true };
    size_t mark = aios_arena_mark(arena);
    const struct aios_config *c = &m->cfg;

    memset(s, 0, sizeof(*s));
    carve_state(&z, s, m);
    if (!z.ok) {
        aios_arena_reset(arena, mark);
        memset(s, 0, sizeof(*s));
        return kfail(err, errlen, AIOS_ENOMEM,
                     "state: the run state needs %zu bytes, the arena has %zu free",
                     aios_state_size(m), arena->size - mark);
    }
    s->model = m;
    /* RoPE as llama2.c: pair (i, i+1) of a head turns at 1 / 10000^(i / head_size). */
    for (int32_t p = 0; p < c->head_size / 2; p++)
        s->inv_freq[p] = 1.0f / aios_powf(10000.0f, (float)(2 * p) / (float)c->head_size);
    return AIOS_OK;
}

/* ---------------------------------------------------------------- linear layers */

struct linear {
    float *out;
    const struct aios_matrix *w;
    int32_t layer;
};

/* Up to three products of the same input, then on the part's rows of out0 either the
 * SwiGLU gate out0 = silu(out0) * out1 (for Q8_0 models then quantized into hq, w2's
 * input), or the residual add *residual += out0, or neither. */
struct linear_job {
    const struct aios_state *s;
    const float *in;       /* fp32 models: the input vector */
    const int8_t *xq;      /* Q8_0 models: the input quantized, and its scales; */
    const float *xs;       /* NULL: run_linear quantizes in into s->xq */
    float *residual;
    int count;
    bool swiglu;
    struct linear lin[3];
};

/* Part part's share [*lo, *hi) of a product's n rows. A SwiGLU job of a Q8_0 model is
 * split in whole groups, so that each part can quantize the rows it gated. */
static void split_rows(const struct linear_job *j, size_t n, int part, int nparts, size_t *lo,
                       size_t *hi)
{
    const struct aios_config *c = &j->s->model->cfg;
    size_t unit = j->swiglu && c->type == AIOS_WEIGHTS_Q8 ? (size_t)c->group_size : 1;

    aios_exec_split(n / unit, part, nparts, lo, hi);
    *lo *= unit;
    *hi *= unit;
}

static void linear_part(void *arg, int part, int nparts)
{
    const struct linear_job *j = arg;
    const struct aios_state *s = j->s;
    const struct aios_config *c = &s->model->cfg;
    size_t gs = (size_t)c->group_size, lo, hi;

    for (int k = 0; k < j->count; k++) {
        const struct linear *l = &j->lin[k];
        size_t n = (size_t)l->w->cols;

        split_rows(j, (size_t)l->w->rows, part, nparts, &lo, &hi);
        if (c->type == AIOS_WEIGHTS_F32)
            aios_matvec_f32_rows(l->out, aios_matrix_f32(l->w, l->layer), j->in, n, lo, hi);
        else
            aios_matvec_q8_rows(l->out, aios_matrix_q(l->w, l->layer),
                                aios_matrix_s(l->w, l->layer), j->xq, j->xs, n, gs, lo, hi);
    }
    split_rows(j, (size_t)j->lin[0].w->rows, part, nparts, &lo, &hi);
    if (j->swiglu) {
        float *gate = j->lin[0].out;

        aios_swiglu(gate + lo, j->lin[1].out + lo, hi - lo);
        if (c->type == AIOS_WEIGHTS_Q8)
            aios_quantize_q8(s->hq + lo, s->hqs + lo / gs, gate + lo, hi - lo, gs);
    }
    if (j->residual)
        aios_add(j->residual + lo, j->lin[0].out + lo, hi - lo);
}

/* Run j's products of the vector in (length n_in); for Q8_0, unless j brings the input
 * quantized, quantize it first. */
static void run_linear(struct aios_state *s, struct linear_job *j, const float *in,
                       size_t n_in, struct aios_exec *exec)
{
    const struct aios_config *c = &s->model->cfg;

    j->s = s;
    j->in = in;
    if (c->type == AIOS_WEIGHTS_Q8 && j->xq == NULL) {
        aios_quantize_q8(s->xq, s->xs, in, n_in, (size_t)c->group_size);
        j->xq = s->xq;
        j->xs = s->xs;
    }
    aios_exec_run(exec, linear_part, j);
}

/* ---------------------------------------------------------------- the blocks */

static void embed(struct aios_state *s, int32_t token)
{
    const struct aios_model *m = s->model;
    size_t dim = (size_t)m->cfg.dim, row = (size_t)token * dim;

    if (m->cfg.type == AIOS_WEIGHTS_F32) {
        memcpy(s->x, m->tok.f + row, dim * sizeof(float));
    } else {
        size_t gs = (size_t)m->cfg.group_size;
        aios_dequantize_q8(s->x, m->tok.q + row, m->tok.s + row / gs, dim, gs);
    }
}

/* This position's rotation angle per pair; the same for every head and layer. */
static void rope_angles(struct aios_state *s, int32_t pos)
{
    for (int32_t p = 0; p < s->model->cfg.head_size / 2; p++)
        aios_sincosf((float)pos * s->inv_freq[p], &s->rope_sin[p], &s->rope_cos[p]);
}

static float *cache_row(const struct aios_state *s, float *cache, int32_t layer, int32_t pos)
{
    const struct aios_config *c = &s->model->cfg;

    return cache + ((size_t)layer * (size_t)c->seq_len + (size_t)pos) * (size_t)c->kv_dim;
}

struct attention_job {
    struct aios_state *s;
    int32_t layer, pos;
};

/* Heads [lo, hi): rotate the query head (RoPE), scores against every cached key up to
 * pos, softmax, weighted sum of the cached values into xb. Query head h reads kv head
 * h / (n_heads / n_kv_heads). */
static void attention_part(void *arg, int part, int nparts)
{
    const struct attention_job *j = arg;
    struct aios_state *s = j->s;
    const struct aios_config *c = &s->model->cfg;
    size_t hs = (size_t)c->head_size, kv_dim = (size_t)c->kv_dim;
    const float *keys = cache_row(s, s->key_cache, j->layer, 0);
    const float *values = cache_row(s, s->value_cache, j->layer, 0);
    float root = aios_sqrtf((float)hs);
    size_t lo, hi;

    aios_exec_split((size_t)c->n_heads, part, nparts, &lo, &hi);
    for (size_t h = lo; h < hi; h++) {
        size_t kvh = h / (size_t)(c->n_heads / c->n_kv_heads);
        float *qh = s->q + h * hs;
        float *att = s->att + h * (size_t)c->seq_len;
        float *out = s->xb + h * hs;

        size_t count = (size_t)j->pos + 1;

        aios_rope(qh, hs, s->rope_cos, s->rope_sin, hs);
        aios_dot_f32_rows(att, keys + kvh * hs, kv_dim, qh, hs, count);
        for (size_t t = 0; t < count; t++)
            att[t] /= root;
        aios_softmax(att, count);
        aios_weighted_sum(out, att, values + kvh * hs, kv_dim, hs, count);
    }
}

/* ---------------------------------------------------------------- the pass */

const float *aios_forward(struct aios_state *s, int32_t token, int32_t pos,
                          struct aios_exec *exec)
{
    const struct aios_model *m = s->model;

    if (m == NULL || token < 0 || token >= m->cfg.vocab_size || pos < 0 ||
        pos >= m->cfg.seq_len)
        return NULL;

    const struct aios_config *c = &m->cfg;
    const size_t dim = (size_t)c->dim, hidden = (size_t)c->hidden_dim;

    embed(s, token);
    rope_angles(s, pos);

    for (int32_t l = 0; l < c->n_layers; l++) {
        float *k = cache_row(s, s->key_cache, l, pos);
        float *v = cache_row(s, s->value_cache, l, pos);

        /* Attention: x += wo · attention(rope(wq xn), rope(wk xn), wv xn); the query is
         * rotated head by head in the attention round. */
        aios_rmsnorm(s->xb, s->x, m->rms_att + (size_t)l * dim, dim);
        struct linear_job qkv = {
            .count = 3,
            .lin = { { s->q, &m->wq, l }, { k, &m->wk, l }, { v, &m->wv, l } },
        };
        run_linear(s, &qkv, s->xb, dim, exec);
        aios_rope(k, (size_t)c->kv_dim, s->rope_cos, s->rope_sin, (size_t)c->head_size);
        struct attention_job att = { .s = s, .layer = l, .pos = pos };
        aios_exec_run(exec, attention_part, &att);
        struct linear_job wo = { .count = 1, .residual = s->x, .lin = { { s->xb2, &m->wo, l } } };
        run_linear(s, &wo, s->xb, dim, exec);

        /* Feed-forward: x += w2 · (silu(w1 xn) * (w3 xn)). */
        aios_rmsnorm(s->xb, s->x, m->rms_ffn + (size_t)l * dim, dim);
        struct linear_job up = {
            .count = 2,
            .swiglu = true,
            .lin = { { s->hb, &m->w1, l }, { s->hb2, &m->w3, l } },
        };
        run_linear(s, &up, s->xb, dim, exec);
        struct linear_job down = {
            .count = 1, .xq = s->hq, .xs = s->hqs, .residual = s->x,
            .lin = { { s->xb2, &m->w2, l } },
        };
        run_linear(s, &down, s->hb, hidden, exec);
    }

    aios_rmsnorm(s->x, s->x, m->rms_final, dim);
    struct linear_job cls = { .count = 1, .lin = { { s->logits, &m->wcls, 0 } } };
    run_linear(s, &cls, s->x, dim, exec);
    return s->logits;
}
