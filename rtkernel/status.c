/*
 * What the RT shell can tell and do on its own authority, for a user at `rt> ` and for
 * the intents the AI partition proposes: `status` (cpu load per partition, memory,
 * uptime, partitions, storage, temperature), `calc` (calc.c) and `timer` (RT timers that
 * print when they fire, polled from the shell's idle loop).
 */
#include <string.h>

#include "aarch64.h"
#include "calc.h"
#include "guest.h"
#include "kprintf.h"
#include "perf.h"
#include "shell.h"

#define MAX_TIMERS        8
#define MAX_TIMER_SECONDS (7 * 24 * 3600)
#define LOAD_WINDOW_MS    200

/* ---- timers ------------------------------------------------------------------------ */

static struct rt_timer {
    uint64_t deadline;   /* virtual counter; 0: free */
    uint64_t seconds;
    unsigned number;
} timers[MAX_TIMERS];
static unsigned timers_started;

int rt_timer_set(uint64_t seconds)
{
    if (!seconds || seconds > MAX_TIMER_SECONDS)
        return -1;
    for (unsigned i = 0; i < MAX_TIMERS; i++)
        if (!timers[i].deadline) {
            timers[i] = (struct rt_timer){
                .deadline = read_sysreg(cntvct_el0) + seconds * read_sysreg(cntfrq_el0),
                .seconds = seconds, .number = ++timers_started };
            return (int)timers[i].number;
        }
    return -2;
}

bool rt_timers_poll(void)
{
    uint64_t now = read_sysreg(cntvct_el0);
    bool printed = false;

    for (unsigned i = 0; i < MAX_TIMERS; i++)
        if (timers[i].deadline && now >= timers[i].deadline) {
            kprintf("%s[timer %u] %llu second%s up\n", printed ? "" : "\n", timers[i].number,
                    (unsigned long long)timers[i].seconds, timers[i].seconds == 1 ? " is" : "s are");
            timers[i].deadline = 0;
            printed = true;
        }
    return printed;
}

void cmd_timer(int argc, char **argv)
{
    unsigned long seconds;
    int n;

    if (argc == 1) {
        uint64_t now = read_sysreg(cntvct_el0), freq = read_sysreg(cntfrq_el0);
        bool any = false;

        for (unsigned i = 0; i < MAX_TIMERS; i++)
            if (timers[i].deadline) {
                kprintf("timer %u: %llu s, %llu s left\n", timers[i].number,
                        (unsigned long long)timers[i].seconds,
                        (unsigned long long)((timers[i].deadline - now + freq - 1) / freq));
                any = true;
            }
        if (!any)
            kprintf("no timers running\n");
        return;
    }
    if (argc != 2 || !shell_parse_count(argv[1], &seconds) || !seconds ||
        seconds > MAX_TIMER_SECONDS) {
        kprintf("usage: timer [seconds 1-%d]\n", MAX_TIMER_SECONDS);
        return;
    }
    n = rt_timer_set(seconds);
    if (n < 0)
        kprintf("timer: all %d timers are running\n", MAX_TIMERS);
    else
        kprintf("timer %d set: %lu second%s\n", n, seconds, seconds == 1 ? "" : "s");
}

/* ---- calc -------------------------------------------------------------------------- */

void cmd_calc(int argc, char **argv)
{
    char expr[LINE_MAX_CHARS + 1], err[96], out[48];
    int64_t v;

    if (argc < 2) {
        kprintf("usage: calc <expression>   (+ - * / ^ ( ), or words: 3 times 4, 9 squared)\n");
        return;
    }
    shell_join(argc, argv, 1, expr, sizeof(expr));   /* fits: the words came from one line */
    if (calc_eval(expr, &v, err, sizeof(err))) {
        kprintf("calc: %s\n", err);
        return;
    }
    calc_format(v, out, sizeof(out));
    kprintf("%s = %s\n", expr, out);
}

/* ---- status ------------------------------------------------------------------------ */

static void uptime(void)
{
    uint64_t s = read_sysreg(cntvct_el0) / read_sysreg(cntfrq_el0);

    kprintf("uptime: %llu:%02llu:%02llu (the board's counter since power-on)\n",
            (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60),
            (unsigned long long)(s % 60));
}

static void memory(void)
{
    int n = hyp_partition_count(NULL);

    kprintf("memory:");
    for (int i = 0; i < n; i++) {
        struct hyp_partition_info info;

        if (!hyp_partition_info((unsigned)i, &info))
            kprintf("%s %s %llu MiB", i ? "," : "", info.name,
                    (unsigned long long)(info.ram_size >> 20));
    }
    kprintf(n > 0 ? "\n" : " (no hypervisor: this kernel has %llu MiB)\n",
            (unsigned long long)(guest.ram_size >> 20));
}

/* Busy share of each partition's cores over a short window: the hypervisor counts the
 * time each core slept in it; this core (direct interrupts: its sleeps never reach the
 * hypervisor) counts its own. */
static void cpu_load(void)
{
    uint64_t freq = read_sysreg(cntfrq_el0), t0, t1, idle0[64], idle1[64], self0, self1;
    unsigned ncores = 0, self;
    int n = hyp_partition_count(&self);

    if (n <= 0) {
        kprintf("cpu: no hypervisor, so no other partitions to report\n");
        return;
    }
    while (ncores < 64 && hyp_perf_read(ncores, PERF_IDLE_TICKS, &idle0[ncores]) == SMCCC_SUCCESS)
        ncores++;
    t0 = read_sysreg(cntvct_el0);
    self0 = guest_idle_ticks();
    guest_wait_until(t0 + freq / 1000 * LOAD_WINDOW_MS);
    while (read_sysreg(cntvct_el0) < t0 + freq / 1000 * LOAD_WINDOW_MS)
        guest_wait_until(t0 + freq / 1000 * LOAD_WINDOW_MS);
    t1 = read_sysreg(cntvct_el0);
    self1 = guest_idle_ticks();
    for (unsigned c = 0; c < ncores; c++)
        hyp_perf_read(c, PERF_IDLE_TICKS, &idle1[c]);
    kprintf("cpu (busy over %d ms):", LOAD_WINDOW_MS);
    for (int i = 0; i < n; i++) {
        struct hyp_partition_info info;
        uint64_t idle = 0, cores = 0;

        if (hyp_partition_info((unsigned)i, &info))
            continue;
        for (unsigned c = 0; c < ncores; c++)
            if (info.cores >> c & 1) {
                idle += (unsigned)i == self ? self1 - self0 : idle1[c] - idle0[c];
                cores++;
            }
        if (!cores || info.state != PARTITION_RUNNING) {
            kprintf("%s %s %s", i ? "," : "", info.name, hyp_state_name(info.state));
            continue;
        }
        if (idle > cores * (t1 - t0))
            idle = cores * (t1 - t0);
        kprintf("%s %s %llu%%", i ? "," : "", info.name,
                (unsigned long long)(100 - idle * 100 / (cores * (t1 - t0))));
    }
    kprintf("\n");
}

static const char *const subjects[] = { "cpu", "memory", "uptime", "partitions", "storage",
                                        "temperature" };

bool rt_status(const char *subject)
{
    bool all = !subject || !subject[0];

    if (subject && !all) {
        size_t i = 0;

        while (i < sizeof(subjects) / sizeof(subjects[0]) && strcmp(subject, subjects[i]))
            i++;
        if (i == sizeof(subjects) / sizeof(subjects[0]))
            return false;
    }
    if (all || !strcmp(subject, "partitions"))
        shell_print_partitions();
    if (all || !strcmp(subject, "cpu"))
        cpu_load();
    if (all || !strcmp(subject, "memory"))
        memory();
    if (all || !strcmp(subject, "uptime"))
        uptime();
    if (all || !strcmp(subject, "storage"))
        kprintf("storage: not available (this RT kernel has no file store yet)\n");
    if (all || !strcmp(subject, "temperature"))
        kprintf("temperature: no temperature sensor on this board\n");
    return true;
}

void cmd_status(int argc, char **argv)
{
    if (argc > 2 || !rt_status(argc == 2 ? argv[1] : NULL))
        kprintf("usage: status [cpu | memory | uptime | partitions | storage | temperature]\n");
}
