/*
 * aios-quantize: converts a legacy fp32 llama2.c checkpoint into the version 2 Q8_0
 * format (llama2.c's runq), a quarter of the size, for the int8 engine.
 *
 *   aios-quantize in_fp32.bin out_int8.bin [--group-size N]
 *
 * The input is validated by libaios's loader and quantized by libaios
 * (aios_model_quantize): per group of N consecutive values of a matrix row,
 * scale = max|w| / 127 and q = round(w / scale). Without --group-size, 64 is tried and
 * halved until it divides both dim and hidden_dim (as llama2.c's export.py backs off); a
 * group size given explicitly is used as it is or refused.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aios/common.h"
#include "aios/model.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: aios-quantize in_fp32.bin out_int8.bin [--group-size N]\n"
               "Converts a legacy fp32 model to the version 2 int8 (Q8_0) format.\n");
}

/* The whole file in a 64-byte aligned buffer (the loader needs 4-byte alignment). */
static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    void *buf = NULL;
    long len;

    if (f == NULL) {
        fprintf(stderr, "aios-quantize: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "aios-quantize: %s: cannot determine the size\n", path);
        fclose(f);
        return NULL;
    }
    buf = aligned_alloc(64, ((size_t)len + 64) & ~(size_t)63);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "aios-quantize: %s: %s\n", path,
                buf == NULL ? "out of memory" : "read failed");
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = (size_t)len;
    return buf;
}

int main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    long group = 0;
    char err[256];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--group-size") == 0) {
            char *end;
            if (i + 1 >= argc) {
                fprintf(stderr, "aios-quantize: --group-size needs a value\n");
                return 2;
            }
            errno = 0;
            group = strtol(argv[++i], &end, 10);
            if (errno != 0 || *end != '\0' || end == argv[i] || group < 1 || group > INT32_MAX) {
                fprintf(stderr, "aios-quantize: --group-size needs a positive integer\n");
                return 2;
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "aios-quantize: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (in == NULL) {
            in = argv[i];
        } else if (out == NULL) {
            out = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (in == NULL || out == NULL) {
        usage(stderr);
        return 2;
    }

    size_t size;
    void *buf = read_file(in, &size);
    struct aios_model m;
    if (buf == NULL)
        return 1;
    if (aios_model_load(&m, buf, size, err, sizeof(err)) != AIOS_OK) {
        fprintf(stderr, "aios-quantize: %s: %s\n", in, err);
        return 1;
    }
    if (m.cfg.type != AIOS_WEIGHTS_F32) {
        fprintf(stderr, "aios-quantize: %s is already int8 (version 2)\n", in);
        return 1;
    }
    if (group == 0) {
        group = 64;
        while (group > 1 && (m.cfg.dim % group != 0 || m.cfg.hidden_dim % group != 0))
            group /= 2;
        if (group != 64)
            fprintf(stderr, "aios-quantize: group size %ld (64 does not divide both dim %d "
                            "and hidden_dim %d)\n", group, (int)m.cfg.dim,
                    (int)m.cfg.hidden_dim);
    }

    size_t qsize;
    if (aios_model_quantize(&m, (int32_t)group, NULL, &qsize, err, sizeof(err)) != AIOS_OK) {
        fprintf(stderr, "aios-quantize: %s\n", err);
        return 1;
    }
    void *q = aligned_alloc(64, (qsize + 63) & ~(size_t)63);
    if (q == NULL || aios_model_quantize(&m, (int32_t)group, q, &qsize, err,
                                         sizeof(err)) != AIOS_OK) {
        fprintf(stderr, "aios-quantize: %s\n", q == NULL ? "out of memory" : err);
        return 1;
    }

    FILE *f = fopen(out, "wb");
    if (f == NULL) {
        fprintf(stderr, "aios-quantize: %s: %s\n", out, strerror(errno));
        return 1;
    }
    if (fwrite(q, 1, qsize, f) != qsize || fclose(f) != 0) {
        fprintf(stderr, "aios-quantize: writing %s failed\n", out);
        return 1;
    }
    fprintf(stderr, "aios-quantize: %s: %zu bytes fp32 -> %s: %zu bytes int8, group size %ld\n",
            in, size, out, qsize, group);
    free(q);
    free(buf);
    return 0;
}
