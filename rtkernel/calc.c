/*
 * Fixed-point expression evaluator; see calc.h. A recursive-descent parser over a small
 * token stream, with the depth bounded so no input can exhaust the stack, and every
 * operation checked for overflow.
 */
#include <string.h>

#include "calc.h"
#include "kprintf.h"

enum tok { T_END, T_NUM, T_PLUS, T_MINUS, T_TIMES, T_DIV, T_POW, T_LPAREN, T_RPAREN,
           T_SQUARED, T_CUBED, T_BAD };

struct parser {
    const char *s;
    enum tok tok;
    int64_t num;        /* T_NUM: the value, in millionths */
    int depth;
    char *err;
    size_t errlen;
    int failed;
};

static int fail(struct parser *p, const char *why)
{
    if (!p->failed)
        kfail(p->err, p->errlen, -1, "%s", why);
    p->failed = 1;
    return -1;
}

static int is_alpha(char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Does the text at s start with word w (case-insensitive, whole word)? */
static size_t word(const char *s, const char *w)
{
    size_t n = strlen(w);

    for (size_t i = 0; i < n; i++)
        if (!s[i] || (s[i] | 32) != w[i])   /* w is lower case letters and spaces */
            return 0;
    return is_alpha(s[n]) ? 0 : n;
}

static const struct { const char *text; enum tok tok; } words[] = {
    { "multiplied by", T_TIMES }, { "divided by", T_DIV }, { "to the power of", T_POW },
    { "plus", T_PLUS }, { "minus", T_MINUS }, { "times", T_TIMES }, { "over", T_DIV },
    { "squared", T_SQUARED }, { "cubed", T_CUBED }, { "x", T_TIMES },
};

static void next(struct parser *p)
{
    const char *s = p->s;

    while (*s == ' ' || *s == '\t')
        s++;
    p->s = s + 1;
    switch (*s) {
    case '\0': p->tok = T_END; p->s = s; return;
    case '+': p->tok = T_PLUS; return;
    case '-': p->tok = T_MINUS; return;
    case '*': p->tok = T_TIMES; return;
    case '/': p->tok = T_DIV; return;
    case '^': p->tok = T_POW; return;
    case '(': p->tok = T_LPAREN; return;
    case ')': p->tok = T_RPAREN; return;
    case '?': p->s = s + 1; next(p); return;   /* "what is 2+2?" */
    default: break;
    }
    if (is_digit(*s) || (*s == '.' && is_digit(s[1]))) {
        int64_t whole = 0, frac = 0, scale = CALC_SCALE / 10;

        for (; is_digit(*s); s++)
            if (__builtin_mul_overflow(whole, 10, &whole) ||
                __builtin_add_overflow(whole, *s - '0', &whole) || whole > INT64_MAX / CALC_SCALE) {
                p->tok = T_BAD;
                fail(p, "number too large");
                return;
            }
        if (*s == '.')
            for (s++; is_digit(*s); s++, scale /= 10)
                frac += (*s - '0') * scale;   /* digits past the sixth add nothing */
        p->num = whole * CALC_SCALE + frac;
        p->tok = T_NUM;
        p->s = s;
        return;
    }
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = word(s, words[i].text);

        if (n) {
            p->tok = words[i].tok;
            p->s = s + n;
            return;
        }
    }
    p->tok = T_BAD;
    fail(p, "unexpected character or word");
}

static int mul(struct parser *p, int64_t a, int64_t b, int64_t *out)
{
    __int128 r = (__int128)a * b / CALC_SCALE;

    if (r > INT64_MAX || r < -INT64_MAX)
        return fail(p, "result too large");
    *out = (int64_t)r;
    return 0;
}

static int divide(struct parser *p, int64_t a, int64_t b, int64_t *out)
{
    __int128 r;

    if (b == 0)
        return fail(p, "division by zero");
    r = (__int128)a * CALC_SCALE / b;
    if (r > INT64_MAX || r < -INT64_MAX)
        return fail(p, "result too large");
    *out = (int64_t)r;
    return 0;
}

static int power(struct parser *p, int64_t base, int64_t exp, int64_t *out)
{
    int64_t r = CALC_SCALE, e;
    int neg;

    if (exp % CALC_SCALE)
        return fail(p, "only whole powers");
    e = exp / CALC_SCALE;
    neg = e < 0;
    if (neg)
        e = -e;
    if (e > 4096)
        return fail(p, "power too large");
    for (; e; e--)
        if (mul(p, r, base, &r))
            return -1;
    if (neg)
        return divide(p, CALC_SCALE, r, out);
    *out = r;
    return 0;
}

static int expr(struct parser *p, int64_t *v);
static int factor(struct parser *p, int64_t *v);

/* primary := number | '(' expr ')' | '-' primary, then any squared / cubed */
static int primary(struct parser *p, int64_t *v)
{
    if (++p->depth > CALC_MAX_DEPTH)
        return fail(p, "too deeply nested");
    if (p->tok == T_NUM) {
        *v = p->num;
        next(p);
    } else if (p->tok == T_LPAREN) {
        next(p);
        if (expr(p, v))
            return -1;
        if (p->tok != T_RPAREN)
            return fail(p, "missing )");
        next(p);
    } else if (p->tok == T_MINUS) {
        /* -2^2 is -(2^2), as in writing. */
        next(p);
        if (factor(p, v))
            return -1;
        if (*v == INT64_MIN)
            return fail(p, "result too large");
        *v = -*v;
    } else {
        return fail(p, p->tok == T_END ? "incomplete expression" : "expected a number");
    }
    while (p->tok == T_SQUARED || p->tok == T_CUBED) {
        int64_t e = (p->tok == T_SQUARED ? 2 : 3) * (int64_t)CALC_SCALE;

        next(p);
        if (power(p, *v, e, v))
            return -1;
    }
    p->depth--;
    return 0;
}

/* factor := primary [ '^' factor ]   (right-associative) */
static int factor(struct parser *p, int64_t *v)
{
    int64_t e;

    if (primary(p, v))
        return -1;
    if (p->tok != T_POW)
        return 0;
    next(p);
    if (++p->depth > CALC_MAX_DEPTH)
        return fail(p, "too deeply nested");
    if (factor(p, &e))
        return -1;
    p->depth--;
    return power(p, *v, e, v);
}

/* term := factor { ('*' | '/') factor } */
static int term(struct parser *p, int64_t *v)
{
    if (factor(p, v))
        return -1;
    while (p->tok == T_TIMES || p->tok == T_DIV) {
        enum tok op = p->tok;
        int64_t r;

        next(p);
        if (factor(p, &r) || (op == T_TIMES ? mul(p, *v, r, v) : divide(p, *v, r, v)))
            return -1;
    }
    return 0;
}

/* expr := term { ('+' | '-') term } */
static int expr(struct parser *p, int64_t *v)
{
    if (term(p, v))
        return -1;
    while (p->tok == T_PLUS || p->tok == T_MINUS) {
        enum tok op = p->tok;
        int64_t r;

        next(p);
        if (term(p, &r))
            return -1;
        if (op == T_PLUS ? __builtin_add_overflow(*v, r, v) : __builtin_sub_overflow(*v, r, v))
            return fail(p, "result too large");
    }
    return 0;
}

int calc_eval(const char *text, int64_t *value, char *err, size_t errlen)
{
    struct parser p = { .s = text, .err = err, .errlen = errlen };
    size_t n;

    if (!text)
        return kfail(err, errlen, -1, "no expression");
    while (*p.s == ' ')
        p.s++;
    if ((n = word(p.s, "what is")) != 0)
        p.s += n;
    next(&p);
    if (p.failed || expr(&p, value))
        return -1;
    if (p.tok != T_END)
        return fail(&p, p.tok == T_RPAREN ? "unmatched )" : "unexpected text after the expression");
    return 0;
}

void calc_format(int64_t value, char *buf, size_t len)
{
    uint64_t mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    uint64_t whole = mag / CALC_SCALE, frac = mag % CALC_SCALE;
    int digits = 6;

    while (digits && frac % 10 == 0 && frac) {
        frac /= 10;
        digits--;
    }
    if (!frac)
        ksnprintf(buf, len, "%s%llu", value < 0 ? "-" : "", (unsigned long long)whole);
    else
        ksnprintf(buf, len, "%s%llu.%0*llu", value < 0 ? "-" : "", (unsigned long long)whole,
                  digits, (unsigned long long)frac);
}
