/*
 * The hypervisor's per-core event counters, as partitions read them with
 * HYP_CALL_PERF_READ. One list for the hypervisor that counts and the kernels that print.
 */
#ifndef SHARED_PERF_H
#define SHARED_PERF_H

enum perf_counter {
    PERF_HYPERCALLS = 0,     /* HVC and trapped SMC calls */
    PERF_IRQS,               /* physical interrupts taken at EL2 */
    PERF_KICKS,              /* SGIs that took the core back to stop its partition */
    PERF_FOREIGN,            /* kicks caused by another partition's request */
    PERF_STAGE2_FAULTS,      /* accesses outside the partition's memory */
    PERF_CONSOLE_ACCESSES,   /* emulated PL011 register accesses */
    PERF_IDLE_WAKEUPS,       /* WFI sleeps that ended */
    PERF_VIRQS,              /* physical interrupts forwarded to the partition */
    PERF_DOORBELLS,          /* channel doorbells rung: ring messages announced */
    PERF_NAMED_COUNTERS,
    PERF_TRAPS_BASE = 16,    /* + exception class: traps from the partition, by ESR_EL2.EC */
    PERF_COUNTERS = PERF_TRAPS_BASE + 64,
};

#define PERF_COUNTER_NAMES \
    { "hypercalls", "irqs", "kicks", "foreign", "stage2_faults", "console_accesses", \
      "idle_wakeups", "virqs_forwarded", "doorbells" }

#endif /* SHARED_PERF_H */
