/*
 * Partition layout: parsing (layout_parse) and validation against the board
 * (layout_validate). Both run on the hypervisor's boot core and in the host unit tests.
 *
 * Layout format (dts/qemu-virt.dts is the reference):
 *   /images/<name>      sha256 = [32 bytes]; size = /bits/ 64 <n>;   (added by mkbundle)
 *   /partitions/<name>  cores = <core...>;  memory = <base-hi base-lo size-hi size-lo>;
 *                       image = "<image name>";  console = <ipa-hi ipa-lo>;
 *                       restart-policy = "restart" | "stop";  restart-limit = <n>;
 *                       may-restart = "<partition>", ...;   (optional)
 *                       perf-control;   (optional: may reset the hypervisor's counters)
 *                       gic = <gicd-hi gicd-lo gicc-hi gicc-lo>;   (optional: a virtual GICv2)
 *                       direct-interrupts;   (optional, with gic and one core: the core's
 *                           interrupts go straight to the partition; see layout.h)
 *                       modules = "<image>", ...;   (optional: data images loaded into
 *                           its RAM below the device tree, verified like the kernel)
 *                       may-request = "<action>", ...;   (optional: what the trusted side
 *                           will do when this partition asks; names of [a-z.]+)
 *   /channels/<name>    between = "<partition a>", "<partition b>";   (optional node)
 *                       memory = <base-hi base-lo size-hi size-lo>;
 *                       slot-size = <bytes>;  slot-count = <n>;
 * A partition's index (its console digit) is its position under /partitions.
 */
#include <libfdt.h>
#include <string.h>

#include <errno.h>
#include "fdt_cells.h"
#include "kprintf.h"
#include "layout.h"
#include "ring.h"

#define PAGE_SIZE 4096u

/* Copy a node name, refusing one that does not fit rather than cutting it short. */
static int copy_name(char dst[LAYOUT_NAME_MAX], const char *src, int len)
{
    if (len <= 0 || len >= LAYOUT_NAME_MAX)
        return -EINVAL;
    memcpy(dst, src, (size_t)len);
    dst[len] = '\0';
    return 0;
}

static int parse_images(const void *fdt, struct layout *l, char *err, size_t errlen)
{
    int images = fdt_path_offset(fdt, "/images");
    int node, len;

    if (images < 0)
        return kfail(err, errlen, -EINVAL, "layout has no /images node");
    fdt_for_each_subnode(node, fdt, images) {
        struct layout_image *img;
        const char *name = fdt_get_name(fdt, node, &len);
        const void *p;

        if (l->nimages == LAYOUT_MAX_IMAGES)
            return kfail(err, errlen, -E2BIG, "layout has more than %d images", LAYOUT_MAX_IMAGES);
        img = &l->images[l->nimages];
        if (!name || copy_name(img->name, name, len))
            return kfail(err, errlen, -EINVAL, "image name too long (at most %d characters)",
                        LAYOUT_NAME_MAX - 1);
        p = fdt_getprop(fdt, node, "sha256", &len);
        if (!p || len != 32)
            return kfail(err, errlen, -EINVAL, "image %s: sha256 missing or not 32 bytes", img->name);
        memcpy(img->sha256, p, 32);
        p = fdt_getprop(fdt, node, "size", &len);
        if (!p || len != 8)
            return kfail(err, errlen, -EINVAL, "image %s: size missing or not 64-bit", img->name);
        img->size = fdt_cells(p, 2);
        l->nimages++;
    }
    return 0;
}

static int find_image(const struct layout *l, const char *name)
{
    for (unsigned i = 0; i < l->nimages; i++)
        if (!strcmp(l->images[i].name, name))
            return (int)i;
    return -1;
}

static int parse_partition(const void *fdt, int node, struct layout *l,
                           struct layout_partition *p, char *err, size_t errlen)
{
    const fdt32_t *cells;
    const char *s;
    int len, img, count;

    cells = fdt_getprop(fdt, node, "cores", &len);
    if (!cells || len <= 0 || len % 4)
        return kfail(err, errlen, -EINVAL, "partition %s: no cores", p->name);
    if (len / 4 > LAYOUT_MAX_CORES)
        return kfail(err, errlen, -E2BIG, "partition %s: more than %d cores", p->name,
                    LAYOUT_MAX_CORES);
    p->ncores = (unsigned)len / 4;
    for (unsigned i = 0; i < p->ncores; i++)
        p->cores[i] = fdt32_to_cpu(cells[i]);

    cells = fdt_getprop(fdt, node, "memory", &len);
    if (!cells || len != 16)
        return kfail(err, errlen, -EINVAL, "partition %s: memory must be <base-hi base-lo size-hi size-lo>",
                    p->name);
    p->mem.base = fdt_cells(cells, 2);
    p->mem.size = fdt_cells(cells + 2, 2);

    cells = fdt_getprop(fdt, node, "console", &len);
    if (!cells || len != 8)
        return kfail(err, errlen, -EINVAL, "partition %s: console must be <ipa-hi ipa-lo>", p->name);
    p->console_ipa = fdt_cells(cells, 2);

    cells = fdt_getprop(fdt, node, "gic", &len);
    if (cells && len != 16)
        return kfail(err, errlen, -EINVAL, "partition %s: gic must be <gicd-hi gicd-lo gicc-hi gicc-lo>",
                     p->name);
    if (cells) {
        p->has_gic = true;
        p->gicd_ipa = fdt_cells(cells, 2);
        p->gicc_ipa = fdt_cells(cells + 2, 2);
    }
    p->direct_irqs = fdt_getprop(fdt, node, "direct-interrupts", NULL) != NULL;
    if (p->direct_irqs && (!p->has_gic || p->ncores != 1))
        return kfail(err, errlen, -EINVAL,
                     "partition %s: direct-interrupts needs a gic and exactly one core", p->name);

    s = fdt_getprop(fdt, node, "image", &len);
    if (!s || len < 1 || s[len - 1] != '\0')
        return kfail(err, errlen, -EINVAL, "partition %s: no image", p->name);
    img = find_image(l, s);
    if (img < 0)
        return kfail(err, errlen, -ENOENT, "partition %s: names missing image '%s'", p->name, s);
    p->image = (unsigned)img;

    count = fdt_stringlist_count(fdt, node, "modules");
    if (count > LAYOUT_MAX_MODULES || (count < 0 && count != -FDT_ERR_NOTFOUND))
        return kfail(err, errlen, -EINVAL, "partition %s: modules must list at most %d image names",
                     p->name, LAYOUT_MAX_MODULES);
    for (int i = 0; i < count; i++) {
        const char *name = fdt_stringlist_get(fdt, node, "modules", i, NULL);

        img = name ? find_image(l, name) : -1;
        if (img < 0)
            return kfail(err, errlen, -ENOENT, "partition %s: modules names missing image '%s'",
                         p->name, name ? name : "?");
        p->modules[p->nmodules++] = (unsigned)img;
    }

    s = fdt_getprop(fdt, node, "restart-policy", &len);
    if (!s || len < 1 || s[len - 1] != '\0' || (strcmp(s, "restart") && strcmp(s, "stop")))
        return kfail(err, errlen, -EINVAL, "partition %s: restart-policy must be \"restart\" or \"stop\"",
                    p->name);
    p->restart_on_fault = !strcmp(s, "restart");

    cells = fdt_getprop(fdt, node, "restart-limit", &len);
    if (!cells || len != 4 || fdt32_to_cpu(cells[0]) > LAYOUT_MAX_RESTARTS)
        return kfail(err, errlen, -EINVAL, "partition %s: restart-limit must be one cell, at most %d",
                    p->name, LAYOUT_MAX_RESTARTS);
    p->restart_limit = fdt32_to_cpu(cells[0]);
    p->perf_control = fdt_getprop(fdt, node, "perf-control", NULL) != NULL;

    count = fdt_stringlist_count(fdt, node, "may-request");
    if (count > LAYOUT_MAX_REQUESTS || (count < 0 && count != -FDT_ERR_NOTFOUND))
        return kfail(err, errlen, -EINVAL, "partition %s: may-request must list at most %d actions",
                     p->name, LAYOUT_MAX_REQUESTS);
    for (int i = 0; i < count; i++) {
        const char *action = fdt_stringlist_get(fdt, node, "may-request", i, &len);
        bool ok = action && len > 0 && len < LAYOUT_REQUEST_MAX;

        for (int k = 0; ok && k < len; k++)
            ok = (action[k] >= 'a' && action[k] <= 'z') || action[k] == '.';
        if (!ok)
            return kfail(err, errlen, -EINVAL,
                         "partition %s: may-request entry %d is not an action name ([a-z.], at most %d characters)",
                         p->name, i, LAYOUT_REQUEST_MAX - 1);
        memcpy(p->requests[p->nrequests++], action, (size_t)len + 1);
    }
    return 0;
}

uint64_t layout_module_base(const struct layout *l, const struct layout_partition *p,
                            unsigned m)
{
    uint64_t top = p->mem.base + p->mem.size, base = top;

    if (p->mem.size < LAYOUT_DTB_SIZE || m >= p->nmodules)
        return 0;
    base -= LAYOUT_DTB_SIZE;
    for (unsigned i = p->nmodules; i-- > m;) {
        uint64_t size = l->images[p->modules[i]].size;

        if (size > base - p->mem.base)
            return 0;   /* does not fit */
        base = (base - size) & ~(uint64_t)(LAYOUT_MODULE_ALIGN - 1);
        if (base < p->mem.base)
            return 0;
    }
    return base;
}

/* may-restart names partitions, so it is resolved once all of them are known. */
static int parse_grants(const void *fdt, int node, struct layout *l, struct layout_partition *p,
                        char *err, size_t errlen)
{
    int len, count = fdt_stringlist_count(fdt, node, "may-restart");

    if (count == -FDT_ERR_NOTFOUND)
        return 0;
    if (count < 0)
        return kfail(err, errlen, -EINVAL, "partition %s: may-restart is not a string list", p->name);
    for (int i = 0; i < count; i++) {
        const char *target = fdt_stringlist_get(fdt, node, "may-restart", i, &len);
        unsigned t;

        for (t = 0; t < l->nparts; t++)
            if (target && !strcmp(l->parts[t].name, target))
                break;
        if (t == l->nparts)
            return kfail(err, errlen, -ENOENT, "partition %s: may-restart names unknown partition '%s'",
                        p->name, target ? target : "?");
        if (l->parts[t].direct_irqs)
            return kfail(err, errlen, -EINVAL,
                         "partition %s: may-restart names %s, which has direct-interrupts: the "
                         "hypervisor cannot interrupt its core to stop it", p->name, target);
        p->may_restart |= 1u << t;
    }
    return 0;
}

static int partition_index(const struct layout *l, const char *name)
{
    for (unsigned i = 0; i < l->nparts; i++)
        if (name && !strcmp(l->parts[i].name, name))
            return (int)i;
    return -1;
}

static int parse_channel(const void *fdt, int node, struct layout *l, struct layout_channel *c,
                         char *err, size_t errlen)
{
    const fdt32_t *cells;
    int len, a, b;

    if (fdt_stringlist_count(fdt, node, "between") != 2)
        return kfail(err, errlen, -EINVAL, "channel %s: between must name two partitions", c->name);
    a = partition_index(l, fdt_stringlist_get(fdt, node, "between", 0, NULL));
    b = partition_index(l, fdt_stringlist_get(fdt, node, "between", 1, NULL));
    if (a < 0 || b < 0)
        return kfail(err, errlen, -ENOENT, "channel %s: between names an unknown partition", c->name);
    if (a == b)
        return kfail(err, errlen, -EINVAL, "channel %s: a partition cannot have a channel to itself",
                     c->name);
    c->a = (unsigned)a;
    c->b = (unsigned)b;
    cells = fdt_getprop(fdt, node, "memory", &len);
    if (!cells || len != 16)
        return kfail(err, errlen, -EINVAL, "channel %s: memory must be <base-hi base-lo size-hi size-lo>",
                     c->name);
    c->mem.base = fdt_cells(cells, 2);
    c->mem.size = fdt_cells(cells + 2, 2);
    cells = fdt_getprop(fdt, node, "slot-size", &len);
    if (!cells || len != 4)
        return kfail(err, errlen, -EINVAL, "channel %s: slot-size must be one cell", c->name);
    c->slot_size = fdt32_to_cpu(cells[0]);
    cells = fdt_getprop(fdt, node, "slot-count", &len);
    if (!cells || len != 4)
        return kfail(err, errlen, -EINVAL, "channel %s: slot-count must be one cell", c->name);
    c->slot_count = fdt32_to_cpu(cells[0]);
    return 0;
}

static int parse_channels(const void *fdt, struct layout *l, char *err, size_t errlen)
{
    int channels = fdt_path_offset(fdt, "/channels"), node, len, rc;

    if (channels < 0)
        return 0;
    fdt_for_each_subnode(node, fdt, channels) {
        struct layout_channel *c;
        const char *name = fdt_get_name(fdt, node, &len);

        if (l->nchannels == LAYOUT_MAX_CHANNELS)
            return kfail(err, errlen, -E2BIG, "layout has more than %d channels", LAYOUT_MAX_CHANNELS);
        c = &l->channels[l->nchannels];
        if (!name || copy_name(c->name, name, len))
            return kfail(err, errlen, -EINVAL, "channel name too long (at most %d characters)",
                         LAYOUT_NAME_MAX - 1);
        rc = parse_channel(fdt, node, l, c, err, errlen);
        if (rc)
            return rc;
        l->nchannels++;
    }
    return 0;
}

int layout_parse(const void *fdt, struct layout *l, char *err, size_t errlen)
{
    int parts, node, len, rc;

    memset(l, 0, sizeof(*l));
    if (fdt_check_header(fdt))
        return kfail(err, errlen, -EINVAL, "layout is not a device tree blob");
    if (fdt_node_check_compatible(fdt, 0, "aios,layout-v1"))
        return kfail(err, errlen, -EINVAL, "layout is not compatible with \"aios,layout-v1\"");
    rc = parse_images(fdt, l, err, errlen);
    if (rc)
        return rc;
    parts = fdt_path_offset(fdt, "/partitions");
    if (parts < 0)
        return kfail(err, errlen, -EINVAL, "layout has no /partitions node");
    fdt_for_each_subnode(node, fdt, parts) {
        struct layout_partition *p;
        const char *name = fdt_get_name(fdt, node, &len);

        if (l->nparts == LAYOUT_MAX_PARTITIONS)
            return kfail(err, errlen, -E2BIG, "layout has more than %d partitions",
                        LAYOUT_MAX_PARTITIONS);
        p = &l->parts[l->nparts];
        if (!name || copy_name(p->name, name, len))
            return kfail(err, errlen, -EINVAL, "partition name too long (at most %d characters)",
                        LAYOUT_NAME_MAX - 1);
        rc = parse_partition(fdt, node, l, p, err, errlen);
        if (rc)
            return rc;
        l->nparts++;
    }
    if (!l->nparts)
        return kfail(err, errlen, -EINVAL, "layout has no partitions");
    for (unsigned i = 0; i < l->nparts; i++) {
        node = fdt_subnode_offset(fdt, parts, l->parts[i].name);
        rc = parse_grants(fdt, node, l, &l->parts[i], err, errlen);
        if (rc)
            return rc;
    }
    return parse_channels(fdt, l, err, errlen);
}

static bool in_ram(const struct board *b, struct range r)
{
    for (unsigned i = 0; i < b->nram; i++)
        if (range_contains(b->ram[i], r))
            return true;
    return false;
}

int layout_validate(const struct layout *l, const struct board *b, char *err, size_t errlen)
{
    for (unsigned i = 0; i < l->nparts; i++) {
        const struct layout_partition *p = &l->parts[i];
        const struct layout_image *img = &l->images[p->image];

        for (unsigned j = 0; j < i; j++)
            if (!strcmp(p->name, l->parts[j].name))
                return kfail(err, errlen, -EINVAL, "two partitions are named %s", p->name);
        if (!p->mem.size || (p->mem.base | p->mem.size) % PAGE_SIZE)
            return kfail(err, errlen, -EINVAL, "partition %s: memory 0x%llx+0x%llx is empty or not 4 KiB aligned",
                        p->name, (unsigned long long)p->mem.base, (unsigned long long)p->mem.size);
        if (p->mem.base + p->mem.size < p->mem.base || !in_ram(b, p->mem))
            return kfail(err, errlen, -EINVAL, "partition %s: memory 0x%llx-0x%llx is not inside the board's RAM",
                        p->name, (unsigned long long)p->mem.base,
                        (unsigned long long)(p->mem.base + p->mem.size));
        for (unsigned r = 0; r < b->nreserved; r++)
            if (range_overlaps(p->mem, b->reserved[r]))
                return kfail(err, errlen, -EINVAL,
                            "partition %s: memory 0x%llx-0x%llx overlaps %s at 0x%llx-0x%llx",
                            p->name, (unsigned long long)p->mem.base,
                            (unsigned long long)(p->mem.base + p->mem.size), b->reserved_what[r],
                            (unsigned long long)b->reserved[r].base,
                            (unsigned long long)(b->reserved[r].base + b->reserved[r].size));
        for (unsigned j = 0; j < i; j++)
            if (range_overlaps(p->mem, l->parts[j].mem))
                return kfail(err, errlen, -EINVAL, "partitions %s and %s overlap in memory",
                            l->parts[j].name, p->name);
        if (img->size > p->mem.size)
            return kfail(err, errlen, -EINVAL, "partition %s: image %s (%llu bytes) does not fit its memory",
                        p->name, img->name, (unsigned long long)img->size);
        if (p->nmodules) {
            uint64_t lowest = layout_module_base(l, p, 0);

            if (lowest == 0 || lowest < p->mem.base + img->size)
                return kfail(err, errlen, -EINVAL,
                             "partition %s: image %s and modules do not fit its memory "
                             "below the device tree", p->name, img->name);
        }
        if (p->console_ipa % PAGE_SIZE ||
            range_overlaps((struct range){ p->console_ipa, PAGE_SIZE }, p->mem))
            return kfail(err, errlen, -EINVAL, "partition %s: console 0x%llx is not a free 4 KiB page",
                        p->name, (unsigned long long)p->console_ipa);
        if (p->has_gic) {
            struct range gicd = { p->gicd_ipa, PAGE_SIZE }, gicc = { p->gicc_ipa, 2 * PAGE_SIZE };
            struct range uart = { p->console_ipa, PAGE_SIZE };

            if ((p->gicd_ipa | p->gicc_ipa) % PAGE_SIZE || range_overlaps(gicd, p->mem) ||
                range_overlaps(gicc, p->mem) || range_overlaps(gicd, gicc) ||
                range_overlaps(gicd, uart) || range_overlaps(gicc, uart))
                return kfail(err, errlen, -EINVAL,
                             "partition %s: gic pages must be page aligned and overlap nothing else",
                             p->name);
        }
        for (unsigned c = 0; c < p->ncores; c++) {
            if (p->cores[c] >= b->ncores)
                return kfail(err, errlen, -EINVAL, "partition %s: core %u does not exist (board has %u)",
                            p->name, p->cores[c], b->ncores);
            for (unsigned d = 0; d < c; d++)
                if (p->cores[d] == p->cores[c])
                    return kfail(err, errlen, -EINVAL, "partition %s: core %u listed twice", p->name,
                                p->cores[c]);
            for (unsigned j = 0; j < i; j++)
                for (unsigned d = 0; d < l->parts[j].ncores; d++)
                    if (l->parts[j].cores[d] == p->cores[c])
                        return kfail(err, errlen, -EINVAL, "core %u is given to both %s and %s",
                                    p->cores[c], l->parts[j].name, p->name);
        }
    }
    for (unsigned i = 0; i < l->nchannels; i++) {
        const struct layout_channel *c = &l->channels[i];

        if (!c->mem.size || (c->mem.base | c->mem.size) % PAGE_SIZE ||
            c->mem.base + c->mem.size < c->mem.base || !in_ram(b, c->mem))
            return kfail(err, errlen, -EINVAL,
                         "channel %s: memory 0x%llx+0x%llx is not page-aligned memory inside the board's RAM",
                         c->name, (unsigned long long)c->mem.base, (unsigned long long)c->mem.size);
        for (unsigned r = 0; r < b->nreserved; r++)
            if (range_overlaps(c->mem, b->reserved[r]))
                return kfail(err, errlen, -EINVAL, "channel %s: memory overlaps %s", c->name,
                             b->reserved_what[r]);
        for (unsigned j = 0; j < l->nparts; j++)
            if (range_overlaps(c->mem, l->parts[j].mem))
                return kfail(err, errlen, -EINVAL, "channel %s: memory overlaps partition %s", c->name,
                             l->parts[j].name);
        for (unsigned j = 0; j < i; j++)
            if (range_overlaps(c->mem, l->channels[j].mem))
                return kfail(err, errlen, -EINVAL, "channels %s and %s overlap in memory",
                             l->channels[j].name, c->name);
        if (!ring_params_ok(c->mem.size / 2, c->slot_size, c->slot_count))
            return kfail(err, errlen, -EINVAL,
                         "channel %s: two rings of %u slots of %u bytes do not fit in 0x%llx bytes "
                         "(slots: a power of two; slot size: a power of two, %d to %d)",
                         c->name, c->slot_count, c->slot_size, (unsigned long long)c->mem.size,
                         RING_MIN_SLOT, RING_MAX_SLOT);
    }
    return 0;
}
