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
#define EAGAIN 11 /* nothing now: ring empty or full */
#define ENOMEM 12 /* the page allocator ran dry */
#define EEXIST 17 /* the request overlaps something already present */
#define EINVAL 22 /* malformed argument */
#define ENOSPC 28 /* a fixed-size table is full */
#define EPROTO 71 /* a peer broke the protocol (index out of range) */
#define EBADMSG 74 /* a message was malformed and rejected */
#define EMSGSIZE 90 /* a message too long for its slot or buffer */
#define ETIMEDOUT 110 /* no answer in time */

#endif /* SHARED_ERRNO_H */
