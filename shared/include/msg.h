/*
 * Message types carried on the rings between partitions, and their payloads. Every
 * partition image uses this one list; a receiver accepts only the types it serves.
 */
#ifndef SHARED_MSG_H
#define SHARED_MSG_H

#include <stdint.h>

enum msg_type {
    MSG_PING = 1,      /* payload: struct msg_ping; answered with MSG_PONG */
    MSG_PONG = 2,      /* payload: the ping's, returned as it came */
    MSG_PROBE = 3,     /* payload: struct msg_probe; the isolation test's request */
    MSG_PROBE_DONE = 4,/* payload: struct msg_probe; the access went through */
    MSG_ASK = 5,       /* payload: struct msg_ask, then the prompt (UTF-8, not terminated) */
    MSG_TOKEN = 6,     /* payload: struct msg_token, then the token's text; one per token */
    MSG_ASK_DONE = 7,  /* payload: struct msg_ask_done; the answer to an ask is complete */
    MSG_CANCEL = 8,    /* no payload; request_id names the ask to stop */
    MSG_INTENT = 9,    /* payload: a sentence (UTF-8, not terminated) to understand */
    MSG_INTENT_RESULT = 10, /* payload: struct msg_intent_result */
    MSG_LEARN = 11,    /* payload: struct msg_learn, then the sentence (not terminated) */
    MSG_LEARN_DONE = 12, /* payload: struct msg_done */
    MSG_REMEMBER = 13, /* payload: the fact (UTF-8, not terminated): a granted memory.remember */
    MSG_REMEMBER_DONE = 14, /* payload: struct msg_done */
};

/* A correction: the sentence that follows is an example of intent from now on. */
struct msg_learn {
    char intent[24];          /* NUL-terminated */
};

/* The answer to a MSG_LEARN or a MSG_REMEMBER. */
struct msg_done {
    int32_t status;           /* 0, or the engine's negative error */
    char detail[92];          /* NUL-terminated: why, when status is not 0 */
};

/*
 * What the AI partition understood: an intent of the schema (docs/intents.md) with its
 * slots, and how sure it is. It proposes; the RT side checks every field (NUL-terminated,
 * a known intent, known slot names, printable values) and the layout's grants, and acts.
 * clarify carries its best guesses as "candidate" slots; memory.recall its answer in
 * "answer" (empty: nothing known).
 */
#define INTENT_NAME_MAX   24
#define INTENT_MAX_SLOTS  4
#define INTENT_SLOT_NAME  16
#define INTENT_SLOT_VALUE 96

struct msg_intent_slot {
    char name[INTENT_SLOT_NAME];
    char value[INTENT_SLOT_VALUE];
};

struct msg_intent_result {
    char intent[INTENT_NAME_MAX];
    uint32_t confidence_milli;   /* 0..1000 */
    uint32_t nslots;
    struct msg_intent_slot slots[INTENT_MAX_SLOTS];
};

/* Generate text from the prompt that follows. Fixed point: no floating point is needed
 * on the RT side. The answer is MSG_TOKENs then one MSG_ASK_DONE, all with the ask's
 * request id. */
struct msg_ask {
    uint32_t max_tokens;      /* tokens to generate at most (the model's context bounds it) */
    uint32_t temperature_milli;  /* 0: greedy */
    uint32_t top_p_milli;     /* 1000 or more: no nucleus cut */
    uint32_t cores;           /* cores to spread the work over; 0: all */
    uint64_t seed;
    uint32_t flags;           /* ASK_TAKE_TURNS */
    uint32_t pad;
};

/* The cores take turns on each job (the worker's parts, then the driver's) instead of
 * working at once: no faster, but an instruction counter that every core shares (QEMU's
 * under -icount) then counts each part alone, so the critical path is right. */
#define ASK_TAKE_TURNS 1u

struct msg_token {
    uint32_t index;           /* 0 for the first generated token */
    int32_t id;               /* the token id */
};

enum msg_ask_status {
    ASK_OK = 0,               /* generated max_tokens, or the model ended the text */
    ASK_CANCELLED = 1,        /* stopped by MSG_CANCEL */
    ASK_NO_MODEL = 2,         /* the partition has no usable model or tokenizer */
    ASK_TOO_LONG = 3,         /* the prompt does not fit the model's context */
    ASK_BAD_REQUEST = 4,      /* malformed request */
};

struct msg_ask_done {
    uint32_t status;          /* enum msg_ask_status */
    uint32_t prompt_tokens;
    uint32_t generated;
    uint32_t context;         /* the model's context (seq_len) */
    uint64_t ticks;           /* virtual counter ticks from the first token to the last */
    /* Instructions retired per forward pass (each with its sampling and streaming), from
     * the PMU, waiting left out; 0 if unknown. With one core all three are its count. With
     * more (docs/inference.md, Two cores): */
    uint64_t instructions;    /* the critical path: serial, plus each job's longest part */
    uint64_t serial;          /* the driving core's work outside the parts, hand-off included */
    uint64_t work;            /* every core's work: serial, plus every part */
    uint32_t cores;           /* the cores that shared the work */
    uint32_t pad;
    char detail[64];          /* NUL-terminated: why, for a status other than ASK_OK */
};

/* Ask the receiver to access an address it does not own, for the isolation test. The
 * expected outcome is no answer: the hypervisor stops the receiver on the access. */
struct msg_probe {
    uint64_t address;
    uint8_t write;     /* 0 read, 1 write */
    uint8_t device;    /* map it as device memory (a device's registers) */
    uint8_t pad[6];
};

struct msg_ping {
    uint64_t sent_at;  /* sender's virtual counter when sent */
};

#endif /* SHARED_MSG_H */
