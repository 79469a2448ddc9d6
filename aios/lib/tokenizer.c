/*
 * The tokenizer: llama2.c's tokenizer.bin loaded into arena tables, BPE encoding with a
 * heap over the candidate merges, and decoding of single tokens for streaming output.
 * See aios/tokenizer.h for the format and the exact behaviour.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aios/tokenizer.h"
#include "kprintf.h"

struct aios_token_entry {
    uint32_t offset;   /* of the piece in the file: files over 4 GiB are refused */
    uint32_t len;
    float score;
};

/* llama2.c's merge loop starts its best score at -1e10 and takes only strictly better
 * pairs, so a piece scoring at or below it is never produced by a merge. */
#define MERGE_FLOOR (-1e10f)

/* Bounds the symbol indices of encode to int32 with room for the heap's size. */
#define MAX_TEXT_BYTES ((size_t)1 << 28)

/* One raw byte per value: what a "<0xXX>" token decodes to. */
#define BYTES4(n) (n), (n) + 1, (n) + 2, (n) + 3
#define BYTES16(n) BYTES4(n), BYTES4((n) + 4), BYTES4((n) + 8), BYTES4((n) + 12)
#define BYTES64(n) BYTES16(n), BYTES16((n) + 16), BYTES16((n) + 32), BYTES16((n) + 48)
static const unsigned char byte_pieces[256] = {
    BYTES64(0), BYTES64(64), BYTES64(128), BYTES64(192),
};

/* Little-endian whatever the host, and byte by byte since the file may sit at any
 * address (the target runs with strict alignment checking). */
static uint32_t read_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* FNV-1a, continued over the second half of a pair so that a merge candidate is looked
 * up without first copying the two pieces together. */
#define HASH_SEED 2166136261u

static uint32_t hash_bytes(uint32_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* The second half of a single-piece lookup: memcmp may not be given NULL, even for
 * zero bytes. */
static const unsigned char no_bytes[1];

static const unsigned char *piece_bytes(const struct aios_tokenizer *t, int32_t id)
{
    return t->data + t->tokens[id].offset;
}

/* The id whose piece is a[0..alen) followed by b[0..blen), or -1. The index is at most
 * half full, so the probe always reaches an empty slot. */
static int32_t lookup_pair(const struct aios_tokenizer *t, const unsigned char *a,
                           size_t alen, const unsigned char *b, size_t blen)
{
    uint32_t i = hash_bytes(hash_bytes(HASH_SEED, a, alen), b, blen) & t->bucket_mask;

    for (; t->buckets[i]; i = (i + 1) & t->bucket_mask) {
        int32_t id = (int32_t)(t->buckets[i] - 1);
        const struct aios_token_entry *e = &t->tokens[id];
        const unsigned char *p = t->data + e->offset;

        if (e->len == alen + blen && !memcmp(p, a, alen) && !memcmp(p + alen, b, blen))
            return id;
    }
    return -1;
}

int32_t aios_tokenizer_lookup(const struct aios_tokenizer *t, const void *bytes,
                              size_t len)
{
    if (!t || !t->tokens || (!bytes && len))
        return -1;
    return lookup_pair(t, len ? bytes : no_bytes, len, no_bytes, 0);
}

/* ---------------------------------------------------------------- loading */

int aios_tokenizer_load(struct aios_tokenizer *t, const void *data, size_t size,
                        int32_t vocab_size, struct aios_arena *arena, char *err,
                        size_t errlen)
{
    const unsigned char *p = data;
    struct aios_token_entry *tokens;
    uint32_t *buckets;
    size_t off, mark, n_buckets;
    int32_t max_len;

    if (!t)
        return kfail(err, errlen, AIOS_EINVAL, "tokenizer: no tokenizer to load into");
    memset(t, 0, sizeof(*t));
    t->space_id = -1;
    if (!arena || (!data && size))
        return kfail(err, errlen, AIOS_EINVAL, "tokenizer: no %s",
                     arena ? "data" : "arena");
    if (vocab_size < 3 || vocab_size > AIOS_TOKENIZER_MAX_VOCAB)
        return kfail(err, errlen, AIOS_EINVAL,
                     "tokenizer: vocab_size %d out of range 3..%d "
                     "(<unk> <s> </s> at least)",
                     (int)vocab_size, AIOS_TOKENIZER_MAX_VOCAB);
    if (size > UINT32_MAX)
        return kfail(err, errlen, AIOS_EINVAL,
                     "tokenizer: file of %zu bytes is too large", size);
    if (size < 4)
        return kfail(err, errlen, AIOS_EINVAL,
                     "tokenizer: truncated: %zu bytes, the header alone needs 4", size);
    max_len = (int32_t)read_u32(p);
    if (max_len <= 0 || max_len > AIOS_TOKENIZER_MAX_PIECE)
        return kfail(err, errlen, AIOS_EINVAL,
                     "tokenizer: max_token_length %d out of range 1..%d", (int)max_len,
                     AIOS_TOKENIZER_MAX_PIECE);

    /* The whole file is checked before anything is allocated, so a bad file reads as
     * bad rather than as an arena that is too small. */
    off = 4;
    for (int32_t i = 0; i < vocab_size; i++) {
        uint32_t score_bits;
        int32_t len;

        if (size - off < 8)
            return kfail(err, errlen, AIOS_EINVAL,
                         "tokenizer: truncated at token %d of %d (%zu bytes)", (int)i,
                         (int)vocab_size, size);
        score_bits = read_u32(p + off);
        len = (int32_t)read_u32(p + off + 4);
        if ((score_bits & 0x7f800000u) == 0x7f800000u)
            return kfail(err, errlen, AIOS_EINVAL,
                         "tokenizer: token %d: score is not a finite number", (int)i);
        if (len <= 0 || len > max_len)
            return kfail(err, errlen, AIOS_EINVAL,
                         "tokenizer: token %d: length %d out of range 1..%d "
                         "(max_token_length)", (int)i, (int)len, (int)max_len);
        off += 8;
        if (size - off < (size_t)len)
            return kfail(err, errlen, AIOS_EINVAL,
                         "tokenizer: truncated in token %d of %d (%zu bytes)", (int)i,
                         (int)vocab_size, size);
        off += (size_t)len;
    }
    /* llama2.c's files end with the last token; more means the file belongs to a
     * model with a larger vocabulary, and using its prefix would mislabel ids. */
    if (off != size)
        return kfail(err, errlen, AIOS_EINVAL,
                     "tokenizer: %zu bytes left after %d tokens (file for another "
                     "vocab_size?)", size - off, (int)vocab_size);

    /* A power of two at least twice the vocabulary: short probes, and never full. */
    n_buckets = 2;
    while (n_buckets < 2 * (size_t)vocab_size)
        n_buckets *= 2;
    mark = aios_arena_mark(arena);
    tokens = aios_arena_alloc(arena, (size_t)vocab_size * sizeof(*tokens),
                              _Alignof(struct aios_token_entry));
    buckets = tokens ? aios_arena_alloc(arena, n_buckets * sizeof(*buckets),
                                        _Alignof(uint32_t))
                     : NULL;
    if (!buckets) {
        aios_arena_reset(arena, mark);
        return kfail(err, errlen, AIOS_ENOMEM,
                     "tokenizer: arena too small for %d tokens "
                     "(%zu bytes needed, %zu free)", (int)vocab_size,
                     (size_t)vocab_size * sizeof(*tokens) + n_buckets * sizeof(*buckets),
                     arena->size - arena->used);
    }

    off = 4;
    for (int32_t i = 0; i < vocab_size; i++) {
        uint32_t score_bits = read_u32(p + off);

        memcpy(&tokens[i].score, &score_bits, sizeof(float));
        tokens[i].len = read_u32(p + off + 4);
        tokens[i].offset = (uint32_t)(off + 8);
        off += 8 + tokens[i].len;
    }

    t->data = p;
    t->tokens = tokens;
    t->buckets = buckets;
    t->bucket_mask = (uint32_t)(n_buckets - 1);
    t->vocab_size = vocab_size;
    t->max_token_length = max_len;

    /* In id order, skipping a piece already present: a duplicate resolves to the lower
     * id, where llama2.c's binary search would pick either. */
    for (int32_t i = 0; i < vocab_size; i++) {
        const unsigned char *s = piece_bytes(t, i);
        uint32_t h = hash_bytes(HASH_SEED, s, tokens[i].len) & t->bucket_mask;
        int duplicate = 0;

        for (; buckets[h]; h = (h + 1) & t->bucket_mask) {
            const struct aios_token_entry *e = &tokens[buckets[h] - 1];

            if (e->len == tokens[i].len && !memcmp(t->data + e->offset, s, e->len)) {
                duplicate = 1;
                break;
            }
        }
        if (!duplicate)
            buckets[h] = (uint32_t)i + 1;
    }
    t->space_id = aios_tokenizer_lookup(t, " ", 1);
    return AIOS_OK;
}

/* ---------------------------------------------------------------- encoding */

/* A candidate merge of the symbol at left with its right neighbour into id. It may have
 * gone stale by the time it is taken from the heap: see merge_still_valid. */
struct merge {
    float score;
    int32_t left;
    int32_t id;
};

struct encoder {
    const struct aios_tokenizer *t;
    int32_t *sym;    /* token id of each symbol, -1 once merged into its left */
    int32_t *next;   /* neighbours in the list of live symbols, -1 at the ends */
    int32_t *prev;
    struct merge *heap;
    size_t heap_len;
};

/* llama2.c takes the best score and, among equal scores, the leftmost pair. Symbols keep
 * their slots and the list keeps their order, so leftmost is the lowest left slot. */
static int merge_before(const struct merge *a, const struct merge *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void heap_push(struct encoder *e, struct merge m)
{
    size_t i = e->heap_len++;

    while (i > 0 && merge_before(&m, &e->heap[(i - 1) / 2])) {
        e->heap[i] = e->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    e->heap[i] = m;
}

static struct merge heap_pop(struct encoder *e)
{
    struct merge top = e->heap[0], last = e->heap[--e->heap_len];
    size_t i = 0, n = e->heap_len;

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= n)
            break;
        if (c + 1 < n && merge_before(&e->heap[c + 1], &e->heap[c]))
            c++;
        if (!merge_before(&e->heap[c], &last))
            break;
        e->heap[i] = e->heap[c];
        i = c;
    }
    if (n)
        e->heap[i] = last;
    return top;
}

static uint32_t sym_len(const struct encoder *e, int32_t s)
{
    return e->t->tokens[e->sym[s]].len;
}

/* Queue the merge of symbol left with its right neighbour, if the vocabulary has it. */
static void consider_pair(struct encoder *e, int32_t left)
{
    int32_t right, id;

    if (left < 0 || (right = e->next[left]) < 0)
        return;
    id = lookup_pair(e->t, piece_bytes(e->t, e->sym[left]), sym_len(e, left),
                     piece_bytes(e->t, e->sym[right]), sym_len(e, right));
    if (id >= 0 && e->t->tokens[id].score > MERGE_FLOOR)
        heap_push(e, (struct merge){ e->t->tokens[id].score, left, id });
}

/* A queued merge is stale once either symbol has changed. Symbols only ever grow, and
 * the right neighbour of a live symbol changes only by merging into it, so the pair is
 * unchanged exactly when its two lengths still add up to the merged piece's. */
static int merge_still_valid(const struct encoder *e, const struct merge *m)
{
    int32_t right;

    if (e->sym[m->left] < 0 || (right = e->next[m->left]) < 0)
        return 0;
    return sym_len(e, m->left) + sym_len(e, right) == e->t->tokens[m->id].len;
}

static int32_t byte_token(const struct aios_tokenizer *t, unsigned char b)
{
    int32_t id = AIOS_TOKEN_BYTE0 + b;

    return id < t->vocab_size ? id : AIOS_TOKEN_UNK;
}

int aios_tokenizer_encode(const struct aios_tokenizer *t, const char *text, int bos,
                          int eos, int32_t *ids, size_t max_ids, size_t *n_ids,
                          struct aios_arena *scratch)
{
    const unsigned char *s = (const unsigned char *)text;
    struct encoder e = { .t = t };
    size_t len, cap, mark, n_out;
    int32_t n = 0;

    if (!t || !t->tokens || !text || !n_ids || !scratch || (!ids && max_ids))
        return AIOS_EINVAL;
    len = strlen(text);
    if (len > MAX_TEXT_BYTES)
        return AIOS_ERANGE;
    if (len + 2 > SIZE_MAX / (3 * sizeof(struct merge)))
        return AIOS_ENOMEM;

    /* One symbol per input byte at most, plus BOS and the dummy prefix. Each merge
     * queues at most two candidates, after at most cap - 1 initial ones. */
    cap = len + 2;
    mark = aios_arena_mark(scratch);
    e.sym = aios_arena_alloc(scratch, cap * sizeof(int32_t), _Alignof(int32_t));
    e.next = aios_arena_alloc(scratch, cap * sizeof(int32_t), _Alignof(int32_t));
    e.prev = aios_arena_alloc(scratch, cap * sizeof(int32_t), _Alignof(int32_t));
    e.heap = aios_arena_alloc(scratch, 3 * cap * sizeof(struct merge),
                              _Alignof(struct merge));
    if (!e.sym || !e.next || !e.prev || !e.heap) {
        aios_arena_reset(scratch, mark);
        return AIOS_ENOMEM;
    }

    if (bos)
        e.sym[n++] = AIOS_TOKEN_BOS;
    if (len)
        e.sym[n++] = t->space_id >= 0 ? t->space_id : byte_token(t, ' ');
    for (size_t i = 0; i < len;) {
        size_t start = i++;
        int32_t id;

        while (i < len && (s[i] & 0xc0) == 0x80 && i - start < 4)
            i++;
        id = lookup_pair(t, s + start, i - start, no_bytes, 0);
        if (id >= 0) {
            e.sym[n++] = id;
            continue;
        }
        for (size_t j = start; j < i; j++)
            e.sym[n++] = byte_token(t, s[j]);
    }

    for (int32_t i = 0; i < n; i++) {
        e.prev[i] = i - 1;
        e.next[i] = i + 1 < n ? i + 1 : -1;
    }
    for (int32_t i = 0; i + 1 < n; i++)
        consider_pair(&e, i);
    while (e.heap_len) {
        struct merge m = heap_pop(&e);
        int32_t right;

        if (!merge_still_valid(&e, &m))
            continue;
        right = e.next[m.left];
        e.sym[m.left] = m.id;
        e.sym[right] = -1;
        e.next[m.left] = e.next[right];
        if (e.next[right] >= 0)
            e.prev[e.next[right]] = m.left;
        consider_pair(&e, e.prev[m.left]);
        consider_pair(&e, m.left);
    }

    /* Slot 0 is never merged into a left neighbour, so the list starts there. */
    n_out = eos ? 1 : 0;
    for (int32_t i = n ? 0 : -1; i >= 0; i = e.next[i])
        n_out++;
    *n_ids = n_out;
    if (n_out > max_ids) {
        aios_arena_reset(scratch, mark);
        return AIOS_ERANGE;
    }
    n_out = 0;
    for (int32_t i = n ? 0 : -1; i >= 0; i = e.next[i])
        ids[n_out++] = e.sym[i];
    if (eos)
        ids[n_out++] = AIOS_TOKEN_EOS;
    aios_arena_reset(scratch, mark);
    return AIOS_OK;
}

/* ---------------------------------------------------------------- decoding */

const char *aios_tokenizer_piece(const struct aios_tokenizer *t, int32_t id, size_t *len)
{
    if (!t || !t->tokens || id < 0 || id >= t->vocab_size) {
        if (len)
            *len = 0;
        return "";
    }
    if (len)
        *len = t->tokens[id].len;
    return (const char *)piece_bytes(t, id);
}

float aios_tokenizer_score(const struct aios_tokenizer *t, int32_t id)
{
    if (!t || !t->tokens || id < 0 || id >= t->vocab_size)
        return 0.0f;
    return t->tokens[id].score;
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

const char *aios_tokenizer_decode(const struct aios_tokenizer *t, int32_t prev,
                                  int32_t token, size_t *len)
{
    size_t n;
    const char *piece = aios_tokenizer_piece(t, token, &n);
    const unsigned char *u = (const unsigned char *)piece;

    if (n == 6 && u[0] == '<' && u[1] == '0' && u[2] == 'x' && hex_digit(u[3]) >= 0 &&
        hex_digit(u[4]) >= 0 && u[5] == '>') {
        piece = (const char *)&byte_pieces[hex_digit(u[3]) << 4 | hex_digit(u[4])];
        n = 1;
    }
    if (prev == AIOS_TOKEN_BOS && n && piece[0] == ' ') {
        piece++;
        n--;
    }
    if (len)
        *len = n;
    return piece;
}
