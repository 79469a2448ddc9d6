/*
 * The HNSW index: construction (the paper's algorithms 1, 2 and 4), search, deletion
 * marks, and the saved format with its validating loader. See aios/hnsw.h for the
 * behaviour it promises.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aios/aios_math.h"
#include "aios/hnsw.h"
#include "aios/kernels.h"
#include "kprintf.h"
#include "sha256.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define HNSW_NEON 1
#endif

#define NONE UINT32_MAX

static const unsigned char magic[8] = { 'A', 'I', 'O', 'S', 'H', 'N', 'S', 'W' };
#define CHECKSUM_OFF 12u
#define BODY_OFF 44u   /* the checksum covers [BODY_OFF, end) */

/* A candidate: its distance to the current query and its slot. Ordered by distance,
 * then slot, so every comparison has one answer and ties never depend on heap layout. */
struct aios_hnsw_cand {
    float d;
    uint32_t id;
};

typedef struct aios_hnsw_cand cand_t;

static inline int cand_less(cand_t a, cand_t b)
{
    return a.d < b.d || (a.d == b.d && a.id < b.id);
}

/* ---------------------------------------------------------------- distances */

/* sum (a[i] - b[i])^2 in aios_dot_f32's order (kernels.h): 8 lane accumulators,
 * combined ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)), then the tail one by one; no FMA.
 * The NEON code keeps the same lanes in two registers, so both builds agree bit for
 * bit, and the plain C vectorises on x86-64 without reassociation. */
static float l2sq(const float *a, const float *b, size_t n)
{
    size_t i = 0;
    float sum;

#ifdef HNSW_NEON
    float32x4_t lo = vdupq_n_f32(0.0f), hi = vdupq_n_f32(0.0f);

    for (; i + 8 <= n; i += 8) {
        float32x4_t d0 = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
        float32x4_t d1 = vsubq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        lo = vaddq_f32(lo, vmulq_f32(d0, d0));
        hi = vaddq_f32(hi, vmulq_f32(d1, d1));
    }
    float32x4_t s4 = vaddq_f32(lo, hi);
    float32x2_t s2 = vadd_f32(vget_low_f32(s4), vget_high_f32(s4));
    sum = vget_lane_f32(s2, 0) + vget_lane_f32(s2, 1);
#else
    float acc[8] = { 0 };

    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            float d = a[i + j] - b[i + j];
            acc[j] += d * d;
        }
    float s0 = acc[0] + acc[4], s1 = acc[1] + acc[5];
    float s2 = acc[2] + acc[6], s3 = acc[3] + acc[7];
    sum = (s0 + s2) + (s1 + s3);
#endif
    for (; i < n; i++) {
        float d = a[i] - b[i];
        sum += d * d;
    }
    return sum;
}

/* NaN (inf - inf in a dot product of huge values) becomes +inf so that the ordering
 * stays total and such a node simply sorts last. */
static inline float distance(const struct aios_hnsw *h, const float *a, const float *b)
{
    float d = h->p.metric == AIOS_HNSW_L2 ? l2sq(a, b, h->p.dim)
                                          : 1.0f - aios_dot_f32(a, b, h->p.dim);
    return d == d ? d : __builtin_inff();
}

static inline const float *vec(const struct aios_hnsw *h, uint32_t s)
{
    return h->vectors + (size_t)s * h->p.dim;
}

/* Node s's list on level: [count, slot...]. Only valid for level <= levels[s]. */
static inline uint32_t *links(const struct aios_hnsw *h, uint32_t s, uint32_t level)
{
    if (level == 0)
        return h->links0 + (size_t)s * (1 + h->m0);
    return h->upper + h->upper_off[s] + (size_t)(level - 1) * (1 + h->p.m);
}

static inline uint32_t max_links(const struct aios_hnsw *h, uint32_t level)
{
    return level == 0 ? h->m0 : h->p.m;
}

static int finite_f32(float x)
{
    uint32_t u;

    memcpy(&u, &x, 4);
    return (u & 0x7f800000u) != 0x7f800000u;
}

static int finite_vec(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!finite_f32(v[i]))
            return 0;
    return 1;
}

/* dst = v / |v| for AIOS_HNSW_COSINE, else a copy. 0 when v cannot be normalised. */
static int store_vec(const struct aios_hnsw *h, float *dst, const float *v)
{
    size_t n = h->p.dim;

    if (h->p.metric != AIOS_HNSW_COSINE) {
        memcpy(dst, v, n * sizeof(float));
        return 1;
    }
    float norm2 = aios_dot_f32(v, v, n);
    if (!(norm2 > 0.0f) || !finite_f32(norm2))
        return 0;
    float inv = 1.0f / aios_sqrtf(norm2);
    for (size_t i = 0; i < n; i++)
        dst[i] = v[i] * inv;
    return 1;
}

/* ---------------------------------------------------------------- levels */

/* Output number slot of a SplitMix64 stream started at seed: a counter-based RNG, so a
 * slot's level needs no state and the arena can be sized for the exact levels. */
static uint64_t splitmix64(uint64_t seed, uint64_t index)
{
    uint64_t x = seed + (index + 1) * 0x9E3779B97F4A7C15ull;

    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* The paper's floor(-ln(U) * mL) with mL = 1 / ln M, i.e. P(level >= l) = M^-l, done
 * in integers (no libm): level = how many of 2^64 / M^l, l = 1, 2..., exceed r. */
static uint32_t slot_level(uint64_t seed, uint32_t slot, uint32_t m)
{
    uint64_t r = splitmix64(seed, slot), t = UINT64_MAX / m;
    uint32_t level = 0;

    while (level < AIOS_HNSW_MAX_LEVEL && r < t) {
        level++;
        t /= m;
    }
    return level;
}

/* ---------------------------------------------------------------- heaps */

/* Binary heaps of candidates: max != 0 keeps the furthest on top. */
static inline int before(cand_t a, cand_t b, int max)
{
    return max ? cand_less(b, a) : cand_less(a, b);
}

static void heap_up(cand_t *hp, size_t i, int max)
{
    cand_t x = hp[i];

    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(x, hp[parent], max))
            break;
        hp[i] = hp[parent];
        i = parent;
    }
    hp[i] = x;
}

static void heap_down(cand_t *hp, size_t n, size_t i, int max)
{
    cand_t x = hp[i];

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(hp[c + 1], hp[c], max))
            c++;
        if (!before(hp[c], x, max))
            break;
        hp[i] = hp[c];
        i = c;
    }
    hp[i] = x;
}

static inline void heap_push(cand_t *hp, size_t *n, cand_t x, int max)
{
    hp[*n] = x;
    heap_up(hp, (*n)++, max);
}

static inline void heap_pop(cand_t *hp, size_t *n, int max)
{
    hp[0] = hp[--*n];
    if (*n > 0)
        heap_down(hp, *n, 0, max);
}

static void heapify(cand_t *hp, size_t n, int max)
{
    for (size_t i = n / 2; i-- > 0;)
        heap_down(hp, n, i, max);
}

/* A max-heap of n candidates, sorted in place into ascending order (heapsort). */
static void heap_sort_max(cand_t *hp, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        cand_t t = hp[0];
        hp[0] = hp[i - 1];
        hp[i - 1] = t;
        heap_down(hp, i - 1, 0, 1);
    }
}

/* ---------------------------------------------------------------- search on one level */

struct layer_ws {
    uint64_t *visited;   /* a bit per slot */
    cand_t *cand;        /* C: min-heap of nodes to expand */
    size_t cand_cap;     /* 2 ef + m0 + 1 */
    cand_t *top;         /* W: max-heap of the ef nearest, ef + 1 entries */
};

static inline int test_and_mark(uint64_t *bits, uint32_t s)
{
    uint64_t bit = (uint64_t)1 << (s & 63);
    int was = (bits[s >> 6] & bit) != 0;

    bits[s >> 6] |= bit;
    return was;
}

/*
 * Push x on C. C only needs the candidates no worse than the furthest of a full W: the
 * others stop the search when they come up (W never shrinks), so when C is full they are
 * dropped. Every other member of C is also in W (both receive the same pushes), so
 * without a live-only filter at most ef remain and 2 ef + m0 + 1 entries always leave
 * room for one expansion. With the filter, deleted nodes enter C but not W; should they
 * fill C, the worst candidate gives way (the search stays correct, only less thorough).
 */
static void cand_push(struct layer_ws *w, size_t *nc, cand_t x, size_t nt, size_t ef)
{
    cand_t *c = w->cand;

    if (*nc == w->cand_cap) {
        if (nt == ef) {
            size_t k = 0;
            for (size_t i = 0; i < *nc; i++)
                if (!cand_less(w->top[0], c[i]))
                    c[k++] = c[i];
            *nc = k;
            heapify(c, k, 0);
        }
        if (*nc == w->cand_cap) {
            size_t worst = *nc / 2;   /* a min-heap's maximum is a leaf */
            for (size_t i = worst + 1; i < *nc; i++)
                if (cand_less(c[worst], c[i]))
                    worst = i;
            if (cand_less(x, c[worst])) {
                c[worst] = x;
                heap_up(c, worst, 0);
            }
            return;
        }
    }
    heap_push(c, nc, x, 0);
}

/*
 * Algorithm 2: the ef nearest to q reachable on level from the entry points eps[0..n_eps)
 * (distances to q filled in). live_only keeps deleted nodes out of W while still
 * expanding them (they route). Returns |W|; W is w->top as a max-heap.
 */
static size_t search_layer(const struct aios_hnsw *h, const float *q, const cand_t *eps,
                           size_t n_eps, size_t ef, uint32_t level, int live_only,
                           struct layer_ws *w)
{
    size_t nc = 0, nt = 0;

    /* Slot n is the node being inserted: covered, though nothing links to it yet. */
    memset(w->visited, 0, ((size_t)h->n + 64) / 64 * sizeof(uint64_t));
    for (size_t i = 0; i < n_eps; i++) {
        if (test_and_mark(w->visited, eps[i].id))
            continue;
        heap_push(w->cand, &nc, eps[i], 0);
        if (!live_only || !h->deleted[eps[i].id]) {
            heap_push(w->top, &nt, eps[i], 1);
            if (nt > ef)
                heap_pop(w->top, &nt, 1);
        }
    }
    while (nc > 0) {
        cand_t c = w->cand[0];
        /* W full and c further than all of it: nothing closer is left to find. (While W
         * is not full every candidate is in W, unless live_only skipped it.) */
        if (nt == ef && cand_less(w->top[0], c))
            break;
        heap_pop(w->cand, &nc, 0);
        const uint32_t *l = links(h, c.id, level);
        for (uint32_t j = 0; j < l[0]; j++) {
            uint32_t e = l[1 + j];
            if (test_and_mark(w->visited, e))
                continue;
            cand_t x = { distance(h, q, vec(h, e)), e };
            if (nt < ef || cand_less(x, w->top[0])) {
                cand_push(w, &nc, x, nt, ef);
                if (!live_only || !h->deleted[e]) {
                    heap_push(w->top, &nt, x, 1);
                    if (nt > ef)
                        heap_pop(w->top, &nt, 1);
                }
            }
        }
    }
    return nt;
}

/* The paper's search with ef = 1 from level `from` down to `to` + 1: move to the nearest
 * neighbour while it is nearer. Every move strictly lowers (distance, slot), so it ends. */
static cand_t greedy(const struct aios_hnsw *h, const float *q, cand_t cur, uint32_t from,
                     uint32_t to)
{
    for (uint32_t level = from; level > to; level--) {
        int moved = 1;
        while (moved) {
            moved = 0;
            const uint32_t *l = links(h, cur.id, level);
            for (uint32_t j = 0; j < l[0]; j++) {
                cand_t x = { distance(h, q, vec(h, l[1 + j])), l[1 + j] };
                if (cand_less(x, cur)) {
                    cur = x;
                    moved = 1;
                }
            }
        }
    }
    return cur;
}

/*
 * Algorithm 4 (no candidate extension, no refill from the discarded): walk cands (sorted
 * nearest first, d = distance to the base node) and keep each one nearer to the base than
 * to every one kept so far, up to max. Keeps links pointing in different directions,
 * which is what makes clustered data navigable.
 */
static size_t select_neighbours(const struct aios_hnsw *h, const cand_t *cands, size_t n,
                                size_t max, cand_t *out)
{
    size_t k = 0;

    for (size_t i = 0; i < n && k < max; i++) {
        const float *v = vec(h, cands[i].id);
        int keep = 1;
        for (size_t j = 0; j < k && keep; j++)
            if (distance(h, v, vec(h, out[j].id)) < cands[i].d)
                keep = 0;
        if (keep)
            out[k++] = cands[i];
    }
    return k;
}

/* Link s to sel[0..ns) on level and each of them back to s, pruning a list that would
 * overflow with the same heuristic (distances from its owner). */
static void connect(struct aios_hnsw *h, uint32_t s, const cand_t *sel, size_t ns,
                    uint32_t level)
{
    uint32_t *ls = links(h, s, level), mmax = max_links(h, level);

    ls[0] = (uint32_t)ns;
    for (size_t j = 0; j < ns; j++)
        ls[1 + j] = sel[j].id;
    for (size_t j = 0; j < ns; j++) {
        uint32_t e = sel[j].id, *le = links(h, e, level);
        if (le[0] < mmax) {
            le[1 + le[0]++] = s;
            continue;
        }
        const float *ve = vec(h, e);
        size_t n = 0;
        for (uint32_t i = 0; i < le[0]; i++)
            heap_push(h->list, &n, (cand_t){ distance(h, ve, vec(h, le[1 + i])), le[1 + i] }, 1);
        heap_push(h->list, &n, (cand_t){ distance(h, ve, vec(h, s)), s }, 1);
        heap_sort_max(h->list, n);
        size_t kept = select_neighbours(h, h->list, n, mmax, h->cand);
        le[0] = (uint32_t)kept;
        for (size_t i = 0; i < kept; i++)
            le[1 + i] = h->cand[i].id;
    }
}

/* ---------------------------------------------------------------- label map */

static inline uint32_t hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* The map position holding label's slot, or the empty position where it would go. */
static uint32_t map_pos(const struct aios_hnsw *h, uint32_t label)
{
    uint32_t i = hash32(label) & h->map_mask;

    while (h->map[i] != NONE && h->labels[h->map[i]] != label)
        i = (i + 1) & h->map_mask;
    return i;
}

static uint32_t map_find(const struct aios_hnsw *h, uint32_t label)
{
    return h->map[map_pos(h, label)];
}

/* Linear probing with backward-shift deletion: no tombstones, so lookups stay short
 * however many deletes there have been. */
static void map_remove(struct aios_hnsw *h, uint32_t label)
{
    uint32_t i = map_pos(h, label), j = i;

    if (h->map[i] == NONE)
        return;
    for (;;) {
        j = (j + 1) & h->map_mask;
        if (h->map[j] == NONE)
            break;
        uint32_t home = hash32(h->labels[h->map[j]]) & h->map_mask;
        /* the entry at j may move to i unless its home lies cyclically in (i, j] */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            h->map[i] = h->map[j];
            i = j;
        }
    }
    h->map[i] = NONE;
}

/* ---------------------------------------------------------------- sizing */

enum { A_VEC, A_LABEL, A_LEVEL, A_DEL, A_LINK0, A_UOFF, A_MAP, A_VISITED, A_CAND, A_TOP,
       A_EPS, A_SEL, A_LIST, A_UPPER, A_COUNT };

static uint32_t map_size(uint32_t max_elements)
{
    uint32_t size = 2;

    while (size < 2 * (uint64_t)max_elements)
        size *= 2;
    return size;
}

static uint32_t ef_c_of(const struct aios_hnsw_params *p)
{
    return p->ef_construction > p->m ? p->ef_construction : p->m;
}

/* Byte sizes of every arena block for p, given the upper-level link words. */
static void plan(const struct aios_hnsw_params *p, uint64_t upper_words, uint64_t sz[A_COUNT])
{
    uint64_t n = p->max_elements, m0 = 2 * (uint64_t)p->m, efc = ef_c_of(p);

    sz[A_VEC] = n * p->dim * 4;
    sz[A_LABEL] = n * 4;
    sz[A_LEVEL] = n;
    sz[A_DEL] = n;
    sz[A_LINK0] = n * (1 + m0) * 4;
    sz[A_UOFF] = n * 4;
    sz[A_MAP] = (uint64_t)map_size(p->max_elements) * 4;
    sz[A_VISITED] = (n + 64) / 64 * 8;
    sz[A_CAND] = (2 * efc + m0 + 1) * sizeof(cand_t);
    sz[A_TOP] = (efc + 1) * sizeof(cand_t);
    sz[A_EPS] = (efc + 1) * sizeof(cand_t);
    sz[A_SEL] = (m0 + 1) * sizeof(cand_t);
    sz[A_LIST] = (m0 + 1) * sizeof(cand_t);
    sz[A_UPPER] = upper_words * 4;
}

static inline uint64_t round64(uint64_t x) { return (x + 63) & ~(uint64_t)63; }

/* Every block is requested rounded to 64 bytes with 64-byte alignment, so only the first
 * may need padding. */
static uint64_t plan_total(const uint64_t sz[A_COUNT], int with_upper)
{
    uint64_t total = 63;

    for (int i = 0; i < A_COUNT; i++)
        if (i != A_UPPER || with_upper)
            total += round64(sz[i]);
    return total;
}

static int check_params(const struct aios_hnsw_params *p, char *err, size_t errlen)
{
    if (p->dim < 1 || p->dim > AIOS_HNSW_MAX_DIM)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: dim %u out of range 1..%u", p->dim,
                     AIOS_HNSW_MAX_DIM);
    if (p->metric > AIOS_HNSW_IP)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: unknown metric %u", p->metric);
    if (p->m < AIOS_HNSW_MIN_M || p->m > AIOS_HNSW_MAX_M)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: M %u out of range %u..%u", p->m,
                     AIOS_HNSW_MIN_M, AIOS_HNSW_MAX_M);
    if (p->ef_construction < 1 || p->ef_construction > AIOS_HNSW_MAX_EF)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: ef_construction %u out of range 1..%u",
                     p->ef_construction, AIOS_HNSW_MAX_EF);
    if (p->max_elements < 1 || p->max_elements > AIOS_HNSW_MAX_ELEMENTS)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: max_elements %u out of range 1..%u",
                     p->max_elements, AIOS_HNSW_MAX_ELEMENTS);
    return AIOS_OK;
}

size_t aios_hnsw_bytes(const struct aios_hnsw_params *p)
{
    uint64_t sz[A_COUNT], words = 0, total;

    if (p == NULL || check_params(p, NULL, 0) != AIOS_OK)
        return 0;
    for (uint32_t s = 0; s < p->max_elements; s++)
        words += (uint64_t)slot_level(p->seed, s, p->m) * (1 + p->m);
    if (words > UINT32_MAX)
        return 0;
    plan(p, words, sz);
    total = plan_total(sz, 1);
    return total > SIZE_MAX ? 0 : (size_t)total;
}

int aios_hnsw_init(struct aios_hnsw *h, const struct aios_hnsw_params *p,
                   struct aios_arena *a, char *err, size_t errlen)
{
    uint64_t sz[A_COUNT], words = 0, need;
    void *blk[A_COUNT];
    size_t mark, avail;
    int rc;

    if (h == NULL || p == NULL || a == NULL)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: NULL argument to init");
    memset(h, 0, sizeof *h);
    rc = check_params(p, err, errlen);
    if (rc != AIOS_OK)
        return rc;

    /* Everything but the upper-level links first: a cheap bound that turns away absurd
     * sizes (a hostile file's max_elements) before a hash per slot is spent on them. */
    plan(p, 0, sz);
    need = plan_total(sz, 0);
    avail = a->used <= a->size ? a->size - a->used : 0;
    if (need > avail)
        return kfail(err, errlen, AIOS_ENOMEM,
                     "hnsw: arena too small: %zu bytes free, at least %llu needed", avail,
                     (unsigned long long)need);
    mark = aios_arena_mark(a);
    for (int i = 0; i < A_UPPER; i++) {
        blk[i] = aios_arena_alloc(a, (size_t)round64(sz[i]), 64);
        if (blk[i] == NULL) {
            aios_arena_reset(a, mark);
            return kfail(err, errlen, AIOS_ENOMEM, "hnsw: arena too small");
        }
    }
    h->levels = blk[A_LEVEL];
    h->upper_off = blk[A_UOFF];
    for (uint32_t s = 0; s < p->max_elements; s++) {
        h->levels[s] = (uint8_t)slot_level(p->seed, s, p->m);
        h->upper_off[s] = (uint32_t)words;
        words += (uint64_t)h->levels[s] * (1 + p->m);
        if (words > UINT32_MAX) {
            aios_arena_reset(a, mark);
            return kfail(err, errlen, AIOS_ENOMEM, "hnsw: index too large");
        }
    }
    sz[A_UPPER] = words * 4;
    blk[A_UPPER] = aios_arena_alloc(a, (size_t)round64(sz[A_UPPER]), 64);
    if (blk[A_UPPER] == NULL) {
        aios_arena_reset(a, mark);
        return kfail(err, errlen, AIOS_ENOMEM,
                     "hnsw: arena too small: %llu bytes needed (aios_hnsw_bytes)",
                     (unsigned long long)plan_total(sz, 1));
    }

    h->p = *p;
    h->m0 = 2 * p->m;
    h->entry = NONE;
    h->vectors = blk[A_VEC];
    h->labels = blk[A_LABEL];
    h->deleted = blk[A_DEL];
    h->links0 = blk[A_LINK0];
    h->upper = blk[A_UPPER];
    h->map = blk[A_MAP];
    h->map_mask = map_size(p->max_elements) - 1;
    memset(h->map, 0xff, (size_t)h->map_mask * 4 + 4);
    h->visited = blk[A_VISITED];
    h->cand = blk[A_CAND];
    h->top = blk[A_TOP];
    h->eps = blk[A_EPS];
    h->sel = blk[A_SEL];
    h->list = blk[A_LIST];
    h->ef_c = ef_c_of(p);
    return AIOS_OK;
}

/* ---------------------------------------------------------------- insert, delete */

int aios_hnsw_insert(struct aios_hnsw *h, const float *v, uint32_t label)
{
    if (h == NULL || h->vectors == NULL || v == NULL)
        return AIOS_EINVAL;
    if (map_find(h, label) != NONE || !finite_vec(v, h->p.dim))
        return AIOS_EINVAL;
    if (h->n >= h->p.max_elements)
        return AIOS_ERANGE;

    uint32_t s = h->n, level = h->levels[s];
    float *q = h->vectors + (size_t)s * h->p.dim;

    if (!store_vec(h, q, v))
        return AIOS_EINVAL;
    for (uint32_t l = 0; l <= level; l++)
        links(h, s, l)[0] = 0;

    if (h->entry != NONE) {
        struct layer_ws w = { h->visited, h->cand, 2 * (size_t)h->ef_c + h->m0 + 1, h->top };
        cand_t cur = { distance(h, q, vec(h, h->entry)), h->entry };
        size_t ne = 1;

        if (h->max_level > level)
            cur = greedy(h, q, cur, h->max_level, level);
        h->eps[0] = cur;
        for (uint32_t l = level < h->max_level ? level : h->max_level;; l--) {
            size_t nt = search_layer(h, q, h->eps, ne, h->ef_c, l, 0, &w);
            heap_sort_max(h->top, nt);
            memcpy(h->eps, h->top, nt * sizeof(cand_t));
            ne = nt;
            size_t ns = select_neighbours(h, h->eps, ne, h->p.m, h->sel);
            connect(h, s, h->sel, ns, l);
            if (l == 0)
                break;
        }
    }
    if (h->entry == NONE || level > h->max_level) {
        h->entry = s;
        h->max_level = level;
    }
    h->labels[s] = label;
    h->deleted[s] = 0;
    h->n++;
    h->map[map_pos(h, label)] = s;
    return AIOS_OK;
}

int aios_hnsw_delete(struct aios_hnsw *h, uint32_t label)
{
    if (h == NULL || h->vectors == NULL)
        return AIOS_EINVAL;
    uint32_t s = map_find(h, label);
    if (s == NONE)
        return AIOS_EINVAL;
    map_remove(h, label);
    h->deleted[s] = 1;
    h->n_deleted++;
    return AIOS_OK;
}

int aios_hnsw_contains(const struct aios_hnsw *h, uint32_t label)
{
    return h != NULL && h->vectors != NULL && map_find(h, label) != NONE;
}

size_t aios_hnsw_count(const struct aios_hnsw *h)
{
    return h == NULL || h->vectors == NULL ? 0 : (size_t)(h->n - h->n_deleted);
}

int aios_hnsw_rebuild(struct aios_hnsw *dst, const struct aios_hnsw *src)
{
    if (dst == NULL || src == NULL || dst->vectors == NULL || src->vectors == NULL ||
        dst->p.dim != src->p.dim || dst->p.metric != src->p.metric)
        return AIOS_EINVAL;
    for (uint32_t s = 0; s < src->n; s++) {
        if (src->deleted[s])
            continue;
        int rc = aios_hnsw_insert(dst, vec(src, s), src->labels[s]);
        if (rc != AIOS_OK)
            return rc;
    }
    return AIOS_OK;
}

/* ---------------------------------------------------------------- search */

/* W's size: at least k, never more than there are nodes. */
static size_t clamp_ef(size_t k, size_t ef, size_t n)
{
    if (ef < k)
        ef = k;
    if (ef > n)
        ef = n;
    return ef < 1 ? 1 : ef;
}

struct search_plan {
    size_t ef, words, cand_cap;
};

static uint64_t search_plan(const struct aios_hnsw *h, size_t k, size_t ef_search,
                            size_t n, struct search_plan *sp)
{
    sp->ef = clamp_ef(k, ef_search, n);
    sp->words = (n + 64) / 64;
    sp->cand_cap = 2 * sp->ef + h->m0 + 1;
    return 63 + round64((uint64_t)h->p.dim * 4) + round64((uint64_t)sp->words * 8) +
           round64((uint64_t)sp->cand_cap * sizeof(cand_t)) +
           round64(((uint64_t)sp->ef + 1) * sizeof(cand_t));
}

size_t aios_hnsw_search_bytes(const struct aios_hnsw *h, size_t k, size_t ef_search)
{
    struct search_plan sp;

    if (h == NULL || h->vectors == NULL)
        return 0;
    uint64_t total = search_plan(h, k, ef_search, h->p.max_elements, &sp);
    return total > SIZE_MAX ? SIZE_MAX : (size_t)total;
}

int aios_hnsw_search(const struct aios_hnsw *h, const float *q, size_t k,
                     size_t ef_search, uint32_t *labels, float *dists, size_t *found,
                     struct aios_arena *scratch)
{
    struct search_plan sp;
    struct layer_ws w;

    if (found != NULL)
        *found = 0;
    if (h == NULL || h->vectors == NULL || q == NULL || found == NULL || scratch == NULL ||
        (k > 0 && labels == NULL))
        return AIOS_EINVAL;
    if (!finite_vec(q, h->p.dim))
        return AIOS_EINVAL;

    size_t mark = aios_arena_mark(scratch);
    search_plan(h, k, ef_search, h->n, &sp);
    float *qv = aios_arena_alloc(scratch, (size_t)h->p.dim * 4, 64);
    w.visited = aios_arena_alloc(scratch, sp.words * 8, 64);
    w.cand = aios_arena_alloc(scratch, sp.cand_cap * sizeof(cand_t), 64);
    w.cand_cap = sp.cand_cap;
    w.top = aios_arena_alloc(scratch, (sp.ef + 1) * sizeof(cand_t), 64);
    if (qv == NULL || w.visited == NULL || w.cand == NULL || w.top == NULL) {
        aios_arena_reset(scratch, mark);
        return AIOS_ENOMEM;
    }
    if (!store_vec(h, qv, q)) {
        aios_arena_reset(scratch, mark);
        return AIOS_EINVAL;
    }
    if (k == 0 || h->entry == NONE || h->n == h->n_deleted) {
        aios_arena_reset(scratch, mark);
        return AIOS_OK;
    }

    cand_t cur = { distance(h, qv, vec(h, h->entry)), h->entry };
    if (h->max_level > 0)
        cur = greedy(h, qv, cur, h->max_level, 0);
    size_t nt = search_layer(h, qv, &cur, 1, sp.ef, 0, 1, &w);
    heap_sort_max(w.top, nt);
    size_t out = nt < k ? nt : k;
    for (size_t i = 0; i < out; i++) {
        labels[i] = h->labels[w.top[i].id];
        if (dists != NULL)
            dists[i] = w.top[i].d;
    }
    *found = out;
    aios_arena_reset(scratch, mark);
    return AIOS_OK;
}

/* ---------------------------------------------------------------- save */

/* Little-endian whatever the host, byte by byte: buffers may sit at any address and the
 * target may run with strict alignment checking. */
static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void put_u64(unsigned char *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static uint64_t link_words(const struct aios_hnsw *h)
{
    uint64_t words = 0;

    for (uint32_t s = 0; s < h->n; s++)
        for (uint32_t l = 0; l <= h->levels[s]; l++)
            words += 1 + links(h, s, l)[0];
    return words;
}

/* Offsets of the sections after the header, for count nodes of dim values. */
static uint64_t vectors_off(uint64_t count)
{
    return (AIOS_HNSW_HEADER_SIZE + 6 * count + 3) & ~(uint64_t)3;
}

static uint64_t file_size(uint64_t count, uint64_t dim, uint64_t words)
{
    return vectors_off(count) + count * dim * 4 + words * 4;
}

size_t aios_hnsw_save_size(const struct aios_hnsw *h)
{
    if (h == NULL || h->vectors == NULL)
        return 0;
    uint64_t size = file_size(h->n, h->p.dim, link_words(h));
    return size > SIZE_MAX ? SIZE_MAX : (size_t)size;
}

int aios_hnsw_save(const struct aios_hnsw *h, void *buf, size_t cap, size_t *len)
{
    if (h == NULL || h->vectors == NULL || len == NULL)
        return AIOS_EINVAL;
    uint64_t words = link_words(h), size = file_size(h->n, h->p.dim, words);
    if (size > SIZE_MAX) {
        *len = SIZE_MAX;
        return AIOS_ERANGE;
    }
    *len = (size_t)size;
    if (buf == NULL || cap < size)
        return buf == NULL && cap > 0 ? AIOS_EINVAL : AIOS_ERANGE;

    unsigned char *b = buf, *p;
    memset(b, 0, AIOS_HNSW_HEADER_SIZE);
    memcpy(b, magic, sizeof magic);
    put_u32(b + 8, AIOS_HNSW_FILE_VERSION);
    put_u64(b + 44, size);
    put_u32(b + 52, h->p.dim);
    put_u32(b + 56, h->p.metric);
    put_u32(b + 60, h->p.m);
    put_u32(b + 64, h->p.ef_construction);
    put_u32(b + 68, h->p.max_elements);
    put_u64(b + 72, h->p.seed);
    put_u32(b + 80, h->n);
    put_u32(b + 84, h->n_deleted);
    put_u32(b + 88, h->entry);
    put_u32(b + 92, h->max_level);
    put_u32(b + 96, (uint32_t)words);

    p = b + AIOS_HNSW_HEADER_SIZE;
    for (uint32_t s = 0; s < h->n; s++, p += 4)
        put_u32(p, h->labels[s]);
    for (uint32_t s = 0; s < h->n; s++)
        *p++ = h->levels[s];
    for (uint32_t s = 0; s < h->n; s++)
        *p++ = h->deleted[s];
    while ((size_t)(p - b) < vectors_off(h->n))
        *p++ = 0;
    for (size_t i = 0; i < (size_t)h->n * h->p.dim; i++, p += 4) {
        uint32_t u;
        memcpy(&u, &h->vectors[i], 4);
        put_u32(p, u);
    }
    for (uint32_t s = 0; s < h->n; s++)
        for (uint32_t l = 0; l <= h->levels[s]; l++) {
            const uint32_t *ls = links(h, s, l);
            for (uint32_t j = 0; j <= ls[0]; j++, p += 4)
                put_u32(p, ls[j]);
        }
    sha256(b + BODY_OFF, (size_t)size - BODY_OFF, b + CHECKSUM_OFF);
    return AIOS_OK;
}

/* ---------------------------------------------------------------- load */

/* The header fields, read before anything is allocated. */
struct file_header {
    struct aios_hnsw_params p;
    uint32_t count, deleted, entry, max_level, words;
};

static int check_header(const unsigned char *b, size_t len, uint32_t expect_dim,
                        struct file_header *fh, char *err, size_t errlen)
{
    uint8_t digest[SHA256_DIGEST_SIZE];
    int rc;

    if (len < AIOS_HNSW_HEADER_SIZE)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: truncated header (%zu of %u bytes)",
                     len, AIOS_HNSW_HEADER_SIZE);
    if (memcmp(b, magic, sizeof magic) != 0)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: bad magic (not an HNSW index)");
    if (get_u32(b + 8) != AIOS_HNSW_FILE_VERSION)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: unsupported version %u (this build reads %u)",
                     get_u32(b + 8), AIOS_HNSW_FILE_VERSION);
    uint64_t size = get_u64(b + 44);
    if (size != len)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: %s: %zu bytes, the header says %llu",
                     len < size ? "truncated" : "size mismatch", len,
                     (unsigned long long)size);
    sha256(b + BODY_OFF, len - BODY_OFF, digest);
    if (memcmp(digest, b + CHECKSUM_OFF, SHA256_DIGEST_SIZE) != 0)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: checksum mismatch (file damaged)");

    /* From here on the bytes are what some writer meant; still not trusted. */
    fh->p.dim = get_u32(b + 52);
    fh->p.metric = get_u32(b + 56);
    fh->p.m = get_u32(b + 60);
    fh->p.ef_construction = get_u32(b + 64);
    fh->p.max_elements = get_u32(b + 68);
    fh->p.seed = get_u64(b + 72);
    fh->count = get_u32(b + 80);
    fh->deleted = get_u32(b + 84);
    fh->entry = get_u32(b + 88);
    fh->max_level = get_u32(b + 92);
    fh->words = get_u32(b + 96);
    for (uint32_t i = 100; i < AIOS_HNSW_HEADER_SIZE; i++)
        if (b[i] != 0)
            return kfail(err, errlen, AIOS_EINVAL, "hnsw: non-zero reserved header byte %u", i);
    rc = check_params(&fh->p, err, errlen);
    if (rc != AIOS_OK)
        return rc;
    if (expect_dim != 0 && fh->p.dim != expect_dim)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: dim mismatch: the file has %u, expected %u",
                     fh->p.dim, expect_dim);
    if (fh->count > fh->p.max_elements)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: %u nodes, more than max_elements %u",
                     fh->count, fh->p.max_elements);
    if (fh->deleted > fh->count)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: %u deleted of %u nodes", fh->deleted,
                     fh->count);
    if (fh->max_level > AIOS_HNSW_MAX_LEVEL)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: max level %u above the limit %u",
                     fh->max_level, AIOS_HNSW_MAX_LEVEL);
    if (fh->count == 0 ? fh->entry != NONE || fh->max_level != 0 : fh->entry >= fh->count)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: entry point %u out of range (%u nodes)",
                     fh->entry, fh->count);
    uint64_t want = file_size(fh->count, fh->p.dim, fh->words);
    if (want != len)
        return kfail(err, errlen, AIOS_EINVAL,
                     "hnsw: %u nodes of dim %u and %u link words need %llu bytes, the file has %zu",
                     fh->count, fh->p.dim, fh->words, (unsigned long long)want, len);
    return AIOS_OK;
}

/* The body, into an index initialised for fh->p. */
static int load_body(struct aios_hnsw *h, const unsigned char *b, const struct file_header *fh,
                     char *err, size_t errlen)
{
    uint32_t count = fh->count, deleted = 0, top = 0;
    const unsigned char *p = b + AIOS_HNSW_HEADER_SIZE;

    for (uint32_t s = 0; s < count; s++, p += 4)
        h->labels[s] = get_u32(p);
    for (uint32_t s = 0; s < count; s++, p++) {
        if (*p > AIOS_HNSW_MAX_LEVEL)
            return kfail(err, errlen, AIOS_EINVAL, "hnsw: node %u: level %u above the limit %u",
                         s, *p, AIOS_HNSW_MAX_LEVEL);
        if (*p != h->levels[s])
            return kfail(err, errlen, AIOS_EINVAL, "hnsw: node %u: level %u, the seed gives %u",
                         s, *p, h->levels[s]);
        if (*p > top)
            top = *p;
    }
    for (uint32_t s = 0; s < count; s++, p++) {
        if (*p > 1)
            return kfail(err, errlen, AIOS_EINVAL, "hnsw: node %u: bad flags 0x%x", s, *p);
        h->deleted[s] = *p;
        deleted += *p;
    }
    for (; p < b + vectors_off(count); p++)
        if (*p != 0)
            return kfail(err, errlen, AIOS_EINVAL, "hnsw: non-zero padding");
    if (deleted != fh->deleted)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: %u nodes flagged deleted, the header says %u",
                     deleted, fh->deleted);
    if (count > 0 && (top != fh->max_level || h->levels[fh->entry] != top))
        return kfail(err, errlen, AIOS_EINVAL,
                     "hnsw: entry point %u (level %u) is not on the top level %u (header: %u)",
                     fh->entry, h->levels[fh->entry], top, fh->max_level);

    size_t values = (size_t)count * fh->p.dim;
    for (size_t i = 0; i < values; i++, p += 4) {
        uint32_t u = get_u32(p);
        if ((u & 0x7f800000u) == 0x7f800000u)
            return kfail(err, errlen, AIOS_EINVAL, "hnsw: node %zu: NaN or infinite value",
                         i / fh->p.dim);
        memcpy(&h->vectors[i], &u, 4);
    }

    /* p now walks the link section, whose length check_header matched to the file. */
    const unsigned char *end = p + (size_t)fh->words * 4;
    for (uint32_t s = 0; s < count; s++)
        for (uint32_t l = 0; l <= h->levels[s]; l++) {
            if (end - p < 4)
                return kfail(err, errlen, AIOS_EINVAL, "hnsw: link section ends at node %u", s);
            uint32_t n = get_u32(p), *ls = links(h, s, l);
            p += 4;
            if (n > max_links(h, l))
                return kfail(err, errlen, AIOS_EINVAL,
                             "hnsw: node %u level %u: %u neighbours, at most %u allowed", s, l,
                             n, max_links(h, l));
            if ((size_t)(end - p) / 4 < n)
                return kfail(err, errlen, AIOS_EINVAL, "hnsw: link section ends at node %u", s);
            ls[0] = n;
            for (uint32_t j = 0; j < n; j++, p += 4) {
                uint32_t e = get_u32(p);
                if (e >= count)
                    return kfail(err, errlen, AIOS_EINVAL,
                                 "hnsw: node %u level %u: neighbour id %u out of range (%u nodes)",
                                 s, l, e, count);
                if (e == s)
                    return kfail(err, errlen, AIOS_EINVAL,
                                 "hnsw: node %u level %u links to itself", s, l);
                if (h->levels[e] < l)
                    return kfail(err, errlen, AIOS_EINVAL,
                                 "hnsw: node %u level %u: neighbour %u has no level %u", s, l,
                                 e, l);
                ls[1 + j] = e;
            }
            /* duplicates: mark each neighbour, then clear the marks again */
            int dup = 0;
            for (uint32_t j = 0; j < n; j++)
                dup |= test_and_mark(h->visited, ls[1 + j]);
            for (uint32_t j = 0; j < n; j++)
                h->visited[ls[1 + j] >> 6] = 0;
            if (dup)
                return kfail(err, errlen, AIOS_EINVAL,
                             "hnsw: node %u level %u names a neighbour twice", s, l);
        }
    if (p != end)
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: %zu bytes of links left over",
                     (size_t)(end - p));

    for (uint32_t s = 0; s < count; s++) {
        if (h->deleted[s])
            continue;
        uint32_t pos = map_pos(h, h->labels[s]);
        if (h->map[pos] != NONE)
            return kfail(err, errlen, AIOS_EINVAL, "hnsw: label %u on live nodes %u and %u",
                         h->labels[s], h->map[pos], s);
        h->map[pos] = s;
    }
    h->n = count;
    h->n_deleted = deleted;
    h->entry = fh->entry;
    h->max_level = fh->max_level;
    return AIOS_OK;
}

int aios_hnsw_load(struct aios_hnsw *h, const void *buf, size_t len, uint32_t expect_dim,
                   struct aios_arena *a, char *err, size_t errlen)
{
    struct file_header fh;
    int rc;

    if (h == NULL || a == NULL || (buf == NULL && len > 0))
        return kfail(err, errlen, AIOS_EINVAL, "hnsw: NULL argument to load");
    memset(h, 0, sizeof *h);
    rc = check_header(buf, len, expect_dim, &fh, err, errlen);
    if (rc != AIOS_OK)
        return rc;
    size_t mark = aios_arena_mark(a);
    rc = aios_hnsw_init(h, &fh.p, a, err, errlen);
    if (rc != AIOS_OK)
        return rc;
    rc = load_body(h, buf, &fh, err, errlen);
    if (rc != AIOS_OK) {
        aios_arena_reset(a, mark);
        memset(h, 0, sizeof *h);
    }
    return rc;
}
