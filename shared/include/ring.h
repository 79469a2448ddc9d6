/*
 * Shared-memory rings between partitions: single producer, single consumer, one
 * direction per ring. A channel between two partitions is two rings, one each way.
 *
 * Memory of one ring (RING_ALIGN-aligned, inside a channel the hypervisor maps into
 * exactly its two partitions):
 *   struct ring_header      written once by the hypervisor at boot: what the ring is
 *   struct ring_index  head the producer's count of messages published (own cache line)
 *   struct ring_index  tail the consumer's count of messages taken (own cache line)
 *   slots[slot_count]       slot_size bytes each, cache-line aligned; a slot holds a
 *                           struct ring_msg followed by the payload
 *
 * Indices are free-running 32-bit counters; slot = index % slot_count, slot_count a power
 * of two. The producer fills a slot, then publishes head with release ordering; the
 * consumer reads head with acquire ordering, copies the slot out, then releases tail.
 *
 * Neither side trusts the other: all of this memory can be written by the peer at any
 * time. Each side keeps its own index privately and only reads the peer's; the consumer
 * copies a message out of the slot before looking at it, then checks it: an index out of
 * range, a length past the slot, a type it does not accept or a torn message (its
 * sequence or check word disagreeing) is rejected and counted, and the ring goes on.
 */
#ifndef SHARED_RING_H
#define SHARED_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_MAGIC       0x474e4952u   /* "RING" */
#define RING_VERSION     1
#define RING_ALIGN       64            /* cache line */
#define RING_MSG_HEADER  24            /* sizeof(struct ring_msg) */
#define RING_MIN_SLOT    64
#define RING_MAX_SLOT    65536
#define RING_MAX_SLOTS   65536

struct ring_header {
    uint32_t magic;
    uint16_t version;
    uint16_t reserved;
    uint32_t slot_size;       /* bytes per slot, power of two, RING_MIN_SLOT..RING_MAX_SLOT */
    uint32_t slot_count;      /* power of two, 1..RING_MAX_SLOTS */
    uint8_t pad[RING_ALIGN - 16];
};

struct ring_index {
    uint32_t value;
    uint8_t pad[RING_ALIGN - 4];
};

/* Header of a message in a slot; the payload follows it. */
struct ring_msg {
    uint32_t seq;             /* the head index this message was published at */
    uint16_t type;
    uint16_t flags;
    uint32_t length;          /* payload bytes */
    uint32_t check;           /* ring_msg_check() of the other fields */
    uint64_t request_id;
};

/* Bytes of shared memory a ring with these parameters takes (64-bit: no wrap where
 * size_t is narrower). */
static inline uint64_t ring_bytes(uint32_t slot_size, uint32_t slot_count)
{
    return sizeof(struct ring_header) + 2 * sizeof(struct ring_index) +
           (uint64_t)slot_size * slot_count;
}

static inline bool ring_power_of_two(uint32_t v)
{
    return v && !(v & (v - 1));
}

/* Whether a ring with these parameters is valid and fits in size bytes: the rules of
 * ring_format, the attach checks and the hypervisor's layout validation. A power-of-two
 * slot of at least RING_MIN_SLOT bytes is a whole number of cache lines. */
static inline bool ring_params_ok(size_t size, uint32_t slot_size, uint32_t slot_count)
{
    return ring_power_of_two(slot_size) && slot_size >= RING_MIN_SLOT &&
           slot_size <= RING_MAX_SLOT && ring_power_of_two(slot_count) &&
           slot_count <= RING_MAX_SLOTS && ring_bytes(slot_size, slot_count) <= size;
}

/* Counters of one side of a ring. */
struct ring_stats {
    uint64_t sent;
    uint64_t received;
    uint64_t rejected_index;   /* peer's index out of range */
    uint64_t rejected_length;  /* length past the slot */
    uint64_t rejected_type;    /* a type this side does not accept */
    uint64_t rejected_torn;    /* sequence or check word wrong */
};

/* Every message this side has rejected, whatever the reason. */
static inline uint64_t ring_rejected(const struct ring_stats *s)
{
    return s->rejected_index + s->rejected_length + s->rejected_type + s->rejected_torn;
}

/* One side's view of a ring: private copies of what it must not re-read from the peer. */
struct ring {
    struct ring_header *hdr;
    struct ring_index *head, *tail;
    uint8_t *slots;
    uint32_t slot_size, slot_count;   /* validated copies of the header */
    uint32_t index;                   /* producer: next head; consumer: next tail */
    bool (*accept)(uint16_t type);    /* consumer: types it takes (NULL: all) */
    struct ring_stats stats;
};

/* Hypervisor, at boot: lay out a ring in mem (size bytes). -EINVAL if it does not fit
 * or the parameters are not powers of two in range. */
int ring_format(void *mem, size_t size, uint32_t slot_size, uint32_t slot_count);

/* Either side: attach to a formatted ring in mem; checks the header against size.
 * -EINVAL for a bad header. The producer starts at the published head, the consumer at
 * the published tail (so a restarted partition resumes rather than replays). */
int ring_attach_producer(struct ring *r, void *mem, size_t size);
int ring_attach_consumer(struct ring *r, void *mem, size_t size, bool (*accept)(uint16_t type));

/* Largest payload one message can carry on r. */
uint32_t ring_max_payload(const struct ring *r);

/* Producer: 0, -EAGAIN (full), -EMSGSIZE (too long), -EPROTO (consumer's tail out of
 * range: counted in rejected_index). */
int ring_push(struct ring *r, uint16_t type, uint16_t flags, uint64_t request_id,
              const void *payload, uint32_t length);

/* Consumer: copies the next message's header to *msg and payload (up to cap bytes; a
 * payload larger than cap is -EMSGSIZE and is left in place, with its header still copied
 * to *msg so the caller learns the length it needs) and returns 0; -EAGAIN when
 * empty; -EPROTO when the producer's head is out of range (nothing consumed); -EBADMSG
 * when the message was rejected (it is consumed and counted: the ring goes on). */
int ring_pop(struct ring *r, struct ring_msg *msg, void *payload, uint32_t cap);

/* Messages waiting, as the consumer sees them (0 if the head is out of range). */
uint32_t ring_pending(const struct ring *r);

/* The check word of a message header. */
uint32_t ring_msg_check(const struct ring_msg *m);

#endif /* SHARED_RING_H */
