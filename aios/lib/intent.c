/*
 * libaios intent engine; see intent.h. Four parts, in the order a sentence meets them:
 * the corpus and its index (built once), classification by nearest examples, slots read
 * by rules, and the context (follow-ups, "it") and memory around them.
 */
#include <string.h>

#include "aios/aios_math.h"
#include "aios/intent.h"
#include "kprintf.h"

#define K_NEIGHBOURS   10
#define EF_SEARCH      64
#define SHARPNESS      12.0f    /* how much nearer neighbours outvote farther ones */
#define MIN_SIMILARITY 0.30f    /* below this for the nearest example: not understood */
#define RECALL_MIN_ALONE 0.90f  /* a fact sharing no content word must be this similar */
#define UNKNOWN_SIMILARITY 0.95f  /* this close to the encoder's answer for nonsense (in most
                                   * members): none */
#define UNKNOWN_PROBE  "qxzjw"   /* nonsense: what the encoder gives text it cannot read */
#define MAX_WORDS      64
#define WORD_MAX       48

/* ---- text ---------------------------------------------------------------------------- */

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }
static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (unsigned char)c >= 0x80;
}
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* The sentence as lower-case words: letters and digits, with '.', '_' and '-' kept inside
 * a word (file names), and where each starts in the text. */
struct words {
    char w[MAX_WORDS][WORD_MAX];
    size_t at[MAX_WORDS];
    size_t n;
};

static void split(const char *text, struct words *ws)
{
    size_t i = 0;

    ws->n = 0;
    while (text[i] && ws->n < MAX_WORDS) {
        size_t len = 0;

        while (text[i] && !is_alnum(text[i]))
            i++;
        if (!text[i])
            break;
        ws->at[ws->n] = i;
        while (text[i] && (is_alnum(text[i]) ||
                           ((text[i] == '.' || text[i] == '_' || text[i] == '-') &&
                            is_alnum(text[i + 1]) && len))) {
            if (len + 1 < WORD_MAX)
                ws->w[ws->n][len++] = lower(text[i]);
            i++;
        }
        ws->w[ws->n][len] = '\0';
        ws->n++;
    }
}

static bool has_word(const struct words *ws, const char *w)
{
    for (size_t i = 0; i < ws->n; i++)
        if (!strcmp(ws->w[i], w))
            return true;
    return false;
}

static bool starts_with(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);

    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != prefix[i])
            return false;
    return !is_alnum(s[n]);
}

/* Set slot name to value[0..len) (replacing it, unless add: then another of the name). */
static void put_slot(struct aios_intent_result *r, const char *name, const char *value,
                     size_t len, bool add)
{
    struct aios_intent_slot *s = NULL;

    for (unsigned i = 0; i < r->nslots && !add; i++)
        if (!strcmp(r->slots[i].name, name))
            s = &r->slots[i];
    if (!s) {
        if (r->nslots == AIOS_INTENT_MAX_SLOTS)
            return;
        s = &r->slots[r->nslots++];
        memset(s, 0, sizeof(*s));
        memcpy(s->name, name, strnlen(name, sizeof(s->name) - 1));
    }
    if (len > sizeof(s->value) - 1)
        len = sizeof(s->value) - 1;   /* callers check lengths that matter first */
    memcpy(s->value, value, len);
    s->value[len] = '\0';
}

static void set_slot(struct aios_intent_result *r, const char *name, const char *value,
                     size_t len)
{
    put_slot(r, name, value, len, false);
}

const char *aios_intent_slot(const struct aios_intent_result *r, const char *name)
{
    for (unsigned i = 0; i < r->nslots; i++)
        if (!strcmp(r->slots[i].name, name))
            return r->slots[i].value;
    return NULL;
}

static void set_intent(struct aios_intent_result *r, const char *name)
{
    memset(r->intent, 0, sizeof(r->intent));
    memcpy(r->intent, name, strnlen(name, sizeof(r->intent) - 1));
}

/* ---- numbers and durations ------------------------------------------------------------ */

static const struct { const char *w; unsigned v; } number_words[] = {
    { "zero", 0 }, { "one", 1 }, { "two", 2 }, { "three", 3 }, { "four", 4 }, { "five", 5 },
    { "six", 6 }, { "seven", 7 }, { "eight", 8 }, { "nine", 9 }, { "ten", 10 },
    { "eleven", 11 }, { "twelve", 12 }, { "thirteen", 13 }, { "fourteen", 14 },
    { "fifteen", 15 }, { "sixteen", 16 }, { "seventeen", 17 }, { "eighteen", 18 },
    { "nineteen", 19 }, { "twenty", 20 }, { "thirty", 30 }, { "forty", 40 }, { "fifty", 50 },
    { "sixty", 60 }, { "seventy", 70 }, { "eighty", 80 }, { "ninety", 90 },
};

/* A whole number written in digits or as a word; false otherwise. */
static bool number(const char *w, uint64_t *v)
{
    uint64_t n = 0;
    size_t i = 0;

    for (; is_digit(w[i]); i++) {
        n = n * 10 + (uint64_t)(w[i] - '0');
        if (n > 100000000)
            return false;
    }
    if (i && !w[i]) {
        *v = n;
        return true;
    }
    for (size_t k = 0; k < sizeof(number_words) / sizeof(number_words[0]); k++)
        if (!strcmp(w, number_words[k].w)) {
            *v = number_words[k].v;
            return true;
        }
    return false;
}

/* Seconds per unit word, 0 if w is not one. */
static uint64_t unit_seconds(const char *w)
{
    static const struct { const char *w; uint64_t s; } units[] = {
        { "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 }, { "seconds", 1 },
        { "m", 60 }, { "min", 60 }, { "mins", 60 }, { "minute", 60 }, { "minutes", 60 },
        { "h", 3600 }, { "hr", 3600 }, { "hrs", 3600 }, { "hour", 3600 }, { "hours", 3600 },
    };

    for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++)
        if (!strcmp(w, units[k].w))
            return units[k].s;
    return 0;
}

/* The duration the words name, in seconds ("3 seconds", "2 min 30 s", "an hour", "90s",
 * "half a minute", "twenty five minutes"); 0 if none. */
static uint64_t duration(const struct words *ws)
{
    uint64_t total = 0, pending = 0;
    bool have = false;

    for (size_t i = 0; i < ws->n; i++) {
        const char *w = ws->w[i], *prev = i ? ws->w[i - 1] : "", *prev2 = i > 1 ? ws->w[i - 2] : "";
        uint64_t v = 0, unit = unit_seconds(w);
        size_t d = 0;

        if (unit && have) {                 /* "3 seconds" */
            total += pending * unit;
        } else if (unit && (!strcmp(prev, "a") || !strcmp(prev, "an"))) {
            total += !strcmp(prev2, "half") ? unit / 2 : unit;   /* "an hour", "half a minute" */
        } else if (number(w, &v)) {         /* "twenty five": one number */
            pending = have && v < 10 && pending >= 20 && pending % 10 == 0 ? pending + v : v;
            have = true;
            continue;
        } else {
            while (is_digit(w[d]))
                v = v * 10 + (uint64_t)(w[d++] - '0');
            if (d && d < 9 && (unit = unit_seconds(w + d)))   /* "90s", "5min" */
                total += v * unit;
        }
        pending = 0;
        have = false;
    }
    return total;
}

/* ---- slots ------------------------------------------------------------------------------ */

/* A file name: a word with a dot between letters or digits ("notes.txt"). */
static const char *file_name(const struct words *ws)
{
    for (size_t i = 0; i < ws->n; i++) {
        const char *dot = strchr(ws->w[i], '.');

        if (dot && dot != ws->w[i] && is_alnum(dot[1]))
            return ws->w[i];
    }
    return NULL;
}

static const struct { const char *subject; const char *words[10]; } subjects[] = {
    { "temperature", { "temperature", "temp", "hot", "cold", "warm", "heat", "thermal",
                       "degrees", "overheating", 0 } },
    { "cpu", { "cpu", "cpus", "processor", "processors", "load", "busy", "cores",
               "utilization", "utilisation", 0 } },
    { "memory", { "memory", "ram", "mem", 0 } },
    { "uptime", { "uptime", "up", "booted", "boot", "long", 0 } },
    { "storage", { "storage", "disk", "disks", "space", "flash", "sd", 0 } },
    { "partitions", { "partitions", "partition", "guests", "vms", "running", 0 } },
};

static const char *subject_of(const struct words *ws)
{
    for (size_t s = 0; s < sizeof(subjects) / sizeof(subjects[0]); s++)
        for (size_t k = 0; subjects[s].words[k]; k++)
            if (has_word(ws, subjects[s].words[k]))
                return subjects[s].subject;
    return NULL;
}

static const char *partition_of(const struct words *ws)
{
    if (has_word(ws, "ai") || has_word(ws, "a.i"))
        return "ai";
    if (has_word(ws, "linux"))
        return "linux";
    return NULL;
}

/* The arithmetic in a sentence, from its first number (or parenthesis) on, number words
 * as digits: "what's twelve times 3?" -> "12 times 3". */
static bool expression(const char *text, const struct words *ws, char *out, size_t cap)
{
    size_t start = 0, len = 0, i;
    uint64_t v;
    bool found = false;

    for (i = 0; i < ws->n && !found; i++)
        if (number(ws->w[i], &v) || is_digit(ws->w[i][0])) {
            start = ws->at[i];
            found = true;
        }
    for (size_t k = 0; text[k] && k < (found ? start : strlen(text)); k++)
        if (text[k] == '(') {
            start = k;
            found = true;
            break;
        }
    if (!found)
        return false;
    for (i = start; text[i] && len + 12 < cap;) {
        size_t w = i, n;
        char word[WORD_MAX];

        if (!is_alnum(text[i]) || is_digit(text[i])) {
            if (text[i] != '?' && text[i] != '!')
                out[len++] = text[i];
            i++;
            continue;
        }
        while (is_alnum(text[i]))
            i++;
        n = i - w < WORD_MAX - 1 ? i - w : WORD_MAX - 1;
        for (size_t k = 0; k < n; k++)
            word[k] = lower(text[w + k]);
        word[n] = '\0';
        if (number(word, &v))
            len += (size_t)ksnprintf(out + len, cap - len, "%llu", (unsigned long long)v);
        else if (strcmp(word, "please")) {
            memcpy(out + len, word, n);
            len += n;
        }
    }
    while (len && (out[len - 1] == ' ' || out[len - 1] == '.'))
        len--;
    out[len] = '\0';
    return len > 0;
}

/* The sentence after the first prefix that matches ("remember that ..."), as typed. */
static const char *after_prefix(const char *text, const char *const *prefixes)
{
    const char *s = text;

    for (;;) {
        bool again = false;

        while (*s == ' ')
            s++;
        for (size_t k = 0; prefixes[k]; k++)
            if (starts_with(s, prefixes[k])) {
                s += strlen(prefixes[k]);
                again = true;
                break;
            }
        if (!again)
            return s;
    }
}

static const char *const remember_prefixes[] = {
    "please", "can you", "could you", "remember that", "remember", "note that",
    "make a note that", "make a note", "don't forget that", "dont forget that",
    "keep in mind that", "memorize that", "store that", "save that", "that", 0,
};

static void trim_copy(char *dst, size_t cap, const char *src)
{
    size_t len = strnlen(src, cap - 1);

    memcpy(dst, src, len);
    while (len && (dst[len - 1] == ' ' || dst[len - 1] == '.' || dst[len - 1] == '!'))
        len--;
    dst[len] = '\0';
}

/* The text to write in "write hello world to notes.txt": quoted if quoted, else the
 * words between the verb and "to/into/in <file>". */
static bool write_text(const char *text, const struct words *ws, char *out, size_t cap)
{
    const char *q = strchr(text, '"');
    size_t from = 0, to = strlen(text);

    if (q && strchr(q + 1, '"')) {
        size_t n = (size_t)(strchr(q + 1, '"') - (q + 1));

        if (n >= cap)
            return false;
        memcpy(out, q + 1, n);
        out[n] = '\0';
        return n > 0;
    }
    for (size_t i = 0; i < ws->n; i++) {
        const char *w = ws->w[i];

        if (!from && (!strcmp(w, "write") || !strcmp(w, "append") || !strcmp(w, "add") ||
                      !strcmp(w, "put") || !strcmp(w, "save") || !strcmp(w, "type")))
            from = ws->at[i] + strlen(w);
        else if (from && to == strlen(text) &&
                 (!strcmp(w, "to") || !strcmp(w, "into") || !strcmp(w, "in")) && i + 1 < ws->n &&
                 (strchr(ws->w[i + 1], '.') || !strcmp(ws->w[i + 1], "it") ||
                  !strcmp(ws->w[i + 1], "that") || !strcmp(ws->w[i + 1], "this") ||
                  !strcmp(ws->w[i + 1], "the") || !strcmp(ws->w[i + 1], "file")))
            to = ws->at[i];
    }
    if (!from || to <= from)
        return false;
    while (text[from] == ' ')
        from++;
    while (to > from && text[to - 1] == ' ')
        to--;
    if (to - from >= cap || to == from)
        return false;
    memcpy(out, text + from, to - from);
    out[to - from] = '\0';
    return true;
}

/* ---- the corpus and its index ----------------------------------------------------------- */

static int intent_index(struct aios_intent_engine *e, const char *name, size_t len)
{
    for (unsigned i = 0; i < e->nintents; i++)
        if (strlen(e->names[i]) == len && !memcmp(e->names[i], name, len))
            return (int)i;
    if (e->nintents == AIOS_INTENT_MAX_INTENTS || len >= AIOS_INTENT_NAME_MAX || !len)
        return -1;
    memcpy(e->names[e->nintents], name, len);
    e->names[e->nintents][len] = '\0';
    return (int)e->nintents++;
}

/* Call fn for every example line of the corpus; stops at fn's first non-zero return. */
static int each_example(const char *corpus, size_t len,
                        int (*fn)(void *ctx, const char *intent, size_t ilen,
                                  const char *text, size_t tlen),
                        void *ctx)
{
    size_t i = 0;

    while (i < len) {
        size_t end = i, tab;

        while (end < len && corpus[end] != '\n')
            end++;
        for (tab = i; tab < end && corpus[tab] != '\t'; tab++)
            ;
        if (end > i && corpus[i] != '#') {
            int rc;

            if (tab == end)
                return AIOS_EINVAL;
            rc = fn(ctx, corpus + i, tab - i, corpus + tab + 1, end - tab - 1);
            if (rc)
                return rc;
        }
        i = end + 1;
    }
    return AIOS_OK;
}

struct build {
    struct aios_intent_engine *e;
    float *vec;
    char text[512];
    uint32_t count;
    bool counting;
};

static int add_example(void *ctx, const char *intent, size_t ilen, const char *text, size_t tlen)
{
    struct build *b = ctx;
    int index = intent_index(b->e, intent, ilen);
    size_t mark;
    int rc;

    if (index < 0 || tlen >= sizeof(b->text))
        return AIOS_EINVAL;
    memcpy(b->text, text, tlen);
    b->text[tlen] = '\0';
    if (b->counting) {
        b->count++;
        return AIOS_OK;
    }
    mark = aios_arena_mark(b->e->arena);
    rc = aios_encoder_embed(b->e->enc, b->text, b->vec, b->e->arena);
    aios_arena_reset(b->e->arena, mark);
    if (rc)
        return rc;
    if (aios_encoder_cosine(b->vec, b->vec, b->e->dim) == 0.0f)
        return AIOS_OK;   /* no words: nothing to find it by */
    b->e->example_intent[b->e->nexamples] = (uint8_t)index;
    rc = aios_hnsw_insert(&b->e->examples, b->vec, b->e->nexamples);
    if (!rc)
        b->e->nexamples++;
    return rc;
}

int aios_intent_init(struct aios_intent_engine *e, const struct aios_encoder *enc,
                     const char *corpus, size_t len, struct aios_arena *arena, char *err,
                     size_t errlen)
{
    static struct build b;   /* large: not on a partition's small stack */
    struct aios_hnsw_params hp = { .metric = AIOS_HNSW_COSINE, .m = 16, .ef_construction = 100,
                                   .seed = 42 };
    int rc;

    memset(e, 0, sizeof(*e));
    memset(&b, 0, sizeof(b));
    b.e = e;
    b.counting = true;
    e->enc = enc;
    e->dim = aios_encoder_dim(enc);
    e->arena = arena;
    e->threshold = 0.5f;
    hp.dim = (uint32_t)e->dim;
    rc = each_example(corpus, len, add_example, &b);
    if (rc || !b.count)
        return kfail(err, errlen, AIOS_EINVAL,
                     "intents: the corpus is malformed (want intent<TAB>sentence lines, "
                     "sentences under 512 bytes, at most %d intents) or empty",
                     AIOS_INTENT_MAX_INTENTS);
    hp.max_elements = b.count + AIOS_INTENT_MAX_LEARNED;
    b.vec = aios_arena_alloc(arena, e->dim * sizeof(float), 16);
    e->example_intent = aios_arena_alloc(arena, b.count + AIOS_INTENT_MAX_LEARNED, 1);
    e->facts = aios_arena_alloc(arena, sizeof(*e->facts) * AIOS_INTENT_MAX_FACTS, 8);
    if (!b.vec || !e->example_intent || !e->facts)
        return kfail(err, errlen, AIOS_ENOMEM, "intents: out of memory");
    rc = aios_hnsw_init(&e->examples, &hp, arena, err, errlen);
    if (rc)
        return rc;
    hp.max_elements = AIOS_INTENT_MAX_FACTS;
    rc = aios_hnsw_init(&e->memory, &hp, arena, err, errlen);
    if (rc)
        return rc;
    e->unknown = aios_arena_alloc(arena, e->dim * sizeof(float), 16);
    if (!e->unknown)
        return kfail(err, errlen, AIOS_ENOMEM, "intents: out of memory");
    {
        size_t mark = aios_arena_mark(arena);

        rc = aios_encoder_embed(enc, UNKNOWN_PROBE, e->unknown, arena);
        aios_arena_reset(arena, mark);
        if (rc)
            return kfail(err, errlen, rc, "intents: out of memory");
    }
    e->nintents = 0;
    b.counting = false;
    rc = each_example(corpus, len, add_example, &b);
    if (rc)
        return kfail(err, errlen, rc, "intents: could not index the examples (%d)", rc);
    return AIOS_OK;
}

/* Whether v (an embedding) is where the encoder puts text it cannot read: within
 * UNKNOWN_SIMILARITY of the nonsense probe for most of the encoder's members. Each member
 * decides on its own part of the vector (a member's part is its unit vector over
 * sqrt(members), so its cosine is members times the part's dot product): one member whose
 * hashed features happen to collide with trained ones cannot make nonsense look like
 * something. */
static bool looks_unknown(const struct aios_intent_engine *e, const float *v)
{
    uint32_t members = e->enc->p.members, near = 0;
    size_t part = e->dim / members;

    for (uint32_t i = 0; i < members; i++) {
        float c = (float)members * aios_encoder_cosine(v + i * part, e->unknown + i * part, part);

        if (c >= UNKNOWN_SIMILARITY)
            near++;
    }
    return 2 * near > members;
}

int aios_intent_learn(struct aios_intent_engine *e, const char *text, const char *intent,
                      char *err, size_t errlen)
{
    size_t mark = aios_arena_mark(e->arena);
    float *v = aios_arena_alloc(e->arena, e->dim * sizeof(float), 16);
    unsigned index;
    int rc;

    for (index = 0; index < e->nintents && strcmp(e->names[index], intent); index++)
        ;
    if (index == e->nintents)
        return kfail(err, errlen, AIOS_EINVAL, "learn: no intent '%s' (the corpus defines %u)",
                     intent, e->nintents);
    if (e->examples.n >= e->examples.p.max_elements)
        return kfail(err, errlen, AIOS_ERANGE, "learn: %d examples learned already, the most",
                     AIOS_INTENT_MAX_LEARNED);
    if (!v)
        return kfail(err, errlen, AIOS_ENOMEM, "learn: out of memory");
    rc = aios_encoder_embed(e->enc, text, v, e->arena);
    if (!rc && (aios_encoder_cosine(v, v, e->dim) == 0.0f ||
                looks_unknown(e, v)))
        rc = kfail(err, errlen, AIOS_EINVAL, "learn: the encoder cannot read \"%s\"", text);
    else if (!rc) {
        e->example_intent[e->nexamples] = (uint8_t)index;
        rc = aios_hnsw_insert(&e->examples, v, e->nexamples);
        if (!rc)
            e->nexamples++;
        else
            kfail(err, errlen, rc, "learn: cannot index it (%d)", rc);
    }
    aios_arena_reset(e->arena, mark);
    return rc;
}

void aios_intent_reset(struct aios_intent_engine *e)
{
    e->nturns = 0;
}

int aios_intent_remember(struct aios_intent_engine *e, const char *fact, char *err,
                         size_t errlen)
{
    size_t len = strlen(fact), mark;
    float *v;
    int rc;

    if (!len)
        return kfail(err, errlen, AIOS_EINVAL, "no fact given");
    if (len >= AIOS_INTENT_SLOT_VALUE)
        return kfail(err, errlen, AIOS_EINVAL, "a fact has at most %d characters",
                     AIOS_INTENT_SLOT_VALUE - 1);
    for (uint32_t i = 0; i < e->nfacts; i++)
        if (!strcmp(e->facts[i], fact))
            return AIOS_OK;   /* known already: once is enough */
    if (e->nfacts == AIOS_INTENT_MAX_FACTS)
        return kfail(err, errlen, AIOS_ERANGE,
                     "memory is full (%d facts); this one is not stored", AIOS_INTENT_MAX_FACTS);
    mark = aios_arena_mark(e->arena);
    v = aios_arena_alloc(e->arena, e->dim * sizeof(float), 16);
    if (!v)
        return kfail(err, errlen, AIOS_ENOMEM, "out of memory");
    rc = aios_encoder_embed(e->enc, fact, v, e->arena);
    if (rc)
        kfail(err, errlen, rc, "cannot embed it (%d)", rc);
    else if (aios_encoder_cosine(v, v, e->dim) == 0.0f)
        rc = kfail(err, errlen, AIOS_EINVAL, "\"%s\" has no words to find it by", fact);
    else if ((rc = aios_hnsw_insert(&e->memory, v, e->nfacts)))
        kfail(err, errlen, rc, "cannot index it (%d)", rc);
    else
        memcpy(e->facts[e->nfacts++], fact, len + 1);
    aios_arena_reset(e->arena, mark);
    return rc;
}

/* ---- classification --------------------------------------------------------------------- */

struct ranking {
    int best, second;
    float confidence, second_confidence, nearest;
};

static int classify(struct aios_intent_engine *e, const float *q, struct ranking *rk)
{
    uint32_t labels[K_NEIGHBOURS];
    float dists[K_NEIGHBOURS], score[AIOS_INTENT_MAX_INTENTS] = { 0 }, total = 0;
    size_t found, mark = aios_arena_mark(e->arena);
    int rc = aios_hnsw_search(&e->examples, q, K_NEIGHBOURS, EF_SEARCH, labels, dists, &found,
                              e->arena);

    aios_arena_reset(e->arena, mark);
    rk->best = rk->second = -1;
    rk->confidence = rk->second_confidence = rk->nearest = 0;
    if (rc || !found)
        return rc;
    rk->nearest = 1.0f - dists[0];
    for (size_t i = 0; i < found; i++) {
        float w = aios_expf(SHARPNESS * ((1.0f - dists[i]) - rk->nearest));

        score[e->example_intent[labels[i]]] += w;
        total += w;
    }
    for (unsigned i = 0; i < e->nintents; i++) {
        if (rk->best < 0 || score[i] > score[rk->best]) {
            rk->second = rk->best;
            rk->best = (int)i;
        } else if (rk->second < 0 || score[i] > score[rk->second]) {
            rk->second = (int)i;
        }
    }
    rk->confidence = score[rk->best] / total;

    rk->second_confidence = rk->second >= 0 ? score[rk->second] / total : 0;
    return AIOS_OK;
}

/* ---- context ---------------------------------------------------------------------------- */

static const struct aios_intent_result *last_turn(const struct aios_intent_engine *e)
{
    return e->nturns ? &e->turns[e->nturns - 1].result : NULL;
}

static void remember_turn(struct aios_intent_engine *e, const struct aios_intent_result *r)
{
    if (e->nturns == AIOS_INTENT_CONTEXT) {
        memmove(&e->turns[0], &e->turns[1], sizeof(e->turns[0]) * (AIOS_INTENT_CONTEXT - 1));
        e->nturns--;
    }
    e->turns[e->nturns++].result = *r;
}

/* The last value of slot name that the remembered turns (the last AIOS_INTENT_CONTEXT)
 * gave an intent starting with prefix, or NULL: "it" is the last file named, as long as
 * it was named within the context. */
static const char *last_entity(const struct aios_intent_engine *e, const char *prefix,
                               const char *name)
{
    for (unsigned t = e->nturns; t-- > 0;) {
        const struct aios_intent_result *r = &e->turns[t].result;
        const char *v = aios_intent_slot(r, name);

        if (!strncmp(r->intent, prefix, strlen(prefix)) && v && v[0])
            return v;
    }
    return NULL;
}

/* "what about the cpu", "now the ai one too", "and memory?": a short sentence that names
 * a new value for a slot of the previous turn's intent keeps that intent. */
static bool follow_up(struct aios_intent_engine *e, const char *text, const struct words *ws,
                      struct aios_intent_result *r)
{
    const struct aios_intent_result *prev = last_turn(e);
    bool marked = starts_with(text, "what about") || starts_with(text, "how about") ||
                  starts_with(text, "and") || starts_with(text, "now") ||
                  starts_with(text, "same for") || starts_with(text, "also") ||
                  has_word(ws, "too") || has_word(ws, "also") ||
                  (has_word(ws, "as") && has_word(ws, "well"));
    const char *v;

    if (!prev || !marked || ws->n > 8)
        return false;
    if (!strcmp(prev->intent, "status.show") && (v = subject_of(ws))) {
        *r = *prev;
        set_slot(r, "subject", v, strlen(v));
    } else if (!strcmp(prev->intent, "partition.restart") && (v = partition_of(ws))) {
        *r = *prev;
        set_slot(r, "partition", v, strlen(v));
    } else if (!strncmp(prev->intent, "file.", 5) && (v = file_name(ws))) {
        *r = *prev;
        set_slot(r, "name", v, strlen(v));
    } else if (!strcmp(prev->intent, "timer.set") && duration(ws)) {
        char s[24];

        *r = *prev;
        ksnprintf(s, sizeof(s), "%llu", (unsigned long long)duration(ws));
        set_slot(r, "seconds", s, strlen(s));
    } else {
        return false;
    }
    r->confidence = 0.9f;
    return true;
}

/* ---- memory ----------------------------------------------------------------------------- */

/* Words that say nothing about which fact is meant. */
static bool stop_word(const char *w)
{
    static const char *const stop[] = {
        "a", "an", "the", "is", "are", "was", "were", "be", "my", "your", "our", "i", "me",
        "you", "it", "its", "of", "for", "to", "in", "on", "at", "and", "or", "what", "whats",
        "what's", "where", "wheres", "when", "who", "how", "which", "do", "does", "did", "can",
        "could", "tell", "remember", "that", "this", "there", "please", "again", "know", "s",
        "now", "then", "just", "so", "with", "from", "by", "as", "all", "any", "some", "up",
        "out", "get", "go", "do", "not", "no", "yes", "ok", "okay", "will", "would", "should",
        "have", "has", "had", "am", "we", "they", "he", "she", "them", "us", "if", 0,
    };

    for (size_t k = 0; stop[k]; k++)
        if (!strcmp(w, stop[k]))
            return true;
    return false;
}

/* Same word, give or take a plural s. */
static bool same_word(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la == lb)
        return !strcmp(a, b);
    if (la + 1 == lb)
        return b[la] == 's' && !strncmp(a, b, la);
    if (lb + 1 == la)
        return a[lb] == 's' && !strncmp(a, b, lb);
    return false;
}

/* The fact that best answers the question: the nearest facts by embedding, ranked by the
 * content words they share with it (the encoder is trained to tell intents apart, so
 * what a fact is about is in its words), the embedding's similarity breaking ties. -1
 * when no fact shares a content word and none is close. */
static int recall(struct aios_intent_engine *e, const struct words *ws, const float *q)
{
    static struct words fw;
    uint32_t labels[32];
    float dists[32], best_score = 0;
    size_t found = 0, mark = aios_arena_mark(e->arena);
    int best = -1;

    if (!e->nfacts || aios_hnsw_search(&e->memory, q, e->nfacts < 32 ? e->nfacts : 32, EF_SEARCH,
                                       labels, dists, &found, e->arena))
        found = 0;
    aios_arena_reset(e->arena, mark);
    for (size_t i = 0; i < found; i++) {
        float shared = 0, cosine = 1.0f - dists[i], score;
        bool other_number = false;

        split(e->facts[labels[i]], &fw);
        for (size_t a = 0; a < ws->n; a++) {
            bool in_fact = false;

            if (stop_word(ws->w[a]))
                continue;
            for (size_t b = 0; b < fw.n && !in_fact; b++)
                in_fact = same_word(ws->w[a], fw.w[b]);
            shared += in_fact ? 1.0f : 0.0f;
            /* The encoder reads every number alike: "locker 12" must not answer "locker 3". */
            other_number |= !in_fact && is_digit(ws->w[a][0]);
        }
        if (other_number || (shared == 0 && cosine < RECALL_MIN_ALONE))
            continue;
        score = shared + cosine;
        if (best < 0 || score > best_score) {
            best = (int)labels[i];
            best_score = score;
        }
    }
    return best;
}

/* ---- slots for the intent chosen -------------------------------------------------------- */

static void fill_slots(struct aios_intent_engine *e, const char *text, const struct words *ws,
                       struct aios_intent_result *r, const float *q)
{
    const char *name = r->intent, *v;
    char buf[AIOS_INTENT_SLOT_VALUE];

    if (!strcmp(name, "status.show")) {
        if ((v = subject_of(ws)))
            set_slot(r, "subject", v, strlen(v));
    } else if (!strcmp(name, "partition.restart")) {
        v = partition_of(ws);
        /* "restart it again": the last partition named. */
        if (!v && (has_word(ws, "it") || has_word(ws, "that")))
            v = last_entity(e, "partition.restart", "partition");
        if (v)
            set_slot(r, "partition", v, strlen(v));
    } else if (!strcmp(name, "timer.set")) {
        uint64_t s = duration(ws);

        if (s) {
            ksnprintf(buf, sizeof(buf), "%llu", (unsigned long long)s);
            set_slot(r, "seconds", buf, strlen(buf));
        }
    } else if (!strcmp(name, "compute.calc")) {
        if (expression(text, ws, buf, sizeof(buf)))
            set_slot(r, "expr", buf, strlen(buf));
    } else if (!strncmp(name, "file.", 5) && strcmp(name, "file.list")) {
        v = file_name(ws);
        /* "delete it", "read that file": the last file named. */
        if (!v && (has_word(ws, "it") || has_word(ws, "that") || has_word(ws, "this") ||
                   has_word(ws, "file")))
            v = last_entity(e, "file.", "name");
        if (v)
            set_slot(r, "name", v, strlen(v));
        if (!strcmp(name, "file.write") && write_text(text, ws, buf, sizeof(buf)))
            set_slot(r, "text", buf, strlen(buf));
    } else if (!strcmp(name, "memory.remember")) {
        /* Only the fact: it is stored when the trusted side grants the request
         * (aios_intent_remember), not here. */
        const char *fact = after_prefix(text, remember_prefixes);

        trim_copy(buf, sizeof(buf), fact);
        if (strlen(fact) >= sizeof(buf) || !buf[0]) {
            set_intent(r, "clarify");
            r->nslots = 0;
            v = buf[0] ? "memory.remember (a fact of at most 95 characters)"
                       : "memory.remember (what to remember?)";
            set_slot(r, "candidate", v, strlen(v));
            return;
        }
        set_slot(r, "fact", buf, strlen(buf));
    } else if (!strcmp(name, "memory.recall")) {
        int best = recall(e, ws, q);

        trim_copy(buf, sizeof(buf), text);
        set_slot(r, "query", buf, strlen(buf));
        if (best >= 0)
            set_slot(r, "answer", e->facts[best], strlen(e->facts[best]));
        else
            set_slot(r, "answer", "", 0);
    }
}

int aios_intent_understand(struct aios_intent_engine *e, const char *text,
                           struct aios_intent_result *out)
{
    static struct words ws;   /* large: not on a partition's small stack */
    struct ranking rk = { .best = -1, .second = -1 };
    bool nonsense;
    size_t mark = aios_arena_mark(e->arena);
    float *q = aios_arena_alloc(e->arena, e->dim * sizeof(float), 16);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!q)
        return AIOS_ENOMEM;
    split(text, &ws);
    rc = aios_encoder_embed(e->enc, text, q, e->arena);
    if (!rc && aios_encoder_cosine(q, q, e->dim) > 0.0f)
        rc = classify(e, q, &rk);
    else
        rk.best = -1;
    if (rc) {
        aios_arena_reset(e->arena, mark);
        return rc;
    }
    /* Text the encoder cannot read at all ("zzqx vlorp") lands where it puts every such
     * text, wherever the nearest example happens to be: that means nothing. */
    nonsense = rk.best >= 0 && looks_unknown(e, q);
    if (follow_up(e, text, &ws, out)) {
        /* the previous intent, with the value this sentence names */
    } else if (rk.best < 0 || rk.nearest < MIN_SIMILARITY || rk.confidence < e->threshold ||
               nonsense) {
        set_intent(out, "clarify");
        /* How sure it is of its best guess: not at all for text it cannot place. */
        out->confidence = rk.best < 0 || nonsense ? 0.0f
                        : rk.nearest < MIN_SIMILARITY ? rk.nearest : rk.confidence;
        if (rk.best >= 0)
            put_slot(out, "candidate", e->names[rk.best], strlen(e->names[rk.best]), true);
        if (rk.second >= 0 && rk.second_confidence > 0.05f)
            put_slot(out, "candidate", e->names[rk.second], strlen(e->names[rk.second]), true);
    } else {
        set_intent(out, e->names[rk.best]);
        out->confidence = rk.confidence;
        fill_slots(e, text, &ws, out, q);
    }
    aios_arena_reset(e->arena, mark);
    if (strcmp(out->intent, "clarify"))
        remember_turn(e, out);
    return AIOS_OK;
}
