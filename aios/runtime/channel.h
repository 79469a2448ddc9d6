/*
 * The AI partition's way of answering on a channel: push the message, ring the peer's
 * doorbell. Shared by the ring server and the services it calls (inference, intents).
 */
#ifndef AIOS_RUNTIME_CHANNEL_H
#define AIOS_RUNTIME_CHANNEL_H

#include <stdint.h>

#include "guest.h"
#include "ring.h"

/* Send one message on tx and ring ch's doorbell (passing rx's rejection count). While
 * the ring is full it waits a millisecond at a time: the peer frees slots as it reads,
 * and does not ring for that. */
void channel_send(const struct guest_channel *ch, struct ring *rx, struct ring *tx,
                  uint16_t type, uint64_t id, const void *payload, uint32_t size);

#endif /* AIOS_RUNTIME_CHANNEL_H */
