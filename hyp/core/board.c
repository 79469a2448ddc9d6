/*
 * Board discovery from the device tree in x0. We read only what the hypervisor itself
 * drives or must keep partitions away from; everything is checked, since a DTB from
 * another firmware may lack what QEMU's has.
 */
#include <libfdt.h>
#include <string.h>

#include "board.h"
#include "fdt_cells.h"
#include <errno.h>
#include "kprintf.h"

/* The idx-th (address, size) pair of node's reg, in the parent's cell sizes. */
static int reg_range(const void *fdt, int node, int idx, struct range *r)
{
    int parent = fdt_parent_offset(fdt, node);
    int ac = fdt_address_cells(fdt, parent), sc = fdt_size_cells(fdt, parent), len;
    const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

    if (!reg || ac < 1 || ac > 2 || sc < 1 || sc > 2)
        return -EINVAL;
    if ((idx + 1) * (ac + sc) * 4 > len)
        return -ENOENT;
    reg += idx * (ac + sc);
    r->base = fdt_cells(reg, ac);
    r->size = fdt_cells(reg + ac, sc);
    return 0;
}

int board_reserve(struct board *b, uint64_t base, uint64_t size, const char *what)
{
    if (b->nreserved == BOARD_MAX_RESERVED)
        return -ENOSPC;
    b->reserved[b->nreserved] = (struct range){ base, size };
    b->reserved_what[b->nreserved] = what;
    b->nreserved++;
    return 0;
}

static int parse_memory(const void *fdt, struct board *b, char *err, size_t errlen)
{
    int node;

    for (node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", sizeof("memory"));
         node >= 0;
         node = fdt_node_offset_by_prop_value(fdt, node, "device_type", "memory", sizeof("memory"))) {
        struct range r;

        for (int i = 0; reg_range(fdt, node, i, &r) == 0; i++) {
            if (!r.size)
                continue;
            if (b->nram == BOARD_MAX_RAM)
                return kfail(err, errlen, -E2BIG, "board has more than %d RAM ranges", BOARD_MAX_RAM);
            b->ram[b->nram++] = r;
        }
    }
    if (!b->nram)
        return kfail(err, errlen, -ENOENT, "board DTB has no memory node");
    return 0;
}

static int parse_reserved(const void *dtb, struct board *b, char *err, size_t errlen)
{
    int n = fdt_num_mem_rsv(dtb), node, parent;
    uint64_t base, size;

    for (int i = 0; i < n; i++) {
        if (fdt_get_mem_rsv(dtb, i, &base, &size) == 0 && size &&
            board_reserve(b, base, size, "firmware-reserved memory"))
            return kfail(err, errlen, -E2BIG, "board reserves too many ranges");
    }
    parent = fdt_path_offset(dtb, "/reserved-memory");
    if (parent < 0)
        return 0;
    fdt_for_each_subnode(node, dtb, parent) {
        struct range r;

        if (reg_range(dtb, node, 0, &r) == 0 && r.size &&
            board_reserve(b, r.base, r.size, "firmware-reserved memory"))
            return kfail(err, errlen, -E2BIG, "board reserves too many ranges");
    }
    return 0;
}

static int parse_cpus(const void *fdt, struct board *b, char *err, size_t errlen)
{
    int cpus = fdt_path_offset(fdt, "/cpus"), node;

    if (cpus < 0)
        return kfail(err, errlen, -ENOENT, "board DTB has no /cpus");
    fdt_for_each_subnode(node, fdt, cpus) {
        const char *type = fdt_getprop(fdt, node, "device_type", NULL);
        int ac = fdt_address_cells(fdt, cpus), len;
        const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

        if (!type || strcmp(type, "cpu"))
            continue;
        if (!reg || ac < 1 || ac > 2 || len < ac * 4)
            return kfail(err, errlen, -EINVAL, "a cpu node has no usable reg");
        if (b->ncores == BOARD_MAX_CORES)
            return kfail(err, errlen, -E2BIG, "board has more than %d cores", BOARD_MAX_CORES);
        b->mpidr[b->ncores++] = fdt_cells(reg, ac);
    }
    if (!b->ncores)
        return kfail(err, errlen, -ENOENT, "board DTB lists no cpus");
    return 0;
}

static int parse_gic(const void *fdt, struct board *b, char *err, size_t errlen)
{
    static const char *const compatible[] = { "arm,gic-400", "arm,cortex-a15-gic" };
    const fdt32_t *irqs;
    int node = -1, len;

    for (unsigned i = 0; i < sizeof(compatible) / sizeof(compatible[0]) && node < 0; i++)
        node = fdt_node_offset_by_compatible(fdt, -1, compatible[i]);
    if (node < 0)
        return kfail(err, errlen, -ENOENT, "board DTB has no GICv2 (arm,gic-400 or arm,cortex-a15-gic)");
    if (reg_range(fdt, node, 0, &b->gicd) || reg_range(fdt, node, 1, &b->gicc) ||
        reg_range(fdt, node, 2, &b->gich) || reg_range(fdt, node, 3, &b->gicv))
        return kfail(err, errlen, -EINVAL,
                    "GIC node lacks the virtualization extension regions (GICH, GICV)");
    irqs = fdt_getprop(fdt, node, "interrupts", &len);
    if (!irqs || len < 12 || fdt32_to_cpu(irqs[0]) != 1)
        return kfail(err, errlen, -EINVAL, "GIC node has no maintenance interrupt (a PPI)");
    b->maintenance_intid = 16 + fdt32_to_cpu(irqs[1]);
    return 0;
}

static int parse_uart(const void *fdt, struct board *b, char *err, size_t errlen)
{
    int chosen = fdt_path_offset(fdt, "/chosen"), node = -1, len;
    const char *path = chosen >= 0 ? fdt_getprop(fdt, chosen, "stdout-path", &len) : NULL;

    if (path) {
        /* stdout-path may carry options after a ':' ("serial0:115200n8"). */
        const char *colon = memchr(path, ':', (size_t)len);
        int plen = colon ? (int)(colon - path) : (int)strnlen(path, (size_t)len);

        node = path[0] == '/' ? fdt_path_offset_namelen(fdt, path, plen) : -1;
        if (node < 0 && path[0] != '/') {
            const char *alias = fdt_get_alias_namelen(fdt, path, plen);
            node = alias ? fdt_path_offset(fdt, alias) : -1;
        }
    }
    if (node < 0 || fdt_node_check_compatible(fdt, node, "arm,pl011"))
        node = fdt_node_offset_by_compatible(fdt, -1, "arm,pl011");
    if (node < 0 || reg_range(fdt, node, 0, &b->uart))
        return kfail(err, errlen, -ENOENT, "board DTB has no PL011 console");
    return 0;
}

/* The generic timer's interrupts are, in order: secure, non-secure physical, virtual and
 * hypervisor physical timer; each a 3-cell GIC specifier <type number flags>. */
static int parse_timer(const void *fdt, struct board *b, char *err, size_t errlen)
{
    int node = fdt_node_offset_by_compatible(fdt, -1, "arm,armv8-timer"), len;
    const fdt32_t *irqs = node >= 0 ? fdt_getprop(fdt, node, "interrupts", &len) : NULL;

    if (!irqs || len < 4 * 3 * 4 || fdt32_to_cpu(irqs[6]) != 1 || fdt32_to_cpu(irqs[9]) != 1)
        return kfail(err, errlen, -ENOENT,
                     "board DTB has no arm,armv8-timer with virtual and hypervisor timer PPIs");
    b->vtimer_intid = 16 + fdt32_to_cpu(irqs[7]);       /* PPI n is INTID 16 + n */
    b->hyp_timer_intid = 16 + fdt32_to_cpu(irqs[10]);
    return 0;
}

static int parse_chosen(const void *fdt, struct board *b, char *err, size_t errlen)
{
    int chosen = fdt_path_offset(fdt, "/chosen"), ls, le;
    const fdt32_t *s = chosen >= 0 ? fdt_getprop(fdt, chosen, "linux,initrd-start", &ls) : NULL;
    const fdt32_t *e = chosen >= 0 ? fdt_getprop(fdt, chosen, "linux,initrd-end", &le) : NULL;
    uint64_t start, end;

    if (!s || !e || (ls != 4 && ls != 8) || (le != 4 && le != 8))
        return kfail(err, errlen, -ENOENT,
                    "no boot bundle: /chosen has no linux,initrd-start/end (QEMU: -initrd bundle.img)");
    start = fdt_cells(s, ls / 4);
    end = fdt_cells(e, le / 4);
    if (end <= start)
        return kfail(err, errlen, -EINVAL, "boot bundle range is empty");
    b->bundle = (struct range){ start, end - start };
    if (board_reserve(b, start, end - start, "the boot bundle"))
        return kfail(err, errlen, -E2BIG, "board reserves too many ranges");
    return 0;
}

static int parse_psci(const void *fdt, char *err, size_t errlen)
{
    int node = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-0.2");
    const char *method;

    if (node < 0)
        node = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-1.0");
    method = node >= 0 ? fdt_getprop(fdt, node, "method", NULL) : NULL;
    if (!method)
        return kfail(err, errlen, -ENOENT, "board DTB has no PSCI 0.2+ node with a method");
    /* HVC would call ourselves: firmware below EL2 is only reachable with SMC. */
    if (strcmp(method, "smc"))
        return kfail(err, errlen, -EINVAL, "PSCI method is '%s'; a hypervisor needs firmware PSCI over smc",
                    method);
    return 0;
}

int board_parse(const void *dtb, struct board *b, char *err, size_t errlen)
{
    int rc;

    memset(b, 0, sizeof(*b));
    if (fdt_check_header(dtb))
        return kfail(err, errlen, -EINVAL, "x0 does not point at a device tree blob");
    if ((rc = parse_memory(dtb, b, err, errlen)) || (rc = parse_reserved(dtb, b, err, errlen)) ||
        (rc = parse_cpus(dtb, b, err, errlen)) || (rc = parse_gic(dtb, b, err, errlen)) ||
        (rc = parse_timer(dtb, b, err, errlen)) ||
        (rc = parse_uart(dtb, b, err, errlen)) || (rc = parse_chosen(dtb, b, err, errlen)) ||
        (rc = parse_psci(dtb, err, errlen)))
        return rc;
    if (board_reserve(b, (uintptr_t)dtb, fdt_totalsize(dtb), "the board DTB"))
        return kfail(err, errlen, -E2BIG, "board reserves too many ranges");
    return 0;
}
