/*
 * <string.h> for the bare-metal images: the memory and string functions
 * our own code and Debian's prebuilt libfdt.a need, implemented in
 * shared/lib/string.c with the standard C semantics.
 */
#ifndef SHARED_LIBC_STRING_H
#define SHARED_LIBC_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t maxlen);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);

#endif
