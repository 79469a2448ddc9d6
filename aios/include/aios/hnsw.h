/*
 * libaios HNSW: an approximate nearest-neighbour index over fp32 vectors (Malkov &
 * Yashunin, "Efficient and robust approximate nearest neighbor search using Hierarchical
 * Navigable Small World graphs"), for the intent examples and the semantic memory of
 * the AI partition.
 *
 * The index owns copies of the vectors and the graph, all in one arena block sized up
 * front for max_elements (aios_hnsw_bytes); nothing grows afterwards. A caller's id
 * ("label", any uint32) names each vector; the index numbers its nodes 0, 1, 2... in
 * insertion order ("slots").
 *
 * Construction is the paper's: each node gets a level l with P(l >= i) = M^-i
 * (mL = 1 / ln M), capped at AIOS_HNSW_MAX_LEVEL; insertion descends greedily from the
 * entry point to the node's level, then on each level down to 0 searches with
 * ef_construction candidates (algorithm 2) and links to M of them chosen by the
 * heuristic of algorithm 4 (a candidate is kept only if it is closer to the new node
 * than to every neighbour kept so far; no extension, no refill from the discarded).
 * Levels >= 1 hold at most M links per node, level 0 at most 2M; a neighbour whose list
 * overflows is pruned with the same heuristic.
 *
 * Determinism: the level of slot s is a hash of (seed, s), so it does not depend on
 * anything else; distances add in a fixed order (8 lane accumulators, as aios_dot_f32;
 * see kernels.h) with no fused multiply-add; ties between equal distances go to the
 * lower slot. The same inserts and deletes in the same order with the same seed give
 * the same graph, the same search results and a byte-identical saved file, on the host
 * and on AArch64 alike.
 *
 * Distances: AIOS_HNSW_L2 is the squared Euclidean distance; AIOS_HNSW_COSINE
 * normalises every inserted vector (the stored copy) and every query to unit length and
 * uses 1 - dot; AIOS_HNSW_IP uses 1 - dot on the vectors as given (for vectors the
 * caller already normalised). A NaN distance (from infinite products) counts as +inf.
 * Vectors with a NaN or infinite component are refused, and so is a zero vector under
 * AIOS_HNSW_COSINE.
 *
 * Deletion only marks: a deleted element is never returned by a search and its label
 * may be inserted again (as a new node), but its node stays in the graph and keeps
 * routing searches, and its slot is not reused. Once max_elements nodes have been
 * inserted (deleted ones included) insert returns AIOS_ERANGE; aios_hnsw_rebuild
 * copies the live elements into a fresh index.
 *
 * Threads: search only reads the index (its working memory comes from the caller's
 * scratch arena), so several threads may search at once; insert, delete and load need
 * the index to themselves (insert works in buffers inside the index).
 *
 * Saved format (aios_hnsw_save; little-endian, no alignment needed):
 *     0   8   magic "AIOSHNSW"
 *     8   u32 version (1)
 *     12  32  SHA-256 of bytes [44, file size)
 *     44  u64 file size
 *     52  u32 dim, u32 metric, u32 M, u32 ef_construction, u32 max_elements, u64 seed
 *     80  u32 count (nodes), u32 deleted, u32 entry (0xffffffff when empty),
 *         u32 max_level, u32 link_words (size of the link section in u32s)
 *     100 zeros up to 128
 *     128 count x u32 label, count x u8 level, count x u8 flags (0 live, 1 deleted),
 *         zeros to a multiple of 4, count x dim x f32 vector,
 *         then per node, for each level 0..its level: u32 n, n x u32 neighbour slot.
 * aios_hnsw_load checks everything before trusting it and refuses with AIOS_EINVAL and
 * a one-line reason: a short or oversized buffer, bad magic, another version, a
 * checksum mismatch, parameters out of range, a dim other than the caller expects,
 * counts beyond max_elements, a level other than the seed gives or above the cap, a
 * bad entry point, flags other than 0/1, non-finite vector values, a neighbour list
 * longer than allowed or naming a slot out of range, itself, a node without that level
 * or the same slot twice, a link section of the wrong length, two live nodes with one
 * label, non-zero padding.
 */
#ifndef AIOS_HNSW_H
#define AIOS_HNSW_H

#include <stddef.h>
#include <stdint.h>

#include "aios/common.h"

enum aios_hnsw_metric {
    AIOS_HNSW_L2 = 0,       /* squared Euclidean distance */
    AIOS_HNSW_COSINE = 1,   /* 1 - cos: vectors and queries normalised by the index */
    AIOS_HNSW_IP = 2,       /* 1 - dot on vectors as given (meant for unit vectors) */
};

/* Limits init and load enforce. */
#define AIOS_HNSW_MAX_DIM 65536u
#define AIOS_HNSW_MIN_M 2u
#define AIOS_HNSW_MAX_M 256u
#define AIOS_HNSW_MAX_EF 65536u
#define AIOS_HNSW_MAX_ELEMENTS (1u << 28)
#define AIOS_HNSW_MAX_LEVEL 16u

#define AIOS_HNSW_FILE_VERSION 1u
#define AIOS_HNSW_HEADER_SIZE 128u

struct aios_hnsw_params {
    uint32_t dim;               /* 1..AIOS_HNSW_MAX_DIM */
    uint32_t metric;            /* enum aios_hnsw_metric */
    uint32_t m;                 /* links per node: M on levels >= 1, 2M on level 0;
                                   2..256 (the paper suggests 5..48; 16 is a good start) */
    uint32_t ef_construction;   /* candidates per level while inserting, 1..65536; values
                                   below m act as m */
    uint32_t max_elements;      /* nodes the arena is sized for, 1..2^28 */
    uint64_t seed;              /* decides every node's level */
};

struct aios_hnsw_cand;   /* private to hnsw.c: a (distance, slot) pair */

/* Filled by aios_hnsw_init or aios_hnsw_load; the fields are the library's (read p, n
 * and n_deleted if useful, change nothing). */
struct aios_hnsw {
    struct aios_hnsw_params p;
    uint32_t m0;             /* level-0 list length: 2M */
    uint32_t n;              /* nodes inserted, deleted ones included */
    uint32_t n_deleted;
    uint32_t entry;          /* the entry point's slot; UINT32_MAX when empty */
    uint32_t max_level;      /* the entry point's level */
    float *vectors;          /* [max_elements][dim] */
    uint32_t *labels;        /* [max_elements] */
    uint8_t *levels;         /* [max_elements], from the seed, fixed at init */
    uint8_t *deleted;        /* [max_elements], 0 or 1 */
    uint32_t *links0;        /* [max_elements][1 + m0]: count, then slots */
    uint32_t *upper;         /* levels >= 1: per node, level times [1 + m] */
    uint32_t *upper_off;     /* [max_elements]: where a node's block starts in upper */
    uint32_t *map;           /* label -> slot of the live nodes, open addressing */
    uint32_t map_mask;       /* map size - 1 (a power of two) */
    /* insert's working memory */
    uint64_t *visited;
    struct aios_hnsw_cand *cand, *top, *eps, *sel, *list;
    uint32_t ef_c;           /* max(ef_construction, m) */
};

/*
 * Arena bytes aios_hnsw_init (and aios_hnsw_load of an index with these parameters)
 * takes, alignment included; 0 when the parameters are out of range or the size does
 * not fit size_t. It sums the seed's levels over all max_elements slots, so it costs
 * one hash per slot. Roughly max_elements * (4 dim + 8 M + 30) bytes plus a little.
 */
size_t aios_hnsw_bytes(const struct aios_hnsw_params *p);

/*
 * An empty index for p, all memory from a. Returns AIOS_OK, AIOS_EINVAL for parameters
 * out of range (reason in err), AIOS_ENOMEM when the arena is too small (the arena is
 * then left as it was).
 */
int aios_hnsw_init(struct aios_hnsw *h, const struct aios_hnsw_params *p,
                   struct aios_arena *a, char *err, size_t errlen);

/*
 * Insert a copy of v (dim floats) under label. Returns AIOS_OK; AIOS_EINVAL for a label
 * that a live element already has, a NaN or infinite component, a zero vector under
 * AIOS_HNSW_COSINE, or a NULL argument; AIOS_ERANGE when max_elements nodes exist
 * already. A refused insert changes nothing.
 */
int aios_hnsw_insert(struct aios_hnsw *h, const float *v, uint32_t label);

/* Mark the live element label deleted (see above). AIOS_OK, or AIOS_EINVAL when no live
 * element has that label. */
int aios_hnsw_delete(struct aios_hnsw *h, uint32_t label);

/* Whether a live element has label. */
int aios_hnsw_contains(const struct aios_hnsw *h, uint32_t label);

/* Live elements (inserted and not deleted). */
size_t aios_hnsw_count(const struct aios_hnsw *h);

/* Scratch bytes aios_hnsw_search(h, ..., k, ef_search, ...) takes at most, whatever the
 * index holds: a bit per possible node, the two candidate heaps, a copy of the query. */
size_t aios_hnsw_search_bytes(const struct aios_hnsw *h, size_t k, size_t ef_search);

/*
 * The k live elements nearest q (dim floats), nearest first (ties: earlier inserted
 * first): labels[i] and, when dists is not NULL, dists[i] (in the metric's units), for
 * i < *found. *found is k unless fewer live elements are reachable, e.g. when the index
 * holds fewer than k. ef_search is the candidate list size (the paper's ef; values below
 * k act as k): larger is slower and finds more of the true neighbours. Working memory
 * comes from scratch and is released before returning. Returns AIOS_OK; AIOS_EINVAL for
 * a NULL argument, an uninitialised index or a query with a NaN or infinite component
 * (or zero under AIOS_HNSW_COSINE); AIOS_ENOMEM when scratch is too small.
 */
int aios_hnsw_search(const struct aios_hnsw *h, const float *q, size_t k,
                     size_t ef_search, uint32_t *labels, float *dists, size_t *found,
                     struct aios_arena *scratch);

/* Copy src's live elements, in insertion order, into dst (initialised, with the same dim
 * and metric; usually empty and with the parameters wanted from now on). Returns what the
 * first failing aios_hnsw_insert returned, or AIOS_OK. */
int aios_hnsw_rebuild(struct aios_hnsw *dst, const struct aios_hnsw *src);

/* Bytes aios_hnsw_save writes for h as it is now. */
size_t aios_hnsw_save_size(const struct aios_hnsw *h);

/*
 * Write h into buf[0..cap) in the format above; *len = the size. Returns AIOS_OK,
 * AIOS_ERANGE when cap is too small (nothing written; *len says how much is needed),
 * AIOS_EINVAL for a NULL argument.
 */
int aios_hnsw_save(const struct aios_hnsw *h, void *buf, size_t cap, size_t *len);

/*
 * Rebuild an index from a saved image of len bytes (at any alignment; not referenced
 * afterwards). expect_dim, when not 0, is the dimension the caller's vectors have: a
 * file with another is refused. Memory as aios_hnsw_init for the file's parameters (the
 * index can keep growing to its max_elements). Returns AIOS_OK; AIOS_EINVAL for a
 * damaged or malicious file (reason in err, e.g. "hnsw: checksum mismatch (file
 * damaged)"); AIOS_ENOMEM when the arena is too small. On failure the arena is left as
 * it was and h is unusable.
 */
int aios_hnsw_load(struct aios_hnsw *h, const void *buf, size_t len, uint32_t expect_dim,
                   struct aios_arena *a, char *err, size_t errlen);

#endif /* AIOS_HNSW_H */
