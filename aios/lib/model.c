/*
 * libaios model loader (formats in model.h).
 *
 * The loader never trusts a field before checking it: the seven parameters are bounded
 * first (so the size arithmetic cannot overflow, and it is checked anyway), the file
 * size must then equal exactly what the parameters imply, and only then are pointers
 * into the buffer formed. Each matrix's place is worked out by one walk over the
 * format's order (layout()), shared by the size check and the pointer assignment so the
 * two cannot disagree.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "aios/kernels.h"
#include "aios/model.h"
#include "kprintf.h"

enum { M_TOK, M_WQ, M_WK, M_WV, M_WO, M_W1, M_W2, M_W3, M_WCLS, M_COUNT };

static const char *const matrix_name[M_COUNT] = {
    "token_embedding", "wq", "wk", "wv", "wo", "w1", "w2", "w3", "wcls",
};

struct layout {
    uint64_t rms_att, rms_ffn, rms_final;
    uint64_t mat[M_COUNT];      /* offset of the first layer's matrix (its int8 for Q8) */
    int32_t rows[M_COUNT], cols[M_COUNT], count[M_COUNT];
    uint64_t stride[M_COUNT];   /* bytes per layer */
    uint64_t end;
};

static int32_t read_i32(const unsigned char *p)
{
    int32_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* *end += count * elems * elem_bytes, false on overflow. */
static bool grow(uint64_t *end, uint64_t count, uint64_t elems, uint64_t elem_bytes)
{
    uint64_t n;

    if (__builtin_mul_overflow(count, elems, &n) || __builtin_mul_overflow(n, elem_bytes, &n))
        return false;
    return !__builtin_add_overflow(*end, n, end);
}

static bool place_f32(struct layout *lo, uint64_t *field, uint64_t count, uint64_t elems)
{
    *field = lo->end;
    return grow(&lo->end, count, elems, 4);
}

static bool place_matrix(struct layout *lo, const struct aios_config *c, int k)
{
    uint64_t n = (uint64_t)lo->rows[k] * (uint64_t)lo->cols[k];

    lo->mat[k] = lo->end;
    if (c->type == AIOS_WEIGHTS_F32)
        lo->stride[k] = n * 4;
    else
        lo->stride[k] = n + n / (uint64_t)c->group_size * 4;
    return grow(&lo->end, (uint64_t)lo->count[k], lo->stride[k], 1);
}

/* Offsets of every tensor of a checked config, in its format's order. */
static bool layout(const struct aios_config *c, struct layout *lo)
{
    const int32_t L = c->n_layers, dim = c->dim, hid = c->hidden_dim, kv = c->kv_dim;
    const int32_t shape[M_COUNT][3] = {
        [M_TOK] = { c->vocab_size, dim, 1 }, [M_WQ] = { dim, dim, L },
        [M_WK] = { kv, dim, L },             [M_WV] = { kv, dim, L },
        [M_WO] = { dim, dim, L },            [M_W1] = { hid, dim, L },
        [M_W2] = { dim, hid, L },            [M_W3] = { hid, dim, L },
        [M_WCLS] = { c->vocab_size, dim, c->shared_classifier ? 0 : 1 },
    };
    bool ok = true;

    memset(lo, 0, sizeof(*lo));
    for (int k = 0; k < M_COUNT; k++) {
        lo->rows[k] = shape[k][0];
        lo->cols[k] = shape[k][1];
        lo->count[k] = shape[k][2];
    }
    if (c->type == AIOS_WEIGHTS_F32) {
        uint64_t freq;

        lo->end = AIOS_MODEL_LEGACY_HEADER;
        ok = ok && place_matrix(lo, c, M_TOK);
        ok = ok && place_f32(lo, &lo->rms_att, (uint64_t)L, (uint64_t)dim);
        for (int k = M_WQ; k <= M_WO; k++)
            ok = ok && place_matrix(lo, c, k);
        ok = ok && place_f32(lo, &lo->rms_ffn, (uint64_t)L, (uint64_t)dim);
        for (int k = M_W1; k <= M_W3; k++)
            ok = ok && place_matrix(lo, c, k);
        ok = ok && place_f32(lo, &lo->rms_final, 1, (uint64_t)dim);
        /* freq_cis_real and freq_cis_imag: skipped, but part of the size. */
        ok = ok && place_f32(lo, &freq, 2 * (uint64_t)c->seq_len,
                             (uint64_t)c->head_size / 2);
        ok = ok && place_matrix(lo, c, M_WCLS);
    } else {
        lo->end = AIOS_MODEL_V2_HEADER;
        ok = ok && place_f32(lo, &lo->rms_att, (uint64_t)L, (uint64_t)dim);
        ok = ok && place_f32(lo, &lo->rms_ffn, (uint64_t)L, (uint64_t)dim);
        ok = ok && place_f32(lo, &lo->rms_final, 1, (uint64_t)dim);
        for (int k = M_TOK; k < M_COUNT; k++)
            ok = ok && place_matrix(lo, c, k);
    }
    return ok;
}

static int check_range(const char *name, int32_t v, int32_t max, char *err, size_t errlen)
{
    if (v < 1 || v > max)
        return kfail(err, errlen, AIOS_EINVAL, "model: %s %d is out of range (1..%d)", name,
                     (int)v, (int)max);
    return AIOS_OK;
}

int aios_config_check(struct aios_config *c, char *err, size_t errlen)
{
    int rc;

    if (c->type != AIOS_WEIGHTS_F32 && c->type != AIOS_WEIGHTS_Q8)
        return kfail(err, errlen, AIOS_EINVAL, "model: unknown weight type %d", (int)c->type);
    if ((rc = check_range("dim", c->dim, AIOS_MODEL_MAX_PARAM, err, errlen)) ||
        (rc = check_range("hidden_dim", c->hidden_dim, AIOS_MODEL_MAX_PARAM, err, errlen)) ||
        (rc = check_range("n_layers", c->n_layers, AIOS_MODEL_MAX_LAYERS, err, errlen)) ||
        (rc = check_range("n_heads", c->n_heads, c->dim, err, errlen)) ||
        (rc = check_range("n_kv_heads", c->n_kv_heads, c->n_heads, err, errlen)) ||
        (rc = check_range("vocab_size", c->vocab_size, AIOS_MODEL_MAX_PARAM, err, errlen)) ||
        (rc = check_range("seq_len", c->seq_len, AIOS_MODEL_MAX_PARAM, err, errlen)))
        return rc;
    if (c->dim % c->n_heads != 0)
        return kfail(err, errlen, AIOS_EINVAL, "model: n_heads %d does not divide dim %d",
                     (int)c->n_heads, (int)c->dim);
    c->head_size = c->dim / c->n_heads;
    if (c->head_size % 2 != 0)
        return kfail(err, errlen, AIOS_EINVAL,
                     "model: head size %d (dim %d / n_heads %d) is odd; RoPE rotates pairs",
                     (int)c->head_size, (int)c->dim, (int)c->n_heads);
    if (c->n_heads % c->n_kv_heads != 0)
        return kfail(err, errlen, AIOS_EINVAL,
                     "model: n_kv_heads %d does not divide n_heads %d", (int)c->n_kv_heads,
                     (int)c->n_heads);
    c->kv_dim = c->head_size * c->n_kv_heads;
    if (c->type == AIOS_WEIGHTS_F32) {
        if (c->group_size != 0)
            return kfail(err, errlen, AIOS_EINVAL, "model: fp32 weights have no group size");
        return AIOS_OK;
    }
    if (c->group_size < 1 || c->group_size > AIOS_MODEL_MAX_GROUP)
        return kfail(err, errlen, AIOS_EINVAL, "model: group size %d is out of range (1..%d)",
                     (int)c->group_size, AIOS_MODEL_MAX_GROUP);
    /* Matrices are quantized along their rows, which are dim (wq wk wv wo w1 w3, the
     * embedding and the classifier) or hidden_dim (w2) long: a group never spans rows. */
    if (c->dim % c->group_size != 0)
        return kfail(err, errlen, AIOS_EINVAL, "model: group size %d does not divide dim %d",
                     (int)c->group_size, (int)c->dim);
    if (c->hidden_dim % c->group_size != 0)
        return kfail(err, errlen, AIOS_EINVAL,
                     "model: group size %d does not divide hidden_dim %d",
                     (int)c->group_size, (int)c->hidden_dim);
    return AIOS_OK;
}

uint64_t aios_model_file_size(const struct aios_config *c)
{
    struct layout lo;

    return layout(c, &lo) ? lo.end : 0;
}

/* Header of a legacy fp32 file; *c is zeroed first. */
static int parse_legacy(struct aios_config *c, const unsigned char *p, size_t size, char *err,
                        size_t errlen)
{
    int32_t vocab;

    if (size < AIOS_MODEL_LEGACY_HEADER)
        return kfail(err, errlen, AIOS_EINVAL,
                     "model: %zu bytes is too short for a model header (%d bytes)", size,
                     AIOS_MODEL_LEGACY_HEADER);
    c->dim = read_i32(p);
    if (c->dim < 1 || c->dim > AIOS_MODEL_MAX_PARAM)
        return kfail(err, errlen, AIOS_EINVAL,
                     "model: not a model: no version 2 magic (0x%08x) and the legacy dim %d "
                     "is out of range (1..%d)", AIOS_MODEL_MAGIC, (int)c->dim,
                     AIOS_MODEL_MAX_PARAM);
    c->hidden_dim = read_i32(p + 4);
    c->n_layers = read_i32(p + 8);
    c->n_heads = read_i32(p + 12);
    c->n_kv_heads = read_i32(p + 16);
    vocab = read_i32(p + 20);
    c->seq_len = read_i32(p + 24);
    /* A negative vocab_size flags a separate classifier. */
    c->shared_classifier = vocab > 0;
    c->vocab_size = vocab > 0 ? vocab : vocab == INT32_MIN ? 0 : -vocab;
    c->type = AIOS_WEIGHTS_F32;
    c->group_size = 0;
    return aios_config_check(c, err, errlen);
}

static int parse_v2(struct aios_config *c, const unsigned char *p, size_t size, char *err,
                    size_t errlen)
{
    int32_t version;

    if (size < AIOS_MODEL_V2_HEADER)
        return kfail(err, errlen, AIOS_EINVAL,
                     "model: %zu bytes is too short for a version 2 header (%d bytes)", size,
                     AIOS_MODEL_V2_HEADER);
    version = read_i32(p + 4);
    if (version != 2)
        return kfail(err, errlen, AIOS_EINVAL,
                     "model: unsupported version %d (this engine reads version 2, int8, and "
                     "headerless legacy fp32 files)", (int)version);
    c->dim = read_i32(p + 8);
    c->hidden_dim = read_i32(p + 12);
    c->n_layers = read_i32(p + 16);
    c->n_heads = read_i32(p + 20);
    c->n_kv_heads = read_i32(p + 24);
    c->vocab_size = read_i32(p + 28);
    c->seq_len = read_i32(p + 32);
    if (p[36] > 1)
        return kfail(err, errlen, AIOS_EINVAL,
                     "model: shared_classifier flag is %u, not 0 or 1", (unsigned)p[36]);
    c->shared_classifier = p[36] == 1;
    c->group_size = read_i32(p + 37);
    c->type = AIOS_WEIGHTS_Q8;
    for (size_t i = 41; i < AIOS_MODEL_V2_HEADER; i++)
        if (p[i] != 0)
            return kfail(err, errlen, AIOS_EINVAL,
                         "model: header padding byte %zu is 0x%02x, not 0", i, (unsigned)p[i]);
    return aios_config_check(c, err, errlen);
}

static bool aligned4(const unsigned char *base, uint64_t off)
{
    return (((uintptr_t)base + (uintptr_t)off) & 3) == 0;
}

int aios_model_load(struct aios_model *m, const void *buf, size_t size, char *err,
                    size_t errlen)
{
    const unsigned char *p = buf;
    struct aios_config c;
    struct layout lo;
    int rc;

    memset(m, 0, sizeof(*m));
    memset(&c, 0, sizeof(c));
    if (p == NULL)
        return kfail(err, errlen, AIOS_EINVAL, "model: no buffer");
    if (((uintptr_t)p & 3) != 0)
        return kfail(err, errlen, AIOS_EINVAL,
                     "model: buffer at %p is not 4-byte aligned", (const void *)p);
    if (size >= 4 && (uint32_t)read_i32(p) == AIOS_MODEL_MAGIC)
        rc = parse_v2(&c, p, size, err, errlen);
    else
        rc = parse_legacy(&c, p, size, err, errlen);
    if (rc != AIOS_OK)
        return rc;
    if (!layout(&c, &lo))
        return kfail(err, errlen, AIOS_EINVAL, "model: size overflows 64 bits");
    if ((uint64_t)size < lo.end)
        return kfail(err, errlen, AIOS_EINVAL,
                     "model: truncated: %zu bytes, the header implies %llu", size,
                     (unsigned long long)lo.end);
    if ((uint64_t)size > lo.end)
        return kfail(err, errlen, AIOS_EINVAL,
                     "model: %llu bytes of trailing data (%zu bytes, the header implies %llu)",
                     (unsigned long long)((uint64_t)size - lo.end), size,
                     (unsigned long long)lo.end);

    m->cfg = c;
    m->rms_att = (const float *)(const void *)(p + lo.rms_att);
    m->rms_ffn = (const float *)(const void *)(p + lo.rms_ffn);
    m->rms_final = (const float *)(const void *)(p + lo.rms_final);
    struct aios_matrix *mat[M_COUNT] = {
        &m->tok, &m->wq, &m->wk, &m->wv, &m->wo, &m->w1, &m->w2, &m->w3, &m->wcls,
    };
    for (int k = 0; k < M_COUNT; k++) {
        struct aios_matrix *x = mat[k];
        int src = k == M_WCLS && c.shared_classifier ? M_TOK : k;
        uint64_t n = (uint64_t)lo.rows[src] * (uint64_t)lo.cols[src];

        x->rows = lo.rows[src];
        x->cols = lo.cols[src];
        x->stride = (size_t)lo.stride[src];
        if (c.type == AIOS_WEIGHTS_F32) {
            x->f = (const float *)(const void *)(p + lo.mat[src]);
            continue;
        }
        x->q = (const int8_t *)(p + lo.mat[src]);
        x->s = (const float *)(const void *)(p + lo.mat[src] + n);
        /* Every layer's scales must be aligned: the first, and the step between layers. */
        if (!aligned4(p, lo.mat[src] + n) || (lo.count[src] > 1 && lo.stride[src] % 4 != 0)) {
            memset(m, 0, sizeof(*m));
            return kfail(err, errlen, AIOS_EINVAL,
                         "model: the scales of %s are not 4-byte aligned in the file (its "
                         "matrices hold %llu values, which this engine needs to be a "
                         "multiple of 4)", matrix_name[src], (unsigned long long)n);
        }
    }
    return AIOS_OK;
}

static void write_i32(unsigned char *p, int32_t v)
{
    memcpy(p, &v, sizeof(v));
}

int aios_model_quantize(const struct aios_model *src, int32_t group_size, void *dst,
                        size_t *size, char *err, size_t errlen)
{
    struct aios_config c = src->cfg;
    struct layout lo;
    unsigned char *p = dst;
    int rc;

    if (c.type != AIOS_WEIGHTS_F32)
        return kfail(err, errlen, AIOS_EINVAL, "quantize: the model is not fp32");
    c.type = AIOS_WEIGHTS_Q8;
    c.group_size = group_size;
    if ((rc = aios_config_check(&c, err, errlen)) != AIOS_OK)
        return rc;
    if (!layout(&c, &lo) || lo.end > (uint64_t)SIZE_MAX)
        return kfail(err, errlen, AIOS_EINVAL, "quantize: the image does not fit memory");
    for (int k = 0; k < M_COUNT; k++)
        if (lo.count[k] > 0 && ((uint64_t)lo.rows[k] * (uint64_t)lo.cols[k]) % 4 != 0)
            return kfail(err, errlen, AIOS_EINVAL,
                         "quantize: %s holds %llu values, not a multiple of 4, so its "
                         "scales would be misaligned", matrix_name[k],
                         (unsigned long long)lo.rows[k] * (unsigned long long)lo.cols[k]);
    if (dst == NULL) {
        *size = (size_t)lo.end;
        return AIOS_OK;
    }
    if (*size < lo.end)
        return kfail(err, errlen, AIOS_ERANGE, "quantize: %zu bytes given, %llu needed",
                     *size, (unsigned long long)lo.end);
    if (((uintptr_t)p & 3) != 0)
        return kfail(err, errlen, AIOS_EINVAL, "quantize: output is not 4-byte aligned");

    memset(p, 0, AIOS_MODEL_V2_HEADER);
    write_i32(p, (int32_t)AIOS_MODEL_MAGIC);
    write_i32(p + 4, 2);
    const int32_t params[7] = { c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads,
                                c.vocab_size, c.seq_len };
    for (int i = 0; i < 7; i++)
        write_i32(p + 8 + 4 * i, params[i]);
    p[36] = c.shared_classifier ? 1 : 0;
    write_i32(p + 37, c.group_size);

    size_t norms = (size_t)c.n_layers * (size_t)c.dim;
    memcpy(p + lo.rms_att, src->rms_att, norms * sizeof(float));
    memcpy(p + lo.rms_ffn, src->rms_ffn, norms * sizeof(float));
    memcpy(p + lo.rms_final, src->rms_final, (size_t)c.dim * sizeof(float));

    const struct aios_matrix *from[M_COUNT] = {
        &src->tok, &src->wq, &src->wk, &src->wv, &src->wo, &src->w1, &src->w2, &src->w3,
        &src->wcls,
    };
    for (int k = 0; k < M_COUNT; k++) {
        size_t n = (size_t)lo.rows[k] * (size_t)lo.cols[k];

        for (int32_t l = 0; l < lo.count[k]; l++) {
            unsigned char *q = p + lo.mat[k] + (size_t)l * lo.stride[k];
            aios_quantize_q8((int8_t *)q, (float *)(void *)(q + n),
                             aios_matrix_f32(from[k], l), n, (size_t)c.group_size);
        }
    }
    *size = (size_t)lo.end;
    return AIOS_OK;
}
