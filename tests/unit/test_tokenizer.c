/*
 * Unit tests for the tokenizer (aios/lib/tokenizer.c).
 *
 * With synthetic vocabularies built here in memory (the llama2.c layout: <unk>, <s>,
 * </s>, the 256 byte tokens, then chosen pieces and scores): merge order by score,
 * leftmost on ties, the merge floor, byte fallback, the UTF-8 grouping of malformed
 * text, BOS/EOS, empty text, max_ids too small (a canary after the buffer), scratch
 * too small, and decoding (space stripped after BOS, "<0xXX>" to a raw byte, bad ids).
 * The heap-based merge is compared with a plain transcription of llama2.c's loop (rescan
 * every pair each round) on thousands of random texts over random vocabularies with
 * many tied scores.
 *
 * Malformed files: truncated at every length, bad lengths, bad max_token_length,
 * non-finite scores, trailing bytes, bad vocab_size, all refused with AIOS_EINVAL and a
 * message; an arena too small gives AIOS_ENOMEM; a failed load leaves the arena alone.
 *
 * With the real Llama 2 tokenizer (../shared/models/tokenizer.bin from the repository
 * root, or $AIOS_TOKENIZER_BIN; skipped, saying so, when absent): the known encoding of
 * "I believe the meaning of life is", round trips through UTF-8 and byte fallback,
 * agreement with the reference loop, and the time to encode a long prompt.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "aios/tokenizer.h"
#include "../common/tokenizer_reference.h"

#define REAL_PATH "../shared/models/tokenizer.bin"

/* ---------------------------------------------------------------- building files */

struct file {
    unsigned char *bytes;
    size_t size, cap;
    int32_t max_len;   /* written into the header by finish() unless forced */
    int32_t count;
};

static void put(struct file *f, const void *p, size_t n)
{
    if (f->size + n > f->cap) {
        f->cap = (f->size + n) * 2;
        f->bytes = realloc(f->bytes, f->cap);
        assert_non_null(f->bytes);
    }
    memcpy(f->bytes + f->size, p, n);
    f->size += n;
}

static void put_i32(struct file *f, int32_t v)
{
    put(f, &v, 4);   /* the host is little-endian, like the file */
}

static void put_token_len(struct file *f, const void *piece, int32_t len, float score)
{
    put(f, &score, 4);
    put_i32(f, len);
    put(f, piece, len > 0 ? (size_t)len : 0);
    if (len > f->max_len)
        f->max_len = len;
    f->count++;
}

static void put_token(struct file *f, const char *piece, float score)
{
    put_token_len(f, piece, (int32_t)strlen(piece), score);
}

static void begin(struct file *f)
{
    memset(f, 0, sizeof(*f));
    put_i32(f, 0);   /* max_token_length, patched by finish() */
}

/* The fixed first 259 tokens of every llama2.c vocabulary. */
static void begin_llama(struct file *f)
{
    char piece[8];

    begin(f);
    put_token(f, "<unk>", 0);
    put_token(f, "\n<s>\n", 0);
    put_token(f, "\n</s>\n", 0);
    for (int b = 0; b < 256; b++) {
        snprintf(piece, sizeof(piece), "<0x%02X>", b);
        put_token(f, piece, 0);
    }
}

static void finish(struct file *f)
{
    memcpy(f->bytes, &f->max_len, 4);
}

static unsigned char arena_mem[4 << 20];
static unsigned char scratch_mem[1 << 20];
static struct aios_arena arena, scratch;

static void load_ok(struct aios_tokenizer *t, const struct file *f)
{
    char err[160] = "";

    aios_arena_init(&arena, arena_mem, sizeof(arena_mem));
    aios_arena_init(&scratch, scratch_mem, sizeof(scratch_mem));
    assert_int_equal(aios_tokenizer_load(t, f->bytes, f->size, f->count, &arena, err,
                                         sizeof(err)), AIOS_OK);
    assert_string_equal(err, "");
}

static int32_t id_of(const struct aios_tokenizer *t, const char *piece)
{
    int32_t id = aios_tokenizer_lookup(t, piece, strlen(piece));

    assert_true(id >= 0);
    return id;
}

static size_t encode(const struct aios_tokenizer *t, const char *text, int bos, int eos,
                     int32_t *ids, size_t max_ids)
{
    size_t n = 12345, used = scratch.used;

    assert_int_equal(aios_tokenizer_encode(t, text, bos, eos, ids, max_ids, &n, &scratch),
                     AIOS_OK);
    assert_int_equal(scratch.used, used);   /* scratch handed back */
    return n;
}

static void expect_ids(const int32_t *got, size_t n, const int32_t *want, size_t n_want)
{
    if (n != n_want || memcmp(got, want, n * sizeof(*got))) {
        print_message("got     ");
        for (size_t i = 0; i < n; i++)
            print_message(" %d", got[i]);
        print_message("\nexpected");
        for (size_t i = 0; i < n_want; i++)
            print_message(" %d", want[i]);
        print_message("\n");
        fail();
    }
}

#define EXPECT(ids, n, ...)                                                    \
    do {                                                                       \
        const int32_t want_[] = { __VA_ARGS__ };                               \
        expect_ids(ids, n, want_, sizeof(want_) / sizeof(want_[0]));           \
    } while (0)

/* Concatenated decode of ids, as a streaming caller would print them: BOS and EOS
 * delimit the text and are not part of it. */
static size_t decode_all(const struct aios_tokenizer *t, const int32_t *ids, size_t n,
                         char *out, size_t cap)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        size_t k;
        const char *p = aios_tokenizer_decode(t, i ? ids[i - 1] : -1, ids[i], &k);

        if (ids[i] == AIOS_TOKEN_BOS || ids[i] == AIOS_TOKEN_EOS)
            continue;

        assert_non_null(p);
        assert_true(len + k < cap);
        memcpy(out + len, p, k);
        len += k;
    }
    out[len] = '\0';
    return len;
}

/* ---------------------------------------------------------------- the reference
 * (reference_encode, tests/common/tokenizer_reference.h) against random vocabularies */

static uint32_t rng_state;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Text from fragments: the vocabulary's own letters, spaces, multi-byte characters,
 * and now and then any byte at all (malformed UTF-8 included). */
static void random_text(char *out, size_t max, const char *const *frags, size_t n_frags)
{
    size_t len = 0, target = rng() % max;

    while (len < target) {
        if (rng() % 16 == 0) {
            out[len++] = (char)(1 + rng() % 255);
            continue;
        }
        const char *f = frags[rng() % n_frags];
        size_t k = strlen(f);

        if (len + k >= max)
            break;
        memcpy(out + len, f, k);
        len += k;
    }
    out[len] = '\0';
}

static void compare_with_reference(const struct aios_tokenizer *t, const char *text)
{
    static int32_t got[4096], want[4096];
    size_t n, n_want;
    int bos = rng() & 1, eos = rng() & 1;

    assert_true(strlen(text) + 3 <= 4096);
    n = encode(t, text, bos, eos, got, 4096);
    n_want = reference_encode(t, text, bos, eos, want);
    if (n != n_want || memcmp(got, want, n * sizeof(*got))) {
        print_message("text: \"%s\"\n", text);
        expect_ids(got, n, want, n_want);
    }
}

/* ---------------------------------------------------------------- synthetic vocabularies */

/* " ", a, b, c, d and chosen pairs: the merge-order tests pick the scores. */
static void small_vocab(struct file *f, float ab, float bc, float cd, float abcd)
{
    begin_llama(f);
    put_token(f, " ", -1);
    put_token(f, "a", -2);
    put_token(f, "b", -3);
    put_token(f, "c", -4);
    put_token(f, "d", -5);
    put_token(f, "ab", ab);
    put_token(f, "bc", bc);
    put_token(f, "cd", cd);
    put_token(f, "abcd", abcd);
    put_token(f, "aa", -20);
    put_token(f, " a", -30);
    finish(f);
}

static void test_merge_by_score(void **state)
{
    struct aios_tokenizer t;
    struct file f;
    int32_t ids[16];
    size_t n;

    (void)state;
    small_vocab(&f, -10, -5, -50, -1);   /* bc first, then nothing joins a+bc+d */
    load_ok(&t, &f);
    n = encode(&t, "bcd", 0, 0, ids, 16);
    EXPECT(ids, n, id_of(&t, " "), id_of(&t, "bc"), id_of(&t, "d"));
    n = encode(&t, "abcd", 0, 0, ids, 16);
    EXPECT(ids, n, id_of(&t, " a"), id_of(&t, "bc"), id_of(&t, "d"));
    free(f.bytes);

    small_vocab(&f, -5, -10, -6, -1);    /* ab and cd, then abcd from them */
    load_ok(&t, &f);
    n = encode(&t, "abcd", 0, 0, ids, 16);
    EXPECT(ids, n, id_of(&t, " "), id_of(&t, "abcd"));
    n = encode(&t, "cab", 0, 0, ids, 16);   /* " "+"c" is not a piece */
    EXPECT(ids, n, id_of(&t, " "), id_of(&t, "c"), id_of(&t, "ab"));
    free(f.bytes);
}

static void test_ties_leftmost(void **state)
{
    struct aios_tokenizer t;
    struct file f;
    int32_t ids[16];
    size_t n;

    (void)state;
    small_vocab(&f, -7, -7, -7, -1);
    load_ok(&t, &f);
    n = encode(&t, "bcd", 0, 0, ids, 16);   /* bc and cd tie: bc is leftmost */
    EXPECT(ids, n, id_of(&t, " "), id_of(&t, "bc"), id_of(&t, "d"));
    n = encode(&t, "abc", 0, 0, ids, 16);   /* " a" (-30) loses to ab (-7) */
    EXPECT(ids, n, id_of(&t, " "), id_of(&t, "ab"), id_of(&t, "c"));
    n = encode(&t, "baaa", 0, 0, ids, 16);  /* aa twice, the left one first */
    EXPECT(ids, n, id_of(&t, " "), id_of(&t, "b"), id_of(&t, "aa"), id_of(&t, "a"));
    free(f.bytes);
}

/* llama2.c only merges pairs scoring above -1e10; and BOS joins in like any symbol. */
static void test_merge_floor_and_bos_pairs(void **state)
{
    struct aios_tokenizer t;
    struct file f;
    int32_t ids[16];
    size_t n;

    (void)state;
    begin_llama(&f);
    put_token(&f, " ", -1);
    put_token(&f, "x", -2);
    put_token(&f, "y", -3);
    put_token(&f, "z", -4);
    put_token(&f, "xy", -1e10f);
    put_token(&f, "yz", -9e9f);
    put_token(&f, "\n<s>\n ", -5);
    finish(&f);
    load_ok(&t, &f);
    n = encode(&t, "xyxz", 0, 0, ids, 16);
    EXPECT(ids, n, id_of(&t, " "), id_of(&t, "x"), id_of(&t, "y"), id_of(&t, "x"),
           id_of(&t, "z"));
    n = encode(&t, "yz", 0, 0, ids, 16);
    EXPECT(ids, n, id_of(&t, " "), id_of(&t, "yz"));
    n = encode(&t, "x", 1, 0, ids, 16);
    EXPECT(ids, n, id_of(&t, "\n<s>\n "), id_of(&t, "x"));
    free(f.bytes);
}

static void test_byte_fallback(void **state)
{
    struct aios_tokenizer t;
    struct file f;
    int32_t ids[32];
    size_t n;

    (void)state;
    begin_llama(&f);
    put_token(&f, " ", -1);
    put_token(&f, "a", -2);
    put_token(&f, "\xc3\xa9", -3);              /* é */
    put_token(&f, "\x80\x80\x80\x80", -4);      /* four stray continuation bytes */
    finish(&f);
    load_ok(&t, &f);

    n = encode(&t, "\x01" "a\xc3\xa9\xc3\xa8", 0, 0, ids, 32);   /* è is not a piece */
    EXPECT(ids, n, id_of(&t, " "), 3 + 0x01, id_of(&t, "a"), id_of(&t, "\xc3\xa9"),
           3 + 0xc3, 3 + 0xa8);
    /* Continuation bytes group in fours, as in llama2.c, whatever the lead byte. */
    n = encode(&t, "\x80\x80\x80\x80\x80", 0, 0, ids, 32);
    EXPECT(ids, n, id_of(&t, " "), id_of(&t, "\x80\x80\x80\x80"), 3 + 0x80);
    n = encode(&t, "\xc3\x80\x80\x80\x80\x80", 0, 0, ids, 32);
    EXPECT(ids, n, id_of(&t, " "), 3 + 0xc3, 3 + 0x80, 3 + 0x80, 3 + 0x80, 3 + 0x80,
           3 + 0x80);
    /* A lone lead byte at the end, and bytes that never lead anything. */
    n = encode(&t, "a\xff\xfe\xf0", 0, 0, ids, 32);
    EXPECT(ids, n, id_of(&t, " "), id_of(&t, "a"), 3 + 0xff, 3 + 0xfe, 3 + 0xf0);
    free(f.bytes);
}

/* A vocabulary without " " or without the byte tokens still gives ids in range. */
static void test_small_vocab_fallbacks(void **state)
{
    struct aios_tokenizer t;
    struct file f;
    int32_t ids[16];
    size_t n, len;

    (void)state;
    begin_llama(&f);
    put_token(&f, "q", -1);
    finish(&f);
    load_ok(&t, &f);
    n = encode(&t, "q", 1, 0, ids, 16);
    EXPECT(ids, n, 1, 3 + ' ', id_of(&t, "q"));
    /* Decoding drops the dummy prefix even as a byte token. */
    assert_non_null(aios_tokenizer_decode(&t, 1, 3 + ' ', &len));
    assert_int_equal(len, 0);
    free(f.bytes);

    begin(&f);
    put_token(&f, "<unk>", 0);
    put_token(&f, "\n<s>\n", 0);
    put_token(&f, "\n</s>\n", 0);
    put_token(&f, " ", -1);
    put_token(&f, "h", -2);
    finish(&f);
    load_ok(&t, &f);
    n = encode(&t, "hi\xc3\xa9", 0, 1, ids, 16);
    EXPECT(ids, n, 3, 4, 0, 0, 0, 2);
    free(f.bytes);
}

static void test_bos_eos_empty(void **state)
{
    struct aios_tokenizer t;
    struct file f;
    int32_t ids[16];
    size_t n;

    (void)state;
    small_vocab(&f, -10, -5, -50, -1);
    load_ok(&t, &f);
    assert_int_equal(encode(&t, "", 0, 0, ids, 16), 0);
    assert_int_equal(encode(&t, "", 0, 0, NULL, 0), 0);
    n = encode(&t, "", 1, 0, ids, 16);
    EXPECT(ids, n, 1);
    n = encode(&t, "", 0, 1, ids, 16);
    EXPECT(ids, n, 2);
    n = encode(&t, "", 1, 1, ids, 16);
    EXPECT(ids, n, 1, 2);
    n = encode(&t, "d", 1, 1, ids, 16);
    EXPECT(ids, n, 1, id_of(&t, " "), id_of(&t, "d"), 2);
    n = encode(&t, "d", 0, 1, ids, 16);
    EXPECT(ids, n, id_of(&t, " "), id_of(&t, "d"), 2);
    free(f.bytes);
}

static void test_max_ids_too_small(void **state)
{
    struct aios_tokenizer t;
    struct file f;
    int32_t buf[8];
    size_t n = 0;

    (void)state;
    small_vocab(&f, -10, -5, -50, -1);
    load_ok(&t, &f);
    /* BOS " " d d d d EOS = 7 tokens (dd is not a piece). */
    for (size_t max = 0; max < 7; max++) {
        size_t used = scratch.used;

        for (size_t i = 0; i < 8; i++)
            buf[i] = -7;
        assert_int_equal(aios_tokenizer_encode(&t, "dddd", 1, 1, buf, max, &n, &scratch),
                         AIOS_ERANGE);
        assert_int_equal(n, 7);   /* what would be needed */
        assert_int_equal(scratch.used, used);
        for (size_t i = 0; i < 8; i++)
            assert_int_equal(buf[i], -7);   /* nothing written, canary included */
    }
    buf[7] = -7;
    assert_int_equal(aios_tokenizer_encode(&t, "dddd", 1, 1, buf, 7, &n, &scratch),
                     AIOS_OK);
    assert_int_equal(buf[7], -7);
    EXPECT(buf, n, 1, id_of(&t, " "), id_of(&t, "d"), id_of(&t, "d"), id_of(&t, "d"),
           id_of(&t, "d"), 2);
    free(f.bytes);
}

static void test_encode_bad_arguments(void **state)
{
    struct aios_tokenizer t, unloaded;
    struct file f;
    struct aios_arena tiny;
    unsigned char tiny_mem[64];
    int32_t ids[16];
    size_t n;

    (void)state;
    small_vocab(&f, -10, -5, -50, -1);
    load_ok(&t, &f);
    memset(&unloaded, 0, sizeof(unloaded));
    assert_int_equal(aios_tokenizer_encode(&t, NULL, 0, 0, ids, 16, &n, &scratch),
                     AIOS_EINVAL);
    assert_int_equal(aios_tokenizer_encode(&unloaded, "a", 0, 0, ids, 16, &n, &scratch),
                     AIOS_EINVAL);
    assert_int_equal(aios_tokenizer_encode(&t, "a", 0, 0, NULL, 16, &n, &scratch),
                     AIOS_EINVAL);
    assert_int_equal(aios_tokenizer_encode(&t, "a", 0, 0, ids, 16, NULL, &scratch),
                     AIOS_EINVAL);
    assert_int_equal(aios_tokenizer_encode(&t, "a", 0, 0, ids, 16, &n, NULL), AIOS_EINVAL);

    /* Scratch too small: ENOMEM, and what was there before stays allocated. */
    aios_arena_init(&tiny, tiny_mem, sizeof(tiny_mem));
    assert_non_null(aios_arena_alloc(&tiny, 8, 8));
    assert_int_equal(aios_tokenizer_encode(&t, "abcdabcdabcd", 0, 0, ids, 16, &n, &tiny),
                     AIOS_ENOMEM);
    assert_int_equal(tiny.used, 8);

    assert_int_equal(aios_tokenizer_lookup(&unloaded, "a", 1), -1);
    assert_int_equal(aios_tokenizer_lookup(&t, "zz", 2), -1);
    assert_int_equal(aios_tokenizer_lookup(&t, "", 0), -1);
    free(f.bytes);
}

static void test_decode(void **state)
{
    struct aios_tokenizer t, unloaded;
    struct file f;
    const char *p, *q;
    size_t len;

    (void)state;
    small_vocab(&f, -10, -5, -50, -1);
    load_ok(&t, &f);

    p = aios_tokenizer_decode(&t, 1, id_of(&t, " a"), &len);     /* after BOS */
    assert_int_equal(len, 1);
    assert_memory_equal(p, "a", 1);
    p = aios_tokenizer_decode(&t, 5, id_of(&t, " a"), &len);     /* elsewhere */
    assert_int_equal(len, 2);
    assert_memory_equal(p, " a", 2);
    p = aios_tokenizer_decode(&t, 1, id_of(&t, " "), &len);
    assert_int_equal(len, 0);
    p = aios_tokenizer_decode(&t, 1, id_of(&t, "ab"), &len);     /* no space to strip */
    assert_int_equal(len, 2);
    assert_memory_equal(p, "ab", 2);

    /* Byte tokens give the raw byte, from a table outside the file and the stack. */
    for (int b = 0; b < 256; b++) {
        p = aios_tokenizer_decode(&t, 7, 3 + b, &len);
        assert_int_equal(len, 1);
        assert_int_equal((unsigned char)p[0], b);
        assert_false((const unsigned char *)p >= f.bytes &&
                     (const unsigned char *)p < f.bytes + f.size);
        q = aios_tokenizer_decode(&t, 7, 3 + b, &len);
        assert_ptr_equal(p, q);
    }
    /* The raw piece is still there for whoever wants it. */
    p = aios_tokenizer_piece(&t, 3 + 0x41, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(p, "<0x41>", 6);

    /* Bad ids: an empty piece, never NULL. */
    for (int32_t id = -2; id < 3; id += 1) {
        int32_t bad = id < 0 ? id : t.vocab_size + id;

        p = aios_tokenizer_decode(&t, 1, bad, &len);
        assert_non_null(p);
        assert_int_equal(len, 0);
        p = aios_tokenizer_piece(&t, bad, &len);
        assert_non_null(p);
        assert_int_equal(len, 0);
    }
    memset(&unloaded, 0, sizeof(unloaded));
    assert_non_null(aios_tokenizer_decode(&unloaded, 0, 0, &len));
    assert_int_equal(len, 0);
    assert_non_null(aios_tokenizer_decode(NULL, 0, 0, &len));
    assert_int_equal(len, 0);
    free(f.bytes);
}

/* Pieces that only look like byte tokens are text. */
static void test_decode_near_byte_pieces(void **state)
{
    static const char *const near[] = { "<0x4G>", "<0x4>", "<0x411>", "<0X41>", "(0x41)",
                                        "<0x41" };
    struct aios_tokenizer t;
    struct file f;
    size_t len;

    (void)state;
    begin_llama(&f);
    for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++)
        put_token(&f, near[i], -1);
    put_token(&f, "<0x4a>", -1);   /* lower case hex is still a byte */
    finish(&f);
    load_ok(&t, &f);
    for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
        const char *p = aios_tokenizer_decode(&t, 1, id_of(&t, near[i]), &len);

        assert_int_equal(len, strlen(near[i]));
        assert_memory_equal(p, near[i], len);
    }
    assert_int_equal(aios_tokenizer_decode(&t, 1, id_of(&t, "<0x4a>"), &len)[0], 0x4a);
    assert_int_equal(len, 1);
    free(f.bytes);
}

/* A piece found twice resolves to the lower id; loading still succeeds. */
static void test_duplicate_pieces(void **state)
{
    struct aios_tokenizer t;
    struct file f;

    (void)state;
    begin_llama(&f);
    put_token(&f, "dup", -1);
    put_token(&f, "x", -2);
    put_token(&f, "dup", -3);
    finish(&f);
    load_ok(&t, &f);
    assert_int_equal(aios_tokenizer_lookup(&t, "dup", 3), 259);
    assert_int_equal(aios_tokenizer_lookup(&t, "x", 1), 260);
    free(f.bytes);
}

/* A file need not sit at an aligned address. */
static void test_unaligned_buffer(void **state)
{
    struct aios_tokenizer t;
    struct file f;
    unsigned char *copy;
    char err[160];
    int32_t ids[16];
    size_t n;

    (void)state;
    small_vocab(&f, -10, -5, -50, -1);
    copy = malloc(f.size + 3);
    assert_non_null(copy);
    for (size_t shift = 1; shift < 4; shift++) {
        memcpy(copy + shift, f.bytes, f.size);
        aios_arena_init(&arena, arena_mem, sizeof(arena_mem));
        assert_int_equal(aios_tokenizer_load(&t, copy + shift, f.size, f.count, &arena, err,
                                             sizeof(err)), AIOS_OK);
        assert_float_equal(aios_tokenizer_score(&t, id_of(&t, "abcd")), -1, 0);
        n = encode(&t, "abcd", 0, 0, ids, 16);
        EXPECT(ids, n, id_of(&t, " a"), id_of(&t, "bc"), id_of(&t, "d"));
    }
    free(copy);
    free(f.bytes);
}

/* Random vocabularies over a four-letter alphabet, scores from a handful of values so
 * that ties and stale queued merges are everywhere. */
static void test_random_against_reference(void **state)
{
    static const char *const frags[] = { "a", "b", "c", " ", "ab", "ca", " a", "\xc3\xa9",
                                         "\xe6\x97\xa5", "bb", "  " };
    static const char alphabet[] = "abc ";
    struct aios_tokenizer t;
    struct file f;
    char text[150], piece[8];

    (void)state;
    rng_state = 0x2545f491u;
    for (int vocab = 0; vocab < 40; vocab++) {
        int extra = 10 + (int)(rng() % 120);

        begin_llama(&f);
        for (int i = 0; i < extra; i++) {
            int len = 1 + (int)(rng() % 5);

            for (int k = 0; k < len; k++)
                piece[k] = alphabet[rng() % 4];
            if (rng() % 16 == 0)
                memcpy(piece, "\xc3\xa9", (size_t)(len = 2));
            put_token_len(&f, piece, len, -(float)(rng() % 6));
        }
        finish(&f);
        load_ok(&t, &f);
        for (int i = 0; i < 40; i++) {
            random_text(text, sizeof(text), frags, sizeof(frags) / sizeof(frags[0]));
            compare_with_reference(&t, text);
        }
        free(f.bytes);
    }
}

/* ---------------------------------------------------------------- malformed files */

static void expect_refused(const void *data, size_t size, int32_t vocab_size,
                           const char *why)
{
    struct aios_tokenizer t;
    char err[160] = "";

    aios_arena_init(&arena, arena_mem, sizeof(arena_mem));
    assert_int_equal(aios_tokenizer_load(&t, data, size, vocab_size, &arena, err,
                                         sizeof(err)), AIOS_EINVAL);
    if (!strstr(err, why)) {
        print_message("message \"%s\" does not say \"%s\"\n", err, why);
        fail();
    }
    assert_int_equal(arena.used, 0);
    assert_int_equal(t.vocab_size, 0);
}

/* Five tokens, the smallest shape the tests below corrupt. */
static void tiny_file(struct file *f)
{
    begin(f);
    put_token(f, "<unk>", 0);
    put_token(f, "\n<s>\n", 0);
    put_token(f, "\n</s>\n", 0);
    put_token(f, "ab", -1);
    put_token(f, "c", -2);
    finish(f);
}

/* Offset of token i's score in tiny_file. */
static size_t tiny_offset(const struct file *f, int i)
{
    size_t off = 4;

    while (i-- > 0) {
        int32_t len;

        memcpy(&len, f->bytes + off + 4, 4);
        off += 8 + (size_t)len;
    }
    return off;
}

static void test_truncated_everywhere(void **state)
{
    struct file f;

    (void)state;
    tiny_file(&f);
    for (size_t size = 0; size < f.size; size++) {
        /* An exact-size copy, so a read past the end is a read past the allocation. */
        unsigned char *copy = malloc(size ? size : 1);

        assert_non_null(copy);
        memcpy(copy, f.bytes, size);
        expect_refused(copy, size, f.count, "truncated");
        free(copy);
    }
    free(f.bytes);
}

static void set_i32(struct file *f, size_t off, int32_t v)
{
    memcpy(f->bytes + off, &v, 4);
}

static void test_bad_lengths(void **state)
{
    static const int32_t bad[] = { 0, -1, -100, INT32_MIN, 7, 0x7fffffff };
    struct file f;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tiny_file(&f);   /* max_token_length 6 ("\n</s>\n") */
        set_i32(&f, tiny_offset(&f, 3) + 4, bad[i]);
        expect_refused(f.bytes, f.size, f.count, "token 3: length");
        free(f.bytes);
    }
    /* A length that fits max_token_length but runs past the end. */
    tiny_file(&f);
    set_i32(&f, tiny_offset(&f, 4) + 4, 5);
    expect_refused(f.bytes, f.size, f.count, "truncated in token 4");
    free(f.bytes);
}

static void test_bad_max_token_length(void **state)
{
    static const int32_t bad[] = { 0, -1, INT32_MIN, AIOS_TOKENIZER_MAX_PIECE + 1,
                                   1 << 30, INT32_MAX };
    struct file f;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tiny_file(&f);
        set_i32(&f, 0, bad[i]);
        expect_refused(f.bytes, f.size, f.count, "max_token_length");
        free(f.bytes);
    }
    tiny_file(&f);
    set_i32(&f, 0, 5);   /* smaller than "\n</s>\n" */
    expect_refused(f.bytes, f.size, f.count, "token 2: length 6 out of range 1..5");
    free(f.bytes);
}

static void test_non_finite_scores(void **state)
{
    static const uint32_t bad[] = { 0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7f800000u,
                                    0xff800000u };
    struct file f;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tiny_file(&f);
        memcpy(f.bytes + tiny_offset(&f, 4), &bad[i], 4);
        expect_refused(f.bytes, f.size, f.count, "token 4: score is not a finite");
        free(f.bytes);
    }
}

static void test_trailing_bytes(void **state)
{
    struct file f;

    (void)state;
    tiny_file(&f);
    put(&f, "x", 1);
    expect_refused(f.bytes, f.size, 5, "1 bytes left after 5 tokens");
    /* The same file read with too small a vocabulary has a token left over. */
    expect_refused(f.bytes, f.size - 1, 4, "9 bytes left after 4 tokens");
    /* ... and with too large a one runs out. */
    expect_refused(f.bytes, f.size - 1, 6, "truncated at token 5");
    free(f.bytes);
}

static void test_bad_vocab_size_and_arguments(void **state)
{
    static const int32_t bad[] = { 0, -1, 1, 2, INT32_MIN, AIOS_TOKENIZER_MAX_VOCAB + 1 };
    struct aios_tokenizer t;
    struct file f;
    char err[160];

    (void)state;
    tiny_file(&f);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_refused(f.bytes, f.size, bad[i], "vocab_size");
    expect_refused(NULL, 16, 5, "no data");
    assert_int_equal(aios_tokenizer_load(&t, f.bytes, f.size, 5, NULL, err, sizeof(err)),
                     AIOS_EINVAL);
    assert_int_equal(aios_tokenizer_load(NULL, f.bytes, f.size, 5, &arena, err,
                                         sizeof(err)), AIOS_EINVAL);
    /* No room for a message is no reason to crash. */
    aios_arena_init(&arena, arena_mem, sizeof(arena_mem));
    assert_int_equal(aios_tokenizer_load(&t, f.bytes, f.size, 0, &arena, NULL, 0),
                     AIOS_EINVAL);
    free(f.bytes);
}

static void test_arena_too_small(void **state)
{
    struct aios_tokenizer t;
    struct file f;
    char err[160];
    size_t need;

    (void)state;
    tiny_file(&f);
    aios_arena_init(&arena, arena_mem, sizeof(arena_mem));
    assert_int_equal(aios_tokenizer_load(&t, f.bytes, f.size, 5, &arena, err, sizeof(err)),
                     AIOS_OK);
    need = arena.used;
    /* Every smaller arena, each failing before or at either table. */
    for (size_t size = 0; size < need; size++) {
        aios_arena_init(&arena, arena_mem, size);
        err[0] = '\0';
        assert_int_equal(aios_tokenizer_load(&t, f.bytes, f.size, 5, &arena, err,
                                             sizeof(err)), AIOS_ENOMEM);
        assert_non_null(strstr(err, "arena too small"));
        assert_int_equal(arena.used, 0);
    }
    /* A bad file in a small arena is reported as a bad file. */
    aios_arena_init(&arena, arena_mem, 0);
    assert_int_equal(aios_tokenizer_load(&t, f.bytes, f.size - 1, 5, &arena, err,
                                         sizeof(err)), AIOS_EINVAL);
    free(f.bytes);
}

/* ---------------------------------------------------------------- the real tokenizer */

static unsigned char real_arena_mem[1 << 20];
static unsigned char *real_bytes;
static size_t real_size;
static const char *real_path;
static struct aios_tokenizer real;
static struct aios_arena real_arena;

static int load_real(void **state)
{
    FILE *fp;
    char err[160];

    (void)state;
    real_path = getenv("AIOS_TOKENIZER_BIN");
    if (!real_path || !*real_path)
        real_path = REAL_PATH;
    fp = fopen(real_path, "rb");
    if (!fp)
        return 0;   /* each test that needs it says so and skips */
    fseek(fp, 0, SEEK_END);
    real_size = (size_t)ftell(fp);
    rewind(fp);
    real_bytes = malloc(real_size);
    if (!real_bytes || fread(real_bytes, 1, real_size, fp) != real_size) {
        fclose(fp);
        printf("%s: cannot read\n", real_path);
        return -1;
    }
    fclose(fp);
    /* Apart from the arena the synthetic tests reuse. */
    aios_arena_init(&real_arena, real_arena_mem, sizeof(real_arena_mem));
    aios_arena_init(&scratch, scratch_mem, sizeof(scratch_mem));
    if (aios_tokenizer_load(&real, real_bytes, real_size, 32000, &real_arena, err,
                            sizeof(err)) != AIOS_OK) {
        printf("%s: %s\n", real_path, err);
        return -1;
    }
    return 0;
}

static int free_real(void **state)
{
    (void)state;
    free(real_bytes);
    return 0;
}

#define NEED_REAL()                                                            \
    do {                                                                       \
        if (!real_bytes) {                                                     \
            print_message("skipped: %s not found\n", real_path);              \
            skip();                                                            \
        }                                                                      \
    } while (0)

static void test_real_known_encoding(void **state)
{
    static const char text[] = "I believe the meaning of life is";
    int32_t ids[64];
    char out[128];
    size_t n;
    char err[160];
    struct aios_tokenizer t;
    struct aios_arena other;

    (void)state;
    NEED_REAL();
    n = encode(&real, text, 1, 0, ids, 64);
    EXPECT(ids, n, 1, 306, 4658, 278, 6593, 310, 2834, 338);
    assert_int_equal(decode_all(&real, ids, n, out, sizeof(out)), strlen(text));
    assert_string_equal(out, text);
    n = encode(&real, text, 1, 1, ids, 64);
    EXPECT(ids, n, 1, 306, 4658, 278, 6593, 310, 2834, 338, 2);

    /* The file belongs to exactly one vocabulary size. */
    aios_arena_init(&other, arena_mem, sizeof(arena_mem));
    assert_int_equal(aios_tokenizer_load(&t, real_bytes, real_size, 31999, &other, err,
                                         sizeof(err)), AIOS_EINVAL);
    assert_int_equal(aios_tokenizer_load(&t, real_bytes, real_size, 32001, &other, err,
                                         sizeof(err)), AIOS_EINVAL);
}

/* Every piece is found again under its own id (the file has no duplicates). */
static void test_real_lookup_every_piece(void **state)
{
    (void)state;
    NEED_REAL();
    for (int32_t id = 0; id < 32000; id++) {
        size_t len;
        const char *p = aios_tokenizer_piece(&real, id, &len);

        assert_int_equal(aios_tokenizer_lookup(&real, p, len), id);
    }
}

static void round_trip(const char *text)
{
    static int32_t ids[8192];
    static char out[16384];
    size_t n;

    /* After BOS the dummy prefix disappears in decoding... */
    n = encode(&real, text, 1, 0, ids, 8192);
    assert_int_equal(decode_all(&real, ids, n, out, sizeof(out)), strlen(text));
    assert_string_equal(out, text);
    /* ... without BOS it stays as the leading space. */
    n = encode(&real, text, 0, 0, ids, 8192);
    decode_all(&real, ids, n, out, sizeof(out));
    assert_true(!*text || out[0] == ' ');
    assert_string_equal(out + (*text ? 1 : 0), text);
}

static void test_real_round_trips(void **state)
{
    static const char *const texts[] = {
        "",
        "naïve café — 日本語 🙂",
        "Once upon a time, there was a little girl named Lily.\nShe liked to play.",
        "  leading spaces, trailing spaces  ",
        "\t tabs\tand\r\nCRLF\x01\x02\x7f",
        "𝄞 𐍈 ꙮ \xef\xbf\xbd",                          /* rare characters: bytes */
        "\xff\xfe stray \x80\x81 bytes \xc3 cut \xe6\x97 short \xf0\x9f\x99",
        "\x80\x80\x80\x80\x80\x80\x80\x80\x80",
        "<0x41> <s> </s> <unk>",
    };
    int32_t ids[64];
    size_t n;

    (void)state;
    NEED_REAL();
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        round_trip(texts[i]);
    /* 🙂 is not a piece: it comes back as its four bytes. */
    n = encode(&real, "🙂", 0, 0, ids, 64);
    EXPECT(ids, n, 29871, 3 + 0xf0, 3 + 0x9f, 3 + 0x99, 3 + 0x82);
}

static void test_real_against_reference(void **state)
{
    static const char *const frags[] = {
        " the", " a", "ing", " of", "tion", "s", ".", ",", " ", "  ", "\n", "I",
        "believe", " meaning", "life", "é", "ï", "—", "日本", "語", "🙂", "x", "qu",
        "ZZ", "0", "12", "é", "ñ", "ü", "ß", "über",
    };
    char text[200];

    (void)state;
    NEED_REAL();
    rng_state = 0x9e3779b9u;
    for (int i = 0; i < 300; i++) {
        random_text(text, sizeof(text), frags, sizeof(frags) / sizeof(frags[0]));
        compare_with_reference(&real, text);
    }
}

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Encoding must not scale as n^2 lookups: a 4 KiB prompt well within a few ms. */
static void test_real_long_prompt(void **state)
{
    static const char para[] =
        "Once upon a time, in a small village by the sea, there lived a curious girl "
        "named Mia. Every morning she walked to the harbour, watched the boats and "
        "asked the fishermen about far-away places — Zürich, Kyōto, São Paulo. ";
    static char text[4200];
    static int32_t ids[4200];
    double best = 1e9;
    size_t n = 0, len = 0;

    (void)state;
    NEED_REAL();
    while (len + sizeof(para) < sizeof(text)) {
        memcpy(text + len, para, sizeof(para) - 1);
        len += sizeof(para) - 1;
    }
    text[len] = '\0';
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_seconds();

        n = encode(&real, text, 1, 0, ids, 4200);
        if (now_seconds() - t0 < best)
            best = now_seconds() - t0;
    }
    print_message("encoding %zu bytes: %zu tokens in %.3f ms\n", len, n, best * 1e3);
    assert_true(best < 0.2);
    round_trip(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_by_score),
        cmocka_unit_test(test_ties_leftmost),
        cmocka_unit_test(test_merge_floor_and_bos_pairs),
        cmocka_unit_test(test_byte_fallback),
        cmocka_unit_test(test_small_vocab_fallbacks),
        cmocka_unit_test(test_bos_eos_empty),
        cmocka_unit_test(test_max_ids_too_small),
        cmocka_unit_test(test_encode_bad_arguments),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_decode_near_byte_pieces),
        cmocka_unit_test(test_duplicate_pieces),
        cmocka_unit_test(test_unaligned_buffer),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_bad_max_token_length),
        cmocka_unit_test(test_non_finite_scores),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_bad_vocab_size_and_arguments),
        cmocka_unit_test(test_arena_too_small),
        cmocka_unit_test(test_real_known_encoding),
        cmocka_unit_test(test_real_lookup_every_piece),
        cmocka_unit_test(test_real_round_trips),
        cmocka_unit_test(test_real_against_reference),
        cmocka_unit_test(test_real_long_prompt),
    };

    /* One group, as tools/run-unit-tests.sh reads one summary per binary. */
    return cmocka_run_group_tests(tests, load_real, free_real);
}
