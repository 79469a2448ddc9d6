/*
 * Unit tests for the shared-memory rings (shared/lib/ring.c): format and attach
 * validation, one message end to end, empty and full, wrap-around of the slots and of
 * the 32-bit indices, payload limits, and a peer acting against the protocol. For the
 * last, the tests write the shared memory by hand the way a hostile partition could
 * (the layout is worked out here from ring.h, not taken from the library) and check
 * that each bad message is rejected, counted in exactly its own counter, and that the
 * ring then goes on. A two-thread run moves a million messages through a 64-slot ring
 * and checks none is lost, duplicated, reordered or damaged.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

/* Big enough for every ring below; the largest is 4 slots of RING_MAX_SLOT bytes. */
#define MEM_BYTES (4 * sizeof(struct ring_header) + 4 * (size_t)RING_MAX_SLOT)

static _Alignas(RING_ALIGN) uint8_t mem[MEM_BYTES];

/* ---------------------------------------------------------------- the layout by hand */

static struct ring_header *hdr_of(void)
{
    return (struct ring_header *)mem;
}

static uint32_t *head_word(void)
{
    return &((struct ring_index *)(mem + sizeof(struct ring_header)))->value;
}

static uint32_t *tail_word(void)
{
    return &((struct ring_index *)(mem + sizeof(struct ring_header)) + 1)->value;
}

static struct ring_msg *slot_msg(uint32_t slot_size, uint32_t slot_count, uint32_t index)
{
    size_t off = sizeof(struct ring_header) + 2 * sizeof(struct ring_index) +
                 (size_t)(index % slot_count) * slot_size;

    return (struct ring_msg *)(mem + off);
}

/* What a hostile producer does: write a message at index (with a check word that is
 * right unless told otherwise) and publish head = index + 1. */
static void forge(uint32_t slot_size, uint32_t slot_count, uint32_t index, uint16_t type,
                  uint32_t length, const void *payload, size_t payload_bytes)
{
    struct ring_msg *m = slot_msg(slot_size, slot_count, index);

    m->seq = index;
    m->type = type;
    m->flags = 0;
    m->length = length;
    m->request_id = 0x1234;
    m->check = ring_msg_check(m);
    memcpy(m + 1, payload, payload_bytes);
    *head_word() = index + 1;
}

/* ---------------------------------------------------------------- helpers */

struct pair {
    struct ring prod, cons;
    uint32_t slot_size, slot_count;
};

static struct pair pair_new(uint32_t slot_size, uint32_t slot_count, bool (*accept)(uint16_t))
{
    struct pair p = { .slot_size = slot_size, .slot_count = slot_count };

    assert_int_equal(ring_format(mem, MEM_BYTES, slot_size, slot_count), 0);
    assert_int_equal(ring_attach_producer(&p.prod, mem, MEM_BYTES), 0);
    assert_int_equal(ring_attach_consumer(&p.cons, mem, MEM_BYTES, accept), 0);
    return p;
}

/* Push a message whose payload is derived from n, and pop it back later with expect(). */
static void fill_pattern(uint8_t *buf, uint32_t len, uint32_t n)
{
    for (uint32_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(n * 131u + i * 7u + (n >> 8));
}

static int push_n(struct ring *r, uint32_t n)
{
    uint8_t buf[32];

    fill_pattern(buf, sizeof(buf), n);
    return ring_push(r, (uint16_t)(n & 0xff), (uint16_t)(n >> 16), n, buf, sizeof(buf));
}

static void expect_n(struct ring *r, uint32_t n)
{
    uint8_t got[64], want[32];
    struct ring_msg m;

    assert_int_equal(ring_pop(r, &m, got, sizeof(got)), 0);
    fill_pattern(want, sizeof(want), n);
    assert_int_equal(m.length, sizeof(want));
    assert_int_equal(m.request_id, n);
    assert_int_equal(m.type, n & 0xff);
    assert_int_equal(m.flags, n >> 16);
    assert_memory_equal(got, want, sizeof(want));
}

static void expect_stats(const struct ring_stats *s, uint64_t received, uint64_t index,
                         uint64_t length, uint64_t type, uint64_t torn)
{
    assert_int_equal(s->received, received);
    assert_int_equal(s->rejected_index, index);
    assert_int_equal(s->rejected_length, length);
    assert_int_equal(s->rejected_type, type);
    assert_int_equal(s->rejected_torn, torn);
}

/* ---------------------------------------------------------------- format and attach */

static void test_format_refuses_bad_parameters(void **state)
{
    size_t fit = ring_bytes(64, 8);

    (void)state;
    assert_int_equal(ring_format(mem, MEM_BYTES, 96, 8), -EINVAL);     /* not 2^n */
    assert_int_equal(ring_format(mem, MEM_BYTES, 32, 8), -EINVAL);     /* too small */
    assert_int_equal(ring_format(mem, MEM_BYTES, 2 * RING_MAX_SLOT, 1), -EINVAL);
    assert_int_equal(ring_format(mem, MEM_BYTES, 64, 0), -EINVAL);
    assert_int_equal(ring_format(mem, MEM_BYTES, 64, 3), -EINVAL);
    assert_int_equal(ring_format(mem, (size_t)-1, 64, 2 * RING_MAX_SLOTS), -EINVAL);
    assert_int_equal(ring_format(mem, fit - 1, 64, 8), -EINVAL);       /* does not fit */
    assert_int_equal(ring_format(mem + 8, MEM_BYTES - 8, 64, 8), -EINVAL); /* misaligned */
    assert_int_equal(ring_format(NULL, MEM_BYTES, 64, 8), -EINVAL);
    assert_int_equal(ring_format(mem, fit, 64, 8), 0);
    assert_int_equal(ring_format(mem, ring_bytes(RING_MAX_SLOT, 1), RING_MAX_SLOT, 1), 0);

    /* The header reads back as documented and the indices start at zero. */
    assert_int_equal(hdr_of()->magic, RING_MAGIC);
    assert_int_equal(hdr_of()->version, RING_VERSION);
    assert_int_equal(hdr_of()->slot_size, RING_MAX_SLOT);
    assert_int_equal(hdr_of()->slot_count, 1);
    assert_int_equal(*head_word(), 0);
    assert_int_equal(*tail_word(), 0);
}

/* Both sides must refuse the header as it is now. */
static void refused(size_t size)
{
    struct ring r;

    assert_int_equal(ring_attach_producer(&r, mem, size), -EINVAL);
    assert_int_equal(ring_attach_consumer(&r, mem, size, NULL), -EINVAL);
}

static void test_attach_refuses_bad_header(void **state)
{
    const size_t fit = ring_bytes(128, 8);
    struct ring_header good;
    struct ring r;

    (void)state;
    assert_int_equal(ring_format(mem, fit, 128, 8), 0);
    good = *hdr_of();

    hdr_of()->magic ^= 1;
    refused(fit);
    *hdr_of() = good;
    hdr_of()->version = RING_VERSION + 1;
    refused(fit);

    static const uint32_t bad_sizes[] = { 0, 32, 96, 100, 129, 2 * RING_MAX_SLOT, 0xffffffffu };
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        *hdr_of() = good;
        hdr_of()->slot_size = bad_sizes[i];
        refused(MEM_BYTES);
    }
    static const uint32_t bad_counts[] = { 0, 3, 6, 2 * RING_MAX_SLOTS, 0x80000000u };
    for (size_t i = 0; i < sizeof(bad_counts) / sizeof(bad_counts[0]); i++) {
        *hdr_of() = good;
        hdr_of()->slot_count = bad_counts[i];
        refused((size_t)-1);
    }

    /* Valid fields, but more memory than the caller has. */
    *hdr_of() = good;
    refused(fit - 1);
    hdr_of()->slot_count = 16;
    refused(fit);
    hdr_of()->slot_count = 8;
    hdr_of()->slot_size = 256;
    refused(fit);
    *hdr_of() = good;
    assert_int_equal(ring_attach_producer(&r, mem + RING_ALIGN, fit), -EINVAL);
    assert_int_equal(ring_attach_producer(&r, NULL, fit), -EINVAL);
    assert_int_equal(ring_attach_producer(&r, mem, 16), -EINVAL);

    /* The good header is accepted and copied. */
    assert_int_equal(ring_attach_producer(&r, mem, fit), 0);
    assert_int_equal(r.slot_size, 128);
    assert_int_equal(r.slot_count, 8);
    assert_int_equal(ring_max_payload(&r), 128 - RING_MSG_HEADER);
    assert_int_equal(ring_attach_consumer(&r, mem, fit, NULL), 0);
}

/* A restarted side resumes at the published indices rather than replaying. */
static void test_attach_resumes(void **state)
{
    struct pair p = pair_new(64, 8, NULL);
    struct ring cons2, prod2;

    (void)state;
    for (uint32_t n = 0; n < 5; n++)
        assert_int_equal(push_n(&p.prod, n), 0);
    expect_n(&p.cons, 0);
    expect_n(&p.cons, 1);

    assert_int_equal(ring_attach_consumer(&cons2, mem, MEM_BYTES, NULL), 0);
    assert_int_equal(cons2.index, 2);
    assert_int_equal(ring_pending(&cons2), 3);
    expect_n(&cons2, 2);
    assert_int_equal(ring_attach_producer(&prod2, mem, MEM_BYTES), 0);
    assert_int_equal(prod2.index, 5);
    assert_int_equal(push_n(&prod2, 5), 0);
    expect_n(&cons2, 3);
    expect_n(&cons2, 4);
    expect_n(&cons2, 5);
}

/* Once attached, a side works from its private copy: a header rewritten by the peer
 * afterwards (here to claim a far bigger ring) changes nothing. */
static void test_header_rewritten_after_attach(void **state)
{
    struct pair p = pair_new(64, 4, NULL);

    (void)state;
    hdr_of()->slot_count = RING_MAX_SLOTS;
    hdr_of()->slot_size = RING_MAX_SLOT;
    for (uint32_t n = 0; n < 4; n++)
        assert_int_equal(push_n(&p.prod, n), 0);
    assert_int_equal(push_n(&p.prod, 4), -EAGAIN);
    for (uint32_t n = 0; n < 4; n++)
        expect_n(&p.cons, n);
}

/* ---------------------------------------------------------------- normal traffic */

static void test_push_pop_one(void **state)
{
    struct pair p = pair_new(128, 8, NULL);
    const char text[] = "hello, other partition";
    char buf[128];
    struct ring_msg m;

    (void)state;
    assert_int_equal(ring_pending(&p.cons), 0);
    assert_int_equal(ring_push(&p.prod, 7, 0xa5a5, 0x0123456789abcdefull, text, sizeof(text)), 0);
    assert_int_equal(ring_pending(&p.cons), 1);
    assert_int_equal(*head_word(), 1);

    memset(buf, 0, sizeof(buf));
    assert_int_equal(ring_pop(&p.cons, &m, buf, sizeof(buf)), 0);
    assert_int_equal(m.seq, 0);
    assert_int_equal(m.type, 7);
    assert_int_equal(m.flags, 0xa5a5);
    assert_int_equal(m.length, sizeof(text));
    assert_int_equal(m.check, ring_msg_check(&m));
    assert_int_equal(m.request_id, 0x0123456789abcdefull);
    assert_string_equal(buf, text);
    assert_int_equal(*tail_word(), 1);
    assert_int_equal(p.prod.stats.sent, 1);
    expect_stats(&p.cons.stats, 1, 0, 0, 0, 0);

    /* A message with no payload needs no buffer at all. */
    assert_int_equal(ring_push(&p.prod, 1, 0, 0, NULL, 0), 0);
    assert_int_equal(ring_pop(&p.cons, &m, NULL, 0), 0);
    assert_int_equal(m.length, 0);
}

/* The check word is CRC-32C seeded with RING_MAGIC over (seq, type, flags), length and
 * request_id: values from an independent bit-at-a-time implementation (the same on the
 * partitions, whose CRC32C instructions were checked against them under qemu-aarch64). */
static void test_check_word(void **state)
{
    struct ring_msg m = { .seq = 0x12345678, .type = 0xabcd, .flags = 0x0102,
                          .length = 0xdeadbeef, .request_id = 0x0123456789abcdefull };
    struct ring_msg zero = { 0 };
    uint32_t good;

    (void)state;
    assert_int_equal(ring_msg_check(&m), 0xfdbb580e);
    assert_int_equal(ring_msg_check(&zero), 0xf3c94dfa);
    /* Every single-bit change of every field shows. */
    good = ring_msg_check(&m);
    for (unsigned bit = 0; bit < 32; bit++) {
        struct ring_msg t = m;

        t.seq ^= 1u << bit;
        assert_int_not_equal(ring_msg_check(&t), good);
        t = m;
        t.length ^= 1u << bit;
        assert_int_not_equal(ring_msg_check(&t), good);
        t = m;
        t.request_id ^= 1ull << bit;
        assert_int_not_equal(ring_msg_check(&t), good);
        t = m;
        t.request_id ^= 1ull << (bit + 32);
        assert_int_not_equal(ring_msg_check(&t), good);
        if (bit < 16) {
            t = m;
            t.type ^= (uint16_t)(1u << bit);
            assert_int_not_equal(ring_msg_check(&t), good);
            t = m;
            t.flags ^= (uint16_t)(1u << bit);
            assert_int_not_equal(ring_msg_check(&t), good);
        }
    }
}

static void test_empty(void **state)
{
    struct pair p = pair_new(64, 4, NULL);
    struct ring_msg m;
    uint8_t buf[64];

    (void)state;
    assert_int_equal(ring_pop(&p.cons, &m, buf, sizeof(buf)), -EAGAIN);
    assert_int_equal(push_n(&p.prod, 0), 0);
    expect_n(&p.cons, 0);
    assert_int_equal(ring_pop(&p.cons, &m, buf, sizeof(buf)), -EAGAIN);
    assert_int_equal(p.cons.index, 1);
    expect_stats(&p.cons.stats, 1, 0, 0, 0, 0);
}

static void test_full_then_drain(void **state)
{
    struct pair p = pair_new(64, 16, NULL);
    struct ring_msg m;
    uint8_t buf[64];

    (void)state;
    for (uint32_t n = 0; n < 16; n++)
        assert_int_equal(push_n(&p.prod, n), 0);
    assert_int_equal(ring_pending(&p.cons), 16);
    assert_int_equal(push_n(&p.prod, 16), -EAGAIN);
    assert_int_equal(p.prod.stats.sent, 16);
    assert_int_equal(p.prod.stats.rejected_index, 0);
    for (uint32_t n = 0; n < 16; n++)
        expect_n(&p.cons, n);
    assert_int_equal(ring_pop(&p.cons, &m, buf, sizeof(buf)), -EAGAIN);
    /* Room again after the drain. */
    assert_int_equal(push_n(&p.prod, 16), 0);
    expect_n(&p.cons, 16);
}

static void test_wraparound_keeps_order(void **state)
{
    struct pair p = pair_new(64, 4, NULL);
    uint32_t pushed = 0, popped = 0;

    (void)state;
    /* Uneven bursts, so the slots are reused at every offset, ten times round. */
    for (int round = 0; pushed < 10 * 4; round++) {
        for (int i = 0; i < 1 + round % 4 && pushed - popped < 4; i++)
            assert_int_equal(push_n(&p.prod, pushed++), 0);
        for (int i = 0; i < 1 + round % 3 && popped < pushed; i++)
            expect_n(&p.cons, popped++);
    }
    while (popped < pushed)
        expect_n(&p.cons, popped++);
    assert_int_equal(p.cons.stats.received, pushed);
    assert_int_equal(p.prod.stats.sent, pushed);
}

/* The free-running indices wrap at 2^32 with no hiccup. */
static void test_index_wraps_32_bits(void **state)
{
    struct ring prod, cons;

    (void)state;
    assert_int_equal(ring_format(mem, MEM_BYTES, 64, 4), 0);
    *head_word() = 0xfffffffdu;
    *tail_word() = 0xfffffffdu;
    assert_int_equal(ring_attach_producer(&prod, mem, MEM_BYTES), 0);
    assert_int_equal(ring_attach_consumer(&cons, mem, MEM_BYTES, NULL), 0);
    for (uint32_t n = 0; n < 4; n++)
        assert_int_equal(push_n(&prod, n), 0);
    assert_int_equal(push_n(&prod, 4), -EAGAIN);
    assert_int_equal(ring_pending(&cons), 4);
    for (uint32_t n = 0; n < 4; n++)
        expect_n(&cons, n);
    assert_int_equal(cons.index, 1);
    for (uint32_t n = 4; n < 12; n++) {
        assert_int_equal(push_n(&prod, n), 0);
        expect_n(&cons, n);
    }
}

static void test_max_payload(void **state)
{
    struct pair p = pair_new(256, 4, NULL);
    const uint32_t max = 256 - RING_MSG_HEADER;
    uint8_t out[300], in[300];
    struct ring_msg m;

    (void)state;
    assert_int_equal(ring_max_payload(&p.prod), max);
    fill_pattern(out, sizeof(out), 99);
    assert_int_equal(ring_push(&p.prod, 1, 0, 0, out, max + 1), -EMSGSIZE);
    assert_int_equal(ring_push(&p.prod, 1, 0, 0, out, 0xffffffffu), -EMSGSIZE);
    assert_int_equal(ring_pending(&p.cons), 0);
    assert_int_equal(p.prod.stats.sent, 0);

    assert_int_equal(ring_push(&p.prod, 1, 0, 0, out, max), 0);
    memset(in, 0, sizeof(in));
    assert_int_equal(ring_pop(&p.cons, &m, in, max), 0);
    assert_int_equal(m.length, max);
    assert_memory_equal(in, out, max);
    assert_int_equal(in[max], 0);
}

static void test_pop_cap_too_small(void **state)
{
    struct pair p = pair_new(64, 4, NULL);
    uint8_t in[64];
    struct ring_msg m;

    (void)state;
    assert_int_equal(push_n(&p.prod, 3), 0);
    memset(in, 0xee, sizeof(in));
    assert_int_equal(ring_pop(&p.cons, &m, in, 31), -EMSGSIZE);
    assert_int_equal(m.length, 32);             /* the size it needs */
    assert_int_equal(in[0], 0xee);              /* nothing copied */
    assert_int_equal(ring_pending(&p.cons), 1); /* still there */
    assert_int_equal(*tail_word(), 0);
    expect_stats(&p.cons.stats, 0, 0, 0, 0, 0);
    expect_n(&p.cons, 3);
}

/* ---------------------------------------------------------------- hostile producer */

static bool accept_small_types(uint16_t type)
{
    return type < 100;
}

static void test_hostile_head_out_of_range(void **state)
{
    struct pair p = pair_new(64, 4, NULL);
    struct ring_msg m;
    uint8_t buf[64];

    (void)state;
    assert_int_equal(push_n(&p.prod, 0), 0);
    static const uint32_t bad_heads[] = { 5, 6, 1000, 0x80000000u, 0xffffffffu };
    for (size_t i = 0; i < sizeof(bad_heads) / sizeof(bad_heads[0]); i++) {
        *head_word() = bad_heads[i];
        assert_int_equal(ring_pop(&p.cons, &m, buf, sizeof(buf)), -EPROTO);
        assert_int_equal(ring_pending(&p.cons), 0);
        assert_int_equal(p.cons.index, 0);
        assert_int_equal(*tail_word(), 0);
    }
    expect_stats(&p.cons.stats, 0, 5, 0, 0, 0);

    /* Head put right: the message that was there all along comes through. */
    *head_word() = 1;
    expect_n(&p.cons, 0);
    assert_int_equal(push_n(&p.prod, 1), 0);
    expect_n(&p.cons, 1);
    expect_stats(&p.cons.stats, 2, 5, 0, 0, 0);
}

/* Shared tail of the -EBADMSG cases: the bad message was consumed and the next good
 * one (at index 1) comes through. */
static void then_good_one(struct pair *p)
{
    struct ring_msg m;
    uint8_t buf[64];

    assert_int_equal(p->cons.index, 1);
    assert_int_equal(*tail_word(), 1);
    assert_int_equal(ring_pop(&p->cons, &m, buf, sizeof(buf)), -EAGAIN);
    /* An honest producer takes over after the forged message, from the published head. */
    assert_int_equal(ring_attach_producer(&p->prod, mem, MEM_BYTES), 0);
    assert_int_equal(push_n(&p->prod, 42), 0);
    expect_n(&p->cons, 42);
}

static void test_hostile_length(void **state)
{
    struct pair p = pair_new(64, 4, NULL);
    uint8_t buf[4096];
    struct ring_msg m;

    (void)state;
    forge(64, 4, 0, 1, 64 - RING_MSG_HEADER + 1, "x", 1);
    assert_int_equal(ring_pop(&p.cons, &m, buf, sizeof(buf)), -EBADMSG);
    expect_stats(&p.cons.stats, 0, 0, 1, 0, 0);
    then_good_one(&p);

    /* Also a length that would overflow a careless bounds check. */
    forge(64, 4, 2, 1, 0xffffffffu, "x", 1);
    assert_int_equal(ring_pop(&p.cons, &m, buf, sizeof(buf)), -EBADMSG);
    expect_stats(&p.cons.stats, 1, 0, 2, 0, 0);
}

static void test_hostile_type(void **state)
{
    struct pair p = pair_new(64, 4, accept_small_types);
    struct ring_msg m;
    uint8_t buf[64];

    (void)state;
    forge(64, 4, 0, 100, 4, "abcd", 4);
    assert_int_equal(ring_pop(&p.cons, &m, buf, sizeof(buf)), -EBADMSG);
    expect_stats(&p.cons.stats, 0, 0, 0, 1, 0);
    then_good_one(&p);
}

static void test_hostile_torn(void **state)
{
    struct pair p = pair_new(64, 4, NULL);
    struct ring_msg m;
    uint8_t buf[64];

    (void)state;
    assert_int_equal(push_n(&p.prod, 0), 0);
    slot_msg(64, 4, 0)->type ^= 0x10; /* rewritten after it was published */
    assert_int_equal(ring_pop(&p.cons, &m, buf, sizeof(buf)), -EBADMSG);
    expect_stats(&p.cons.stats, 0, 0, 0, 0, 1);
    then_good_one(&p);

    /* A bad check word is torn even when the length is also bad: a torn header's
     * fields mean nothing, so it is not counted as a length problem. */
    forge(64, 4, 2, 1, 1000, "", 0);
    slot_msg(64, 4, 2)->check ^= 1;
    assert_int_equal(ring_pop(&p.cons, &m, buf, sizeof(buf)), -EBADMSG);
    expect_stats(&p.cons.stats, 1, 0, 0, 0, 2);
}

static void test_hostile_stale_seq(void **state)
{
    struct pair p = pair_new(64, 4, NULL);
    struct ring_msg m;
    uint8_t buf[64];

    (void)state;
    /* Four good messages fill slots 0..3, all taken. */
    for (uint32_t n = 0; n < 4; n++)
        assert_int_equal(push_n(&p.prod, n), 0);
    for (uint32_t n = 0; n < 4; n++)
        expect_n(&p.cons, n);
    /* The producer publishes index 4 without writing slot 0: its old message (seq 0,
     * check word right) must not be taken again. */
    *head_word() = 5;
    assert_int_equal(ring_pop(&p.cons, &m, buf, sizeof(buf)), -EBADMSG);
    expect_stats(&p.cons.stats, 4, 0, 0, 0, 1);
    assert_int_equal(p.cons.index, 5);
    assert_int_equal(ring_attach_producer(&p.prod, mem, MEM_BYTES), 0);
    assert_int_equal(push_n(&p.prod, 5), 0);
    expect_n(&p.cons, 5);
    expect_stats(&p.cons.stats, 5, 0, 0, 0, 1);
}

/* ---------------------------------------------------------------- hostile consumer */

static void test_hostile_tail(void **state)
{
    struct pair p = pair_new(64, 4, NULL);

    (void)state;
    for (uint32_t n = 0; n < 2; n++)
        assert_int_equal(push_n(&p.prod, n), 0);

    *tail_word() = 3; /* ahead of head (2) */
    assert_int_equal(push_n(&p.prod, 2), -EPROTO);
    *tail_word() = 0xfffffffdu; /* 5 behind: more than the ring holds */
    assert_int_equal(push_n(&p.prod, 2), -EPROTO);
    *tail_word() = 0x80000000u;
    assert_int_equal(push_n(&p.prod, 2), -EPROTO);
    assert_int_equal(p.prod.stats.rejected_index, 3);
    assert_int_equal(p.prod.stats.sent, 2);
    assert_int_equal(p.prod.index, 2);
    assert_int_equal(*head_word(), 2);

    /* Tail back where it was: traffic resumes. */
    *tail_word() = 0;
    assert_int_equal(push_n(&p.prod, 2), 0);
    for (uint32_t n = 0; n < 3; n++)
        expect_n(&p.cons, n);
}

/* ---------------------------------------------------------------- two threads */

#define THREAD_MESSAGES 1000000u
#define THREAD_SLOTS    64
#define THREAD_SLOT     128

static struct ring thread_prod;
static int stop_producer;

/* Payload of message n: its sequence number, then bytes derived from it; the length
 * varies with n so slots see short and long messages. */
static uint32_t thread_len(uint32_t n)
{
    return 4 + n % (THREAD_SLOT - RING_MSG_HEADER - 4 + 1);
}

static void thread_payload(uint8_t *buf, uint32_t n)
{
    memcpy(buf, &n, 4);
    fill_pattern(buf + 4, thread_len(n) - 4, n);
}

static void *producer_main(void *arg)
{
    uint8_t buf[THREAD_SLOT];

    (void)arg;
    for (uint32_t n = 0; n < THREAD_MESSAGES; n++) {
        int err;

        thread_payload(buf, n);
        while ((err = ring_push(&thread_prod, (uint16_t)n, 0, n, buf, thread_len(n))) == -EAGAIN) {
            if (__atomic_load_n(&stop_producer, __ATOMIC_RELAXED))
                return NULL;
            sched_yield();
        }
        if (err)
            return NULL;
    }
    return NULL;
}

static void test_two_threads(void **state)
{
    uint8_t got[THREAD_SLOT], want[THREAD_SLOT];
    struct ring cons;
    struct ring_msg m;
    pthread_t tid;
    uint32_t n = 0, bad_at = UINT32_MAX;
    int err = 0;

    (void)state;
    assert_int_equal(ring_format(mem, MEM_BYTES, THREAD_SLOT, THREAD_SLOTS), 0);
    assert_int_equal(ring_attach_producer(&thread_prod, mem, MEM_BYTES), 0);
    assert_int_equal(ring_attach_consumer(&cons, mem, MEM_BYTES, NULL), 0);
    stop_producer = 0;
    assert_int_equal(pthread_create(&tid, NULL, producer_main, NULL), 0);

    /* No cmocka assertions until the producer is joined: a failed one would longjmp
     * out and leave it running. Record the first problem instead. */
    while (n < THREAD_MESSAGES) {
        err = ring_pop(&cons, &m, got, sizeof(got));
        if (err == -EAGAIN) {
            sched_yield();
            continue;
        }
        uint32_t seq = UINT32_MAX;
        if (!err)
            memcpy(&seq, got, 4);
        thread_payload(want, n);
        if (err || m.request_id != n || m.type != (uint16_t)n || m.length != thread_len(n) ||
            seq != n || memcmp(got, want, m.length)) {
            bad_at = n;
            break;
        }
        n++;
    }
    __atomic_store_n(&stop_producer, 1, __ATOMIC_RELAXED);
    assert_int_equal(pthread_join(tid, NULL), 0);

    assert_int_equal(err, 0);
    assert_int_equal(bad_at, UINT32_MAX);
    assert_int_equal(n, THREAD_MESSAGES);
    assert_int_equal(ring_pop(&cons, &m, got, sizeof(got)), -EAGAIN);
    assert_int_equal(thread_prod.stats.sent, THREAD_MESSAGES);
    expect_stats(&cons.stats, THREAD_MESSAGES, 0, 0, 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_refuses_bad_parameters),
        cmocka_unit_test(test_attach_refuses_bad_header),
        cmocka_unit_test(test_attach_resumes),
        cmocka_unit_test(test_header_rewritten_after_attach),
        cmocka_unit_test(test_push_pop_one),
        cmocka_unit_test(test_check_word),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_full_then_drain),
        cmocka_unit_test(test_wraparound_keeps_order),
        cmocka_unit_test(test_index_wraps_32_bits),
        cmocka_unit_test(test_max_payload),
        cmocka_unit_test(test_pop_cap_too_small),
        cmocka_unit_test(test_hostile_head_out_of_range),
        cmocka_unit_test(test_hostile_length),
        cmocka_unit_test(test_hostile_type),
        cmocka_unit_test(test_hostile_torn),
        cmocka_unit_test(test_hostile_stale_seq),
        cmocka_unit_test(test_hostile_tail),
        cmocka_unit_test(test_two_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
