/*
 * Translation-table builder for the hypervisor and the partition kernels.
 *
 * Builds AArch64 VMSAv8-64 translation tables with a 4 KiB granule and a
 * 39-bit input address space, walked from level 1 (level 1 entries map
 * 1 GiB, level 2 entries 2 MiB, level 3 entries 4 KiB).  The same code
 * serves two descriptor formats, picked when a table is created:
 *
 *   PGTABLE_STAGE2  stage-2 tables translating a guest's IPA space.  The
 *                   caller programs VTCR_EL2 with T0SZ = PGTABLE_T0SZ and
 *                   SL0 = PGTABLE_VTCR_SL0, and leaves HCR_EL2.FWB clear
 *                   (MemAttr is encoded for the non-FWB meaning).
 *   PGTABLE_EL2     the hypervisor's own (non-VHE) EL2 stage-1 tables.  The
 *                   caller programs TCR_EL2.T0SZ = PGTABLE_T0SZ and
 *                   MAIR_EL2 = PGTABLE_MAIR_VALUE, whose attribute
 *                   indices the descriptors refer to.
 *   PGTABLE_EL1     a partition kernel's EL1&0 stage-1 tables (TTBR0_EL1),
 *                   kernel-only: no EL0 access, EL0 never executes (UXN);
 *                   MAIR_EL1 = PGTABLE_MAIR_VALUE, TCR_EL1.T0SZ likewise.
 *
 * What this module deliberately does NOT do, because the caller knows when
 * a table is live and on which PEs:
 *   - no TLB invalidation and no cache maintenance;
 *   - no barriers: after a call returns, the caller issues DSB ISHST (and,
 *     for removed or changed entries, TLBI + DSB ISH + ISB) before relying
 *     on the new state;
 *   - no break-before-make: pgtable_unmap() of part of a block replaces a
 *     valid block descriptor with a table descriptor, which the
 *     architecture only allows on a table not in use by any PE (or with
 *     FEAT_BBM); do it while the table is quiescent, then invalidate the
 *     TLB for the whole old block;
 *   - no locking: calls on one table must be serialised by the caller.
 *
 * Tables are assumed identity mapped (a table's pointer value is its
 * physical address).  Pages are never handed back to the allocator: an
 * intermediate table emptied by pgtable_unmap() stays linked and is reused
 * by later maps of that range, because freeing it safely would need the TLB
 * (walk-cache) invalidation that belongs to the caller.  A consequence is
 * that a range whose intermediate table already exists is mapped with the
 * block sizes that table allows, not with a bigger block above it.
 *
 * Errors are returned as negative errno values from <errno.h>.
 */
#ifndef SHARED_PGTABLE_H
#define SHARED_PGTABLE_H

#include <stddef.h>
#include <stdint.h>

#include <errno.h>

/* Geometry shared with whoever programs TCR_EL2 / VTCR_EL2. */
#define PGTABLE_PAGE_SIZE 4096u
#define PGTABLE_IA_BITS 39u
#define PGTABLE_PA_BITS 48u
#define PGTABLE_T0SZ (64u - PGTABLE_IA_BITS) /* 25 */
#define PGTABLE_VTCR_SL0 1u /* 4 KiB granule: SL0 = 1 starts the walk at level 1 */

/*
 * MAIR_EL2 layout the PGTABLE_EL2 descriptors' AttrIndx values assume:
 * slot 0 Normal write-back (inner and outer, read/write-allocate),
 * slot 1 Device-nGnRnE.
 */
#define PGTABLE_MAIR_IDX_NORMAL 0u
#define PGTABLE_MAIR_IDX_DEVICE 1u
#define PGTABLE_MAIR_ATTR_NORMAL 0xffull
#define PGTABLE_MAIR_ATTR_DEVICE 0x00ull
#define PGTABLE_MAIR_VALUE                                                  \
    ((PGTABLE_MAIR_ATTR_NORMAL << (8u * PGTABLE_MAIR_IDX_NORMAL)) |     \
     (PGTABLE_MAIR_ATTR_DEVICE << (8u * PGTABLE_MAIR_IDX_DEVICE)))

/*
 * Mapping attributes for pgtable_map() and pgtable_lookup().
 * Rules: at least one of R, W, X; W requires R; DEVICE must not be combined
 * with X (speculative instruction fetch from device memory is only stopped by
 * XN); PGTABLE_EL2 cannot express execute-only, so X there requires R.
 */
#define PGTABLE_R 1u
#define PGTABLE_W 2u
#define PGTABLE_X 4u
#define PGTABLE_DEVICE 8u /* Device-nGnRnE instead of Normal write-back */

enum pgtable_format {
    PGTABLE_STAGE2,
    PGTABLE_EL2,
    PGTABLE_EL1,
};

struct pgtable_alloc {
    /*
     * Returns a 4 KiB-aligned page below 2^48, or NULL when out of memory.
     * The module zeroes (or fully writes) every page it gets before use.
     */
    void *(*alloc_page)(void *ctx);
    void *ctx;
};

struct pgtable {
    uint64_t *root; /* level-1 table, 512 entries */
    enum pgtable_format format;
    struct pgtable_alloc alloc;
};

/* Allocates the root table.  -EINVAL on bad arguments, -ENOMEM. */
int pgtable_init(struct pgtable *pt, enum pgtable_format format,
                 const struct pgtable_alloc *alloc);

/*
 * Maps [ia, ia + size) to [pa, pa + size) with attrs, using at each step the
 * largest block (1 GiB, 2 MiB, 4 KiB) that both ia and pa are aligned to.
 * ia, pa and size must be 4 KiB aligned, size > 0, the input range within
 * 2^39 and the output range within 2^48 (-EINVAL).  Returns -EEXIST, with
 * the table untouched, if anything in the range is already mapped.  On
 * -ENOMEM no mapping has been added (intermediate tables already allocated
 * stay linked, empty, for reuse).
 */
int pgtable_map(struct pgtable *pt, uint64_t ia, uint64_t pa, uint64_t size,
                unsigned attrs);

/*
 * Removes whatever is mapped in [ia, ia + size); holes are fine.  A block
 * only partly covered is split first into next-level entries with the same
 * attributes.  On -ENOMEM (no page for a split) the table is unchanged,
 * though up to three pages taken from the allocator before the failure are
 * lost.  Same alignment and range rules as pgtable_map() (-EINVAL).
 */
int pgtable_unmap(struct pgtable *pt, uint64_t ia, uint64_t size);

/*
 * Translates ia (any byte address below 2^39).  On success stores the
 * output address (including ia's offset inside the page) in *pa and the
 * attributes in *attrs; either pointer may be NULL.  -ENOENT if unmapped,
 * -EINVAL if ia is out of range.
 */
int pgtable_lookup(const struct pgtable *pt, uint64_t ia, uint64_t *pa,
                   unsigned *attrs);

/* Physical address of the root table, for VTTBR_EL2 / TTBR0_EL2. */
uint64_t pgtable_root_pa(const struct pgtable *pt);

#endif /* SHARED_PGTABLE_H */
