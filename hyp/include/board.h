/*
 * Board facts, read from the device tree the firmware (or QEMU) hands over in x0: RAM,
 * reserved memory, cores, interrupt controller, console UART, PSCI (SMC only) and the boot
 * bundle (/chosen linux,initrd-*). Nothing else in the hypervisor knows a board address.
 */
#ifndef HYP_BOARD_H
#define HYP_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOARD_MAX_CORES     8
#define BOARD_MAX_RAM       8
#define BOARD_MAX_RESERVED  16

struct range {
    uint64_t base;
    uint64_t size;
};

struct board {
    struct range ram[BOARD_MAX_RAM];
    unsigned nram;
    /* Memory no partition may be given: firmware, DTB, bundle, the hypervisor itself. */
    struct range reserved[BOARD_MAX_RESERVED];
    const char *reserved_what[BOARD_MAX_RESERVED];
    unsigned nreserved;
    uint64_t mpidr[BOARD_MAX_CORES];    /* core index -> MPIDR affinity */
    unsigned ncores;
    struct range uart;
    struct range gicd, gicc, gich, gicv;
    struct range bundle;                /* the initrd: our boot bundle */
    unsigned hyp_timer_intid;           /* EL2 physical timer's PPI, as a GIC INTID */
    unsigned maintenance_intid;         /* the GIC's maintenance interrupt */
    unsigned vtimer_intid;              /* EL1 virtual timer's PPI: forwarded to partitions */
};

static inline bool range_overlaps(struct range a, struct range b)
{
    return a.base < b.base + b.size && b.base < a.base + a.size;
}

static inline bool range_contains(struct range outer, struct range inner)
{
    return inner.base >= outer.base && inner.size <= outer.size &&
           inner.base - outer.base <= outer.size - inner.size;
}

/* Parse the board DTB into *b. On error returns a negative errno and says why in err. */
int board_parse(const void *dtb, struct board *b, char *err, size_t errlen);
/* Add a reserved range (the hypervisor image, for instance). -ENOSPC when full. */
int board_reserve(struct board *b, uint64_t base, uint64_t size, const char *what);

#endif /* HYP_BOARD_H */
