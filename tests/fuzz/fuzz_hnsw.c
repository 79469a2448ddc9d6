/*
 * libFuzzer target for the HNSW loader (aios/lib/hnsw.c): aios_hnsw_load on any bytes,
 * then everything an accepted index can be asked to do.
 *
 * A fuzzer cannot forge a SHA-256, so raw inputs almost all stop at "checksum mismatch".
 * The first input byte therefore picks how the file is made (its high bit also asks for
 * an arena one byte smaller than the file's parameters need):
 *   0  raw: the rest of the input is the file, as it is (size, magic, version, checksum
 *      checks);
 *   1  re-checksummed: the rest is the file, but the target writes its real size into
 *      the size field and the SHA-256 of the body into the checksum field before
 *      loading, so every structural check behind the checksum gets fuzzed;
 *   2  edited: the target builds a small valid index (dim, M, node count, metric,
 *      ef_construction, seed, deletions and labels from the next input bytes, vectors of
 *      small integers so distances tie), saves it, applies the rest of the input as edits
 *      (u16 offset into the file after the checksum field, u8 value xor-ed in), fixes the
 *      size and checksum and loads it: files one lie away from a real one, in every
 *      section.
 *
 * Aborts when:
 *   - load returns anything but OK, EINVAL or ENOMEM; refuses without a message or with
 *     arena memory left allocated; accepts with a too small arena; refuses an unedited
 *     mode-2 file;
 *   - for an accepted index: saving does not give back the loaded bytes exactly; a
 *     search fails, keeps scratch memory, returns more than k results, a label that is
 *     not live, or distances out of order; inserting or deleting breaks a promise
 *     (duplicate accepted, count wrong, full not reported); the grown index does not
 *     save and reload to the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aios/hnsw.h"
#include "sha256.h"

#define require(cond)                                                            \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                      \
            abort();                                                             \
        }                                                                        \
    } while (0)

#define ARENA_SIZE (4u << 20)
static unsigned char arena_mem[ARENA_SIZE];
static unsigned char arena2_mem[ARENA_SIZE];
static unsigned char scratch_mem[1u << 20];

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void fix(unsigned char *f, size_t len)
{
    if (len < AIOS_HNSW_HEADER_SIZE)
        return;
    wr64(f + 44, len);
    sha256(f + 44, len - 44, f + 12);
}

static uint64_t rng;

static uint32_t next(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 33);
}

/* Save h; NULL when it has nothing (size 0 never happens for a live index). */
static unsigned char *save(const struct aios_hnsw *h, size_t *len)
{
    size_t size = aios_hnsw_save_size(h), got = 0;
    unsigned char *buf = malloc(size);

    require(buf != NULL);
    require(aios_hnsw_save(h, buf, size, &got) == AIOS_OK && got == size);
    *len = size;
    return buf;
}

static void search_checks(const struct aios_hnsw *h)
{
    struct aios_arena s;
    uint32_t labels[17];
    float dists[17], q[8];
    uint32_t dim = h->p.dim;

    aios_arena_init(&s, scratch_mem, sizeof scratch_mem);
    for (int t = 0; t < 6; t++) {
        size_t k = 1 + next() % 16, ef = next() % 40, found = 99;
        if (aios_hnsw_search_bytes(h, k, ef) > sizeof scratch_mem)
            continue;
        const float *qp = q;
        if (dim <= 8) {
            for (uint32_t j = 0; j < dim; j++)
                q[j] = (float)((int)(next() % 9) - 4);
            q[0] = 1.0f + (float)(next() % 3);   /* never a zero vector */
        } else if (h->n > 0) {
            qp = h->vectors + (size_t)(next() % h->n) * dim;   /* a stored vector */
        } else {
            continue;
        }
        int rc = aios_hnsw_search(h, qp, k, ef, labels, dists, &found, &s);
        /* a stored vector may be huge and so not normalisable as a cosine query */
        require(rc == AIOS_OK || (rc == AIOS_EINVAL && qp != q));
        require(s.used == 0);
        require(found <= k && found <= aios_hnsw_count(h));
        for (size_t i = 0; i < found; i++) {
            require(aios_hnsw_contains(h, labels[i]));
            require(dists[i] == dists[i]);
            if (i > 0)
                require(dists[i - 1] <= dists[i]);
        }
    }
}

/* Everything after a successful load of file[0..len). */
static void exercise(struct aios_hnsw *h, const unsigned char *file, size_t len)
{
    size_t n2;
    unsigned char *again = save(h, &n2);

    require(n2 == len && memcmp(again, file, len) == 0);
    free(again);
    search_checks(h);

    /* grow: a few inserts (some with labels already live), deletes, then a round trip */
    uint32_t dim = h->p.dim;
    float *v = malloc(dim * sizeof(float));
    require(v != NULL);
    for (int t = 0; t < 4; t++) {
        for (uint32_t j = 0; j < dim; j++)
            v[j] = (float)((int)(next() % 9) - 4);
        v[0] = 5.0f;
        uint32_t label = next() % 64;
        int live = aios_hnsw_contains(h, label), full = h->n >= h->p.max_elements;
        size_t count = aios_hnsw_count(h);
        int rc = aios_hnsw_insert(h, v, label);
        if (live)
            require(rc == AIOS_EINVAL);
        else if (full)
            require(rc == AIOS_ERANGE);
        else
            require(rc == AIOS_OK && aios_hnsw_count(h) == count + 1);
        if (next() % 3 == 0) {
            label = next() % 64;
            live = aios_hnsw_contains(h, label);
            require(aios_hnsw_delete(h, label) == (live ? AIOS_OK : AIOS_EINVAL));
            require(!aios_hnsw_contains(h, label));
        }
    }
    free(v);
    search_checks(h);

    size_t n3, n4;
    unsigned char *grown = save(h, &n3);
    struct aios_arena a2;
    struct aios_hnsw h2;
    char err[200] = "";
    aios_arena_init(&a2, arena2_mem, sizeof arena2_mem);
    int rc = aios_hnsw_load(&h2, grown, n3, h->p.dim, &a2, err, sizeof err);
    if (rc != AIOS_OK) {
        fprintf(stderr, "reload refused: %d %s\n", rc, err);
        abort();
    }
    unsigned char *third = save(&h2, &n4);
    require(n3 == n4 && memcmp(grown, third, n3) == 0);
    free(grown);
    free(third);
}

/* Mode 2's starting point: a real index from a few parameter bytes. */
static unsigned char *valid_file(const uint8_t *b, size_t n, size_t *len, size_t *used)
{
    uint8_t c[12] = { 0 };
    memcpy(c, b, n < sizeof c ? n : sizeof c);
    *used = n < sizeof c ? n : sizeof c;

    struct aios_hnsw_params p = {
        .dim = 1 + c[0] % 8u,
        .metric = c[1] % 3u,
        .m = 2 + c[2] % 5u,
        .ef_construction = 1 + c[3] % 16u,
        .max_elements = 1 + c[4] % 48u + c[5] % 4u,
        .seed = c[6],
    };
    uint32_t count = c[4] % 48u;
    struct aios_arena a;
    struct aios_hnsw h;
    char err[200] = "";

    aios_arena_init(&a, arena2_mem, sizeof arena2_mem);
    require(aios_hnsw_init(&h, &p, &a, err, sizeof err) == AIOS_OK);
    rng = c[7] | (uint64_t)c[8] << 8;
    float v[8];
    for (uint32_t i = 0; i < count; i++) {
        for (uint32_t j = 0; j < p.dim; j++)
            v[j] = (float)((int)(next() % 5) - 2);
        v[0] = 1.0f + (float)(next() % 2);
        uint32_t label = i * (1 + c[9] % 4u) + c[10];
        require(aios_hnsw_insert(&h, v, label) == AIOS_OK);
        if (c[11] & 1 && next() % 4 == 0)
            require(aios_hnsw_delete(&h, label) == AIOS_OK);
    }
    return save(&h, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0] % 3, tight = data[0] & 0x80;
    const uint8_t *body = data + 1;
    size_t blen = size - 1, len;
    unsigned char *file;
    int edited = 1;

    rng = size;
    if (mode == 2) {
        size_t used;
        file = valid_file(body, blen, &len, &used);
        body += used;
        blen -= used;
        edited = blen >= 3;
        for (; blen >= 3; body += 3, blen -= 3) {
            size_t off = 44 + (size_t)(body[0] | body[1] << 8) % (len - 44);
            file[off] ^= body[2];
        }
        fix(file, len);
    } else {
        len = blen;
        file = malloc(len ? len : 1);
        require(file != NULL);
        memcpy(file, body, len);
        if (mode == 1)
            fix(file, len);
    }

    /* The arena: plenty, or one byte less than the header's parameters need. */
    struct aios_arena a;
    size_t arena_size = ARENA_SIZE;
    unsigned char *base = arena_mem;
    int short_arena = 0;
    if (tight && len >= AIOS_HNSW_HEADER_SIZE) {
        struct aios_hnsw_params p = {
            rd32(file + 52), rd32(file + 56), rd32(file + 60), rd32(file + 64),
            rd32(file + 68), 0,
        };
        memcpy(&p.seed, file + 72, 8);
        size_t need = p.max_elements <= 100000 ? aios_hnsw_bytes(&p) : 0;
        if (need > 0 && need < ARENA_SIZE - 64) {
            /* the worst alignment: 1 past a 64-byte boundary */
            base = (unsigned char *)(((uintptr_t)arena_mem + 63) & ~(uintptr_t)63) + 1;
            arena_size = need - 1;
            short_arena = 1;
        }
    }
    aios_arena_init(&a, base, arena_size);

    struct aios_hnsw h;
    char err[200] = "";
    int rc = aios_hnsw_load(&h, file, len, 0, &a, err, sizeof err);
    require(rc == AIOS_OK || rc == AIOS_EINVAL || rc == AIOS_ENOMEM);
    if (rc != AIOS_OK) {
        require(err[0] != 0);
        require(a.used == 0);
        require(mode != 2 || edited || short_arena);
    } else {
        require(!short_arena);
        exercise(&h, file, len);
    }
    free(file);
    return 0;
}
