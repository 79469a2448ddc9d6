/*
 * Unit tests for the translation-table builder (hyp/core/pgtable.c).
 *
 * Runs on the host.  Tables come from a static, page-aligned pool whose
 * allocator counts pages and can be told to fail, so tests can both read the
 * raw descriptors (pointer == physical address holds on the host too) and
 * prove that failed calls left the pool byte-for-byte as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pgtable.h"

#define KIB 0x400ull
#define MIB 0x100000ull
#define GIB 0x40000000ull
#define PAGE (4 * KIB)

#define POOL_PAGES 64

/*
 * Descriptor fields, spelled out here independently of pgtable.c so that an
 * encoding mistake there cannot hide behind a shared constant.
 */
#define BIT(n) (1ull << (n))
#define T_BLOCK 0x1ull
#define T_TABLE 0x3ull
#define T_PAGE 0x3ull
#define OA_MASK 0x0000fffffffff000ull
#define AF BIT(10)
#define XN BIT(54)
#define SH_INNER (0x3ull << 8)
#define S2_MEMATTR_WB (0xfull << 2)
#define S2_MEMATTR_DEV (0x0ull << 2)
#define S2AP_R BIT(6)
#define S2AP_W BIT(7)
#define S1_IDX_NORMAL (0x0ull << 2)
#define S1_IDX_DEVICE (0x1ull << 2)
#define S1_AP1 BIT(6)
#define S1_AP2_RO BIT(7)

#define R PGTABLE_R
#define W PGTABLE_W
#define X PGTABLE_X
#define DEV PGTABLE_DEVICE

static _Alignas(4096) uint8_t pool[POOL_PAGES][4096];
static uint8_t snap_pool[POOL_PAGES][4096];
static unsigned snap_used;

struct test_alloc {
    unsigned used;  /* pages handed out so far */
    unsigned limit; /* fail once used reaches this */
    bool dirty;     /* hand out garbage-filled pages */
};

static struct test_alloc talloc;

static void *test_alloc_page(void *ctx)
{
    struct test_alloc *t = ctx;

    if (t->used >= t->limit || t->used >= POOL_PAGES)
        return NULL;
    if (t->dirty)
        memset(pool[t->used], 0xa5, sizeof(pool[0]));
    return pool[t->used++];
}

static void *misaligned_alloc_page(void *ctx)
{
    (void)ctx;
    return &pool[0][8];
}

static const struct pgtable_alloc test_allocator = {
    .alloc_page = test_alloc_page,
    .ctx = &talloc,
};

static int reset_pool(void **state)
{
    (void)state;
    memset(pool, 0, sizeof(pool));
    talloc.used = 0;
    talloc.limit = POOL_PAGES;
    talloc.dirty = false;
    return 0;
}

static void fail_after(unsigned more_pages)
{
    talloc.limit = talloc.used + more_pages;
}

static void new_table(struct pgtable *pt, enum pgtable_format format)
{
    assert_int_equal(pgtable_init(pt, format, &test_allocator), 0);
}

static void take_snapshot(void)
{
    memcpy(snap_pool, pool, sizeof(pool));
    snap_used = talloc.used;
}

static void assert_pool_unchanged(void)
{
    assert_memory_equal(snap_pool, pool, sizeof(pool));
}

static void assert_unchanged(void)
{
    assert_pool_unchanged();
    assert_int_equal(talloc.used, snap_used);
}

static unsigned raw_index(uint64_t ia, int level)
{
    return (unsigned)(ia >> (12 + 9 * (3 - level))) & 511u;
}

/* The raw descriptor for ia at `level`, requiring tables above it. */
static uint64_t raw_desc(const struct pgtable *pt, uint64_t ia, int level)
{
    const uint64_t *table = pt->root;
    int l;

    for (l = 1; l < level; l++) {
        uint64_t desc = table[raw_index(ia, l)];

        assert_int_equal(desc & 0x3, T_TABLE);
        table = (const uint64_t *)(uintptr_t)(desc & OA_MASK);
    }
    return table[raw_index(ia, level)];
}

static void assert_maps(const struct pgtable *pt, uint64_t ia, uint64_t pa,
                        unsigned attrs)
{
    uint64_t got_pa = 0;
    unsigned got_attrs = 0;

    assert_int_equal(pgtable_lookup(pt, ia, &got_pa, &got_attrs), 0);
    assert_int_equal(got_pa, pa);
    assert_int_equal(got_attrs, attrs);
}

static void assert_unmapped(const struct pgtable *pt, uint64_t ia)
{
    uint64_t got_pa = 0;

    assert_int_equal(pgtable_lookup(pt, ia, &got_pa, NULL), -ENOENT);
}

/* ---- creation ---------------------------------------------------------- */

static void test_init(void **state)
{
    struct pgtable pt;
    unsigned i;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(talloc.used, 1);
    assert_ptr_equal(pt.root, pool[0]);
    assert_int_equal(pgtable_root_pa(&pt), (uint64_t)(uintptr_t)pool[0]);
    assert_int_equal(pgtable_root_pa(&pt) & (PAGE - 1), 0);
    for (i = 0; i < 512; i++)
        assert_int_equal(pt.root[i], 0);
    assert_int_equal(pt.format, PGTABLE_STAGE2);
}

static void test_init_errors(void **state)
{
    struct pgtable pt;
    struct pgtable_alloc no_fn = { .alloc_page = NULL, .ctx = NULL };

    (void)state;
    assert_int_equal(pgtable_init(&pt, PGTABLE_EL2, NULL), -EINVAL);
    assert_int_equal(pgtable_init(&pt, PGTABLE_EL2, &no_fn), -EINVAL);
    assert_int_equal(pgtable_init(&pt, (enum pgtable_format)7,
                                  &test_allocator),
                     -EINVAL);
    assert_int_equal(talloc.used, 0);
    fail_after(0);
    assert_int_equal(pgtable_init(&pt, PGTABLE_EL2, &test_allocator),
                     -ENOMEM);
    /* A failed init must not leave a usable-looking table behind. */
    assert_int_equal(pgtable_map(&pt, 0, 0, PAGE, R), -EINVAL);
}

static void test_alloc_contract(void **state)
{
    struct pgtable pt;
    const struct pgtable_alloc bad = { .alloc_page = misaligned_alloc_page,
                                       .ctx = NULL };
    const uint64_t ia = 0x2468000;
    unsigned i;

    (void)state;
    /* A page that cannot be encoded in a descriptor is refused. */
    assert_int_equal(pgtable_init(&pt, PGTABLE_STAGE2, &bad), -EINVAL);

    /* Garbage in fresh pages must not turn into mappings. */
    talloc.dirty = true;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, ia, ia, PAGE, R), 0);
    for (i = 0; i < 512; i++) {
        if (i != raw_index(ia, 1))
            assert_int_equal(pt.root[i], 0);
        if (i != raw_index(ia, 3))
            assert_int_equal(raw_desc(&pt, (ia & ~(2 * MIB - 1)) + i * PAGE,
                                      3),
                             0);
    }
    assert_unmapped(&pt, ia + PAGE);
    assert_maps(&pt, ia, ia, R);
}

static void test_mair_value(void **state)
{
    (void)state;
    /* Slot 0 = 0xff (normal WB RW-allocate), slot 1 = 0x00 (nGnRnE). */
    assert_int_equal(PGTABLE_MAIR_VALUE, 0xffull);
    assert_int_equal(PGTABLE_T0SZ, 25);
    assert_int_equal(PGTABLE_VTCR_SL0, 1);
}

/* ---- mapping and block selection -------------------------------------- */

static void test_map_page_lookup(void **state)
{
    struct pgtable pt;
    const uint64_t ia = 0x12345000, pa = 0x87654000;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, ia, pa, PAGE, R | W), 0);
    /* Root + level-2 table + level-3 table. */
    assert_int_equal(talloc.used, 3);
    assert_maps(&pt, ia, pa, R | W);
    assert_maps(&pt, ia + 0x123, pa + 0x123, R | W);
    assert_maps(&pt, ia + PAGE - 1, pa + PAGE - 1, R | W);
    assert_unmapped(&pt, ia - PAGE);
    assert_unmapped(&pt, ia + PAGE);
    assert_int_equal(raw_desc(&pt, ia, 3) & 0x3, T_PAGE);
    assert_int_equal(raw_desc(&pt, ia, 3) & OA_MASK, pa);
    /* Both out-pointers are optional. */
    assert_int_equal(pgtable_lookup(&pt, ia, NULL, NULL), 0);
}

static void test_map_2m_blocks(void **state)
{
    struct pgtable pt;
    const uint64_t ia = 0x40200000, pa = 0x80400000;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, ia, pa, 4 * MIB, R | W), 0);
    assert_int_equal(talloc.used, 2); /* root + one level-2 table */
    assert_int_equal(raw_desc(&pt, ia, 2) & 0x3, T_BLOCK);
    assert_int_equal(raw_desc(&pt, ia, 2) & OA_MASK, pa);
    assert_int_equal(raw_desc(&pt, ia + 2 * MIB, 2) & 0x3, T_BLOCK);
    assert_int_equal(raw_desc(&pt, ia + 2 * MIB, 2) & OA_MASK, pa + 2 * MIB);
    assert_int_equal(raw_desc(&pt, ia - 2 * MIB, 2), 0);
    assert_int_equal(raw_desc(&pt, ia + 4 * MIB, 2), 0);
    assert_maps(&pt, ia + 3 * MIB + 0x42, pa + 3 * MIB + 0x42, R | W);
}

static void test_map_1g_block(void **state)
{
    struct pgtable pt;
    const uint64_t ia = 2 * GIB, pa = 5 * GIB;

    (void)state;
    new_table(&pt, PGTABLE_EL2);
    assert_int_equal(pgtable_map(&pt, ia, pa, GIB, R | W), 0);
    assert_int_equal(talloc.used, 1); /* nothing beyond the root */
    assert_int_equal(raw_desc(&pt, ia, 1) & 0x3, T_BLOCK);
    assert_int_equal(raw_desc(&pt, ia, 1) & OA_MASK, pa);
    assert_maps(&pt, ia + GIB - 1, pa + GIB - 1, R | W);
    assert_unmapped(&pt, ia + GIB);
}

static void test_map_mixed_alignment(void **state)
{
    struct pgtable pt;
    const uint64_t ia = 0x00200000, pa = 0x80001000;
    unsigned i;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, ia, pa, 2 * MIB, R), 0);
    assert_int_equal(talloc.used, 3);
    assert_int_equal(raw_desc(&pt, ia, 2) & 0x3, T_TABLE);
    for (i = 0; i < 512; i++) {
        uint64_t desc = raw_desc(&pt, ia + i * PAGE, 3);

        assert_int_equal(desc & 0x3, T_PAGE);
        assert_int_equal(desc & OA_MASK, pa + i * PAGE);
    }
}

static void test_map_largest_block_each_step(void **state)
{
    struct pgtable pt;
    /* One page, then a 1 GiB block, a 2 MiB block and a last page. */
    const uint64_t ia = GIB - PAGE, pa = ia + 4 * GIB;
    const uint64_t size = PAGE + GIB + 2 * MIB + PAGE;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, ia, pa, size, R | W | X), 0);
    assert_int_equal(raw_desc(&pt, ia, 3) & 0x3, T_PAGE);
    assert_int_equal(raw_desc(&pt, ia, 3) & OA_MASK, pa);
    assert_int_equal(raw_desc(&pt, GIB, 1) & 0x3, T_BLOCK);
    assert_int_equal(raw_desc(&pt, GIB, 1) & OA_MASK, pa + PAGE);
    assert_int_equal(raw_desc(&pt, 2 * GIB, 2) & 0x3, T_BLOCK);
    assert_int_equal(raw_desc(&pt, 2 * GIB, 2) & OA_MASK, pa + PAGE + GIB);
    assert_int_equal(raw_desc(&pt, 2 * GIB + 2 * MIB, 3) & 0x3, T_PAGE);
    assert_int_equal(raw_desc(&pt, 2 * GIB + 2 * MIB, 3) & OA_MASK,
                     pa + PAGE + GIB + 2 * MIB);
    assert_unmapped(&pt, ia - PAGE);
    assert_unmapped(&pt, ia + size);
    /* root, L2+L3 for the first page, L2+L3 for the tail. */
    assert_int_equal(talloc.used, 5);
}

static void test_map_address_space_edges(void **state)
{
    struct pgtable pt;
    const uint64_t top_ia = (1ull << 39) - PAGE;
    const uint64_t top_pa = (1ull << 48) - PAGE;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, top_ia, top_pa, PAGE, R), 0);
    assert_maps(&pt, top_ia + PAGE - 1, top_pa + PAGE - 1, R);
    assert_int_equal(pgtable_map(&pt, 0, 0, PAGE, R), 0);
    assert_maps(&pt, 0, 0, R);
    assert_int_equal(pgtable_unmap(&pt, top_ia, PAGE), 0);
    assert_unmapped(&pt, top_ia);
}

/* ---- descriptor encodings --------------------------------------------- */

struct enc_case {
    unsigned attrs;
    uint64_t bits; /* everything but type and output address */
};

static const struct enc_case stage2_cases[] = {
    { R, S2_MEMATTR_WB | S2AP_R | SH_INNER | AF | XN },
    { R | W, S2_MEMATTR_WB | S2AP_R | S2AP_W | SH_INNER | AF | XN },
    { R | X, S2_MEMATTR_WB | S2AP_R | SH_INNER | AF },
    { R | W | X, S2_MEMATTR_WB | S2AP_R | S2AP_W | SH_INNER | AF },
    { X, S2_MEMATTR_WB | SH_INNER | AF },
    { R | DEV, S2_MEMATTR_DEV | S2AP_R | AF | XN },
    { R | W | DEV, S2_MEMATTR_DEV | S2AP_R | S2AP_W | AF | XN },
};

static const struct enc_case el2_cases[] = {
    { R, S1_IDX_NORMAL | S1_AP1 | S1_AP2_RO | SH_INNER | AF | XN },
    { R | W, S1_IDX_NORMAL | S1_AP1 | SH_INNER | AF | XN },
    { R | X, S1_IDX_NORMAL | S1_AP1 | S1_AP2_RO | SH_INNER | AF },
    { R | W | X, S1_IDX_NORMAL | S1_AP1 | SH_INNER | AF },
    { R | DEV, S1_IDX_DEVICE | S1_AP1 | S1_AP2_RO | AF | XN },
    { R | W | DEV, S1_IDX_DEVICE | S1_AP1 | AF | XN },
};

/* EL1&0 kernel map: AP[1] clear (no EL0 access), UXN (bit 54) always, PXN (bit 53)
 * for everything the kernel may not execute. */
#define S1_PXN (1ull << 53)
static const struct enc_case el1_cases[] = {
    { R, S1_IDX_NORMAL | S1_AP2_RO | SH_INNER | AF | XN | S1_PXN },
    { R | W, S1_IDX_NORMAL | SH_INNER | AF | XN | S1_PXN },
    { R | X, S1_IDX_NORMAL | S1_AP2_RO | SH_INNER | AF | XN },
    { R | W | X, S1_IDX_NORMAL | SH_INNER | AF | XN },
    { R | DEV, S1_IDX_DEVICE | S1_AP2_RO | AF | XN | S1_PXN },
    { R | W | DEV, S1_IDX_DEVICE | AF | XN | S1_PXN },
};

static void check_encodings(enum pgtable_format format,
                            const struct enc_case *cases, size_t n)
{
    struct pgtable pt;
    size_t i;

    new_table(&pt, format);
    for (i = 0; i < n; i++) {
        /* Each case as a page and as a 2 MiB block, in its own slot. */
        const uint64_t page_ia = 0x1000000 + i * PAGE;
        const uint64_t page_pa = 0x9000000 + i * PAGE;
        const uint64_t blk_ia = GIB + i * 2 * MIB;
        const uint64_t blk_pa = 3 * GIB + i * 2 * MIB;

        assert_int_equal(pgtable_map(&pt, page_ia, page_pa, PAGE,
                                     cases[i].attrs),
                         0);
        assert_int_equal(raw_desc(&pt, page_ia, 3),
                         page_pa | cases[i].bits | T_PAGE);
        assert_maps(&pt, page_ia, page_pa, cases[i].attrs);

        assert_int_equal(pgtable_map(&pt, blk_ia, blk_pa, 2 * MIB,
                                     cases[i].attrs),
                         0);
        assert_int_equal(raw_desc(&pt, blk_ia, 2),
                         blk_pa | cases[i].bits | T_BLOCK);
        assert_maps(&pt, blk_ia + 0x1234, blk_pa + 0x1234, cases[i].attrs);
    }
}

static void test_encoding_stage2(void **state)
{
    (void)state;
    check_encodings(PGTABLE_STAGE2, stage2_cases,
                    sizeof(stage2_cases) / sizeof(stage2_cases[0]));
}

static void test_encoding_el2(void **state)
{
    (void)state;
    check_encodings(PGTABLE_EL2, el2_cases,
                    sizeof(el2_cases) / sizeof(el2_cases[0]));
}

static void test_encoding_el1(void **state)
{
    (void)state;
    check_encodings(PGTABLE_EL1, el1_cases,
                    sizeof(el1_cases) / sizeof(el1_cases[0]));
}

static void test_encoding_1g_block(void **state)
{
    struct pgtable pt;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, 0, 4 * GIB, GIB, R | DEV), 0);
    assert_int_equal(pt.root[0],
                     4 * GIB | S2_MEMATTR_DEV | S2AP_R | AF | XN | T_BLOCK);
}

/* ---- argument checking ------------------------------------------------ */

static void test_map_invalid_args(void **state)
{
    struct pgtable pt, el2;
    const uint64_t top = 1ull << 39;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    new_table(&el2, PGTABLE_EL2);
    assert_int_equal(pgtable_map(&pt, 0x200000, 0x200000, PAGE, R), 0);
    take_snapshot();

    /* Alignment and size. */
    assert_int_equal(pgtable_map(&pt, 0x1001000 + 8, 0, PAGE, R), -EINVAL);
    assert_int_equal(pgtable_map(&pt, 0x1000000, 0x800, PAGE, R), -EINVAL);
    assert_int_equal(pgtable_map(&pt, 0x1000000, 0, PAGE + 1, R), -EINVAL);
    assert_int_equal(pgtable_map(&pt, 0x1000000, 0, 0, R), -EINVAL);
    /* ia + size wraps around 2^64. */
    assert_int_equal(pgtable_map(&pt, PAGE, 0, 0ull - PAGE, R), -EINVAL);
    assert_int_equal(pgtable_map(&pt, 0ull - PAGE, 0, 2 * PAGE, R), -EINVAL);
    /* Input range beyond 39 bits. */
    assert_int_equal(pgtable_map(&pt, top, 0, PAGE, R), -EINVAL);
    assert_int_equal(pgtable_map(&pt, top - PAGE, 0, 2 * PAGE, R), -EINVAL);
    assert_int_equal(pgtable_map(&pt, 0, 0, top + PAGE, R), -EINVAL);
    /* Output range beyond 48 bits. */
    assert_int_equal(pgtable_map(&pt, 0x1000000, 1ull << 48, PAGE, R),
                     -EINVAL);
    assert_int_equal(pgtable_map(&pt, 0x1000000, (1ull << 48) - PAGE,
                                 2 * PAGE, R),
                     -EINVAL);
    /* Attributes. */
    assert_int_equal(pgtable_map(&pt, 0x1000000, 0, PAGE, 0), -EINVAL);
    assert_int_equal(pgtable_map(&pt, 0x1000000, 0, PAGE, W), -EINVAL);
    assert_int_equal(pgtable_map(&pt, 0x1000000, 0, PAGE, W | X), -EINVAL);
    assert_int_equal(pgtable_map(&pt, 0x1000000, 0, PAGE, DEV), -EINVAL);
    assert_int_equal(pgtable_map(&pt, 0x1000000, 0, PAGE, R | X | DEV),
                     -EINVAL);
    assert_int_equal(pgtable_map(&pt, 0x1000000, 0, PAGE, R | 0x10),
                     -EINVAL);
    /* EL2 stage 1 cannot express execute-only. */
    assert_int_equal(pgtable_map(&el2, 0x1000000, 0, PAGE, X), -EINVAL);
    /* NULL / uninitialised table. */
    assert_int_equal(pgtable_map(NULL, 0, 0, PAGE, R), -EINVAL);
    assert_unchanged();
}

static void test_unmap_lookup_invalid_args(void **state)
{
    struct pgtable pt;
    const uint64_t top = 1ull << 39;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, 0, 0, 2 * MIB, R), 0);
    take_snapshot();
    assert_int_equal(pgtable_unmap(&pt, 0x800, PAGE), -EINVAL);
    assert_int_equal(pgtable_unmap(&pt, 0, PAGE + 8), -EINVAL);
    assert_int_equal(pgtable_unmap(&pt, 0, 0), -EINVAL);
    assert_int_equal(pgtable_unmap(&pt, PAGE, 0ull - PAGE), -EINVAL);
    assert_int_equal(pgtable_unmap(&pt, top, PAGE), -EINVAL);
    assert_int_equal(pgtable_unmap(&pt, top - PAGE, 2 * PAGE), -EINVAL);
    assert_int_equal(pgtable_lookup(&pt, top, NULL, NULL), -EINVAL);
    assert_unchanged();
    assert_maps(&pt, 0, 0, R);
}

/* ---- overlap refusal -------------------------------------------------- */

static void test_map_overlap_refused(void **state)
{
    struct pgtable pt;
    const uint64_t a = 0x10004000;      /* four pages at a .. a + 16K */
    const uint64_t blk = 0x40400000;    /* one 2 MiB block */
    static const struct {
        uint64_t ia, size;
    } tries[] = {
        { a, 4 * PAGE },                /* exact */
        { a - 2 * PAGE, 3 * PAGE },     /* front overlap */
        { a + 2 * PAGE, 4 * PAGE },     /* back overlap */
        { a + PAGE, PAGE },             /* contained */
        { a - PAGE, 6 * PAGE },         /* containing */
        { 0, GIB },                     /* containing, whole level-1 slot */
        { blk + 0x3000, PAGE },         /* page inside a block */
        { blk - 2 * MIB, 4 * MIB },     /* block-sized, straddling */
        { GIB, GIB },                   /* 1 GiB containing the block */
    };
    size_t i;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, a, 0x70000000, 4 * PAGE, R | W), 0);
    assert_int_equal(pgtable_map(&pt, blk, 0x80000000, 2 * MIB, R), 0);
    take_snapshot();
    for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        /*
         * A pa only 4 KiB aligned forces pages, so a map that did not check
         * the whole range first would allocate tables for the part before
         * the overlap, and the snapshot would catch it.
         */
        assert_int_equal(pgtable_map(&pt, tries[i].ia, 0x20001000,
                                     tries[i].size, R),
                         -EEXIST);
        assert_unchanged();
    }
    /* Right next to existing mappings is fine. */
    assert_int_equal(pgtable_map(&pt, a - PAGE, 0x20000000, PAGE, R), 0);
    assert_int_equal(pgtable_map(&pt, a + 4 * PAGE, 0x20001000, PAGE, R), 0);
    assert_maps(&pt, a, 0x70000000, R | W);
}

/* ---- unmap ------------------------------------------------------------ */

static void test_unmap_page(void **state)
{
    struct pgtable pt;
    const uint64_t ia = 0x3000000, pa = 0x5000000;

    (void)state;
    new_table(&pt, PGTABLE_EL2);
    assert_int_equal(pgtable_map(&pt, ia, pa, 4 * PAGE, R | W), 0);
    take_snapshot();
    assert_int_equal(pgtable_unmap(&pt, ia + PAGE, PAGE), 0);
    assert_int_equal(talloc.used, snap_used);
    assert_int_equal(raw_desc(&pt, ia + PAGE, 3), 0);
    assert_maps(&pt, ia, pa, R | W);
    assert_unmapped(&pt, ia + PAGE);
    assert_maps(&pt, ia + 2 * PAGE, pa + 2 * PAGE, R | W);
    assert_maps(&pt, ia + 3 * PAGE, pa + 3 * PAGE, R | W);
}

static void test_unmap_whole_blocks(void **state)
{
    struct pgtable pt;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, 0x600000, 0x800000, 2 * MIB, R), 0);
    assert_int_equal(pgtable_map(&pt, 2 * GIB, 2 * GIB, GIB, R), 0);
    take_snapshot();
    assert_int_equal(pgtable_unmap(&pt, 0x600000, 2 * MIB), 0);
    assert_int_equal(pgtable_unmap(&pt, 2 * GIB, GIB), 0);
    assert_int_equal(talloc.used, snap_used);
    assert_int_equal(raw_desc(&pt, 0x600000, 2), 0);
    assert_int_equal(pt.root[2], 0);
    assert_unmapped(&pt, 0x600000);
    assert_unmapped(&pt, 0x7ff000);
    assert_unmapped(&pt, 2 * GIB + 0x12345000);
}

static void check_split_middle_2m(enum pgtable_format format)
{
    struct pgtable pt;
    const uint64_t ia = 0x00600000, pa = 0x80600000;
    const uint64_t hole = ia + MIB, hole_size = 3 * PAGE;
    uint64_t block_bits;
    unsigned i;

    new_table(&pt, format);
    assert_int_equal(pgtable_map(&pt, ia, pa, 2 * MIB, R | W), 0);
    block_bits = raw_desc(&pt, ia, 2) & ~(OA_MASK | 0x3);
    take_snapshot();
    assert_int_equal(pgtable_unmap(&pt, hole, hole_size), 0);
    assert_int_equal(talloc.used, snap_used + 1);
    assert_int_equal(raw_desc(&pt, ia, 2) & 0x3, T_TABLE);
    for (i = 0; i < 512; i++) {
        uint64_t va = ia + i * PAGE;
        uint64_t desc = raw_desc(&pt, va, 3);

        if (va >= hole && va < hole + hole_size)
            assert_int_equal(desc, 0);
        else
            assert_int_equal(desc, (pa + i * PAGE) | block_bits | T_PAGE);
    }
    assert_maps(&pt, hole - PAGE, pa + MIB - PAGE, R | W);
    assert_unmapped(&pt, hole);
    assert_unmapped(&pt, hole + hole_size - 1);
    assert_maps(&pt, hole + hole_size, pa + MIB + hole_size, R | W);
    assert_maps(&pt, ia, pa, R | W);
    assert_maps(&pt, ia + 2 * MIB - 1, pa + 2 * MIB - 1, R | W);
}

static void test_unmap_split_2m(void **state)
{
    (void)state;
    check_split_middle_2m(PGTABLE_STAGE2);
    reset_pool(NULL);
    check_split_middle_2m(PGTABLE_EL2);
}

static void test_unmap_split_1g_to_pages(void **state)
{
    struct pgtable pt;
    const uint64_t ia = GIB, pa = 3 * GIB;
    const uint64_t hole = ia + 2 * MIB + PAGE;
    uint64_t block_bits;
    unsigned i;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, ia, pa, GIB, R | X), 0);
    block_bits = pt.root[1] & ~(OA_MASK | 0x3);
    take_snapshot();
    assert_int_equal(pgtable_unmap(&pt, hole, PAGE), 0);
    assert_int_equal(talloc.used, snap_used + 2);
    for (i = 0; i < 512; i++) {
        if (i == 1)
            continue;
        assert_int_equal(raw_desc(&pt, ia + i * 2 * MIB, 2),
                         (pa + i * 2 * MIB) | block_bits | T_BLOCK);
    }
    for (i = 0; i < 512; i++) {
        uint64_t va = ia + 2 * MIB + i * PAGE;

        assert_int_equal(raw_desc(&pt, va, 3),
                         va == hole ? 0
                                    : (pa + 2 * MIB + i * PAGE) | block_bits |
                                          T_PAGE);
    }
    assert_unmapped(&pt, hole);
    assert_maps(&pt, hole - 1, pa + 2 * MIB + PAGE - 1, R | X);
    assert_maps(&pt, hole + PAGE, pa + 2 * MIB + 2 * PAGE, R | X);
    assert_maps(&pt, ia + GIB - 1, pa + GIB - 1, R | X);
}

static void test_unmap_across_two_blocks(void **state)
{
    struct pgtable pt;
    const uint64_t ia = 0x400000, pa = 0xa0400000;

    (void)state;
    new_table(&pt, PGTABLE_EL2);
    assert_int_equal(pgtable_map(&pt, ia, pa, 4 * MIB, R), 0);
    take_snapshot();
    /* From the middle of the first block to the middle of the second. */
    assert_int_equal(pgtable_unmap(&pt, ia + MIB, 2 * MIB), 0);
    assert_int_equal(talloc.used, snap_used + 2);
    assert_maps(&pt, ia, pa, R);
    assert_maps(&pt, ia + MIB - PAGE, pa + MIB - PAGE, R);
    assert_unmapped(&pt, ia + MIB);
    assert_unmapped(&pt, ia + 2 * MIB);
    assert_unmapped(&pt, ia + 3 * MIB - PAGE);
    assert_maps(&pt, ia + 3 * MIB, pa + 3 * MIB, R);
    assert_maps(&pt, ia + 4 * MIB - 1, pa + 4 * MIB - 1, R);
}

static void test_unmap_partly_unmapped(void **state)
{
    struct pgtable pt;
    const uint64_t a = 0x9000000;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, a, a, 2 * PAGE, R), 0);
    assert_int_equal(pgtable_map(&pt, a + 4 * PAGE, a, PAGE, R), 0);
    assert_int_equal(pgtable_unmap(&pt, a - 2 * PAGE, 8 * PAGE), 0);
    assert_unmapped(&pt, a);
    assert_unmapped(&pt, a + PAGE);
    assert_unmapped(&pt, a + 4 * PAGE);

    /* Nothing mapped at all: succeeds and allocates nothing. */
    take_snapshot();
    assert_int_equal(pgtable_unmap(&pt, 5 * GIB, GIB + 2 * MIB + PAGE), 0);
    assert_unchanged();
}

static void test_unmap_then_remap(void **state)
{
    struct pgtable pt;
    const uint64_t ia = 0xc00000;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, ia, 0x1000000, 2 * MIB, R | W), 0);
    assert_int_equal(pgtable_unmap(&pt, ia, 2 * MIB), 0);
    assert_int_equal(pgtable_map(&pt, ia, 0x2000000, 2 * MIB, R | X), 0);
    assert_int_equal(raw_desc(&pt, ia, 2) & 0x3, T_BLOCK);
    assert_maps(&pt, ia + 0x5000, 0x2005000, R | X);

    /* Punch a hole in the block, then fill it again. */
    assert_int_equal(pgtable_unmap(&pt, ia + 8 * PAGE, 2 * PAGE), 0);
    assert_unmapped(&pt, ia + 8 * PAGE);
    assert_int_equal(pgtable_map(&pt, ia + 8 * PAGE, 0x2008000, 2 * PAGE,
                                 R | X),
                     0);
    assert_maps(&pt, ia + 9 * PAGE, 0x2009000, R | X);

    /* Emptied tables stay linked and are reused: pages, not a block. */
    assert_int_equal(pgtable_unmap(&pt, ia, 2 * MIB), 0);
    take_snapshot();
    assert_int_equal(pgtable_map(&pt, ia, 0x2000000, 2 * MIB, R), 0);
    assert_int_equal(talloc.used, snap_used);
    assert_int_equal(raw_desc(&pt, ia, 3) & 0x3, T_PAGE);
    assert_maps(&pt, ia + 2 * MIB - PAGE, 0x2000000 + 2 * MIB - PAGE, R);
}

/* ---- allocation failure ----------------------------------------------- */

static void test_map_enomem(void **state)
{
    struct pgtable pt;
    const uint64_t ia = 0x7654000;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);

    /* No page at all: nothing may change. */
    fail_after(0);
    take_snapshot();
    assert_int_equal(pgtable_map(&pt, ia, ia, PAGE, R), -ENOMEM);
    assert_unchanged();

    /* Level-2 table obtained, level-3 table not: still nothing mapped. */
    fail_after(1);
    assert_int_equal(pgtable_map(&pt, ia, ia, 3 * PAGE, R), -ENOMEM);
    assert_unmapped(&pt, ia);
    assert_unmapped(&pt, ia + PAGE);
    assert_unmapped(&pt, ia + 2 * PAGE);

    /* Room again: the map succeeds, reusing the level-2 table. */
    fail_after(POOL_PAGES);
    assert_int_equal(pgtable_map(&pt, ia, ia, 3 * PAGE, R), 0);
    assert_int_equal(talloc.used, 3);
    assert_maps(&pt, ia + 2 * PAGE, ia + 2 * PAGE, R);

    /* Tables for a later part of a range fail: the earlier part is not
     * mapped either. */
    fail_after(2);
    assert_int_equal(pgtable_map(&pt, 3 * GIB - PAGE, 0, 2 * PAGE, R | W),
                     -ENOMEM);
    assert_unmapped(&pt, 3 * GIB - PAGE);
    assert_unmapped(&pt, 3 * GIB);
}

static void test_split_enomem(void **state)
{
    struct pgtable pt;
    const uint64_t ia = 0xe00000, big = 4 * GIB;

    (void)state;
    new_table(&pt, PGTABLE_STAGE2);
    assert_int_equal(pgtable_map(&pt, ia, ia, 2 * MIB, R | W), 0);
    assert_int_equal(pgtable_map(&pt, big, big, GIB, R), 0);

    fail_after(0);
    take_snapshot();
    assert_int_equal(pgtable_unmap(&pt, ia + MIB, PAGE), -ENOMEM);
    assert_unchanged();
    assert_maps(&pt, ia + MIB, ia + MIB, R | W);

    /* Needs two tables but only one is available. */
    fail_after(1);
    take_snapshot();
    assert_int_equal(pgtable_unmap(&pt, big + 2 * MIB + PAGE, PAGE), -ENOMEM);
    assert_pool_unchanged();
    assert_maps(&pt, big + 2 * MIB + PAGE, big + 2 * MIB + PAGE, R);

    /* With room the same unmap goes through. */
    fail_after(POOL_PAGES);
    assert_int_equal(pgtable_unmap(&pt, ia + MIB, PAGE), 0);
    assert_unmapped(&pt, ia + MIB);
    assert_int_equal(pgtable_unmap(&pt, big + 2 * MIB + PAGE, PAGE), 0);
    assert_unmapped(&pt, big + 2 * MIB + PAGE);
    assert_maps(&pt, big + 2 * MIB, big + 2 * MIB, R);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_init, reset_pool),
        cmocka_unit_test_setup(test_init_errors, reset_pool),
        cmocka_unit_test_setup(test_alloc_contract, reset_pool),
        cmocka_unit_test_setup(test_mair_value, reset_pool),
        cmocka_unit_test_setup(test_map_page_lookup, reset_pool),
        cmocka_unit_test_setup(test_map_2m_blocks, reset_pool),
        cmocka_unit_test_setup(test_map_1g_block, reset_pool),
        cmocka_unit_test_setup(test_map_mixed_alignment, reset_pool),
        cmocka_unit_test_setup(test_map_largest_block_each_step, reset_pool),
        cmocka_unit_test_setup(test_map_address_space_edges, reset_pool),
        cmocka_unit_test_setup(test_encoding_stage2, reset_pool),
        cmocka_unit_test_setup(test_encoding_el2, reset_pool),
        cmocka_unit_test_setup(test_encoding_el1, reset_pool),
        cmocka_unit_test_setup(test_encoding_1g_block, reset_pool),
        cmocka_unit_test_setup(test_map_invalid_args, reset_pool),
        cmocka_unit_test_setup(test_unmap_lookup_invalid_args, reset_pool),
        cmocka_unit_test_setup(test_map_overlap_refused, reset_pool),
        cmocka_unit_test_setup(test_unmap_page, reset_pool),
        cmocka_unit_test_setup(test_unmap_whole_blocks, reset_pool),
        cmocka_unit_test_setup(test_unmap_split_2m, reset_pool),
        cmocka_unit_test_setup(test_unmap_split_1g_to_pages, reset_pool),
        cmocka_unit_test_setup(test_unmap_across_two_blocks, reset_pool),
        cmocka_unit_test_setup(test_unmap_partly_unmapped, reset_pool),
        cmocka_unit_test_setup(test_unmap_then_remap, reset_pool),
        cmocka_unit_test_setup(test_map_enomem, reset_pool),
        cmocka_unit_test_setup(test_split_enomem, reset_pool),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
