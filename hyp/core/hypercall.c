/*
 * The partitions' calls into the hypervisor: SMCCC discovery, PSCI (emulated per
 * partition: its CPUs, its "system") and our vendor-specific hypervisor calls. Every
 * argument is the partition's to choose, so every one is checked.
 */
#include <string.h>

#include "aarch64.h"
#include "esr.h"
#include "hyp.h"
#include "ring.h"

#define SMCCC_VERSION_1_1 0x10001

static void partition_info(struct vcpu *v __attribute__((unused)), struct trap_frame *f)
{
    struct partition *p = partition_by_index(f->x[1]);
    uint64_t name = 0, cores = 0;

    if (!p) {
        f->x[0] = (uint64_t)SMCCC_INVALID_PARAMETER;
        return;
    }
    memcpy(&name, p->cfg->name, strnlen(p->cfg->name, sizeof(name)));
    for (unsigned i = 0; i < p->cfg->ncores; i++)
        cores |= 1ull << p->cfg->cores[i];
    f->x[0] = SMCCC_SUCCESS;
    f->x[1] = name;
    f->x[2] = cores;
    f->x[3] = p->cfg->mem.size;
    f->x[4] = (uint64_t)p->state | (uint64_t)(p->restarts & 0xffffff) << 8 |
              (uint64_t)p->cfg->restart_limit << 32;
    f->x[5] = p->cfg->mem.base;
}

static void partition_restart(struct vcpu *v, struct trap_frame *f)
{
    struct partition *target = partition_by_index(f->x[1]);

    if (!target) {
        f->x[0] = (uint64_t)SMCCC_INVALID_PARAMETER;
        return;
    }
    if (!(v->part->cfg->may_restart & (1u << target->index))) {
        hyp_log("partition %s asked to restart %s: not granted by the layout, refused",
                v->part->cfg->name, target->cfg->name);
        f->x[0] = (uint64_t)SMCCC_DENIED;
        return;
    }
    f->x[0] = (uint64_t)(int64_t)partition_request_restart(target, v->part->index);
}

static void partition_faults(struct vcpu *v __attribute__((unused)), struct trap_frame *f)
{
    struct partition *p = partition_by_index(f->x[1]);

    if (!p) {
        f->x[0] = (uint64_t)SMCCC_INVALID_PARAMETER;
        return;
    }
    spin_lock(&p->lock);
    f->x[0] = SMCCC_SUCCESS;
    f->x[1] = p->faults;
    f->x[2] = p->last_fault_ipa;
    f->x[3] = p->last_fault_esr;
    spin_unlock(&p->lock);
}

static void platform_region(struct vcpu *v __attribute__((unused)), struct trap_frame *f)
{
    extern uint8_t __image_start[], __image_end[];

    f->x[0] = SMCCC_SUCCESS;
    if (f->x[1] == HYP_REGION_HYPERVISOR) {
        f->x[1] = (uintptr_t)__image_start;
        f->x[2] = (uintptr_t)(__image_end - __image_start);
    } else if (f->x[1] == HYP_REGION_GICD) {
        f->x[1] = board.gicd.base;
        f->x[2] = board.gicd.size;
    } else {
        f->x[0] = (uint64_t)SMCCC_INVALID_PARAMETER;
    }
}

/*
 * What the hypervisor sees of a channel's traffic, per side (0: partition a, producing
 * into the first ring; 1: b): the producer's published head at its last doorbell, the
 * rejections it last reported, when it last rang while no answer had come yet, and
 * whether its next doorbell announces messages the other side has already answered.
 * Both values come from the partition, so they only ever feed counters, clamped. Each
 * field is swapped atomically: no lock on the doorbell's path, and two vCPUs of one side
 * ringing at once lose nothing.
 */
static struct channel_traffic {
    uint32_t head_seen[2];
    uint64_t rejected_seen[2];
    uint64_t rang_at[2];       /* system counter at an unanswered doorbell, else 0 */
    uint32_t answered[2];      /* 1: the side's next doorbell was answered before it came */
} traffic[LAYOUT_MAX_CHANNELS];

/* The head side published last (partition memory: a value for counters only). */
static uint32_t published_head(const struct layout_channel *ch, unsigned side)
{
    const volatile struct ring_index *head = (const volatile struct ring_index *)(uintptr_t)
        (ch->mem.base + side * (ch->mem.size / 2) + sizeof(struct ring_header));

    return head->value;
}

static void count_traffic(unsigned c, unsigned side, uint64_t rejected)
{
    const struct layout_channel *ch = &layout.channels[c];
    struct channel_traffic *t = &traffic[c];
    uint64_t now = read_sysreg(cntpct_el0), asked, before, none = 0;
    uint32_t published = published_head(ch, side), sent;

    /* A doorbell after one from the other side answers it; otherwise it asks, and the
     * first unanswered one is where the round trip starts. The cores run in parallel, so
     * an answer's doorbell can get here before its request's: the other side then has
     * messages out that it has not rung for. That answer is not timed (when the request
     * was made is not known here), and the request's doorbell, when it comes, neither
     * asks nor answers: so the pairing never turns over. The other side's head is
     * compared before this side's is recorded below, which keeps that test true until the
     * request's doorbell has asked. */
    asked = __atomic_exchange_n(&t->rang_at[!side], 0, __ATOMIC_RELAXED);
    if (asked) {
        perf_hist(PERF_HIST_RING_ROUND_TRIP,
                  (now - asked) * 1000000000ull / read_sysreg(cntfrq_el0));
    } else if (__atomic_exchange_n(&t->answered[side], 0, __ATOMIC_RELAXED)) {
        /* The late doorbell of a request already answered: it starts nothing. */
    } else if (published_head(ch, !side) != __atomic_load_n(&t->head_seen[!side],
                                                             __ATOMIC_RELAXED)) {
        /* An answer ahead of its request's doorbell. */
        __atomic_store_n(&t->answered[!side], 1, __ATOMIC_RELAXED);
    } else {
        __atomic_compare_exchange_n(&t->rang_at[side], &none, now, false, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED);
    }

    sent = published - __atomic_exchange_n(&t->head_seen[side], published, __ATOMIC_RELAXED);
    if (sent <= ch->slot_count)   /* more cannot be new: a peer's scribble */
        perf_add(PERF_RING_SENT, sent);
    before = __atomic_exchange_n(&t->rejected_seen[side], rejected, __ATOMIC_RELAXED);
    /* A smaller total: the partition restarted and counts afresh. */
    if (rejected < before)
        before = 0;
    if (rejected - before <= (1u << 20))
        perf_add(PERF_RING_REJECTED, rejected - before);
}

static void doorbell(struct vcpu *v, struct trap_frame *f)
{
    const struct layout_channel *ch;
    struct partition *peer;
    uint32_t kick;

    if (f->x[1] >= layout.nchannels) {
        f->x[0] = (uint64_t)SMCCC_INVALID_PARAMETER;
        return;
    }
    ch = &layout.channels[f->x[1]];
    if (ch->a != v->part->index && ch->b != v->part->index) {
        f->x[0] = (uint64_t)SMCCC_DENIED;
        return;
    }
    peer = &partitions[ch->a == v->part->index ? ch->b : ch->a];
    f->x[0] = SMCCC_SUCCESS;
    perf_count(PERF_DOORBELLS);
    count_traffic((unsigned)f->x[1], ch->a == v->part->index ? 0 : 1, f->x[2]);
    if (!peer->cfg->has_gic)
        return;   /* the peer polls */
    if (peer->cfg->direct_irqs) {
        /* Straight to its core, which takes it without us. */
        gic_send_sgi(peer->vcpus[0].core, DIRECT_DOORBELL_SGI + (unsigned)f->x[1]);
        return;
    }
    spin_lock(&peer->lock);
    kick = vgic_raise(&peer->vgic, 0, 32 + (unsigned)f->x[1]);
    spin_unlock(&peer->lock);
    vgic_kick(peer, kick);
}

static uint64_t perf_value(uint64_t core, unsigned counter)
{
    return cores[core].perf[counter] - cores[core].perf_base[counter];
}

static void perf_read(struct vcpu *v __attribute__((unused)), struct trap_frame *f)
{
    uint64_t core = f->x[1], counter = f->x[2];

    if (core >= board.ncores || counter >= PERF_COUNTERS) {
        f->x[0] = (uint64_t)SMCCC_INVALID_PARAMETER;
        return;
    }
    f->x[0] = SMCCC_SUCCESS;
    /* Hypercalls are the HVC and SMC traps: derived, not counted twice. */
    if (counter == PERF_HYPERCALLS)
        f->x[1] = perf_value(core, PERF_TRAPS_BASE + EC_HVC64) +
                  perf_value(core, PERF_TRAPS_BASE + EC_SMC64);
    else
        f->x[1] = perf_value(core, counter);
}

static void perf_reset(struct vcpu *v, struct trap_frame *f)
{
    if (!v->part->cfg->perf_control) {
        f->x[0] = (uint64_t)SMCCC_DENIED;
        return;
    }
    for (unsigned c = 0; c < board.ncores; c++)
        for (unsigned i = 0; i < PERF_COUNTERS; i++)
            cores[c].perf_base[i] = cores[c].perf[i];
    f->x[0] = SMCCC_SUCCESS;
}

static void hyp_version(struct vcpu *v __attribute__((unused)), struct trap_frame *f)
{
    f->x[0] = HYP_VERSION_MAJOR << 16 | HYP_VERSION_MINOR;
}

static void partition_count(struct vcpu *v, struct trap_frame *f)
{
    f->x[0] = npartitions;
    f->x[1] = v->part->index;
}

/* Our calls, by number (HYP_CALL(n)): one indexed jump to any of them. */
typedef void (*hyp_call_handler)(struct vcpu *v, struct trap_frame *f);

static const hyp_call_handler hyp_calls[] = {
    [HYP_CALL_VERSION - HYP_CALL(0)] = hyp_version,
    [HYP_CALL_PARTITION_COUNT - HYP_CALL(0)] = partition_count,
    [HYP_CALL_PARTITION_INFO - HYP_CALL(0)] = partition_info,
    [HYP_CALL_PARTITION_RESTART - HYP_CALL(0)] = partition_restart,
    [HYP_CALL_PERF_READ - HYP_CALL(0)] = perf_read,
    [HYP_CALL_PERF_RESET - HYP_CALL(0)] = perf_reset,
    [HYP_CALL_PARTITION_FAULTS - HYP_CALL(0)] = partition_faults,
    [HYP_CALL_PLATFORM_REGION - HYP_CALL(0)] = platform_region,
    [HYP_CALL_DOORBELL - HYP_CALL(0)] = doorbell,
};

void hypercall_handle(struct vcpu *v, struct trap_frame *f)
{
    /* SMCCC: the function ID is w0; the upper half of x0 is ignored. */
    uint32_t fid = (uint32_t)f->x[0];
    uint32_t call = fid - HYP_CALL(0);   /* wraps far out of range below HYP_CALL(0) */

    if (call < sizeof(hyp_calls) / sizeof(hyp_calls[0]) && hyp_calls[call]) {
        hyp_calls[call](v, f);
        return;
    }
    if (((fid >> SMCCC_OWNER_SHIFT) & SMCCC_OWNER_MASK) == SMCCC_OWNER_STANDARD)
        psci_handle(v, f);
    else if (fid == SMCCC_VERSION_FID)
        f->x[0] = SMCCC_VERSION_1_1;
    else
        f->x[0] = (uint64_t)SMCCC_NOT_SUPPORTED;
}

/* PSCI as a partition sees it: its own vCPUs, and "the system" means the partition. */
void psci_handle(struct vcpu *v, struct trap_frame *f)
{
    struct partition *p = v->part;
    uint32_t fid = (uint32_t)f->x[0];

    switch (fid) {
    case PSCI_VERSION:
        f->x[0] = 0x10000;   /* PSCI 1.0 */
        break;
    case PSCI_FEATURES: {
        uint32_t q = (uint32_t)f->x[1];
        bool known = q == PSCI_VERSION || q == PSCI_FEATURES || q == PSCI_CPU_ON ||
                     q == (PSCI_CPU_ON & ~SMCCC_64) || q == PSCI_CPU_OFF ||
                     q == PSCI_AFFINITY_INFO || q == (PSCI_AFFINITY_INFO & ~SMCCC_64) ||
                     q == PSCI_SYSTEM_OFF || q == PSCI_SYSTEM_RESET;

        f->x[0] = known ? PSCI_SUCCESS : (uint64_t)PSCI_NOT_SUPPORTED;
        break;
    }
    case PSCI_CPU_ON:
    case PSCI_CPU_ON & ~SMCCC_64: {
        bool is32 = !(fid & SMCCC_64);
        uint64_t mask = is32 ? 0xffffffffull : ~0ull;

        f->x[0] = (uint64_t)(int64_t)vcpu_power_on(p, f->x[1] & mask, f->x[2] & mask,
                                                    f->x[3] & mask);
        break;
    }
    case PSCI_CPU_OFF:
        vcpu_power_off(v, f);
        break;
    case PSCI_AFFINITY_INFO:
    case PSCI_AFFINITY_INFO & ~SMCCC_64: {
        uint64_t mpidr = f->x[1];

        if (f->x[2] != 0 || (mpidr & 0xff00ffff00ull) || (mpidr & 0xff) >= p->nvcpus)
            f->x[0] = (uint64_t)PSCI_INVALID_PARAMS;
        else
            f->x[0] = p->vcpus[mpidr & 0xff].power == VCPU_ON ? 0 : 1;   /* ON : OFF */
        break;
    }
    case PSCI_SYSTEM_OFF:
        partition_self_stop(v, f, false);
        break;
    case PSCI_SYSTEM_RESET:
        partition_self_stop(v, f, true);
        break;
    default:
        f->x[0] = (uint64_t)PSCI_NOT_SUPPORTED;
        break;
    }
}

_Static_assert(DIRECT_DOORBELL_SGI + LAYOUT_MAX_CHANNELS <= 16, "a doorbell SGI per channel");
