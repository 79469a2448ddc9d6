/*
 * Intents: a sentence typed at `rt> ` (`intent <text>`, or any line that is not a
 * command) goes to the AI partition, which answers with what it understood. The AI
 * partition never acts: this is the trusted side. Its answer is checked field by field,
 * then against what the layout lets it request (its may-request list, in our channel's
 * device tree node), and only then carried out here. A refusal is printed and logged.
 */
#include <errno.h>
#include <string.h>

#include "aarch64.h"
#include "calc.h"
#include "guest.h"
#include "kprintf.h"
#include "link.h"
#include "msg.h"
#include "shell.h"

#define INTENT_PEER       "ai"
#define INTENT_TIMEOUT_MS 5000

/* The schema: each intent and the slots it may carry. */
static const struct intent_kind {
    const char *name;
    const char *slots[3];
} kinds[] = {
    { "status.show", { "subject" } },
    { "file.create", { "name" } },
    { "file.write", { "name", "text" } },
    { "file.read", { "name" } },
    { "file.list", { 0 } },
    { "file.delete", { "name" } },
    { "memory.remember", { "fact" } },
    { "memory.recall", { "query", "answer" } },
    { "compute.calc", { "expr" } },
    { "perf.report", { 0 } },
    { "partition.restart", { "partition" } },
    { "timer.set", { "seconds" } },
    { "help", { 0 } },
    { "chat", { 0 } },
    { "clarify", { "candidate" } },
};

static const struct intent_kind *kind_of(const char *name)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (!strcmp(kinds[i].name, name))
            return &kinds[i];
    return NULL;
}

/* A field from the peer: NUL-terminated within its size and printable. */
static bool clean_string(const char *s, size_t size, bool may_be_empty)
{
    size_t n = strnlen(s, size);

    if (n == size || (!n && !may_be_empty))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* NULL when r is well formed, else why not. */
static const char *check(const struct msg_intent_result *r, const struct intent_kind **kind)
{
    if (!clean_string(r->intent, sizeof(r->intent), false))
        return "the intent name is not a string";
    *kind = kind_of(r->intent);
    if (!*kind)
        return "an intent outside the schema";
    if (r->confidence_milli > 1000)
        return "a confidence above 1";
    if (r->nslots > INTENT_MAX_SLOTS)
        return "too many slots";
    for (uint32_t i = 0; i < r->nslots; i++) {
        const struct msg_intent_slot *slot = &r->slots[i];
        bool known = false;

        if (!clean_string(slot->name, sizeof(slot->name), false) ||
            !clean_string(slot->value, sizeof(slot->value), true))
            return "a slot that is not a pair of strings";
        for (size_t k = 0; k < 3 && (*kind)->slots[k]; k++)
            known |= !strcmp(slot->name, (*kind)->slots[k]);
        if (!known)
            return "a slot this intent does not have";
    }
    return NULL;
}

static const char *slot(const struct msg_intent_result *r, const char *name)
{
    for (uint32_t i = 0; i < r->nslots; i++)
        if (!strcmp(r->slots[i].name, name))
            return r->slots[i].value;
    return NULL;
}

static void restart_partition(const char *name)
{
    struct hyp_partition_info info;
    int index = name ? hyp_partition_find(name, &info) : -1;

    if (index < 0) {
        kprintf("there is no partition '%s' in this layout\n", name ? name : "?");
        return;
    }
    if ((unsigned)index == guest.index) {
        kprintf("the RT partition does not restart itself on request\n");
        return;
    }
    if (hyp_partition_restart((unsigned)index))
        kprintf("the hypervisor refused to restart %s (the layout does not grant it to rt, "
                "or it is already restarting)\n", name);
    else
        kprintf("restarting %s\n", name);
}

/* Wait for the answer of type to request id; false (and says why) on a timeout. */
static bool answer(struct link *l, uint64_t id, uint16_t type, struct ring_msg *msg, void *in)
{
    uint64_t start = read_sysreg(cntvct_el0);

    for (;;) {
        int rc = link_receive(l, msg, in, RING_MAX_SLOT);

        if (rc == 0 && msg->request_id == id && msg->type == type)
            return true;
        if (rc == 0)
            l->stray++;
        if (read_sysreg(cntvct_el0) - start > read_sysreg(cntfrq_el0) / 1000 * INTENT_TIMEOUT_MS) {
            kprintf("intent: no answer from %s within %d ms\n", INTENT_PEER, INTENT_TIMEOUT_MS);
            return false;
        }
        if (rc == -EAGAIN)
            guest_wait_until(read_sysreg(cntvct_el0) + read_sysreg(cntfrq_el0) / 1000);
    }
}

/* Send a request of type to the AI partition and wait for its done_type answer, checked
 * (size, a printable detail): false, having said why (prefixed with what), when there is
 * none usable. */
static bool request_done(const char *what, struct link *l, uint16_t type, const void *payload,
                         uint32_t len, uint16_t done_type, struct msg_done *done)
{
    static uint8_t in[RING_MAX_SLOT];
    struct ring_msg msg;
    uint64_t id;
    int rc = link_send(l, type, payload, len, &id);

    if (rc) {
        kprintf("%s: %s\n", what, link_error(l, rc));
        return false;
    }
    if (!answer(l, id, done_type, &msg, in))
        return false;
    memcpy(done, in, sizeof(*done));
    if (msg.length != sizeof(*done) || !clean_string(done->detail, sizeof(done->detail), true)) {
        kprintf("%s: the AI partition answered with a malformed message; ignored\n", what);
        return false;
    }
    return true;
}

/* Carry out r, which check() passed and the layout grants; l is the link to the AI
 * partition. */
static void act(struct link *l, const struct msg_intent_result *r, const char *text)
{
    const char *name = r->intent;

    if (!strcmp(name, "status.show")) {
        if (!rt_status(slot(r, "subject")))
            kprintf("status: nothing known about '%s'\n", slot(r, "subject"));
    } else if (!strcmp(name, "partition.restart")) {
        restart_partition(slot(r, "partition"));
    } else if (!strcmp(name, "perf.report")) {
        cmd_perf(1, (char *[]){ "perf", NULL });
    } else if (!strcmp(name, "timer.set")) {
        unsigned long seconds;
        const char *s = slot(r, "seconds");
        int n;

        if (!s || !shell_parse_count(s, &seconds) || !seconds) {
            kprintf("timer: how many seconds?\n");
            return;
        }
        n = rt_timer_set(seconds);
        if (n < 0)
            kprintf(n == -1 ? "timer: %lu seconds is not a duration I can set\n"
                            : "timer: all timers are running (%lu seconds not set)\n", seconds);
        else
            kprintf("timer %d set: %lu second%s\n", n, seconds, seconds == 1 ? "" : "s");
    } else if (!strcmp(name, "compute.calc")) {
        const char *expr = slot(r, "expr");
        char err[96], out[48];
        int64_t v;

        if (!expr || calc_eval(expr, &v, err, sizeof(err)))
            kprintf("calc: %s\n", expr ? err : "no expression");
        else {
            calc_format(v, out, sizeof(out));
            kprintf("%s = %s\n", expr, out);
        }
    } else if (!strcmp(name, "help")) {
        kprintf("Ask me in your own words: the status of the system (cpu, memory, uptime, "
                "partitions, temperature), a timer, a calculation, the perf counters, to "
                "restart a partition, to remember a fact and recall it; or chat. The "
                "commands are:\n");
        shell_execute((char[]){ "help" });
    } else if (!strcmp(name, "chat")) {
        struct msg_ask a;

        rt_ask_defaults(&a);
        a.max_tokens = 64;
        rt_ask(&a, false, text);
    } else if (!strncmp(name, "file.", 5)) {
        kprintf("%s: storage is not available (this RT kernel has no file store yet)\n", name);
    } else if (!strcmp(name, "memory.remember")) {
        /* The memory is the AI partition's; it stores the fact once we say so. */
        const char *fact = slot(r, "fact");
        struct msg_done done;

        if (!fact || !fact[0])
            kprintf("remember: what? (no fact given)\n");
        else if (request_done("remember", l, MSG_REMEMBER, fact, (uint32_t)strlen(fact),
                              MSG_REMEMBER_DONE, &done))
            kprintf(done.status ? "not remembered: %s\n" : "remembered: %s\n",
                    done.status ? done.detail : fact);
    } else if (!strcmp(name, "memory.recall")) {
        const char *answer = slot(r, "answer");

        kprintf("%s\n", answer && answer[0] ? answer : "I know nothing about that.");
    }
}

static void show(const struct msg_intent_result *r)
{
    kprintf("intent: %s (confidence %u.%02u)", r->intent, r->confidence_milli / 1000,
            r->confidence_milli % 1000 / 10);
    for (uint32_t i = 0; i < r->nslots; i++)
        kprintf(" %s=\"%s\"", r->slots[i].name, r->slots[i].value);
    kprintf("\n");
}

int rt_intent_query(const char *text, struct msg_intent_result *r)
{
    static uint8_t in[RING_MAX_SLOT];
    struct link *l = link_to(INTENT_PEER);
    struct hyp_partition_info info;
    const struct intent_kind *kind = NULL;
    const char *bad;
    struct ring_msg msg;
    uint64_t id;
    size_t len = strlen(text);
    int rc;

    if (!l) {
        kprintf("intent: no channel to '%s' in the layout, so nothing to understand it\n",
                INTENT_PEER);
        return -1;
    }
    if (hyp_partition_find(INTENT_PEER, &info) < 0 || info.state != PARTITION_RUNNING) {
        kprintf("intent: the AI partition is %s; try again when it is running\n",
                hyp_partition_find(INTENT_PEER, &info) < 0 ? "missing" : hyp_state_name(info.state));
        return -1;
    }
    if (len > ring_max_payload(&l->tx)) {
        kprintf("intent: too long to send (%u bytes at most)\n", ring_max_payload(&l->tx));
        return -1;
    }
    rc = link_send(l, MSG_INTENT, text, (uint32_t)len, &id);
    if (rc) {
        kprintf("intent: %s\n", link_error(l, rc));
        return -1;
    }
    if (!answer(l, id, MSG_INTENT_RESULT, &msg, in))
        return -1;
    memcpy(r, in, sizeof(*r));
    bad = msg.length != sizeof(*r) ? "a message of the wrong size" : check(r, &kind);
    if (bad) {
        kprintf("intent: the AI partition answered with %s; ignored\n", bad);
        kprintf("[rt] log: malformed intent answer from %s (%s)\n", INTENT_PEER, bad);
        return -1;
    }
    return 0;
}

void rt_intent(const char *text)
{
    struct link *l = link_to(INTENT_PEER);
    struct msg_intent_result r;

    if (rt_intent_query(text, &r))
        return;
    show(&r);
    if (!strcmp(r.intent, "clarify")) {
        kprintf("Not sure what you mean; perhaps:");
        for (uint32_t i = 0; i < r.nslots; i++)
            kprintf("%s %s", i ? "," : "", r.slots[i].value);
        kprintf(". Say it another way, or use a command (help lists them).\n");
        return;
    }
    if (!guest_channel_grants(l->channel, r.intent)) {
        kprintf("refused: the layout does not let %s request %s\n", INTENT_PEER, r.intent);
        kprintf("[rt] log: refused %s requested by %s (not in its may-request)\n", r.intent,
                INTENT_PEER);
        return;
    }
    act(l, &r, text);
}

/* learn "<sentence>" <intent>: the sentence is between the first and the last quote. */
void cmd_learn(int argc, char **argv)
{
    static uint8_t out[RING_MAX_SLOT];
    char line[LINE_MAX_CHARS + 1];
    struct msg_learn req;
    struct msg_done done;
    struct link *l = link_to(INTENT_PEER);
    const struct intent_kind *kind;
    size_t n;
    char *first, *last;

    shell_join(argc, argv, 1, line, sizeof(line));   /* fits: the words came from one line */
    first = strchr(line, '"');
    last = strrchr(line, '"');
    if (!first || last == first || first != line || !last[1]) {
        kprintf("usage: learn \"<sentence>\" <intent>   (teaches the AI partition an example)\n");
        return;
    }
    *last = '\0';
    while (*++last == ' ')
        ;
    kind = kind_of(last);
    if (!kind || !strcmp(last, "clarify") || strchr(last, ' ')) {
        kprintf("learn: '%s' is not an intent of the schema (docs/intents.md)\n", last);
        return;
    }
    if (!l) {
        kprintf("learn: no channel to '%s' in the layout\n", INTENT_PEER);
        return;
    }
    memset(&req, 0, sizeof(req));
    memcpy(req.intent, last, strlen(last));
    n = strlen(first + 1);
    if (!n || sizeof(req) + n > ring_max_payload(&l->tx)) {
        kprintf("learn: the sentence must have 1 to %u bytes\n",
                (unsigned)(ring_max_payload(&l->tx) - sizeof(req)));
        return;
    }
    memcpy(out, &req, sizeof(req));
    memcpy(out + sizeof(req), first + 1, n);
    if (!request_done("learn", l, MSG_LEARN, out, (uint32_t)(sizeof(req) + n), MSG_LEARN_DONE,
                      &done))
        return;
    if (done.status)
        kprintf("%s\n", done.detail);
    else
        kprintf("learned: \"%s\" is %s\n", first + 1, last);
}

void cmd_intent(int argc, char **argv)
{
    char text[LINE_MAX_CHARS + 1];

    if (argc < 2) {
        kprintf("usage: intent <text>   (any line that is not a command is an intent too)\n");
        return;
    }
    shell_join(argc, argv, 1, text, sizeof(text));   /* fits: the words came from one line */
    rt_intent(text);
}
