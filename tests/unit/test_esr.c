/*
 * Unit tests for ESR_EL2 decoding (hyp/core/esr.c): the exception class field, the class
 * names crash reports print, the data-abort ISS fields the MMIO emulation relies on
 * (ISV, SAS, SSE, SRT, SF, WnR, DFSC), fault status code names, and esr_describe's one
 * line summaries.
 *
 * Syndromes are assembled here by hand from the Arm ARM field positions (ESR_ELx,
 * D17.2.37), not with esr.h's macros, so a wrong shift in the header cannot cancel out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "esr.h"

/* ESR_ELx layout: EC [31:26], IL [25], ISS [24:0]; data abort ISS fields below. */
#define EC(x)      ((uint64_t)(x) << 26)
#define IL         (1ull << 25)
#define ISV        (1ull << 24)
#define SAS(x)     ((uint64_t)(x) << 22)   /* 0 byte, 1 halfword, 2 word, 3 doubleword */
#define SSE        (1ull << 21)
#define SRT(x)     ((uint64_t)(x) << 16)
#define SF         (1ull << 15)
#define WNR        (1ull << 6)

static void test_class(void **state)
{
    (void)state;
    assert_int_equal(esr_class(EC(0x24) | IL | ISV), 0x24);
    assert_int_equal(esr_class(0x93c08006u), 0x24);   /* a real guest MMIO read */
    assert_int_equal(esr_class(0x5a000000u), 0x16);   /* HVC #0 */
    assert_int_equal(esr_class(0x96000045u), 0x25);   /* data abort at EL2 */
    assert_int_equal(esr_class(0x8200000fu), 0x20);   /* instruction abort, lower EL */
    assert_int_equal(esr_class(0xf2000000u), 0x3c);   /* BRK */
    assert_int_equal(esr_class(0x02000000u), 0x00);   /* unknown reason, IL set */
    assert_int_equal(esr_class(0xfc000000u), 0x3f);   /* all ones EC */
    /* Bits above 31 (ISS2 in ESR_EL2[55:32]) must not leak into the class. */
    assert_int_equal(esr_class(0xffffffff00000000ull | EC(0x16) | IL), 0x16);
    assert_int_equal(esr_class(0x0000000100000000ull), 0);
}

static void test_class_names(void **state)
{
    (void)state;
    assert_string_equal(esr_class_name(0x00), "unknown reason");
    assert_string_equal(esr_class_name(0x01), "WFI/WFE");
    assert_string_equal(esr_class_name(0x07), "FP/SIMD access");
    assert_string_equal(esr_class_name(0x0e), "illegal execution state");
    assert_string_equal(esr_class_name(0x15), "SVC");
    assert_string_equal(esr_class_name(0x16), "HVC");
    assert_string_equal(esr_class_name(0x17), "SMC");
    assert_string_equal(esr_class_name(0x18), "system register access");
    assert_string_equal(esr_class_name(0x20), "instruction abort from a lower EL");
    assert_string_equal(esr_class_name(0x21), "instruction abort at EL2");
    assert_string_equal(esr_class_name(0x22), "PC alignment fault");
    assert_string_equal(esr_class_name(0x24), "data abort from a lower EL");
    assert_string_equal(esr_class_name(0x25), "data abort at EL2");
    assert_string_equal(esr_class_name(0x26), "SP alignment fault");
    assert_string_equal(esr_class_name(0x2f), "SError");
    assert_string_equal(esr_class_name(0x3c), "BRK");
    /* Classes the hypervisor does not expect still get a printable name. */
    assert_string_equal(esr_class_name(0x3f), "unexpected exception class");
    assert_string_equal(esr_class_name(0x12), "unexpected exception class");
    assert_non_null(esr_class_name(0xffffffffu));
}

static void test_dabt_sizes(void **state)
{
    static const unsigned bytes[4] = { 1, 2, 4, 8 };

    (void)state;
    for (unsigned sas = 0; sas < 4; sas++) {
        struct esr_dabt d = esr_decode_dabt(EC(0x24) | IL | ISV | SAS(sas));

        assert_true(d.valid);
        assert_int_equal(d.size, bytes[sas]);
    }
}

static void test_dabt_fields(void **state)
{
    struct esr_dabt d;

    (void)state;
    /* str w1, [x0] faulting on a level 1 translation fault. */
    d = esr_decode_dabt(EC(0x24) | IL | ISV | SAS(2) | SRT(1) | WNR | 0x05);
    assert_true(d.valid);
    assert_int_equal(d.size, 4);
    assert_false(d.sign_extend);
    assert_int_equal(d.reg, 1);
    assert_false(d.reg64);
    assert_true(d.write);
    assert_int_equal(d.fsc, 0x05);

    /* ldrsh x30, [...]: sign-extending halfword load into a 64-bit register. */
    d = esr_decode_dabt(EC(0x24) | IL | ISV | SAS(1) | SSE | SRT(30) | SF | 0x07);
    assert_true(d.valid);
    assert_int_equal(d.size, 2);
    assert_true(d.sign_extend);
    assert_int_equal(d.reg, 30);
    assert_true(d.reg64);
    assert_false(d.write);
    assert_int_equal(d.fsc, 0x07);

    /* str xzr: SRT 31 is the zero register. */
    d = esr_decode_dabt(EC(0x24) | IL | ISV | SAS(3) | SRT(31) | SF | WNR | 0x06);
    assert_int_equal(d.reg, 31);
    assert_int_equal(d.size, 8);
    assert_true(d.reg64);
    assert_true(d.write);

    /* The example from esr.h: a 64-bit read into x0, translation fault level 2. */
    d = esr_decode_dabt(0x93c08006u);
    assert_true(d.valid);
    assert_int_equal(d.size, 8);
    assert_int_equal(d.reg, 0);
    assert_true(d.reg64);
    assert_false(d.write);
    assert_int_equal(d.fsc, 0x06);
}

static void test_dabt_no_isv(void **state)
{
    struct esr_dabt d;

    (void)state;
    /* Without ISV (e.g. a load pair) the instruction fields are not to be used, but
     * WnR and DFSC still are, so they must come through. */
    d = esr_decode_dabt(EC(0x24) | IL | WNR | 0x0d);
    assert_false(d.valid);
    assert_true(d.write);
    assert_int_equal(d.fsc, 0x0d);
}

static void test_dabt_fields_isolated(void **state)
{
    struct esr_dabt d;

    (void)state;
    /* Every bit set except the one under test must not change it: check each field
     * against a syndrome with all other ISS bits set. */
    d = esr_decode_dabt(EC(0x24) | 0x1ffffffull);
    assert_true(d.valid);
    assert_int_equal(d.size, 8);
    assert_true(d.sign_extend);
    assert_int_equal(d.reg, 31);
    assert_true(d.reg64);
    assert_true(d.write);
    assert_int_equal(d.fsc, 0x3f);

    d = esr_decode_dabt(EC(0x24) | (0x1ffffffull & ~(ISV | SSE | SF | WNR)));
    assert_false(d.valid);
    assert_false(d.sign_extend);
    assert_false(d.reg64);
    assert_false(d.write);

    d = esr_decode_dabt(EC(0x24) | (0x1ffffffull & ~(SAS(3) | SRT(31) | 0x3full)));
    assert_int_equal(d.size, 1);
    assert_int_equal(d.reg, 0);
    assert_int_equal(d.fsc, 0);

    /* ISS2 bits above 31 do not disturb the ISS fields. */
    d = esr_decode_dabt(0xffffff0000000000ull | EC(0x24) | IL | ISV | SAS(0) | SRT(3) | 0x04);
    assert_int_equal(d.size, 1);
    assert_int_equal(d.reg, 3);
    assert_false(d.write);
    assert_int_equal(d.fsc, 0x04);
}

static void test_fsc_names(void **state)
{
    char want[64];

    (void)state;
    /* FSC 0b00LLLL address size, 0b0001LL translation, 0b0010LL access flag,
     * 0b0011LL permission, level in the low two bits. */
    for (unsigned level = 0; level < 4; level++) {
        snprintf(want, sizeof(want), "address size fault, level %u", level);
        assert_string_equal(esr_fsc_name(0x00 + level), want);
        snprintf(want, sizeof(want), "translation fault, level %u", level);
        assert_string_equal(esr_fsc_name(0x04 + level), want);
        snprintf(want, sizeof(want), "access flag fault, level %u", level);
        assert_string_equal(esr_fsc_name(0x08 + level), want);
        snprintf(want, sizeof(want), "permission fault, level %u", level);
        assert_string_equal(esr_fsc_name(0x0c + level), want);
    }
    assert_string_equal(esr_fsc_name(0x10), "synchronous external abort");
    assert_string_equal(esr_fsc_name(0x21), "alignment fault");
    assert_string_equal(esr_fsc_name(0x30), "TLB conflict abort");
    assert_string_equal(esr_fsc_name(0x3f), "other fault");
    assert_string_equal(esr_fsc_name(0x11), "other fault");
}

static void test_describe_dabt(void **state)
{
    char buf[160];
    /* str w1, [x0] from EL1: translation fault at level 1. */
    uint64_t esr = EC(0x24) | IL | ISV | SAS(2) | SRT(1) | WNR | 0x05;
    int n;

    (void)state;
    assert_int_equal(esr, 0x93810045u);
    n = esr_describe(esr, buf, sizeof(buf));
    assert_int_equal(n, (int)strlen(buf));
    assert_non_null(strstr(buf, "0x93810045"));
    assert_non_null(strstr(buf, "data abort from a lower EL"));
    assert_non_null(strstr(buf, "write"));
    assert_non_null(strstr(buf, "translation fault, level 1"));
    assert_string_equal(buf,
                        "ESR 0x93810045 (data abort from a lower EL, write, translation fault, level 1)");

    /* The read direction, at EL2, with a permission fault. */
    esr_describe(EC(0x25) | IL | ISV | SAS(3) | SF | 0x0f, buf, sizeof(buf));
    assert_non_null(strstr(buf, "data abort at EL2"));
    assert_non_null(strstr(buf, "read"));
    assert_null(strstr(buf, "write"));
    assert_non_null(strstr(buf, "permission fault, level 3"));
}

static void test_describe_iabt(void **state)
{
    char buf[160];

    (void)state;
    /* Instruction fetch from a non-executable page: permission fault, level 3. */
    esr_describe(0x8200000fu, buf, sizeof(buf));
    assert_string_equal(buf, "ESR 0x8200000f (instruction abort from a lower EL, permission fault, level 3)");
    /* An instruction abort has no WnR: neither word may appear. */
    assert_null(strstr(buf, "write"));
    assert_null(strstr(buf, "read"));

    esr_describe(EC(0x21) | IL | 0x06, buf, sizeof(buf));
    assert_non_null(strstr(buf, "instruction abort at EL2"));
    assert_non_null(strstr(buf, "translation fault, level 2"));
}

static void test_describe_hvc(void **state)
{
    char buf[160];

    (void)state;
    /* hvc #0: EC 0x16 and IL; the immediate would be in ISS[15:0]. */
    esr_describe(0x5a000000u, buf, sizeof(buf));
    assert_string_equal(buf, "ESR 0x5a000000 (HVC)");
    /* Small ESRs are padded to eight digits, so log lines line up. */
    esr_describe(0x02000000u, buf, sizeof(buf));
    assert_string_equal(buf, "ESR 0x02000000 (unknown reason)");
}

static void test_describe_truncates(void **state)
{
    char buf[16];
    char full[160];
    int want, n;

    (void)state;
    /* Like snprintf: the full length is returned, the buffer stays terminated. */
    want = esr_describe(0x93810045u, full, sizeof(full));
    memset(buf, 'X', sizeof(buf));
    n = esr_describe(0x93810045u, buf, sizeof(buf));
    assert_int_equal(n, want);
    assert_int_equal(strlen(buf), sizeof(buf) - 1);
    assert_memory_equal(buf, full, sizeof(buf) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class),
        cmocka_unit_test(test_class_names),
        cmocka_unit_test(test_dabt_sizes),
        cmocka_unit_test(test_dabt_fields),
        cmocka_unit_test(test_dabt_no_isv),
        cmocka_unit_test(test_dabt_fields_isolated),
        cmocka_unit_test(test_fsc_names),
        cmocka_unit_test(test_describe_dabt),
        cmocka_unit_test(test_describe_iabt),
        cmocka_unit_test(test_describe_hvc),
        cmocka_unit_test(test_describe_truncates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
