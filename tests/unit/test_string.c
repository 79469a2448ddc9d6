/*
 * Unit tests for the bare-metal images' <string.h> (shared/lib/string.c), built here
 * under other names (the Makefile renames every function, so the host C library's own
 * stay out of the way): memcpy's word and half-word paths at every alignment and length
 * up to a few blocks, against a byte-by-byte copy, with guard bytes around the
 * destination; memmove both ways; memset; memcmp's sign.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define AREA 256
#define GUARD 0xa5

/* Source and destination at every offset 0..15 from 16-aligned buffers, every length
 * up to 200: the copy is right and touches nothing else. */
static void test_memcpy_alignments(void **state)
{
    static uint8_t src[AREA] __attribute__((aligned(16)));
    static uint8_t dst[AREA] __attribute__((aligned(16)));

    (void)state;
    for (unsigned i = 0; i < AREA; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    for (unsigned so = 0; so < 16; so++)
        for (unsigned d_o = 0; d_o < 16; d_o++)
            for (size_t n = 0; n <= 200; n++) {
                for (unsigned i = 0; i < AREA; i++)
                    dst[i] = GUARD;
                assert_ptr_equal(memcpy(dst + d_o, src + so, n), dst + d_o);
                for (unsigned i = 0; i < AREA; i++) {
                    if (i >= d_o && i < d_o + n)
                        assert_int_equal(dst[i], src[so + i - d_o]);
                    else
                        assert_int_equal(dst[i], GUARD);
                }
            }
}

static void test_memmove_overlap(void **state)
{
    uint8_t buf[64];

    (void)state;
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)i;
    memmove(buf + 3, buf, 40);            /* forward overlap: copies from the end */
    for (unsigned i = 0; i < 40; i++)
        assert_int_equal(buf[3 + i], i);
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)i;
    memmove(buf, buf + 5, 40);            /* backward overlap */
    for (unsigned i = 0; i < 40; i++)
        assert_int_equal(buf[i], 5 + i);
}

static void test_memset(void **state)
{
    static uint8_t buf[AREA] __attribute__((aligned(16)));

    (void)state;
    for (unsigned off = 0; off < 16; off++)
        for (size_t n = 0; n <= 100; n++) {
            for (unsigned i = 0; i < AREA; i++)
                buf[i] = GUARD;
            memset(buf + off, 0x3c, n);
            for (unsigned i = 0; i < AREA; i++)
                assert_int_equal(buf[i], i >= off && i < off + n ? 0x3c : GUARD);
        }
}

static void test_memcmp_sign(void **state)
{
    (void)state;
    assert_int_equal(memcmp("abc", "abc", 3), 0);
    assert_true(memcmp("abc", "abd", 3) < 0);
    assert_true(memcmp("\xff", "\x01", 1) > 0);   /* bytes compare as unsigned */
    assert_int_equal(memcmp("a", "b", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memcpy_alignments),
        cmocka_unit_test(test_memmove_overlap),
        cmocka_unit_test(test_memset),
        cmocka_unit_test(test_memcmp_sign),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
