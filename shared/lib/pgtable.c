/*
 * Translation-table builder: creates, edits and walks the 4 KiB-granule,
 * 39-bit, level-1-rooted tables described in pgtable.h, for both guest
 * stage-2 tables, the hypervisor's own EL2 stage-1 tables and the partition
 * kernels' EL1 stage-1 tables.
 *
 * This file runs inside the bare-metal image, so it calls no library
 * function at all (not even memset), and every write to a table entry is a
 * single 64-bit volatile store: a hardware walker on another PE may read the
 * table at any time, so an entry must never be seen half written, and the
 * compiler must neither merge the stores nor turn a fill loop into a memset
 * call it cannot link.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgtable.h"

#define LEVEL_FIRST 1
#define LEVEL_LAST 3
#define ENTRIES_PER_TABLE 512u

#define PAGE_MASK ((uint64_t)PGTABLE_PAGE_SIZE - 1u)
#define IA_LIMIT (1ull << PGTABLE_IA_BITS)
#define PA_LIMIT (1ull << PGTABLE_PA_BITS)

/* Descriptor bits[1:0]. */
#define DESC_VALID 0x1ull
#define DESC_TYPE_MASK 0x3ull
#define DESC_TABLE 0x3ull /* levels 1-2: points to the next-level table */
#define DESC_BLOCK 0x1ull /* levels 1-2: maps a 1 GiB / 2 MiB block */
#define DESC_PAGE 0x3ull  /* level 3: maps a 4 KiB page */

/* Output address (or next-table address) bits[47:12] for a 48-bit PA. */
#define DESC_OA_MASK 0x0000fffffffff000ull

/* Leaf attribute bits common to both formats. */
#define DESC_SH_INNER (0x3ull << 8) /* SH[9:8] = 0b11 */
#define DESC_AF (1ull << 10)
#define DESC_XN (1ull << 54)

/* Stage-2 leaf attributes (HCR_EL2.FWB == 0 meaning). */
#define S2_MEMATTR_MASK (0xfull << 2)
#define S2_MEMATTR_NORMAL_WB (0xfull << 2)  /* MemAttr[5:2] = 0b1111 */
#define S2_MEMATTR_DEVICE_NGNRNE (0x0ull << 2) /* MemAttr[5:2] = 0b0000 */
#define S2_S2AP_R (1ull << 6) /* S2AP[0] */
#define S2_S2AP_W (1ull << 7) /* S2AP[1] */

/* EL2 stage-1 leaf attributes. */
#define S1_ATTRINDX_SHIFT 2
#define S1_ATTRINDX_MASK (0x7ull << S1_ATTRINDX_SHIFT)
#define S1_AP1_RES1 (1ull << 6) /* AP[1] */
#define S1_AP2_RO (1ull << 7)   /* AP[2] */
#define S1_PXN (1ull << 53)     /* EL1&0 regime: privileged execute-never */

#define ATTRS_ALL (PGTABLE_R | PGTABLE_W | PGTABLE_X | PGTABLE_DEVICE)

/* Each unmap boundary may cut a 1 GiB block down to 4 KiB: two tables. */
#define MAX_SPLIT_TABLES 4

static unsigned level_shift(int level)
{
    return 12u + 9u * (unsigned)(LEVEL_LAST - level);
}

static uint64_t level_size(int level)
{
    return 1ull << level_shift(level);
}

static unsigned level_index(uint64_t ia, int level)
{
    return (unsigned)(ia >> level_shift(level)) & (ENTRIES_PER_TABLE - 1u);
}

static uint64_t read_entry(const uint64_t *entry)
{
    return *(const volatile uint64_t *)entry;
}

static void write_entry(uint64_t *entry, uint64_t desc)
{
    *(volatile uint64_t *)entry = desc;
}

static bool desc_valid(uint64_t desc)
{
    return (desc & DESC_VALID) != 0;
}

static bool desc_is_table(uint64_t desc, int level)
{
    return level < LEVEL_LAST && (desc & DESC_TYPE_MASK) == DESC_TABLE;
}

static uint64_t *desc_table(uint64_t desc)
{
    /* Tables are identity mapped, so the physical address is the pointer. */
    return (uint64_t *)(uintptr_t)(desc & DESC_OA_MASK);
}

/* bits[1:0] of a leaf: 0b01 marks a block at levels 1-2, but at level 3
 * 0b01 is reserved and a page needs 0b11. */
static uint64_t leaf_type(int level)
{
    return level == LEVEL_LAST ? DESC_PAGE : DESC_BLOCK;
}

/*
 * Gets a page for a table.  The allocator promises zeroed pages, but a stale
 * entry here would silently map something, so zero it anyway; the address is
 * checked because it is about to be packed into a 48-bit, 4 KiB-aligned field.
 */
static int alloc_table(const struct pgtable *pt, uint64_t **out)
{
    void *page = pt->alloc.alloc_page(pt->alloc.ctx);
    uintptr_t addr = (uintptr_t)page;
    uint64_t *table = page;
    unsigned i;

    if (page == NULL)
        return -ENOMEM;
    if ((addr & PAGE_MASK) != 0 || (uint64_t)addr >= PA_LIMIT)
        return -EINVAL;
    for (i = 0; i < ENTRIES_PER_TABLE; i++)
        write_entry(&table[i], 0);
    *out = table;
    return 0;
}

static uint64_t table_desc(const uint64_t *table)
{
    /*
     * bits[1:0] = 0b11 (table).  The hierarchical controls in bits[63:59]
     * (APTable, XNTable, PXNTable, NSTable) stay 0 so only the leaf decides
     * permissions, which is what lets a split keep attributes exact.
     */
    return ((uint64_t)(uintptr_t)table & DESC_OA_MASK) | DESC_TABLE;
}

static int check_ia_range(uint64_t ia, uint64_t size)
{
    if (size == 0 || ((ia | size) & PAGE_MASK) != 0)
        return -EINVAL;
    /* Written as a subtraction so a wrapping ia + size is caught too. */
    if (ia >= IA_LIMIT || size > IA_LIMIT - ia)
        return -EINVAL;
    return 0;
}

static int check_attrs(enum pgtable_format format, unsigned attrs)
{
    if ((attrs & ~ATTRS_ALL) != 0)
        return -EINVAL;
    if ((attrs & (PGTABLE_R | PGTABLE_W | PGTABLE_X)) == 0)
        return -EINVAL;
    /* Write-only is reserved in stage 1 and pointless in stage 2. */
    if ((attrs & PGTABLE_W) && !(attrs & PGTABLE_R))
        return -EINVAL;
    /* Only XN stops speculative instruction fetch from device registers. */
    if ((attrs & PGTABLE_DEVICE) && (attrs & PGTABLE_X))
        return -EINVAL;
    /* EL2 stage 1 has no "no read" AP encoding; refuse rather than widen. */
    if (format != PGTABLE_STAGE2 && (attrs & PGTABLE_X) && !(attrs & PGTABLE_R))
        return -EINVAL;
    return 0;
}

/* Leaf descriptor bits other than the type and the output address. */
static uint64_t leaf_attr_bits(enum pgtable_format format, unsigned attrs)
{
    bool device = (attrs & PGTABLE_DEVICE) != 0;
    /*
     * AF[10]: set up front; nothing here tracks accesses, and a clear AF
     * would just fault on first use.
     */
    uint64_t desc = DESC_AF;

    /* XN[54]: without it the region could be executed (and speculatively
     * fetched from). */
    if (!(attrs & PGTABLE_X))
        desc |= DESC_XN;

    /*
     * SH[9:8] = 0b11 inner shareable for normal memory so all PEs in the
     * inner domain see coherent data; device memory ignores SH (it is always
     * treated as outer shareable), so it is left 0 there.
     */
    if (!device)
        desc |= DESC_SH_INNER;

    if (format == PGTABLE_STAGE2) {
        /*
         * MemAttr[5:2]: stage 2 can only make the guest's own stage-1
         * attributes stronger, so RAM gets 0b1111 (normal inner+outer
         * write-back, the weakest) to leave the guest in control, and
         * device regions get 0b0000 (Device-nGnRnE) so that nothing the
         * guest does can make MMIO accesses cacheable or gathered.
         */
        desc |= device ? S2_MEMATTR_DEVICE_NGNRNE : S2_MEMATTR_NORMAL_WB;
        /* S2AP[6]: guest may read. */
        if (attrs & PGTABLE_R)
            desc |= S2_S2AP_R;
        /* S2AP[7]: guest may write. */
        if (attrs & PGTABLE_W)
            desc |= S2_S2AP_W;
    } else {
        /* AttrIndx[4:2]: picks the MAIR_EL2 slot, so the memory type lives
         * in one register the caller programs from PGTABLE_MAIR_VALUE. */
        desc |= (uint64_t)(device ? PGTABLE_MAIR_IDX_DEVICE
                                  : PGTABLE_MAIR_IDX_NORMAL)
                << S1_ATTRINDX_SHIFT;
        /* AP[1] (bit 6) is RES1 in a one-exception-level regime like EL2;
         * in the EL1&0 regime it would grant EL0 access, which a kernel's
         * own map never does, so it stays clear there. */
        if (format == PGTABLE_EL2)
            desc |= S1_AP1_RES1;
        /* EL1&0: bit 54 is UXN, set above for non-executable mappings and
         * set here for all (EL0 never runs from the kernel's map); PXN[53]
         * carries the kernel's own execute permission. */
        if (format == PGTABLE_EL1) {
            desc |= DESC_XN;
            if (!(attrs & PGTABLE_X))
                desc |= S1_PXN;
        }
        /* AP[2] (bit 7): read-only unless write was asked for. */
        if (!(attrs & PGTABLE_W))
            desc |= S1_AP2_RO;
    }
    return desc;
}

static unsigned leaf_attrs_decode(enum pgtable_format format, uint64_t desc)
{
    unsigned attrs = 0;

    if (format == PGTABLE_EL1 ? !(desc & S1_PXN) : !(desc & DESC_XN))
        attrs |= PGTABLE_X;
    if (format == PGTABLE_STAGE2) {
        if (desc & S2_S2AP_R)
            attrs |= PGTABLE_R;
        if (desc & S2_S2AP_W)
            attrs |= PGTABLE_W;
        if ((desc & S2_MEMATTR_MASK) == S2_MEMATTR_DEVICE_NGNRNE)
            attrs |= PGTABLE_DEVICE;
    } else {
        /* Every valid stage-1 mapping is readable. */
        attrs |= PGTABLE_R;
        if (!(desc & S1_AP2_RO))
            attrs |= PGTABLE_W;
        if (((desc & S1_ATTRINDX_MASK) >> S1_ATTRINDX_SHIFT) ==
            PGTABLE_MAIR_IDX_DEVICE)
            attrs |= PGTABLE_DEVICE;
    }
    return attrs;
}

/* Whether any leaf in [ia, end) exists below this table. */
static bool range_mapped(const uint64_t *table, int level, uint64_t ia,
                         uint64_t end)
{
    uint64_t size = level_size(level);

    while (ia < end) {
        uint64_t desc = read_entry(&table[level_index(ia, level)]);
        uint64_t next = (ia & ~(size - 1u)) + size;
        uint64_t chunk_end = next < end ? next : end;

        if (desc_valid(desc)) {
            if (!desc_is_table(desc, level))
                return true;
            if (range_mapped(desc_table(desc), level + 1, ia, chunk_end))
                return true;
        }
        ia = chunk_end;
    }
    return false;
}

/*
 * One pass over the range choosing, at each step, the largest block both
 * addresses are aligned to.  It is run twice: first with write_leaves false
 * to create every missing intermediate table (the only thing that can fail,
 * and harmless to translation since empty tables map nothing), then with
 * write_leaves true, which finds all tables present and cannot fail.  Both
 * passes make the same choices because the first writes no leaves.
 */
static int map_pass(struct pgtable *pt, uint64_t ia, uint64_t pa,
                    uint64_t size, uint64_t attr_bits, bool write_leaves)
{
    while (size != 0) {
        uint64_t *table = pt->root;
        int level = LEVEL_FIRST;

        for (;;) {
            uint64_t bsize = level_size(level);
            uint64_t *entry = &table[level_index(ia, level)];
            uint64_t desc = read_entry(entry);
            uint64_t *next;
            int ret;

            if (!desc_valid(desc) &&
                (level == LEVEL_LAST ||
                 (((ia | pa) & (bsize - 1u)) == 0 && size >= bsize))) {
                if (write_leaves)
                    write_entry(entry, pa | attr_bits | leaf_type(level));
                ia += bsize;
                pa += bsize;
                size -= bsize;
                break;
            }
            if (!desc_is_table(desc, level)) {
                /* A leaf here would have been caught by the overlap check. */
                if (desc_valid(desc))
                    return -EEXIST;
                ret = alloc_table(pt, &next);
                if (ret != 0)
                    return ret;
                desc = table_desc(next);
                write_entry(entry, desc);
            }
            table = desc_table(desc);
            level++;
        }
    }
    return 0;
}

int pgtable_init(struct pgtable *pt, enum pgtable_format format,
                 const struct pgtable_alloc *alloc)
{
    uint64_t *root;
    int ret;

    if (pt == NULL || alloc == NULL || alloc->alloc_page == NULL)
        return -EINVAL;
    if (format != PGTABLE_STAGE2 && format != PGTABLE_EL2 && format != PGTABLE_EL1)
        return -EINVAL;
    pt->root = NULL;
    pt->format = format;
    pt->alloc = *alloc;
    ret = alloc_table(pt, &root);
    if (ret != 0)
        return ret;
    pt->root = root;
    return 0;
}

int pgtable_map(struct pgtable *pt, uint64_t ia, uint64_t pa, uint64_t size,
                unsigned attrs)
{
    uint64_t attr_bits;
    int ret;

    if (pt == NULL || pt->root == NULL)
        return -EINVAL;
    ret = check_ia_range(ia, size);
    if (ret != 0)
        return ret;
    if ((pa & PAGE_MASK) != 0 || pa >= PA_LIMIT || size > PA_LIMIT - pa)
        return -EINVAL;
    ret = check_attrs(pt->format, attrs);
    if (ret != 0)
        return ret;
    /* Refuse before touching anything so -EEXIST leaves no trace. */
    if (range_mapped(pt->root, LEVEL_FIRST, ia, ia + size))
        return -EEXIST;

    attr_bits = leaf_attr_bits(pt->format, attrs);
    ret = map_pass(pt, ia, pa, size, attr_bits, false);
    if (ret != 0)
        return ret;
    return map_pass(pt, ia, pa, size, attr_bits, true);
}

/* Tables an unmap must create, each named by its level and block base. */
struct split_plan {
    int count;
    int level[MAX_SPLIT_TABLES];
    uint64_t base[MAX_SPLIT_TABLES];
};

static void plan_add(struct split_plan *plan, int level, uint64_t base)
{
    int i;

    /* Both boundaries may fall in the same block; split it only once. */
    for (i = 0; i < plan->count; i++)
        if (plan->level[i] == level && plan->base[i] == base)
            return;
    plan->level[plan->count] = level;
    plan->base[plan->count] = base;
    plan->count++;
}

/*
 * Records the splits needed so that address `cut` becomes an entry boundary,
 * looking at the leaf that holds `inside` (the byte on the unmapped side of
 * the cut).  A block at level L needs one new table per level, from L down,
 * that `cut` is not aligned to.
 */
static void plan_cut(const struct pgtable *pt, uint64_t inside, uint64_t cut,
                     struct split_plan *plan)
{
    const uint64_t *table = pt->root;
    int level = LEVEL_FIRST;
    uint64_t desc;

    for (;;) {
        desc = read_entry(&table[level_index(inside, level)]);
        if (!desc_valid(desc))
            return;
        if (!desc_is_table(desc, level))
            break;
        table = desc_table(desc);
        level++;
    }
    for (; level < LEVEL_LAST; level++) {
        uint64_t bsize = level_size(level);

        if ((cut & (bsize - 1u)) == 0)
            return;
        plan_add(plan, level, inside & ~(bsize - 1u));
    }
}

/*
 * Carries out what plan_cut() planned for one boundary, using pre-allocated
 * pages, so it cannot fail.  Each split table reproduces the block exactly:
 * same attribute bits, consecutive output addresses.
 */
static void split_cut(struct pgtable *pt, uint64_t inside, uint64_t cut,
                      uint64_t **pages, int *used)
{
    uint64_t *table = pt->root;
    int level = LEVEL_FIRST;

    for (;;) {
        uint64_t *entry = &table[level_index(inside, level)];
        uint64_t desc = read_entry(entry);
        uint64_t child_size, oa, attr_bits, type;
        uint64_t *child;
        unsigned i;

        if (!desc_valid(desc))
            return;
        if (!desc_is_table(desc, level)) {
            if (level == LEVEL_LAST || (cut & (level_size(level) - 1u)) == 0)
                return;
            child = pages[(*used)++];
            child_size = level_size(level + 1);
            oa = desc & DESC_OA_MASK;
            attr_bits = desc & ~(DESC_OA_MASK | DESC_TYPE_MASK);
            type = leaf_type(level + 1);
            for (i = 0; i < ENTRIES_PER_TABLE; i++)
                write_entry(&child[i],
                            (oa + (uint64_t)i * child_size) | attr_bits | type);
            desc = table_desc(child);
            write_entry(entry, desc);
        }
        table = desc_table(desc);
        level++;
    }
}

/* Clears every leaf in [ia, end); splits have made each one fully covered. */
static void clear_range(uint64_t *table, int level, uint64_t ia, uint64_t end)
{
    uint64_t size = level_size(level);

    while (ia < end) {
        uint64_t *entry = &table[level_index(ia, level)];
        uint64_t desc = read_entry(entry);
        uint64_t start = ia & ~(size - 1u);
        uint64_t next = start + size;
        uint64_t chunk_end = next < end ? next : end;

        if (desc_valid(desc)) {
            if (desc_is_table(desc, level))
                /* Tables stay linked even if emptied: see pgtable.h. */
                clear_range(desc_table(desc), level + 1, ia, chunk_end);
            else if (start == ia && chunk_end == next)
                write_entry(entry, 0);
        }
        ia = chunk_end;
    }
}

int pgtable_unmap(struct pgtable *pt, uint64_t ia, uint64_t size)
{
    struct split_plan plan;
    uint64_t *pages[MAX_SPLIT_TABLES];
    uint64_t end;
    int used = 0;
    int i, ret;

    if (pt == NULL || pt->root == NULL)
        return -EINVAL;
    ret = check_ia_range(ia, size);
    if (ret != 0)
        return ret;
    end = ia + size;

    plan.count = 0;
    plan_cut(pt, ia, ia, &plan);
    plan_cut(pt, end - 1u, end, &plan);
    /* Get every page first so that running out changes nothing. */
    for (i = 0; i < plan.count; i++) {
        ret = alloc_table(pt, &pages[i]);
        if (ret != 0)
            return ret;
    }
    split_cut(pt, ia, ia, pages, &used);
    split_cut(pt, end - 1u, end, pages, &used);
    clear_range(pt->root, LEVEL_FIRST, ia, end);
    return 0;
}

int pgtable_lookup(const struct pgtable *pt, uint64_t ia, uint64_t *pa,
                   unsigned *attrs)
{
    const uint64_t *table;
    int level = LEVEL_FIRST;

    if (pt == NULL || pt->root == NULL || ia >= IA_LIMIT)
        return -EINVAL;
    table = pt->root;
    for (;;) {
        uint64_t desc = read_entry(&table[level_index(ia, level)]);
        uint64_t bsize = level_size(level);

        if (!desc_valid(desc))
            return -ENOENT;
        if (desc_is_table(desc, level)) {
            table = desc_table(desc);
            level++;
            continue;
        }
        /* bits[1:0] = 0b01 at level 3 is reserved and translates nothing. */
        if (level == LEVEL_LAST && (desc & DESC_TYPE_MASK) != DESC_PAGE)
            return -ENOENT;
        if (pa != NULL)
            *pa = (desc & DESC_OA_MASK & ~(bsize - 1u)) | (ia & (bsize - 1u));
        if (attrs != NULL)
            *attrs = leaf_attrs_decode(pt->format, desc);
        return 0;
    }
}

uint64_t pgtable_root_pa(const struct pgtable *pt)
{
    return (uint64_t)(uintptr_t)pt->root;
}
