/*
 * Inference in the AI partition; see infer.h.
 *
 * Memory: everything libaios keeps (the tokenizer's index, the run state with its KV
 * cache, the sampler) comes from one arena, the part of the partition's free RAM that
 * main.c gives it.
 *
 * Cores: the cpu that serves the ring drives the generation; another cpu joins as a
 * worker (it polls from its idle loop, and an SGI wakes it when a generation starts).
 * Each matrix product is split in two parts; whichever cpu claims a part first runs it,
 * so a worker that is late or busy never holds up the driver.
 */
#include <errno.h>
#include <string.h>

#include "aarch64.h"
#include "aios/forward.h"
#include "aios/model.h"
#include "aios/sampler.h"
#include "aios/tokenizer.h"
#include "channel.h"
#include "gicv2.h"
#include "guest.h"
#include "infer.h"
#include "kprintf.h"
#include "msg.h"

#define MAX_PROMPT_TOKENS 1024
#define WORKER_SGI        2    /* wakes the worker cpu when a generation starts */

static struct {
    bool ready;
    char why[160];             /* when not ready */
    struct aios_model model;
    struct aios_tokenizer tokenizer;
    struct aios_state state;
    struct aios_arena arena;   /* what is left after the model's fixed needs */
} inf;

/* ---- The two-cpu executor ---------------------------------------------------------- */

#define PARTS 2                /* a job's parts: one per cpu */

static struct {
    volatile bool active;      /* a generation is running: the worker stays on call */
    volatile unsigned worker;  /* the cpu that works (not the driver); GUEST_MAX_CPUS: none */
    bool joined;               /* the worker has come on call in this generation */
    bool turns;                /* ASK_TAKE_TURNS: the worker's parts first, then the driver's */
    aios_task_fn fn;
    void *arg;
    int nparts;
    /* Job number (high half) and the parts claimed in it (a bit each): one word, so a
     * claim can only ever be for the job it was meant for. */
    uint64_t ticket;
    uint32_t done;             /* parts of the current job the worker finished */
    uint32_t part_insns[PARTS];   /* instructions each part of the current job took */
} job;

/*
 * The two-core critical path in instructions (docs/inference.md, Two cores), added up
 * by the driver over a generation. Waiting is left out: its length depends on how the
 * cores are scheduled, not on the work.
 */
static struct {
    uint64_t waited;           /* the driver's, for the worker's parts */
    uint64_t ran;              /* the parts the driver ran */
    uint64_t parts;            /* every part, on either cpu */
    uint64_t longest;          /* each job's longest part */
} path;

/* The counter is 32 bits wide: a generation can retire more (a few hundred tokens of a
 * stories15M-sized model), so callers add up the differences of readings taken less
 * than 2^32 instructions apart (one token's work), which wrap correctly in uint32_t. */
static inline uint32_t instructions(void)
{
    return (uint32_t)read_sysreg(pmevcntr0_el0);
}

/* Count instructions retired at EL1 and EL0 on this cpu in event counter 0. */
static void count_instructions(void)
{
    write_sysreg(pmevtyper0_el0, 0x08);   /* INST_RETIRED; EL1, EL0, not EL2 */
    write_sysreg(pmcntenset_el0, 1);
    write_sysreg(pmcr_el0, read_sysreg(pmcr_el0) | 1);
    isb();
}

/* Run the parts in [from, to) of job seq that nobody has claimed yet, noting the
 * instructions each took, its claim included, in job.part_insns; returns how many this
 * cpu ran, and adds their instructions to *insns unless it is NULL. */
static unsigned run_parts(uint32_t seq, int from, int to, uint64_t *insns)
{
    unsigned ran = 0;

    for (int part = from; part < to; part++) {
        uint64_t bit = 1ull << part, old = __atomic_load_n(&job.ticket, __ATOMIC_ACQUIRE);
        uint32_t start = instructions();

        do {
            if (old >> 32 != seq || old & bit)
                goto next;
        } while (!__atomic_compare_exchange_n(&job.ticket, &old, old | bit, false,
                                              __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
        job.fn(job.arg, part, job.nparts);
        job.part_insns[part] = instructions() - start;
        if (insns)
            *insns += job.part_insns[part];
        ran++;
next:;
    }
    return ran;
}

/* The driver waits until the worker has finished n parts of the current job. */
static void wait_for_worker(unsigned n)
{
    uint32_t start = instructions();

    while (__atomic_load_n(&job.done, __ATOMIC_ACQUIRE) < n)
        cpu_relax();
    path.waited += instructions() - start;
}

static void parallel_for(struct aios_exec *e, aios_task_fn fn, void *arg)
{
    uint32_t seq = (uint32_t)(job.ticket >> 32) + 1, longest = 0;
    unsigned mine;

    job.fn = fn;
    job.arg = arg;
    job.nparts = e->nparts;
    __atomic_store_n(&job.done, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&job.ticket, (uint64_t)seq << 32, __ATOMIC_RELEASE);
    /* Taking turns, once the worker is on call (it runs every job from then on): its
     * parts first. Otherwise a hint to let it claim a part first (it matters where cores
     * take turns anyway, as under QEMU's round robin; on hardware it costs nothing). */
    if (job.turns && __atomic_load_n(&job.joined, __ATOMIC_ACQUIRE))
        wait_for_worker((unsigned)job.nparts - 1);
    else
        cpu_relax();
    /* Our own part (the last), then any the worker has not claimed: a late or busy
     * worker never holds us up. */
    mine = run_parts(seq, job.nparts - 1, job.nparts, &path.ran) +
           run_parts(seq, 0, job.nparts - 1, &path.ran);
    /* Parts the worker claimed: wait until it has finished them. */
    wait_for_worker((unsigned)job.nparts - mine);
    /* Each part is one cpu's share, whichever cpu happened to run it. */
    for (int part = 0; part < job.nparts; part++) {
        path.parts += job.part_insns[part];
        if (job.part_insns[part] > longest)
            longest = job.part_insns[part];
    }
    path.longest += longest;
}

bool infer_worker_poll(void)
{
    uint32_t seen = 0;   /* no job has that number: the current one is tried at once */

    if (!job.active || guest_cpu_id() != job.worker)
        return false;
    count_instructions();
    __atomic_store_n(&job.joined, true, __ATOMIC_RELEASE);
    while (job.active) {
        uint32_t seq = (uint32_t)(__atomic_load_n(&job.ticket, __ATOMIC_ACQUIRE) >> 32);

        if (seq == seen) {
            cpu_relax();
            continue;
        }
        seen = seq;
        /* The worker's share is every part but the driver's (the last); claims of a job
         * that is over fail, so a late look is harmless. */
        __atomic_fetch_add(&job.done, run_parts(seq, 0, job.nparts - 1, NULL),
                           __ATOMIC_RELEASE);
    }
    __atomic_store_n(&job.worker, GUEST_MAX_CPUS, __ATOMIC_RELEASE);   /* off call */
    return false;   /* printed nothing */
}

/* The worker joins: set it on call and wake it from its sleep. */
static void worker_start(unsigned cpu, bool turns)
{
    job.worker = cpu;
    job.turns = turns;
    __atomic_store_n(&job.joined, false, __ATOMIC_RELAXED);
    __atomic_store_n(&job.active, true, __ATOMIC_RELEASE);
    dsb_ish();
    *(volatile uint32_t *)(uintptr_t)(guest.gicd + GICD_SGIR) = 1u << (16 + cpu) | WORKER_SGI;
}

static void worker_stop(void)
{
    uint64_t start = read_sysreg(cntvct_el0), freq = read_sysreg(cntfrq_el0);

    __atomic_store_n(&job.active, false, __ATOMIC_RELEASE);
    /* Wait until it is off call (it may not have joined at all), so that the next ask
     * finds it so. */
    while (__atomic_load_n(&job.worker, __ATOMIC_ACQUIRE) != GUEST_MAX_CPUS &&
           read_sysreg(cntvct_el0) - start < freq / 10)
        cpu_relax();
}

/* ---- Loading ---------------------------------------------------------------------- */

void infer_init(void *mem, size_t size)
{
    const struct guest_module *mm = guest_module("model"), *tm = guest_module("tokenizer");
    char err[128];
    int rc;

    job.worker = GUEST_MAX_CPUS;
    if (!mm || !tm) {
        ksnprintf(inf.why, sizeof(inf.why), "the layout gives this partition no %s module",
                  !mm ? "model" : "tokenizer");
        kprintf("aios: %s\n", inf.why);
        return;
    }
    aios_arena_init(&inf.arena, mem, size);
    rc = aios_model_load(&inf.model, (const void *)(uintptr_t)mm->base, mm->size, err, sizeof(err));
    if (!rc)
        rc = aios_tokenizer_load(&inf.tokenizer, (const void *)(uintptr_t)tm->base, tm->size,
                                 inf.model.cfg.vocab_size, &inf.arena, err, sizeof(err));
    if (!rc)
        rc = aios_state_init(&inf.state, &inf.model, &inf.arena, err, sizeof(err));
    if (rc) {
        ksnprintf(inf.why, sizeof(inf.why), "%s", err);
        kprintf("aios: no inference: %s\n", err);
        return;
    }
    inf.ready = true;
    kprintf("aios: model %s: dim %d, %d layers, %d heads (%d kv), vocab %d, context %d; "
            "tokenizer %d tokens\n",
            inf.model.cfg.type == AIOS_WEIGHTS_Q8 ? "int8" : "fp32", inf.model.cfg.dim,
            inf.model.cfg.n_layers, inf.model.cfg.n_heads, inf.model.cfg.n_kv_heads,
            inf.model.cfg.vocab_size, inf.model.cfg.seq_len, inf.tokenizer.vocab_size);
}

/* ---- One ask ---------------------------------------------------------------------- */

static void finish(const struct guest_channel *ch, struct ring *rx, struct ring *tx, uint64_t id,
                   struct msg_ask_done *d, uint32_t status, const char *detail)
{
    d->status = status;
    if (detail)
        ksnprintf(d->detail, sizeof(d->detail), "%s", detail);
    channel_send(ch, rx, tx, MSG_ASK_DONE, id, d, sizeof(*d));
}

/* Between tokens: a cancel for this ask stops it; pings are answered. */
static bool cancelled(const struct guest_channel *ch, struct ring *rx, struct ring *tx, uint64_t id)
{
    static uint8_t payload[RING_MAX_SLOT];
    struct ring_msg msg;
    int rc;

    while ((rc = ring_pop(rx, &msg, payload, sizeof(payload))) != -EAGAIN && rc != -EPROTO) {
        if (rc)
            continue;   /* rejected and counted */
        if (msg.type == MSG_CANCEL && msg.request_id == id)
            return true;
        if (msg.type == MSG_PING)
            channel_send(ch, rx, tx, MSG_PONG, msg.request_id, payload, msg.length);
        else if (msg.type == MSG_ASK) {
            struct msg_ask_done busy = { 0 };

            finish(ch, rx, tx, msg.request_id, &busy, ASK_BAD_REQUEST,
                   "busy with another ask");
        }
    }
    return false;
}

static void send_token(const struct guest_channel *ch, struct ring *rx, struct ring *tx,
                       uint64_t id, uint32_t index, int32_t token, const char *piece, size_t len)
{
    static uint8_t out[RING_MAX_SLOT];
    uint32_t room = ring_max_payload(tx) - (uint32_t)sizeof(struct msg_token);
    struct msg_token t = { .index = index, .id = token };

    /* A piece longer than one message goes in several, in order: nothing is cut. */
    do {
        uint32_t n = len < room ? (uint32_t)len : room;

        memcpy(out, &t, sizeof(t));
        memcpy(out + sizeof(t), piece, n);
        channel_send(ch, rx, tx, MSG_TOKEN, id, out, (uint32_t)sizeof(t) + n);
        piece += n;
        len -= n;
    } while (len);
}

void infer_ask(const struct guest_channel *ch, struct ring *rx, struct ring *tx,
               const struct ring_msg *msg, const void *payload)
{
    static int32_t prompt[MAX_PROMPT_TOKENS];
    static char text[RING_MAX_SLOT + 1];
    struct msg_ask_done d = { 0 };
    struct msg_ask a;
    struct aios_sampler sampler;
    struct aios_exec exec = { parallel_for, PARTS, NULL };
    size_t n_prompt, mark;
    uint32_t text_len;
    uint64_t t0 = 0, insns = 0;
    uint32_t last, passes = 0;
    int32_t token, pos, steps;
    char err[128];
    int rc;

    if (msg->length < sizeof(a)) {
        finish(ch, rx, tx, msg->request_id, &d, ASK_BAD_REQUEST, "request too short");
        return;
    }
    memcpy(&a, payload, sizeof(a));
    text_len = msg->length - (uint32_t)sizeof(a);
    memcpy(text, (const uint8_t *)payload + sizeof(a), text_len);
    text[text_len] = '\0';
    if (!inf.ready) {
        finish(ch, rx, tx, msg->request_id, &d, ASK_NO_MODEL, inf.why);
        return;
    }
    d.context = (uint32_t)inf.model.cfg.seq_len;
    mark = aios_arena_mark(&inf.arena);
    rc = aios_tokenizer_encode(&inf.tokenizer, text, 1, 0, prompt, MAX_PROMPT_TOKENS, &n_prompt,
                               &inf.arena);
    if (rc == AIOS_OK && n_prompt >= (size_t)inf.model.cfg.seq_len)
        rc = AIOS_ERANGE;
    if (rc) {
        ksnprintf(err, sizeof(err), "the prompt is %u tokens, the model's context %d",
                  (unsigned)n_prompt, inf.model.cfg.seq_len);
        finish(ch, rx, tx, msg->request_id, &d, ASK_TOO_LONG,
               rc == AIOS_ERANGE ? err : "it cannot be encoded");
        return;
    }
    d.prompt_tokens = (uint32_t)n_prompt;
    rc = aios_sampler_init(&sampler, inf.model.cfg.vocab_size, (float)a.temperature_milli / 1000.0f,
                           a.top_p_milli >= 1000 ? 1.0f : (float)a.top_p_milli / 1000.0f, a.seed,
                           &inf.arena, err, sizeof(err));
    if (rc) {
        aios_arena_reset(&inf.arena, mark);
        finish(ch, rx, tx, msg->request_id, &d, ASK_BAD_REQUEST, err);
        return;
    }
    if (a.cores == 1 || guest.ncpus < 2)
        exec.nparts = 1;
    else
        worker_start(guest_cpu_id() == 0 ? 1 : 0, a.flags & ASK_TAKE_TURNS);
    path.waited = path.ran = path.parts = path.longest = 0;
    count_instructions();
    last = instructions();

    /* Feed the prompt, then sample until max_tokens, the context's end, or BOS. */
    steps = (int32_t)n_prompt + (int32_t)a.max_tokens;
    if (steps > inf.model.cfg.seq_len)
        steps = inf.model.cfg.seq_len;
    token = prompt[0];
    for (pos = 0; pos < steps - 1; pos++) {
        float *logits;
        int32_t next;
        const char *piece;
        size_t len;

        insns += (uint32_t)(instructions() - last);   /* the previous token's */
        last = instructions();
        logits = (float *)aios_forward(&inf.state, token, pos, &exec);
        passes++;

        if ((size_t)pos + 1 < n_prompt) {
            next = prompt[pos + 1];
        } else {
            next = aios_sample_exec(&sampler, logits, &exec);
            if (next == AIOS_TOKEN_BOS)
                break;
            if (!t0)
                t0 = read_sysreg(cntvct_el0);
            piece = aios_tokenizer_decode(&inf.tokenizer, token, next, &len);
            send_token(ch, rx, tx, msg->request_id, d.generated, next, piece, len);
            d.generated++;
            if (cancelled(ch, rx, tx, msg->request_id)) {
                d.status = ASK_CANCELLED;
                break;
            }
        }
        token = next;
    }
    d.ticks = t0 ? read_sysreg(cntvct_el0) - t0 : 0;
    if (d.status == ASK_OK && pos == inf.model.cfg.seq_len - 1 && d.generated < a.max_tokens)
        ksnprintf(d.detail, sizeof(d.detail), "stopped at the model's context of %d tokens",
                  inf.model.cfg.seq_len);
    insns += (uint32_t)(instructions() - last);
    if (exec.nparts > 1)
        worker_stop();
    /* Per forward pass (each with its sampling and streaming): the prompt's tokens took
     * forward passes too. The driver's own count less its waiting and its parts is the
     * serial work. */
    if (passes) {
        uint64_t serial = insns - path.waited - path.ran;

        d.instructions = (serial + path.longest) / passes;
        d.serial = serial / passes;
        d.work = (serial + path.parts) / passes;
    }
    d.cores = (uint32_t)exec.nparts;
    aios_arena_reset(&inf.arena, mark);
    finish(ch, rx, tx, msg->request_id, &d, d.status, NULL);
}
