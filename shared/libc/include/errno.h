/*
 * Error numbers for the bare-metal images, part of their small C library.
 *
 * The code returns them negated, kernel style. The values are Linux's, so the
 * same code built for the host (unit tests, tools) against glibc's <errno.h>
 * returns the same numbers.
 */
#ifndef SHARED_ERRNO_H
#define SHARED_ERRNO_H

#define ENOENT 2  /* nothing is mapped / no such object */
#define E2BIG 7   /* more entries than a table holds */
#define ENOMEM 12 /* the page allocator ran dry */
#define EEXIST 17 /* the request overlaps something already present */
#define EINVAL 22 /* malformed argument */
#define ENOSPC 28 /* a fixed-size table is full */

#endif /* SHARED_ERRNO_H */
