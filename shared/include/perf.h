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
    PERF_VIRQS_TAKEN,        /* virtual interrupts the partition acknowledged (injected
                              * through the list registers: forwarded ones, doorbells) */
    PERF_DOORBELLS,          /* channel doorbells rung */
    PERF_RING_SENT,          /* ring messages the doorbells announced (producer's index) */
    PERF_RING_REJECTED,      /* ring messages the partition rejected (it reports them) */
    PERF_IDLE_TICKS,         /* system counter ticks the core slept in the hypervisor */
    PERF_NAMED_COUNTERS,
    PERF_TRAPS_BASE = 16,    /* (PERF_NAMED_COUNTERS must stay below it) */    /* + exception class: traps from the partition, by ESR_EL2.EC */
    PERF_HIST_BASE = PERF_TRAPS_BASE + 64,   /* + histogram * PERF_HIST_BUCKETS + bucket */
    PERF_COUNTERS = PERF_HIST_BASE + 3 * 32,
};

#define PERF_COUNTER_NAMES \
    { "hypercalls", "irqs", "kicks", "foreign", "stage2_faults", "console_accesses", \
      "idle_wakeups", "virqs_forwarded", "virqs_taken", "doorbells", "ring_sent", \
      "ring_rejected", "idle_ticks" }

/*
 * Latency histograms the hypervisor keeps per core, log2 buckets (bucket b counts values
 * in [2^b, 2^(b+1)), the last one everything above):
 *   hvc: a hypercall, from the EL2 vector to the start of the return path (cycles);
 *   virq_delivery: a physical interrupt taken at EL2 (at the vector, or woken from an
 *     idle WFI) to the return into the partition with the virtual interrupt it caused
 *     in a list register, ready to be taken (cycles);
 *   ring_round_trip: a channel doorbell to the doorbell that answers it from the other
 *     side, i.e. request delivered, served and answered (ns, from the system counter,
 *     since the two ends are on different cores), kept by the answering core.
 */
enum perf_hist { PERF_HIST_HVC, PERF_HIST_VIRQ_DELIVERY, PERF_HIST_RING_ROUND_TRIP,
                 PERF_HISTS };
#define PERF_HIST_BUCKETS 32
#define PERF_HIST_NAMES { "hyp_hvc", "hyp_virq_delivery", "hyp_ring_round_trip" }
#define PERF_HIST_UNITS { "cycles", "cycles", "ns" }
_Static_assert(PERF_COUNTERS == PERF_HIST_BASE + PERF_HISTS * PERF_HIST_BUCKETS,
               "histograms at the end of the counters");

#endif /* SHARED_PERF_H */
