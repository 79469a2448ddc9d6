/*
 * Unit tests for shared/lib/kprintf.c. Every supported directive is run
 * through both kvsnprintf and the host's vsnprintf, and the two must agree
 * on the bytes written and on the return value, at full size and at every
 * interesting truncation point. Behaviour where C leaves the choice to the
 * implementation (%p, NULL strings, unknown directives) is checked against
 * fixed expectations instead.
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kprintf.h"

#define BUF_SIZE 512
#define CANARY 0xa5

/*
 * Formats at one buffer size with both implementations. Bytes past size
 * must stay untouched, which catches a missing or misplaced NUL as well
 * as overruns.
 */
static void compare_at_size(const char *fmt, size_t size, va_list ap)
{
    unsigned char want[BUF_SIZE + 8];
    unsigned char got[BUF_SIZE + 8];
    va_list ap_want, ap_got;
    int want_ret, got_ret;
    size_t i;

    memset(want, CANARY, sizeof(want));
    memset(got, CANARY, sizeof(got));
    va_copy(ap_want, ap);
    va_copy(ap_got, ap);
    want_ret = vsnprintf(size ? (char *)want : NULL, size, fmt, ap_want);
    got_ret = kvsnprintf(size ? (char *)got : NULL, size, fmt, ap_got);
    va_end(ap_want);
    va_end(ap_got);

    if (got_ret != want_ret)
        fail_msg("\"%s\" size %zu: returned %d, host %d", fmt, size, got_ret, want_ret);
    if (memcmp(got, want, sizeof(got)) != 0) {
        for (i = 0; i < sizeof(got) && got[i] == want[i]; i++)
            ;
        fail_msg("\"%s\" size %zu: byte %zu is 0x%02x, host 0x%02x (host output \"%s\")",
                 fmt, size, i, got[i], want[i], size ? (char *)want : "");
    }
    for (i = size; i < sizeof(got); i++) {
        if (got[i] != CANARY)
            fail_msg("\"%s\" size %zu: wrote past the buffer at %zu", fmt, size, i);
    }
}

/*
 * Compares at full size, then at sizes 0 and 1, half the output, exactly
 * one byte short, exactly enough, and one byte spare.
 */
__attribute__((format(printf, 1, 2)))
static void check(const char *fmt, ...)
{
    va_list ap, probe;
    size_t sizes[6];
    size_t len, i;
    int n;

    va_start(ap, fmt);
    va_copy(probe, ap);
    n = vsnprintf(NULL, 0, fmt, probe);
    va_end(probe);
    assert_true(n >= 0 && n < BUF_SIZE);
    len = (size_t)n;

    compare_at_size(fmt, BUF_SIZE, ap);
    sizes[0] = 0;
    sizes[1] = 1;
    sizes[2] = len / 2;
    sizes[3] = len;
    sizes[4] = len + 1;
    sizes[5] = len + 2;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        compare_at_size(fmt, sizes[i], ap);
    va_end(ap);
}

/*
 * Hides a literal from the compiler's format checker, for cases that are
 * odd on purpose: flags C says are ignored in combination, %p flags left
 * to the implementation, and h/hh arguments that must be truncated.
 */
static const char *deliberate(const char *fmt)
{
    return fmt;
}

/* For behaviour C leaves to the implementation: fixed expected output. */
__attribute__((format(printf, 3, 4)))
static void expect(const char *want, size_t size, const char *fmt, ...)
{
    char got[BUF_SIZE];
    va_list ap;
    int ret;

    memset(got, CANARY, sizeof(got));
    va_start(ap, fmt);
    ret = kvsnprintf(got, size, fmt, ap);
    va_end(ap);
    assert_int_equal(ret, strlen(want));
    if (size) {
        assert_int_equal(strlen(got), ret < (int)size ? (size_t)ret : size - 1);
        assert_memory_equal(got, want, strlen(got));
    }
}

static void test_plain_text(void **state)
{
    (void)state;
    check("%s", "");
    check("hello, world");
    check("%%");
    check("100%% sure, %d%%", 42);
    check("a%cb%cc", 'X', 'Y');
}

static void test_signed(void **state)
{
    static const int values[] = { 0, 1, -1, 7, -42, 123456, INT_MAX, INT_MIN };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        int v = values[i];

        check("%d", v);
        check("%i", v);
        check("[%8d]", v);
        check("[%-8d]", v);
        check("[%08d]", v);
        check("[%+d]", v);
        check("[% d]", v);
        check("[%+08d]", v);
        check("[% 08d]", v);
        check(deliberate("[%+ d]"), v);
        check("[%-+8d]", v);
        check(deliberate("[%-08d]"), v);
        check("[%.0d]", v);
        check("[%.5d]", v);
        check("[%8.5d]", v);
        check("[%-8.5i]", v);
        check(deliberate("[%08.5d]"), v);
        check("[%+.3d]", v);
        check("[%3d]", v);
        check("[%1.1d]", v);
        check("[%.12d]", v);
        check("[%30.20d]", v);
    }
}

static void test_unsigned(void **state)
{
    static const unsigned int values[] = { 0, 1, 8, 9, 10, 15, 16, 255, 0x1234abcd, UINT_MAX };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        unsigned int v = values[i];

        check("%u %o %x %X", v, v, v, v);
        check("[%#o] [%#x] [%#X]", v, v, v);
        check("[%12u] [%12o] [%12x] [%12X]", v, v, v, v);
        check("[%-12u] [%-12o] [%-12x] [%-12X]", v, v, v, v);
        check("[%012u] [%012o] [%012x] [%012X]", v, v, v, v);
        check("[%#012o] [%#012x] [%#012X]", v, v, v);
        check("[%-#12o] [%-#12x] [%-#12X]", v, v, v);
        check("[%.0u] [%.0o] [%.0x] [%.0X]", v, v, v, v);
        check("[%#.0o] [%#.0x]", v, v);
        check("[%.6u] [%.6o] [%.6x] [%.6X]", v, v, v, v);
        check("[%#.6o] [%#.6x] [%#12.6X]", v, v, v);
        check("[%#.1o] [%#.2o] [%#.12o]", v, v, v);
        check(deliberate("[%012.4x] [%-12.4o]"), v, v);
        check("[%2u] [%1x] [%#3x]", v, v, v);
    }
}

static void test_length_modifiers(void **state)
{
    (void)state;
    /* hh and h must truncate the promoted int back to the narrow type. */
    check(deliberate("%hhd %hhi %hhu %hhx %hho"), 200, -129, 511, 0x1ff, 0777);
    check(deliberate("%hhd %hhu %hhX"), SCHAR_MIN, UCHAR_MAX, 0x80);
    check(deliberate("%hd %hi %hu %hx %ho"), 40000, -32769, 131071, 0x1ffff, 0x1ffff);
    check(deliberate("%hd %hu %hX"), SHRT_MIN, USHRT_MAX, 0x8000);

    check("%ld %li %lu %lx %lo", LONG_MIN, LONG_MAX, ULONG_MAX, ULONG_MAX, ULONG_MAX);
    check("%lld %lli %llu %llx %llX %llo", LLONG_MIN, LLONG_MAX, ULLONG_MAX,
          0xfedcba9876543210ULL, 0xfedcba9876543210ULL, ULLONG_MAX);
    check("[%+25lld] [%-25lld] [%025lld]", LLONG_MIN, LLONG_MAX, LLONG_MIN);
    check("[%#llo] [%#llx] [%.25llu]", ULLONG_MAX, ULLONG_MAX, ULLONG_MAX);

    check("%zu %zx %zd %zd", SIZE_MAX, (size_t)0xdeadbeef, (ptrdiff_t)-5, PTRDIFF_MAX);
    check("%jd %ji %ju %jx %jo", INTMAX_MIN, INTMAX_MAX, UINTMAX_MAX, UINTMAX_MAX,
          (uintmax_t)8);
    check("%td %ti %tu %tx", PTRDIFF_MIN, PTRDIFF_MAX, (ptrdiff_t)17, (ptrdiff_t)255);

    /* Mixed widths in one call check each fetch consumes the right slot. */
    check("%hhd|%lld|%hd|%zu|%d|%jd|%ld|%td|%c", (signed char)-1, -2LL, (short)-3, (size_t)4, 5,
          (intmax_t)-6, 7L, (ptrdiff_t)-8, 'z');
}

static void test_char(void **state)
{
    (void)state;
    check("%c", 'a');
    check("[%5c] [%-5c] [%1c]", 'b', 'c', 'd');
    check("%c%c%c", 'x', 0x100 + 'y', '\xff');
    /* A NUL from %c is output like any other byte and counted. */
    check("a%cb", 0);
}

static void test_string(void **state)
{
    static const char unterminated[4] = { 'a', 'b', 'c', 'd' };

    (void)state;
    check("%s", "text");
    check("[%10s] [%-10s] [%2s]", "right", "left", "wider");
    check("[%.2s] [%.0s] [%.10s] [%.4s]", "abcdef", "abc", "abc", "abcd");
    check("[%8.3s] [%-8.3s]", "abcdef", "abcdef");
    check("%s and %s", "one", "two");
    check("[%s]", "");
    check("[%5s]", "");
    /* Precision bounds the read, so a non-terminated array is fine. */
    check("[%.4s]", unterminated);
    check("[%.*s]", 3, unterminated);
}

static void test_null_string(void **state)
{
    const char *volatile null_string = NULL;

    (void)state;
    check("%s", null_string);
    check("[%10s] [%-10s] [%.6s] [%.8s]", null_string, null_string, null_string,
          null_string);
    /* glibc prints nothing when the precision cannot fit "(null)"; we cut it. */
    expect("[(nu]", BUF_SIZE, "[%.3s]", null_string);
    expect("[    (n]", BUF_SIZE, "[%6.2s]", null_string);
}

static void test_pointer(void **state)
{
    int object;
    void *p = &object;
    void *volatile null_pointer = NULL;

    (void)state;
    check("%p", p);
    check("[%30p] [%-30p]", p, p);
    check(deliberate("[%.20p] [%30.20p]"), p, p);
    check("%p", (void *)1);
    check("%p", (void *)UINTPTR_MAX);
    check("%p", null_pointer);
    check(deliberate("[%10p] [%-10p] [%.1p]"), null_pointer, null_pointer, null_pointer);

    expect("0xabc", BUF_SIZE, "%p", (void *)0xabc);
    expect("[0x00000abc]", BUF_SIZE, deliberate("[%010p]"), (void *)0xabc);
    expect("[0xabc]", BUF_SIZE, deliberate("[%#p]"), (void *)0xabc);
    /* Addresses are unsigned: unlike glibc, no sign is printed. */
    expect("[0xabc] [0xabc]", BUF_SIZE, deliberate("[%+p] [% p]"), (void *)0xabc, (void *)0xabc);
    expect("[     (nil)]", BUF_SIZE, deliberate("[%010p]"), null_pointer);
}

static void test_star(void **state)
{
    (void)state;
    check("[%*d]", 6, 42);
    check("[%-*d]", 6, 42);
    check("[%*d]", -6, 42);
    check("[%-*d]", -6, 42);
    check("[%0*d]", -6, 42);
    check("[%*d]", 0, 42);
    check("[%.*d]", 4, 42);
    check("[%.*d]", 0, 0);
    check("[%.*d]", -1, 0);
    check(deliberate("[%08.*d]"), -3, -42);
    check("[%*.*x]", 10, 6, 0xbeefu);
    check("[%-*.*x]", 10, 6, 0xbeefu);
    check("[%*s|%.*s|%-*.*s]", 7, "ab", 2, "xyz", -5, 1, "hello");
    check("[%*c]", 3, 'q');
    check("[%*p]", -20, (void *)0x1000);
    check("[%*d] [%*lld]", 300, 1, 1, LLONG_MIN);
}

static void test_multiple_conversions(void **state)
{
    (void)state;
    check("%s=%d (0x%08x) '%c' %5.1s%-3u|%o%%", "answer", 42, 42u, '*', "yes", 7u, 8u);
    check("%d%d%d%d%d%d%d%d%d%d%d%d", 1, 22, 333, 4444, 55555, 666666, 7, 8, 9, 10, 11, 12);
}

/* Truncation with hand-written results, independent of the host library. */
static void test_truncation(void **state)
{
    char buf[16];
    int ret;

    (void)state;
    expect("hello", 0, "hello");
    expect("hello", 1, "hello");
    expect("hello", 5, "hello");
    expect("hello", 6, "hello");
    expect("-12345", 4, "%d", -12345);
    expect("0x00ff", 3, "%#06x", 0xffu);
    expect("   ab", 3, "%5s", "ab");
    expect("ab   ", 4, "%-5s", "ab");

    /* Size 0 must not touch the buffer at all, not even with a NUL. */
    memset(buf, 'Z', sizeof(buf));
    ret = ksnprintf(buf, 0, "%s", "nothing");
    assert_int_equal(ret, 7);
    assert_int_equal(buf[0], 'Z');

    ret = ksnprintf(NULL, 0, "%d-%s", 123, "abc");
    assert_int_equal(ret, 7);

    memset(buf, 'Z', sizeof(buf));
    ret = ksnprintf(buf, 1, "%s", "anything");
    assert_int_equal(ret, 8);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], 'Z');

    memset(buf, 'Z', sizeof(buf));
    ret = ksnprintf(buf, 4, "%s", "abc");
    assert_int_equal(ret, 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(buf[4], 'Z');
}

/* Not C: kprintf's own choice, so misuse is visible in the output. */
static void test_unsupported_directives(void **state)
{
    const char *volatile fmt;
    char buf[64];

    (void)state;
    fmt = "a%qb";
    assert_int_equal(ksnprintf(buf, sizeof(buf), fmt, 1), 4);
    assert_string_equal(buf, "a%qb");
    fmt = "x%-08.3ly";
    ksnprintf(buf, sizeof(buf), fmt, 1);
    assert_string_equal(buf, "x%-08.3ly");
    fmt = "%d %f %d";
    ksnprintf(buf, sizeof(buf), fmt, 1, 2);
    assert_string_equal(buf, "1 %f 2");
    fmt = "end%";
    ksnprintf(buf, sizeof(buf), fmt, 0);
    assert_string_equal(buf, "end%");
    fmt = "end%-5l";
    ksnprintf(buf, sizeof(buf), fmt, 0);
    assert_string_equal(buf, "end%-5l");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text),
        cmocka_unit_test(test_signed),
        cmocka_unit_test(test_unsigned),
        cmocka_unit_test(test_length_modifiers),
        cmocka_unit_test(test_char),
        cmocka_unit_test(test_string),
        cmocka_unit_test(test_null_string),
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_star),
        cmocka_unit_test(test_multiple_conversions),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_unsupported_directives),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
