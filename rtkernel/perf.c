/*
 * The RT shell's view of the counters (`perf`, `perf json`, `perf reset`): the
 * hypervisor's per-core counters, this kernel's ring counters per channel, and latency
 * histograms (log2 buckets of cycles) of every hypercall and ring round trip it timed;
 * and the latency benchmarks (`bench hvc N`, `bench ring N`), measured with this core's
 * PMU cycle counter and the generic timer.
 */
#include <string.h>

#include "aarch64.h"
#include "esr.h"
#include "guest.h"
#include "link.h"
#include "msg.h"
#include "perf.h"
#include "shell.h"

#define BENCH_MAX 10000

static const char *const counter_names[PERF_NAMED_COUNTERS] = PERF_COUNTER_NAMES;
static const char *const hyp_hist_names[PERF_HISTS] = PERF_HIST_NAMES;
static const char *const hyp_hist_units[PERF_HISTS] = PERF_HIST_UNITS;
static const char *const hist_names[HIST_COUNT] = { "hvc_round_trip", "ring_round_trip",
                                                    "timer_irq_latency" };
static uint64_t hists[HIST_COUNT][64];
static const struct link *links[GUEST_MAX_CHANNELS];
static unsigned nlinks;

/* Bucket k holds values in [2^k, 2^(k+1)); 0 goes to bucket 0. */
void hist_record(enum rt_hist h, uint64_t cycles)
{
    hists[h][cycles ? 63 - __builtin_clzll(cycles) : 0]++;
}

void perf_show_link(const struct link *l)
{
    for (unsigned i = 0; i < nlinks; i++)
        if (links[i] == l)
            return;
    if (nlinks < GUEST_MAX_CHANNELS)
        links[nlinks++] = l;
}

static void print_hists_text(void)
{
    for (unsigned h = 0; h < HIST_COUNT; h++) {
        kprintf("%s (cycles, log2 buckets):", hist_names[h]);
        for (unsigned b = 0; b < 64; b++)
            if (hists[h][b])
                kprintf(" [2^%u] %llu", b, (unsigned long long)hists[h][b]);
        kprintf("\n");
    }
    for (unsigned i = 0; i < nlinks; i++) {
        const struct ring_stats *tx = &links[i]->tx.stats, *rx = &links[i]->rx.stats;

        kprintf("ring to %s: sent %llu; from %s: received %llu, rejected index %llu length %llu "
                "type %llu torn %llu, stray answers %llu\n", links[i]->peer,
                (unsigned long long)tx->sent, links[i]->peer, (unsigned long long)rx->received,
                (unsigned long long)rx->rejected_index, (unsigned long long)rx->rejected_length,
                (unsigned long long)rx->rejected_type, (unsigned long long)rx->rejected_torn,
                (unsigned long long)links[i]->stray);
    }
}

static void print_hists_json(void)
{
    kprintf(", \"histograms\": {");
    for (unsigned h = 0; h < HIST_COUNT; h++) {
        bool first = true;

        kprintf("%s\"%s\": {\"unit\": \"cycles\", \"log2_buckets\": {", h ? ", " : "", hist_names[h]);
        for (unsigned b = 0; b < 64; b++)
            if (hists[h][b]) {
                kprintf("%s\"%u\": %llu", first ? "" : ", ", b, (unsigned long long)hists[h][b]);
                first = false;
            }
        kprintf("}}");
    }
    kprintf("}, \"rings\": {");
    for (unsigned i = 0; i < nlinks; i++) {
        const struct ring_stats *tx = &links[i]->tx.stats, *rx = &links[i]->rx.stats;

        kprintf("%s\"%s\": {\"sent\": %llu, \"received\": %llu, \"rejected_index\": %llu, "
                "\"rejected_length\": %llu, \"rejected_type\": %llu, \"rejected_torn\": %llu, "
                "\"stray\": %llu}", i ? ", " : "", links[i]->peer, (unsigned long long)tx->sent,
                (unsigned long long)rx->received, (unsigned long long)rx->rejected_index,
                (unsigned long long)rx->rejected_length, (unsigned long long)rx->rejected_type,
                (unsigned long long)rx->rejected_torn, (unsigned long long)links[i]->stray);
    }
    kprintf("}");
}

/* The partition that owns a physical core, or "-". */
static const char *core_owner(unsigned core, struct hyp_partition_info *info)
{
    int n = hyp_partition_count(NULL);

    for (int i = 0; i < n; i++)
        if (!hyp_partition_info((unsigned)i, info) && (info->cores >> core & 1))
            return info->name;
    return "-";
}

static bool read_core(unsigned core, uint64_t values[PERF_COUNTERS])
{
    for (unsigned c = 0; c < PERF_COUNTERS; c++)
        if (hyp_perf_read(core, c, &values[c]) != SMCCC_SUCCESS)
            return false;
    return true;
}

static void print_text(void)
{
    static uint64_t v[PERF_COUNTERS];
    struct hyp_partition_info info;

    for (unsigned core = 0; read_core(core, v); core++) {
        kprintf("core %u (%s):", core, core_owner(core, &info));
        for (unsigned c = 0; c < PERF_NAMED_COUNTERS; c++)
            kprintf(" %s %llu", counter_names[c], (unsigned long long)v[c]);
        kprintf("\n  traps by class:");
        for (unsigned ec = 0; ec < 64; ec++)
            if (v[PERF_TRAPS_BASE + ec])
                kprintf(" [%s] %llu", esr_class_name(ec),
                        (unsigned long long)v[PERF_TRAPS_BASE + ec]);
        kprintf("\n");
        for (unsigned h = 0; h < PERF_HISTS; h++) {
            const uint64_t *hist = &v[PERF_HIST_BASE + h * PERF_HIST_BUCKETS];

            kprintf("  %s (%s, log2 buckets):", hyp_hist_names[h], hyp_hist_units[h]);
            for (unsigned b = 0; b < PERF_HIST_BUCKETS; b++)
                if (hist[b])
                    kprintf(" [2^%u] %llu", b, (unsigned long long)hist[b]);
            kprintf("\n");
        }
    }
}

static void print_json(void)
{
    static uint64_t v[PERF_COUNTERS];
    struct hyp_partition_info info;

    kprintf("{\"cores\": [");
    for (unsigned core = 0; read_core(core, v); core++) {
        bool first = true;

        kprintf("%s{\"core\": %u, \"partition\": \"%s\", \"counters\": {", core ? ", " : "", core,
                core_owner(core, &info));
        for (unsigned c = 0; c < PERF_NAMED_COUNTERS; c++)
            kprintf("%s\"%s\": %llu", c ? ", " : "", counter_names[c], (unsigned long long)v[c]);
        kprintf("}, \"traps\": {");
        for (unsigned ec = 0; ec < 64; ec++)
            if (v[PERF_TRAPS_BASE + ec]) {
                kprintf("%s\"0x%02x\": %llu", first ? "" : ", ", ec,
                        (unsigned long long)v[PERF_TRAPS_BASE + ec]);
                first = false;
            }
        kprintf("}, \"histograms\": {");
        for (unsigned h = 0; h < PERF_HISTS; h++) {
            const uint64_t *hist = &v[PERF_HIST_BASE + h * PERF_HIST_BUCKETS];

            kprintf("%s\"%s\": {\"unit\": \"%s\", \"log2_buckets\": {", h ? ", " : "",
                    hyp_hist_names[h], hyp_hist_units[h]);
            first = true;
            for (unsigned b = 0; b < PERF_HIST_BUCKETS; b++)
                if (hist[b]) {
                    kprintf("%s\"%u\": %llu", first ? "" : ", ", b, (unsigned long long)hist[b]);
                    first = false;
                }
            kprintf("}}");
        }
        kprintf("}}");
    }
    kprintf("]");
    print_hists_json();
    kprintf("}\n");
}

void cmd_perf(int argc, char **argv)
{
    if (argc == 1) {
        print_text();
        print_hists_text();
    }
    else if (argc == 2 && !strcmp(argv[1], "json"))
        print_json();
    else if (argc == 2 && !strcmp(argv[1], "reset")) {
        int rc = hyp_perf_reset();

        memset(hists, 0, sizeof(hists));
        kprintf(rc == SMCCC_SUCCESS ? "counters reset\n"
                                    : "perf reset: not granted to this partition by the layout\n");
    } else
        kprintf("usage: perf [json | reset]\n");
}

/* Shell sort: the samples are at most BENCH_MAX, no allocation. */
static void sort(uint64_t *a, unsigned n)
{
    for (unsigned gap = n / 2; gap; gap /= 2)
        for (unsigned i = gap; i < n; i++) {
            uint64_t t = a[i];
            unsigned j = i;

            for (; j >= gap && a[j - gap] > t; j -= gap)
                a[j] = a[j - gap];
            a[j] = t;
        }
}

static uint64_t percentile(const uint64_t *sorted, unsigned n, unsigned pct)
{
    unsigned i = (unsigned)(((uint64_t)n * pct + 99) / 100);

    return sorted[i ? i - 1 : 0];
}

static void report(const char *what, uint64_t *cycles, uint64_t *ticks, unsigned n)
{
    static const unsigned pcts[] = { 0, 50, 90, 99, 100 };
    static const char *const names[] = { "min", "p50", "p90", "p99", "max" };
    uint64_t freq = read_sysreg(cntfrq_el0);

    sort(cycles, n);
    sort(ticks, n);
    kprintf("%s, %u runs:\n  cycles:", what, n);
    for (unsigned i = 0; i < 5; i++)
        kprintf(" %s %llu", names[i],
                (unsigned long long)(pcts[i] ? percentile(cycles, n, pcts[i]) : cycles[0]));
    kprintf("\n  ns:    ");
    for (unsigned i = 0; i < 5; i++)
        kprintf(" %s %llu", names[i],
                (unsigned long long)((pcts[i] ? percentile(ticks, n, pcts[i]) : ticks[0]) *
                                     1000000000ull / freq));
    kprintf("\n");
}

/* Cycle counter on, counting at EL2 as well (PMCCFILTR_EL0.NSH): a hypercall's cost
 * is mostly spent there. */
void perf_init(void)
{
    write_sysreg(pmccfiltr_el0, 1ull << 27);
    write_sysreg(pmcntenset_el0, 1ull << 31);
    write_sysreg(pmcr_el0, read_sysreg(pmcr_el0) | 1);
    isb();
}

/* rt -> ai -> rt with a 64-byte message, cycles and ticks per round trip. */
static void bench_ring(unsigned n, uint64_t *cycles, uint64_t *ticks)
{
    struct link *l = link_to("ai");
    unsigned done = 0;

    if (!l) {
        kprintf("bench ring: no channel to ai in the layout\n");
        return;
    }
    for (; done < n; done++) {
        int rc = link_ping(l, 64, &ticks[done], &cycles[done]);

        if (rc) {
            kprintf("bench ring: %s\n", link_error(l, rc));
            break;
        }
    }
    if (done)
        report("ring round trip rt->ai->rt (64-byte message)", cycles, ticks, done);
}

/*
 * Virtual timer interrupt latency: the timer is set a little ahead, the core waits for
 * the interrupt to show as pending, and the latency is the counter when it is
 * acknowledged minus the deadline. It covers the hypervisor taking the physical interrupt, injecting the
 * virtual one and resuming us. The counter ticks at CNTFRQ; cycles are derived from the
 * cycle counter's rate over the same run.
 */
static void bench_irq(unsigned n, uint64_t *cycles, uint64_t *ticks)
{
    uint64_t freq = read_sysreg(cntfrq_el0), t0, c0, t1, c1;
    unsigned done;

    if (guest_gic_init() || !guest.vtimer_intid) {
        kprintf("bench irq: this partition has no virtual GIC or timer\n");
        return;
    }
    guest_irq_enable(guest.vtimer_intid, 0);
    t0 = read_sysreg(cntvct_el0);
    c0 = read_sysreg(pmccntr_el0);
    for (done = 0; done < n; done++) {
        uint64_t deadline = read_sysreg(cntvct_el0) + freq / 20000, start = read_sysreg(cntvct_el0);
        uint32_t iar = 1023;

        write_sysreg(cntv_cval_el0, deadline);
        write_sysreg(cntv_ctl_el0, 1);   /* ENABLE, not masked */
        isb();
        /* Spin, not WFI: the core keeps executing, so under -icount the latency is the
         * path length of the interrupt and not the emulator's idle handling. ISR_EL1.I
         * shows a pending IRQ (virtual or physical) while PSTATE.I masks it. */
        while (read_sysreg(cntvct_el0) - start < freq / 10)
            if (read_sysreg(isr_el1) & (1u << 7)) {
                iar = guest_irq_ack();
                if (GUEST_IRQ_ID(iar) == guest.vtimer_intid)
                    break;
                if (GUEST_IRQ_ID(iar) < 1020)
                    guest_irq_eoi(iar);   /* not ours: a doorbell */
                iar = 1023;
            }
        ticks[done] = read_sysreg(cntvct_el0) - deadline;
        write_sysreg(cntv_ctl_el0, 0);   /* the timer's output drops before we complete it */
        isb();
        if (iar == 1023) {
            kprintf("bench irq: the timer interrupt did not come\n");
            break;
        }
        guest_irq_eoi(iar);
    }
    t1 = read_sysreg(cntvct_el0);
    c1 = read_sysreg(pmccntr_el0);
    for (unsigned i = 0; i < done; i++) {
        cycles[i] = t1 > t0 ? ticks[i] * (c1 - c0) / (t1 - t0) : 0;
        hist_record(HIST_TIMER_IRQ, cycles[i]);
    }
    if (done)
        report("virtual timer interrupt latency (deadline to acknowledge)", cycles, ticks, done);
}

/*
 * Understanding a sentence: from sending it to the AI partition to its checked answer
 * (embedding, nearest examples, slots; nothing is carried out). Under -icount the cycle
 * counter counts every instruction the system runs meanwhile, so the figure is the
 * instructions per intent.
 */
static void bench_intent(unsigned n, uint64_t *cycles, uint64_t *ticks)
{
    static const char *const sentences[] = {
        "how hot is it", "set a timer for 3 minutes", "what is 12 times 3",
        "restart the ai partition", "delete notes.txt", "where is the router",
        "show me the perf counters", "tell me a joke",
    };
    struct msg_intent_result r;
    unsigned done;

    for (done = 0; done < n; done++) {
        uint64_t t0 = read_sysreg(cntvct_el0), c0 = read_sysreg(pmccntr_el0);

        if (rt_intent_query(sentences[done % (sizeof(sentences) / sizeof(sentences[0]))], &r))
            break;
        cycles[done] = read_sysreg(pmccntr_el0) - c0;
        ticks[done] = read_sysreg(cntvct_el0) - t0;
    }
    if (done)
        report("intent (sentence to the AI partition's checked answer)", cycles, ticks, done);
}

void cmd_bench(int argc, char **argv)
{
    static uint64_t cycles[BENCH_MAX], ticks[BENCH_MAX];
    unsigned long n = 0;

    if (argc != 3 || (strcmp(argv[1], "hvc") && strcmp(argv[1], "ring") && strcmp(argv[1], "irq") &&
                      strcmp(argv[1], "intent")) ||
        !shell_parse_count(argv[2], &n) || !n || n > BENCH_MAX) {
        kprintf("usage: bench hvc|ring|irq|intent <runs 1-%d>\n", BENCH_MAX);
        return;
    }
    if (!strcmp(argv[1], "intent")) {
        bench_intent((unsigned)n, cycles, ticks);
        return;
    }
    if (!strcmp(argv[1], "irq")) {
        bench_irq((unsigned)n, cycles, ticks);
        return;
    }
    if (!guest.hypervisor) {
        kprintf("bench %s: no hypervisor under this kernel\n", argv[1]);
        return;
    }
    if (!strcmp(argv[1], "ring")) {
        bench_ring((unsigned)n, cycles, ticks);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t t0 = read_sysreg(cntvct_el0), c0 = read_sysreg(pmccntr_el0), c1, t1;

        isb();
        smccc_hvc(HYP_CALL_VERSION, 0, 0, 0);
        isb();
        c1 = read_sysreg(pmccntr_el0);
        t1 = read_sysreg(cntvct_el0);
        cycles[i] = c1 - c0;
        ticks[i] = t1 - t0;
        hist_record(HIST_HVC_ROUND_TRIP, cycles[i]);
    }
    report("hypercall round trip (HYP_CALL_VERSION)", cycles, ticks, (unsigned)n);
}
