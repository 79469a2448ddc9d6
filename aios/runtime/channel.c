/*
 * Answering on a channel; see channel.h.
 */
#include <errno.h>

#include "aarch64.h"
#include "channel.h"

void channel_send(const struct guest_channel *ch, struct ring *rx, struct ring *tx,
                  uint16_t type, uint64_t id, const void *payload, uint32_t size)
{
    while (ring_push(tx, type, 0, id, payload, size) == -EAGAIN)
        guest_wait_until(read_sysreg(cntvct_el0) + read_sysreg(cntfrq_el0) / 1000);
    hyp_doorbell(ch, ring_rejected(&rx->stats));
}
