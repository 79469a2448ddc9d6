/*
 * libaios executor hook: how the engine spreads one piece of work over several cores
 * without knowing what a thread is.
 *
 * In the partition each matrix product is split across the AI partition's two cores; on
 * the host the CLI may use a pthread pool; by default everything runs on the calling
 * thread. The library only ever asks "run fn(arg, part, nparts) for every part in
 * 0..nparts-1 and return when all are done". A part's share is a range of output rows
 * (or attention heads), and every row is computed by the same code whatever the split,
 * so the results are bit-identical for any nparts.
 */
#ifndef AIOS_EXEC_H
#define AIOS_EXEC_H

#include <stddef.h>

typedef void (*aios_task_fn)(void *arg, int part, int nparts);

struct aios_exec {
    /* Calls fn(arg, part, nparts) once for each part in [0, nparts) (in any order, on any
     * cores) and returns after the last has returned. */
    void (*parallel_for)(struct aios_exec *e, aios_task_fn fn, void *arg);
    int nparts;
    void *ctx;   /* the executor's own state */
};

/* Run fn over e's parts, or as one part on this thread when e is NULL or has one part. */
static inline void aios_exec_run(struct aios_exec *e, aios_task_fn fn, void *arg)
{
    if (e == NULL || e->nparts <= 1 || e->parallel_for == NULL)
        fn(arg, 0, 1);
    else
        e->parallel_for(e, fn, arg);
}

/* Part part's share [*lo, *hi) of n items: contiguous, in order, sizes differing by at
 * most one. */
static inline void aios_exec_split(size_t n, int part, int nparts, size_t *lo, size_t *hi)
{
    *lo = (size_t)((unsigned long long)n * (unsigned)part / (unsigned)nparts);
    *hi = (size_t)((unsigned long long)n * (unsigned)(part + 1) / (unsigned)nparts);
}

#endif /* AIOS_EXEC_H */
