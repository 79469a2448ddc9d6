/*
 * aios-run: the libaios engine on the host, for trying models, benchmarking, and
 * producing the logits the reference tests compare against.
 *
 *   aios-run model.bin [-z tokenizer.bin] [-i prompt] [--tokens 1,5,9] [-n N] [-t T]
 *            [-p P] [-s SEED] [--ids] [--logits FILE] [--threads N]
 *
 * The model (legacy fp32 or version 2 int8) and tokenizer files are read whole into
 * memory, as the partition has them. The prompt is text (-i, encoded with BOS by the
 * tokenizer -z) or token ids (--tokens, no tokenizer needed). Generation then samples up
 * to N tokens (-n; default: until the context is full; 0: none, only evaluate the
 * prompt), stopping early at the end of the context or when the model produces BOS (id
 * 1, which llama2.c's models emit between stories), which is not printed.
 *
 * Output (stdout): the text, streamed as each token is produced, the prompt's text
 * included; or with --ids (implied when there is no tokenizer) the token ids of the
 * whole sequence, prompt ids first (BOS included), space-separated on one line.
 * --logits FILE writes the raw fp32 logits (vocab_size floats, native byte order) of
 * every position evaluated: one row per token of the sequence, prompt and generated.
 * The speed goes to stderr. --threads N splits each matrix product over N threads
 * (the results are bit-identical to one thread).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aios/common.h"
#include "aios/exec.h"
#include "aios/forward.h"
#include "aios/model.h"
#include "aios/sampler.h"
#include "aios/tokenizer.h"

#define MAX_THREADS 64

static void usage(FILE *f)
{
    fprintf(f,
        "usage: aios-run model.bin [options]\n"
        "  -z FILE        tokenizer.bin (needed for -i and for text output)\n"
        "  -i TEXT        prompt text (encoded with BOS)\n"
        "  --tokens LIST  prompt as comma-separated token ids instead of text\n"
        "  -n N           tokens to generate (default: until the context is full; 0: none)\n"
        "  -t T           temperature (default 1.0; 0 = greedy)\n"
        "  -p P           top-p, nucleus sampling (default 0.9; 0 or 1 = off)\n"
        "  -s SEED        random seed (default: from the clock)\n"
        "  --ids          print token ids (prompt then generated) instead of text\n"
        "  --logits FILE  write the fp32 logits of every position to FILE\n"
        "  --threads N    threads for the matrix products (default 1)\n");
}

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
    va_list ap;

    fputs("aios-run: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ---------------------------------------------------------------- files */

/* The whole file in a 64-byte aligned buffer (the model loader needs 4-byte alignment). */
static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    long len;

    if (f == NULL)
        die("%s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        die("%s: cannot determine the size", path);
    void *buf = aligned_alloc(64, ((size_t)len + 64) & ~(size_t)63);
    if (buf == NULL)
        die("%s: out of memory", path);
    if (fread(buf, 1, (size_t)len, f) != (size_t)len)
        die("%s: read failed", path);
    fclose(f);
    *size = (size_t)len;
    return buf;
}

/* ---------------------------------------------------------------- thread pool executor */

/* A token makes ~30 parallel rounds of a few tens of microseconds each, so waking
 * sleeping threads (a condition variable costs about as much as the work) would eat the
 * gain: helpers spin on a round counter instead, yielding the CPU when a round is long
 * in coming, and the caller spins until the helpers are done. */
struct pool {
    struct aios_exec exec;
    pthread_t threads[MAX_THREADS];
    atomic_uint round;   /* bumped to start a round, after fn and arg are set */
    atomic_int pending;  /* helpers still working on this round */
    aios_task_fn fn;
    void *arg;
};

struct helper {
    struct pool *pool;
    int part;
};

static void relax(unsigned *spins)
{
    if (++*spins < 4096) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ volatile("yield");
#endif
    } else {
        sched_yield();
    }
}

static void *helper_main(void *p)
{
    struct helper *h = p;
    struct pool *pool = h->pool;
    unsigned seen = 0;

    for (;;) {
        unsigned spins = 0, r;
        while ((r = atomic_load_explicit(&pool->round, memory_order_acquire)) == seen)
            relax(&spins);
        seen = r;
        pool->fn(pool->arg, h->part, pool->exec.nparts);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
    return NULL;
}

/* Part 0 runs on the caller; parts 1.. on the helpers. */
static void pool_parallel_for(struct aios_exec *e, aios_task_fn fn, void *arg)
{
    struct pool *pool = e->ctx;
    unsigned spins = 0;

    pool->fn = fn;
    pool->arg = arg;
    atomic_store_explicit(&pool->pending, e->nparts - 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool->round, 1, memory_order_release);
    fn(arg, 0, e->nparts);
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0)
        relax(&spins);
}

/* The helpers run until the process exits. */
static struct aios_exec *pool_start(int nthreads)
{
    static struct pool pool;
    static struct helper helpers[MAX_THREADS];

    pool.exec = (struct aios_exec){ .parallel_for = pool_parallel_for, .nparts = nthreads,
                                    .ctx = &pool };
    for (int i = 1; i < nthreads; i++) {
        helpers[i] = (struct helper){ .pool = &pool, .part = i };
        if (pthread_create(&pool.threads[i], NULL, helper_main, &helpers[i]) != 0)
            die("cannot start a thread");
    }
    return &pool.exec;
}

/* ---------------------------------------------------------------- arguments */

struct args {
    const char *model, *tokenizer, *prompt, *tokens, *logits;
    long steps;   /* -1: until the context is full */
    float temperature, topp;
    unsigned long long seed;
    bool seeded, ids;
    int threads;
};

static long parse_long(const char *opt, const char *s, long min, long max)
{
    char *end;

    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        die("bad value for %s", opt);
    return v;
}

static float parse_float(const char *opt, const char *s)
{
    char *end;

    errno = 0;
    float v = strtof(s, &end);
    if (errno != 0 || end == s || *end != '\0')
        die("bad value for %s", opt);
    return v;
}

static void parse_args(int argc, char **argv, struct args *a)
{
    *a = (struct args){ .steps = -1, .temperature = 1.0f, .topp = 0.9f, .threads = 1 };
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool has_value = i + 1 < argc;

        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(o, "--ids") == 0) {
            a->ids = true;
        } else if (o[0] != '-' && a->model == NULL) {
            a->model = o;
        } else if (!has_value || o[0] != '-') {
            fprintf(stderr, "aios-run: unexpected or incomplete argument '%s'\n", o);
            usage(stderr);
            exit(2);
        } else if (strcmp(o, "-z") == 0) {
            a->tokenizer = argv[++i];
        } else if (strcmp(o, "-i") == 0) {
            a->prompt = argv[++i];
        } else if (strcmp(o, "--tokens") == 0) {
            a->tokens = argv[++i];
        } else if (strcmp(o, "--logits") == 0) {
            a->logits = argv[++i];
        } else if (strcmp(o, "-n") == 0) {
            a->steps = parse_long(o, argv[++i], 0, INT32_MAX);
        } else if (strcmp(o, "-t") == 0) {
            a->temperature = parse_float(o, argv[++i]);
        } else if (strcmp(o, "-p") == 0) {
            a->topp = parse_float(o, argv[++i]);
        } else if (strcmp(o, "-s") == 0) {
            a->seed = (unsigned long long)parse_long(o, argv[++i], 0, LONG_MAX);
            a->seeded = true;
        } else if (strcmp(o, "--threads") == 0) {
            a->threads = (int)parse_long(o, argv[++i], 1, MAX_THREADS);
        } else {
            fprintf(stderr, "aios-run: unknown option '%s'\n", o);
            usage(stderr);
            exit(2);
        }
    }
    if (a->model == NULL) {
        usage(stderr);
        exit(2);
    }
    if (a->prompt != NULL && a->tokens != NULL)
        die("give the prompt as -i text or as --tokens ids, not both");
    if (a->prompt != NULL && a->tokenizer == NULL)
        die("-i needs a tokenizer (-z tokenizer.bin)");
    if (a->tokenizer == NULL)
        a->ids = true;
}

/* Comma-separated ids, each in [0, vocab). */
static size_t parse_tokens(const char *list, int32_t vocab, int32_t *ids, size_t max)
{
    size_t n = 0;
    const char *p = list;

    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno != 0 || end == p || v < 0 || v >= vocab)
            die("--tokens: '%s' is not a list of ids below the vocabulary size", list);
        if (n == max)
            die("--tokens: more ids than the context holds (%s)", list);
        ids[n++] = (int32_t)v;
        if (*end == '\0')
            return n;
        if (*end != ',')
            die("--tokens: '%s' is not a comma-separated list", list);
        p = end + 1;
    }
}

/* ---------------------------------------------------------------- output */

/* A piece as llama2.c prints it: a lone control byte (a raw byte token) is dropped
 * unless it is white space, so the terminal is not sent escape sequences. */
static void print_piece(const char *piece, size_t len)
{
    if (len == 1) {
        unsigned char b = (unsigned char)piece[0];
        if ((b < 0x20 && b != '\n' && b != '\t' && b != '\r') || b == 0x7f)
            return;
    }
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    struct args a;
    char err[256];
    size_t size;

    parse_args(argc, argv, &a);

    void *model_buf = read_file(a.model, &size);
    struct aios_model model;
    if (aios_model_load(&model, model_buf, size, err, sizeof(err)) != AIOS_OK)
        die("%s", err);
    const struct aios_config *c = &model.cfg;
    fprintf(stderr, "aios-run: %s: dim %d hidden %d layers %d heads %d kv_heads %d vocab %d "
                    "seq %d, %s\n", a.model, c->dim, c->hidden_dim, c->n_layers, c->n_heads,
            c->n_kv_heads, c->vocab_size, c->seq_len,
            c->type == AIOS_WEIGHTS_F32 ? "fp32" : "int8");

    /* One arena for the run state, the sampler, the tokenizer tables and the encoder's
     * scratch (48 bytes per prompt byte). */
    size_t prompt_len = a.prompt != NULL ? strlen(a.prompt) : 0;
    size_t arena_size = aios_state_size(&model) + 64 * (size_t)c->vocab_size +
                        48 * prompt_len + (1u << 20);
    void *arena_mem = aligned_alloc(64, (arena_size + 63) & ~(size_t)63);
    struct aios_arena arena;
    if (arena_mem == NULL)
        die("out of memory for the run state");
    aios_arena_init(&arena, arena_mem, arena_size);

    struct aios_state state;
    if (aios_state_init(&state, &model, &arena, err, sizeof(err)) != AIOS_OK)
        die("%s", err);
    if (!a.seeded)
        a.seed = (unsigned long long)time(NULL);
    struct aios_sampler sampler;
    if (aios_sampler_init(&sampler, c->vocab_size, a.temperature, a.topp, a.seed, &arena,
                          err, sizeof(err)) != AIOS_OK)
        die("%s", err);

    struct aios_tokenizer tok;
    if (a.tokenizer != NULL) {
        size_t tsize;
        void *tbuf = read_file(a.tokenizer, &tsize);
        if (aios_tokenizer_load(&tok, tbuf, tsize, c->vocab_size, &arena, err,
                                sizeof(err)) != AIOS_OK)
            die("%s", err);
    }

    /* The sequence: prompt first, then what is generated. Room for any prompt, so that
     * one too long is reported as such. */
    size_t max_prompt = prompt_len + 3;
    if (a.tokens != NULL)
        for (const char *p = a.tokens; *p != '\0'; p++)
            max_prompt += *p == ',';
    if (max_prompt < (size_t)c->seq_len)
        max_prompt = (size_t)c->seq_len;
    int32_t *seq = calloc(max_prompt, sizeof(int32_t));
    size_t n_prompt = 0;
    if (seq == NULL)
        die("out of memory");
    if (a.tokens != NULL) {
        n_prompt = parse_tokens(a.tokens, c->vocab_size, seq, max_prompt);
    } else if (a.tokenizer != NULL) {
        int rc = aios_tokenizer_encode(&tok, a.prompt != NULL ? a.prompt : "", 1, 0, seq,
                                       max_prompt, &n_prompt, &arena);
        if (rc != AIOS_OK)
            die("cannot encode the prompt (error %d)", rc);
    } else {
        seq[n_prompt++] = AIOS_TOKEN_BOS;
    }
    if (n_prompt > (size_t)c->seq_len) {
        fprintf(stderr, "aios-run: the prompt is %zu tokens, longer than the model's context "
                        "of %d\n", n_prompt, c->seq_len);
        return 1;
    }

    size_t limit = (size_t)c->seq_len;
    if (a.steps >= 0 && n_prompt + (size_t)a.steps < limit)
        limit = n_prompt + (size_t)a.steps;

    FILE *logits_out = NULL;
    if (a.logits != NULL && (logits_out = fopen(a.logits, "wb")) == NULL)
        die("%s: cannot open for writing", a.logits);
    struct aios_exec *exec = a.threads > 1 ? pool_start(a.threads) : NULL;

    if (a.ids)
        printf("%d", (int)seq[0]);
    size_t evaluated = 0, generated = 0;
    double start = now();
    for (size_t pos = 0; pos < limit; pos++) {
        /* The last token's logits are only needed when they are being written. */
        if (pos + 1 == limit && logits_out == NULL)
            break;
        float *logits = (float *)aios_forward(&state, seq[pos], (int32_t)pos, exec);
        if (logits == NULL)
            die("internal error: the forward pass refused a token");
        evaluated++;
        if (logits_out != NULL &&
            fwrite(logits, sizeof(float), (size_t)c->vocab_size, logits_out) !=
                (size_t)c->vocab_size)
            die("%s: write failed", a.logits);
        if (pos + 1 == limit)
            break;
        int32_t next;
        if (pos + 1 < n_prompt) {
            next = seq[pos + 1];
        } else {
            next = aios_sample_exec(&sampler, logits, exec);
            if (next == AIOS_TOKEN_BOS)
                break;
            seq[pos + 1] = next;
            generated++;
        }
        if (a.ids) {
            printf(" %d", (int)next);
            fflush(stdout);
        } else {
            size_t len;
            const char *piece = aios_tokenizer_decode(&tok, seq[pos], next, &len);
            print_piece(piece, len);
        }
    }
    double elapsed = now() - start;
    printf("\n");
    if (logits_out != NULL && fclose(logits_out) != 0)
        die("%s: write failed", a.logits);
    fprintf(stderr, "aios-run: %zu positions in %.3f s: %.1f tok/s (%zu prompt, %zu generated, "
                    "%d thread%s)\n", evaluated, elapsed,
            elapsed > 0 ? (double)evaluated / elapsed : 0.0, n_prompt, generated, a.threads,
            a.threads > 1 ? "s" : "");
    free(seq);
    free(arena_mem);
    free(model_buf);
    return 0;
}
