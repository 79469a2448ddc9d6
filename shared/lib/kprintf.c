/*
 * snprintf-style formatting for the hypervisor and kernels. It calls no
 * library functions at all, so the same file builds into the bare-metal
 * images and into host unit tests that compare it with glibc.
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "kprintf.h"

/* Output cursor: counts every byte, stores only those that fit. */
struct out {
    char *buf;
    size_t size;
    size_t len;
};

enum {
    FLAG_LEFT = 1 << 0,
    FLAG_ZERO = 1 << 1,
    FLAG_SPACE = 1 << 2,
    FLAG_PLUS = 1 << 3,
    FLAG_ALT = 1 << 4,
};

enum length {
    LEN_NONE,
    LEN_HH,
    LEN_H,
    LEN_L,
    LEN_LL,
    LEN_Z,
    LEN_J,
    LEN_T,
};

struct spec {
    unsigned int flags;
    unsigned int width;
    int has_prec;
    unsigned int prec;
    enum length length;
};

/* %zd and %tu reinterpret between these two, so they must match in width. */
_Static_assert(sizeof(size_t) == sizeof(ptrdiff_t),
               "size_t and ptrdiff_t differ in width");

static void put(struct out *o, char c)
{
    /* One byte is always kept back for the terminating NUL. */
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_repeat(struct out *o, char c, size_t count)
{
    while (count--)
        put(o, c);
}

static void put_chars(struct out *o, const char *s, size_t n)
{
    while (n--)
        put(o, *s++);
}

static size_t padding(const struct spec *sp, size_t len)
{
    return sp->width > len ? sp->width - len : 0;
}

/* Emits a field of len bytes, right-justified unless '-' was given. */
static void put_field(struct out *o, const struct spec *sp, const char *s,
                      size_t len)
{
    size_t pad = padding(sp, len);

    if (!(sp->flags & FLAG_LEFT))
        put_repeat(o, ' ', pad);
    put_chars(o, s, len);
    if (sp->flags & FLAG_LEFT)
        put_repeat(o, ' ', pad);
}

/*
 * Emits an integer given as sign and magnitude, so that the most negative
 * value of every type needs no special case. prefix is the sign and/or
 * radix prefix the caller has already chosen.
 */
static void put_number(struct out *o, const struct spec *sp, uintmax_t mag,
                       unsigned int base, int upper, const char *prefix)
{
    const char *digit_chars = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    /* Enough for the octal digits of the widest integer. */
    char digits[sizeof(uintmax_t) * CHAR_BIT / 3 + 1];
    size_t ndigits = 0;
    size_t nprefix = 0;
    size_t zeros;
    size_t pad;
    /* C gives a missing precision the value 1; precision 0 turns 0 into "". */
    size_t prec = sp->has_prec ? sp->prec : 1;

    while (mag) {
        digits[ndigits++] = digit_chars[mag % base];
        mag /= base;
    }
    while (prefix[nprefix])
        nprefix++;

    zeros = prec > ndigits ? prec - ndigits : 0;
    /* '#' with %o: the precision grows just enough for a leading 0. */
    if ((sp->flags & FLAG_ALT) && base == 8 && zeros == 0)
        zeros = 1;

    pad = padding(sp, nprefix + zeros + ndigits);
    /* '0' pads after the sign and prefix, and yields to an explicit precision. */
    if ((sp->flags & FLAG_ZERO) && !(sp->flags & FLAG_LEFT) && !sp->has_prec) {
        zeros += pad;
        pad = 0;
    }

    if (!(sp->flags & FLAG_LEFT))
        put_repeat(o, ' ', pad);
    put_chars(o, prefix, nprefix);
    put_repeat(o, '0', zeros);
    while (ndigits)
        put(o, digits[--ndigits]);
    if (sp->flags & FLAG_LEFT)
        put_repeat(o, ' ', pad);
}

static intmax_t fetch_signed(enum length length, va_list *ap)
{
    switch (length) {
    case LEN_HH:
        return (signed char)va_arg(*ap, int);
    case LEN_H:
        return (short)va_arg(*ap, int);
    case LEN_L:
        return va_arg(*ap, long);
    case LEN_LL:
        return va_arg(*ap, long long);
    case LEN_Z:
    case LEN_T:
        return va_arg(*ap, ptrdiff_t);
    case LEN_J:
        return va_arg(*ap, intmax_t);
    case LEN_NONE:
        break;
    }
    return va_arg(*ap, int);
}

static uintmax_t fetch_unsigned(enum length length, va_list *ap)
{
    switch (length) {
    case LEN_HH:
        return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_H:
        return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_L:
        return va_arg(*ap, unsigned long);
    case LEN_LL:
        return va_arg(*ap, unsigned long long);
    case LEN_Z:
    case LEN_T:
        return va_arg(*ap, size_t);
    case LEN_J:
        return va_arg(*ap, uintmax_t);
    case LEN_NONE:
        break;
    }
    return va_arg(*ap, unsigned int);
}

static void format_signed(struct out *o, const struct spec *sp, va_list *ap)
{
    intmax_t v = fetch_signed(sp->length, ap);
    uintmax_t mag = (uintmax_t)v;
    const char *prefix = "";

    if (v < 0) {
        mag = -mag;
        prefix = "-";
    } else if (sp->flags & FLAG_PLUS) {
        prefix = "+";
    } else if (sp->flags & FLAG_SPACE) {
        prefix = " ";
    }
    put_number(o, sp, mag, 10, 0, prefix);
}

static void format_unsigned(struct out *o, const struct spec *sp, char conv,
                            va_list *ap)
{
    uintmax_t v = fetch_unsigned(sp->length, ap);

    switch (conv) {
    case 'o':
        put_number(o, sp, v, 8, 0, "");
        break;
    case 'x':
    case 'X':
        /* '#' adds the 0x prefix only to non-zero values, as in C. */
        put_number(o, sp, v, 16, conv == 'X',
                   (sp->flags & FLAG_ALT) && v ? (conv == 'X' ? "0X" : "0x") : "");
        break;
    default:
        put_number(o, sp, v, 10, 0, "");
        break;
    }
}

/*
 * Prints like glibc's %p ("0x" and hex digits, "(nil)" for NULL) so logs
 * read alike on host and target; '+' and ' ' are ignored, as for any
 * unsigned value.
 */
static void format_pointer(struct out *o, const struct spec *sp, va_list *ap)
{
    void *p = va_arg(*ap, void *);

    if (!p)
        put_field(o, sp, "(nil)", 5);
    else
        put_number(o, sp, (uintptr_t)p, 16, 0, "0x");
}

static void format_string(struct out *o, const struct spec *sp, va_list *ap)
{
    const char *s = va_arg(*ap, const char *);
    size_t len = 0;

    if (!s)
        s = "(null)";
    /* With a precision the string need not be NUL-terminated: stop early. */
    while ((!sp->has_prec || len < sp->prec) && s[len])
        len++;
    put_field(o, sp, s, len);
}

/* Reads a decimal field, saturating so absurd widths cannot overflow. */
static unsigned int parse_uint(const char **fmt)
{
    unsigned int v = 0;
    const char *p = *fmt;

    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned int d = (unsigned int)(*p - '0');

        v = v > (INT_MAX - d) / 10 ? INT_MAX : v * 10 + d;
    }
    *fmt = p;
    return v;
}

/*
 * Parses flags, width, precision and length after a '%'. On return *fmt
 * points at the conversion character.
 */
static void parse_spec(struct spec *sp, const char **fmt, va_list *ap)
{
    const char *p = *fmt;

    sp->flags = 0;
    for (;; p++) {
        if (*p == '-')
            sp->flags |= FLAG_LEFT;
        else if (*p == '0')
            sp->flags |= FLAG_ZERO;
        else if (*p == ' ')
            sp->flags |= FLAG_SPACE;
        else if (*p == '+')
            sp->flags |= FLAG_PLUS;
        else if (*p == '#')
            sp->flags |= FLAG_ALT;
        else
            break;
    }

    if (*p == '*') {
        int w = va_arg(*ap, int);

        p++;
        /* A negative '*' width means '-' plus its magnitude. */
        if (w < 0) {
            sp->flags |= FLAG_LEFT;
            sp->width = 0U - (unsigned int)w;
        } else {
            sp->width = (unsigned int)w;
        }
    } else {
        sp->width = parse_uint(&p);
    }

    sp->has_prec = 0;
    sp->prec = 0;
    if (*p == '.') {
        p++;
        sp->has_prec = 1;
        if (*p == '*') {
            int prec = va_arg(*ap, int);

            p++;
            /* A negative '*' precision counts as no precision at all. */
            if (prec < 0)
                sp->has_prec = 0;
            else
                sp->prec = (unsigned int)prec;
        } else {
            sp->prec = parse_uint(&p);
        }
    }

    sp->length = LEN_NONE;
    switch (*p) {
    case 'h':
        p++;
        sp->length = LEN_H;
        if (*p == 'h') {
            p++;
            sp->length = LEN_HH;
        }
        break;
    case 'l':
        p++;
        sp->length = LEN_L;
        if (*p == 'l') {
            p++;
            sp->length = LEN_LL;
        }
        break;
    case 'z':
        p++;
        sp->length = LEN_Z;
        break;
    case 'j':
        p++;
        sp->length = LEN_J;
        break;
    case 't':
        p++;
        sp->length = LEN_T;
        break;
    default:
        break;
    }
    *fmt = p;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    struct spec sp;
    va_list args;

    /* Copied so helpers can consume arguments through a pointer portably. */
    va_copy(args, ap);
    while (*fmt) {
        const char *start = fmt;
        char c;

        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt++;
        parse_spec(&sp, &fmt, &args);
        c = *fmt;
        if (c == '\0') {
            put_chars(&o, start, (size_t)(fmt - start));
            break;
        }
        fmt++;

        switch (c) {
        case 'd':
        case 'i':
            format_signed(&o, &sp, &args);
            break;
        case 'u':
        case 'o':
        case 'x':
        case 'X':
            format_unsigned(&o, &sp, c, &args);
            break;
        case 'c': {
            char ch = (char)(unsigned char)va_arg(args, int);

            put_field(&o, &sp, &ch, 1);
            break;
        }
        case 's':
            format_string(&o, &sp, &args);
            break;
        case 'p':
            format_pointer(&o, &sp, &args);
            break;
        case '%':
            put(&o, '%');
            break;
        default:
            put_chars(&o, start, (size_t)(fmt - start));
            break;
        }
    }
    va_end(args);

    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    /* C99 reports an unrepresentable length as an error. */
    return o.len > INT_MAX ? -1 : (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int kfail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}
