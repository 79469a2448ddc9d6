/*
 * libFuzzer target for the tokenizer (aios/lib/tokenizer.c): the loader against any
 * file, and encode/decode against whatever vocabulary it accepts.
 *
 * Input: five control bytes, then the file, then the text (its length is a control
 * byte). Three modes:
 *   - raw: the file is the input as it is (at an odd offset, so reads must not assume
 *     alignment), vocab_size 0..69, the refused 0..2 included;
 *   - prefixed: the input follows the fixed llama2.c prefix (header with
 *     max_token_length 16, <unk> <s> </s>, the 256 byte tokens), vocab_size 259..322,
 *     so byte fallback and "<0xXX>" decoding are reached without the fuzzer having to
 *     discover 259 valid tokens first;
 *   - structured: after the same prefix, the input is a compact list of pieces over a
 *     seven-symbol alphabet (ASCII, a space, UTF-8 lead and continuation bytes) with
 *     scores from a small set (ties everywhere, -0, the -1e10 merge floor), and the text
 *     is mapped to that alphabet too: merges, chains of merges and stale queued pairs
 *     on every run, which raw bytes almost never give.
 * Arenas are sometimes too small on purpose.
 *
 * Aborts when:
 *   - load returns anything but OK/EINVAL/ENOMEM, a refusal has no message or leaves
 *     arena memory allocated;
 *   - encode returns anything but OK/ERANGE/ENOMEM, writes past max_ids (a canary),
 *     keeps scratch memory, produces an id outside the vocabulary, more ids than bytes
 *     of text + 3, or ids other than a plain transcription of llama2.c's merge loop
 *     (rescan every pair each round) gives;
 *   - decode returns NULL or a piece longer than max_token_length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aios/tokenizer.h"
#include "../common/tokenizer_reference.h"

#define require(cond)                                                            \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                      \
            abort();                                                             \
        }                                                                        \
    } while (0)

#define CONTROL_BYTES 5
#define MAX_TEXT 160
#define MAX_IDS (MAX_TEXT + 64 + 3)
#define PREFIX_MAX_LEN 16

static unsigned char arena_mem[1 << 20];
static unsigned char scratch_mem[1 << 18];
static unsigned char prefix[4 + 259 * (8 + PREFIX_MAX_LEN)];
static size_t prefix_len;

static void put(const void *p, size_t n)
{
    memcpy(prefix + prefix_len, p, n);
    prefix_len += n;
}

static void put_token(const char *piece)
{
    float score = 0;
    int32_t len = (int32_t)strlen(piece);

    put(&score, 4);
    put(&len, 4);
    put(piece, (size_t)len);
}

static void build_prefix(void)
{
    int32_t max_len = PREFIX_MAX_LEN;
    char piece[8];

    put(&max_len, 4);
    put_token("<unk>");
    put_token("\n<s>\n");
    put_token("\n</s>\n");
    for (int b = 0; b < 256; b++) {
        snprintf(piece, sizeof(piece), "<0x%02X>", b);
        put_token(piece);
    }
}

static const char alphabet[] = { 'a', 'b', 'c', ' ', '\xc3', '\xa9', '\x80' };
static const float scores[] = { 0.0f, -1.0f, -2.0f, -3.0f, -0.0f, -1e10f, -9.99e9f, 1e30f };

/* Pieces from the input: a length and score byte, then the piece's bytes mapped to the
 * alphabet. Returns the file size; *count is the number of tokens after the prefix. */
static size_t build_structured(uint8_t *out, const uint8_t *in, size_t in_len,
                               int32_t *count)
{
    size_t len = prefix_len;

    memcpy(out, prefix, prefix_len);
    *count = 0;
    while (in_len && *count < 64) {
        int32_t n = 1 + (*in & 3);
        float score = scores[*in >> 2 & 7];

        in++, in_len--;
        memcpy(out + len, &score, 4);
        memcpy(out + len + 4, &n, 4);
        len += 8;
        for (int32_t i = 0; i < n; i++) {
            out[len++] = (uint8_t)alphabet[in_len ? *in % sizeof(alphabet) : 0];
            if (in_len)
                in++, in_len--;
        }
        ++*count;
    }
    return len;
}


static volatile unsigned touched;

static void check_decode(const struct aios_tokenizer *t, int32_t prev, int32_t id)
{
    size_t len = 12345;
    const char *p = aios_tokenizer_decode(t, prev, id, &len);

    require(p);
    require(len <= (size_t)t->max_token_length);
    for (size_t i = 0; i < len; i++)   /* AddressSanitizer checks every byte */
        touched += (unsigned char)p[i];
    p = aios_tokenizer_piece(t, id, &len);
    require(p);
    require(len <= (size_t)t->max_token_length);
    require(len || id < 0 || id >= t->vocab_size);
}

static void check_encode(const struct aios_tokenizer *t, const char *text, int bos,
                         int eos, size_t max_ids, struct aios_arena *scratch)
{
    static int32_t ids[MAX_IDS + 1], want[MAX_IDS];
    size_t n = 0, used = scratch->used, len = strlen(text);
    int rc;

    require(max_ids <= MAX_IDS);
    ids[max_ids] = -12345;
    rc = aios_tokenizer_encode(t, text, bos, eos, ids, max_ids, &n, scratch);
    require(rc == AIOS_OK || rc == AIOS_ERANGE || rc == AIOS_ENOMEM);
    require(ids[max_ids] == -12345);
    require(scratch->used == used);
    if (rc == AIOS_ENOMEM)
        return;
    require(n <= len + 3);
    require(rc == AIOS_OK ? n <= max_ids : n > max_ids);
    if (rc != AIOS_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        require(ids[i] >= 0 && ids[i] < t->vocab_size);
        check_decode(t, i ? ids[i - 1] : -1, ids[i]);
    }
    require(reference_encode(t, text, bos, eos, want) == n);
    require(!memcmp(ids, want, n * sizeof(*ids)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char fixed[] = "Once upon a time, na\xc3\xafve caf\xc3\xa9 \xe2\x80\x94 "
                                "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82 \xff\x80 <0x41>!";
    struct aios_tokenizer t;
    struct aios_arena arena, scratch;
    char text[MAX_TEXT + 1], err[160];
    const uint8_t *file;
    uint8_t *copy = NULL;
    size_t file_len, text_len, max_ids;
    int32_t vocab_size;
    int rc, mode, bos, eos;
    int32_t count;
    uint8_t small;

    if (size < CONTROL_BYTES)
        return 0;
    if (!prefix_len)
        build_prefix();
    mode = data[0] % 3;
    bos = data[0] >> 2 & 1;
    eos = data[0] >> 3 & 1;
    vocab_size = mode ? 259 + data[1] % 64 : data[1] % 70;
    text_len = data[2] % (MAX_TEXT + 1);
    max_ids = data[3] < 200 ? MAX_IDS : (size_t)(data[3] - 200);
    small = data[4];
    data += CONTROL_BYTES;
    size -= CONTROL_BYTES;
    if (text_len > size)
        text_len = size;
    for (size_t i = 0; i < text_len; i++) {
        uint8_t c = data[size - text_len + i];

        text[i] = mode == 2 ? alphabet[c % sizeof(alphabet)] : (char)c;
    }
    text[text_len] = '\0';
    file_len = size - text_len;
    file = data;   /* at an odd offset into the input */

    if (mode == 1) {
        /* An exact-size copy, so AddressSanitizer catches a read past its end. */
        copy = malloc(prefix_len + file_len + 1);
        require(copy);
        memcpy(copy, prefix, prefix_len);
        memcpy(copy + prefix_len, data, file_len);
        file = copy;
        file_len += prefix_len;
    } else if (mode == 2) {
        copy = malloc(prefix_len + 64 * (8 + 4));
        require(copy);
        file_len = build_structured(copy, data, file_len, &count);
        file = copy;
        vocab_size = 259 + count;
    }

    /* Sometimes arenas too small for the tables or the merge. */
    aios_arena_init(&arena, arena_mem,
                    small & 0x40 ? (size_t)(small & 0x3f) * 64 : sizeof(arena_mem));
    aios_arena_init(&scratch, scratch_mem,
                    small & 0x80 ? (size_t)(small & 0x3f) * 128 : sizeof(scratch_mem));
    err[0] = '\0';
    rc = aios_tokenizer_load(&t, file, file_len, vocab_size, &arena, err, sizeof(err));
    require(rc == AIOS_OK || rc == AIOS_EINVAL || rc == AIOS_ENOMEM);
    if (rc != AIOS_OK) {
        require(err[0] != '\0');
        require(arena.used == 0);
        free(copy);
        return 0;
    }
    require(t.vocab_size == vocab_size);

    check_encode(&t, fixed, bos, eos, max_ids < MAX_IDS ? max_ids : MAX_IDS, &scratch);
    check_encode(&t, text, !bos, eos, max_ids, &scratch);
    check_encode(&t, "", bos, !eos, max_ids, &scratch);
    for (int32_t id = -2; id < vocab_size + 2; id++)
        check_decode(&t, id - 1, id);
    free(copy);
    return 0;
}
