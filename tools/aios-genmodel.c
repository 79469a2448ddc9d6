/*
 * aios-genmodel: writes a model with random weights, for tests and benchmarks of the
 * engine when no trained checkpoint is at hand.
 *
 *   aios-genmodel [--int8] [--group-size N] --dim D --hidden H --layers L --heads NH
 *                 --kv-heads NKV --vocab V --seq S [--separate-classifier] --seed N
 *                 -o out.bin
 *
 * The weights are a deterministic function of the shape and the seed (libaios's
 * xorshift64* generator): matrices uniform in +-1/sqrt(fan_in), as a small
 * initialisation would make them, so activations and logits keep a sensible scale
 * through the layers; norm weights uniform in [0.9, 1.1]. The output is the legacy fp32
 * format; with --int8 the same fp32 weights quantized to the version 2 Q8_0 format by
 * libaios (byte for byte what aios-quantize makes of the fp32 file). --group-size
 * defaults to 64, halved until it divides dim and hidden_dim; a group size given
 * explicitly must fit as it is.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aios/aios_math.h"
#include "aios/common.h"
#include "aios/model.h"
#include "aios/sampler.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aios-genmodel [--int8] [--group-size N] --dim D --hidden H --layers L\n"
            "                     --heads NH --kv-heads NKV --vocab V --seq S\n"
            "                     [--separate-classifier] --seed N -o out.bin\n"
            "Writes a model with random weights: legacy fp32, or version 2 Q8_0 with --int8.\n");
}

static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end;

    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

struct gen {
    uint64_t rng;
    float *p;   /* the next float of the image */
};

static void uniform(struct gen *g, size_t n, float center, float half_width)
{
    for (size_t i = 0; i < n; i++)
        *g->p++ = center + (2.0f * aios_random_f32(&g->rng) - 1.0f) * half_width;
}

static void matrices(struct gen *g, size_t count, size_t rows, size_t cols)
{
    uniform(g, count * rows * cols, 0.0f, 1.0f / aios_sqrtf((float)cols));
}

static int write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL) {
        fprintf(stderr, "aios-genmodel: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "aios-genmodel: writing %s failed\n", path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct aios_config c = { .type = AIOS_WEIGHTS_F32, .shared_classifier = true };
    long dim = 0, hidden = 0, layers = 0, heads = 0, kv_heads = 0, vocab = 0, seq = 0;
    long seed = -1, group = 0;
    bool int8 = false;
    const char *out = NULL;
    char err[256];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        struct { const char *name; long *dst; long min; } num[] = {
            { "--dim", &dim, 1 }, { "--hidden", &hidden, 1 }, { "--layers", &layers, 1 },
            { "--heads", &heads, 1 }, { "--kv-heads", &kv_heads, 1 },
            { "--vocab", &vocab, 1 }, { "--seq", &seq, 1 }, { "--seed", &seed, 0 },
            { "--group-size", &group, 1 },
        };
        bool matched = false;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--int8") == 0) {
            int8 = true;
            continue;
        }
        if (strcmp(a, "--separate-classifier") == 0) {
            c.shared_classifier = false;
            continue;
        }
        if (strcmp(a, "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
            continue;
        }
        for (size_t k = 0; k < sizeof(num) / sizeof(num[0]); k++) {
            if (strcmp(a, num[k].name) != 0)
                continue;
            if (i + 1 >= argc || !parse_long(argv[i + 1], num[k].min, INT32_MAX, num[k].dst)) {
                fprintf(stderr, "aios-genmodel: %s needs an integer >= %ld\n", a, num[k].min);
                return 2;
            }
            i++;
            matched = true;
        }
        if (!matched) {
            fprintf(stderr, "aios-genmodel: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!dim || !hidden || !layers || !heads || !kv_heads || !vocab || !seq || seed < 0 ||
        out == NULL) {
        fprintf(stderr, "aios-genmodel: --dim, --hidden, --layers, --heads, --kv-heads, "
                        "--vocab, --seq, --seed and -o are required\n");
        usage(stderr);
        return 2;
    }
    if (group != 0 && !int8) {
        fprintf(stderr, "aios-genmodel: --group-size only applies with --int8\n");
        return 2;
    }
    c.dim = (int32_t)dim;
    c.hidden_dim = (int32_t)hidden;
    c.n_layers = (int32_t)layers;
    c.n_heads = (int32_t)heads;
    c.n_kv_heads = (int32_t)kv_heads;
    c.vocab_size = (int32_t)vocab;
    c.seq_len = (int32_t)seq;
    if (aios_config_check(&c, err, sizeof(err)) != AIOS_OK) {
        fprintf(stderr, "aios-genmodel: %s\n", err);
        return 1;
    }

    uint64_t size = aios_model_file_size(&c);
    if (size == 0 || size > SIZE_MAX / 2) {
        fprintf(stderr, "aios-genmodel: the model would be too large\n");
        return 1;
    }
    float *image = aligned_alloc(64, (size_t)((size + 63) & ~(uint64_t)63));
    if (image == NULL) {
        fprintf(stderr, "aios-genmodel: out of memory for %llu bytes\n",
                (unsigned long long)size);
        return 1;
    }

    /* The legacy layout, tensor by tensor. */
    const size_t D = (size_t)c.dim, H = (size_t)c.hidden_dim, L = (size_t)c.n_layers;
    const size_t KV = (size_t)c.kv_dim, V = (size_t)c.vocab_size, HS = (size_t)c.head_size;
    struct gen g = { .rng = (uint64_t)seed != 0 ? (uint64_t)seed : 0x9e3779b97f4a7c15ull };
    int32_t header[7] = { c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads,
                          c.shared_classifier ? c.vocab_size : -c.vocab_size, c.seq_len };

    memcpy(image, header, sizeof(header));
    g.p = image + 7;
    matrices(&g, 1, V, D);        /* token_embedding (also the shared classifier) */
    uniform(&g, L * D, 1.0f, 0.1f);   /* rms_att */
    matrices(&g, L, D, D);        /* wq */
    matrices(&g, L, KV, D);       /* wk */
    matrices(&g, L, KV, D);       /* wv */
    matrices(&g, L, D, D);        /* wo */
    uniform(&g, L * D, 1.0f, 0.1f);   /* rms_ffn */
    matrices(&g, L, H, D);        /* w1 */
    matrices(&g, L, D, H);        /* w2 */
    matrices(&g, L, H, D);        /* w3 */
    uniform(&g, D, 1.0f, 0.1f);   /* rms_final */
    /* freq_cis_real, freq_cis_imag: unused by the engine, written as llama2.c did. */
    for (int part = 0; part < 2; part++)
        for (size_t pos = 0; pos < (size_t)c.seq_len; pos++)
            for (size_t i = 0; i < HS / 2; i++) {
                float freq = 1.0f / aios_powf(10000.0f, (float)(2 * i) / (float)HS);
                float s, co;
                aios_sincosf((float)pos * freq, &s, &co);
                *g.p++ = part == 0 ? co : s;
            }
    if (!c.shared_classifier)
        matrices(&g, 1, V, D);    /* wcls */
    if ((uint64_t)((char *)g.p - (char *)image) != size) {
        fprintf(stderr, "aios-genmodel: internal error: wrote %zu bytes, expected %llu\n",
                (size_t)((char *)g.p - (char *)image), (unsigned long long)size);
        return 1;
    }

    struct aios_model m;
    if (aios_model_load(&m, image, (size_t)size, err, sizeof(err)) != AIOS_OK) {
        fprintf(stderr, "aios-genmodel: internal error: %s\n", err);
        return 1;
    }
    if (!int8) {
        int rc = write_file(out, image, (size_t)size);
        free(image);
        return rc;
    }

    bool explicit_group = group != 0;
    if (!explicit_group) {
        group = 64;
        while (group > 1 && (dim % group != 0 || hidden % group != 0))
            group /= 2;
    }
    size_t qsize;
    if (aios_model_quantize(&m, (int32_t)group, NULL, &qsize, err, sizeof(err)) != AIOS_OK) {
        fprintf(stderr, "aios-genmodel: %s\n", err);
        return 1;
    }
    if (!explicit_group && group != 64)
        fprintf(stderr, "aios-genmodel: group size %ld (64 does not divide both dim %ld "
                        "and hidden_dim %ld)\n", group, dim, hidden);
    void *q = aligned_alloc(64, (qsize + 63) & ~(size_t)63);
    if (q == NULL || aios_model_quantize(&m, (int32_t)group, q, &qsize, err,
                                         sizeof(err)) != AIOS_OK) {
        fprintf(stderr, "aios-genmodel: %s\n", q == NULL ? "out of memory" : err);
        return 1;
    }
    int rc = write_file(out, q, qsize);
    free(q);
    free(image);
    return rc;
}
