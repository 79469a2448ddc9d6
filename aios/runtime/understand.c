/*
 * Intents in the AI partition; see understand.h.
 */
#include <errno.h>
#include <string.h>

#include "aarch64.h"
#include "aios/encoder.h"
#include "aios/intent.h"
#include "channel.h"
#include "kprintf.h"
#include "msg.h"
#include "understand.h"

_Static_assert(sizeof(struct msg_intent_result) <= RING_MAX_SLOT, "fits a message");
_Static_assert(INTENT_MAX_SLOTS == AIOS_INTENT_MAX_SLOTS && INTENT_SLOT_VALUE == AIOS_INTENT_SLOT_VALUE &&
               INTENT_SLOT_NAME == AIOS_INTENT_SLOT_NAME && INTENT_NAME_MAX == AIOS_INTENT_NAME_MAX,
               "the message carries the engine's result as it is");

static struct {
    bool ready;
    char why[160];
    struct aios_encoder enc;
    struct aios_intent_engine engine;
    struct aios_arena arena;
} u;

void understand_init(void *mem, size_t size)
{
    const struct guest_module *em = guest_module("encoder"), *cm = guest_module("intents");
    int rc;

    if (!em || !cm) {
        ksnprintf(u.why, sizeof(u.why), "the layout gives this partition no %s module",
                  !em ? "encoder" : "intents");
        kprintf("aios: no intents: %s\n", u.why);
        return;
    }
    aios_arena_init(&u.arena, mem, size);
    rc = aios_encoder_load(&u.enc, (const void *)(uintptr_t)em->base, em->size, u.why,
                           sizeof(u.why));
    if (!rc)
        rc = aios_intent_init(&u.engine, &u.enc, (const char *)(uintptr_t)cm->base, cm->size,
                              &u.arena, u.why, sizeof(u.why));
    if (rc) {
        kprintf("aios: no intents: %s\n", u.why);
        return;
    }
    u.ready = true;
    kprintf("aios: intents: %u examples of %u intents indexed (encoder dim %u)\n",
            u.engine.nexamples, u.engine.nintents, (unsigned)aios_encoder_dim(&u.enc));
}

void understand_learn(const struct guest_channel *ch, struct ring *rx, struct ring *tx,
                      const struct ring_msg *msg, const void *payload)
{
    static char text[RING_MAX_SLOT + 1];
    struct msg_learn req;
    struct msg_done done;

    memset(&done, 0, sizeof(done));
    if (msg->length <= sizeof(req)) {
        done.status = AIOS_EINVAL;
        ksnprintf(done.detail, sizeof(done.detail), "learn: malformed request");
    } else {
        memcpy(&req, payload, sizeof(req));
        req.intent[sizeof(req.intent) - 1] = '\0';
        memcpy(text, (const uint8_t *)payload + sizeof(req), msg->length - sizeof(req));
        text[msg->length - sizeof(req)] = '\0';
        if (!u.ready) {
            done.status = AIOS_EINVAL;
            ksnprintf(done.detail, sizeof(done.detail), "no intent engine: %s", u.why);
        } else {
            done.status = aios_intent_learn(&u.engine, text, req.intent, done.detail,
                                            sizeof(done.detail));
        }
    }
    channel_send(ch, rx, tx, MSG_LEARN_DONE, msg->request_id, &done, sizeof(done));
}

void understand_remember(const struct guest_channel *ch, struct ring *rx, struct ring *tx,
                         const struct ring_msg *msg, const void *payload)
{
    static char fact[RING_MAX_SLOT + 1];
    struct msg_done done;

    memset(&done, 0, sizeof(done));
    memcpy(fact, payload, msg->length);
    fact[msg->length] = '\0';
    if (!u.ready) {
        done.status = AIOS_EINVAL;
        ksnprintf(done.detail, sizeof(done.detail), "no intent engine: %s", u.why);
    } else if (strlen(fact) != msg->length) {
        done.status = AIOS_EINVAL;
        ksnprintf(done.detail, sizeof(done.detail), "malformed request");
    } else {
        done.status = aios_intent_remember(&u.engine, fact, done.detail, sizeof(done.detail));
    }
    channel_send(ch, rx, tx, MSG_REMEMBER_DONE, msg->request_id, &done, sizeof(done));
}

void understand(const struct guest_channel *ch, struct ring *rx, struct ring *tx,
                const struct ring_msg *msg, const void *payload)
{
    static char text[RING_MAX_SLOT + 1];
    struct aios_intent_result r;
    struct msg_intent_result out;

    memset(&out, 0, sizeof(out));
    memcpy(text, payload, msg->length);
    text[msg->length] = '\0';
    if (!u.ready || aios_intent_understand(&u.engine, text, &r)) {
        /* Nothing understood: say so in the schema's own terms. */
        memcpy(out.intent, "clarify", sizeof("clarify"));
    } else {
        memcpy(out.intent, r.intent, sizeof(out.intent));
        out.confidence_milli = (uint32_t)(r.confidence * 1000.0f + 0.5f);
        out.nslots = r.nslots;
        memcpy(out.slots, r.slots, sizeof(out.slots));
    }
    channel_send(ch, rx, tx, MSG_INTENT_RESULT, msg->request_id, &out, sizeof(out));
}

void understand_print_embedding(const char *text)
{
    /* Its own scratch: the ring server may be using the engine's arena on another cpu. */
    static uint8_t scratch_mem[16384];
    static float v[AIOS_ENC_MAX_EMBED];
    struct aios_arena scratch;
    size_t dim;

    if (!u.ready) {
        kprintf("embed: no encoder: %s\n", u.why);
        return;
    }
    dim = aios_encoder_dim(&u.enc);
    aios_arena_init(&scratch, scratch_mem, sizeof(scratch_mem));
    if (aios_encoder_embed(&u.enc, text, v, &scratch)) {
        kprintf("embed: out of memory\n");
        return;
    }
    /* The exact bits, to compare with the host's (aios-intent --embed). */
    kprintf("embedding %u:", (unsigned)dim);
    for (size_t i = 0; i < dim; i++) {
        uint32_t bits;

        memcpy(&bits, &v[i], sizeof(bits));
        kprintf(" %08x", bits);
    }
    kprintf("\n");
}
