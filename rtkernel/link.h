/*
 * The RT kernel's end of its channels to other partitions: the two rings of each, and
 * request/answer exchanges over them. Everything that comes back is checked by the ring
 * library; an answer that does not match the request is dropped and counted.
 */
#ifndef RT_LINK_H
#define RT_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "ring.h"

#define LINK_PING_MAX 256   /* bytes a ping may carry */

struct guest_channel;

struct link {
    const char *peer;
    const struct guest_channel *channel;
    struct ring tx, rx;
    uint64_t next_request;
    uint64_t stray;        /* answers to no outstanding request */
};

/* The link to partition peer, attached on first use; NULL if the layout has no channel
 * to it or its rings are not usable. */
struct link *link_to(const char *peer);
/* One ping carrying size bytes (at least sizeof(struct msg_ping), at most
 * LINK_PING_MAX): 0 and the round trip in counter ticks and in cycles (also recorded in
 * the ring round-trip histogram), or a negative error. */
int link_ping(struct link *l, uint32_t size, uint64_t *ticks, uint64_t *cycles);
/* Send one request; *id is what its answer will carry. 0 or a ring error. */
int link_send(struct link *l, uint16_t type, const void *payload, uint32_t size, uint64_t *id);
/* Send a message about request id (not a new request). 0 or a ring error. */
int link_notify(struct link *l, uint16_t type, uint64_t id, const void *payload, uint32_t size);
/* Take the next message, if any: 0, -EAGAIN when there is none, or the ring's error for
 * one it rejected (and counted). */
int link_receive(struct link *l, struct ring_msg *msg, void *buf, size_t cap);
/* Whether an answer of this type to request id has arrived (other messages are dropped). */
bool link_answered(struct link *l, uint64_t id, uint16_t type);
/* Words for an error link_ping returned. */
const char *link_error(struct link *l, int rc);

#endif /* RT_LINK_H */
