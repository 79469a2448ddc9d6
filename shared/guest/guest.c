/*
 * Partition kernel runtime: device tree, EL1 MMU, console, vCPUs, hypervisor calls.
 */
#include <libfdt.h>
#include <stdarg.h>
#include <string.h>

#include "aarch64.h"
#include "fdt_cells.h"
#include "guest.h"
#include "kprintf.h"
#include "gicv2.h"
#include "line.h"
#include "pl011.h"
#include "pgtable.h"
#include "spinlock.h"

#define PAGE 4096u
#define GUEST_TABLE_PAGES 16

struct guest_info guest;

static uint8_t table_pool[GUEST_TABLE_PAGES][PAGE] __attribute__((aligned(PAGE)));
static unsigned table_used;
static struct pgtable stage1;
/* What a secondary vCPU needs to turn its MMU on; read with caches off, so cleaned. */
static struct { uint64_t mair, tcr, ttbr, sctlr; } mmu_regs __attribute__((aligned(64)));
static volatile uint32_t *uart;
static spinlock_t console_lock = SPINLOCK_INIT;

void guest_secondary_entry(void);

/* Console: the PL011 the device tree names (emulated under the hypervisor). */
void console_putc(char c)
{
    if (!uart)
        return;
    while (uart[UART_FR / 4] & UART_FR_TXFF)
        ;
    uart[UART_DR / 4] = (uint8_t)c;
}

void console_write(const char *s, size_t n)
{
    spin_lock(&console_lock);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            console_putc('\r');
        console_putc(s[i]);
    }
    spin_unlock(&console_lock);
}

int console_getc(void)
{
    if (!uart || (uart[UART_FR / 4] & UART_FR_RXFE))
        return -1;
    return (int)(uart[UART_DR / 4] & 0xff);
}

/*
 * Each look at the console is a trap to the hypervisor, so an idle console sleeps a
 * millisecond between looks rather than spinning: typing feels the same, and the core
 * is really idle.
 */
bool (*guest_idle_hook)(void);

char *guest_readline(struct line_editor *ed, const char *prompt)
{
    line_reset(ed);
    kprintf("%s", prompt);
    for (;;) {
        int c = console_getc();

        if (c < 0) {
            if (guest_idle_hook && guest_idle_hook()) {
                kprintf("%s", prompt);
                console_write(ed->buf, ed->len);
            }
            guest_wait_until(read_sysreg(cntvct_el0) + read_sysreg(cntfrq_el0) / 1000);
            continue;
        }
        switch (line_feed(ed, c)) {
        case LINE_ECHO:
            console_putc((char)c);
            break;
        case LINE_ERASE:
            console_write("\b \b", 3);
            break;
        case LINE_CANCEL:
            kprintf("^C\n%s", prompt);
            break;
        case LINE_TOO_LONG:
            kprintf("\nerror: line too long (at most %d characters); ignored\n%s", LINE_MAX_CHARS,
                    prompt);
            break;
        case LINE_DONE:
            kprintf("\n");
            return ed->buf;
        case LINE_NONE:
            break;
        }
    }
}

void kprintf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void guest_panic(const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    kprintf("%s: fatal: %s\n", guest.name[0] ? guest.name : "partition", buf);
    hyp_call(PSCI_SYSTEM_RESET, 0, 0, 0);
    for (;;)
        wfi();
}

/* Called from the vectors in start.S: any exception in the kernel is a bug. */
void guest_exception(uint64_t esr, uint64_t elr, uint64_t far)
{
    guest_panic("exception at EL1: ESR 0x%llx, ELR 0x%llx, FAR 0x%llx",
                (unsigned long long)esr, (unsigned long long)elr, (unsigned long long)far);
}

/* libfdt is built with the stack protector. */
uintptr_t __stack_chk_guard = 0x3c5a96e1d2b4f087ull;

void __stack_chk_fail(void)
{
    guest_panic("stack smashing detected");
}

/* The first (address, size) of node's reg under a root with 2+2 cells. */
static int reg0(const void *fdt, int node, uint64_t *base, uint64_t *size)
{
    int len;
    const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

    if (!reg || len < 16)
        return -1;
    *base = fdt_cells(reg, 2);
    *size = fdt_cells(reg + 2, 2);
    return 0;
}

static void parse_channel(const void *fdt, int node)
{
    struct guest_channel *ch = &guest.channels[guest.nchannels];
    const fdt32_t *tx = fdt_getprop(fdt, node, "aios,tx-offset", NULL);
    const fdt32_t *rx = fdt_getprop(fdt, node, "aios,rx-offset", NULL);
    const fdt32_t *rs = fdt_getprop(fdt, node, "aios,ring-size", NULL);
    const char *peer = fdt_getprop(fdt, node, "aios,peer", NULL);
    const fdt32_t *idx, *irq, *sgi;
    int len, sgi_len, count;

    if (guest.nchannels == GUEST_MAX_CHANNELS || !tx || !rx || !rs || !peer ||
        reg0(fdt, node, &ch->base, &ch->size))
        return;
    memset(ch->peer, 0, sizeof(ch->peer));
    memcpy(ch->peer, peer, strnlen(peer, sizeof(ch->peer) - 1));
    idx = fdt_getprop(fdt, node, "aios,channel-index", NULL);
    irq = fdt_getprop(fdt, node, "interrupts", &len);
    ch->index = idx ? fdt32_to_cpu(*idx) : 0;
    sgi = fdt_getprop(fdt, node, "aios,doorbell-sgi", &sgi_len);
    if (sgi && sgi_len == 4 && fdt32_to_cpu(*sgi) < 16)
        ch->doorbell = fdt32_to_cpu(*sgi);   /* direct interrupts: an SGI */
    else   /* <0 n flags>: SPI n is INTID 32 + n. */
        ch->doorbell = irq && len == 12 && !fdt32_to_cpu(irq[0]) ? 32 + fdt32_to_cpu(irq[1]) : 0;
    ch->npeer_may = 0;
    count = fdt_stringlist_count(fdt, node, "aios,peer-may-request");
    for (int i = 0; i < count && ch->npeer_may < GUEST_MAX_REQUESTS; i++) {
        const char *action = fdt_stringlist_get(fdt, node, "aios,peer-may-request", i, &len);

        if (action && len > 0 && len < GUEST_REQUEST_MAX)
            memcpy(ch->peer_may[ch->npeer_may++], action, (size_t)len + 1);
    }
    ch->tx_offset = fdt32_to_cpu(*tx);
    ch->rx_offset = fdt32_to_cpu(*rx);
    ch->ring_size = fdt32_to_cpu(*rs);
    /* Both rings must lie inside the channel's memory. */
    if ((uint64_t)ch->tx_offset + ch->ring_size > ch->size ||
        (uint64_t)ch->rx_offset + ch->ring_size > ch->size)
        return;
    guest.nchannels++;
}

/*
 * Calls to the hypervisor. A kernel booted straight on the board (the RT kernel's bare
 * benchmark run) has none: HVC would be undefined there, so every call answers
 * NOT_SUPPORTED instead.
 */
struct smccc_res hyp_call(uint32_t fid, uint64_t a1, uint64_t a2, uint64_t a3)
{
    if (!guest.hypervisor)
        return (struct smccc_res){ .x0 = (uint64_t)SMCCC_NOT_SUPPORTED };
    return smccc_hvc(fid, a1, a2, a3);
}

static void parse_fdt(const void *fdt)
{
    int node, len, cpus;
    const char *s;
    uint64_t size;

    if (fdt_check_header(fdt))
        return;   /* no console yet to say so: guest_boot stops */
    guest.hypervisor = !fdt_node_check_compatible(fdt, 0, "aios,partition");
    node = fdt_path_offset(fdt, "/chosen");
    s = node >= 0 ? fdt_getprop(fdt, node, "aios,partition-name", &len) : NULL;
    if (s)
        memcpy(guest.name, s, strnlen(s, sizeof(guest.name) - 1));
    s = node >= 0 ? fdt_getprop(fdt, node, "stdout-path", &len) : NULL;
    if (s) {
        int u = fdt_path_offset(fdt, s);
        if (u >= 0)
            reg0(fdt, u, &guest.uart_base, &size);
    }
    node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", sizeof("memory"));
    if (node >= 0)
        reg0(fdt, node, &guest.ram_base, &guest.ram_size);
    for (node = fdt_node_offset_by_compatible(fdt, -1, "aios,module"); node >= 0;
         node = fdt_node_offset_by_compatible(fdt, node, "aios,module")) {
        struct guest_module *m = &guest.modules[guest.nmodules];
        const char *name = fdt_getprop(fdt, node, "aios,name", &len);

        if (guest.nmodules == GUEST_MAX_MODULES || !name || len < 2 ||
            (size_t)len > sizeof(m->name) || name[len - 1] || reg0(fdt, node, &m->base, &m->size))
            continue;
        /* Only inside our RAM: anything else would not be ours to read. */
        if (m->base < guest.ram_base || m->size > guest.ram_size ||
            m->base - guest.ram_base > guest.ram_size - m->size)
            continue;
        memcpy(m->name, name, (size_t)len);
        guest.nmodules++;
    }
    for (node = fdt_node_offset_by_compatible(fdt, -1, "aios,channel"); node >= 0;
         node = fdt_node_offset_by_compatible(fdt, node, "aios,channel"))
        parse_channel(fdt, node);
    node = fdt_node_offset_by_compatible(fdt, -1, "arm,cortex-a15-gic");
    if (node >= 0) {
        const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

        if (reg && len == 32) {
            guest.gicd = fdt_cells(reg, 2);
            guest.gicc = fdt_cells(reg + 4, 2);
        }
    }
    node = fdt_node_offset_by_compatible(fdt, -1, "arm,armv8-timer");
    if (node >= 0) {
        const fdt32_t *irqs = fdt_getprop(fdt, node, "interrupts", &len);

        /* The third entry is the virtual timer, a PPI: <1 n flags> is INTID 16 + n. */
        if (irqs && len >= 36 && fdt32_to_cpu(irqs[6]) == 1)
            guest.vtimer_intid = 16 + fdt32_to_cpu(irqs[7]);
    }
    cpus = fdt_path_offset(fdt, "/cpus");
    if (cpus >= 0)
        fdt_for_each_subnode(node, fdt, cpus) {
            const char *type = fdt_getprop(fdt, node, "device_type", NULL);

            if (type && !strcmp(type, "cpu"))
                guest.ncpus++;
        }
}

static void *table_alloc(void *ctx)
{
    (void)ctx;
    return table_used < GUEST_TABLE_PAGES ? table_pool[table_used++] : NULL;
}

static void mmu_enable(void)
{
    write_sysreg(mair_el1, mmu_regs.mair);
    write_sysreg(tcr_el1, mmu_regs.tcr);
    write_sysreg(ttbr0_el1, mmu_regs.ttbr);
    isb();
    __asm__ volatile("tlbi vmalle1" ::: "memory");
    dsb_ish();
    isb();
    write_sysreg(sctlr_el1, mmu_regs.sctlr);
    isb();
}

/* Identity map: our RAM as normal memory, the console page as device memory. */
static void mmu_setup(void)
{
    struct pgtable_alloc alloc = { table_alloc, NULL };
    uint64_t pa_range = read_sysreg(id_aa64mmfr0_el1) & 0xf;

    if (pgtable_init(&stage1, PGTABLE_EL1, &alloc) ||
        pgtable_map(&stage1, guest.ram_base, guest.ram_base, guest.ram_size,
                    PGTABLE_R | PGTABLE_W | PGTABLE_X) ||
        pgtable_map(&stage1, guest.uart_base & ~(uint64_t)(PAGE - 1),
                    guest.uart_base & ~(uint64_t)(PAGE - 1), PAGE,
                    PGTABLE_R | PGTABLE_W | PGTABLE_DEVICE))
        for (;;)
            wfi();
    if (guest.gicd &&
        (pgtable_map(&stage1, guest.gicd, guest.gicd, PAGE, PGTABLE_R | PGTABLE_W | PGTABLE_DEVICE) ||
         pgtable_map(&stage1, guest.gicc, guest.gicc, 2 * PAGE, PGTABLE_R | PGTABLE_W | PGTABLE_DEVICE)))
        guest.gicd = guest.gicc = 0;
    for (unsigned i = 0; i < guest.nchannels; i++)
        if (pgtable_map(&stage1, guest.channels[i].base, guest.channels[i].base,
                        guest.channels[i].size, PGTABLE_R | PGTABLE_W))
            guest.channels[i].size = 0;   /* unusable: guest_channel() will not offer it */
    mmu_regs.mair = PGTABLE_MAIR_VALUE;
    mmu_regs.tcr = PGTABLE_T0SZ            /* T0SZ: 39-bit addresses from TTBR0 */
                 | 1ull << 8               /* IRGN0: walks inner write-back */
                 | 1ull << 10              /* ORGN0: walks outer write-back */
                 | 3ull << 12              /* SH0: inner shareable */
                 | 1ull << 23              /* EPD1: no TTBR1 walks, nothing lives there */
                 | (pa_range > 5 ? 5 : pa_range) << 32;   /* IPS */
    mmu_regs.ttbr = pgtable_root_pa(&stage1);
    mmu_regs.sctlr = 0x30D00800            /* RES1 bits */
                   | 1u << 0               /* M: MMU on */
                   | 1u << 2               /* C: data cache on */
                   | 1u << 3               /* SA: stack alignment check */
                   | 1u << 12;             /* I: instruction cache on */
    /* Written with caches off; walks and secondaries read them from memory. */
    dcache_clean_inval_poc(table_pool, sizeof(table_pool));
    dcache_clean_inval_poc(&mmu_regs, sizeof(mmu_regs));
    mmu_enable();
}

int guest_map_range(uint64_t base, uint64_t size, bool device)
{
    unsigned attrs = PGTABLE_R | PGTABLE_W | (device ? PGTABLE_DEVICE : PGTABLE_X);
    int rc = pgtable_map(&stage1, base, base, size, attrs);

    /* New entries only (map refuses overlaps): no TLB entry can be stale. */
    dsb_ish();
    isb();
    return rc;
}

void guest_boot(const void *fdt)
{
    parse_fdt(fdt);
    if (!guest.uart_base || !guest.ram_size)
        for (;;)
            wfi();
    uart = (volatile uint32_t *)(uintptr_t)guest.uart_base;
    mmu_setup();
    guest_gic_init();
    kernel_main();
}

void guest_secondary_boot(unsigned cpu)
{
    mmu_enable();
    guest_gic_init();
    kernel_secondary_main(cpu);
}

static inline volatile uint32_t *gic_reg(uint64_t base, uint32_t off)
{
    return (volatile uint32_t *)(uintptr_t)(base + off);
}

int guest_gic_init(void)
{
    if (!guest.gicd)
        return -1;
    *gic_reg(guest.gicd, GICD_CTLR) = 1;
    *gic_reg(guest.gicc, GICC_PMR) = 0xff;
    *gic_reg(guest.gicc, GICC_CTLR) = 1;
    /* The virtual timer ends guest_wait_until's sleep. */
    if (guest.vtimer_intid)
        guest_irq_enable(guest.vtimer_intid, guest_cpu_id());
    return 0;
}

static uint64_t idle_ticks[GUEST_MAX_CPUS];

uint64_t guest_idle_ticks(void)
{
    return idle_ticks[guest_cpu_id() % GUEST_MAX_CPUS];
}

void guest_wait_until(uint64_t deadline)
{
    uint64_t start;
    uint32_t iar;

    if (!guest.gicc || !guest.vtimer_intid) {
        /* Nothing of ours could end a WFI; under a hypervisor it ends within 1 ms. */
        if (guest.hypervisor)
            wfi();
        else
            cpu_relax();
        return;
    }
    write_sysreg(cntv_cval_el0, deadline);
    write_sysreg(cntv_ctl_el0, 1);   /* ENABLE, interrupt not masked */
    isb();
    start = read_sysreg(cntvct_el0);
    if (start < deadline) {
        wfi();
        idle_ticks[guest_cpu_id() % GUEST_MAX_CPUS] += read_sysreg(cntvct_el0) - start;
    }
    write_sysreg(cntv_ctl_el0, 0);   /* the timer's output drops before we complete it */
    isb();
    while (GUEST_IRQ_ID(iar = guest_irq_ack()) < 1020)
        guest_irq_eoi(iar);
}

void guest_irq_enable(unsigned intid, unsigned cpu)
{
    if (!guest.gicd)
        return;
    if (intid >= 32)
        *(volatile uint8_t *)(uintptr_t)(guest.gicd + GICD_ITARGETSR + intid) = (uint8_t)(1u << cpu);
    *gic_reg(guest.gicd, GICD_ISENABLER + intid / 32 * 4) = 1u << (intid % 32);
}

uint32_t guest_irq_ack(void)
{
    return guest.gicc ? *gic_reg(guest.gicc, GICC_IAR) : 1023;
}

void guest_irq_eoi(uint32_t iar)
{
    *gic_reg(guest.gicc, GICC_EOIR) = iar;
}

int hyp_doorbell(const struct guest_channel *ch, uint64_t rejected)
{
    return (int)hyp_call(HYP_CALL_DOORBELL, ch->index, rejected, 0).x0;
}

bool guest_channel_grants(const struct guest_channel *ch, const char *action)
{
    for (unsigned i = 0; i < ch->npeer_may; i++)
        if (!strcmp(ch->peer_may[i], action))
            return true;
    return false;
}

const struct guest_module *guest_module(const char *name)
{
    for (unsigned i = 0; i < guest.nmodules; i++)
        if (!strcmp(guest.modules[i].name, name))
            return &guest.modules[i];
    return NULL;
}

const struct guest_channel *guest_channel(const char *peer)
{
    for (unsigned i = 0; i < guest.nchannels; i++)
        if (guest.channels[i].size && !strcmp(guest.channels[i].peer, peer))
            return &guest.channels[i];
    return NULL;
}

int guest_cpu_on(unsigned cpu)
{
    return (int)hyp_call(PSCI_CPU_ON, cpu, (uintptr_t)guest_secondary_entry, cpu).x0;
}

unsigned guest_cpu_id(void)
{
    return (unsigned)(read_sysreg(mpidr_el1) & 0xff);
}

int hyp_partition_count(unsigned *self)
{
    struct smccc_res r = hyp_call(HYP_CALL_PARTITION_COUNT, 0, 0, 0);

    if (self)
        *self = (unsigned)r.x1;
    return (int)r.x0;
}

int hyp_partition_info(unsigned index, struct hyp_partition_info *info)
{
    struct smccc_res r = hyp_call(HYP_CALL_PARTITION_INFO, index, 0, 0);

    if ((int64_t)r.x0 != SMCCC_SUCCESS)
        return (int)r.x0;
    memset(info, 0, sizeof(*info));
    memcpy(info->name, &r.x1, 8);
    info->cores = r.x2;
    info->ram_size = r.x3;
    info->state = (unsigned)(r.x4 & 0xff);
    info->restarts = (unsigned)((r.x4 >> 8) & 0xffffff);
    info->restart_limit = (unsigned)(r.x4 >> 32);
    info->ram_base = r.x5;
    return 0;
}

uint64_t hyp_version(void)
{
    return hyp_call(HYP_CALL_VERSION, 0, 0, 0).x0;
}

int hyp_perf_read(unsigned core, unsigned counter, uint64_t *value)
{
    struct smccc_res r = hyp_call(HYP_CALL_PERF_READ, core, counter, 0);

    *value = r.x1;
    return (int)r.x0;
}

int hyp_perf_reset(void)
{
    return (int)hyp_call(HYP_CALL_PERF_RESET, 0, 0, 0).x0;
}

int hyp_partition_find(const char *name, struct hyp_partition_info *info)
{
    int n = hyp_partition_count(NULL);

    for (int i = 0; i < n; i++)
        if (!hyp_partition_info((unsigned)i, info) && !strcmp(info->name, name))
            return i;
    return -1;
}

int hyp_partition_restart(unsigned index)
{
    return (int)hyp_call(HYP_CALL_PARTITION_RESTART, index, 0, 0).x0;
}

const char *hyp_state_name(unsigned state)
{
    static const char *const names[] = { "off", "running", "restarting", "stopped", "failed",
                                         "refused" };

    return state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}
