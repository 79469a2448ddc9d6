/*
 * Virtual GICv2 distributor (ARM IHI 0048B): the GICD register model a partition's
 * trapped accesses reach, and the list-register traffic with the hardware's virtual CPU
 * interface. See vgic.h for the interface.
 *
 * Pending state handed to a list register leaves the distributor (the LR carries it
 * while the vCPU runs) and comes back at sync. So that the guest's view stays what a
 * real distributor would show, ISPENDR/SPENDSGIR reads include pending state that is
 * sitting in a list register (lr_pending / lr_sgi_pending), and clearing pending through
 * ICPENDR/CPENDSGIR also cancels that copy: sync then does not restore it.
 */
#include <string.h>

#include "gicv2.h"
#include "vgic.h"

/* GICD register offsets (IHI 0048B, 4.1.2). */
#define GICD_ID_END      0x1000

/* Implementer 0x43b (Arm's JEP106 code), product and revision 0. */
#define IIDR_VALUE       0x0000043bu

/* 32 priority levels: only the top five bits of each priority byte are implemented. */
#define PRIORITY_MASK    0xf8u

/* GICH_LRn fields (IHI 0048B, 5.3.9). */
#define LR_PHYS_SHIFT    10
#define LR_PRIO_SHIFT    23
#define LR_STATE_SHIFT   28
#define LR_HW            (1u << 31)
#define ST_PENDING       1u
#define ST_ACTIVE        2u

/*
 * Identification registers 0xfd0-0xffc: PIDR4-7, PIDR0-3, CIDR0-3. Arm as designer
 * (JEP106 0x3b, continuation code 4, JEDEC bit set), architecture revision 2 in
 * PIDR2[7:4], part number 0, and the CoreSight-style component ID 0xb105f00d.
 */
static const uint8_t id_regs[12] = {
    0x04, 0x00, 0x00, 0x00,
    0x00, 0xb0, 0x2b, 0x00,
    0x0d, 0xf0, 0x05, 0xb1,
};

static uint32_t all_vcpus(const struct vgic *g)
{
    return (1u << g->nvcpus) - 1;
}

/* intid's state as vcpu sees it: its own bank for SGIs and PPIs, the shared one else. */
static struct vgic_irq *irq_of(struct vgic *g, unsigned vcpu, unsigned intid)
{
    return intid < 32 ? &g->priv[vcpu][intid] : &g->spi[intid - 32];
}

_Static_assert(VGIC_NR_SPIS <= 64, "spi_live is one 64-bit word");

/* intid may have state now: the fill must look at it. */
static void mark_live(struct vgic *g, unsigned vcpu, unsigned intid)
{
    if (intid < 32)
        g->priv_live[vcpu] |= 1u << intid;
    else
        g->spi_live |= 1ull << (intid - 32);
}

/* The lowest vCPU in a mask that is not empty. */
static unsigned lowest_vcpu(uint32_t mask)
{
    return (unsigned)__builtin_ctz(mask);
}

/* Who may have something new after an SPI changed: wherever it could be delivered, and
 * wherever it is now (active or in an LR), so that vCPU refills. */
static uint32_t spi_kick(const struct vgic *g, const struct vgic_irq *irq)
{
    uint32_t mask = irq->targets;

    if (irq->active)
        mask |= 1u << irq->active_on;
    if (irq->in_lr)
        mask |= 1u << irq->lr_vcpu;
    return mask & all_vcpus(g);
}

static uint32_t kick_for(const struct vgic *g, unsigned vcpu, unsigned intid,
                         const struct vgic_irq *irq)
{
    return intid < 32 ? 1u << vcpu : spi_kick(g, irq);
}

void vgic_init(struct vgic *g, unsigned nvcpus)
{
    memset(g, 0, sizeof(*g));
    if (nvcpus < 1)
        nvcpus = 1;
    if (nvcpus > VGIC_MAX_VCPUS)
        nvcpus = VGIC_MAX_VCPUS;
    g->nvcpus = nvcpus;
    for (unsigned v = 0; v < nvcpus; v++)
        for (unsigned i = 0; i < 16; i++) {
            /* SGIs cannot be disabled in GICv2 and are always edge-triggered. */
            g->priv[v][i].enabled = true;
            g->priv[v][i].edge = true;
        }
    /* ITARGETSR resets to an UNKNOWN value; vCPU 0 lets a guest that never programs
     * it (a uniprocessor one) still receive its SPIs. */
    for (unsigned i = 0; i < VGIC_NR_SPIS; i++)
        g->spi[i].targets = 1;
}

/* ---- Bit-per-interrupt registers: ISENABLER .. ICACTIVER ---- */

enum bit_op { SET_ENABLE, CLR_ENABLE, SET_PEND, CLR_PEND, SET_ACT, CLR_ACT };

static bool read_bit(const struct vgic_irq *irq, unsigned intid, enum bit_op op)
{
    switch (op) {
    case SET_ENABLE:
    case CLR_ENABLE:
        return irq->enabled;
    case SET_PEND:
    case CLR_PEND:
        if (intid < 16)
            return (irq->sgi_sources | irq->lr_sgi_pending) != 0;
        return irq->pending || irq->lr_pending;
    case SET_ACT:
    case CLR_ACT:
        return irq->active;
    }
    return false;
}

/* Apply op to one interrupt; returns the vCPUs to kick. */
static uint32_t write_bit(struct vgic *g, unsigned vcpu, unsigned intid, enum bit_op op)
{
    struct vgic_irq *irq = irq_of(g, vcpu, intid);

    switch (op) {
    case SET_ENABLE:
        irq->enabled = true;
        break;
    case CLR_ENABLE:
        if (intid >= 16)   /* SGI enables are RAO/WI */
            irq->enabled = false;
        return 0;          /* disabling never gives anyone something new */
    case SET_PEND:
        if (intid < 16)    /* SGIs are made pending through SGIR/SPENDSGIR only */
            return 0;
        irq->pending = true;
        mark_live(g, vcpu, intid);
        break;
    case CLR_PEND:
        if (intid >= 16) {
            irq->pending = false;
            irq->lr_pending = false;
        }
        return 0;
    case SET_ACT:
        if (!irq->active) {
            /* The register names no source or vCPU: an SGI is taken as sent by the
             * accessor, an SPI as acknowledged by its first target (else the accessor). */
            irq->active_source = (uint8_t)vcpu;
            irq->active_on = (uint8_t)(irq->targets & all_vcpus(g) ?
                                       lowest_vcpu(irq->targets & all_vcpus(g)) : vcpu);
        }
        irq->active = true;
        mark_live(g, vcpu, intid);
        break;
    case CLR_ACT:
        /* Kick: pending state held back behind the active one becomes deliverable. */
        irq->active = false;
        break;
    }
    return kick_for(g, vcpu, intid, irq);
}

static uint32_t bit_reg(struct vgic *g, unsigned vcpu, unsigned n, enum bit_op op,
                        bool write, uint32_t *value)
{
    uint32_t kick = 0, v = 0;

    if (n >= VGIC_NR_IRQS / 32)
        return 0;
    for (unsigned i = 0; i < 32; i++) {
        unsigned intid = 32 * n + i;

        if (!write)
            v |= (uint32_t)read_bit(irq_of(g, vcpu, intid), intid, op) << i;
        else if (*value >> i & 1)
            kick |= write_bit(g, vcpu, intid, op);
    }
    if (!write)
        *value = v;
    return kick;
}

/* ---- Byte-accessible registers: IPRIORITYR, ITARGETSR, CPENDSGIR, SPENDSGIR ---- */

static uint32_t byte_reg(struct vgic *g, unsigned vcpu, uint32_t off, bool write, uint8_t *b)
{
    uint8_t in = *b;

    *b = 0;
    if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + VGIC_NR_IRQS) {
        unsigned intid = off - GICD_IPRIORITYR;
        struct vgic_irq *irq = irq_of(g, vcpu, intid);

        if (!write) {
            *b = irq->priority;
            return 0;
        }
        irq->priority = in & PRIORITY_MASK;
        return kick_for(g, vcpu, intid, irq);
    }
    if (off >= GICD_ITARGETSR && off < GICD_ITARGETSR + VGIC_NR_IRQS) {
        unsigned intid = off - GICD_ITARGETSR;
        struct vgic_irq *irq;
        uint32_t kick;

        /* SGIs and PPIs: read-only, each reads as the accessing CPU's own bit. */
        if (intid < 32) {
            if (!write)
                *b = (uint8_t)(1u << vcpu);
            return 0;
        }
        irq = irq_of(g, vcpu, intid);
        if (!write) {
            *b = irq->targets;
            return 0;
        }
        kick = spi_kick(g, irq);
        irq->targets = in & (uint8_t)all_vcpus(g);
        return kick | spi_kick(g, irq);
    }
    if (off >= GICD_CPENDSGIR && off < GICD_SPENDSGIR + 16) {
        bool set = off >= GICD_SPENDSGIR;
        struct vgic_irq *irq = &g->priv[vcpu][(off - GICD_CPENDSGIR) % 16];
        uint8_t src = in & (uint8_t)all_vcpus(g);

        if (!write) {
            *b = irq->sgi_sources | irq->lr_sgi_pending;
            return 0;
        }
        if (!set) {
            irq->sgi_sources &= (uint8_t)~src;
            irq->lr_sgi_pending &= (uint8_t)~src;
            return 0;
        }
        irq->sgi_sources |= src;
        mark_live(g, vcpu, (off - GICD_CPENDSGIR) % 16);
        return src ? 1u << vcpu : 0;
    }
    return 0;   /* reserved or beyond VGIC_NR_IRQS: RAZ/WI */
}

static bool byte_accessible(uint32_t off)
{
    return (off >= GICD_IPRIORITYR && off < GICD_ICFGR) ||
           (off >= GICD_CPENDSGIR && off < GICD_SPENDSGIR + 16);
}

/* ---- Word-only registers ---- */

static uint32_t sgir_write(struct vgic *g, unsigned vcpu, uint32_t v)
{
    uint32_t targets;
    unsigned sgi = v & 0xf;

    switch (v >> 24 & 3) {
    case 0:
        targets = v >> 16 & 0xff;
        break;
    case 1:
        targets = all_vcpus(g) & ~(1u << vcpu);
        break;
    case 2:
        targets = 1u << vcpu;
        break;
    default:
        return 0;   /* reserved filter: the write has no effect */
    }
    targets &= all_vcpus(g);
    for (unsigned t = 0; t < g->nvcpus; t++)
        if (targets >> t & 1) {
            g->priv[t][sgi].sgi_sources |= (uint8_t)(1u << vcpu);
            mark_live(g, t, sgi);
        }
    return targets;
}

/* ICFGR: two bits per interrupt, bit 1 of the pair set for edge-triggered. SGIs are
 * fixed edge, PPIs fixed level (read-only: both IMPLEMENTATION DEFINED choices), SPIs
 * writable. Bit 0 of each pair is reserved in GICv2. */
static uint32_t icfgr(struct vgic *g, unsigned vcpu, unsigned n, bool write, uint32_t *value)
{
    uint32_t v = 0;

    if (n >= VGIC_NR_IRQS / 16)
        return 0;
    for (unsigned i = 0; i < 16; i++) {
        unsigned intid = 16 * n + i;
        struct vgic_irq *irq = irq_of(g, vcpu, intid);

        if (!write)
            v |= (uint32_t)irq->edge << (2 * i + 1);
        else if (intid >= 32)
            irq->edge = *value >> (2 * i + 1) & 1;
    }
    if (!write)
        *value = v;
    return 0;
}

static uint32_t word_reg(struct vgic *g, unsigned vcpu, uint32_t off, bool write,
                         uint32_t *value)
{
    static const struct { uint32_t base; enum bit_op op; } bit_regs[] = {
        { GICD_ISENABLER, SET_ENABLE }, { GICD_ICENABLER, CLR_ENABLE },
        { GICD_ISPENDR, SET_PEND },     { GICD_ICPENDR, CLR_PEND },
        { GICD_ISACTIVER, SET_ACT },    { GICD_ICACTIVER, CLR_ACT },
    };

    for (unsigned i = 0; i < sizeof(bit_regs) / sizeof(bit_regs[0]); i++)
        if (off >= bit_regs[i].base && off < bit_regs[i].base + 0x80)
            return bit_reg(g, vcpu, (off - bit_regs[i].base) / 4, bit_regs[i].op,
                           write, value);
    if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100)
        return icfgr(g, vcpu, (off - GICD_ICFGR) / 4, write, value);
    if (off >= GICD_PIDR4) {
        if (!write)
            *value = id_regs[(off - GICD_PIDR4) / 4];
        return 0;
    }

    switch (off) {
    case GICD_CTLR:
        if (!write) {
            *value = g->enabled;
        } else if (g->enabled != (*value & 1)) {
            g->enabled = *value & 1;
            return all_vcpus(g);
        }
        return 0;
    case GICD_TYPER:
        if (!write)
            *value = (g->nvcpus - 1) << 5 | (VGIC_NR_IRQS / 32 - 1);
        return 0;
    case GICD_IIDR:
        if (!write)
            *value = IIDR_VALUE;
        return 0;
    case GICD_SGIR:
        return write ? sgir_write(g, vcpu, *value) : 0;
    }
    if (!write)
        *value = 0;   /* IGROUPR and everything reserved: RAZ/WI */
    return 0;
}

uint32_t vgic_dist_access(struct vgic *g, unsigned vcpu, uint32_t offset, unsigned size,
                          bool write, uint32_t *value)
{
    uint32_t kick = 0, v = write ? *value : 0;

    if (!write)
        *value = 0;
    /* GICv2 supports no halfword accesses, and word accesses must be aligned. */
    if (vcpu >= g->nvcpus || offset >= GICD_ID_END || (size != 1 && size != 4) ||
        (offset & (size - 1)))
        return 0;

    if (byte_accessible(offset)) {
        uint32_t out = 0;

        for (unsigned i = 0; i < size; i++) {
            uint8_t b = (uint8_t)(v >> (8 * i));

            kick |= byte_reg(g, vcpu, offset + i, write, &b);
            out |= (uint32_t)b << (8 * i);
        }
        if (!write)
            *value = out;
        return kick;
    }
    if (size != 4)
        return 0;   /* word-only register */
    return word_reg(g, vcpu, offset, write, value);
}

uint32_t vgic_raise(struct vgic *g, unsigned vcpu, unsigned intid)
{
    struct vgic_irq *irq;

    if (intid >= VGIC_NR_IRQS || (intid < 32 && vcpu >= g->nvcpus))
        return 0;
    if (intid >= 32)
        vcpu = 0;   /* unused for SPIs; keeps irq_of in bounds */
    irq = irq_of(g, vcpu, intid);
    /* An SGI raised from outside has no sending vCPU: it counts as sent to itself. */
    if (intid < 16)
        irq->sgi_sources |= (uint8_t)(1u << vcpu);
    else
        irq->pending = true;
    mark_live(g, vcpu, intid);
    return kick_for(g, vcpu, intid, irq);
}

void vgic_link_hw(struct vgic *g, unsigned vcpu, unsigned intid, unsigned hw_intid)
{
    struct vgic_irq *irq;

    /* SGIs have no physical counterpart to deactivate; PhysicalID is 10 bits. */
    if (intid < 16 || intid >= VGIC_NR_IRQS || hw_intid >= 1024 ||
        (intid < 32 && vcpu >= g->nvcpus))
        return;
    irq = irq_of(g, intid < 32 ? vcpu : 0, intid);
    irq->hw = true;
    irq->hw_intid = (uint16_t)hw_intid;
}

/* ---- List registers ---- */

/* One list register's worth: an interrupt (an SGI from one source) and its state. */
struct cand {
    struct vgic_irq *irq;
    uint16_t intid;
    uint8_t source;
    uint8_t state;
    uint8_t priority;
};

#define MAX_CANDS (16 * VGIC_MAX_VCPUS + 16 + VGIC_NR_SPIS)

/* What vcpu should see of SPI irq: ST_PENDING and/or ST_ACTIVE, or 0. One list register
 * at a time, system-wide, may hold a given SPI; an active one (or active and pending)
 * stays with the vCPU that took it; a pending one goes to the lowest targeted vCPU. */
static inline __attribute__((always_inline)) unsigned spi_state(const struct vgic *g,
                                                                const struct vgic_irq *irq,
                                                                unsigned vcpu)
{
    bool pend = g->enabled && irq->enabled && irq->pending;
    uint32_t targets = irq->targets & all_vcpus(g);

    if (irq->in_lr && irq->lr_vcpu != vcpu)
        return 0;
    if (irq->active)
        return irq->active_on == vcpu ? ST_ACTIVE | (pend ? ST_PENDING : 0) : 0;
    return pend && targets && lowest_vcpu(targets) == vcpu ? ST_PENDING : 0;
}

/*
 * Everything vcpu should see in its list registers, in no particular order. On the way
 * it forgets the live marks of interrupts (vcpu's own and the SPIs) that have no state
 * left, so the next look skips them.
 */
static unsigned collect(struct vgic *g, unsigned vcpu, struct cand *c)
{
    unsigned n = 0;

    for (uint32_t live = g->priv_live[vcpu]; live; live &= live - 1) {
        unsigned intid = (unsigned)__builtin_ctz(live);
        struct vgic_irq *irq = &g->priv[vcpu][intid];
        bool deliver = g->enabled && irq->enabled;

        if (!irq->pending && !irq->sgi_sources && !irq->active) {
            g->priv_live[vcpu] &= ~(1u << intid);
            continue;
        }
        if (intid < 16) {
            /* One candidate per source: pending from it, or active from it. */
            uint32_t pend = deliver ? irq->sgi_sources : 0;
            uint32_t act = irq->active ? 1u << irq->active_source : 0;

            for (uint32_t srcs = (pend | act) & all_vcpus(g); srcs; srcs &= srcs - 1) {
                unsigned src = (unsigned)__builtin_ctz(srcs);

                c[n++] = (struct cand){ irq, (uint16_t)intid, (uint8_t)src,
                                        (uint8_t)((pend >> src & 1) * ST_PENDING |
                                                  (act >> src & 1) * ST_ACTIVE),
                                        irq->priority };
            }
        } else {
            unsigned st = (deliver && irq->pending ? ST_PENDING : 0) |
                          (irq->active ? ST_ACTIVE : 0);

            if (st)
                c[n++] = (struct cand){ irq, (uint16_t)intid, 0, (uint8_t)st, irq->priority };
        }
    }
    for (uint64_t live = g->spi_live; live; live &= live - 1) {
        unsigned i = (unsigned)__builtin_ctzll(live);
        struct vgic_irq *irq = &g->spi[i];
        unsigned st;

        if (!irq->pending && !irq->active) {
            g->spi_live &= ~(1ull << i);
            continue;
        }
        st = spi_state(g, irq, vcpu);
        if (st)
            c[n++] = (struct cand){ irq, (uint16_t)(32 + i), 0, (uint8_t)st, irq->priority };
    }
    return n;
}

/* Active ones first (they must be there for the guest to complete them), then by
 * priority value, INTID and source. */
static bool before(const struct cand *a, const struct cand *b)
{
    bool aa = a->state & ST_ACTIVE, ba = b->state & ST_ACTIVE;

    if (aa != ba)
        return aa;
    if (a->priority != b->priority)
        return a->priority < b->priority;
    if (a->intid != b->intid)
        return a->intid < b->intid;
    return a->source < b->source;
}

static uint32_t encode(const struct cand *c)
{
    uint32_t lr = c->intid | (uint32_t)(c->priority >> 3) << LR_PRIO_SHIFT |
                  (uint32_t)c->state << LR_STATE_SHIFT;

    if (c->irq->hw)
        lr |= LR_HW | (uint32_t)c->irq->hw_intid << LR_PHYS_SHIFT;
    else if (c->intid < 16)
        lr |= (uint32_t)c->source << LR_PHYS_SHIFT;   /* CPUID */
    return lr;
}

/* Take back the state of the count list registers last filled for vcpu; lrs holds
 * what they contain now (entries past nlrs are taken as unchanged). */
static unsigned give_back(struct vgic *g, unsigned vcpu, const uint32_t *lrs, unsigned nlrs)
{
    const uint32_t *shadow = g->lr_shadow[vcpu];
    unsigned count = g->lr_count[vcpu], taken = 0;
    bool keep_pending[VGIC_MAX_LRS];
    struct vgic_irq *irqs[VGIC_MAX_LRS];

    /* First forget what each LR was given, then apply what it holds now: an SGI may sit
     * in several LRs (one per source), and only the final state of each counts. */
    for (unsigned i = 0; i < count; i++) {
        unsigned intid = shadow[i] & 0x3ff, src = shadow[i] >> LR_PHYS_SHIFT & 7;
        struct vgic_irq *irq = irqs[i] = irq_of(g, vcpu, intid);

        if (intid < 16) {
            keep_pending[i] = irq->lr_sgi_pending >> src & 1;
            irq->lr_sgi_pending &= (uint8_t)~(1u << src);
            if (irq->active && irq->active_source == src)
                irq->active = false;
        } else {
            keep_pending[i] = irq->lr_pending;
            irq->lr_pending = false;
            irq->active = false;
            irq->in_lr = false;
        }
    }
    for (unsigned i = 0; i < count; i++) {
        unsigned intid = shadow[i] & 0x3ff, src = shadow[i] >> LR_PHYS_SHIFT & 7;
        unsigned st = (i < nlrs ? lrs[i] : shadow[i]) >> LR_STATE_SHIFT & 3;
        struct vgic_irq *irq = irqs[i];

        /* Given pending, no longer pending: the vCPU acknowledged it. */
        if ((shadow[i] >> LR_STATE_SHIFT & ST_PENDING) && !(st & ST_PENDING))
            taken++;

        /* OR-ed in: a raise while it sat in the LR has already set it again. */
        if ((st & ST_PENDING) && keep_pending[i]) {
            if (intid < 16)
                irq->sgi_sources |= (uint8_t)(1u << src);
            else
                irq->pending = true;
        }
        if (st & ST_ACTIVE) {
            irq->active = true;
            irq->active_source = (uint8_t)src;
            irq->active_on = (uint8_t)vcpu;
        }
        /* State left (given back now, or raised meanwhile): the next fill must look at
         * it. Without, it need not (a later LR of the same SGI that still holds state
         * marks it again). */
        if (irq->pending || irq->sgi_sources || irq->active)
            mark_live(g, vcpu, intid);
        else if (intid < 32)
            g->priv_live[vcpu] &= ~(1u << intid);
        else
            g->spi_live &= ~(1ull << (intid - 32));
    }
    g->lr_count[vcpu] = 0;
    return taken;
}

bool vgic_fill_lrs(struct vgic *g, unsigned vcpu, uint32_t *lrs, unsigned nlrs)
{
    struct cand c[MAX_CANDS];
    unsigned n, used, cap = nlrs < VGIC_MAX_LRS ? nlrs : VGIC_MAX_LRS;

    if (vcpu >= g->nvcpus) {
        for (unsigned i = 0; i < nlrs; i++)
            lrs[i] = 0;
        return false;
    }
    /* A fill not preceded by a sync: the LRs still hold what was last written. */
    if (g->lr_count[vcpu])
        give_back(g, vcpu, g->lr_shadow[vcpu], g->lr_count[vcpu]);

    n = collect(g, vcpu, c);
    for (unsigned i = 1; i < n; i++) {
        struct cand t = c[i];
        unsigned j = i;

        for (; j > 0 && before(&t, &c[j - 1]); j--)
            c[j] = c[j - 1];
        c[j] = t;
    }

    used = n < cap ? n : cap;
    for (unsigned i = 0; i < used; i++) {
        struct vgic_irq *irq = c[i].irq;

        lrs[i] = g->lr_shadow[vcpu][i] = encode(&c[i]);
        /* The pending state moves into the LR; sync brings it back if still there. */
        if (c[i].state & ST_PENDING) {
            if (c[i].intid < 16) {
                irq->sgi_sources &= (uint8_t)~(1u << c[i].source);
                irq->lr_sgi_pending |= (uint8_t)(1u << c[i].source);
            } else {
                irq->pending = false;
                irq->lr_pending = true;
            }
        }
        if (c[i].intid >= 32) {
            irq->in_lr = true;
            irq->lr_vcpu = (uint8_t)vcpu;
        }
    }
    for (unsigned i = used; i < nlrs; i++)
        lrs[i] = 0;
    g->lr_count[vcpu] = (uint8_t)used;
    return n > used;
}

unsigned vgic_sync_lrs(struct vgic *g, unsigned vcpu, const uint32_t *lrs, unsigned nlrs)
{
    return vcpu < g->nvcpus ? give_back(g, vcpu, lrs, nlrs) : 0;
}

bool vgic_has_pending(const struct vgic *g, unsigned vcpu)
{
    if (vcpu >= g->nvcpus || !g->enabled || (!g->priv_live[vcpu] && !g->spi_live))
        return false;
    for (uint32_t live = g->priv_live[vcpu]; live; live &= live - 1) {
        unsigned intid = (unsigned)__builtin_ctz(live);
        const struct vgic_irq *irq = &g->priv[vcpu][intid];

        if (irq->enabled && (intid < 16 ? irq->sgi_sources & all_vcpus(g) : irq->pending))
            return true;
    }
    for (uint64_t live = g->spi_live; live; live &= live - 1) {
        const struct vgic_irq *irq = &g->spi[__builtin_ctzll(live)];

        if (spi_state(g, irq, vcpu) & ST_PENDING)
            return true;
    }
    return false;
}
