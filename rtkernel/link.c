/*
 * Channels from the RT partition; see link.h.
 */
#include <errno.h>
#include <string.h>

#include "aarch64.h"
#include "guest.h"
#include "kprintf.h"
#include "link.h"
#include "msg.h"
#include "shell.h"

#define ANSWER_TIMEOUT_MS 1000

static struct link links[GUEST_MAX_CHANNELS];
static unsigned nlinks;

static bool accept_answer(uint16_t type)
{
    return type == MSG_PONG || type == MSG_PROBE_DONE || type == MSG_TOKEN ||
           type == MSG_ASK_DONE || type == MSG_INTENT_RESULT || type == MSG_LEARN_DONE ||
           type == MSG_REMEMBER_DONE;
}

struct link *link_to(const char *peer)
{
    const struct guest_channel *ch = guest_channel(peer);
    struct link *l;

    for (unsigned i = 0; i < nlinks; i++)
        if (!strcmp(links[i].peer, peer))
            return &links[i];
    if (!ch || nlinks == GUEST_MAX_CHANNELS)
        return NULL;
    l = &links[nlinks];
    memset(l, 0, sizeof(*l));
    l->peer = ch->peer;
    l->channel = ch;
    if (ch->doorbell)
        guest_irq_enable(ch->doorbell, guest_cpu_id());
    if (ring_attach_producer(&l->tx, (void *)(uintptr_t)(ch->base + ch->tx_offset), ch->ring_size) ||
        ring_attach_consumer(&l->rx, (void *)(uintptr_t)(ch->base + ch->rx_offset), ch->ring_size,
                             accept_answer))
        return NULL;
    nlinks++;
    perf_show_link(l);
    return l;
}

int link_ping(struct link *l, uint32_t size, uint64_t *ticks, uint64_t *cycles)
{
    uint64_t start, c0, deadline;
    uint64_t timeout = read_sysreg(cntfrq_el0) / 1000 * ANSWER_TIMEOUT_MS;
    uint64_t id = ++l->next_request;
    static uint8_t out[LINK_PING_MAX], in[LINK_PING_MAX];
    struct msg_ping *ping = (struct msg_ping *)out;
    struct ring_msg msg;
    int rc;

    if (size < sizeof(*ping) || size > sizeof(out))
        return -EMSGSIZE;
    /* A pattern the answer must bring back intact. */
    for (uint32_t i = 0; i < size; i++)
        out[i] = (uint8_t)(id * 31 + i);
    /* The round trip is the transport's: from the push to the answer taken out. */
    start = read_sysreg(cntvct_el0);
    c0 = read_sysreg(pmccntr_el0);
    deadline = start + timeout;
    ping->sent_at = start;
    rc = ring_push(&l->tx, MSG_PING, 0, id, out, size);
    if (rc)
        return rc;
    hyp_doorbell(l->channel, ring_rejected(&l->rx.stats));
    while (read_sysreg(cntvct_el0) - start < timeout) {
        rc = ring_pop(&l->rx, &msg, in, sizeof(in));
        if (rc == -EAGAIN || rc == -EBADMSG || rc == -EPROTO) {
            /* The answer comes with a doorbell: sleep until it rings. */
            if (rc == -EAGAIN)
                guest_wait_until(deadline);
            continue;
        }
        if (rc == 0) {
            uint64_t t1 = read_sysreg(cntvct_el0), c1 = read_sysreg(pmccntr_el0);

            if (msg.request_id == id && msg.length == size && !memcmp(in, out, size)) {
                *ticks = t1 - start;
                *cycles = c1 - c0;
                hist_record(HIST_RING_ROUND_TRIP, *cycles);
                return 0;
            }
        }
        l->stray++;   /* an old answer, or one that does not match what we sent */
    }
    return -ETIMEDOUT;
}

int link_notify(struct link *l, uint16_t type, uint64_t id, const void *payload, uint32_t size)
{
    int rc = ring_push(&l->tx, type, 0, id, payload, size);

    if (!rc)
        hyp_doorbell(l->channel, ring_rejected(&l->rx.stats));
    return rc;
}

int link_send(struct link *l, uint16_t type, const void *payload, uint32_t size, uint64_t *id)
{
    *id = ++l->next_request;
    return link_notify(l, type, *id, payload, size);
}

int link_receive(struct link *l, struct ring_msg *msg, void *buf, size_t cap)
{
    return ring_pop(&l->rx, msg, buf, cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap);
}

bool link_answered(struct link *l, uint64_t id, uint16_t type)
{
    static uint8_t in[RING_MAX_SLOT];
    struct ring_msg msg;
    int rc;

    while ((rc = ring_pop(&l->rx, &msg, in, sizeof(in))) != -EAGAIN && rc != -EPROTO) {
        if (rc == 0 && msg.request_id == id && msg.type == type)
            return true;
        l->stray++;
    }
    return false;
}

const char *link_error(struct link *l, int rc)
{
    static char buf[160];
    struct hyp_partition_info info;
    const char *state = hyp_partition_find(l->peer, &info) >= 0 ? hyp_state_name(info.state)
                                                                 : "unknown";
    if (rc == -EAGAIN)
        ksnprintf(buf, sizeof(buf), "the ring to %s is full (%s is %s)", l->peer, l->peer, state);
    else if (rc == -ETIMEDOUT)
        ksnprintf(buf, sizeof(buf), "no answer from %s within %d ms (%s is %s)", l->peer,
                  ANSWER_TIMEOUT_MS, l->peer, state);
    else
        ksnprintf(buf, sizeof(buf), "the ring to %s refused the message (%d)", l->peer, rc);
    return buf;
}
