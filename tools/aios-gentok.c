/*
 * aios-gentok: writes a synthetic tokenizer in llama2.c's tokenizer.bin format.
 *
 *   aios-gentok VOCAB_SIZE OUT.bin
 *
 * For tests that must not depend on a download: a model with random weights and a small
 * vocabulary needs a tokenizer of exactly its vocab_size. The output is deterministic
 * (same size, same bytes) and laid out like Llama 2's: ids 0..2 are "<unk>", "\n<s>\n",
 * "\n</s>\n", ids 3..258 the byte tokens "<0x00>".."<0xFF>" (all scoring 0), then, as
 * far as VOCAB_SIZE reaches: " ", the printable ASCII characters, a few non-ASCII
 * characters, common English bigrams, common words with and without a leading space,
 * and finally generated lower-case strings. Each word comes with all of its prefixes
 * before it, so merges can build it up a character at a time. Scores follow llama2.c's
 * convention, score = -rank in that order, so earlier (more common, shorter) pieces
 * merge first. No piece appears twice; the file is loaded back with libaios before the
 * tool reports success.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aios/tokenizer.h"

#define FIRST_FREE_ID (AIOS_TOKEN_BYTE0 + 256)
#define MAX_GENERATED 8   /* longest generated string: 26^8 is far past any vocab */

static const char *const extra_chars[] = {
    "\xc3\xa9", "\xc3\xa8", "\xc3\xaf", "\xc3\xbc", "\xc3\xb6", "\xc3\xa4", "\xc3\xb1",
    "\xc3\xa7", "\xe2\x80\x94", "\xe2\x80\x99", "\xe2\x80\x9c", "\xe2\x80\x9d",
    "\xe2\x80\xa6", "\xe6\x97\xa5", "\xe6\x9c\xac", "\xe8\xaa\x9e",
};

static const char *const bigrams[] = {
    "th", "he", "in", "er", "an", "re", "on", "at", "en", "nd", "ti", "es", "or", "te",
    "of", "ed", "is", "it", "al", "ar", "st", "to", "nt", "ng", "se", "ha", "as", "ou",
    "io", "le", "ve", "co", "me", "de", "hi", "ri", "ro", "ic", "ne", "ea", "ra", "ce",
    "li", "ch", "ll", "be", "ma", "si", "om", "ur",
};

static const char *const words[] = {
    "the", "a", "and", "to", "was", "of", "he", "she", "it", "in", "is", "that", "you",
    "for", "on", "with", "they", "his", "her", "at", "be", "this", "have", "from", "or",
    "one", "had", "by", "but", "not", "what", "all", "were", "we", "when", "your", "can",
    "said", "there", "an", "each", "which", "do", "how", "their", "if", "will", "up",
    "other", "about", "out", "many", "then", "them", "these", "so", "some", "would",
    "make", "like", "him", "into", "time", "has", "look", "two", "more", "go", "see",
    "no", "way", "could", "people", "my", "than", "first", "been", "who", "its", "now",
    "find", "long", "down", "day", "did", "get", "come", "made", "may", "once", "upon",
    "little", "girl", "boy", "named", "Lily", "Tom", "Ben", "Mia", "play", "played",
    "happy", "sad", "big", "small", "dog", "cat", "bird", "tree", "park", "ball", "toy",
    "mom", "dad", "friend", "friends", "very", "saw", "wanted", "went", "help", "home",
    "sun", "sky", "water", "fun", "together", "loved", "good", "new",
    "ing", "ed", "ly", "er", "est", "tion", "I", "He", "She", "They", "The", "One",
    "Once", "It", "But", "So",
};

/* ---------------------------------------------------------------- the vocabulary */

struct vocab {
    char **pieces;
    int count, target;
    size_t max_len;
    unsigned *set;   /* open addressing over pieces: index + 1, 0 = empty */
    size_t set_mask;
};

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "aios-gentok: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

/* Adds piece unless it is already there; returns 1 once the vocabulary is full. */
static int add(struct vocab *v, const char *piece)
{
    size_t i = hash(piece) & v->set_mask;

    if (v->count == v->target)
        return 1;
    for (; v->set[i]; i = (i + 1) & v->set_mask)
        if (!strcmp(v->pieces[v->set[i] - 1], piece))
            return 0;
    v->pieces[v->count] = strdup(piece);
    if (!v->pieces[v->count])
        die("out of memory", NULL);
    if (strlen(piece) > v->max_len)
        v->max_len = strlen(piece);
    v->set[i] = (unsigned)++v->count;
    return v->count == v->target;
}

/* piece and every prefix of it, shortest first, so merges can reach it. */
static int add_with_prefixes(struct vocab *v, const char *piece)
{
    char buf[64];
    size_t n = strlen(piece);

    if (n >= sizeof(buf))
        die("piece too long", piece);
    for (size_t k = 1; k <= n; k++) {
        memcpy(buf, piece, k);
        buf[k] = '\0';
        if (add(v, buf))
            return 1;
    }
    return 0;
}

/* Every lower-case string of each length from 2 on, each also with a leading space,
 * until the vocabulary is full. */
static void add_generated(struct vocab *v)
{
    char buf[MAX_GENERATED + 2];

    for (int len = 2; len <= MAX_GENERATED; len++) {
        int digits[MAX_GENERATED] = { 0 };

        for (;;) {
            buf[0] = ' ';
            for (int k = 0; k < len; k++)
                buf[1 + k] = (char)('a' + digits[k]);
            buf[1 + len] = '\0';
            if (add(v, buf + 1) || add(v, buf))
                return;
            int k = len - 1;
            while (k >= 0 && ++digits[k] == 26)
                digits[k--] = 0;
            if (k < 0)
                break;
        }
    }
    die("vocabulary too large to generate", NULL);
}

static void build(struct vocab *v)
{
    char buf[64];

#define ADD(piece)          \
    do {                    \
        if (add(v, piece))  \
            return;         \
    } while (0)
    ADD("<unk>");
    ADD("\n<s>\n");
    ADD("\n</s>\n");
    for (int b = 0; b < 256; b++) {
        snprintf(buf, sizeof(buf), "<0x%02X>", b);
        ADD(buf);
    }
    ADD(" ");   /* the dummy prefix every encoding starts with */
    for (char c = '!'; c <= '~'; c++) {
        buf[0] = c;
        buf[1] = '\0';
        ADD(buf);
    }
    for (size_t i = 0; i < sizeof(extra_chars) / sizeof(extra_chars[0]); i++)
        ADD(extra_chars[i]);
    for (size_t i = 0; i < sizeof(bigrams) / sizeof(bigrams[0]); i++)
        ADD(bigrams[i]);
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        snprintf(buf, sizeof(buf), " %s", words[i]);
        if (add_with_prefixes(v, buf) || add_with_prefixes(v, words[i]))
            return;
    }
#undef ADD
    add_generated(v);
}

/* ---------------------------------------------------------------- the file */

static void put(FILE *f, const void *p, size_t n, const char *path)
{
    if (fwrite(p, 1, n, f) != n)
        die("cannot write", path);
}

/* Little-endian, as llama2.c's files are, whatever the host. */
static void put_u32(FILE *f, uint32_t x, const char *path)
{
    unsigned char b[4] = { (unsigned char)x, (unsigned char)(x >> 8),
                           (unsigned char)(x >> 16), (unsigned char)(x >> 24) };

    put(f, b, 4, path);
}

static float score_of(int id)
{
    return id < FIRST_FREE_ID ? 0.0f : (float)(FIRST_FREE_ID - id);
}

static void write_file(const struct vocab *v, const char *path)
{
    FILE *f = fopen(path, "wb");

    if (!f)
        die("cannot create", path);
    put_u32(f, (uint32_t)v->max_len, path);
    for (int id = 0; id < v->count; id++) {
        float score = score_of(id);
        uint32_t bits;

        memcpy(&bits, &score, 4);
        put_u32(f, bits, path);
        put_u32(f, (uint32_t)strlen(v->pieces[id]), path);
        put(f, v->pieces[id], strlen(v->pieces[id]), path);
    }
    if (fclose(f))
        die("cannot write", path);
}

/* Read the file back through libaios: it must load, and every piece must be found under
 * its own id (so none is duplicated). */
static void check_file(const struct vocab *v, const char *path)
{
    FILE *f = fopen(path, "rb");
    struct aios_tokenizer t;
    struct aios_arena arena;
    size_t size, arena_size;
    char err[160];
    void *data, *mem;
    long n;

    if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
        die("cannot read back", path);
    size = (size_t)n;
    data = malloc(size ? size : 1);
    if (!data || fread(data, 1, size, f) != size)
        die("cannot read back", path);
    fclose(f);
    arena_size = (size_t)v->count * 32 + 64;
    mem = malloc(arena_size);
    if (!mem)
        die("out of memory", NULL);
    aios_arena_init(&arena, mem, arena_size);
    if (aios_tokenizer_load(&t, data, size, v->count, &arena, err, sizeof(err)))
        die("the file written does not load", err);
    for (int id = 0; id < v->count; id++)
        if (aios_tokenizer_lookup(&t, v->pieces[id], strlen(v->pieces[id])) != id)
            die("piece written twice", v->pieces[id]);
    free(mem);
    free(data);
}

int main(int argc, char **argv)
{
    struct vocab v = { 0 };
    char *end;
    long size;

    if (argc != 3) {
        fprintf(stderr, "usage: aios-gentok VOCAB_SIZE OUT.bin\n");
        return 2;
    }
    errno = 0;
    size = strtol(argv[1], &end, 10);
    if (errno || end == argv[1] || *end || size < FIRST_FREE_ID ||
        size > AIOS_TOKENIZER_MAX_VOCAB) {
        fprintf(stderr, "aios-gentok: vocab_size '%s' must be a number in %d..%d (the "
                        "3 special and 256 byte tokens come first)\n",
                argv[1], FIRST_FREE_ID, AIOS_TOKENIZER_MAX_VOCAB);
        return 2;
    }
    v.target = (int)size;
    v.pieces = calloc((size_t)v.target, sizeof(*v.pieces));
    for (v.set_mask = 1; v.set_mask < 2 * (size_t)v.target; v.set_mask *= 2)
        ;
    v.set = calloc(v.set_mask, sizeof(*v.set));
    v.set_mask--;
    if (!v.pieces || !v.set)
        die("out of memory", NULL);
    build(&v);
    if (v.count != v.target)
        die("internal error: vocabulary not filled", NULL);
    write_file(&v, argv[2]);
    check_file(&v, argv[2]);
    for (int i = 0; i < v.count; i++)
        free(v.pieces[i]);
    free(v.pieces);
    free(v.set);
    return 0;
}
