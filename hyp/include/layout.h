/*
 * The partition layout: which partitions exist, their cores, memory, boot image and
 * restart policy, and the images' SHA-256. It is a device tree compiled from dts/ by dtc
 * (hashes added by tools/mkbundle) and linked into the hypervisor image, so the layout
 * is part of what the boot chain measures.
 */
#ifndef HYP_LAYOUT_H
#define HYP_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"

#define LAYOUT_MAX_PARTITIONS  4
#define LAYOUT_MAX_IMAGES      8
#define LAYOUT_MAX_CORES       BOARD_MAX_CORES
#define LAYOUT_NAME_MAX        16   /* including the NUL */
#define LAYOUT_MAX_RESTARTS    1000
#define LAYOUT_MAX_CHANNELS    8
#define LAYOUT_MAX_MODULES     4
#define LAYOUT_MAX_REQUESTS    24
#define LAYOUT_REQUEST_MAX     24   /* an action name, NUL included: "partition.restart" */
#define LAYOUT_DTB_SIZE        (64 * 1024)   /* a partition's device tree, at the top of its RAM */
#define LAYOUT_MODULE_ALIGN    (64 * 1024)

struct layout_image {
    char name[LAYOUT_NAME_MAX];
    uint8_t sha256[32];
    uint64_t size;
};

struct layout_partition {
    char name[LAYOUT_NAME_MAX];
    unsigned cores[LAYOUT_MAX_CORES];   /* board core indices; cores[0] boots */
    unsigned ncores;
    struct range mem;                   /* RAM: IPA == PA */
    uint64_t console_ipa;               /* where the partition sees its PL011 */
    bool has_gic;                       /* a virtual GIC (optional "gic" property) */
    uint64_t gicd_ipa, gicc_ipa;        /* where it sees the distributor, CPU interface */
    /* The core's physical interrupts are taken by the partition itself, not by the
     * hypervisor: its GICC is the physical CPU interface (banked: this core's only), the
     * distributor stays emulated and passes through the partition's own interrupts
     * (virtual timer, doorbells as SGIs). No trap is ever needed to deliver an interrupt,
     * so latency is the bare kernel's; the price is that the hypervisor cannot interrupt
     * the core, hence one core and no may-restart from outside. */
    bool direct_irqs;
    unsigned image;                     /* index into layout.images */
    bool restart_on_fault;
    unsigned restart_limit;             /* fault restarts before the partition is failed */
    uint32_t may_restart;               /* bitmap of partitions it may restart */
    bool perf_control;                  /* may reset the hypervisor's counters */
    /* Data images loaded beside the kernel (optional "modules" property: a model, a
     * tokenizer), verified like it; see layout_module_base for where they go. */
    unsigned modules[LAYOUT_MAX_MODULES];
    unsigned nmodules;
    /* Actions the trusted side carries out when this partition asks (optional
     * "may-request" property: the intents the AI partition may turn into actions). The
     * hypervisor only passes the list on, in the device tree of each partition it has a
     * channel to; the RT kernel enforces it. */
    char requests[LAYOUT_MAX_REQUESTS][LAYOUT_REQUEST_MAX];
    unsigned nrequests;
};

/* Shared memory between two partitions: two rings, a to b in the first half of the
 * memory, b to a in the second. IPA == PA in both partitions. */
struct layout_channel {
    char name[LAYOUT_NAME_MAX];
    unsigned a, b;                      /* partition indices */
    struct range mem;
    uint32_t slot_size, slot_count;
};

struct layout {
    struct layout_image images[LAYOUT_MAX_IMAGES];
    unsigned nimages;
    struct layout_partition parts[LAYOUT_MAX_PARTITIONS];
    unsigned nparts;
    struct layout_channel channels[LAYOUT_MAX_CHANNELS];
    unsigned nchannels;
};

/*
 * Where module m of partition p goes in its RAM: the modules are stacked below the
 * device tree at the top of RAM, in the order listed, each on a LAYOUT_MODULE_ALIGN
 * boundary (so the partition's kernel, at the bottom, keeps the most room for itself).
 */
uint64_t layout_module_base(const struct layout *l, const struct layout_partition *p,
                            unsigned m);

/* Read the layout DTB. Structural errors (missing or malformed properties). */
int layout_parse(const void *fdt, struct layout *l, char *err, size_t errlen);
/* Check the layout against the board: RAM, reserved memory, overlaps, cores. */
int layout_validate(const struct layout *l, const struct board *b, char *err, size_t errlen);

#endif /* HYP_LAYOUT_H */
