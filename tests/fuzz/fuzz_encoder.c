/*
 * libFuzzer target for the sentence encoder's loader (aios/lib/encoder.c) and, for what
 * it accepts, featurisation and embedding.
 *
 * The file's body is covered by a SHA-256 in its header, so random bytes almost never
 * get past the checksum and the structure checks behind it would go unfuzzed. The
 * target therefore works in three modes, chosen by the first byte's low two bits:
 *   0, 2: the rest is a file as it comes (the checksum check itself gets fuzzed);
 *   1:    the rest is a file whose header digest the target recomputes over whatever
 *         body follows the 128-byte header, so every other field reaches the
 *         size and shape checks, and a consistent file loads;
 *   3:    the next bytes pick a small valid shape (encoding, buckets, dims, n-gram
 *         range, flags, seed, word weight, members, bigram-free members), the target
 *         writes a correct header for it, and the rest of the input fills the body
 *         (repeated), so the fuzzer controls every weight
 *         bit (NaN, infinities, denormals); the loader must accept it.
 * The file sits in a buffer of exactly its size, so AddressSanitizer sees any overread.
 * Every accepted encoder embeds a few fixed texts and the input's own tail as text:
 * the call must return AIOS_OK and hand its scratch back, whatever the weights.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aios/common.h"
#include "aios/encoder.h"
#include "sha256.h"

#define MAX_BODY (1u << 20)

static uint8_t byte_at(const uint8_t *d, size_t n, size_t i)
{
    return n > 0 ? d[i % n] : 0;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void exercise(const struct aios_encoder *e, const uint8_t *d, size_t n)
{
    static const char *const texts[] = {
        "delete notes.txt", "", "!!", "Set a TIMER for 5 minutes", "h\xc3\xa9llo \xff\x80 x",
    };
    static unsigned char mem[2 * 4 * 1024 + 64];
    struct aios_arena a;
    float out[AIOS_ENC_MAX_EMBED];

    aios_arena_init(&a, mem, sizeof(mem));
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (aios_encoder_embed(e, texts[i], out, &a) != AIOS_OK || a.used != 0)
            abort();
    /* The input's last bytes as text, up to 256 of them. */
    size_t len = n < 256 ? n : 256;
    char *text = malloc(len + 1);
    if (!text)
        abort();
    memcpy(text, d + n - len, len);
    text[len] = '\0';
    if (aios_encoder_embed(e, text, out, &a) != AIOS_OK || a.used != 0)
        abort();
    free(text);
    if (aios_encoder_dim(e) > AIOS_ENC_MAX_EMBED)
        abort();
}

static void try_load(const unsigned char *file, size_t size, bool must_accept,
                     const uint8_t *d, size_t n)
{
    unsigned char *buf = malloc(size ? size : 1);
    struct aios_encoder e;
    char err[160];

    if (!buf)
        abort();
    memcpy(buf, file, size);
    err[0] = '\0';
    int rc = aios_encoder_load(&e, buf, size, err, sizeof(err));
    if (rc == AIOS_OK) {
        exercise(&e, d, n);
    } else if (rc != AIOS_EINVAL || err[0] == '\0' || must_accept) {
        abort();
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned mode = data[0] & 3;
    const uint8_t *d = data + 1;
    size_t n = size - 1;

    if (mode == 0 || mode == 2) {
        try_load(d, n, false, d, n);
    } else if (mode == 1) {
        unsigned char *f = malloc(n ? n : 1);
        if (!f)
            abort();
        memcpy(f, d, n);
        if (n >= AIOS_ENC_HEADER_SIZE)
            sha256(f + AIOS_ENC_HEADER_SIZE, n - AIOS_ENC_HEADER_SIZE, f + 56);
        try_load(f, n, false, d, n);
        free(f);
    } else {
        struct aios_encoder_params p = { 0 };
        int encoding = byte_at(d, n, 0) & 1;
        p.buckets = 1u + byte_at(d, n, 1) % 64u;
        p.dim = 4u * (1u + byte_at(d, n, 2) % 8u);
        p.out_dim = byte_at(d, n, 3) % 3u == 0 ? 0 : 4u * (1u + byte_at(d, n, 4) % 8u);
        p.minn = byte_at(d, n, 5) % 9u;
        p.maxn = p.minn ? p.minn + byte_at(d, n, 6) % (9u - p.minn) : 0;
        p.flags = byte_at(d, n, 7) & AIOS_ENC_F_ALL;
        p.seed = (uint32_t)byte_at(d, n, 8) << 8 | byte_at(d, n, 9);
        p.word_permille = byte_at(d, n, 10) % 2u ? 0 : (uint32_t)byte_at(d, n, 11) * 1000u / 255u;
        p.members = 1u + byte_at(d, n, 12) % 3u;
        if (p.flags & AIOS_ENC_F_BIGRAMS)
            p.no_bigrams = byte_at(d, n, 13) & ((1u << p.members) - 1u);
        size_t fsize = aios_encoder_file_size(&p, encoding, NULL, 0);
        if (fsize == 0 || fsize > AIOS_ENC_HEADER_SIZE + MAX_BODY)
            abort();   /* every shape chosen here is valid and small */
        unsigned char *f = calloc(1, fsize);
        if (!f)
            abort();
        put32(f, AIOS_ENC_MAGIC);
        put32(f + 4, AIOS_ENC_VERSION);
        put32(f + 8, AIOS_ENC_HEADER_SIZE);
        put32(f + 12, (uint32_t)encoding);
        put32(f + 16, p.buckets);
        put32(f + 20, p.dim);
        put32(f + 24, p.out_dim);
        put32(f + 28, p.seed);
        put32(f + 32, p.minn);
        put32(f + 36, p.maxn);
        put32(f + 40, p.flags);
        put32(f + 44, p.word_permille);
        put32(f + 48, (uint32_t)(fsize - AIOS_ENC_HEADER_SIZE));
        put32(f + 88, p.members);
        put32(f + 92, p.no_bigrams);
        for (size_t i = AIOS_ENC_HEADER_SIZE; i < fsize; i++)
            f[i] = n > 14 ? d[14 + (i - AIOS_ENC_HEADER_SIZE) % (n - 14)] : 0;
        sha256(f + AIOS_ENC_HEADER_SIZE, fsize - AIOS_ENC_HEADER_SIZE, f + 56);
        try_load(f, fsize, true, d, n);
        free(f);
    }
    return 0;
}
