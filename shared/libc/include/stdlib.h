/*
 * <stdlib.h> for the bare-metal images: only the conversion routine that
 * libfdt needs; there is no heap, environment or process model here.
 */
#ifndef SHARED_LIBC_STDLIB_H
#define SHARED_LIBC_STDLIB_H

#include <stddef.h>

unsigned long strtoul(const char *restrict nptr, char **restrict endptr,
                      int base);

#endif
