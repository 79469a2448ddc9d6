/*
 * Unit tests for the console line editor (shared/lib/line.c): the events it reports
 * for printable characters, Enter (CR, LF, CR LF), Backspace/DEL, Ctrl-C, ignored
 * bytes, the LINE_MAX_CHARS limit (a too-long line is refused whole, never cut short
 * and run), and a random-input run that checks the buffer is never overrun.
 *
 * The tests drive the editor the way guest_readline does: line_reset before each line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "line.h"

/* The editor followed by guard bytes, so a write past buf[] that also skipped the
 * struct's own fields would still be noticed. */
struct guarded {
    struct line_editor ed;
    unsigned char guard[64];
};

static struct guarded g;

static int setup(void **state)
{
    /* Zeroed as the shells declare it ({ 0 }), then reset as guest_readline does. */
    memset(&g.ed, 0, sizeof(g.ed));
    memset(g.guard, 0x5a, sizeof(g.guard));
    line_reset(&g.ed);
    *state = &g.ed;
    return 0;
}

static void check_guard(void)
{
    for (size_t i = 0; i < sizeof(g.guard); i++)
        assert_int_equal(g.guard[i], 0x5a);
}

/* Feed a string; every byte before the last must be echoed; returns the last event. */
static enum line_event type(struct line_editor *ed, const char *s)
{
    enum line_event ev = LINE_NONE;

    for (size_t i = 0; s[i]; i++) {
        ev = line_feed(ed, (unsigned char)s[i]);
        if (s[i + 1])
            assert_int_equal(ev, LINE_ECHO);
    }
    return ev;
}

static void test_word_then_cr(void **state)
{
    struct line_editor *ed = *state;

    assert_int_equal(line_feed(ed, 'l'), LINE_ECHO);
    assert_int_equal(line_feed(ed, 's'), LINE_ECHO);
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    assert_string_equal(ed->buf, "ls");
    assert_int_equal(ed->len, 2);
}

static void test_lf_alone_ends_line(void **state)
{
    struct line_editor *ed = *state;

    assert_int_equal(type(ed, "help"), LINE_ECHO);
    assert_int_equal(line_feed(ed, '\n'), LINE_DONE);
    assert_string_equal(ed->buf, "help");
}

static void test_empty_line(void **state)
{
    struct line_editor *ed = *state;

    /* Enter on its own is a line too (the shell prints a new prompt). */
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    assert_string_equal(ed->buf, "");
}

static void test_crlf_counts_once(void **state)
{
    struct line_editor *ed = *state;

    type(ed, "ps");
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    assert_string_equal(ed->buf, "ps");
    line_reset(ed);
    /* The LF of the pair is swallowed, not taken as an empty second line. */
    assert_int_equal(line_feed(ed, '\n'), LINE_NONE);
    assert_int_equal(type(ed, "id"), LINE_ECHO);
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    assert_string_equal(ed->buf, "id");

    /* Only directly after a CR: a second LF later is a line of its own. */
    line_reset(ed);
    assert_int_equal(line_feed(ed, '\n'), LINE_NONE);
    assert_int_equal(line_feed(ed, '\n'), LINE_DONE);
    assert_string_equal(ed->buf, "");

    /* CR CR is two lines. */
    line_reset(ed);
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    line_reset(ed);
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
}

static void test_lf_not_swallowed_after_other_byte(void **state)
{
    struct line_editor *ed = *state;

    /* CR, then a character, then LF: the LF ends the new line. */
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    line_reset(ed);
    assert_int_equal(line_feed(ed, 'x'), LINE_ECHO);
    assert_int_equal(line_feed(ed, '\n'), LINE_DONE);
    assert_string_equal(ed->buf, "x");
}

static void test_backspace(void **state)
{
    struct line_editor *ed = *state;

    type(ed, "cat");
    assert_int_equal(line_feed(ed, 0x08), LINE_ERASE);
    assert_int_equal(line_feed(ed, 0x7f), LINE_ERASE);
    assert_int_equal(ed->len, 1);
    assert_int_equal(line_feed(ed, 'd'), LINE_ECHO);
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    assert_string_equal(ed->buf, "cd");
}

static void test_backspace_on_empty(void **state)
{
    struct line_editor *ed = *state;

    /* Nothing to rub out: no event, so nothing is erased on screen (the prompt). */
    assert_int_equal(line_feed(ed, 0x08), LINE_NONE);
    assert_int_equal(line_feed(ed, 0x7f), LINE_NONE);
    assert_int_equal(ed->len, 0);
    type(ed, "a");
    assert_int_equal(line_feed(ed, 0x7f), LINE_ERASE);
    assert_int_equal(line_feed(ed, 0x7f), LINE_NONE);
    assert_int_equal(ed->len, 0);
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    assert_string_equal(ed->buf, "");
}

static void test_ctrl_c_cancels(void **state)
{
    struct line_editor *ed = *state;

    type(ed, "reboot");
    assert_int_equal(line_feed(ed, 0x03), LINE_CANCEL);
    assert_int_equal(ed->len, 0);
    /* The cancelled text is gone: the next Enter gives an empty line. */
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    assert_string_equal(ed->buf, "");
    line_reset(ed);
    type(ed, "ok");
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    assert_string_equal(ed->buf, "ok");
}

static void test_ignored_bytes(void **state)
{
    struct line_editor *ed = *state;

    type(ed, "a");
    /* Every control character except CR, LF, BS and ETX, and everything >= 0x7f but
     * DEL: no event and no change, so escape sequences cannot reach the shell. */
    for (int c = 0; c < 0x20; c++) {
        if (c == '\r' || c == '\n' || c == 0x08 || c == 0x03)
            continue;
        assert_int_equal(line_feed(ed, c), LINE_NONE);
    }
    for (int c = 0x80; c <= 0xff; c++)
        assert_int_equal(line_feed(ed, c), LINE_NONE);
    /* Out-of-range ints from a getc that returned something odd. */
    assert_int_equal(line_feed(ed, -1), LINE_NONE);
    assert_int_equal(line_feed(ed, 0x100), LINE_NONE);
    assert_int_equal(line_feed(ed, 0x141), LINE_NONE);   /* 'A' + 0x100 */
    assert_int_equal(ed->len, 1);
    type(ed, "b");
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    assert_string_equal(ed->buf, "ab");
}

static void test_all_printable_kept(void **state)
{
    struct line_editor *ed = *state;
    char want[0x7f - 0x20 + 1];

    for (int c = 0x20; c < 0x7f; c++) {
        want[c - 0x20] = (char)c;
        assert_int_equal(line_feed(ed, c), LINE_ECHO);
    }
    want[sizeof(want) - 1] = '\0';
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    assert_string_equal(ed->buf, want);
}

static void test_exactly_max_accepted(void **state)
{
    struct line_editor *ed = *state;
    char want[LINE_MAX_CHARS + 1];

    for (int i = 0; i < LINE_MAX_CHARS; i++) {
        want[i] = (char)('a' + i % 26);
        assert_int_equal(line_feed(ed, want[i]), LINE_ECHO);
    }
    want[LINE_MAX_CHARS] = '\0';
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    assert_int_equal(ed->len, LINE_MAX_CHARS);
    assert_string_equal(ed->buf, want);
    check_guard();
}

static void test_one_more_is_too_long(void **state)
{
    struct line_editor *ed = *state;

    for (int i = 0; i < LINE_MAX_CHARS; i++)
        assert_int_equal(line_feed(ed, 'x'), LINE_ECHO);
    /* The 256th character is not echoed, nor is anything after it... */
    assert_int_equal(line_feed(ed, 'y'), LINE_NONE);
    assert_int_equal(line_feed(ed, 'z'), LINE_NONE);
    /* ...and Backspace cannot bring the line back under the limit to be run cut short. */
    assert_int_equal(line_feed(ed, 0x7f), LINE_NONE);
    assert_true(ed->len <= LINE_MAX_CHARS);
    check_guard();

    /* Enter refuses the line as a whole and clears it: never LINE_DONE. */
    assert_int_equal(line_feed(ed, '\r'), LINE_TOO_LONG);
    assert_int_equal(ed->len, 0);
    assert_false(ed->overflow);
    assert_string_equal(ed->buf, "");

    /* The LF of CR LF is still swallowed, and the next line works normally. */
    assert_int_equal(line_feed(ed, '\n'), LINE_NONE);
    type(ed, "uptime");
    assert_int_equal(line_feed(ed, '\r'), LINE_DONE);
    assert_string_equal(ed->buf, "uptime");
}

static void test_ctrl_c_clears_overflow(void **state)
{
    struct line_editor *ed = *state;

    for (int i = 0; i <= LINE_MAX_CHARS; i++)
        line_feed(ed, 'x');
    /* Cancelling a too-long line starts afresh rather than staying in overflow. */
    assert_int_equal(line_feed(ed, 0x03), LINE_CANCEL);
    type(ed, "ok");
    assert_int_equal(line_feed(ed, '\n'), LINE_DONE);
    assert_string_equal(ed->buf, "ok");
}

/* A small fixed-seed generator, so a failure is reproducible on any libc. */
static uint32_t rng_state = 0x12345678u;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void test_random_input(void **state)
{
    struct line_editor *ed = *state;
    unsigned done = 0, too_long = 0;

    for (int i = 0; i < 10000; i++) {
        uint32_t r = rng();
        int c;

        /* Bias towards printable text with the odd Enter, so long lines happen too. */
        if (r % 300 == 0)
            c = '\r';
        else if (r % 2)
            c = 0x20 + (int)((r >> 8) % 0x5f);
        else
            c = (int)((r >> 8) & 0xff);

        switch (line_feed(ed, c)) {
        case LINE_DONE:
            assert_true(ed->len <= LINE_MAX_CHARS);
            assert_int_equal(ed->buf[ed->len], '\0');
            assert_int_equal(strlen(ed->buf), ed->len);
            for (size_t k = 0; k < ed->len; k++)
                assert_true(ed->buf[k] >= 0x20 && ed->buf[k] <= 0x7e);
            done++;
            line_reset(ed);
            break;
        case LINE_TOO_LONG:
            assert_int_equal(ed->len, 0);
            too_long++;
            break;
        default:
            break;
        }
        assert_true(ed->len <= LINE_MAX_CHARS);
        check_guard();
    }
    /* The input really exercised both ends of a line. */
    assert_true(done > 0);
    assert_true(too_long > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_word_then_cr, setup),
        cmocka_unit_test_setup(test_lf_alone_ends_line, setup),
        cmocka_unit_test_setup(test_empty_line, setup),
        cmocka_unit_test_setup(test_crlf_counts_once, setup),
        cmocka_unit_test_setup(test_lf_not_swallowed_after_other_byte, setup),
        cmocka_unit_test_setup(test_backspace, setup),
        cmocka_unit_test_setup(test_backspace_on_empty, setup),
        cmocka_unit_test_setup(test_ctrl_c_cancels, setup),
        cmocka_unit_test_setup(test_ignored_bytes, setup),
        cmocka_unit_test_setup(test_all_printable_kept, setup),
        cmocka_unit_test_setup(test_exactly_max_accepted, setup),
        cmocka_unit_test_setup(test_one_more_is_too_long, setup),
        cmocka_unit_test_setup(test_ctrl_c_clears_overflow, setup),
        cmocka_unit_test_setup(test_random_input, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
