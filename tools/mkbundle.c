/*
 * mkbundle: builds a boot bundle and the measured partition layout.
 *
 *   mkbundle LAYOUT-IN.dtb IMAGE-DIR LAYOUT-OUT.dtb BUNDLE-OUT.img
 *
 * Reads the layout compiled by dtc from dts/, finds each image listed under /images
 * (property "file", looked up in IMAGE-DIR), writes the bundle (shared/include/bundle.h)
 * and a copy of the layout with every image's sha256 and size filled in. The hypervisor
 * links that layout in and refuses any image that does not match it.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "sha256.h"

static void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "mkbundle: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(1);
}

static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    void *buf;
    long n;

    if (!f)
        die("cannot open %s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
        die("cannot size %s: %s", path, strerror(errno));
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        die("cannot read %s: %s", path, strerror(errno));
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");

    if (!f || fwrite(data, 1, size, f) != size || fclose(f))
        die("cannot write %s: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
    struct bundle_header *hdr;
    size_t layout_size, total;
    void *layout_in, *layout;
    uint8_t *bundle;
    int images, node, count = 0;

    if (argc != 5) {
        fprintf(stderr, "usage: mkbundle LAYOUT-IN.dtb IMAGE-DIR LAYOUT-OUT.dtb BUNDLE-OUT.img\n");
        return 2;
    }
    layout_in = read_file(argv[1], &layout_size);
    if (fdt_check_header(layout_in) || fdt_totalsize(layout_in) > layout_size)
        die("%s is not a device tree blob%s", argv[1], "");
    layout_size = fdt_totalsize(layout_in) + BUNDLE_MAX_IMAGES * 128;
    layout = malloc(layout_size);
    if (!layout || fdt_open_into(layout_in, layout, (int)layout_size))
        die("cannot open %s for editing%s", argv[1], "");

    total = BUNDLE_ALIGN;   /* the header's page */
    bundle = calloc(1, total);
    hdr = (struct bundle_header *)bundle;
    images = fdt_path_offset(layout, "/images");
    if (images < 0)
        die("%s has no /images node%s", argv[1], "");
    fdt_for_each_subnode(node, layout, images) {
        const char *name = fdt_get_name(layout, node, NULL);
        const char *file = fdt_getprop(layout, node, "file", NULL);
        char path[4096];
        uint8_t digest[SHA256_DIGEST_SIZE];
        size_t size, offset = total;
        fdt64_t size_be;
        void *data;

        if (!file)
            die("image %s has no file property%s", name, "");
        if (strlen(name) > BUNDLE_NAME_MAX)
            die("image name %s is longer than the bundle allows%s", name, "");
        if (count == BUNDLE_MAX_IMAGES)
            die("more images than a bundle holds%s%s", "", "");
        snprintf(path, sizeof(path), "%s/%s", argv[2], file);
        data = read_file(path, &size);
        sha256(data, size, digest);
        total = offset + ((size + BUNDLE_ALIGN - 1) / BUNDLE_ALIGN) * BUNDLE_ALIGN;
        bundle = realloc(bundle, total);
        if (!bundle)
            die("out of memory%s%s", "", "");
        hdr = (struct bundle_header *)bundle;
        memset(bundle + offset, 0, total - offset);
        memcpy(bundle + offset, data, size);
        memcpy(hdr->entries[count].name, name, strnlen(name, BUNDLE_NAME_MAX));
        hdr->entries[count].offset = offset;
        hdr->entries[count].size = size;
        count++;
        size_be = cpu_to_fdt64(size);
        /* node offsets stay valid: setprop only grows properties of this node */
        if (fdt_setprop(layout, node, "sha256", digest, sizeof(digest)) ||
            fdt_setprop(layout, node, "size", &size_be, sizeof(size_be)))
            die("cannot add the hash of %s to the layout%s", name, "");
        free(data);
    }
    hdr->magic = BUNDLE_MAGIC;
    hdr->version = BUNDLE_VERSION;
    hdr->count = (uint32_t)count;
    hdr->total_size = total;
    fdt_pack(layout);
    write_file(argv[3], layout, fdt_totalsize(layout));
    write_file(argv[4], bundle, total);
    return 0;
}
