/*
 * The RT shell's calculator: evaluates an arithmetic expression typed by a user or
 * proposed by the AI partition (compute.calc), on the trusted side, in fixed point (the
 * RT kernel uses no floating point). Input is untrusted: every malformed expression,
 * overflow or division by zero is an error with a reason, never a crash.
 *
 * Grammar: numbers (digits, optional fraction: 2.5), + - * / ^ (power, whole exponents),
 * parentheses, unary minus, and the words plus, minus, times, "multiplied by", x (between
 * numbers), "divided by", over, squared, cubed, "to the power of"; "what is" and a final
 * "?" are ignored. ^ binds tightest and to the right; * / before + -.
 */
#ifndef RT_CALC_H
#define RT_CALC_H

#include <stddef.h>
#include <stdint.h>

#define CALC_SCALE     1000000   /* values are integers of millionths */
#define CALC_MAX_DEPTH 32        /* nested parentheses and powers */

/* Evaluate expr. 0 and *value (in millionths), or -1 with a reason in err. */
int calc_eval(const char *expr, int64_t *value, char *err, size_t errlen);

/* value (millionths) as decimal text without trailing zeros: "2.5", "-3", "0.333333". */
void calc_format(int64_t value, char *buf, size_t len);

#endif /* RT_CALC_H */
