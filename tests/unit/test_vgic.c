/*
 * Unit tests for the virtual GICv2 distributor (hyp/core/vgic.c): identification and
 * control registers, the bit-per-interrupt registers, priorities, targets and
 * configuration, SGI generation, the list-register round trip (fill, what the guest did,
 * sync) and the vCPU bitmaps the model returns so the caller can kick.
 *
 * Offsets and encodings are written out from the GICv2 architecture specification
 * (ARM IHI 0048B) rather than taken from vgic.c, so a mistake there cannot hide behind
 * a shared constant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vgic.h"

static struct vgic g;

static uint32_t rd(unsigned vcpu, uint32_t off)
{
    uint32_t v = 0xdeadbeef;

    vgic_dist_access(&g, vcpu, off, 4, false, &v);
    return v;
}

static uint32_t rdb(unsigned vcpu, uint32_t off)
{
    uint32_t v = 0xdeadbeef;

    vgic_dist_access(&g, vcpu, off, 1, false, &v);
    return v;
}

static uint32_t wr(unsigned vcpu, uint32_t off, uint32_t v)
{
    return vgic_dist_access(&g, vcpu, off, 4, true, &v);
}

static uint32_t wrb(unsigned vcpu, uint32_t off, uint32_t v)
{
    return vgic_dist_access(&g, vcpu, off, 1, true, &v);
}

/* GICH_LRn fields. */
static unsigned lr_id(uint32_t lr)    { return lr & 0x3ff; }
static unsigned lr_cpuid(uint32_t lr) { return lr >> 10 & 7; }
static unsigned lr_phys(uint32_t lr)  { return lr >> 10 & 0x3ff; }
static unsigned lr_prio(uint32_t lr)  { return lr >> 23 & 0x1f; }
static unsigned lr_state(uint32_t lr) { return lr >> 28 & 3; }
static bool lr_hw(uint32_t lr)        { return lr >> 31; }

static bool is_pending(unsigned vcpu, unsigned intid)
{
    return rd(vcpu, 0x200 + 4 * (intid / 32)) >> (intid % 32) & 1;
}

static bool is_active(unsigned vcpu, unsigned intid)
{
    return rd(vcpu, 0x300 + 4 * (intid / 32)) >> (intid % 32) & 1;
}

static void enable(unsigned vcpu, unsigned intid)
{
    wr(vcpu, 0x100 + 4 * (intid / 32), 1u << (intid % 32));
}

/* Distributor on, SPIs 32-95 enabled; the usual starting point. */
static void setup_on(unsigned nvcpus)
{
    vgic_init(&g, nvcpus);
    wr(0, 0x000, 1);
    wr(0, 0x104, 0xffffffff);
    wr(0, 0x108, 0xffffffff);
}

/* Sync with the LR states set as given (the guest acknowledged/completed them). */
static void sync_states(unsigned vcpu, uint32_t *lrs, unsigned n, const unsigned *states)
{
    for (unsigned i = 0; i < n; i++)
        lrs[i] = (lrs[i] & ~(3u << 28)) | states[i] << 28;
    vgic_sync_lrs(&g, vcpu, lrs, n);
}

static void test_id_and_ctlr(void **state)
{
    (void)state;
    vgic_init(&g, 4);
    assert_int_equal(rd(0, 0x004), 3u << 5 | 2);   /* CPUNumber 3, ITLinesNumber 2 */
    assert_int_equal(rd(0, 0x008), 0x0000043b);
    assert_int_equal(rd(0, 0xfe8) >> 4 & 0xf, 2);  /* ArchRev: GICv2 */
    assert_int_equal(rd(0, 0xfe8) & 0xf, 0xb);     /* JEDEC, Arm JEP106 [6:4] */
    assert_int_equal(rd(0, 0xfe4) >> 4, 0xb);      /* Arm JEP106 [3:0] */
    assert_int_equal(rd(0, 0xff0), 0x0d);
    assert_int_equal(rd(0, 0xff4), 0xf0);
    assert_int_equal(rd(0, 0xff8), 0x05);
    assert_int_equal(rd(0, 0xffc), 0xb1);

    /* IGROUPR: RAZ/WI. */
    wr(0, 0x080, 0xffffffff);
    assert_int_equal(rd(0, 0x080), 0);

    /* CTLR: bit 0 only; a change kicks everyone, a rewrite nobody. */
    assert_int_equal(rd(0, 0x000), 0);
    assert_int_equal(wr(1, 0x000, 3), 0xf);
    assert_int_equal(rd(0, 0x000), 1);
    assert_int_equal(wr(1, 0x000, 1), 0);
    assert_int_equal(wr(1, 0x000, 0), 0xf);
    /* TYPER is read-only. */
    wr(0, 0x004, 0);
    assert_int_equal(rd(0, 0x004), 3u << 5 | 2);
}

static void test_enable_registers(void **state)
{
    uint32_t lrs[4];

    (void)state;
    vgic_init(&g, 2);
    /* SGIs read as enabled and cannot be disabled. */
    assert_int_equal(rd(0, 0x100), 0x0000ffff);
    wr(0, 0x180, 0xffffffff);
    assert_int_equal(rd(0, 0x100), 0x0000ffff);
    assert_int_equal(rd(0, 0x180), 0x0000ffff);

    /* PPI 27 on vCPU 1 only: the register is banked. */
    wr(1, 0x100, 1u << 27);
    assert_int_equal(rd(1, 0x100), 0x0800ffff);
    assert_int_equal(rd(0, 0x100), 0x0000ffff);

    /* SPI 37: set, read through both, clear. */
    wr(0, 0x104, 1u << 5);
    assert_int_equal(rd(1, 0x104), 1u << 5);
    assert_int_equal(rd(1, 0x184), 1u << 5);
    wr(1, 0x184, 1u << 5);
    assert_int_equal(rd(0, 0x104), 0);

    /* Distributor disabled: a pending enabled SPI is not handed over. */
    wr(0, 0x104, 1u << 5);
    vgic_raise(&g, 0, 37);
    assert_false(vgic_fill_lrs(&g, 0, lrs, 4));
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(lrs[i], 0);
    assert_false(vgic_has_pending(&g, 0));
    vgic_sync_lrs(&g, 0, lrs, 4);
    wr(0, 0x000, 1);
    assert_true(vgic_has_pending(&g, 0));
    vgic_fill_lrs(&g, 0, lrs, 4);
    assert_int_equal(lr_id(lrs[0]), 37);
    assert_int_equal(lr_state(lrs[0]), 1);
    /* Still pending in its LR: not acknowledged, so not counted as taken. */
    assert_int_equal(vgic_sync_lrs(&g, 0, lrs, 4), 0);
    vgic_fill_lrs(&g, 0, lrs, 4);
    lrs[0] = (lrs[0] & ~(3u << 28)) | 2u << 28;   /* the guest acknowledged it: active */
    assert_int_equal(vgic_sync_lrs(&g, 0, lrs, 4), 1);
    vgic_fill_lrs(&g, 0, lrs, 4);
    assert_int_equal(lr_state(lrs[0]), 2);
    lrs[0] &= ~(3u << 28);                        /* and completed it */
    assert_int_equal(vgic_sync_lrs(&g, 0, lrs, 4), 0);
    vgic_raise(&g, 0, 37);

    /* A disabled pending interrupt stays in the distributor. */
    vgic_raise(&g, 0, 40);
    wr(0, 0x184, 1u << 8);
    vgic_fill_lrs(&g, 0, lrs, 4);
    assert_int_equal(lr_id(lrs[0]), 37);
    assert_int_equal(lrs[1], 0);
    assert_true(is_pending(0, 40));
}

static void test_priority(void **state)
{
    (void)state;
    vgic_init(&g, 2);
    wrb(0, 0x400 + 40, 0xff);
    assert_int_equal(rdb(0, 0x400 + 40), 0xf8);
    assert_int_equal(rd(0, 0x428), 0x000000f8);

    wr(0, 0x42c, 0x12345678);   /* 44-47 */
    assert_int_equal(rd(0, 0x42c), 0x10305078);
    assert_int_equal(rdb(0, 0x42d), 0x50);
    assert_int_equal(rdb(1, 0x42f), 0x10);   /* SPIs are shared */

    /* SGI/PPI priorities are banked. */
    wrb(1, 0x400 + 27, 0x80);
    assert_int_equal(rdb(1, 0x400 + 27), 0x80);
    assert_int_equal(rdb(0, 0x400 + 27), 0);

    /* Halfword accesses are not supported: RAZ/WI. */
    {
        uint32_t v = 0xffff;

        vgic_dist_access(&g, 0, 0x430, 2, true, &v);
        v = 0x1234;
        vgic_dist_access(&g, 0, 0x42c, 2, false, &v);
        assert_int_equal(v, 0);
    }
    assert_int_equal(rd(0, 0x430), 0);

    /* Beyond interrupt 95. */
    wrb(0, 0x400 + 96, 0x80);
    assert_int_equal(rdb(0, 0x400 + 96), 0);
    assert_int_equal(rd(0, 0x460), 0);
}

static void test_pending_active_cycle(void **state)
{
    uint32_t lrs[4];
    static const unsigned acked[4] = { 2 }, done[4] = { 0 }, still[4] = { 1 };

    (void)state;
    setup_on(2);
    wrb(0, 0x400 + 40, 0xa0);
    assert_int_equal(vgic_raise(&g, 0, 40), 1);   /* routed to vCPU 0 by default */
    assert_true(is_pending(0, 40));
    assert_true(vgic_has_pending(&g, 0));
    assert_false(vgic_has_pending(&g, 1));

    assert_false(vgic_fill_lrs(&g, 0, lrs, 4));
    assert_int_equal(lr_id(lrs[0]), 40);
    assert_int_equal(lr_state(lrs[0]), 1);
    assert_int_equal(lr_prio(lrs[0]), 0xa0 >> 3);
    assert_false(lr_hw(lrs[0]));
    assert_int_equal(lrs[1], 0);
    /* Handed over, yet the guest's view still shows it pending. */
    assert_true(is_pending(1, 40));

    /* The guest acknowledged it. */
    sync_states(0, lrs, 4, acked);
    assert_false(is_pending(0, 40));
    assert_true(is_active(0, 40));
    assert_false(vgic_has_pending(&g, 0));

    /* Raised again while active: active and pending together. */
    vgic_raise(&g, 0, 40);
    assert_true(vgic_has_pending(&g, 0));
    vgic_fill_lrs(&g, 0, lrs, 4);
    assert_int_equal(lr_id(lrs[0]), 40);
    assert_int_equal(lr_state(lrs[0]), 3);
    assert_int_equal(lrs[1], 0);

    /* Completed (and the second one taken and completed too). */
    sync_states(0, lrs, 4, done);
    assert_false(is_pending(0, 40));
    assert_false(is_active(0, 40));
    vgic_fill_lrs(&g, 0, lrs, 4);
    assert_int_equal(lrs[0], 0);
    vgic_sync_lrs(&g, 0, lrs, 4);

    /* Edge raised again while still pending in the LR: sync keeps it pending once. */
    vgic_raise(&g, 0, 40);
    vgic_fill_lrs(&g, 0, lrs, 4);
    vgic_raise(&g, 0, 40);
    sync_states(0, lrs, 4, acked);
    assert_true(is_pending(0, 40));
    assert_true(is_active(0, 40));

    /* ICPENDR cancels pending state that sits in an LR. */
    wr(0, 0x384, 1u << 8);
    vgic_fill_lrs(&g, 0, lrs, 4);
    assert_int_equal(lr_state(lrs[0]), 1);
    wr(1, 0x284, 1u << 8);
    assert_false(is_pending(0, 40));
    sync_states(0, lrs, 4, still);
    assert_false(is_pending(0, 40));
    assert_false(vgic_has_pending(&g, 0));
}

static void test_fill_order_and_overflow(void **state)
{
    uint32_t lrs[4];
    static const unsigned all_done[4] = { 0, 0, 0, 0 };
    /* SPIs and their priorities: expected order 50 (0x10), 33 (0x20), 45 (0x20),
     * 60 (0x40), then 70 (0x80), 34 (0xf0). */
    static const unsigned ids[6] = { 34, 45, 33, 70, 60, 50 };
    static const unsigned prio[6] = { 0xf0, 0x20, 0x20, 0x80, 0x40, 0x10 };

    (void)state;
    setup_on(1);
    for (unsigned i = 0; i < 6; i++) {
        wrb(0, 0x400 + ids[i], prio[i]);
        vgic_raise(&g, 0, ids[i]);
    }
    assert_true(vgic_fill_lrs(&g, 0, lrs, 4));
    assert_int_equal(lr_id(lrs[0]), 50);
    assert_int_equal(lr_id(lrs[1]), 33);
    assert_int_equal(lr_id(lrs[2]), 45);
    assert_int_equal(lr_id(lrs[3]), 60);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(lr_state(lrs[i]), 1);
    assert_true(is_pending(0, 70));

    sync_states(0, lrs, 4, all_done);
    assert_false(vgic_fill_lrs(&g, 0, lrs, 4));
    assert_int_equal(lr_id(lrs[0]), 70);
    assert_int_equal(lr_id(lrs[1]), 34);
    assert_int_equal(lrs[2], 0);
    assert_int_equal(lrs[3], 0);
    sync_states(0, lrs, 4, all_done);

    /* Active interrupts always go in, ahead of higher-priority pending ones. */
    {
        static const unsigned acked[4] = { 2 };
        uint32_t one[1];

        vgic_raise(&g, 0, 70);
        vgic_fill_lrs(&g, 0, lrs, 4);
        sync_states(0, lrs, 4, acked);
        vgic_raise(&g, 0, 50);
        assert_true(vgic_fill_lrs(&g, 0, one, 1));
        assert_int_equal(lr_id(one[0]), 70);
        assert_int_equal(lr_state(one[0]), 2);
        vgic_sync_lrs(&g, 0, one, 1);
        assert_true(is_active(0, 70));
        assert_true(is_pending(0, 50));
    }
}

static void test_sgir(void **state)
{
    uint32_t lrs[4];
    static const unsigned none[4] = { 0, 0, 0, 0 };   /* taken and completed */

    (void)state;
    setup_on(4);

    /* Filter 0: the list, masked to existing vCPUs. */
    assert_int_equal(wr(1, 0xf00, 0x00 << 24 | 0xfc << 16 | 3), 0xc);
    for (unsigned v = 2; v < 4; v++) {
        vgic_fill_lrs(&g, v, lrs, 4);
        assert_int_equal(lr_id(lrs[0]), 3);
        assert_int_equal(lr_cpuid(lrs[0]), 1);
        assert_int_equal(lr_state(lrs[0]), 1);
        assert_int_equal(lrs[1], 0);
        sync_states(v, lrs, 4, none);
    }
    assert_false(vgic_has_pending(&g, 0));
    assert_false(vgic_has_pending(&g, 1));

    /* Filter 1: everyone but the sender. */
    assert_int_equal(wr(0, 0xf00, 0x01 << 24 | 5), 0xe);
    assert_false(vgic_has_pending(&g, 0));
    for (unsigned v = 1; v < 4; v++) {
        vgic_fill_lrs(&g, v, lrs, 4);
        assert_int_equal(lr_id(lrs[0]), 5);
        assert_int_equal(lr_cpuid(lrs[0]), 0);
        assert_int_equal(lrs[1], 0);
        sync_states(v, lrs, 4, none);
    }

    /* Filter 2: the sender itself. */
    assert_int_equal(wr(3, 0xf00, 0x02 << 24 | 0xff << 16 | 7), 0x8);
    vgic_fill_lrs(&g, 3, lrs, 4);
    assert_int_equal(lr_id(lrs[0]), 7);
    assert_int_equal(lr_cpuid(lrs[0]), 3);
    sync_states(3, lrs, 4, none);

    /* Filter 3 is reserved; SGIR is write-only; byte writes are ignored. */
    assert_int_equal(wr(0, 0xf00, 0x03 << 24 | 0xff << 16 | 1), 0);
    assert_int_equal(rd(0, 0xf00), 0);
    assert_int_equal(wrb(0, 0xf00, 1), 0);
    for (unsigned v = 0; v < 4; v++)
        assert_false(vgic_has_pending(&g, v));

    /* Two sources of one SGI: one LR each, CPUID telling them apart. */
    wr(0, 0xf00, 1u << 18 | 9);
    wr(1, 0xf00, 1u << 18 | 9);
    assert_true(is_pending(2, 9));
    vgic_fill_lrs(&g, 2, lrs, 4);
    assert_int_equal(lr_id(lrs[0]), 9);
    assert_int_equal(lr_cpuid(lrs[0]), 0);
    assert_int_equal(lr_id(lrs[1]), 9);
    assert_int_equal(lr_cpuid(lrs[1]), 1);

    /* Source 0's taken; source 0 sends again: active and pending in one LR. Source 1's
     * is still pending in its own LR. */
    sync_states(2, lrs, 2, (const unsigned[]){ 2, 1 });
    assert_true(is_active(2, 9));
    wr(0, 0xf00, 1u << 18 | 9);
    vgic_fill_lrs(&g, 2, lrs, 4);
    assert_int_equal(lr_cpuid(lrs[0]), 0);
    assert_int_equal(lr_state(lrs[0]), 3);
    assert_int_equal(lr_cpuid(lrs[1]), 1);
    assert_int_equal(lr_state(lrs[1]), 1);
    assert_int_equal(lrs[2], 0);
    sync_states(2, lrs, 4, (const unsigned[]){ 0, 0, 0, 0 });
    assert_false(is_active(2, 9));
    assert_false(is_pending(2, 9));
}

static void test_sgi_pending_registers(void **state)
{
    uint32_t lrs[4];

    (void)state;
    setup_on(4);
    /* SPENDSGIR byte for SGI 2: sources 0 and 2. */
    assert_int_equal(wrb(1, 0xf22, 0x05), 0x2);
    assert_int_equal(rdb(1, 0xf22), 0x05);
    assert_int_equal(rd(1, 0xf20), 0x00050000);
    assert_int_equal(rd(1, 0xf10), 0x00050000);   /* CPENDSGIR reads the same */
    assert_int_equal(rd(0, 0xf20), 0);            /* banked */
    assert_true(is_pending(1, 2));
    /* Sources beyond the existing vCPUs are dropped. */
    wrb(1, 0xf23, 0xf0);
    assert_int_equal(rdb(1, 0xf23), 0);

    /* CPENDSGIR clears source 0 only. */
    wrb(1, 0xf12, 0x01);
    assert_int_equal(rdb(1, 0xf22), 0x04);

    /* ISPENDR/ICPENDR writes to SGI bits are ignored. */
    wr(1, 0x200, 0x0000ffff);
    assert_int_equal(rd(1, 0x200), 1u << 2);
    wr(1, 0x280, 0x0000ffff);
    assert_int_equal(rd(1, 0x200), 1u << 2);

    vgic_fill_lrs(&g, 1, lrs, 4);
    assert_int_equal(lr_id(lrs[0]), 2);
    assert_int_equal(lr_cpuid(lrs[0]), 2);
    assert_int_equal(lrs[1], 0);
    /* In the LR: still visible, and clearing it cancels the LR's copy. */
    assert_int_equal(rdb(1, 0xf22), 0x04);
    wrb(1, 0xf12, 0x04);
    assert_int_equal(rdb(1, 0xf22), 0);
    vgic_sync_lrs(&g, 1, lrs, 4);
    assert_false(is_pending(1, 2));
}

static void test_itargetsr(void **state)
{
    uint32_t lrs[4];

    (void)state;
    setup_on(3);
    /* 0-31: the accessor's own bit in every byte, read-only. */
    assert_int_equal(rd(2, 0x800), 0x04040404);
    assert_int_equal(rd(0, 0x81c), 0x01010101);
    assert_int_equal(rdb(1, 0x813), 0x02);
    wr(0, 0x800, 0);
    assert_int_equal(rd(1, 0x800), 0x02020202);

    /* SPI 33 to vCPU 2; masked to existing vCPUs. */
    wrb(0, 0x821, 0xfc);
    assert_int_equal(rdb(0, 0x821), 0x04);
    assert_int_equal(vgic_raise(&g, 0, 33), 0x4);
    vgic_fill_lrs(&g, 0, lrs, 4);
    assert_int_equal(lrs[0], 0);
    vgic_sync_lrs(&g, 0, lrs, 4);
    assert_false(vgic_has_pending(&g, 0));
    assert_true(vgic_has_pending(&g, 2));
    vgic_fill_lrs(&g, 2, lrs, 4);
    assert_int_equal(lr_id(lrs[0]), 33);
    sync_states(2, lrs, 4, (const unsigned[]){ 2, 0, 0, 0 });

    /* Retargeted while active: kicks old and new; it stays with vCPU 2 until done. */
    assert_int_equal(wrb(0, 0x821, 0x02), 0x6);
    assert_int_equal(rd(0, 0x820), 0x01010201);   /* 34, 35: reset target vCPU 0 */
    vgic_raise(&g, 0, 33);
    vgic_fill_lrs(&g, 1, lrs, 4);
    assert_int_equal(lrs[0], 0);
    vgic_sync_lrs(&g, 1, lrs, 4);
    vgic_fill_lrs(&g, 2, lrs, 4);
    assert_int_equal(lr_id(lrs[0]), 33);
    assert_int_equal(lr_state(lrs[0]), 3);
    sync_states(2, lrs, 4, (const unsigned[]){ 1, 0, 0, 0 });
    /* Completed: the pending one now goes to the new target. */
    vgic_fill_lrs(&g, 1, lrs, 4);
    assert_int_equal(lr_id(lrs[0]), 33);
    assert_int_equal(lr_state(lrs[0]), 1);

    /* Held in vCPU 1's LR: nobody else gets it meanwhile, even if targeted. */
    wrb(0, 0x821, 0x07);
    vgic_raise(&g, 0, 33);
    {
        uint32_t other[4];

        vgic_fill_lrs(&g, 0, other, 4);
        assert_int_equal(other[0], 0);
        vgic_sync_lrs(&g, 0, other, 4);
    }
    vgic_sync_lrs(&g, 1, lrs, 4);
    /* Several targets: the lowest-numbered one. */
    vgic_fill_lrs(&g, 0, lrs, 4);
    assert_int_equal(lr_id(lrs[0]), 33);
    vgic_sync_lrs(&g, 0, lrs, 4);
}

static void test_hw(void **state)
{
    uint32_t lrs[4];

    (void)state;
    setup_on(2);
    vgic_link_hw(&g, 1, 27, 27);
    vgic_link_hw(&g, 0, 50, 80);
    enable(1, 27);
    vgic_raise(&g, 1, 27);
    vgic_raise(&g, 0, 50);
    wrb(0, 0x832, 0x02);
    vgic_fill_lrs(&g, 1, lrs, 4);
    assert_int_equal(lr_id(lrs[0]), 27);
    assert_true(lr_hw(lrs[0]));
    assert_int_equal(lr_phys(lrs[0]), 27);
    assert_int_equal(lr_id(lrs[1]), 50);
    assert_true(lr_hw(lrs[1]));
    assert_int_equal(lr_phys(lrs[1]), 80);
    assert_int_equal(lr_state(lrs[1]), 1);
    /* vCPU 0's PPI 27 is not the linked one. */
    vgic_sync_lrs(&g, 1, lrs, 4);
    enable(0, 27);
    vgic_raise(&g, 0, 27);
    vgic_fill_lrs(&g, 0, lrs, 4);
    assert_int_equal(lr_id(lrs[0]), 27);
    assert_false(lr_hw(lrs[0]));
}

static void test_icfgr(void **state)
{
    (void)state;
    vgic_init(&g, 2);
    assert_int_equal(rd(0, 0xc00), 0xaaaaaaaa);
    wr(0, 0xc00, 0);
    assert_int_equal(rd(0, 0xc00), 0xaaaaaaaa);
    assert_int_equal(rd(0, 0xc04), 0);
    wr(0, 0xc04, 0xffffffff);
    assert_int_equal(rd(0, 0xc04), 0);
    wr(0, 0xc08, 0xffffffff);
    assert_int_equal(rd(1, 0xc08), 0xaaaaaaaa);
    wr(0, 0xc0c, 0x00000008);   /* interrupt 49 edge */
    assert_int_equal(rd(0, 0xc0c), 0x00000008);
    assert_int_equal(rd(0, 0xc18), 0);   /* beyond 95 */
}

static void test_out_of_range(void **state)
{
    uint32_t v;

    (void)state;
    setup_on(2);
    /* Registers for interrupts 96+. */
    assert_int_equal(wr(0, 0x10c, 0xffffffff), 0);
    assert_int_equal(rd(0, 0x10c), 0);
    assert_int_equal(wr(0, 0x20c, 0xffffffff), 0);
    assert_int_equal(rd(0, 0x20c), 0);
    assert_int_equal(rdb(0, 0x800 + 100), 0);
    assert_int_equal(wrb(0, 0x800 + 100, 1), 0);
    /* Reserved offsets. */
    assert_int_equal(wr(0, 0x00c, 0xffffffff), 0);
    assert_int_equal(rd(0, 0x00c), 0);
    assert_int_equal(rd(0, 0xf30), 0);
    assert_int_equal(rd(0, 0xd00), 0);
    v = 0xdeadbeef;
    assert_int_equal(vgic_dist_access(&g, 0, 0x1000, 4, false, &v), 0);
    assert_int_equal(v, 0);
    /* Byte access to a word-only register, misaligned word, unknown vCPU. */
    assert_int_equal(wrb(0, 0x104, 0xff), 0);
    assert_int_equal(rd(0, 0x104), 0xffffffff);
    wrb(0, 0x184, 0xff);
    assert_int_equal(rd(0, 0x104), 0xffffffff);
    assert_int_equal(rdb(0, 0x000), 0);
    assert_int_equal(rd(0, 0x402), 0);
    wr(0, 0x402, 0xffffffff);
    assert_int_equal(rd(0, 0x400), 0);
    v = 0xdeadbeef;
    vgic_dist_access(&g, 5, 0x000, 4, false, &v);
    assert_int_equal(v, 0);
    assert_int_equal(vgic_raise(&g, 0, 96), 0);
    assert_int_equal(vgic_raise(&g, 2, 20), 0);
}

static void test_kick_bitmaps(void **state)
{
    (void)state;
    setup_on(4);
    /* Private interrupts: the owner. */
    assert_int_equal(vgic_raise(&g, 2, 27), 0x4);
    assert_int_equal(vgic_raise(&g, 3, 1), 0x8);
    assert_int_equal(wr(1, 0x200, 1u << 20), 0x2);
    assert_int_equal(wr(1, 0x100, 1u << 20), 0x2);
    assert_int_equal(wrb(3, 0x400 + 20, 0x40), 0x8);
    /* SPIs: their targets. */
    wrb(0, 0x828, 0x0a);
    assert_int_equal(vgic_raise(&g, 0, 40), 0xa);
    assert_int_equal(wr(0, 0x204, 1u << 8), 0xa);
    assert_int_equal(wr(2, 0x104, 1u << 8), 0xa);
    assert_int_equal(wrb(2, 0x428, 0x10), 0xa);
    assert_int_equal(wr(0, 0x304, 1u << 8), 0xa);
    /* Clearing active lets pending state through: kick too. */
    assert_int_equal(wr(0, 0x384, 1u << 8), 0xa);
    /* Retarget: old and new. */
    assert_int_equal(wrb(0, 0x828, 0x01), 0xb);
    /* SPI held in an LR: the holder too. */
    {
        uint32_t lrs[4];

        vgic_fill_lrs(&g, 0, lrs, 4);
        assert_int_equal(lr_id(lrs[0]), 40);
        assert_int_equal(wrb(0, 0x828, 0x04), 0x5);
        vgic_sync_lrs(&g, 0, lrs, 4);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_and_ctlr),
        cmocka_unit_test(test_enable_registers),
        cmocka_unit_test(test_priority),
        cmocka_unit_test(test_pending_active_cycle),
        cmocka_unit_test(test_fill_order_and_overflow),
        cmocka_unit_test(test_sgir),
        cmocka_unit_test(test_sgi_pending_registers),
        cmocka_unit_test(test_itargetsr),
        cmocka_unit_test(test_hw),
        cmocka_unit_test(test_icfgr),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_kick_bitmaps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
