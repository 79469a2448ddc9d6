/*
 * aios-baseline: the yardstick for bench/inference.py. A straightforward C forward pass
 * of a llama2.c-format model (legacy fp32, or version 2 int8 Q8_0), written the obvious
 * way: a loop per formula, libm for exp/sqrt/pow/sin/cos, no intrinsics, no threads. The
 * Makefile builds it with -Ofast -march=native, so the compiler may vectorise, fuse and
 * reassociate as it likes: what an ordinary implementation gets from the compiler alone.
 * It is not part of the engine and promises nothing about bits.
 *
 *   aios-baseline model.bin [--tokens 1,5,9] [-n N] [--logits FILE]
 *
 * Greedy decoding from the prompt (default: BOS alone) for N more tokens (default: to the
 * end of the context), stopping at BOS. stdout: the ids, prompt first, on one line.
 * stderr: "N positions in T s: X tok/s", as aios-run prints it. --logits writes each
 * evaluated position's fp32 logits, like aios-run --logits, for comparing the two.
 */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct config {
    int dim, hidden, layers, heads, kv_heads, vocab, seq, group;
    int shared, int8;
};

/* An int8 tensor: values, and one scale per group of `group` consecutive values. */
struct qtensor {
    const int8_t *q;
    const float *s;
};

struct model {
    struct config c;
    const float *rms_att, *rms_ffn, *rms_final;
    /* fp32 */
    const float *tok, *wq, *wk, *wv, *wo, *w1, *w2, *w3, *wcls;
    /* int8: one tensor per layer, and the embedding dequantized once at load */
    struct qtensor *qwq, *qwk, *qwv, *qwo, *qw1, *qw2, *qw3, qtok, qcls;
    float *tok_f;
};

struct state {
    float *x, *xb, *xb2, *hb, *hb2, *q, *att, *logits, *kcache, *vcache;
    int8_t *xq;
    float *xs;
};

static void die(const char *msg)
{
    fprintf(stderr, "aios-baseline: %s\n", msg);
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        die("out of memory");
    return p;
}

static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open the model");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = aligned_alloc(64, ((size_t)len + 63) / 64 * 64);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
        die("cannot read the model");
    fclose(f);
    *size = (size_t)len;
    return buf;
}

/* Takes n int8 values and their n / group scales off *p. */
static struct qtensor take_q(char **p, size_t n, int group)
{
    struct qtensor t = { (const int8_t *)*p, (const float *)(*p + n) };
    *p += n + n / (size_t)group * sizeof(float);
    return t;
}

static struct qtensor *take_q_layers(char **p, int layers, size_t n, int group)
{
    struct qtensor *t = xcalloc((size_t)layers, sizeof(*t));
    for (int l = 0; l < layers; l++)
        t[l] = take_q(p, n, group);
    return t;
}

static void load(struct model *m, char *buf, size_t size)
{
    struct config *c = &m->c;
    int32_t h[9];
    char *p;

    memcpy(h, buf, sizeof(h));
    c->int8 = (uint32_t)h[0] == 0x616b3432u;
    if (c->int8) {
        if (h[1] != 2)
            die("unsupported version");
        c->dim = h[2], c->hidden = h[3], c->layers = h[4], c->heads = h[5];
        c->kv_heads = h[6], c->vocab = h[7], c->seq = h[8];
        c->shared = buf[36];
        memcpy(&c->group, buf + 37, 4);
        p = buf + 256;
    } else {
        c->dim = h[0], c->hidden = h[1], c->layers = h[2], c->heads = h[3];
        c->kv_heads = h[4], c->vocab = abs(h[5]), c->seq = h[6];
        c->shared = h[5] > 0;
        p = buf + 28;
    }
    size_t dim = (size_t)c->dim, hid = (size_t)c->hidden, L = (size_t)c->layers;
    size_t kv_dim = dim * (size_t)c->kv_heads / (size_t)c->heads;
    size_t head = dim / (size_t)c->heads;

    if (!c->int8) {
        float *f = (float *)p;
        m->tok = f, f += (size_t)c->vocab * dim;
        m->rms_att = f, f += L * dim;
        m->wq = f, f += L * dim * dim;
        m->wk = f, f += L * kv_dim * dim;
        m->wv = f, f += L * kv_dim * dim;
        m->wo = f, f += L * dim * dim;
        m->rms_ffn = f, f += L * dim;
        m->w1 = f, f += L * hid * dim;
        m->w2 = f, f += L * dim * hid;
        m->w3 = f, f += L * hid * dim;
        m->rms_final = f, f += dim;
        f += (size_t)c->seq * head;   /* freq_cis_real and _imag, unused */
        m->wcls = c->shared ? m->tok : f;
        if (!c->shared)
            f += (size_t)c->vocab * dim;
        p = (char *)f;
    } else {
        float *f = (float *)p;
        int g = c->group;
        m->rms_att = f, f += L * dim;
        m->rms_ffn = f, f += L * dim;
        m->rms_final = f, f += dim;
        p = (char *)f;
        m->qtok = take_q(&p, (size_t)c->vocab * dim, g);
        m->qwq = take_q_layers(&p, c->layers, dim * dim, g);
        m->qwk = take_q_layers(&p, c->layers, kv_dim * dim, g);
        m->qwv = take_q_layers(&p, c->layers, kv_dim * dim, g);
        m->qwo = take_q_layers(&p, c->layers, dim * dim, g);
        m->qw1 = take_q_layers(&p, c->layers, hid * dim, g);
        m->qw2 = take_q_layers(&p, c->layers, dim * hid, g);
        m->qw3 = take_q_layers(&p, c->layers, hid * dim, g);
        m->qcls = c->shared ? m->qtok : take_q(&p, (size_t)c->vocab * dim, g);
        m->tok_f = xcalloc((size_t)c->vocab * dim, sizeof(float));
        for (size_t i = 0; i < (size_t)c->vocab * dim; i++)
            m->tok_f[i] = m->qtok.q[i] * m->qtok.s[i / (size_t)g];
    }
    if ((size_t)(p - buf) != size)
        die("the file size does not match its header");
}

static void rmsnorm(float *out, const float *x, const float *w, int n)
{
    float ss = 0.0f;
    for (int i = 0; i < n; i++)
        ss += x[i] * x[i];
    ss = 1.0f / sqrtf(ss / n + 1e-5f);
    for (int i = 0; i < n; i++)
        out[i] = w[i] * (ss * x[i]);
}

static void softmax(float *x, int n)
{
    float max = x[0], sum = 0.0f;
    for (int i = 1; i < n; i++)
        if (x[i] > max)
            max = x[i];
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    for (int i = 0; i < n; i++)
        x[i] /= sum;
}

/* out[d] = W[d][n] x[n] */
static void matmul(float *out, const float *x, const float *w, int n, int d)
{
    for (int i = 0; i < d; i++) {
        float val = 0.0f;
        for (int j = 0; j < n; j++)
            val += w[(size_t)i * n + j] * x[j];
        out[i] = val;
    }
}

static void quantize(int8_t *q, float *s, const float *x, int n, int group)
{
    for (int g = 0; g < n / group; g++) {
        float amax = 0.0f;
        for (int i = 0; i < group; i++)
            amax = fmaxf(amax, fabsf(x[g * group + i]));
        float scale = amax / 127.0f;
        s[g] = scale;
        for (int i = 0; i < group; i++)
            q[g * group + i] = scale > 0.0f ? (int8_t)roundf(x[g * group + i] / scale) : 0;
    }
}

/* out[d] = W[d][n] x[n], both Q8_0: exact integer sums per group, then the two scales. */
static void matmul_q8(float *out, const int8_t *xq, const float *xs, struct qtensor w, int n,
                      int d, int group)
{
    for (int i = 0; i < d; i++) {
        float val = 0.0f;
        for (int j = 0; j < n; j += group) {
            int32_t ival = 0;
            for (int k = 0; k < group; k++)
                ival += (int32_t)xq[j + k] * (int32_t)w.q[(size_t)i * n + j + k];
            val += (float)ival * w.s[((size_t)i * n + j) / group] * xs[j / group];
        }
        out[i] = val;
    }
}

/* out = W x, for either format; x is quantized first for int8 (once per input: q, k and v
 * share it, as do w1 and w3). */
static void linear(const struct model *m, struct state *s, float *out, const float *x,
                   const float *wf, struct qtensor wq, int n, int d, int requantize)
{
    if (!m->c.int8) {
        matmul(out, x, wf, n, d);
        return;
    }
    if (requantize)
        quantize(s->xq, s->xs, x, n, m->c.group);
    matmul_q8(out, s->xq, s->xs, wq, n, d, m->c.group);
}

static float *forward(const struct model *m, struct state *s, int token, int pos)
{
    const struct config *c = &m->c;
    int dim = c->dim, hid = c->hidden, head = dim / c->heads;
    int kv_dim = dim * c->kv_heads / c->heads, kv_mul = c->heads / c->kv_heads;
    int i8 = c->int8;
    struct qtensor none = { 0, 0 };

    memcpy(s->x, (i8 ? m->tok_f : m->tok) + (size_t)token * dim, (size_t)dim * sizeof(float));
    for (int l = 0; l < c->layers; l++) {
        size_t ld = (size_t)l * dim;
        float *k = s->kcache + ((size_t)l * c->seq + pos) * kv_dim;
        float *v = s->vcache + ((size_t)l * c->seq + pos) * kv_dim;

        rmsnorm(s->xb, s->x, m->rms_att + ld, dim);
        linear(m, s, s->q, s->xb, i8 ? 0 : m->wq + ld * dim, i8 ? m->qwq[l] : none, dim, dim, 1);
        linear(m, s, k, s->xb, i8 ? 0 : m->wk + ld * kv_dim, i8 ? m->qwk[l] : none, dim, kv_dim, 0);
        linear(m, s, v, s->xb, i8 ? 0 : m->wv + ld * kv_dim, i8 ? m->qwv[l] : none, dim, kv_dim, 0);

        for (int i = 0; i < dim; i += 2) {
            float freq = 1.0f / powf(10000.0f, (float)(i % head) / (float)head);
            float fcr = cosf(pos * freq), fci = sinf(pos * freq);
            for (int r = 0; r < (i < kv_dim ? 2 : 1); r++) {
                float *vec = r == 0 ? s->q : k;
                float a = vec[i], b = vec[i + 1];
                vec[i] = a * fcr - b * fci;
                vec[i + 1] = a * fci + b * fcr;
            }
        }

        for (int h = 0; h < c->heads; h++) {
            const float *q = s->q + h * head;
            float *att = s->att + (size_t)h * c->seq;
            size_t off = (size_t)l * c->seq * kv_dim + (size_t)(h / kv_mul) * head;
            for (int t = 0; t <= pos; t++) {
                const float *kt = s->kcache + off + (size_t)t * kv_dim;
                float score = 0.0f;
                for (int i = 0; i < head; i++)
                    score += q[i] * kt[i];
                att[t] = score / sqrtf((float)head);
            }
            softmax(att, pos + 1);
            float *xb = s->xb + h * head;
            memset(xb, 0, (size_t)head * sizeof(float));
            for (int t = 0; t <= pos; t++) {
                const float *vt = s->vcache + off + (size_t)t * kv_dim;
                for (int i = 0; i < head; i++)
                    xb[i] += att[t] * vt[i];
            }
        }
        linear(m, s, s->xb2, s->xb, i8 ? 0 : m->wo + ld * dim, i8 ? m->qwo[l] : none, dim, dim, 1);
        for (int i = 0; i < dim; i++)
            s->x[i] += s->xb2[i];

        rmsnorm(s->xb, s->x, m->rms_ffn + ld, dim);
        size_t lh = (size_t)l * hid * dim;
        linear(m, s, s->hb, s->xb, i8 ? 0 : m->w1 + lh, i8 ? m->qw1[l] : none, dim, hid, 1);
        linear(m, s, s->hb2, s->xb, i8 ? 0 : m->w3 + lh, i8 ? m->qw3[l] : none, dim, hid, 0);
        for (int i = 0; i < hid; i++) {
            float a = s->hb[i];
            s->hb[i] = a / (1.0f + expf(-a)) * s->hb2[i];
        }
        linear(m, s, s->xb2, s->hb, i8 ? 0 : m->w2 + lh, i8 ? m->qw2[l] : none, hid, dim, 1);
        for (int i = 0; i < dim; i++)
            s->x[i] += s->xb2[i];
    }
    rmsnorm(s->x, s->x, m->rms_final, dim);
    linear(m, s, s->logits, s->x, m->wcls, m->qcls, dim, c->vocab, 1);
    return s->logits;
}

static int argmax(const float *x, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    const char *tokens = "1", *logits_path = NULL;
    long n = -1;
    size_t size;
    struct model m = { 0 };
    struct state s;

    if (argc < 2)
        die("usage: aios-baseline model.bin [--tokens 1,5,9] [-n N] [--logits FILE]");
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--tokens"))
            tokens = argv[i + 1];
        else if (!strcmp(argv[i], "-n"))
            n = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--logits"))
            logits_path = argv[i + 1];
        else
            die("unknown option");
    }
    char *buf = read_file(argv[1], &size);
    load(&m, buf, size);
    const struct config *c = &m.c;
    size_t kv_dim = (size_t)c->dim * (size_t)c->kv_heads / (size_t)c->heads;
    size_t cache = (size_t)c->layers * (size_t)c->seq * kv_dim;
    s.x = xcalloc((size_t)c->dim, sizeof(float));
    s.xb = xcalloc((size_t)c->dim, sizeof(float));
    s.xb2 = xcalloc((size_t)c->dim, sizeof(float));
    s.q = xcalloc((size_t)c->dim, sizeof(float));
    s.hb = xcalloc((size_t)c->hidden, sizeof(float));
    s.hb2 = xcalloc((size_t)c->hidden, sizeof(float));
    s.att = xcalloc((size_t)c->heads * (size_t)c->seq, sizeof(float));
    s.logits = xcalloc((size_t)c->vocab, sizeof(float));
    s.kcache = xcalloc(cache, sizeof(float));
    s.vcache = xcalloc(cache, sizeof(float));
    s.xq = xcalloc((size_t)(c->dim > c->hidden ? c->dim : c->hidden), 1);
    s.xs = xcalloc((size_t)(c->dim > c->hidden ? c->dim : c->hidden), sizeof(float));

    int *seq = xcalloc((size_t)c->seq, sizeof(int));
    size_t n_prompt = 0;
    for (const char *p = tokens; *p && n_prompt < (size_t)c->seq; n_prompt++) {
        seq[n_prompt] = (int)strtol(p, (char **)&p, 10);
        if (seq[n_prompt] < 0 || seq[n_prompt] >= c->vocab)
            die("token out of range");
        if (*p == ',')
            p++;
    }
    size_t limit = n < 0 ? (size_t)c->seq : n_prompt + (size_t)n;
    if (limit > (size_t)c->seq)
        limit = (size_t)c->seq;
    FILE *lf = logits_path ? fopen(logits_path, "wb") : NULL;
    if (logits_path && !lf)
        die("cannot write the logits");

    printf("%d", seq[0]);
    size_t evaluated = 0;
    double start = now();
    for (size_t pos = 0; pos < limit; pos++) {
        if (pos + 1 == limit && !lf)
            break;
        float *logits = forward(&m, &s, seq[pos], (int)pos);
        evaluated++;
        if (lf)
            fwrite(logits, sizeof(float), (size_t)c->vocab, lf);
        if (pos + 1 == limit)
            break;
        int next = pos + 1 < n_prompt ? seq[pos + 1] : argmax(logits, c->vocab);
        if (pos + 1 >= n_prompt && next == 1)
            break;
        seq[pos + 1] = next;
        printf(" %d", next);
    }
    double elapsed = now() - start;
    printf("\n");
    if (lf)
        fclose(lf);
    fprintf(stderr, "aios-baseline: %zu positions in %.3f s: %.1f tok/s\n", evaluated, elapsed,
            elapsed > 0 ? (double)evaluated / elapsed : 0.0);
    return 0;
}
