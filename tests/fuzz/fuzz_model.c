/*
 * libFuzzer target for the model loader (aios/lib/model.c) and, for what it accepts,
 * the forward pass and the sampler.
 *
 * Two kinds of input, chosen by the first byte:
 *   - even: the rest is a model file as it comes. aios_model_load must either refuse it
 *     (AIOS_EINVAL with a message) or accept it, without reading outside the buffer
 *     (allocated to exactly its size, so AddressSanitizer sees any overread).
 *   - odd: the next bytes choose a small valid shape (fp32 or int8, shared or separate
 *     classifier, grouped KV heads, any group size that fits), a header is written for
 *     it, and the rest of the input fills the weights (repeated as needed), so the
 *     fuzzer controls every weight bit: NaN, infinities, huge and denormal values. The
 *     loader must accept it.
 * Every accepted model that is small is then run for up to its whole context, tokens and
 * sampler settings taken from the input: aios_forward must return logits for every valid
 * (token, pos) and NULL for invalid ones, and the sampler a token in range, whatever the
 * weights; UndefinedBehaviorSanitizer checks the float-to-int conversions on the way.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aios/common.h"
#include "aios/forward.h"
#include "aios/model.h"
#include "aios/sampler.h"

#define MAX_STATE_BYTES (1u << 20)
#define MAX_MODEL_BYTES (1u << 20)

static uint8_t byte_at(const uint8_t *d, size_t n, size_t i)
{
    return n > 0 ? d[i % n] : 0;
}

static void run(const struct aios_model *m, const uint8_t *d, size_t n)
{
    const struct aios_config *c = &m->cfg;

    if (aios_state_size(m) > MAX_STATE_BYTES || (uint64_t)c->dim * (uint64_t)c->hidden_dim *
        (uint64_t)c->n_layers + (uint64_t)c->vocab_size * (uint64_t)c->dim > (1u << 22))
        return;
    size_t need = aios_state_size(m);
    void *mem = malloc(need);
    struct aios_arena arena;
    struct aios_state s;
    struct aios_sampler smp;
    char err[160];

    aios_arena_init(&arena, mem, need);
    if (aios_state_init(&s, m, &arena, err, sizeof(err)) != AIOS_OK)
        abort();   /* aios_state_size must be enough */

    float temp = (float)byte_at(d, n, 0) / 64.0f;
    float topp = (float)byte_at(d, n, 1) / 255.0f;
    unsigned char sampler_mem[1024];
    struct aios_arena sa;
    aios_arena_init(&sa, sampler_mem, sizeof(sampler_mem));
    bool can_sample = (size_t)c->vocab_size * sizeof(struct aios_prob_index) + 64 <=
                      sizeof(sampler_mem);
    if (can_sample && aios_sampler_init(&smp, c->vocab_size, temp, topp, byte_at(d, n, 2),
                                        &sa, err, sizeof(err)) != AIOS_OK)
        abort();

    int32_t steps = c->seq_len < 16 ? c->seq_len : 16;
    for (int32_t pos = 0; pos < steps; pos++) {
        int32_t tok = byte_at(d, n, 3 + (size_t)pos) % c->vocab_size;
        float *logits = (float *)aios_forward(&s, tok, pos, NULL);
        if (logits == NULL)
            abort();
        if (can_sample) {
            int32_t next = aios_sample(&smp, logits);
            if (next < 0 || next >= c->vocab_size)
                abort();
        }
    }
    if (aios_forward(&s, 0, c->seq_len, NULL) != NULL ||
        aios_forward(&s, c->vocab_size, 0, NULL) != NULL ||
        aios_forward(&s, -1, 0, NULL) != NULL)
        abort();
    free(mem);
}

/* A valid shape from 10 bytes, a header for it, the weights from the rest. */
static void *shaped(const uint8_t *d, size_t n, size_t *size)
{
    struct aios_config c = { 0 };
    uint8_t b[10];
    char err[160];

    for (int i = 0; i < 10; i++)
        b[i] = byte_at(d, n < 10 ? n : 10, (size_t)i);
    d += n < 10 ? n : 10;
    n -= n < 10 ? n : 10;

    c.type = b[0] % 2 ? AIOS_WEIGHTS_Q8 : AIOS_WEIGHTS_F32;
    c.n_heads = b[1] % 4 + 1;
    c.n_kv_heads = (b[2] % 2 && c.n_heads % 2 == 0) ? c.n_heads / 2 : c.n_heads;
    if (b[2] % 4 == 3)
        c.n_kv_heads = 1;
    /* Multiples of 4 keep every int8 matrix's scales 4-byte aligned. */
    c.dim = c.n_heads * 4 * (b[3] % 3 + 1);
    c.hidden_dim = c.type == AIOS_WEIGHTS_Q8 ? 4 * (b[4] % 6 + 1) : b[4] % 24 + 1;
    c.n_layers = b[5] % 3 + 1;
    c.vocab_size = b[6] % 48 + 1;
    c.seq_len = b[7] % 12 + 1;
    c.shared_classifier = b[8] % 2;
    c.group_size = c.type == AIOS_WEIGHTS_Q8 ? 1 << (b[9] % 3) : 0;
    if (aios_config_check(&c, err, sizeof(err)) != AIOS_OK) {
        fprintf(stderr, "shaped config refused: %s\n", err);
        abort();
    }
    uint64_t sz = aios_model_file_size(&c);
    if (sz == 0 || sz > MAX_MODEL_BYTES)
        abort();
    uint8_t *buf = malloc((size_t)sz);
    for (size_t i = 0; i < sz; i++)
        buf[i] = byte_at(d, n, i);
    int32_t params[7] = { c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads,
                          c.vocab_size, c.seq_len };
    if (c.type == AIOS_WEIGHTS_F32) {
        if (!c.shared_classifier)
            params[5] = -params[5];
        memcpy(buf, params, sizeof(params));
    } else {
        uint32_t magic = AIOS_MODEL_MAGIC;
        int32_t version = 2;
        memset(buf, 0, AIOS_MODEL_V2_HEADER);
        memcpy(buf, &magic, 4);
        memcpy(buf + 4, &version, 4);
        memcpy(buf + 8, params, sizeof(params));
        buf[36] = c.shared_classifier;
        memcpy(buf + 37, &c.group_size, 4);
    }
    *size = (size_t)sz;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aios_model m;
    char err[160];
    size_t len;
    uint8_t *buf;

    if (size < 1)
        return 0;
    bool shape = data[0] % 2;
    if (shape) {
        buf = shaped(data + 1, size - 1, &len);
    } else {
        len = size - 1;
        buf = malloc(len ? len : 1);
        memcpy(buf, data + 1, len);
    }
    err[0] = '\0';
    int rc = aios_model_load(&m, buf, len, err, sizeof(err));
    if (rc != AIOS_OK && (rc != AIOS_EINVAL || err[0] == '\0'))
        abort();
    if (shape && rc != AIOS_OK) {
        fprintf(stderr, "valid shape refused: %s\n", err);
        abort();
    }
    if (rc == AIOS_OK)
        run(&m, data, size);
    free(buf);
    return 0;
}
