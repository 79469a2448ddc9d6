/*
 * The AI partition's intent service: the encoder and intent-corpus modules the hypervisor
 * loaded, the libaios intent engine built on them at boot, and MSG_INTENT requests from
 * the RT partition answered with what the engine understood (never acted on here); a fact
 * is stored in the engine's memory only when the RT partition, having granted a
 * memory.remember, sends it back (MSG_REMEMBER).
 */
#ifndef AIOS_RUNTIME_UNDERSTAND_H
#define AIOS_RUNTIME_UNDERSTAND_H

#include "guest.h"
#include "ring.h"

/* Build the engine from the "encoder" and "intents" modules; says on the console what it
 * found. mem/size: the memory it may take. */
void understand_init(void *mem, size_t size);

/* Answer one MSG_INTENT (msg, its payload) with a MSG_INTENT_RESULT on tx. */
void understand(const struct guest_channel *ch, struct ring *rx, struct ring *tx,
                const struct ring_msg *msg, const void *payload);

/* Answer one MSG_LEARN with a MSG_LEARN_DONE. */
void understand_learn(const struct guest_channel *ch, struct ring *rx, struct ring *tx,
                      const struct ring_msg *msg, const void *payload);

/* Answer one MSG_REMEMBER (a memory.remember the RT side granted: store the fact) with a
 * MSG_REMEMBER_DONE. */
void understand_remember(const struct guest_channel *ch, struct ring *rx, struct ring *tx,
                         const struct ring_msg *msg, const void *payload);

/* The encoder's embedding of text, as the bits of each float, on the console. */
void understand_print_embedding(const char *text);

#endif /* AIOS_RUNTIME_UNDERSTAND_H */
