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
};

struct msg_ping {
    uint64_t sent_at;  /* sender's virtual counter when sent */
};

#endif /* SHARED_MSG_H */
