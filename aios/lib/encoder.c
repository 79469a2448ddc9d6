/*
 * libaios sentence encoder (model and file format in encoder.h, design in
 * docs/encoder.md).
 *
 * Featurisation is one pass over the text that hands each feature to a callback, so the
 * runtime (which adds embedding rows) and the trainer (which also needs the buckets for
 * its gradient) cannot featurise differently. Hashing is FNV-1a with a seed, finished
 * by murmur3's fmix32 so that the bucket (hash mod buckets) uses every bit: integer
 * arithmetic, the same on every machine.
 *
 * The loader checks the parameters first (so no size computation can overflow: every
 * bound is far below 2^64 / 4), then the exact size, then the checksum, and forms
 * pointers into the buffer only after all of that.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "aios/aios_math.h"
#include "aios/encoder.h"
#include "aios/kernels.h"
#include "kprintf.h"
#include "sha256.h"

/* ---------------------------------------------------------------- hashing */

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

/* Tags keep the three kinds of feature apart: "ab" the word and "ab" the n-gram are
 * different features. */
enum { TAG_WORD = 0x5a1d0001u, TAG_NGRAM = 0x5a1d0002u, TAG_BIGRAM = 0x5a1d0003u };

static uint32_t fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static uint32_t fnv1a(uint32_t h, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint32_t start(uint32_t seed, uint32_t tag)
{
    return fmix32(FNV_BASIS ^ fmix32(seed ^ tag));
}

/* ---------------------------------------------------------------- featurisation */

bool aios_encoder_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c >= 0x80;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* n-grams of n bytes in a string of len bytes. */
static uint32_t ngram_count(uint32_t len, uint32_t minn, uint32_t maxn)
{
    uint32_t count = 0;

    if (minn == 0)
        return 0;
    for (uint32_t n = minn; n <= maxn; n++)
        if (len >= n)
            count += len - n + 1;
    return count;
}

struct aios_encoder_params aios_encoder_member_params(const struct aios_encoder_params *p,
                                                      uint32_t i)
{
    struct aios_encoder_params m = *p;

    m.seed += i;
    if (p->no_bigrams >> i & 1u)
        m.flags &= ~(uint32_t)AIOS_ENC_F_BIGRAMS;
    m.no_bigrams = 0;
    return m;
}

float aios_encoder_featurize(const struct aios_encoder_params *p, const char *text,
                             aios_encoder_feature_fn fn, void *ctx)
{
    const unsigned char *s = (const unsigned char *)text;
    /* "<" word ">" with the word cut at AIOS_ENC_MAX_WORD bytes. */
    unsigned char buf[AIOS_ENC_MAX_WORD + 2];
    uint32_t prev = 0;
    bool have_prev = false;
    float total = 0.0f;

    while (*s) {
        if (!aios_encoder_word_byte(*s)) {
            s++;
            continue;
        }
        uint32_t len = 0;
        buf[0] = '<';
        while (aios_encoder_word_byte(*s)) {
            unsigned char c = *s++;
            if ((p->flags & AIOS_ENC_F_DIGITS) && is_digit(c)) {
                while (is_digit(*s))
                    s++;
                c = '0';
            } else if (c >= 'A' && c <= 'Z') {
                c = (unsigned char)(c - 'A' + 'a');
            }
            if (len < AIOS_ENC_MAX_WORD)
                buf[1 + len++] = c;
        }
        buf[1 + len] = '>';

        uint32_t hw = fnv1a(start(p->seed, TAG_WORD), buf + 1, len);
        uint32_t grams = ngram_count(len + 2, p->minn, p->maxn);
        uint32_t k = grams + ((p->flags & AIOS_ENC_F_WORDS) ? 1u : 0u);
        if (k > 0) {
            /* Equal shares, or the word's own bucket word_permille / 1000 of the word and
             * the n-grams the rest, split equally. */
            float wt = 1.0f / (float)k, ww = wt;
            if (p->word_permille && grams && (p->flags & AIOS_ENC_F_WORDS)) {
                ww = (float)p->word_permille / 1000.0f;
                wt = (1.0f - ww) / (float)grams;
            }
            if (p->flags & AIOS_ENC_F_WORDS)
                fn(ctx, fmix32(hw) % p->buckets, ww);
            if (grams)
                for (uint32_t n = p->minn; n <= p->maxn; n++)
                    for (uint32_t i = 0; i + n <= len + 2; i++)
                        fn(ctx, fmix32(fnv1a(start(p->seed, TAG_NGRAM + (n << 8)), buf + i, n)) %
                                    p->buckets,
                           wt);
            total += 1.0f;
        }
        if ((p->flags & AIOS_ENC_F_BIGRAMS) && have_prev) {
            uint32_t hb = start(p->seed, TAG_BIGRAM);
            hb = fmix32((hb ^ prev) * FNV_PRIME);
            hb = fmix32((hb ^ hw) * FNV_PRIME);
            fn(ctx, hb % p->buckets, 1.0f);
            total += 1.0f;
        }
        prev = hw;
        have_prev = true;
    }
    return total;
}

/* ---------------------------------------------------------------- the file */

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static int check_params(const struct aios_encoder_params *p, int encoding, char *err,
                        size_t errlen)
{
    if (encoding != AIOS_ENC_FP32 && encoding != AIOS_ENC_INT8)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: unknown encoding %u",
                     (unsigned)encoding);
    if (p->buckets < 1 || p->buckets > AIOS_ENC_MAX_BUCKETS)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: buckets %u out of range (1..%u)",
                     (unsigned)p->buckets, AIOS_ENC_MAX_BUCKETS);
    if (p->dim < 4 || p->dim > AIOS_ENC_MAX_DIM || p->dim % 4)
        return kfail(err, errlen, AIOS_EINVAL,
                     "encoder: dim %u is not a multiple of 4 in 4..%u", (unsigned)p->dim,
                     AIOS_ENC_MAX_DIM);
    if (p->out_dim != 0 && (p->out_dim < 4 || p->out_dim > AIOS_ENC_MAX_DIM || p->out_dim % 4))
        return kfail(err, errlen, AIOS_EINVAL,
                     "encoder: out_dim %u is neither 0 nor a multiple of 4 in 4..%u",
                     (unsigned)p->out_dim, AIOS_ENC_MAX_DIM);
    if (!(p->minn == 0 && p->maxn == 0) &&
        !(p->minn >= 1 && p->minn <= p->maxn && p->maxn <= AIOS_ENC_MAX_NGRAM))
        return kfail(err, errlen, AIOS_EINVAL,
                     "encoder: n-gram range %u..%u invalid (1 <= minn <= maxn <= %u, or 0..0)",
                     (unsigned)p->minn, (unsigned)p->maxn, AIOS_ENC_MAX_NGRAM);
    if (p->word_permille > 1000)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: word weight %u/1000 out of range",
                     (unsigned)p->word_permille);
    if (p->flags & ~(uint32_t)AIOS_ENC_F_ALL)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: unknown flags 0x%x",
                     (unsigned)p->flags);
    if (p->members < 1 || p->members > AIOS_ENC_MAX_MEMBERS ||
        p->members * (p->out_dim ? p->out_dim : p->dim) > AIOS_ENC_MAX_EMBED)
        return kfail(err, errlen, AIOS_EINVAL,
                     "encoder: %u members out of range (1..%u, at most %u values in all)",
                     (unsigned)p->members, AIOS_ENC_MAX_MEMBERS, AIOS_ENC_MAX_EMBED);
    if (p->no_bigrams >> p->members)
        return kfail(err, errlen, AIOS_EINVAL,
                     "encoder: bigram-free members 0x%x name a member beyond the %u",
                     (unsigned)p->no_bigrams, (unsigned)p->members);
    if (p->no_bigrams && !(p->flags & AIOS_ENC_F_BIGRAMS))
        return kfail(err, errlen, AIOS_EINVAL,
                     "encoder: bigram-free members 0x%x in a file without bigrams",
                     (unsigned)p->no_bigrams);
    return AIOS_OK;
}

/* Bytes of one member's table, and of one member, for a checked p: at most
 * 2^24 * 1024 * 4 + 1024 * 1028 * 4, times 16 members for the body: no overflow. */
static uint64_t table_size(const struct aios_encoder_params *p, int encoding)
{
    uint64_t rows = (uint64_t)p->buckets * p->dim;

    return encoding == AIOS_ENC_FP32 ? rows * 4 : rows + (uint64_t)p->buckets * 4;
}

static uint64_t member_size(const struct aios_encoder_params *p, int encoding)
{
    return table_size(p, encoding) + ((uint64_t)p->out_dim * p->dim + p->out_dim) * 4;
}

static uint64_t body_size(const struct aios_encoder_params *p, int encoding)
{
    return member_size(p, encoding) * p->members;
}

size_t aios_encoder_file_size(const struct aios_encoder_params *p, int encoding, char *err,
                              size_t errlen)
{
    if (!p || check_params(p, encoding, err, errlen) != AIOS_OK)
        return 0;
    uint64_t total = AIOS_ENC_HEADER_SIZE + body_size(p, encoding);
    if (total > (uint64_t)SIZE_MAX) {
        kfail(err, errlen, AIOS_EINVAL, "encoder: file too large for this machine");
        return 0;
    }
    return (size_t)total;
}

int aios_encoder_load(struct aios_encoder *enc, const void *buf, size_t len, char *err,
                      size_t errlen)
{
    const unsigned char *h = buf;
    struct aios_encoder_params p;
    uint8_t digest[SHA256_DIGEST_SIZE];

    if (!enc)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: no encoder to load into");
    memset(enc, 0, sizeof(*enc));
    if (!buf || len < AIOS_ENC_HEADER_SIZE)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: truncated header (%zu bytes of %u)",
                     buf ? len : 0, AIOS_ENC_HEADER_SIZE);
    if ((uintptr_t)buf % 4)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: buffer not 4-byte aligned");
    if (rd32(h) != AIOS_ENC_MAGIC)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: bad magic 0x%08x (not an encoder file)",
                     (unsigned)rd32(h));
    if (rd32(h + 4) != AIOS_ENC_VERSION)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: version %u not supported (only %u)",
                     (unsigned)rd32(h + 4), AIOS_ENC_VERSION);
    if (rd32(h + 8) != AIOS_ENC_HEADER_SIZE)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: header size %u, expected %u",
                     (unsigned)rd32(h + 8), AIOS_ENC_HEADER_SIZE);
    uint32_t encoding = rd32(h + 12);
    p.buckets = rd32(h + 16);
    p.dim = rd32(h + 20);
    p.out_dim = rd32(h + 24);
    p.seed = rd32(h + 28);
    p.minn = rd32(h + 32);
    p.maxn = rd32(h + 36);
    p.flags = rd32(h + 40);
    p.word_permille = rd32(h + 44);
    p.members = rd32(h + 88);
    p.no_bigrams = rd32(h + 92);
    if (encoding > AIOS_ENC_INT8)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: unknown encoding %u",
                     (unsigned)encoding);
    int rc = check_params(&p, (int)encoding, err, errlen);
    if (rc != AIOS_OK)
        return rc;
    bool zeros = true;
    for (unsigned i = 96; i < AIOS_ENC_HEADER_SIZE; i++)
        zeros = zeros && h[i] == 0;
    if (!zeros)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: reserved header bytes not zero");
    uint64_t want = body_size(&p, (int)encoding), stated = rd64(h + 48);
    uint64_t have = (uint64_t)(len - AIOS_ENC_HEADER_SIZE);
    if (stated != want)
        return kfail(err, errlen, AIOS_EINVAL,
                     "encoder: header says %llu body bytes, its shape needs %llu",
                     (unsigned long long)stated, (unsigned long long)want);
    if (have < want)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: truncated (%llu body bytes of %llu)",
                     (unsigned long long)have, (unsigned long long)want);
    if (have > want)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: %llu bytes of trailing data",
                     (unsigned long long)(have - want));
    sha256(h + AIOS_ENC_HEADER_SIZE, (size_t)want, digest);
    if (memcmp(digest, h + 56, SHA256_DIGEST_SIZE) != 0)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: checksum mismatch (corrupt body)");

    const unsigned char *body = h + AIOS_ENC_HEADER_SIZE;
    size_t rows = (size_t)p.buckets * p.dim;
    enc->p = p;
    enc->encoding = (int)encoding;
    for (uint32_t i = 0; i < p.members; i++) {
        struct aios_encoder_member *m = &enc->m[i];
        if (encoding == AIOS_ENC_FP32) {
            m->emb = (const float *)(const void *)body;
        } else {
            m->qemb = (const int8_t *)(const void *)body;
            m->qscale = (const float *)(const void *)(body + rows);
        }
        body += table_size(&p, (int)encoding);
        m->w = (const float *)(const void *)body;
        m->b = m->w + (size_t)p.out_dim * p.dim;
        body += ((size_t)p.out_dim * p.dim + p.out_dim) * 4;
    }
    return AIOS_OK;
}

int aios_encoder_write(void *out, size_t size, const struct aios_encoder_params *p,
                       int encoding, const float *emb, const float *w, const float *b,
                       char *err, size_t errlen)
{
    unsigned char *h = out;

    if (!out || !p || !emb || (p->out_dim && (!w || !b)))
        return kfail(err, errlen, AIOS_EINVAL, "encoder: NULL argument");
    size_t want = aios_encoder_file_size(p, encoding, err, errlen);
    if (want == 0)
        return AIOS_EINVAL;
    if (size != want)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: output is %zu bytes, the file is %zu",
                     size, want);
    if ((uintptr_t)out % 4)
        return kfail(err, errlen, AIOS_EINVAL, "encoder: output not 4-byte aligned");

    memset(h, 0, AIOS_ENC_HEADER_SIZE);
    wr32(h, AIOS_ENC_MAGIC);
    wr32(h + 4, AIOS_ENC_VERSION);
    wr32(h + 8, AIOS_ENC_HEADER_SIZE);
    wr32(h + 12, (uint32_t)encoding);
    wr32(h + 16, p->buckets);
    wr32(h + 20, p->dim);
    wr32(h + 24, p->out_dim);
    wr32(h + 28, p->seed);
    wr32(h + 32, p->minn);
    wr32(h + 36, p->maxn);
    wr32(h + 40, p->flags);
    wr32(h + 44, p->word_permille);
    wr32(h + 88, p->members);
    wr32(h + 92, p->no_bigrams);
    uint64_t body = (uint64_t)(want - AIOS_ENC_HEADER_SIZE);
    wr32(h + 48, (uint32_t)body);
    wr32(h + 52, (uint32_t)(body >> 32));

    unsigned char *o = h + AIOS_ENC_HEADER_SIZE;
    size_t rows = (size_t)p->buckets * p->dim, wsize = (size_t)p->out_dim * p->dim;
    for (uint32_t i = 0; i < p->members; i++) {
        const float *e = emb + i * rows;
        if (encoding == AIOS_ENC_FP32) {
            memcpy(o, e, rows * 4);
            o += rows * 4;
        } else {
            int8_t *q = (int8_t *)(void *)o;
            float *s = (float *)(void *)(o + rows);
            for (size_t r = 0; r < p->buckets; r++)
                aios_quantize_q8(q + r * p->dim, s + r, e + r * p->dim, p->dim, p->dim);
            o += rows + (size_t)p->buckets * 4;
        }
        if (p->out_dim) {
            memcpy(o, w + i * wsize, wsize * 4);
            o += wsize * 4;
            memcpy(o, b + (size_t)i * p->out_dim, (size_t)p->out_dim * 4);
            o += (size_t)p->out_dim * 4;
        }
    }
    sha256(h + AIOS_ENC_HEADER_SIZE, (size_t)body, h + 56);
    return AIOS_OK;
}

/* ---------------------------------------------------------------- embedding */

/* One member's vector length. */
static size_t member_dim(const struct aios_encoder *enc)
{
    return enc->p.out_dim ? enc->p.out_dim : enc->p.dim;
}

size_t aios_encoder_dim(const struct aios_encoder *enc)
{
    return enc->p.members * member_dim(enc);
}

struct embed_ctx {
    const struct aios_encoder *enc;
    const struct aios_encoder_member *e;
    float *acc;
};

static void add_row(void *arg, uint32_t bucket, float weight)
{
    const struct embed_ctx *c = arg;
    const struct aios_encoder_member *e = c->e;
    size_t dim = c->enc->p.dim;
    float *acc = c->acc;

    if (c->enc->encoding == AIOS_ENC_FP32) {
        const float *row = e->emb + (size_t)bucket * dim;
        for (size_t d = 0; d < dim; d++)
            acc[d] += weight * row[d];
    } else {
        const int8_t *row = e->qemb + (size_t)bucket * dim;
        float coef = weight * e->qscale[bucket];
        for (size_t d = 0; d < dim; d++)
            acc[d] += coef * (float)row[d];
    }
}

/* tanh from exp, in float: 1 - 2 / (e^2|z| + 1) with z's sign; NaN stays NaN. */
static float tanh_f(float z)
{
    float a = z < 0.0f ? -z : z;
    float t = 1.0f - 2.0f / (aios_expf(2.0f * a) + 1.0f);

    return z < 0.0f ? -t : t;
}

float aios_encoder_cosine(const float *a, const float *b, size_t n)
{
    return aios_dot_f32(a, b, n);
}

/* Member i's unit vector (or zeros) into out[0..member_dim); whether it is non-zero. */
static bool embed_member(const struct aios_encoder *enc, uint32_t i, const char *text,
                         float *x, float *h, float *out)
{
    size_t dim = enc->p.dim, odim = member_dim(enc);
    struct aios_encoder_params p = aios_encoder_member_params(&enc->p, i);
    struct embed_ctx c = { .enc = enc, .e = &enc->m[i], .acc = x };

    memset(x, 0, dim * sizeof(float));
    float total = aios_encoder_featurize(&p, text, add_row, &c);
    if (total == 0.0f) {
        memset(out, 0, odim * sizeof(float));
        return false;
    }
    float inv = 1.0f / total;
    for (size_t d = 0; d < dim; d++)
        x[d] *= inv;
    if (enc->p.out_dim)
        for (size_t o = 0; o < odim; o++)
            h[o] = tanh_f(aios_dot_f32(c.e->w + o * dim, x, dim) + c.e->b[o]);

    float n2 = aios_dot_f32(h, h, odim);
    if (!(n2 > 0.0f)) {
        memset(out, 0, odim * sizeof(float));
        return false;
    }
    float scale = 1.0f / aios_sqrtf(n2);
    for (size_t o = 0; o < odim; o++)
        out[o] = h[o] * scale;
    return true;
}

int aios_encoder_embed(const struct aios_encoder *enc, const char *text, float *out,
                       struct aios_arena *scratch)
{
    if (!enc || !text || !out || !scratch || (!enc->m[0].emb && !enc->m[0].qemb))
        return AIOS_EINVAL;

    size_t mark = aios_arena_mark(scratch);
    size_t dim = enc->p.dim, odim = member_dim(enc);
    float *x = aios_arena_alloc(scratch, dim * sizeof(float), 16);
    float *h = enc->p.out_dim ? aios_arena_alloc(scratch, odim * sizeof(float), 16) : x;
    if (!x || !h) {
        aios_arena_reset(scratch, mark);
        return AIOS_ENOMEM;
    }
    /* The members' unit vectors side by side, each scaled by 1/sqrt(how many are not
     * zero): unit length in all (exactly the member's vector for one member). */
    uint32_t nonzero = 0;
    for (uint32_t i = 0; i < enc->p.members; i++)
        nonzero += embed_member(enc, i, text, x, h, out + i * odim);
    if (nonzero > 1) {
        float scale = 1.0f / aios_sqrtf((float)nonzero);
        for (size_t o = 0; o < enc->p.members * odim; o++)
            out[o] *= scale;
    }
    aios_arena_reset(scratch, mark);
    return AIOS_OK;
}
