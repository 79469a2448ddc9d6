/*
 * The AI partition's inference service: the model and tokenizer modules the hypervisor
 * loaded, libaios's forward pass spread over the partition's cpus, and `ask` requests
 * from the RT partition answered token by token over the ring.
 */
#ifndef AIOS_RUNTIME_INFER_H
#define AIOS_RUNTIME_INFER_H

#include <stdbool.h>

#include "guest.h"
#include "ring.h"

/* Load the model and tokenizer modules; says on the console what it found. mem/size:
 * the memory it may take. */
void infer_init(void *mem, size_t size);

/* Serve one MSG_ASK (msg and its payload) from the rx ring's peer: stream MSG_TOKENs and
 * a MSG_ASK_DONE on tx. While it runs, MSG_CANCEL for this ask stops it and pings are
 * answered; anything else waits. */
void infer_ask(const struct guest_channel *ch, struct ring *rx, struct ring *tx,
               const struct ring_msg *msg, const void *payload);

/* Called by a cpu with nothing else to do: while a generation runs, work for it.
 * (A guest_idle_hook: returns false, it prints nothing.) */
bool infer_worker_poll(void);

#endif /* AIOS_RUNTIME_INFER_H */
