/*
 * Reading device-tree numbers: an address or size is one or two big-endian cells
 * (#address-cells / #size-cells). Shared by every image that parses a tree with libfdt.
 */
#ifndef SHARED_FDT_CELLS_H
#define SHARED_FDT_CELLS_H

#include <libfdt.h>
#include <stdint.h>

static inline uint64_t fdt_cells(const fdt32_t *p, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v = v << 32 | fdt32_to_cpu(p[i]);
    return v;
}

#endif /* SHARED_FDT_CELLS_H */
