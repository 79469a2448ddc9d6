/*
 * The RT shell's commands. Each takes its arguments already split on spaces and
 * answers on the console; every error says what was wrong and the prompt comes back.
 */
#include <string.h>

#include "aarch64.h"
#include "guest.h"
#include "kprintf.h"
#include "link.h"
#include "msg.h"
#include "shell.h"

#define MAX_ARGS 64   /* an ask prompt is words too */

struct command {
    const char *name;
    const char *args;
    const char *help;
    void (*run)(int argc, char **argv);
    int max_words;   /* after the name; -1: any. More, and the line is a sentence. */
};

static void cmd_help(int argc, char **argv);

bool shell_parse_count(const char *s, unsigned long *out)
{
    unsigned long v = 0;

    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000000ul)
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    *out = v;
    return true;
}

static void cmd_version(int argc, char **argv)
{
    unsigned self;
    int n = hyp_partition_count(&self);
    uint64_t v = hyp_version();

    (void)argc, (void)argv;
    kprintf("aios rt kernel %d.%d, hypervisor %llu.%llu, partition %s (%u of %d)\n",
            RT_VERSION_MAJOR, RT_VERSION_MINOR, (unsigned long long)(v >> 16),
            (unsigned long long)(v & 0xffff), guest.name, self, n);
}

/* "0", "1-2", "0,2": the cores in a bitmap, ranges joined. */
static void format_cores(uint64_t mask, char *out, size_t len)
{
    size_t pos = 0;

    out[0] = '\0';
    for (unsigned c = 0; c < 64 && pos < len; c++) {
        unsigned end = c;

        if (!(mask >> c & 1))
            continue;
        while (end + 1 < 64 && mask >> (end + 1) & 1)
            end++;
        pos += (size_t)ksnprintf(out + pos, len - pos, end == c ? "%s%u" : "%s%u-%u",
                                 pos ? "," : "", c, end);
        c = end;
    }
}

bool shell_join(int argc, char **argv, int from, char *buf, size_t cap)
{
    size_t len = 0;

    for (int i = from; i < argc; i++) {
        size_t n = strlen(argv[i]);

        if (len + n + (len ? 1 : 0) >= cap)
            return false;
        if (len)
            buf[len++] = ' ';
        memcpy(buf + len, argv[i], n);
        len += n;
    }
    buf[len] = '\0';
    return true;
}

void shell_print_partitions(void)
{
    unsigned self;
    int n = hyp_partition_count(&self);

    kprintf("  #  name      cores   RAM         state       restarts\n");
    for (int i = 0; i < n; i++) {
        struct hyp_partition_info info;
        char cores[32];

        if (hyp_partition_info((unsigned)i, &info)) {
            kprintf("  %d  (the hypervisor gave no information)\n", i);
            continue;
        }
        format_cores(info.cores, cores, sizeof(cores));
        kprintf("  %d  %-8s  %-6s  %5llu MiB   %-10s  %u%s\n", i, info.name, cores,
                (unsigned long long)(info.ram_size >> 20), hyp_state_name(info.state),
                info.restarts, (unsigned)i == self ? "   (this shell)" : "");
    }
}

static void cmd_partitions(int argc, char **argv)
{
    (void)argc, (void)argv;
    shell_print_partitions();
}

/* Index of the partition called name, or -1 (and the list of names is printed). */
static int find_partition(const char *name)
{
    int n = hyp_partition_count(NULL), index;
    struct hyp_partition_info info;

    index = hyp_partition_find(name, &info);
    if (index >= 0)
        return index;
    kprintf("restart: no partition '%s'; there are:", name);
    for (int i = 0; i < n; i++)
        if (!hyp_partition_info((unsigned)i, &info))
            kprintf(" %s", info.name);
    kprintf("\n");
    return -1;
}

static void cmd_restart(int argc, char **argv)
{
    int index, rc;

    if (argc != 2) {
        kprintf("usage: restart <partition>\n");
        return;
    }
    index = find_partition(argv[1]);
    if (index < 0)
        return;
    rc = hyp_partition_restart((unsigned)index);
    if (rc == SMCCC_SUCCESS)
        kprintf("restarting %s\n", argv[1]);
    else if (rc == SMCCC_DENIED)
        kprintf("restart: %s cannot be restarted from here now (not granted by the layout, "
                "or already restarting)\n", argv[1]);
    else
        kprintf("restart: the hypervisor refused (%d)\n", rc);
}

static void cmd_ping(int argc, char **argv)
{
    struct link *l;
    unsigned long count = 1;
    uint64_t min = ~0ull, max = 0, total = 0, freq = read_sysreg(cntfrq_el0);
    unsigned answered = 0;

    if (argc < 2 || argc > 3 || (argc == 3 && (!shell_parse_count(argv[2], &count) || !count || count > 10000))) {
        kprintf("usage: ping <partition> [count 1-10000]\n");
        return;
    }
    l = link_to(argv[1]);
    if (!l) {
        kprintf("ping: no channel to '%s' in the layout\n", argv[1]);
        return;
    }
    for (unsigned long i = 0; i < count; i++) {
        uint64_t ticks, cycles;
        int rc = link_ping(l, sizeof(struct msg_ping), &ticks, &cycles);

        if (rc) {
            kprintf("ping: %s\n", link_error(l, rc));
            break;
        }
        answered++;
        total += ticks;
        min = ticks < min ? ticks : min;
        max = ticks > max ? ticks : max;
        if (count <= 10)
            kprintf("pong from %s: request %lu, round trip %llu us\n", argv[1], i + 1,
                    (unsigned long long)(ticks * 1000000 / freq));
    }
    if (answered > 1 || count > 10)
        kprintf("%u of %lu answered; round trip min %llu us, avg %llu us, max %llu us\n", answered,
                count, (unsigned long long)(answered ? min * 1000000 / freq : 0),
                (unsigned long long)(answered ? total / answered * 1000000 / freq : 0),
                (unsigned long long)(max * 1000000 / freq));
}

static void cmd_echo(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        kprintf("%s%s", argv[i], i + 1 < argc ? " " : "");
    kprintf("\n");
}

static const struct command commands[] = {
    { "help", "", "list the commands", cmd_help, 0 },
    { "version", "", "kernel, hypervisor and partition versions", cmd_version, 0 },
    { "partitions", "", "every partition: cores, RAM, state, restarts", cmd_partitions, 0 },
    { "restart", "<partition>", "stop a partition and start it again from its verified image",
      cmd_restart, 1 },
    { "ping", "<partition> [n]", "round trip over the channel to a partition", cmd_ping, 2 },
    { "isolation-test", "<partition>", "have it touch memory it does not own; all must be refused",
      cmd_isolation_test, 1 },
    { "perf", "[json | reset]", "the hypervisor's counters for every core", cmd_perf, 1 },
    { "bench", "<what> <n>", "hvc, ring, irq or intent: round trip or latency, n runs",
      cmd_bench, 2 },
    { "ask", "[opts] <prompt>", "the AI partition's model continues the prompt (Ctrl-C stops)",
      cmd_ask, -1 },
    { "status", "[subject]", "cpu load, memory, uptime, partitions, storage, temperature",
      cmd_status, 1 },
    { "calc", "<expression>", "arithmetic: + - * / ^ ( ), 3 times 4, 9 squared", cmd_calc, -1 },
    { "timer", "[seconds]", "a timer that says when it is up; alone: the running ones",
      cmd_timer, 1 },
    { "intent", "<text>", "what the AI partition makes of the text, and doing it",
      cmd_intent, -1 },
    { "learn", "\"<text>\" <intent>", "teach the AI partition: the text means that intent",
      cmd_learn, -1 },
    { "echo", "<text>", "print the text", cmd_echo, -1 },
};

static void cmd_help(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        kprintf("  %-14s %-16s %s\n", commands[i].name, commands[i].args, commands[i].help);
    kprintf("Keys: Backspace erases, Ctrl-C drops the line, Ctrl-] then a digit switches the console.\n");
}

void shell_execute(char *line)
{
    char *argv[MAX_ARGS + 1], text[LINE_MAX_CHARS + 1];
    int argc = 0;
    char *p = line;

    /* The words are cut apart in place; a line that is not a command goes whole to the
     * intent engine. */
    memcpy(text, line, strnlen(line, sizeof(text) - 1));
    text[strnlen(line, sizeof(text) - 1)] = '\0';

    for (;;) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p)
            break;
        if (argc == MAX_ARGS) {
            kprintf("error: too many words (at most %d)\n", MAX_ARGS);
            return;
        }
        argv[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    if (!argc)
        return;
    argv[argc] = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[0], commands[i].name)) {
            /* "restart the ai partition please" is a sentence, not a malformed command. */
            if (commands[i].max_words >= 0 && argc - 1 > commands[i].max_words && link_to("ai"))
                break;
            commands[i].run(argc, argv);
            return;
        }
    if (link_to("ai"))
        rt_intent(text);
    else
        kprintf("unknown command '%s': type help for the list\n", argv[0]);
}

void shell_run(void)
{
    struct line_editor ed = { 0 };

    guest_idle_hook = rt_timers_poll;
    kprintf("RT shell ready; type help.\n");
    for (;;)
        shell_execute(guest_readline(&ed, SHELL_PROMPT));
}
