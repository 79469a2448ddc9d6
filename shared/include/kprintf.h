/*
 * Formatted output into a caller-supplied buffer, usable before any
 * console or allocator exists. Semantics are C99 snprintf's for the
 * supported subset: %d %i %u %x %X %o %c %s %p %% with flags "-0 +#",
 * width and precision (also '*'), and length modifiers hh h l ll z j t.
 * There is no floating point and no %n. An unsupported directive is
 * copied to the output verbatim so the mistake shows up in the log.
 */
#ifndef SHARED_KPRINTF_H
#define SHARED_KPRINTF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Writes at most size bytes including the terminating NUL (always written
 * when size > 0) and returns the length the full output would have had.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Format an error message into err (when errlen > 0) and return code: lets a parser say
 * what is wrong in the same statement that fails. */
int kfail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
