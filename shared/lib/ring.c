/*
 * Shared-memory rings between partitions (see ring.h for the layout and the contract).
 *
 * Everything in the ring's memory can be rewritten by the peer at any moment, so this
 * file never trusts a value it reads from it twice: each peer-writable word is loaded
 * once into a local (an __atomic load, which the compiler may not repeat or split),
 * checked, and only the local is used afterwards. The geometry comes from private
 * copies taken and validated at attach time, so a header rewritten later changes
 * nothing here. Built both for the bare-metal images (freestanding: only memcpy and
 * memset from the C library) and for the host unit and fuzz tests.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ring.h"

_Static_assert(sizeof(struct ring_header) == RING_ALIGN, "ring header is one cache line");
_Static_assert(sizeof(struct ring_index) == RING_ALIGN, "each index has its own cache line");
_Static_assert(sizeof(struct ring_msg) == RING_MSG_HEADER, "RING_MSG_HEADER is stale");
_Static_assert(RING_MIN_SLOT > RING_MSG_HEADER, "a slot must have room for a payload");

/* The memory must be cache-line aligned: the layout relies on it, and with strict
 * alignment a misaligned index or message field would fault in the atomic accesses. */
static bool mem_ok(const void *mem, size_t size)
{
    return mem && !((uintptr_t)mem & (RING_ALIGN - 1)) && size >= sizeof(struct ring_header);
}

static struct ring_msg *slot_at(const struct ring *r, uint32_t index)
{
    return (struct ring_msg *)(r->slots + (size_t)(index & (r->slot_count - 1)) * r->slot_size);
}

/*
 * The check word is a CRC-32C (Castagnoli: reflected polynomial 0x82f63b78, seeded with
 * RING_MAGIC) of the header's other fields. A CRC detects every change confined to 32
 * consecutive bits, so a change of any one field always shows; several fields changing
 * together (a torn write) pass only by chance. AArch64 has it as an instruction (CRC32C,
 * in every Armv8.1 core, the Cortex-A76 included): three of them per message. Elsewhere
 * (the host tests) the same arithmetic runs a nibble at a time.
 */
#if defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
static inline uint32_t crc32c_32(uint32_t crc, uint32_t v)
{
    return __builtin_aarch64_crc32cw(crc, v);
}

static inline uint32_t crc32c_64(uint32_t crc, uint64_t v)
{
    return __builtin_aarch64_crc32cx(crc, v);
}
#else
/* The CRC of each 4-bit value: crc32c_bits' step table. */
static const uint32_t crc32c_nibble[16] = {
    0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1, 0x417b1dbc, 0x5125dad3, 0x61c69362,
    0x7198540d, 0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9, 0xc38d26c4, 0xd3d3e1ab,
    0xe330a81a, 0xf36e6f75,
};

/* The low `bytes` bytes of v, least significant first, as the instructions take them. */
static uint32_t crc32c_bits(uint32_t crc, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < 2 * bytes; i++, v >>= 4) {
        crc ^= (uint32_t)v & 0xf;
        crc = crc >> 4 ^ crc32c_nibble[crc & 0xf];
    }
    return crc;
}

static inline uint32_t crc32c_32(uint32_t crc, uint32_t v)
{
    return crc32c_bits(crc, v, 4);
}

static inline uint32_t crc32c_64(uint32_t crc, uint64_t v)
{
    return crc32c_bits(crc, v, 8);
}
#endif

uint32_t ring_msg_check(const struct ring_msg *m)
{
    uint32_t h = crc32c_64(RING_MAGIC, (uint64_t)m->seq | (uint64_t)m->type << 32 |
                                           (uint64_t)m->flags << 48);

    h = crc32c_32(h, m->length);
    return crc32c_64(h, m->request_id);
}

int ring_format(void *mem, size_t size, uint32_t slot_size, uint32_t slot_count)
{
    struct ring_header *hdr = mem;

    if (!mem_ok(mem, size) || !ring_params_ok(size, slot_size, slot_count))
        return -EINVAL;
    /* Zero the whole ring, magic included, so nothing a partition left in this memory
     * before leaks to the other one and a half-formatted ring never looks valid. */
    memset(mem, 0, ring_bytes(slot_size, slot_count));
    hdr->version = RING_VERSION;
    hdr->slot_size = slot_size;
    hdr->slot_count = slot_count;
    /* Last, with release: whoever sees the magic sees the fields and indices above. */
    __atomic_store_n(&hdr->magic, RING_MAGIC, __ATOMIC_RELEASE);
    return 0;
}

/* Validate the header and fill in r; the caller then sets its starting index. */
static int attach(struct ring *r, void *mem, size_t size)
{
    struct ring_header *hdr = mem;
    uint8_t *base = mem;
    uint32_t slot_size, slot_count;

    memset(r, 0, sizeof(*r));
    if (!mem_ok(mem, size))
        return -EINVAL;
    /* Acquire pairs with ring_format's release of the magic. */
    if (__atomic_load_n(&hdr->magic, __ATOMIC_ACQUIRE) != RING_MAGIC)
        return -EINVAL;
    if (__atomic_load_n(&hdr->version, __ATOMIC_RELAXED) != RING_VERSION)
        return -EINVAL;
    slot_size = __atomic_load_n(&hdr->slot_size, __ATOMIC_RELAXED);
    slot_count = __atomic_load_n(&hdr->slot_count, __ATOMIC_RELAXED);
    if (!ring_params_ok(size, slot_size, slot_count))
        return -EINVAL;

    r->hdr = hdr;
    r->head = (struct ring_index *)(base + sizeof(struct ring_header));
    r->tail = r->head + 1;
    r->slots = (uint8_t *)(r->tail + 1);
    r->slot_size = slot_size;
    r->slot_count = slot_count;
    return 0;
}

int ring_attach_producer(struct ring *r, void *mem, size_t size)
{
    int err = attach(r, mem, size);

    if (err)
        return err;
    /* Our own index as a previous incarnation left it. The peer may have changed it;
     * that is harmless: a wrong start only makes ring_push see the tail out of range
     * (-EPROTO) or publish at a sequence the consumer rejects. */
    r->index = __atomic_load_n(&r->head->value, __ATOMIC_RELAXED);
    return 0;
}

int ring_attach_consumer(struct ring *r, void *mem, size_t size, bool (*accept)(uint16_t type))
{
    int err = attach(r, mem, size);

    if (err)
        return err;
    /* As for the producer: only a starting point, checked against head on every pop. */
    r->index = __atomic_load_n(&r->tail->value, __ATOMIC_RELAXED);
    r->accept = accept;
    return 0;
}

uint32_t ring_max_payload(const struct ring *r)
{
    return r->slot_size - RING_MSG_HEADER;
}

int ring_push(struct ring *r, uint16_t type, uint16_t flags, uint64_t request_id,
              const void *payload, uint32_t length)
{
    struct ring_msg m;
    struct ring_msg *slot;
    uint32_t tail, used;

    if (length > ring_max_payload(r))
        return -EMSGSIZE;
    /* Acquire: the consumer's reads of a slot happen before it releases the tail past
     * it, so once we see that tail we may overwrite the slot. */
    tail = __atomic_load_n(&r->tail->value, __ATOMIC_ACQUIRE);
    used = r->index - tail;
    if (used > r->slot_count) {
        r->stats.rejected_index++;
        return -EPROTO;
    }
    if (used == r->slot_count)
        return -EAGAIN;

    m.seq = r->index;
    m.type = type;
    m.flags = flags;
    m.length = length;
    m.request_id = request_id;
    m.check = ring_msg_check(&m);

    slot = slot_at(r, r->index);
    __atomic_store_n(&slot->seq, m.seq, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->type, m.type, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->flags, m.flags, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->length, m.length, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->check, m.check, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->request_id, m.request_id, __ATOMIC_RELAXED);
    if (length)
        memcpy(slot + 1, payload, length);

    r->index++;
    /* Release: the slot's contents are visible before the head that covers them. */
    __atomic_store_n(&r->head->value, r->index, __ATOMIC_RELEASE);
    r->stats.sent++;
    return 0;
}

/* Consume the message at our index: publish the tail past it. Release, so our reads of
 * the slot are done before the producer may reuse it. */
static void consume(struct ring *r)
{
    r->index++;
    __atomic_store_n(&r->tail->value, r->index, __ATOMIC_RELEASE);
}

int ring_pop(struct ring *r, struct ring_msg *msg, void *payload, uint32_t cap)
{
    const struct ring_msg *slot;
    struct ring_msg m;
    uint32_t head, avail;

    /* Acquire pairs with the producer's release of head: the slot is filled. */
    head = __atomic_load_n(&r->head->value, __ATOMIC_ACQUIRE);
    avail = head - r->index;
    if (avail > r->slot_count) {
        r->stats.rejected_index++;
        return -EPROTO;
    }
    if (!avail)
        return -EAGAIN;

    /* Copy the header out, one load per field, and decide on the copy only. */
    slot = slot_at(r, r->index);
    m.seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
    m.type = __atomic_load_n(&slot->type, __ATOMIC_RELAXED);
    m.flags = __atomic_load_n(&slot->flags, __ATOMIC_RELAXED);
    m.length = __atomic_load_n(&slot->length, __ATOMIC_RELAXED);
    m.check = __atomic_load_n(&slot->check, __ATOMIC_RELAXED);
    m.request_id = __atomic_load_n(&slot->request_id, __ATOMIC_RELAXED);

    /* Torn first: if the header is not one the producer wrote whole for this index,
     * its length and type mean nothing and must not be counted as such. A stale slot
     * (head moved on without the slot being rewritten) has a good check word but an
     * old sequence. */
    if (m.check != ring_msg_check(&m) || m.seq != r->index) {
        r->stats.rejected_torn++;
        consume(r);
        return -EBADMSG;
    }
    if (m.length > ring_max_payload(r)) {
        r->stats.rejected_length++;
        consume(r);
        return -EBADMSG;
    }
    if (r->accept && !r->accept(m.type)) {
        r->stats.rejected_type++;
        consume(r);
        return -EBADMSG;
    }
    /* A good message too big for the caller's buffer stays where it is; the header is
     * still handed back so the caller learns the length it needs. */
    *msg = m;
    if (m.length > cap)
        return -EMSGSIZE;
    if (m.length)
        memcpy(payload, slot + 1, m.length);
    consume(r);
    r->stats.received++;
    return 0;
}

uint32_t ring_pending(const struct ring *r)
{
    uint32_t avail = __atomic_load_n(&r->head->value, __ATOMIC_ACQUIRE) - r->index;

    return avail > r->slot_count ? 0 : avail;
}
