/*
 * Runtime shared by the partition kernels (rtkernel, aios, test images): boot from the
 * device tree the hypervisor gives, the EL1 MMU, the console on the virtual PL011, other
 * vCPUs through PSCI, and the hypervisor's calls.
 */
#ifndef SHARED_GUEST_H
#define SHARED_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aarch64.h"
#include "hypercall.h"

#define GUEST_MAX_CPUS 8
#define GUEST_MAX_CHANNELS 4
#define GUEST_MAX_REQUESTS 24
#define GUEST_REQUEST_MAX  24

/* A channel to another partition, from the device tree: two rings in shared memory. */
struct guest_channel {
    char peer[16];
    uint64_t base, size;
    uint32_t tx_offset, rx_offset, ring_size;
    unsigned index;          /* the layout's channel index: what the doorbell call takes */
    unsigned doorbell;       /* INTID of its doorbell here (an SPI, or an SGI with direct
                              * interrupts), 0 without a GIC */
    /* The actions the layout lets the peer ask of us (its may-request). */
    char peer_may[GUEST_MAX_REQUESTS][GUEST_REQUEST_MAX];
    unsigned npeer_may;
};

/* Whether the layout lets the peer of ch ask us for action. */
bool guest_channel_grants(const struct guest_channel *ch, const char *action);

/* A data image the hypervisor loaded into our RAM and verified (a model, a tokenizer). */
#define GUEST_MAX_MODULES 4
struct guest_module {
    char name[16];
    uint64_t base, size;
};

struct guest_info {
    char name[16];          /* this partition's name, from /chosen */
    unsigned index;         /* this partition's index in the layout */
    uint64_t ram_base, ram_size;
    uint64_t uart_base;
    unsigned ncpus;
    struct guest_channel channels[GUEST_MAX_CHANNELS];
    unsigned nchannels;
    struct guest_module modules[GUEST_MAX_MODULES];
    unsigned nmodules;
    uint64_t gicd, gicc;     /* virtual GICv2, 0 if the layout gives none */
    unsigned vtimer_intid;   /* the virtual timer's interrupt, 0 if unknown */
    bool hypervisor;         /* booted as a partition (not straight on the board) */
};

extern struct guest_info guest;

/* Provided by each kernel. */
void kernel_main(void);
void kernel_secondary_main(unsigned cpu);

/* Console */
void console_putc(char c);
void console_write(const char *s, size_t n);
int console_getc(void);     /* -1 when nothing is waiting */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
struct line_editor;
/* Print prompt, edit a line (echo, Backspace, Ctrl-C), return it once Enter is pressed.
 * While it waits for a key, it calls guest_idle_hook (when set) every millisecond; a hook
 * that printed something returns true, and the prompt and the line so far are redrawn. */
char *guest_readline(struct line_editor *ed, const char *prompt);
extern bool (*guest_idle_hook)(void);
/* Virtual counter ticks this cpu has slept in guest_wait_until since boot. */
uint64_t guest_idle_ticks(void);

/* Add an identity mapping to this kernel's stage-1 table (what the stage-2 table of the
 * hypervisor then allows is another matter). Negative errno on failure. */
int guest_map_range(uint64_t base, uint64_t size, bool device);

/* The module called name, or NULL if the layout gives none. */
const struct guest_module *guest_module(const char *name);

/* The channel to partition peer, or NULL if the layout gives none. */
const struct guest_channel *guest_channel(const char *peer);

/* The virtual GIC, polled: interrupts stay masked (PSTATE.I), WFI wakes on a pending
 * one and guest_irq_ack takes it. guest_gic_init: distributor (once) and this vCPU's CPU
 * interface on; -1 without a GIC. */
int guest_gic_init(void);
void guest_irq_enable(unsigned intid, unsigned cpu);
/* guest_irq_ack returns GICC_IAR: the INTID in bits 9:0 (GUEST_IRQ_ID; 1023 when none is
 * pending) and, for an SGI, the sending CPU above it. guest_irq_eoi takes that value back
 * unchanged, as the GIC requires. */
uint32_t guest_irq_ack(void);
void guest_irq_eoi(uint32_t iar);
#define GUEST_IRQ_ID(iar) ((iar) & 0x3ffu)
/* Sleep until an interrupt is pending or the virtual counter reaches deadline (the
 * virtual timer bounds the WFI), then acknowledge and complete whatever is pending:
 * interrupts are wake-up events here, the caller looks again at what it waits for. */
void guest_wait_until(uint64_t deadline);
/* Ring the doorbell of a channel: its peer gets the channel's interrupt. rejected: the
 * messages this side has rejected on the channel so far (ring_rejected of its receive
 * ring), which the hypervisor counts. */
int hyp_doorbell(const struct guest_channel *ch, uint64_t rejected);

/* Start vCPU cpu at kernel_secondary_main; returns the PSCI status. */
int guest_cpu_on(unsigned cpu);
/* Number of the vCPU running this code. */
unsigned guest_cpu_id(void);

/* Hypervisor calls: SMCCC over HVC; NOT_SUPPORTED without a hypervisor. */
struct smccc_res hyp_call(uint32_t fid, uint64_t a1, uint64_t a2, uint64_t a3);
struct hyp_partition_info {
    char name[9];
    uint64_t cores;         /* bitmap of physical cores */
    uint64_t ram_base, ram_size;
    unsigned state;         /* enum partition_state */
    unsigned restarts;
    unsigned restart_limit;
};

int hyp_partition_count(unsigned *self);
int hyp_partition_info(unsigned index, struct hyp_partition_info *info);
int hyp_partition_restart(unsigned index);
/* Index of the partition called name (its info in *info), or -1. */
int hyp_partition_find(const char *name, struct hyp_partition_info *info);
uint64_t hyp_version(void);   /* major << 16 | minor */
/* A hypervisor event counter of a core (shared/include/perf.h); SMCCC status. */
int hyp_perf_read(unsigned core, unsigned counter, uint64_t *value);
int hyp_perf_reset(void);
const char *hyp_state_name(unsigned state);

/* Fatal error in the kernel: report and ask the hypervisor for a reset. */
void guest_panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif /* SHARED_GUEST_H */
