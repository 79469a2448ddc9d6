/*
 * The AI partition's runtime: brings up every vCPU the partition has (PSCI CPU_ON
 * through the hypervisor), each reports ready; the first serves the AI console (and
 * works for a generation while it waits for keys), the second the channel to the RT
 * partition, where `ask` requests are answered by the inference service (infer.c).
 */
#include <errno.h>
#include <string.h>

#include "aarch64.h"
#include "guest.h"
#include "channel.h"
#include "infer.h"
#include "line.h"
#include "msg.h"
#include "ring.h"
#include "understand.h"

#define INTENT_MEMORY (64ull << 20)   /* the intent engine's share; inference gets the rest */

extern char __image_end[];

/* The RAM nobody else uses: from the end of this image (its .bss included) to the lowest
 * module (the hypervisor stacks the modules and the device tree at the top), shared out
 * between the intent engine and inference. */
static void free_memory(void)
{
    uint64_t start = ((uintptr_t)__image_end + 4095) & ~4095ull;
    uint64_t end = guest.ram_base + guest.ram_size - 64 * 1024;   /* the device tree */

    for (unsigned i = 0; i < guest.nmodules; i++)
        if (guest.modules[i].base < end)
            end = guest.modules[i].base;
    if (end <= start + INTENT_MEMORY) {
        kprintf("aios: no memory left for the intent engine and inference\n");
        return;
    }
    understand_init((void *)(uintptr_t)start, INTENT_MEMORY);
    infer_init((void *)(uintptr_t)(start + INTENT_MEMORY), end - start - INTENT_MEMORY);
}

static volatile bool cpu_ready[GUEST_MAX_CPUS];

static void report_ready(unsigned cpu)
{
    kprintf("aios: cpu %u ready\n", cpu);
    /* Only once the line is out: cpu 0 waits for it before printing its prompt. */
    cpu_ready[cpu] = true;
}

/* Give a starting cpu ten seconds (a loaded emulator is slow) to report, so its line
 * and our prompt do not mix. */
static void wait_ready(unsigned cpu)
{
    uint64_t freq = read_sysreg(cntfrq_el0), start = read_sysreg(cntvct_el0);

    while (!cpu_ready[cpu] && read_sysreg(cntvct_el0) - start < 10 * freq)
        __asm__ volatile("yield");
    if (!cpu_ready[cpu])
        kprintf("aios: cpu %u started but has not reported ready\n", cpu);
}

static void console_loop(void)
{
    struct line_editor ed = { 0 };

    for (;;) {
        char *line = guest_readline(&ed, "ai> ");

        if (!strcmp(line, "cpus")) {
            for (unsigned c = 0; c < guest.ncpus; c++)
                kprintf("cpu %u: %s\n", c, cpu_ready[c] ? "ready" : "not started");
        } else if (!strncmp(line, "embed ", 6)) {
            understand_print_embedding(line + 6);
        } else if (!strcmp(line, "help")) {
            kprintf("  cpus           which of this partition's cpus are up\n"
                    "  embed <text>   the sentence encoder's vector for the text (float bits)\n");
        } else if (line[0]) {
            kprintf("unknown command '%s': type help\n", line);
        }
    }
}

void kernel_main(void)
{
    kprintf("aios runtime: partition %s, %llu MiB at 0x%llx, %u cpus\n", guest.name,
            (unsigned long long)(guest.ram_size >> 20), (unsigned long long)guest.ram_base,
            guest.ncpus);
    free_memory();
    /* The console cpu works for a generation while it waits for keys. */
    guest_idle_hook = infer_worker_poll;
    report_ready(0);
    for (unsigned c = 1; c < guest.ncpus && c < GUEST_MAX_CPUS; c++) {
        int rc = guest_cpu_on(c);

        if (rc)
            kprintf("aios: cpu %u did not start (PSCI %d)\n", c, rc);
        else
            wait_ready(c);
    }
    console_loop();
}

static bool accept_request(uint16_t type)
{
    return type == MSG_PING || type == MSG_PROBE || type == MSG_ASK || type == MSG_CANCEL ||
           type == MSG_INTENT || type == MSG_LEARN || type == MSG_REMEMBER;
}

/*
 * The RT shell's isolation test asks us to touch memory we do not own. We map it in our
 * own stage-1 table and access it; the hypervisor must stop us right there. If the access
 * completes, we say so: isolation is broken.
 */
static void probe(struct ring *tx, const struct ring_msg *msg, const void *payload)
{
    struct msg_probe pr;
    uint64_t page;
    int rc;

    if (msg->length != sizeof(pr))
        return;
    memcpy(&pr, payload, sizeof(pr));
    page = pr.address & ~0xfffull;
    rc = guest_map_range(page, 4096, pr.device);
    if (rc && rc != -EEXIST) {
        kprintf("aios: isolation test: cannot map 0x%llx here\n", (unsigned long long)page);
        return;
    }
    if (pr.write)
        *(volatile uint32_t *)(uintptr_t)(pr.address & ~3ull) = 0;
    else
        (void)*(volatile uint32_t *)(uintptr_t)(pr.address & ~3ull);
    ring_push(tx, MSG_PROBE_DONE, 0, msg->request_id, &pr, sizeof(pr));
}

/*
 * Serve requests from the RT partition on the rt channel. Each side rings the channel's
 * doorbell after each message it sends; we sleep until ours rings (guest_wait_until)
 * as soon as the ring is empty. (Polling busily for a while instead would save a wake-up
 * per burst on hardware, but under QEMU's one-thread round robin it keeps the RT core
 * from running at all until the poll ends.)
 */
static void serve_rt(void)
{
    const struct guest_channel *ch = guest_channel("rt");
    struct ring rx, tx;
    struct ring_msg msg;
    static uint8_t payload[RING_MAX_SLOT];   /* larger than a stack */

    if (!ch || ring_attach_consumer(&rx, (void *)(uintptr_t)(ch->base + ch->rx_offset),
                                    ch->ring_size, accept_request) ||
        ring_attach_producer(&tx, (void *)(uintptr_t)(ch->base + ch->tx_offset), ch->ring_size)) {
        kprintf("aios: no usable channel to rt\n");
        return;
    }
    if (ch->doorbell)
        guest_irq_enable(ch->doorbell, guest_cpu_id());
    uint64_t freq = read_sysreg(cntfrq_el0);

    for (;;) {
        int rc = ring_pop(&rx, &msg, payload, sizeof(payload));

        if (rc == -EAGAIN || rc == -EPROTO) {
            guest_wait_until(read_sysreg(cntvct_el0) + freq);
            continue;
        }
        if (rc)
            continue;   /* rejected and counted by the ring */
        if (msg.type == MSG_PING) {
            /* The answer carries the request back unchanged. */
            channel_send(ch, &rx, &tx, MSG_PONG, msg.request_id, payload, msg.length);
            continue;
        }
        if (msg.type == MSG_PROBE) {
            probe(&tx, &msg, payload);
        } else if (msg.type == MSG_ASK) {
            infer_ask(ch, &rx, &tx, &msg, payload);
            continue;   /* it rang for each message it sent */
        } else if (msg.type == MSG_CANCEL) {
            continue;   /* for an ask that has already finished */
        } else if (msg.type == MSG_INTENT) {
            understand(ch, &rx, &tx, &msg, payload);
            continue;   /* it rang */
        } else if (msg.type == MSG_LEARN) {
            understand_learn(ch, &rx, &tx, &msg, payload);
            continue;
        } else if (msg.type == MSG_REMEMBER) {
            understand_remember(ch, &rx, &tx, &msg, payload);
            continue;
        } else {
            continue;   /* accept_request lets no other type through */
        }
        /* MSG_PROBE: if the access went through, say so. */
        hyp_doorbell(ch, ring_rejected(&rx.stats));
    }
}

void kernel_secondary_main(unsigned cpu)
{
    report_ready(cpu);
    /* cpu 0 serves the console; the next one serves the channels. */
    if (cpu == 1)
        serve_rt();
    for (;;)
        wfi();
}
