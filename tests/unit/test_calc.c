/* The RT shell's fixed-point calculator (rtkernel/calc.c): values, words, precedence,
 * and a clear error for every bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "calc.h"

static void check_value(const char *expr, const char *want)
{
    char err[96] = "", got[48];
    int64_t v;

    if (calc_eval(expr, &v, err, sizeof(err)))
        fail_msg("'%s' refused: %s", expr, err);
    calc_format(v, got, sizeof(got));
    if (strcmp(got, want))
        fail_msg("'%s' = %s, expected %s", expr, got, want);
}

static void check_error(const char *expr, const char *why)
{
    char err[96] = "";
    int64_t v;

    if (!calc_eval(expr, &v, err, sizeof(err)))
        fail_msg("'%s' accepted", expr);
    if (!strstr(err, why))
        fail_msg("'%s': error '%s', expected '%s'", expr, err, why);
}

static void test_arithmetic(void **state)
{
    (void)state;
    check_value("2+2", "4");
    check_value("  7 - 10 ", "-3");
    check_value("2 + 3 * 4", "14");
    check_value("(2 + 3) * 4", "20");
    check_value("1/3", "0.333333");
    check_value("10 / 4", "2.5");
    check_value("2^10", "1024");
    check_value("2^3^2", "512");          /* right-associative */
    check_value("-2^2", "-4");
    check_value("(-2)^2", "4");
    check_value("2^-2", "0.25");
    check_value("1.5 * 1.5", "2.25");
    check_value(".5 + .25", "0.75");
    check_value("--3", "3");
    check_value("((((1))))", "1");
}

static void test_words(void **state)
{
    (void)state;
    check_value("what is 12 times 3?", "36");
    check_value("7 plus 5 minus 2", "10");
    check_value("9 squared", "81");
    check_value("3 cubed plus 1", "28");
    check_value("2 to the power of 8", "256");
    check_value("100 divided by 8", "12.5");
    check_value("6 multiplied by 7", "42");
    check_value("10 over 4", "2.5");
    check_value("4 x 5", "20");
    check_value("What Is 1 PLUS 1", "2");
}

static void test_errors(void **state)
{
    static char deep[256];

    (void)state;
    check_error("", "incomplete expression");
    check_error("2 +", "incomplete expression");
    check_error("1/0", "division by zero");
    check_error("5 divided by (3 - 3)", "division by zero");
    check_error("(1 + 2", "missing )");
    check_error("1 + 2)", "unmatched )");
    check_error("2 ^ 0.5", "only whole powers");
    check_error("10 ^ 100", "result too large");
    check_error("2 ^ 5000", "power too large");
    check_error("99999999999999999999", "number too large");
    check_error("9223372036854 * 9223372036854", "result too large");
    check_error("2 + banana", "unexpected character or word");
    check_error("2 2", "unexpected text after the expression");
    check_error("divided", "unexpected character or word");
    check_error("3 divided", "unexpected character or word");
    memset(deep, '(', 200);
    check_error(deep, "too deeply nested");
    assert_int_equal(calc_eval(NULL, &(int64_t){ 0 }, NULL, 0), -1);
}

static void test_format(void **state)
{
    char buf[48];

    (void)state;
    calc_format(0, buf, sizeof(buf));
    assert_string_equal(buf, "0");
    calc_format(-1500000, buf, sizeof(buf));
    assert_string_equal(buf, "-1.5");
    calc_format(1, buf, sizeof(buf));
    assert_string_equal(buf, "0.000001");
    calc_format(INT64_MIN, buf, sizeof(buf));
    assert_string_equal(buf, "-9223372036854.775808");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
