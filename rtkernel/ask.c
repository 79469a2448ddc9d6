/*
 * `ask [-n tokens] [-t temperature] [-p top-p] [-s seed] [-j cores] [-i] [-m] <prompt>`: the AI
 * partition generates text from the prompt and streams it back over the rt-ai channel,
 * one message per token, which we print as it comes; then tokens/s. Ctrl-C stops the
 * generation (we ask the AI partition to, and wait for its last word). A partition that
 * is not running, or stops answering, gets a clear line rather than a hang.
 */
#include <errno.h>
#include <string.h>

#include "aarch64.h"
#include "guest.h"
#include "kprintf.h"
#include "link.h"
#include "msg.h"
#include "shell.h"

#define ASK_PEER          "ai"
#define TOKEN_TIMEOUT_MS  10000   /* silence that means the AI partition is gone */
#define CANCEL_TIMEOUT_MS 2000
#define ASK_PROMPT_MAX    (LINE_MAX_CHARS + 1)

/* "0.8", "1", ".25" -> thousandths; false for anything else or above 100. */
static bool parse_milli(const char *s, uint32_t *out)
{
    uint32_t whole = 0, frac = 0, scale = 100;
    bool digits = false;

    for (; *s >= '0' && *s <= '9'; s++, digits = true)
        if ((whole = whole * 10 + (uint32_t)(*s - '0')) > 100)
            return false;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++, digits = true, scale /= 10)
            frac += (uint32_t)(*s - '0') * scale;
    if (*s || !digits)
        return false;
    *out = whole * 1000 + frac;
    return true;
}

static void usage(void)
{
    kprintf("usage: ask [-n tokens] [-t temperature] [-p top-p] [-s seed] [-j cores] [-i] [-m]\n"
            "           <prompt>\n"
            "  -n at most this many tokens (256)   -t 0 is greedy (0)   -p nucleus (0.9)\n"
            "  -s sampling seed (1)   -j cores to use (all)   -i print token ids, not text\n"
            "  -m cores take turns, to measure the critical path under QEMU -icount\n");
}

/* Parse the options; the prompt (the rest, joined by single spaces) goes to prompt. */
static bool parse_args(int argc, char **argv, struct msg_ask *a, bool *ids, char *prompt,
                       size_t cap)
{
    int i = 1;

    rt_ask_defaults(a);
    *ids = false;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] && !argv[i][2]; i += 2) {
        unsigned long v;
        uint32_t milli;

        if (argv[i][1] == 'i' || argv[i][1] == 'm') {   /* the options without a value */
            if (argv[i][1] == 'i')
                *ids = true;
            else
                a->flags |= ASK_TAKE_TURNS;
            i--;
            continue;
        }
        if (i + 1 >= argc)
            return false;
        switch (argv[i][1]) {
        case 'n':
            if (!shell_parse_count(argv[i + 1], &v) || !v || v > 100000)
                return false;
            a->max_tokens = (uint32_t)v;
            break;
        case 's':
            if (!shell_parse_count(argv[i + 1], &v))
                return false;
            a->seed = v;
            break;
        case 'j':
            if (!shell_parse_count(argv[i + 1], &v) || !v || v > GUEST_MAX_CPUS)
                return false;
            a->cores = (uint32_t)v;
            break;
        case 't':
            if (!parse_milli(argv[i + 1], &milli) || milli > 10000)
                return false;
            a->temperature_milli = milli;
            break;
        case 'p':
            if (!parse_milli(argv[i + 1], &milli) || milli > 1000)
                return false;
            a->top_p_milli = milli;
            break;
        default:
            return false;
        }
    }
    if (i >= argc)
        return false;
    return shell_join(argc, argv, i, prompt, cap);
    return true;
}

static uint64_t now_ms(void)
{
    return read_sysreg(cntvct_el0) / (read_sysreg(cntfrq_el0) / 1000);
}

/* Why the AI partition cannot answer now, or NULL when it is running. */
static const char *not_running(void)
{
    static char why[96];
    struct hyp_partition_info info;

    if (hyp_partition_find(ASK_PEER, &info) < 0)
        return "there is no AI partition in this layout";
    if (info.state == PARTITION_RUNNING)
        return NULL;
    ksnprintf(why, sizeof(why), "the AI partition is %s; ask again when it is running",
              hyp_state_name(info.state));
    return why;
}

static void report_done(const struct msg_ask_done *d, bool cancelled)
{
    uint64_t freq = read_sysreg(cntfrq_el0);
    /* Tokens per second in hundredths, from integer counter ticks. */
    uint64_t tps100 = d->ticks ? (uint64_t)d->generated * freq * 100 / d->ticks : 0;
    char detail[sizeof(d->detail) + 1];

    memcpy(detail, d->detail, sizeof(d->detail));
    detail[sizeof(d->detail)] = '\0';
    switch (d->status) {
    case ASK_OK:
    case ASK_CANCELLED:
        kprintf("\n[%s%u tokens (prompt %u), %llu.%02llu tokens/s", cancelled ? "stopped after " : "",
                d->generated, d->prompt_tokens, (unsigned long long)(tps100 / 100),
                (unsigned long long)(tps100 % 100));
        if (d->instructions)
            kprintf(", %llu instructions/token", (unsigned long long)d->instructions);
        if (d->instructions && d->cores > 1)
            kprintf(" on the critical path of %u cores (serial %llu, work %llu)", d->cores,
                    (unsigned long long)d->serial, (unsigned long long)d->work);
        if (detail[0])
            kprintf("; %s", detail);
        kprintf("]\n");
        break;
    case ASK_TOO_LONG:
        kprintf("ask: the prompt does not fit: %s\n", detail);
        break;
    case ASK_NO_MODEL:
        kprintf("ask: the AI partition has no model: %s\n", detail);
        break;
    default:
        kprintf("ask: the AI partition refused the request: %s\n", detail);
        break;
    }
}

void cmd_ask(int argc, char **argv)
{
    static char prompt[ASK_PROMPT_MAX];
    struct msg_ask a;
    bool ids;

    if (!parse_args(argc, argv, &a, &ids, prompt, sizeof(prompt))) {
        usage();
        return;
    }
    rt_ask(&a, ids, prompt);
}

void rt_ask_defaults(struct msg_ask *a)
{
    *a = (struct msg_ask){ .max_tokens = 256, .temperature_milli = 0, .top_p_milli = 900,
                           .cores = 0, .seed = 1, .flags = 0 };
}

void rt_ask(const struct msg_ask *opts, bool ids, const char *prompt)
{
    static uint8_t out[sizeof(struct msg_ask) + ASK_PROMPT_MAX], in[RING_MAX_SLOT];
    struct msg_ask a = *opts;
    size_t len = strnlen(prompt, ASK_PROMPT_MAX);
    struct link *l;
    const char *why;
    uint64_t id, last, cancel_at = 0;
    uint32_t shown = 0;   /* with -i: index + 1 of the last id printed */
    bool cancelled = false;
    int rc;

    l = link_to(ASK_PEER);
    if (!l) {
        kprintf("ask: no channel to '%s' in the layout\n", ASK_PEER);
        return;
    }
    why = not_running();
    if (why) {
        kprintf("ask: %s\n", why);
        return;
    }
    if (sizeof(a) + len > ring_max_payload(&l->tx)) {
        kprintf("ask: the prompt is too long for one message (%u bytes at most)\n",
                (unsigned)(ring_max_payload(&l->tx) - sizeof(a)));
        return;
    }
    memcpy(out, &a, sizeof(a));
    memcpy(out + sizeof(a), prompt, len);
    rc = link_send(l, MSG_ASK, out, (uint32_t)(sizeof(a) + len), &id);
    if (rc) {
        kprintf("ask: %s\n", link_error(l, rc));
        return;
    }
    for (last = now_ms();;) {
        struct ring_msg msg;
        int c = console_getc();

        if (c == 0x03 && !cancelled) {   /* Ctrl-C: ask it to stop, then wait for its word */
            cancelled = true;
            cancel_at = now_ms();
            kprintf("^C");
            link_notify(l, MSG_CANCEL, id, NULL, 0);   /* names the ask by its id */
        }
        rc = link_receive(l, &msg, in, sizeof(in));
        if (rc == 0 && msg.request_id == id) {
            last = now_ms();
            if (msg.type == MSG_TOKEN && msg.length >= sizeof(struct msg_token)) {
                struct msg_token t;

                memcpy(&t, in, sizeof(t));
                if (cancelled)
                    continue;
                if (!ids)
                    console_write((const char *)in + sizeof(t), msg.length - sizeof(t));
                else if (t.index + 1 != shown) {   /* a long piece comes in several messages */
                    kprintf("%s%d", shown ? " " : "", t.id);
                    shown = t.index + 1;
                }
            } else if (msg.type == MSG_ASK_DONE && msg.length == sizeof(struct msg_ask_done)) {
                struct msg_ask_done d;

                memcpy(&d, in, sizeof(d));
                report_done(&d, cancelled || d.status == ASK_CANCELLED);
                return;
            }
            continue;
        }
        if (rc == 0) {
            l->stray++;   /* an answer to something else */
            continue;
        }
        if (cancelled && now_ms() - cancel_at > CANCEL_TIMEOUT_MS) {
            kprintf("\nask: stopped; the AI partition did not confirm\n");
            return;
        }
        if (now_ms() - last > TOKEN_TIMEOUT_MS || (why = not_running())) {
            kprintf("\nask: %s\n", why ? why : "the AI partition stopped answering");
            return;
        }
        /* Tokens ring the doorbell, which ends the sleep at once; the timeout only paces
         * the looks at the console (Ctrl-C) and at the partition's state, each a trap to
         * the hypervisor. Every 10 ms is quick enough for a key, and on a host with few
         * cores (QEMU) it leaves the AI partition's cores their threads: waking every
         * 1 ms cost its two-core generation about 8% of its speed. */
        guest_wait_until(read_sysreg(cntvct_el0) + read_sysreg(cntfrq_el0) / 100);
    }
}
