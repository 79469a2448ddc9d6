/*
 * The RT shell: a line editor on the console and the commands a user types at `rt> `.
 */
#ifndef RT_SHELL_H
#define RT_SHELL_H

#include "line.h"

#define RT_VERSION_MAJOR 0
#define RT_VERSION_MINOR 1

#define SHELL_PROMPT "rt> "

/* argv[from..argc) joined by single spaces into buf (cap bytes with the NUL); false
 * when it does not fit. */
bool shell_join(int argc, char **argv, int from, char *buf, size_t cap);

/* A decimal count; false for anything else (sign, letters, overflow). */
bool shell_parse_count(const char *s, unsigned long *out);

/* Latency histograms the shell keeps: log2 buckets of cycles (PMU cycle counter). */
enum rt_hist { HIST_HVC_ROUND_TRIP, HIST_RING_ROUND_TRIP, HIST_TIMER_IRQ, HIST_COUNT };
void perf_init(void);                       /* cycle counter on; at boot */
void hist_record(enum rt_hist h, uint64_t cycles);
/* Links (channels) whose ring counters `perf` prints. */
struct link;
void perf_show_link(const struct link *l);

/* Commands living in their own files. */
void cmd_perf(int argc, char **argv);
void cmd_bench(int argc, char **argv);
void cmd_isolation_test(int argc, char **argv);
void cmd_ask(int argc, char **argv);
void cmd_status(int argc, char **argv);
void cmd_calc(int argc, char **argv);
void cmd_timer(int argc, char **argv);

/* ask.c: run one generation in the AI partition, printing it as it comes (ids: token
 * ids instead of text); the defaults `ask` uses without options. */
struct msg_ask;
void rt_ask(const struct msg_ask *opts, bool ids, const char *prompt);
void rt_ask_defaults(struct msg_ask *a);
/* intent.c: what the AI partition understands in text, checked against the layout's
 * grants and carried out here. */
void rt_intent(const char *text);
/* Only ask: the checked answer in *r (0), or -1 with the reason printed. */
struct msg_intent_result;
int rt_intent_query(const char *text, struct msg_intent_result *r);
void cmd_intent(int argc, char **argv);
void cmd_learn(int argc, char **argv);

/* The partitions table `partitions` prints. */
void shell_print_partitions(void);
/* status.c: what `status` reports (subject NULL: everything); false for an unknown
 * subject. RT timers: rt_timer_set gives the timer's number, -1 for a bad duration, -2
 * when all are running; rt_timers_poll prints the ones that fired (true if any). */
bool rt_status(const char *subject);
int rt_timer_set(uint64_t seconds);
bool rt_timers_poll(void);

/* Run one command line; output through the console. */
void shell_execute(char *line);
void shell_run(void) __attribute__((noreturn));

#endif /* RT_SHELL_H */
