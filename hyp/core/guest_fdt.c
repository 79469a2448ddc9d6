/*
 * Per-partition device tree, built at load time with libfdt's sequential writer from the
 * layout: what the partition owns and nothing else. Our own kernels read it the same way
 * an unmodified Linux does.
 */
#include <libfdt.h>
#include <string.h>

#include "guest_fdt.h"
#include "hyp.h"
#include "kprintf.h"

static int prop_u64_pair(void *fdt, const char *name, uint64_t a, uint64_t b)
{
    fdt32_t cells[4] = { cpu_to_fdt32(a >> 32), cpu_to_fdt32(a), cpu_to_fdt32(b >> 32),
                         cpu_to_fdt32(b) };

    return fdt_property(fdt, name, cells, sizeof(cells));
}

static int build(void *fdt, const struct partition *p, uint64_t dtb_ipa)
{
    const struct layout_partition *cfg = p->cfg;
    char name[48];
    int rc = 0;

    rc |= fdt_create(fdt, GUEST_FDT_SIZE);
    /* The tree's own pages are reserved so the partition does not allocate over them. */
    rc |= fdt_add_reservemap_entry(fdt, dtb_ipa, GUEST_FDT_SIZE);
    /* So are the modules': data the partition reads, not memory it may reuse. */
    for (unsigned m = 0; m < cfg->nmodules; m++)
        rc |= fdt_add_reservemap_entry(fdt, layout_module_base(&layout, cfg, m),
                                       layout.images[cfg->modules[m]].size);
    rc |= fdt_finish_reservemap(fdt);
    rc |= fdt_begin_node(fdt, "");
    rc |= fdt_property_u32(fdt, "#address-cells", 2);
    rc |= fdt_property_u32(fdt, "#size-cells", 2);
    rc |= fdt_property_string(fdt, "compatible", "aios,partition");
    ksnprintf(name, sizeof(name), "aios partition %s", cfg->name);
    rc |= fdt_property_string(fdt, "model", name);

    ksnprintf(name, sizeof(name), "/pl011@%llx", (unsigned long long)cfg->console_ipa);
    rc |= fdt_begin_node(fdt, "chosen");
    rc |= fdt_property_string(fdt, "stdout-path", name);
    rc |= fdt_property_string(fdt, "aios,partition-name", cfg->name);
    rc |= fdt_property_u32(fdt, "aios,partition-index", p->index);
    rc |= fdt_end_node(fdt);

    ksnprintf(name, sizeof(name), "memory@%llx", (unsigned long long)cfg->mem.base);
    rc |= fdt_begin_node(fdt, name);
    rc |= fdt_property_string(fdt, "device_type", "memory");
    rc |= prop_u64_pair(fdt, "reg", cfg->mem.base, cfg->mem.size);
    rc |= fdt_end_node(fdt);

    rc |= fdt_begin_node(fdt, "cpus");
    rc |= fdt_property_u32(fdt, "#address-cells", 1);
    rc |= fdt_property_u32(fdt, "#size-cells", 0);
    for (unsigned v = 0; v < p->nvcpus; v++) {
        ksnprintf(name, sizeof(name), "cpu@%u", v);
        rc |= fdt_begin_node(fdt, name);
        rc |= fdt_property_string(fdt, "device_type", "cpu");
        rc |= fdt_property_string(fdt, "compatible", "arm,cortex-a76");
        rc |= fdt_property_u32(fdt, "reg", v);
        rc |= fdt_property_string(fdt, "enable-method", "psci");
        rc |= fdt_end_node(fdt);
    }
    rc |= fdt_end_node(fdt);

    rc |= fdt_begin_node(fdt, "psci");
    rc |= fdt_property(fdt, "compatible", "arm,psci-1.0\0arm,psci-0.2", sizeof("arm,psci-1.0\0arm,psci-0.2"));
    rc |= fdt_property_string(fdt, "method", "hvc");
    rc |= fdt_end_node(fdt);

    if (cfg->has_gic) {
        ksnprintf(name, sizeof(name), "interrupt-controller@%llx", (unsigned long long)cfg->gicd_ipa);
        rc |= fdt_begin_node(fdt, name);
        rc |= fdt_property_string(fdt, "compatible", "arm,cortex-a15-gic");
        rc |= fdt_property_u32(fdt, "#interrupt-cells", 3);
        rc |= fdt_property(fdt, "interrupt-controller", NULL, 0);
        {
            fdt32_t reg[8] = { cpu_to_fdt32(cfg->gicd_ipa >> 32), cpu_to_fdt32(cfg->gicd_ipa),
                               0, cpu_to_fdt32(0x1000),
                               cpu_to_fdt32(cfg->gicc_ipa >> 32), cpu_to_fdt32(cfg->gicc_ipa),
                               0, cpu_to_fdt32(0x2000) };
            rc |= fdt_property(fdt, "reg", reg, sizeof(reg));
        }
        rc |= fdt_property_u32(fdt, "phandle", 1);
        rc |= fdt_end_node(fdt);
    }

    if (cfg->has_gic) {
        /* Only the virtual timer is the partition's; the GIC binding wants all four
         * entries (secure, non-secure physical, virtual, hypervisor), so the others name
         * the same PPI and are never raised. */
        fdt32_t irqs[12];

        for (unsigned i = 0; i < 4; i++) {
            irqs[3 * i] = cpu_to_fdt32(1);
            irqs[3 * i + 1] = cpu_to_fdt32(board.vtimer_intid - 16);
            irqs[3 * i + 2] = cpu_to_fdt32(4);   /* level, active high */
        }
        rc |= fdt_begin_node(fdt, "timer");
        rc |= fdt_property_string(fdt, "compatible", "arm,armv8-timer");
        rc |= fdt_property_u32(fdt, "interrupt-parent", 1);
        rc |= fdt_property(fdt, "interrupts", irqs, sizeof(irqs));
        rc |= fdt_end_node(fdt);
    }

    ksnprintf(name, sizeof(name), "pl011@%llx", (unsigned long long)cfg->console_ipa);
    rc |= fdt_begin_node(fdt, name);
    rc |= fdt_property(fdt, "compatible", "arm,pl011\0arm,primecell", sizeof("arm,pl011\0arm,primecell"));
    rc |= prop_u64_pair(fdt, "reg", cfg->console_ipa, 0x1000);
    rc |= fdt_end_node(fdt);

    /* Modules: where each data image is in its RAM, verified by the hypervisor. */
    for (unsigned m = 0; m < cfg->nmodules; m++) {
        const struct layout_image *img = &layout.images[cfg->modules[m]];
        uint64_t base = layout_module_base(&layout, cfg, m);

        ksnprintf(name, sizeof(name), "module@%llx", (unsigned long long)base);
        rc |= fdt_begin_node(fdt, name);
        rc |= fdt_property_string(fdt, "compatible", "aios,module");
        rc |= fdt_property_string(fdt, "aios,name", img->name);
        rc |= prop_u64_pair(fdt, "reg", base, img->size);
        rc |= fdt_end_node(fdt);
    }

    for (unsigned c = 0; c < layout.nchannels; c++) {
        const struct layout_channel *ch = &layout.channels[c];
        uint32_t half = (uint32_t)(ch->mem.size / 2);
        bool is_a = ch->a == p->index;

        if (!is_a && ch->b != p->index)
            continue;
        ksnprintf(name, sizeof(name), "channel@%llx", (unsigned long long)ch->mem.base);
        rc |= fdt_begin_node(fdt, name);
        rc |= fdt_property_string(fdt, "compatible", "aios,channel");
        rc |= prop_u64_pair(fdt, "reg", ch->mem.base, ch->mem.size);
        rc |= fdt_property_string(fdt, "aios,peer", layout.parts[is_a ? ch->b : ch->a].name);
        /* The first half carries a to b, the second b to a. */
        rc |= fdt_property_u32(fdt, "aios,tx-offset", is_a ? 0 : half);
        rc |= fdt_property_u32(fdt, "aios,rx-offset", is_a ? half : 0);
        rc |= fdt_property_u32(fdt, "aios,ring-size", half);
        rc |= fdt_property_u32(fdt, "aios,channel-index", c);
        {
            /* What the peer may ask this end to do (its layout's may-request). */
            const struct layout_partition *peer = &layout.parts[is_a ? ch->b : ch->a];
            char list[LAYOUT_MAX_REQUESTS * LAYOUT_REQUEST_MAX];
            size_t len = 0;

            for (unsigned r = 0; r < peer->nrequests; r++) {
                size_t n = strlen(peer->requests[r]) + 1;

                memcpy(list + len, peer->requests[r], n);
                len += n;
            }
            rc |= fdt_property(fdt, "aios,peer-may-request", list, (int)len);
        }
        if (p->cfg->direct_irqs) {
            /* The doorbell is an SGI, which the GIC binding cannot name: our own property. */
            rc |= fdt_property_u32(fdt, "aios,doorbell-sgi", DIRECT_DOORBELL_SGI + c);
        } else if (p->cfg->has_gic) {
            /* The doorbell: SPI c, edge-triggered (GIC binding: <0 c 1>). */
            fdt32_t irq[3] = { 0, cpu_to_fdt32(c), cpu_to_fdt32(1) };

            rc |= fdt_property_u32(fdt, "interrupt-parent", 1);
            rc |= fdt_property(fdt, "interrupts", irq, sizeof(irq));
        }
        rc |= fdt_end_node(fdt);
    }

    rc |= fdt_end_node(fdt);
    rc |= fdt_finish(fdt);
    return rc;
}

uint64_t guest_fdt_write(const struct partition *p)
{
    uint64_t ipa = p->cfg->mem.base + p->cfg->mem.size - GUEST_FDT_SIZE;

    /* IPA == PA for partition RAM, and the hypervisor maps all RAM 1:1. */
    if (p->cfg->mem.size < 2 * GUEST_FDT_SIZE ||
        p->image->size > p->cfg->mem.size - GUEST_FDT_SIZE ||
        build((void *)(uintptr_t)ipa, p, ipa))
        return 0;
    return ipa;
}
