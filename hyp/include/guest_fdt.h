/*
 * The device tree each partition boots with (x0 at entry, as Linux's booting.rst asks):
 * its memory, its vCPUs, PSCI over HVC, its console and its channels, all in its own
 * address space.
 */
#ifndef HYP_GUEST_FDT_H
#define HYP_GUEST_FDT_H

#include <stdint.h>

#include "layout.h"

struct partition;

#define GUEST_FDT_SIZE  LAYOUT_DTB_SIZE   /* kept at the top of the partition's RAM */

/* Write p's device tree into its RAM; returns its address, 0 if it did not fit. */
uint64_t guest_fdt_write(const struct partition *p);

#endif /* HYP_GUEST_FDT_H */
