/*
 * libaios common ground: status codes and the arena every allocation comes from.
 *
 * libaios runs in two places: on the host (tests, CLI, benchmarks) and inside the AI
 * partition, where there is no heap and no libc beyond shared/libc. So the library never
 * calls malloc: the caller hands it an arena (one contiguous block) and everything the
 * library keeps lives there. Errors are values (AIOS_E*), and a function that fails on
 * bad input also writes a one-line reason into the caller's err buffer (see kfail()).
 */
#ifndef AIOS_COMMON_H
#define AIOS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
    AIOS_OK = 0,
    AIOS_EINVAL = -1,   /* malformed input: a file, a shape, an argument */
    AIOS_ENOMEM = -2,   /* the arena is too small */
    AIOS_ERANGE = -3,   /* a result does not fit the caller's buffer or the model's context */
};

struct aios_arena {
    unsigned char *base;
    size_t size;
    size_t used;
};

static inline void aios_arena_init(struct aios_arena *a, void *base, size_t size)
{
    a->base = base;
    a->size = size;
    a->used = 0;
}

/* size bytes aligned to align (a power of two), zero-filled; NULL when the arena is full. */
static inline void *aios_arena_alloc(struct aios_arena *a, size_t size, size_t align)
{
    uintptr_t start = ((uintptr_t)a->base + a->used + (align - 1)) & ~(uintptr_t)(align - 1);
    size_t off = (size_t)(start - (uintptr_t)a->base);

    if (off > a->size || size > a->size - off)
        return NULL;
    a->used = off + size;
    return memset((void *)start, 0, size);
}

/* Everything allocated after a mark is released by resetting to it. */
static inline size_t aios_arena_mark(const struct aios_arena *a) { return a->used; }
static inline void aios_arena_reset(struct aios_arena *a, size_t mark) { a->used = mark; }

#endif /* AIOS_COMMON_H */
