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
