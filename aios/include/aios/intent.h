/*
 * libaios intent engine: what a sentence typed at the RT shell asks for.
 *
 * Each intent is defined by example sentences (aios/intents/<intent>.txt, packed into one
 * corpus: "intent<TAB>sentence" lines). The engine embeds every example with the sentence
 * encoder and indexes them (HNSW); a sentence is classified by its nearest examples, with
 * a confidence, and below the threshold the answer is `clarify` with the best guesses.
 * Slots (file names, numbers, durations, partition names, free text) are read from the
 * sentence by rules. The last turns are kept as context, so "it" and "that file" find the
 * last file named, and "what about the cpu" keeps the previous intent with a new subject.
 * A semantic memory (memory.remember / memory.recall) keeps facts, embedded and indexed;
 * a fact is stored by aios_intent_remember once the trusted side grants the request.
 *
 * The engine only proposes: it returns a structured result and never acts. All memory
 * comes from the arena given at init; nothing here needs libc beyond shared/libc.
 */
#ifndef AIOS_INTENT_H
#define AIOS_INTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aios/common.h"
#include "aios/encoder.h"
#include "aios/hnsw.h"

#define AIOS_INTENT_NAME_MAX   24
#define AIOS_INTENT_MAX_SLOTS  4
#define AIOS_INTENT_SLOT_NAME  16
#define AIOS_INTENT_SLOT_VALUE 96
#define AIOS_INTENT_MAX_INTENTS 32
#define AIOS_INTENT_CONTEXT    10     /* turns remembered */
#define AIOS_INTENT_MAX_FACTS  256

struct aios_intent_slot {
    char name[AIOS_INTENT_SLOT_NAME];
    char value[AIOS_INTENT_SLOT_VALUE];
};

struct aios_intent_result {
    char intent[AIOS_INTENT_NAME_MAX];
    float confidence;                 /* 0..1 */
    unsigned nslots;
    struct aios_intent_slot slots[AIOS_INTENT_MAX_SLOTS];
};

struct aios_intent_turn {
    struct aios_intent_result result;
};

struct aios_intent_engine {
    const struct aios_encoder *enc;
    size_t dim;
    char names[AIOS_INTENT_MAX_INTENTS][AIOS_INTENT_NAME_MAX];
    unsigned nintents;
    uint8_t *example_intent;          /* [examples + learned]: index into names */
    uint32_t nexamples;               /* from the corpus, then learned ones */
    struct aios_hnsw examples;        /* label = example number */
    float *unknown;                   /* the encoder's embedding of nonsense */
    /* Context: the last turns, newest last; "it" is an entity one of them named. */
    struct aios_intent_turn turns[AIOS_INTENT_CONTEXT];
    unsigned nturns;
    /* Semantic memory. */
    char (*facts)[AIOS_INTENT_SLOT_VALUE];
    uint32_t nfacts;
    struct aios_hnsw memory;          /* label = fact number */
    float threshold;                  /* below: clarify */
    struct aios_arena *arena;         /* scratch for each sentence */
};

/*
 * Build the engine: parse the corpus (len bytes of "intent<TAB>sentence" lines; '#'
 * comments and blank lines allowed), embed and index every example. Memory comes from
 * arena (also used, and released, as scratch for each later call). AIOS_OK, or
 * AIOS_EINVAL / AIOS_ENOMEM with the reason in err.
 */
int aios_intent_init(struct aios_intent_engine *e, const struct aios_encoder *enc,
                     const char *corpus, size_t len, struct aios_arena *arena, char *err,
                     size_t errlen);

/* Understand text (NUL-terminated) in the context of the turns so far, and remember the
 * turn. AIOS_OK, or AIOS_ENOMEM when the arena is exhausted. */
int aios_intent_understand(struct aios_intent_engine *e, const char *text,
                           struct aios_intent_result *out);

/* A correction: text is an example of intent (one the corpus defines) from now on.
 * AIOS_OK; AIOS_EINVAL for an unknown intent or text with nothing to find it by;
 * AIOS_ERANGE when AIOS_INTENT_MAX_LEARNED examples have been learned; reason in err. */
#define AIOS_INTENT_MAX_LEARNED 256
int aios_intent_learn(struct aios_intent_engine *e, const char *text, const char *intent,
                      char *err, size_t errlen);

/* memory.remember, once granted: store fact (what the engine put in the result's "fact"
 * slot), embedded and indexed, for memory.recall. AIOS_OK (also when the very same fact is
 * stored already); AIOS_EINVAL for an empty or too long fact or one without words;
 * AIOS_ERANGE when AIOS_INTENT_MAX_FACTS are stored (nothing is forgotten to make room);
 * reason in err (a bare reason: callers say what failed). understand only proposes a
 * fact: it stores nothing. */
int aios_intent_remember(struct aios_intent_engine *e, const char *fact, char *err,
                         size_t errlen);

/* A new conversation: forget the turns (not the memory). */
void aios_intent_reset(struct aios_intent_engine *e);

/* The value of slot name in r, or NULL. */
const char *aios_intent_slot(const struct aios_intent_result *r, const char *name);

#endif /* AIOS_INTENT_H */
