/*
 * Unit tests for the boot bundle reader (hyp/core/bundle_reader.c): finding images by
 * name (exact match only, full 16-character names without a NUL), and refusing every
 * malformed index the firmware could hand over: bad magic or version, too many entries,
 * a total_size larger than what was loaded, a buffer smaller than the header, and
 * entries whose offset or size fall outside the bundle, including a sum that wraps.
 *
 * Bundles are built in memory here the way tools/mkbundle lays them out: the header,
 * then each image at a 4 KiB aligned offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bundle.h"
#include "bundle_reader.h"
#include <errno.h>

#define MAX_BUNDLE (8 * BUNDLE_ALIGN)

/* Aligned backing store, since the reader reads the header in place. */
static union {
    struct bundle_header h;
    uint8_t bytes[MAX_BUNDLE];
} buf;

struct img {
    const char *name;   /* up to BUNDLE_NAME_MAX characters */
    uint64_t size;
    uint8_t fill;       /* every byte of the image, so a wrong pointer shows */
};

/* Lay the images out after the header, each 4 KiB aligned; returns the bundle size. */
static uint64_t build(const struct img *imgs, unsigned n)
{
    uint64_t off = BUNDLE_ALIGN;   /* the header fits in the first page */

    assert_true(sizeof(struct bundle_header) <= BUNDLE_ALIGN);
    memset(&buf, 0, sizeof(buf));
    buf.h.magic = BUNDLE_MAGIC;
    buf.h.version = BUNDLE_VERSION;
    buf.h.count = n;
    for (unsigned i = 0; i < n; i++) {
        struct bundle_entry *e = &buf.h.entries[i];

        assert_true(strlen(imgs[i].name) <= BUNDLE_NAME_MAX);
        memcpy(e->name, imgs[i].name, strlen(imgs[i].name));   /* NUL-padded by the memset */
        e->offset = off;
        e->size = imgs[i].size;
        assert_true(off + imgs[i].size <= MAX_BUNDLE);
        memset(buf.bytes + off, imgs[i].fill, imgs[i].size);
        off += (imgs[i].size + BUNDLE_ALIGN - 1) / BUNDLE_ALIGN * BUNDLE_ALIGN;
    }
    buf.h.total_size = off;
    return off;
}

static const struct img three[] = {
    { "rtkernel", 5000, 0x11 },
    { "aios", 123, 0x22 },
    { "linux", 2 * BUNDLE_ALIGN, 0x33 },
};

static void expect_image(uint64_t total, const char *name, uint64_t off, uint64_t size)
{
    const void *image = NULL;
    uint64_t got = 0;

    assert_int_equal(bundle_find(&buf, total, name, &image, &got), 0);
    assert_ptr_equal(image, buf.bytes + off);
    assert_int_equal(got, size);
}

static void expect_rc(uint64_t total, const char *name, int rc)
{
    const void *image = (const void *)0x1;
    uint64_t size = 0xdead;

    assert_int_equal(bundle_find(&buf, total, name, &image, &size), rc);
    /* A failed lookup leaves the outputs alone: no half-answer to act on. */
    assert_ptr_equal(image, (const void *)0x1);
    assert_int_equal(size, 0xdead);
}

static void test_find_each(void **state)
{
    uint64_t total = build(three, 3);

    (void)state;
    expect_image(total, "rtkernel", 1 * BUNDLE_ALIGN, 5000);
    expect_image(total, "aios", 3 * BUNDLE_ALIGN, 123);
    expect_image(total, "linux", 4 * BUNDLE_ALIGN, 2 * BUNDLE_ALIGN);

    /* The pointer reaches the image's own bytes, first to last. */
    {
        const uint8_t *image;
        uint64_t size;

        assert_int_equal(bundle_find(&buf, total, "aios", (const void **)&image, &size), 0);
        for (uint64_t i = 0; i < size; i++)
            assert_int_equal(image[i], 0x22);
    }
}

static void test_bundle_larger_than_total(void **state)
{
    uint64_t total = build(three, 3);

    (void)state;
    /* The firmware may load the bundle into a larger region (padding): still fine. */
    expect_image(MAX_BUNDLE, "linux", 4 * BUNDLE_ALIGN, 2 * BUNDLE_ALIGN);
    assert_true(total < MAX_BUNDLE);
}

static void test_prefix_does_not_match(void **state)
{
    static const struct img imgs[] = {
        { "rtkernel-debug", 10, 1 },
        { "rt", 20, 2 },
        { "aios", 30, 3 },
    };
    uint64_t total = build(imgs, 3);

    (void)state;
    /* "rt" is a prefix of the first entry's name; it must find the second entry. */
    expect_image(total, "rt", 2 * BUNDLE_ALIGN, 20);
    expect_image(total, "rtkernel-debug", 1 * BUNDLE_ALIGN, 10);
    /* Neither a prefix nor an extension of a stored name matches it. */
    expect_rc(total, "rtkernel", -ENOENT);
    expect_rc(total, "aio", -ENOENT);
    expect_rc(total, "aiosx", -ENOENT);
    expect_rc(total, "", -ENOENT);
}

static void test_full_length_name(void **state)
{
    static const struct img imgs[] = {
        { "0123456789abcdef", 100, 7 },   /* 16 characters: no NUL in the entry */
        { "0123456789abcde", 200, 8 },    /* 15 characters, NUL-terminated */
    };
    uint64_t total = build(imgs, 2);

    (void)state;
    assert_int_equal(strlen(imgs[0].name), BUNDLE_NAME_MAX);
    expect_image(total, "0123456789abcdef", 1 * BUNDLE_ALIGN, 100);
    expect_image(total, "0123456789abcde", 2 * BUNDLE_ALIGN, 200);
    /* Longer than any entry can hold: cannot be in the bundle. */
    expect_rc(total, "0123456789abcdefg", -ENOENT);
    expect_rc(total, "0123456789abcd", -ENOENT);

    /* The bytes after a full-length name are the entry's offset; a 17-character name
     * must not be compared into them. Make the offset's first byte (little-endian)
     * equal the extra character to catch that. */
    buf.h.entries[0].offset = BUNDLE_ALIGN + 'g';
    buf.h.entries[0].size = 1;
    expect_image(total, "0123456789abcdef", BUNDLE_ALIGN + 'g', 1);
    expect_rc(total, "0123456789abcdefg", -ENOENT);
}

static void test_unknown_name(void **state)
{
    uint64_t total = build(three, 3);

    (void)state;
    expect_rc(total, "windows", -ENOENT);
    expect_rc(total, "RTKERNEL", -ENOENT);   /* names are case-sensitive */

    /* An empty but valid bundle has nothing in it. */
    total = build(NULL, 0);
    expect_rc(total, "rtkernel", -ENOENT);
}

static void test_bad_magic(void **state)
{
    uint64_t total = build(three, 3);

    (void)state;
    buf.h.magic ^= 1;
    expect_rc(total, "aios", -EINVAL);
    /* Byte-swapped (a big-endian writer) is not the magic either. */
    buf.h.magic = __builtin_bswap64(BUNDLE_MAGIC);
    expect_rc(total, "aios", -EINVAL);
    /* The magic spells "AIOSBNDL" in memory, as the header says. */
    buf.h.magic = BUNDLE_MAGIC;
    assert_memory_equal(buf.bytes, "AIOSBNDL", 8);
}

static void test_bad_version(void **state)
{
    uint64_t total = build(three, 3);

    (void)state;
    buf.h.version = 0;
    expect_rc(total, "aios", -EINVAL);
    buf.h.version = BUNDLE_VERSION + 1;
    expect_rc(total, "aios", -EINVAL);
}

static void test_too_many_entries(void **state)
{
    uint64_t total = build(three, 3);

    (void)state;
    buf.h.count = BUNDLE_MAX_IMAGES + 1;
    expect_rc(total, "aios", -EINVAL);
    buf.h.count = 0xffffffffu;
    expect_rc(total, "aios", -EINVAL);
    /* Exactly the maximum is allowed (the unused entries are zero, i.e. empty). */
    buf.h.count = BUNDLE_MAX_IMAGES;
    expect_image(total, "aios", 3 * BUNDLE_ALIGN, 123);
}

static void test_total_size_past_buffer(void **state)
{
    uint64_t total = build(three, 3);

    (void)state;
    /* The header claims more than the firmware loaded. */
    expect_rc(total - 1, "aios", -EINVAL);
    buf.h.total_size = UINT64_MAX;
    expect_rc(MAX_BUNDLE, "aios", -EINVAL);
}

static void test_smaller_than_header(void **state)
{
    uint64_t total = build(three, 3);

    (void)state;
    (void)total;
    /* A valid-looking header in a buffer too short to hold it is not read. */
    buf.h.total_size = sizeof(struct bundle_header) - 1;
    buf.h.count = 0;
    expect_rc(sizeof(struct bundle_header) - 1, "aios", -EINVAL);
    expect_rc(8, "aios", -EINVAL);
    expect_rc(0, "aios", -EINVAL);
}

static void test_entry_out_of_bounds(void **state)
{
    uint64_t total;

    (void)state;
    /* Offset past the end. */
    total = build(three, 3);
    buf.h.entries[1].offset = total + BUNDLE_ALIGN;
    expect_rc(total, "aios", -EINVAL);

    /* Offset in range, size running past the end by one byte. */
    total = build(three, 3);
    buf.h.entries[2].size = total - buf.h.entries[2].offset + 1;
    expect_rc(total, "linux", -EINVAL);
    /* ...while ending exactly at total_size is fine. */
    buf.h.entries[2].size = total - buf.h.entries[2].offset;
    expect_image(total, "linux", 4 * BUNDLE_ALIGN, total - 4 * BUNDLE_ALIGN);

    /* Offset + size wraps past 2^64 back to a small number: must not look in range. */
    total = build(three, 3);
    buf.h.entries[0].offset = BUNDLE_ALIGN;
    buf.h.entries[0].size = UINT64_MAX - BUNDLE_ALIGN + 2;   /* offset + size == 1 */
    expect_rc(total, "rtkernel", -EINVAL);
    buf.h.entries[0].offset = UINT64_MAX;
    buf.h.entries[0].size = 2;
    expect_rc(total, "rtkernel", -EINVAL);

    /* A corrupt entry ahead of the wanted one also stops the lookup. */
    total = build(three, 3);
    buf.h.entries[0].size = UINT64_MAX;
    expect_rc(total, "linux", -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_each),
        cmocka_unit_test(test_bundle_larger_than_total),
        cmocka_unit_test(test_prefix_does_not_match),
        cmocka_unit_test(test_full_length_name),
        cmocka_unit_test(test_unknown_name),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_too_many_entries),
        cmocka_unit_test(test_total_size_past_buffer),
        cmocka_unit_test(test_smaller_than_header),
        cmocka_unit_test(test_entry_out_of_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
