/*
 * Unit tests for the partition layout (hyp/core/layout.c) and board discovery
 * (hyp/core/board.c).
 *
 * Layout DTBs are written here with libfdt's sequential-write API from a table that
 * describes images and partitions, so each test states only how it differs from the
 * default layout (dts/qemu-virt.dts). They are checked against a board built by hand:
 * QEMU virt's 2 GiB at 0x4000_0000 and 4 cores, with the hypervisor (0x4020_0000,
 * 2 MiB) and the boot bundle (0x4800_0000, 1 MiB) reserved. Every refusal must come
 * with a message naming the problem, since that message is all a user sees when the
 * hypervisor declines to boot.
 *
 * board_parse runs on the DTB QEMU itself generates for the machine `make run` boots
 * (dumpdtb), with /chosen patched the way QEMU patches it for -initrd, so the test
 * follows the real board rather than a hand-written imitation of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfdt.h>

#include "board.h"
#include <errno.h>
#include "layout.h"

#define KIB 0x400ull
#define MIB 0x100000ull
#define GIB 0x40000000ull

/* ------------------------------------------------------------------ layout DTB builder */

#define SPEC_MAX_CORES (LAYOUT_MAX_CORES + 2)
#define SPEC_MAX_PARTS (LAYOUT_MAX_PARTITIONS + 2)
#define SPEC_MAX_IMAGES (LAYOUT_MAX_IMAGES + 2)

/* Properties a test can leave out of a partition node. */
#define OMIT_CORES   (1u << 0)
#define OMIT_MEMORY  (1u << 1)
#define OMIT_CONSOLE (1u << 2)
#define OMIT_LIMIT   (1u << 3)

struct image_spec {
    const char *name;
    uint8_t sha256[32];
    uint64_t size;
};

struct part_spec {
    const char *name;
    unsigned ncores;
    uint32_t cores[SPEC_MAX_CORES];
    uint64_t mem_base, mem_size;
    uint64_t console;
    const char *image;                            /* NULL: no image property */
    const char *policy;                           /* NULL: no restart-policy */
    uint32_t limit;
    const char *may_restart[SPEC_MAX_PARTS + 1];  /* NULL-terminated; empty: absent */
    bool gic, direct;                             /* gic at 0x0a00_0000/0x0a01_0000 */
    const char *modules[LAYOUT_MAX_MODULES + 2];  /* NULL-terminated; empty: absent */
    const char *requests[LAYOUT_MAX_REQUESTS + 2];  /* may-request; NULL-terminated */
    unsigned omit;                                /* OMIT_* */
};

struct chan_spec {
    const char *name, *a, *b;                     /* b NULL: between names one partition */
    uint64_t base, size;
    uint32_t slot_size, slot_count;
};

struct layout_spec {
    const char *compatible;   /* NULL: no compatible property */
    bool no_images, no_partitions;
    unsigned nimages, nparts, nchannels;
    struct image_spec images[SPEC_MAX_IMAGES];
    struct part_spec parts[SPEC_MAX_PARTS];
    struct chan_spec channels[LAYOUT_MAX_CHANNELS + 1];
};

/* The default layout, dts/qemu-virt.dts plus what mkbundle adds (sha256, size). */
static void default_spec(struct layout_spec *s)
{
    memset(s, 0, sizeof(*s));
    s->compatible = "aios,layout-v1";
    s->nimages = 2;
    s->images[0].name = "rtkernel";
    s->images[0].size = 0x12345;
    s->images[1].name = "aios";
    s->images[1].size = 3 * MIB;
    for (unsigned i = 0; i < 32; i++) {
        s->images[0].sha256[i] = (uint8_t)i;
        s->images[1].sha256[i] = (uint8_t)(0xff - i);
    }
    s->nparts = 2;
    s->parts[0] = (struct part_spec){
        .name = "rt", .ncores = 1, .cores = { 0 },
        .mem_base = 0x50000000, .mem_size = 64 * MIB, .console = 0x09000000,
        .image = "rtkernel", .policy = "restart", .limit = 3, .may_restart = { "ai" },
    };
    s->parts[1] = (struct part_spec){
        .name = "ai", .ncores = 2, .cores = { 1, 2 },
        .mem_base = 0x80000000, .mem_size = 1 * GIB, .console = 0x09000000,
        .image = "aios", .policy = "restart", .limit = 3,
    };
}

#define FDT_OK(call) assert_int_equal((call), 0)

static void prop_cells64(void *fdt, const char *name, const uint64_t *v, unsigned n)
{
    fdt32_t cells[4];

    assert_true(n <= 2);
    for (unsigned i = 0; i < n; i++) {
        cells[2 * i] = cpu_to_fdt32((uint32_t)(v[i] >> 32));
        cells[2 * i + 1] = cpu_to_fdt32((uint32_t)v[i]);
    }
    FDT_OK(fdt_property(fdt, name, cells, (int)(n * 8)));
}

static void build_layout(const struct layout_spec *s, void *buf, int size)
{
    FDT_OK(fdt_create(buf, size));
    FDT_OK(fdt_finish_reservemap(buf));
    FDT_OK(fdt_begin_node(buf, ""));
    if (s->compatible)
        FDT_OK(fdt_property_string(buf, "compatible", s->compatible));

    if (!s->no_images) {
        FDT_OK(fdt_begin_node(buf, "images"));
        for (unsigned i = 0; i < s->nimages; i++) {
            const struct image_spec *img = &s->images[i];

            FDT_OK(fdt_begin_node(buf, img->name));
            FDT_OK(fdt_property(buf, "sha256", img->sha256, 32));
            FDT_OK(fdt_property_u64(buf, "size", img->size));   /* big-endian, 8 bytes */
            FDT_OK(fdt_end_node(buf));
        }
        FDT_OK(fdt_end_node(buf));
    }

    if (!s->no_partitions) {
        FDT_OK(fdt_begin_node(buf, "partitions"));
        for (unsigned i = 0; i < s->nparts; i++) {
            const struct part_spec *p = &s->parts[i];

            FDT_OK(fdt_begin_node(buf, p->name));
            if (!(p->omit & OMIT_CORES)) {
                fdt32_t cores[SPEC_MAX_CORES];

                for (unsigned c = 0; c < p->ncores; c++)
                    cores[c] = cpu_to_fdt32(p->cores[c]);
                FDT_OK(fdt_property(buf, "cores", cores, (int)(4 * p->ncores)));
            }
            if (!(p->omit & OMIT_MEMORY))
                prop_cells64(buf, "memory", (const uint64_t[]){ p->mem_base, p->mem_size }, 2);
            if (!(p->omit & OMIT_CONSOLE))
                prop_cells64(buf, "console", &p->console, 1);
            if (p->image)
                FDT_OK(fdt_property_string(buf, "image", p->image));
            if (p->policy)
                FDT_OK(fdt_property_string(buf, "restart-policy", p->policy));
            if (!(p->omit & OMIT_LIMIT))
                FDT_OK(fdt_property_u32(buf, "restart-limit", p->limit));
            if (p->may_restart[0]) {
                /* A string list: the names back to back, each with its NUL. */
                char list[256];
                size_t len = 0;

                for (unsigned k = 0; p->may_restart[k]; k++) {
                    size_t n = strlen(p->may_restart[k]) + 1;

                    assert_true(len + n <= sizeof(list));
                    memcpy(list + len, p->may_restart[k], n);
                    len += n;
                }
                FDT_OK(fdt_property(buf, "may-restart", list, (int)len));
            }
            if (p->gic) {
                fdt32_t gic[4] = { 0, cpu_to_fdt32(0x0a000000), 0, cpu_to_fdt32(0x0a010000) };

                FDT_OK(fdt_property(buf, "gic", gic, sizeof(gic)));
            }
            if (p->direct)
                FDT_OK(fdt_property(buf, "direct-interrupts", NULL, 0));
            if (p->requests[0]) {
                char list[1024];
                size_t len = 0;

                for (unsigned k = 0; p->requests[k]; k++) {
                    size_t n = strlen(p->requests[k]) + 1;

                    assert_true(len + n <= sizeof(list));
                    memcpy(list + len, p->requests[k], n);
                    len += n;
                }
                FDT_OK(fdt_property(buf, "may-request", list, (int)len));
            }
            if (p->modules[0]) {
                char list[256];
                size_t len = 0;

                for (unsigned k = 0; p->modules[k]; k++) {
                    size_t n = strlen(p->modules[k]) + 1;

                    memcpy(list + len, p->modules[k], n);
                    len += n;
                }
                FDT_OK(fdt_property(buf, "modules", list, (int)len));
            }
            FDT_OK(fdt_end_node(buf));
        }
        FDT_OK(fdt_end_node(buf));
    }

    if (s->nchannels) {
        FDT_OK(fdt_begin_node(buf, "channels"));
        for (unsigned i = 0; i < s->nchannels; i++) {
            const struct chan_spec *c = &s->channels[i];
            char between[64];
            size_t la = strlen(c->a) + 1, lb = c->b ? strlen(c->b) + 1 : 0;

            memcpy(between, c->a, la);
            if (c->b)
                memcpy(between + la, c->b, lb);
            FDT_OK(fdt_begin_node(buf, c->name));
            FDT_OK(fdt_property(buf, "between", between, (int)(la + lb)));
            prop_cells64(buf, "memory", (const uint64_t[]){ c->base, c->size }, 2);
            FDT_OK(fdt_property_u32(buf, "slot-size", c->slot_size));
            FDT_OK(fdt_property_u32(buf, "slot-count", c->slot_count));
            FDT_OK(fdt_end_node(buf));
        }
        FDT_OK(fdt_end_node(buf));
    }

    FDT_OK(fdt_end_node(buf));
    FDT_OK(fdt_finish(buf));
}

/* ------------------------------------------------------------------ the board */

/* QEMU virt as `make run` starts it, with the hypervisor and bundle reserved. */
static void make_board(struct board *b)
{
    memset(b, 0, sizeof(*b));
    b->ram[0] = (struct range){ 0x40000000, 2 * GIB };
    b->nram = 1;
    b->ncores = 4;
    for (unsigned i = 0; i < 4; i++)
        b->mpidr[i] = i;
    b->reserved[0] = (struct range){ 0x40200000, 2 * MIB };
    b->reserved_what[0] = "the hypervisor";
    b->reserved[1] = (struct range){ 0x48000000, 1 * MIB };
    b->reserved_what[1] = "the boot bundle";
    b->nreserved = 2;
    b->uart = (struct range){ 0x09000000, 4 * KIB };
    b->gicd = (struct range){ 0x08000000, 64 * KIB };
    b->gicc = (struct range){ 0x08010000, 64 * KIB };
    b->gich = (struct range){ 0x08030000, 64 * KIB };
    b->gicv = (struct range){ 0x08040000, 64 * KIB };
    b->bundle = b->reserved[1];
}

/* ------------------------------------------------------------------ helpers */

static _Alignas(8) uint8_t dtb[64 * KIB];
static struct layout layout;
static struct board board;
static char err[256];

#define assert_err_mentions(word)                                                      \
    do {                                                                               \
        if (!strstr(err, (word)))                                                      \
            fail_msg("error message \"%s\" does not mention \"%s\"", err, (word));    \
    } while (0)

/* Build, parse and validate; the layout must be accepted. */
static void expect_accepted(const struct layout_spec *s)
{
    int rc;

    build_layout(s, dtb, sizeof(dtb));
    make_board(&board);
    err[0] = '\0';
    rc = layout_parse(dtb, &layout, err, sizeof(err));
    if (rc)
        fail_msg("layout_parse refused (%d): %s", rc, err);
    rc = layout_validate(&layout, &board, err, sizeof(err));
    if (rc)
        fail_msg("layout_validate refused (%d): %s", rc, err);
}

enum stage { AT_PARSE, AT_VALIDATE };

/*
 * Build the layout and expect it refused at the given stage, with code rc (0: any
 * negative code) and a message. The message buffer starts out empty, so a refusal that
 * forgets to say why fails the word checks below.
 */
static void expect_refused(const struct layout_spec *s, enum stage at, int rc_want)
{
    int rc;

    build_layout(s, dtb, sizeof(dtb));
    make_board(&board);
    err[0] = '\0';
    rc = layout_parse(dtb, &layout, err, sizeof(err));
    if (at == AT_VALIDATE) {
        if (rc)
            fail_msg("layout_parse refused (%d) what validation should: %s", rc, err);
        rc = layout_validate(&layout, &board, err, sizeof(err));
    }
    if (rc >= 0)
        fail_msg("layout accepted, expected a refusal at %s",
                 at == AT_PARSE ? "layout_parse" : "layout_validate");
    if (rc_want)
        assert_int_equal(rc, rc_want);
    assert_true(strlen(err) > 0);
}

/* ------------------------------------------------------------------ layout: accepted */

static void test_default_layout(void **state)
{
    struct layout_spec s;
    const struct layout_partition *rt, *ai;

    (void)state;
    default_spec(&s);
    expect_accepted(&s);

    assert_int_equal(layout.nimages, 2);
    assert_string_equal(layout.images[0].name, "rtkernel");
    assert_string_equal(layout.images[1].name, "aios");
    assert_memory_equal(layout.images[0].sha256, s.images[0].sha256, 32);
    assert_memory_equal(layout.images[1].sha256, s.images[1].sha256, 32);
    assert_int_equal(layout.images[0].size, 0x12345);
    assert_int_equal(layout.images[1].size, 3 * MIB);

    assert_int_equal(layout.nparts, 2);
    rt = &layout.parts[0];
    ai = &layout.parts[1];
    /* Partition order is node order: it fixes each partition's console digit. */
    assert_string_equal(rt->name, "rt");
    assert_string_equal(ai->name, "ai");

    assert_int_equal(rt->ncores, 1);
    assert_int_equal(rt->cores[0], 0);
    assert_int_equal(ai->ncores, 2);
    assert_int_equal(ai->cores[0], 1);   /* cores[0] is the one that boots */
    assert_int_equal(ai->cores[1], 2);

    assert_int_equal(rt->mem.base, 0x50000000);
    assert_int_equal(rt->mem.size, 64 * MIB);
    assert_int_equal(ai->mem.base, 0x80000000);
    assert_int_equal(ai->mem.size, 1 * GIB);
    assert_int_equal(rt->console_ipa, 0x09000000);
    assert_int_equal(ai->console_ipa, 0x09000000);

    assert_int_equal(rt->image, 0);
    assert_int_equal(ai->image, 1);

    assert_true(rt->restart_on_fault);
    assert_true(ai->restart_on_fault);
    assert_int_equal(rt->restart_limit, 3);
    assert_int_equal(ai->restart_limit, 3);

    /* rt may restart ai (partition 1); ai may restart nobody. */
    assert_int_equal(rt->may_restart, 1u << 1);
    assert_int_equal(ai->may_restart, 0);
}

static void test_full_64bit_cells(void **state)
{
    struct layout_spec s;

    (void)state;
    /* Both halves of the 64-bit cells are read: an image size above 4 GiB and a
     * console IPA above 4 GiB survive the parse. */
    default_spec(&s);
    s.images[1].size = 0x100000000ull + 0x1000;
    s.parts[1].console = 0x1000000000ull;
    build_layout(&s, dtb, sizeof(dtb));
    assert_int_equal(layout_parse(dtb, &layout, err, sizeof(err)), 0);
    assert_int_equal(layout.images[1].size, 0x100001000ull);
    assert_int_equal(layout.parts[1].console_ipa, 0x1000000000ull);
}

static void test_stop_policy_and_limit(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[1].policy = "stop";
    s.parts[1].limit = 0;
    s.parts[0].limit = LAYOUT_MAX_RESTARTS;   /* the largest allowed */
    expect_accepted(&s);
    assert_false(layout.parts[1].restart_on_fault);
    assert_int_equal(layout.parts[1].restart_limit, 0);
    assert_true(layout.parts[0].restart_on_fault);
    assert_int_equal(layout.parts[0].restart_limit, LAYOUT_MAX_RESTARTS);
}

static void test_may_restart_list(void **state)
{
    struct layout_spec s;

    (void)state;
    /* A grant list naming several partitions, itself included, sets one bit each. */
    default_spec(&s);
    s.nparts = 3;
    s.parts[2] = (struct part_spec){
        .name = "linux", .ncores = 1, .cores = { 3 },
        .mem_base = 0x60000000, .mem_size = 512 * MIB, .console = 0x09000000,
        .image = "aios", .policy = "stop", .limit = 0,
    };
    s.parts[0].may_restart[0] = "linux";
    s.parts[0].may_restart[1] = "ai";
    s.parts[0].may_restart[2] = "rt";
    /* A grant may name a partition that comes later in the file. */
    s.parts[1].may_restart[0] = "linux";
    expect_accepted(&s);
    assert_int_equal(layout.parts[0].may_restart, (1u << 0) | (1u << 1) | (1u << 2));
    assert_int_equal(layout.parts[1].may_restart, 1u << 2);
    assert_int_equal(layout.parts[2].may_restart, 0);
    assert_int_equal(layout.parts[2].image, 1);   /* two partitions may share an image */
}

static void test_direct_interrupts(void **state)
{
    struct layout_spec s;

    (void)state;
    /* One core with a GIC: accepted, and nobody may restart it (rt grants ai, not the
     * other way round). */
    default_spec(&s);
    s.parts[0].gic = s.parts[0].direct = true;
    s.parts[1].gic = true;
    expect_accepted(&s);
    assert_true(layout.parts[0].direct_irqs);
    assert_false(layout.parts[1].direct_irqs);
    assert_true(layout.parts[0].has_gic && layout.parts[1].has_gic);

    /* Without a GIC there is no CPU interface to hand over. */
    default_spec(&s);
    s.parts[0].direct = true;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_non_null(strstr(err, "partition rt: direct-interrupts needs a gic and exactly one core"));

    /* Two cores: a fault on one could not stop the other. */
    default_spec(&s);
    s.parts[1].gic = s.parts[1].direct = true;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_non_null(strstr(err, "partition ai: direct-interrupts needs a gic and exactly one core"));

    /* The hypervisor cannot stop such a core from outside, so no one may restart it. */
    default_spec(&s);
    s.parts[0].gic = s.parts[0].direct = true;
    s.parts[1].may_restart[0] = "rt";
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_non_null(strstr(err, "partition ai: may-restart names rt, which has direct-interrupts"));
}

static void test_modules(void **state)
{
    struct layout_spec s;
    const struct layout_partition *ai;
    uint64_t top = 0x80000000ull + GIB - LAYOUT_DTB_SIZE;

    (void)state;
    /* Two data images for ai, stacked below its device tree in the order listed, each on
     * a 64 KiB boundary. */
    default_spec(&s);
    s.nimages = 4;
    s.images[2] = (struct image_spec){ .name = "model", .size = 3 * MIB + 5 };
    s.images[3] = (struct image_spec){ .name = "tokenizer", .size = 70000 };
    s.parts[1].modules[0] = "model";
    s.parts[1].modules[1] = "tokenizer";
    expect_accepted(&s);
    ai = &layout.parts[1];
    assert_int_equal(ai->nmodules, 2);
    assert_int_equal(ai->modules[0], 2);
    assert_int_equal(ai->modules[1], 3);
    assert_int_equal(layout_module_base(&layout, ai, 1), (top - 70000) & ~0xffffull);
    assert_int_equal(layout_module_base(&layout, ai, 0),
                     ((top - 70000) & ~0xffffull) - 0x310000);
    assert_int_equal(layout_module_base(&layout, ai, 0) % LAYOUT_MODULE_ALIGN, 0);
    assert_int_equal(layout_module_base(&layout, ai, 2), 0);   /* no such module */
    assert_int_equal(layout.parts[0].nmodules, 0);

    /* A module naming no image. */
    s.parts[1].modules[1] = "tokeniser";
    expect_refused(&s, AT_PARSE, -ENOENT);
    assert_non_null(strstr(err, "partition ai: modules names missing image 'tokeniser'"));

    /* More than LAYOUT_MAX_MODULES. */
    default_spec(&s);
    for (unsigned k = 0; k <= LAYOUT_MAX_MODULES; k++)
        s.parts[1].modules[k] = "aios";
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_non_null(strstr(err, "modules must list at most"));

    /* Kernel and modules together larger than the partition's memory. */
    default_spec(&s);
    s.nimages = 3;
    s.images[2] = (struct image_spec){ .name = "model", .size = 64 * MIB - 100000 };
    s.parts[0].modules[0] = "model";
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_non_null(strstr(err, "partition rt: image rtkernel and modules do not fit its memory"));
}

static void test_may_request(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[1].requests[0] = "status.show";
    s.parts[1].requests[1] = "timer.set";
    expect_accepted(&s);
    assert_int_equal(layout.parts[1].nrequests, 2);
    assert_string_equal(layout.parts[1].requests[0], "status.show");
    assert_string_equal(layout.parts[1].requests[1], "timer.set");
    assert_int_equal(layout.parts[0].nrequests, 0);

    /* Names only: letters and dots, short. */
    s.parts[1].requests[1] = "timer set";
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_non_null(strstr(err, "partition ai: may-request entry 1 is not an action name"));
    s.parts[1].requests[1] = "a.very.long.action.name.indeed";
    expect_refused(&s, AT_PARSE, -EINVAL);
    s.parts[1].requests[1] = "";
    expect_refused(&s, AT_PARSE, -EINVAL);

    default_spec(&s);
    for (unsigned k = 0; k <= LAYOUT_MAX_REQUESTS; k++)
        s.parts[1].requests[k] = "help";
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_non_null(strstr(err, "may-request must list at most"));
}

static void test_edges_touching_accepted(void **state)
{
    struct layout_spec s;

    (void)state;
    /* Ranges that touch without overlapping are fine: right after the hypervisor,
     * right up to the bundle, and to the very last byte of RAM. */
    default_spec(&s);
    s.parts[0].mem_base = 0x40400000;
    s.parts[0].mem_size = 0x48000000 - 0x40400000;
    s.parts[1].mem_base = 0x48100000;
    s.parts[1].mem_size = 0xc0000000 - 0x48100000;
    expect_accepted(&s);

    /* Two partitions side by side. */
    default_spec(&s);
    s.parts[0].mem_base = 0x80000000 - 64 * MIB;
    expect_accepted(&s);

    /* An image exactly the size of its memory fits. */
    default_spec(&s);
    s.images[0].size = 64 * MIB;
    expect_accepted(&s);

    /* A console just past the partition's memory is a free page. */
    default_spec(&s);
    s.parts[0].console = 0x50000000 + 64 * MIB;
    expect_accepted(&s);
}

static void test_name_15_chars(void **state)
{
    struct layout_spec s;

    (void)state;
    /* LAYOUT_NAME_MAX includes the NUL: 15 characters is the longest name. */
    default_spec(&s);
    s.parts[1].name = "abcdefghijklmno";
    s.parts[0].may_restart[0] = "abcdefghijklmno";
    s.images[1].name = "ABCDEFGHIJKLMNO";
    s.parts[1].image = "ABCDEFGHIJKLMNO";
    expect_accepted(&s);
    assert_string_equal(layout.parts[1].name, "abcdefghijklmno");
    assert_string_equal(layout.images[1].name, "ABCDEFGHIJKLMNO");
}

/* ------------------------------------------------------------------ layout: refused */

static void test_memory_outside_ram(void **state)
{
    struct layout_spec s;

    (void)state;
    /* Entirely above RAM (which ends at 0xc000_0000). */
    default_spec(&s);
    s.parts[1].mem_base = 0xc0000000;
    s.parts[1].mem_size = 16 * MIB;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("ai");
    assert_err_mentions("RAM");

    /* Straddling the end of RAM by one page. */
    default_spec(&s);
    s.parts[1].mem_base = 0xc0000000 - 16 * MIB;
    s.parts[1].mem_size = 16 * MIB + 4 * KIB;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("RAM");

    /* Below RAM: device space. */
    default_spec(&s);
    s.parts[0].mem_base = 0x30000000;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("rt");
    assert_err_mentions("RAM");

    /* base + size wraps past 2^64 to an address inside RAM. */
    default_spec(&s);
    s.parts[1].mem_base = 0xfffffffffffff000ull;
    s.parts[1].mem_size = 0x40000000 + 0x1000;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("ai");

    /* Larger than all of RAM, starting inside it. */
    default_spec(&s);
    s.parts[1].mem_base = 0x80000000;
    s.parts[1].mem_size = 0xfffffffffffff000ull;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("ai");
}

static void test_memory_overlaps_partition(void **state)
{
    struct layout_spec s;

    (void)state;
    /* ai's first page is rt's last. */
    default_spec(&s);
    s.parts[1].mem_base = 0x50000000 + 64 * MIB - 4 * KIB;
    s.parts[1].mem_size = 256 * MIB;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("overlap");
    assert_err_mentions("rt");
    assert_err_mentions("ai");

    /* One range wholly inside the other. */
    default_spec(&s);
    s.parts[0].mem_base = 0x90000000;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("overlap");
}

static void test_memory_overlaps_reserved(void **state)
{
    struct layout_spec s;

    (void)state;
    /* rt at the start of RAM covers the hypervisor image. */
    default_spec(&s);
    s.parts[0].mem_base = 0x40000000;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("rt");
    assert_err_mentions("the hypervisor");

    /* One page over the start of the bundle. */
    default_spec(&s);
    s.parts[0].mem_base = 0x48000000 - 64 * MIB + 4 * KIB;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("the boot bundle");
    assert_err_mentions("0x48000000");   /* where the reserved range is */

    /* Inside the bundle's range. */
    default_spec(&s);
    s.parts[0].mem_base = 0x48000000 + 0x1000;
    s.parts[0].mem_size = 0x1000;
    s.images[0].size = 0x1000;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("the boot bundle");
}

static void test_core_given_twice(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[1].ncores = 2;
    s.parts[1].cores[0] = 3;
    s.parts[1].cores[1] = 0;   /* rt's core */
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("core 0");
    assert_err_mentions("rt");
    assert_err_mentions("ai");
}

static void test_core_not_on_board(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[1].cores[1] = 4;   /* the board has cores 0-3 */
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("ai");
    assert_err_mentions("core 4");

    default_spec(&s);
    s.parts[0].cores[0] = 0xffffffffu;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("rt");
}

static void test_core_listed_twice(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[1].ncores = 3;
    s.parts[1].cores[2] = 1;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("ai");
    assert_err_mentions("twice");
}

static void test_cores_missing_or_too_many(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[0].omit = OMIT_CORES;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("rt");
    assert_err_mentions("cores");

    /* An empty list is no cores either. */
    default_spec(&s);
    s.parts[0].ncores = 0;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("rt");

    /* More than cores[] can hold must not be written past its end. */
    default_spec(&s);
    s.parts[1].ncores = LAYOUT_MAX_CORES + 1;
    for (unsigned i = 0; i < s.parts[1].ncores; i++)
        s.parts[1].cores[i] = i;
    expect_refused(&s, AT_PARSE, 0);
    assert_err_mentions("ai");
    assert_err_mentions("cores");
}

static void test_missing_image(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[1].image = "linux";   /* not under /images */
    expect_refused(&s, AT_PARSE, -ENOENT);
    assert_err_mentions("ai");
    assert_err_mentions("linux");

    /* A prefix of an image's name is not that image. */
    default_spec(&s);
    s.parts[0].image = "rtk";
    expect_refused(&s, AT_PARSE, -ENOENT);
    assert_err_mentions("rtk");

    /* No image property at all. */
    default_spec(&s);
    s.parts[0].image = NULL;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("rt");
    assert_err_mentions("image");
}

static void test_misaligned_memory(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[0].mem_base = 0x50000800;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("rt");
    assert_err_mentions("aligned");

    default_spec(&s);
    s.parts[1].mem_size = 1 * GIB - 1;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("ai");
    assert_err_mentions("aligned");
}

static void test_zero_size_memory(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[1].mem_size = 0;
    s.images[1].size = 0;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("ai");
    assert_err_mentions("empty");
}

static void test_memory_property_malformed(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[0].omit = OMIT_MEMORY;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("rt");
    assert_err_mentions("memory");

    default_spec(&s);
    s.parts[1].omit = OMIT_CONSOLE;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("ai");
    assert_err_mentions("console");
}

static void test_image_larger_than_memory(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.images[0].size = 64 * MIB + 1;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("rt");
    assert_err_mentions("rtkernel");
    assert_err_mentions("fit");
}

static void test_bad_restart_policy(void **state)
{
    static const char *const bad[] = { "reboot", "Restart", "restart ", "", "stopped" };
    struct layout_spec s;

    (void)state;
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        default_spec(&s);
        s.parts[1].policy = bad[i];
        expect_refused(&s, AT_PARSE, -EINVAL);
        assert_err_mentions("ai");
        assert_err_mentions("restart-policy");
    }
    default_spec(&s);
    s.parts[0].policy = NULL;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("restart-policy");
}

static void test_bad_restart_limit(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[0].limit = LAYOUT_MAX_RESTARTS + 1;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("rt");
    assert_err_mentions("restart-limit");

    default_spec(&s);
    s.parts[1].omit = OMIT_LIMIT;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("restart-limit");
}

static void test_may_restart_unknown(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[0].may_restart[0] = "ai";
    s.parts[0].may_restart[1] = "linux";
    expect_refused(&s, AT_PARSE, -ENOENT);
    assert_err_mentions("rt");
    assert_err_mentions("linux");

    /* An image name is not a partition name. */
    default_spec(&s);
    s.parts[1].may_restart[0] = "aios";
    expect_refused(&s, AT_PARSE, -ENOENT);
    assert_err_mentions("aios");
}

static void test_missing_compatible(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.compatible = NULL;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("compatible");

    /* A future format is refused, not half-understood. */
    default_spec(&s);
    s.compatible = "aios,layout-v2";
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("aios,layout-v1");
}

static void test_missing_nodes(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.no_partitions = true;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("/partitions");

    default_spec(&s);
    s.nparts = 0;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("no partitions");

    default_spec(&s);
    s.no_images = true;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("/images");
}

static void test_image_properties(void **state)
{
    struct layout_spec s;
    int node;

    (void)state;
    /* The size must be a 64-bit property: rewrite it as one cell. */
    default_spec(&s);
    build_layout(&s, dtb, sizeof(dtb));
    node = fdt_path_offset(dtb, "/images/aios");
    assert_true(node >= 0);
    FDT_OK(fdt_setprop_u32(dtb, node, "size", 3 * MIB));
    err[0] = '\0';
    assert_int_equal(layout_parse(dtb, &layout, err, sizeof(err)), -EINVAL);
    assert_err_mentions("aios");
    assert_err_mentions("size");

    /* A hash that is not 32 bytes. */
    build_layout(&s, dtb, sizeof(dtb));
    node = fdt_path_offset(dtb, "/images/rtkernel");
    FDT_OK(fdt_setprop(dtb, node, "sha256", s.images[0].sha256, 20));
    err[0] = '\0';
    assert_int_equal(layout_parse(dtb, &layout, err, sizeof(err)), -EINVAL);
    assert_err_mentions("rtkernel");
    assert_err_mentions("sha256");
}

static void test_name_too_long(void **state)
{
    struct layout_spec s;

    (void)state;
    default_spec(&s);
    s.parts[1].name = "abcdefghijklmnop";   /* 16 characters */
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("too long");

    default_spec(&s);
    s.images[1].name = "aios-with-a-long";   /* 16 characters */
    s.parts[1].image = "aios-with-a-long";
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("too long");
}

static void test_console_in_partition_memory(void **state)
{
    struct layout_spec s;

    (void)state;
    /* The console page is trapped, so it cannot also be the partition's RAM. */
    default_spec(&s);
    s.parts[0].console = 0x50000000;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("rt");
    assert_err_mentions("console");

    default_spec(&s);
    s.parts[1].console = 0x80000000 + 1 * GIB - 4 * KIB;   /* its last page */
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("ai");
    assert_err_mentions("console");

    /* Not page aligned: it could not be a page of its own. */
    default_spec(&s);
    s.parts[1].console = 0x09000800;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("console");
}

static void test_duplicate_and_too_many_partitions(void **state)
{
    struct layout_spec s;

    (void)state;
    /* dtc forbids two nodes with one name, but the hypervisor must not rely on dtc. */
    default_spec(&s);
    s.parts[1].name = "rt";
    s.parts[0].may_restart[0] = NULL;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("rt");

    default_spec(&s);
    s.nparts = LAYOUT_MAX_PARTITIONS + 1;
    for (unsigned i = 2; i < s.nparts; i++) {
        static const char *const names[] = { "p2", "p3", "p4", "p5" };

        s.parts[i] = s.parts[1];
        s.parts[i].name = names[i - 2];
    }
    expect_refused(&s, AT_PARSE, 0);
    assert_err_mentions("partitions");
}

/* ------------------------------------------------------------------ channels */

/* The default layout with its rt-ai channel, as in dts/qemu-virt.dts. */
static void channel_spec(struct layout_spec *s)
{
    default_spec(s);
    s->nchannels = 1;
    s->channels[0] = (struct chan_spec){ .name = "rt-ai", .a = "rt", .b = "ai",
                                         .base = 0x54000000, .size = 64 * KIB,
                                         .slot_size = 256, .slot_count = 64 };
}

static void test_channel_accepted(void **state)
{
    struct layout_spec s;

    (void)state;
    channel_spec(&s);
    expect_accepted(&s);
    assert_int_equal(layout.nchannels, 1);
    assert_string_equal(layout.channels[0].name, "rt-ai");
    assert_int_equal(layout.channels[0].a, 0);
    assert_int_equal(layout.channels[0].b, 1);
    assert_int_equal(layout.channels[0].mem.base, 0x54000000);
    assert_int_equal(layout.channels[0].mem.size, 64 * KIB);
    assert_int_equal(layout.channels[0].slot_size, 256);
    assert_int_equal(layout.channels[0].slot_count, 64);
}

static void test_channel_endpoints_refused(void **state)
{
    struct layout_spec s;

    (void)state;
    channel_spec(&s);
    s.channels[0].b = "linux";
    expect_refused(&s, AT_PARSE, -ENOENT);
    assert_err_mentions("unknown partition");
    channel_spec(&s);
    s.channels[0].b = "rt";
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("itself");
    channel_spec(&s);
    s.channels[0].b = NULL;
    expect_refused(&s, AT_PARSE, -EINVAL);
    assert_err_mentions("two partitions");
}

static void test_channel_memory_refused(void **state)
{
    struct layout_spec s;

    (void)state;
    channel_spec(&s);
    s.channels[0].base = 0x53ff0000;              /* the last 64 KiB of rt */
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("overlaps partition rt");
    channel_spec(&s);
    s.channels[0].base = 0x48000000;              /* the boot bundle */
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("the boot bundle");
    channel_spec(&s);
    s.channels[0].base = 0x100000000ull;          /* past the end of RAM */
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("inside the board's RAM");
    channel_spec(&s);
    s.channels[0].base = 0x54000800;              /* not page aligned */
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("rt-ai");
    channel_spec(&s);
    s.nchannels = 2;
    s.channels[1] = s.channels[0];
    s.channels[1].name = "rt-ai-2";
    s.channels[1].base += 32 * KIB;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("overlap");
}

static void test_channel_rings_must_fit(void **state)
{
    struct layout_spec s;

    (void)state;
    channel_spec(&s);
    s.channels[0].slot_count = 1024;              /* 256 KiB of slots in 32 KiB halves */
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    assert_err_mentions("do not fit");
    channel_spec(&s);
    s.channels[0].slot_size = 200;                /* not a power of two */
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    channel_spec(&s);
    s.channels[0].slot_count = 48;
    expect_refused(&s, AT_VALIDATE, -EINVAL);
    channel_spec(&s);
    s.channels[0].slot_size = 32;                 /* below RING_MIN_SLOT */
    expect_refused(&s, AT_VALIDATE, -EINVAL);
}

static void test_not_a_dtb(void **state)
{
    (void)state;
    memset(dtb, 0, sizeof(dtb));
    err[0] = '\0';
    assert_int_equal(layout_parse(dtb, &layout, err, sizeof(err)), -EINVAL);
    assert_err_mentions("device tree");
}

/* ------------------------------------------------------------------ the QEMU board DTB */

#define QEMU "qemu-system-aarch64"
#define INITRD_START 0x48000000ull
#define INITRD_END   (0x48000000ull + 0x5000)

static void *qemu_dtb;      /* as QEMU dumped it */
static size_t qemu_dtb_len;
static void *board_dtb;     /* a copy with room for patches */
static int board_dtb_len;

/*
 * Run QEMU with the machine options `make run` uses and have it dump its DTB. Once per
 * run; failure is reported as an error, not a skip, because without QEMU the board
 * parser goes untested.
 */
static int qemu_dtb_setup(void **state)
{
    char path[] = "/tmp/test_layout_virt_XXXXXX";
    char cmd[512];
    FILE *f;
    long n;
    int fd, rc;

    (void)state;
    if (!qemu_dtb) {
        if (system("command -v " QEMU " >/dev/null 2>&1") != 0) {
            print_error("%s is not installed: it is needed to generate the QEMU virt board "
                        "DTB this test parses (Debian: apt-get install qemu-system-arm)\n", QEMU);
            return -1;
        }
        fd = mkstemp(path);
        if (fd < 0) {
            print_error("cannot create a temporary file for the QEMU DTB\n");
            return -1;
        }
        close(fd);
        snprintf(cmd, sizeof(cmd),
                 QEMU " -M virt,virtualization=on,gic-version=2,dumpdtb=%s -cpu cortex-a76 "
                 "-smp 4 -m 2G -nographic -nic none </dev/null >/dev/null 2>&1", path);
        rc = system(cmd);
        f = fopen(path, "rb");
        if (rc != 0 || !f || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 ||
            fseek(f, 0, SEEK_SET)) {
            print_error("%s failed to dump its DTB (exit status %d): %s\n", QEMU, rc, cmd);
            if (f)
                fclose(f);
            unlink(path);
            return -1;
        }
        qemu_dtb = malloc((size_t)n);
        assert_non_null(qemu_dtb);
        assert_int_equal(fread(qemu_dtb, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        unlink(path);
        qemu_dtb_len = (size_t)n;
        if (fdt_check_header(qemu_dtb) || fdt_totalsize(qemu_dtb) > qemu_dtb_len) {
            print_error("%s dumped something that is not a DTB\n", QEMU);
            return -1;
        }
    }
    /* A fresh writable copy per test, with room to add properties and nodes. */
    free(board_dtb);
    board_dtb_len = (int)fdt_totalsize(qemu_dtb) + 16 * (int)KIB;
    board_dtb = malloc((size_t)board_dtb_len);
    assert_non_null(board_dtb);
    FDT_OK(fdt_open_into(qemu_dtb, board_dtb, board_dtb_len));
    return 0;
}

static int qemu_dtb_teardown(void **state)
{
    (void)state;
    free(board_dtb);
    board_dtb = NULL;
    return 0;
}

static int qemu_dtb_free(void **state)
{
    (void)state;
    free(qemu_dtb);
    qemu_dtb = NULL;
    return 0;
}

/* What QEMU adds for -initrd: /chosen linux,initrd-start/end, 64-bit. */
static void add_initrd(uint64_t start, uint64_t end)
{
    int chosen = fdt_path_offset(board_dtb, "/chosen");

    assert_true(chosen >= 0);
    FDT_OK(fdt_setprop_u64(board_dtb, chosen, "linux,initrd-start", start));
    FDT_OK(fdt_setprop_u64(board_dtb, chosen, "linux,initrd-end", end));
}

static int find_reserved(const struct board *b, uint64_t base, uint64_t size)
{
    for (unsigned i = 0; i < b->nreserved; i++)
        if (b->reserved[i].base == base && b->reserved[i].size == size)
            return (int)i;
    return -1;
}

static void test_board_qemu(void **state)
{
    int rc, r;

    (void)state;
    add_initrd(INITRD_START, INITRD_END);
    err[0] = '\0';
    rc = board_parse(board_dtb, &board, err, sizeof(err));
    if (rc)
        fail_msg("board_parse refused QEMU's DTB (%d): %s", rc, err);

    assert_int_equal(board.nram, 1);
    assert_int_equal(board.ram[0].base, 0x40000000);
    assert_int_equal(board.ram[0].size, 0x80000000);

    assert_int_equal(board.ncores, 4);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(board.mpidr[i], i);

    assert_int_equal(board.uart.base, 0x09000000);
    assert_int_equal(board.uart.size, 0x1000);
    assert_int_equal(board.gicd.base, 0x08000000);
    assert_int_equal(board.gicc.base, 0x08010000);
    assert_int_equal(board.gich.base, 0x08030000);
    assert_int_equal(board.gicv.base, 0x08040000);
    assert_int_equal(board.gicd.size, 0x10000);
    assert_int_equal(board.gicv.size, 0x10000);

    assert_int_equal(board.bundle.base, INITRD_START);
    assert_int_equal(board.bundle.size, INITRD_END - INITRD_START);

    /* Both the bundle and the DTB itself are kept from the partitions, labelled. */
    r = find_reserved(&board, INITRD_START, INITRD_END - INITRD_START);
    if (r < 0)
        fail_msg("the boot bundle is not in board.reserved");
    assert_non_null(board.reserved_what[r]);
    assert_non_null(strstr(board.reserved_what[r], "bundle"));
    r = find_reserved(&board, (uintptr_t)board_dtb, fdt_totalsize(board_dtb));
    if (r < 0)
        fail_msg("the board DTB is not in board.reserved");
    assert_non_null(board.reserved_what[r]);
    assert_non_null(strstr(board.reserved_what[r], "DTB"));
}

static void test_board_initrd_cell_sizes(void **state)
{
    int chosen = fdt_path_offset(board_dtb, "/chosen");

    (void)state;
    /* Two-cell values are read whole, high cell included. */
    add_initrd(0x148000000ull, 0x148002000ull);
    err[0] = '\0';
    assert_int_equal(board_parse(board_dtb, &board, err, sizeof(err)), 0);
    assert_int_equal(board.bundle.base, 0x148000000ull);
    assert_int_equal(board.bundle.size, 0x2000);

    /* Some firmware writes the initrd addresses as single cells. */
    FDT_OK(fdt_setprop_u32(board_dtb, chosen, "linux,initrd-start", 0x48000000));
    FDT_OK(fdt_setprop_u32(board_dtb, chosen, "linux,initrd-end", 0x48100000));
    err[0] = '\0';
    assert_int_equal(board_parse(board_dtb, &board, err, sizeof(err)), 0);
    assert_int_equal(board.bundle.base, 0x48000000);
    assert_int_equal(board.bundle.size, 0x100000);
}

static void test_board_no_initrd(void **state)
{
    int rc;

    (void)state;
    /* QEMU without -initrd: there is nothing to boot, and the message says what to add. */
    err[0] = '\0';
    rc = board_parse(board_dtb, &board, err, sizeof(err));
    assert_true(rc < 0);
    assert_err_mentions("initrd");

    /* Only one of the two properties is no better. */
    {
        int chosen = fdt_path_offset(board_dtb, "/chosen");

        FDT_OK(fdt_setprop_u64(board_dtb, chosen, "linux,initrd-start", INITRD_START));
        err[0] = '\0';
        assert_true(board_parse(board_dtb, &board, err, sizeof(err)) < 0);
        assert_err_mentions("initrd");
    }
}

static void test_board_empty_initrd(void **state)
{
    (void)state;
    add_initrd(INITRD_START, INITRD_START);
    err[0] = '\0';
    assert_int_equal(board_parse(board_dtb, &board, err, sizeof(err)), -EINVAL);
    assert_err_mentions("bundle");

    add_initrd(INITRD_END, INITRD_START);
    err[0] = '\0';
    assert_int_equal(board_parse(board_dtb, &board, err, sizeof(err)), -EINVAL);
    assert_err_mentions("bundle");
}

static void test_board_psci_hvc_refused(void **state)
{
    int node;

    (void)state;
    /* HVC would trap to the hypervisor itself: it needs PSCI over SMC. */
    add_initrd(INITRD_START, INITRD_END);
    node = fdt_node_offset_by_compatible(board_dtb, -1, "arm,psci-0.2");
    assert_true(node >= 0);
    FDT_OK(fdt_setprop_string(board_dtb, node, "method", "hvc"));
    err[0] = '\0';
    assert_int_equal(board_parse(board_dtb, &board, err, sizeof(err)), -EINVAL);
    assert_err_mentions("PSCI");
    assert_err_mentions("smc");
}

static void test_board_reserved_memory(void **state)
{
    int rm, child;

    (void)state;
    /* Firmware-reserved memory, both forms, ends up in board.reserved. */
    add_initrd(INITRD_START, INITRD_END);
    FDT_OK(fdt_add_mem_rsv(board_dtb, 0x40000000, 0x10000));
    rm = fdt_add_subnode(board_dtb, 0, "reserved-memory");
    assert_true(rm >= 0);
    FDT_OK(fdt_setprop_u32(board_dtb, rm, "#address-cells", 2));
    FDT_OK(fdt_setprop_u32(board_dtb, rm, "#size-cells", 2));
    FDT_OK(fdt_setprop(board_dtb, rm, "ranges", NULL, 0));
    child = fdt_add_subnode(board_dtb, rm, "tfa@7ff00000");
    assert_true(child >= 0);
    {
        fdt32_t reg[4] = { cpu_to_fdt32(0), cpu_to_fdt32(0x7ff00000), cpu_to_fdt32(0),
                           cpu_to_fdt32(0x100000) };

        FDT_OK(fdt_setprop(board_dtb, child, "reg", reg, sizeof(reg)));
    }
    err[0] = '\0';
    if (board_parse(board_dtb, &board, err, sizeof(err)))
        fail_msg("board_parse refused: %s", err);
    assert_true(find_reserved(&board, 0x40000000, 0x10000) >= 0);
    assert_true(find_reserved(&board, 0x7ff00000, 0x100000) >= 0);
    assert_true(find_reserved(&board, INITRD_START, INITRD_END - INITRD_START) >= 0);
}

static void test_board_reserved_table_full(void **state)
{
    int rc;

    (void)state;
    /* Firmware that reserves more ranges than the table holds must be refused with a
     * message, whichever reservation is the one that no longer fits. Here the firmware's
     * own ranges fill the table exactly and the bundle is the one that overflows. */
    add_initrd(INITRD_START, INITRD_END);
    for (unsigned i = 0; i < BOARD_MAX_RESERVED; i++)
        FDT_OK(fdt_add_mem_rsv(board_dtb, 0xb0000000 + i * 0x10000ull, 0x1000));
    err[0] = '\0';
    rc = board_parse(board_dtb, &board, err, sizeof(err));
    assert_true(rc < 0);
    if (!err[0])
        fail_msg("board_parse returned %d with no error message", rc);

    /* One fewer: the bundle fits and the DTB is the one left out. */
    FDT_OK(fdt_open_into(qemu_dtb, board_dtb, board_dtb_len));
    add_initrd(INITRD_START, INITRD_END);
    for (unsigned i = 0; i < BOARD_MAX_RESERVED - 1; i++)
        FDT_OK(fdt_add_mem_rsv(board_dtb, 0xb0000000 + i * 0x10000ull, 0x1000));
    err[0] = '\0';
    rc = board_parse(board_dtb, &board, err, sizeof(err));
    assert_true(rc < 0);
    assert_err_mentions("reserve");
}

/*
 * The layouts the project ships, compiled by dtc as the Makefile does and given the
 * properties mkbundle would add, are accepted on the real board once the hypervisor's
 * load range is reserved the way hyp_main reserves it.
 */
static void check_shipped_layout(const char *dts)
{
    char out[] = "/tmp/test_layout_dtc_XXXXXX";
    char cmd[512];
    static uint8_t raw[64 * KIB];
    FILE *f;
    size_t n;
    int fd, images, node, rc;

    fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof(cmd), "dtc -q -I dts -O dtb -o %s %s", out, dts);
    rc = system(cmd);
    if (rc != 0) {
        unlink(out);
        fail_msg("\"%s\" failed (%d); run the test from the repository root with dtc installed",
                 cmd, rc);
    }
    f = fopen(out, "rb");
    assert_non_null(f);
    n = fread(raw, 1, sizeof(raw), f);
    fclose(f);
    unlink(out);
    assert_true(n > 0);
    FDT_OK(fdt_open_into(raw, dtb, sizeof(dtb)));
    images = fdt_path_offset(dtb, "/images");
    assert_true(images >= 0);
    fdt_for_each_subnode(node, dtb, images) {
        static const uint8_t sha[32];

        FDT_OK(fdt_setprop(dtb, node, "sha256", sha, sizeof(sha)));
        FDT_OK(fdt_setprop_u64(dtb, node, "size", 256 * KIB));
    }

    add_initrd(INITRD_START, INITRD_END);
    if (board_parse(board_dtb, &board, err, sizeof(err)))
        fail_msg("board_parse: %s", err);
    assert_int_equal(board_reserve(&board, 0x40200000, 2 * MIB, "the hypervisor"), 0);
    err[0] = '\0';
    if (layout_parse(dtb, &layout, err, sizeof(err)))
        fail_msg("%s: layout_parse: %s", dts, err);
    if (layout_validate(&layout, &board, err, sizeof(err)))
        fail_msg("%s: layout_validate on QEMU virt: %s", dts, err);
}

static void test_shipped_layouts(void **state)
{
    (void)state;
    check_shipped_layout("dts/qemu-virt.dts");
    assert_int_equal(layout.nparts, 2);
    FDT_OK(fdt_open_into(qemu_dtb, board_dtb, board_dtb_len));
    check_shipped_layout("tests/layouts/ai-fault.dts");
    FDT_OK(fdt_open_into(qemu_dtb, board_dtb, board_dtb_len));
    check_shipped_layout("tests/layouts/three-partitions.dts");
    assert_int_equal(layout.nparts, 3);
    assert_int_equal(layout.nchannels, 2);
    assert_true(layout.parts[0].direct_irqs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_layout),
        cmocka_unit_test(test_full_64bit_cells),
        cmocka_unit_test(test_stop_policy_and_limit),
        cmocka_unit_test(test_may_restart_list),
        cmocka_unit_test(test_direct_interrupts),
        cmocka_unit_test(test_modules),
        cmocka_unit_test(test_may_request),
        cmocka_unit_test(test_edges_touching_accepted),
        cmocka_unit_test(test_name_15_chars),
        cmocka_unit_test(test_memory_outside_ram),
        cmocka_unit_test(test_memory_overlaps_partition),
        cmocka_unit_test(test_memory_overlaps_reserved),
        cmocka_unit_test(test_core_given_twice),
        cmocka_unit_test(test_core_not_on_board),
        cmocka_unit_test(test_core_listed_twice),
        cmocka_unit_test(test_cores_missing_or_too_many),
        cmocka_unit_test(test_missing_image),
        cmocka_unit_test(test_misaligned_memory),
        cmocka_unit_test(test_zero_size_memory),
        cmocka_unit_test(test_memory_property_malformed),
        cmocka_unit_test(test_image_larger_than_memory),
        cmocka_unit_test(test_bad_restart_policy),
        cmocka_unit_test(test_bad_restart_limit),
        cmocka_unit_test(test_may_restart_unknown),
        cmocka_unit_test(test_missing_compatible),
        cmocka_unit_test(test_missing_nodes),
        cmocka_unit_test(test_image_properties),
        cmocka_unit_test(test_name_too_long),
        cmocka_unit_test(test_console_in_partition_memory),
        cmocka_unit_test(test_duplicate_and_too_many_partitions),
        cmocka_unit_test(test_not_a_dtb),
        cmocka_unit_test_setup_teardown(test_board_qemu, qemu_dtb_setup, qemu_dtb_teardown),
        cmocka_unit_test_setup_teardown(test_board_initrd_cell_sizes, qemu_dtb_setup,
                                        qemu_dtb_teardown),
        cmocka_unit_test_setup_teardown(test_board_no_initrd, qemu_dtb_setup, qemu_dtb_teardown),
        cmocka_unit_test_setup_teardown(test_board_empty_initrd, qemu_dtb_setup, qemu_dtb_teardown),
        cmocka_unit_test_setup_teardown(test_board_psci_hvc_refused, qemu_dtb_setup,
                                        qemu_dtb_teardown),
        cmocka_unit_test_setup_teardown(test_board_reserved_memory, qemu_dtb_setup,
                                        qemu_dtb_teardown),
        cmocka_unit_test_setup_teardown(test_board_reserved_table_full, qemu_dtb_setup,
                                        qemu_dtb_teardown),
        cmocka_unit_test_setup_teardown(test_shipped_layouts, qemu_dtb_setup, qemu_dtb_teardown),
        cmocka_unit_test(test_channel_accepted),
        cmocka_unit_test(test_channel_endpoints_refused),
        cmocka_unit_test(test_channel_memory_refused),
        cmocka_unit_test(test_channel_rings_must_fit),
    };

    return cmocka_run_group_tests(tests, NULL, qemu_dtb_free);
}
