/*
 * Freestanding implementations of the <string.h> and <stdlib.h> functions
 * the bare-metal images use, for our own code and for Debian's libfdt.a.
 *
 * The Makefile must compile this file with
 *     -fno-builtin -fno-tree-loop-distribute-patterns
 * otherwise GCC recognises the copy and fill loops below and replaces
 * them with calls to memcpy/memset, i.e. to themselves.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Word accesses in memcpy/memset alias whatever type the caller stored. */
typedef uint64_t __attribute__((may_alias)) word_t;
typedef uint32_t __attribute__((may_alias)) half_t;

#define WORD_MASK (sizeof(word_t) - 1)

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    /*
     * Word copies only when both sides are aligned: the images build with
     * -mstrict-align and may run with the MMU off, where an unaligned
     * access faults.
     */
    if ((((uintptr_t)d | (uintptr_t)s) & WORD_MASK) == 0) {
        word_t *to = (word_t *)d;
        const word_t *from = (const word_t *)s;

        /* Eight words a step (four load and four store pairs): a ring message's 64
         * bytes in one. */
        while (n >= 8 * sizeof(word_t)) {
            word_t w0 = from[0], w1 = from[1], w2 = from[2], w3 = from[3];
            word_t w4 = from[4], w5 = from[5], w6 = from[6], w7 = from[7];

            to[0] = w0;
            to[1] = w1;
            to[2] = w2;
            to[3] = w3;
            to[4] = w4;
            to[5] = w5;
            to[6] = w6;
            to[7] = w7;
            to += 8;
            from += 8;
            n -= 8 * sizeof(word_t);
        }
        for (; n >= sizeof(word_t); n -= sizeof(word_t))
            *to++ = *from++;
        d = (unsigned char *)to;
        s = (const unsigned char *)from;
    } else if ((((uintptr_t)d | (uintptr_t)s) & (sizeof(half_t) - 1)) == 0) {
        /* Both 4-aligned (a float row after a 28-byte checkpoint header, say). */
        half_t *to = (half_t *)d;
        const half_t *from = (const half_t *)s;

        while (n >= 4 * sizeof(half_t)) {
            half_t h0 = from[0], h1 = from[1], h2 = from[2], h3 = from[3];

            to[0] = h0;
            to[1] = h1;
            to[2] = h2;
            to[3] = h3;
            to += 4;
            from += 4;
            n -= 4 * sizeof(half_t);
        }
        for (; n >= sizeof(half_t); n -= sizeof(half_t))
            *to++ = *from++;
        d = (unsigned char *)to;
        s = (const unsigned char *)from;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    /* Copy away from the overlap so no source byte is overwritten first. */
    if ((uintptr_t)d <= (uintptr_t)s) {
        while (n--)
            *d++ = *s++;
    } else {
        d += n;
        s += n;
        while (n--)
            *--d = *--s;
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    unsigned char byte = (unsigned char)c;

    if (((uintptr_t)d & WORD_MASK) == 0 && n >= sizeof(word_t)) {
        word_t w = byte * (word_t)0x0101010101010101ULL;

        for (; n >= sizeof(word_t); n -= sizeof(word_t)) {
            *(word_t *)d = w;
            d += sizeof(word_t);
        }
    }
    while (n--)
        *d++ = byte;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a;
    const unsigned char *q = b;

    for (; n; n--, p++, q++) {
        if (*p != *q)
            return *p - *q;
    }
    return 0;
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    unsigned char byte = (unsigned char)c;

    for (; n; n--, p++) {
        if (*p == byte)
            return (void *)p;
    }
    return NULL;
}

size_t strlen(const char *s)
{
    const char *p = s;

    while (*p)
        p++;
    return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t maxlen)
{
    size_t len = 0;

    while (len < maxlen && s[len])
        len++;
    return len;
}

/* C compares strings as unsigned char, whatever the signedness of char. */
int strcmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    while (*p && *p == *q) {
        p++;
        q++;
    }
    return *p - *q;
}

int strncmp(const char *a, const char *b, size_t n)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    for (; n; n--, p++, q++) {
        if (*p != *q || *p == '\0')
            return *p - *q;
    }
    return 0;
}

/* The terminating NUL counts as part of the string, so c == 0 finds it. */
char *strchr(const char *s, int c)
{
    char ch = (char)c;

    for (;; s++) {
        if (*s == ch)
            return (char *)s;
        if (*s == '\0')
            return NULL;
    }
}

char *strrchr(const char *s, int c)
{
    char ch = (char)c;
    const char *last = NULL;

    for (;; s++) {
        if (*s == ch)
            last = s;
        if (*s == '\0')
            return (char *)last;
    }
}

static int is_space(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Value of c as a digit in bases up to 36, or 36 if it is not a digit. */
static unsigned int digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return (unsigned int)(c - '0');
    if (c >= 'a' && c <= 'z')
        return (unsigned int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'Z')
        return (unsigned int)(c - 'A' + 10);
    return 36;
}

/*
 * There is no errno here, so overflow is reported only by the standard
 * ULONG_MAX result; callers that care must range-check their input.
 */
unsigned long strtoul(const char *restrict nptr, char **restrict endptr,
                      int base)
{
    const char *s = nptr;
    const char *digits;
    unsigned long value = 0;
    unsigned long cutoff;
    unsigned int cutlim;
    unsigned int d;
    int negative = 0;
    int overflow = 0;

    if (base < 0 || base == 1 || base > 36) {
        if (endptr)
            *endptr = (char *)nptr;
        return 0;
    }

    while (is_space((unsigned char)*s))
        s++;
    if (*s == '+' || *s == '-') {
        negative = *s == '-';
        s++;
    }

    /*
     * The 0x prefix is taken only when a hex digit follows; otherwise the
     * "0" alone is the subject sequence and parsing stops at the 'x'.
     */
    if ((base == 0 || base == 16) && s[0] == '0' &&
        (s[1] == 'x' || s[1] == 'X') && digit_value((unsigned char)s[2]) < 16) {
        s += 2;
        base = 16;
    } else if (base == 0) {
        base = s[0] == '0' ? 8 : 10;
    }

    cutoff = ULONG_MAX / (unsigned long)base;
    cutlim = (unsigned int)(ULONG_MAX % (unsigned long)base);
    digits = s;
    for (; (d = digit_value((unsigned char)*s)) < (unsigned int)base; s++) {
        if (value > cutoff || (value == cutoff && d > cutlim))
            overflow = 1;
        else
            value = value * (unsigned long)base + d;
    }

    if (s == digits) {
        if (endptr)
            *endptr = (char *)nptr;
        return 0;
    }
    if (endptr)
        *endptr = (char *)s;
    if (overflow)
        return ULONG_MAX;
    return negative ? -value : value;
}
