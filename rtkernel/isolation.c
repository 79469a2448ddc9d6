/*
 * `isolation-test <partition>`: ask a partition, over its channel, to read and then
 * write memory it must not reach, one access at a time, and report what the hypervisor
 * did about each. Every attempt must end in a stage-2 fault that stops the partition;
 * the hypervisor restarts it, and we restart it once more to give it back the fault
 * budget its layout allows, so the test leaves it as it found it.
 */
#include <string.h>

#include "aarch64.h"
#include "esr.h"
#include "guest.h"
#include "kprintf.h"
#include "link.h"
#include "msg.h"
#include "shell.h"

#define COMEBACK_MS 20000
#define ANSWER_MS   5000

struct target {
    const char *what;
    uint64_t address;
    bool device;
};

static uint64_t now_ms(void)
{
    return read_sysreg(cntvct_el0) / (read_sysreg(cntfrq_el0) / 1000);
}

static uint64_t faults_of(unsigned index, uint64_t *ipa, uint64_t *esr)
{
    struct smccc_res r = hyp_call(HYP_CALL_PARTITION_FAULTS, index, 0, 0);

    *ipa = r.x2;
    *esr = r.x3;
    return r.x1;
}

/* Wait until the partition runs and answers a ping again. */
static bool back_up(struct link *l, unsigned index)
{
    uint64_t start = now_ms(), ticks, cycles;
    struct hyp_partition_info info;

    while (now_ms() - start < COMEBACK_MS) {
        if (!hyp_partition_info(index, &info) && info.state == PARTITION_RUNNING &&
            !link_ping(l, sizeof(struct msg_ping), &ticks, &cycles))
            return true;
    }
    return false;
}

/* One attempt: true when the hypervisor refused it. */
static bool attempt(struct link *l, unsigned index, const struct target *t, bool write)
{
    struct msg_probe pr = { .address = t->address, .write = write, .device = t->device };
    uint64_t ipa, esr, before = faults_of(index, &ipa, &esr), id, start;
    char desc[120];
    int rc;

    kprintf("  %-5s %-22s 0x%010llx  ", write ? "write" : "read", t->what,
            (unsigned long long)t->address);
    rc = link_send(l, MSG_PROBE, &pr, sizeof(pr), &id);
    if (rc) {
        kprintf("not tried: %s\n", link_error(l, rc));
        return false;
    }
    for (start = now_ms(); now_ms() - start < ANSWER_MS;) {
        if (faults_of(index, &ipa, &esr) != before) {
            esr_describe(esr, desc, sizeof(desc));
            kprintf("refused: stage-2 fault at 0x%llx, %s\n", (unsigned long long)ipa, desc);
            return true;
        }
        if (link_answered(l, id, MSG_PROBE_DONE)) {
            kprintf("NOT REFUSED: the access went through\n");
            return false;
        }
    }
    kprintf("no outcome within %d ms\n", ANSWER_MS);
    return false;
}

void cmd_isolation_test(int argc, char **argv)
{
    struct hyp_partition_info info;
    struct smccc_res hyp = hyp_call(HYP_CALL_PLATFORM_REGION, HYP_REGION_HYPERVISOR, 0, 0);
    struct smccc_res gicd = hyp_call(HYP_CALL_PLATFORM_REGION, HYP_REGION_GICD, 0, 0);
    struct target targets[3 + GUEST_MAX_CHANNELS];
    char channel_names[GUEST_MAX_CHANNELS][48];
    unsigned ntargets = 0, refused = 0, tried = 0, others = 0;
    struct link *l;
    int index;

    if (argc != 2) {
        kprintf("usage: isolation-test <partition>\n");
        return;
    }
    index = hyp_partition_find(argv[1], &info);
    l = link_to(argv[1]);
    if (index < 0 || !l || (unsigned)index == guest.index) {
        kprintf("isolation-test: no channel to a partition '%s'\n", argv[1]);
        return;
    }
    targets[ntargets++] = (struct target){ "rt memory", guest.ram_base, false };
    if (!hyp.x0)
        targets[ntargets++] = (struct target){ "hypervisor memory", hyp.x1, false };
    if (!gicd.x0)
        targets[ntargets++] = (struct target){ "GIC distributor", gicd.x1, true };
    /* Our channels to anyone else: the partition under test is not part of them. */
    for (unsigned c = 0; c < guest.nchannels; c++) {
        const struct guest_channel *ch = &guest.channels[c];

        if (!strcmp(ch->peer, argv[1]))
            continue;
        ksnprintf(channel_names[c], sizeof(channel_names[c]), "channel %s-%s", guest.name,
                  ch->peer);
        targets[ntargets++] = (struct target){ channel_names[c], ch->base, false };
        others++;
    }
    if (!back_up(l, (unsigned)index)) {
        kprintf("isolation-test: %s does not answer; is it running?\n", argv[1]);
        return;
    }
    kprintf("isolation-test %s: each access below must be refused by the hypervisor\n", argv[1]);
    for (unsigned t = 0; t < ntargets; t++) {
        for (int write = 0; write < 2; write++) {
            tried++;
            if (attempt(l, (unsigned)index, &targets[t], write))
                refused++;
            /* Back from the fault, then restarted by us for a fresh fault budget. */
            if (!back_up(l, (unsigned)index) || hyp_partition_restart((unsigned)index) ||
                !back_up(l, (unsigned)index)) {
                kprintf("isolation-test: %s did not come back; stopping\n", argv[1]);
                goto done;
            }
        }
    }
done:
    if (!others)
        kprintf("  -     a channel %s is not part of: none in this layout, not tried\n", argv[1]);
    kprintf("isolation-test %s: %u of %u attempts refused%s\n", argv[1], refused, tried,
            refused == tried ? "; every one logged by the hypervisor and the partition restarted"
                             : "; ISOLATION BROKEN");
}
