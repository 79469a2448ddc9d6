/*
 * libFuzzer target for the receiving side of the shared-memory rings (shared/lib/ring.c).
 *
 * The first input bytes choose the ring's geometry and starting index; the rest is a
 * script of what a hostile producer partition could do to the shared memory: write
 * arbitrary bytes anywhere (indices, slots, the header), move the head, forge message
 * headers (with a right or wrong check word, so the fuzzer gets past the check without
 * having to guess 32 bits), push honestly, rewrite header fields and have the consumer
 * re-attach. After every action the consumer pops with a buffer of a size taken from the
 * input, allocated to exactly that size so AddressSanitizer sees any write past it, and
 * the invariants below are checked; any violation aborts.
 *
 *   - ring_pop returns only 0, -EAGAIN, -EPROTO, -EBADMSG or -EMSGSIZE;
 *   - a message returned is whole: length <= cap and <= ring_max_payload, sequence
 *     equal to the index it was taken at, check word right, type accepted;
 *   - the consumer's private index moves forward by one exactly when a message is
 *     consumed (0 or -EBADMSG) and otherwise stays, and the tail it publishes follows;
 *   - the statistics only grow, and each call moves exactly the counter its result
 *     says (received, one rejected_* for -EBADMSG, rejected_index for -EPROTO);
 *   - the private geometry never changes after attach, whatever the header says.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include "ring.h"

/* Keeps each run's shared memory small enough for many executions per second. */
#define MAX_SLOT_BYTES (64u * 1024u)
#define MAX_RING_BYTES (sizeof(struct ring_header) + 2 * sizeof(struct ring_index) + \
                        MAX_SLOT_BYTES)

/* The shared memory, reused across runs (a fresh large allocation each run costs more
 * than the rest of the run); the part past the current ring is poisoned, so
 * AddressSanitizer still catches any access outside it. */
static _Alignas(RING_ALIGN) uint8_t shared_mem[MAX_RING_BYTES];

struct input {
    const uint8_t *p;
    size_t left;
};

static uint8_t take8(struct input *in)
{
    if (!in->left)
        return 0;
    in->left--;
    return *in->p++;
}

static uint16_t take16(struct input *in)
{
    uint16_t v = take8(in);

    return (uint16_t)(v | take8(in) << 8);
}

static uint32_t take32(struct input *in)
{
    uint32_t v = take16(in);

    return v | (uint32_t)take16(in) << 16;
}

#define require(cond)                                                            \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                      \
            abort();                                                             \
        }                                                                        \
    } while (0)

static bool accept_type(uint16_t type)
{
    return type % 7 != 3;
}

struct world {
    uint8_t *mem;
    size_t bytes;
    uint32_t slot_size, slot_count;
    struct ring cons, prod;
};

static uint32_t *index_word(struct world *w, int which)
{
    return &((struct ring_index *)(w->mem + sizeof(struct ring_header)) + which)->value;
}

static struct ring_msg *slot_msg(struct world *w, uint32_t index)
{
    return (struct ring_msg *)(w->mem + sizeof(struct ring_header) +
                               2 * sizeof(struct ring_index) +
                               (size_t)(index & (w->slot_count - 1)) * w->slot_size);
}

static uint64_t rejected_sum(const struct ring_stats *s)
{
    return s->rejected_length + s->rejected_type + s->rejected_torn;
}

static void check_pop(struct world *w, uint32_t cap)
{
    struct ring *r = &w->cons;
    const struct ring_stats before = r->stats;
    const uint32_t index = r->index;
    struct ring_msg msg;
    uint8_t *buf = malloc(cap);
    int ret;

    require(buf || !cap);
    memset(&msg, 0, sizeof(msg));
    ret = ring_pop(r, &msg, buf, cap);
    free(buf);

    require(ret == 0 || ret == -EAGAIN || ret == -EPROTO || ret == -EBADMSG ||
            ret == -EMSGSIZE);
    require(r->slot_size == w->slot_size && r->slot_count == w->slot_count);

    /* Stats only grow, and exactly as the result says. */
    require(r->stats.sent == before.sent);
    require(r->stats.received >= before.received);
    require(r->stats.rejected_index >= before.rejected_index);
    require(r->stats.rejected_length >= before.rejected_length);
    require(r->stats.rejected_type >= before.rejected_type);
    require(r->stats.rejected_torn >= before.rejected_torn);
    require(r->stats.received - before.received == (ret == 0));
    require(r->stats.rejected_index - before.rejected_index == (ret == -EPROTO));
    require(rejected_sum(&r->stats) - rejected_sum(&before) == (ret == -EBADMSG));

    /* The index moves by one exactly when a message is consumed. */
    if (ret == 0 || ret == -EBADMSG) {
        require(r->index == index + 1);
        require(*index_word(w, 1) == r->index);
    } else {
        require(r->index == index);
    }

    if (ret == 0) {
        require(msg.length <= cap);
        require(msg.length <= ring_max_payload(r));
        require(msg.seq == index);
        require(msg.check == ring_msg_check(&msg));
        require(accept_type(msg.type));
    }
    if (ret == -EMSGSIZE)
        require(msg.length > cap && msg.length <= ring_max_payload(r));
    require(ring_pending(r) <= r->slot_count);
}

static void check_push(struct world *w, struct input *in)
{
    struct ring *r = &w->prod;
    const uint32_t index = r->index;
    const uint64_t sent = r->stats.sent, bad = r->stats.rejected_index;
    uint16_t type = take16(in);
    uint32_t length = take16(in);
    static uint8_t payload[UINT16_MAX];
    int ret;

    /* Lengths past the slot are allowed in: they must be refused with -EMSGSIZE. */
    memset(payload, type & 0xff, length < w->slot_size ? length : w->slot_size);
    ret = ring_push(r, type, take16(in), take32(in), payload, length);
    require(ret == 0 || ret == -EAGAIN || ret == -EMSGSIZE || ret == -EPROTO);
    require(r->index == index + (ret == 0));
    require(r->stats.sent == sent + (ret == 0));
    require(r->stats.rejected_index == bad + (ret == -EPROTO));
    if (ret == -EMSGSIZE)
        require(length > ring_max_payload(r));
}

/* Attach again to memory the fuzzer may have rewritten: a refused header is fine, an
 * accepted one must describe a ring that fits. */
static void reattach(struct world *w, bool consumer)
{
    struct ring r;
    int ret = consumer ? ring_attach_consumer(&r, w->mem, w->bytes, accept_type)
                       : ring_attach_producer(&r, w->mem, w->bytes);

    require(ret == 0 || ret == -EINVAL);
    if (ret)
        return;
    require(r.slot_size >= RING_MIN_SLOT && r.slot_size <= RING_MAX_SLOT);
    require(!(r.slot_size & (r.slot_size - 1)) && r.slot_count &&
            !(r.slot_count & (r.slot_count - 1)) && r.slot_count <= RING_MAX_SLOTS);
    require(ring_bytes(r.slot_size, r.slot_count) <= w->bytes);
    w->slot_size = r.slot_size;
    w->slot_count = r.slot_count;
    if (consumer)
        w->cons = r;
    else
        w->prod = r;
    /* slot_msg() needs both sides on one geometry: attach the other side again too;
     * the header has not changed since the attach above, so it must be accepted. */
    if (consumer)
        require(ring_attach_producer(&w->prod, w->mem, w->bytes) == 0);
    else
        require(ring_attach_consumer(&w->cons, w->mem, w->bytes, accept_type) == 0);
}

static void act(struct world *w, struct input *in)
{
    uint8_t op = take8(in);

    switch (op % 8) {
    case 0: { /* arbitrary bytes anywhere in the ring */
        size_t off = (take16(in) | (size_t)take8(in) << 16) % w->bytes;
        size_t n = 1 + take8(in) % 32;

        for (size_t i = 0; i < n && off + i < w->bytes && in->left; i++)
            w->mem[off + i] = take8(in);
        break;
    }
    case 1: /* move the head near the consumer */
        *index_word(w, 0) = w->cons.index + (uint32_t)(int8_t)take8(in);
        break;
    case 2: { /* forge a message header at the consumer's index, then publish it */
        struct ring_msg *m = slot_msg(w, w->cons.index);
        struct ring_msg f;
        uint8_t how = take8(in);

        f.seq = w->cons.index + (how & 1 ? (uint32_t)(int8_t)take8(in) : 0);
        f.type = take16(in);
        f.flags = take16(in);
        f.length = how & 2 ? take32(in) : take16(in) % (w->slot_size + 8);
        f.request_id = take32(in);
        f.check = ring_msg_check(&f) ^ (how & 4 ? take32(in) : 0);
        memcpy(m, &f, sizeof(f));
        if (how & 8)
            *index_word(w, 0) = w->cons.index + 1;
        break;
    }
    case 3:
        check_push(w, in);
        break;
    case 4: { /* one header or index word */
        uint32_t v = take32(in);

        switch (take8(in) % 6) {
        case 0: ((struct ring_header *)w->mem)->magic = v; break;
        case 1: ((struct ring_header *)w->mem)->version = (uint16_t)v; break;
        case 2: ((struct ring_header *)w->mem)->slot_size = v; break;
        case 3: ((struct ring_header *)w->mem)->slot_count = v; break;
        case 4: *index_word(w, 0) = v; break;
        default: *index_word(w, 1) = v; break;
        }
        break;
    }
    case 5:
        reattach(w, take8(in) & 1);
        break;
    default: { /* several pops in a row */
        int n = take8(in) % 8;

        for (int i = 0; i < n; i++)
            check_pop(w, take16(in));
        break;
    }
    }
    check_pop(w, take16(in));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    struct world w;
    uint32_t start;

    memset(&w, 0, sizeof(w));
    /* Geometry clamped to the valid ranges, then to MAX_SLOT_BYTES in all. */
    w.slot_size = 1u << (6 + take8(&in) % 11);
    w.slot_count = 1u << (take8(&in) % 17);
    while ((uint64_t)w.slot_size * w.slot_count > MAX_SLOT_BYTES)
        w.slot_count >>= 1;
    start = take32(&in);
    w.bytes = ring_bytes(w.slot_size, w.slot_count);
    w.mem = shared_mem;
    ASAN_UNPOISON_MEMORY_REGION(shared_mem, sizeof(shared_mem));
    ASAN_POISON_MEMORY_REGION(shared_mem + w.bytes, sizeof(shared_mem) - w.bytes);

    require(ring_format(w.mem, w.bytes, w.slot_size, w.slot_count) == 0);
    /* Start the indices anywhere so the 32-bit wrap is reached too. */
    *index_word(&w, 0) = start;
    *index_word(&w, 1) = start;
    require(ring_attach_consumer(&w.cons, w.mem, w.bytes, accept_type) == 0);
    require(ring_attach_producer(&w.prod, w.mem, w.bytes) == 0);
    require(w.cons.index == start && w.prod.index == start);

    while (in.left)
        act(&w, &in);
    return 0;
}
