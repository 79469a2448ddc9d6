/*
 * A ticket spinlock: fair, so a core busy with console output cannot starve another.
 * Needs the MMU and caches on (exclusives and atomics on normal cacheable memory).
 */
#ifndef SHARED_SPINLOCK_H
#define SHARED_SPINLOCK_H

#include <stdint.h>

typedef struct {
    uint16_t next;
    uint16_t owner;
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }

static inline void spin_lock(spinlock_t *l)
{
    uint16_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
        __asm__ volatile("yield" ::: "memory");
}

static inline void spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

#endif /* SHARED_SPINLOCK_H */
