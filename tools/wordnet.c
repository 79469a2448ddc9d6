/*
 * WordNet reader (see wordnet.h). Only what the encoder trainer needs: base forms,
 * senses, synset lemmas and a few pointer types.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wordnet.h"

enum { POS_N, POS_V, POS_A, POS_R, POS_COUNT };
static const char *const pos_name[POS_COUNT] = { "noun", "verb", "adj", "adv" };

struct sorted_file {          /* a file of lines "key rest", sorted by key */
    char *text;
    size_t size;
    const char **lines;       /* the lines with a key (license lines skipped) */
    size_t count;
};

struct wordnet {
    struct sorted_file index[POS_COUNT], exc[POS_COUNT];
    char *data[POS_COUNT];
    size_t data_size[POS_COUNT];
};

static char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
            *size = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

static bool load_sorted(struct sorted_file *sf, const char *path)
{
    size_t cap = 0;

    sf->text = read_all(path, &sf->size);
    if (!sf->text)
        return false;
    for (char *p = sf->text; p < sf->text + sf->size;) {
        char *eol = memchr(p, '\n', (size_t)(sf->text + sf->size - p));
        if (!eol)
            eol = sf->text + sf->size;
        if (p[0] != ' ' && p[0] != '\n' && p < eol) {
            if (sf->count == cap) {
                cap = cap ? cap * 2 : 4096;
                sf->lines = realloc(sf->lines, cap * sizeof(*sf->lines));
                if (!sf->lines)
                    return false;
            }
            sf->lines[sf->count++] = p;
        }
        *eol = '\0';
        p = eol + 1;
    }
    return true;
}

/* The line whose first field is key, or NULL. */
static const char *lookup(const struct sorted_file *sf, const char *key)
{
    size_t lo = 0, hi = sf->count, klen = strlen(key);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *l = sf->lines[mid];
        size_t n = strcspn(l, " ");
        int c = strncmp(l, key, n < klen ? n : klen);
        if (c == 0)
            c = n < klen ? -1 : n > klen ? 1 : 0;
        if (c == 0)
            return l;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

struct wordnet *wn_open(const char *dir, char *err, size_t errlen)
{
    struct wordnet *wn = calloc(1, sizeof(*wn));
    char path[4096];

    if (!dir)
        dir = WORDNET_DIR;
    if (!wn) {
        snprintf(err, errlen, "wordnet: out of memory");
        return NULL;
    }
    for (int p = 0; p < POS_COUNT; p++) {
        snprintf(path, sizeof(path), "%s/index.%s", dir, pos_name[p]);
        if (!load_sorted(&wn->index[p], path))
            goto fail;
        snprintf(path, sizeof(path), "%s/%s.exc", dir, pos_name[p]);
        if (!load_sorted(&wn->exc[p], path))
            goto fail;
        snprintf(path, sizeof(path), "%s/data.%s", dir, pos_name[p]);
        if (!(wn->data[p] = read_all(path, &wn->data_size[p])))
            goto fail;
    }
    return wn;
fail:
    snprintf(err, errlen, "wordnet: cannot read %s", path);
    wn_close(wn);
    return NULL;
}

void wn_close(struct wordnet *wn)
{
    if (!wn)
        return;
    for (int p = 0; p < POS_COUNT; p++) {
        free(wn->index[p].text);
        free(wn->index[p].lines);
        free(wn->exc[p].text);
        free(wn->exc[p].lines);
        free(wn->data[p]);
    }
    free(wn);
}

/* ---------------------------------------------------------------- morphy */

struct rule { const char *suffix, *ending; };
static const struct rule noun_rules[] = {
    { "s", "" }, { "ses", "s" }, { "xes", "x" }, { "zes", "z" }, { "ches", "ch" },
    { "shes", "sh" }, { "men", "man" }, { "ies", "y" }, { NULL, NULL },
};
static const struct rule verb_rules[] = {
    { "s", "" }, { "ies", "y" }, { "es", "e" }, { "es", "" }, { "ed", "e" }, { "ed", "" },
    { "ing", "e" }, { "ing", "" }, { NULL, NULL },
};
static const struct rule adj_rules[] = {
    { "er", "" }, { "est", "" }, { "er", "e" }, { "est", "e" }, { NULL, NULL },
};
static const struct rule *const rules[POS_COUNT] = { noun_rules, verb_rules, adj_rules, NULL };

#define MAX_BASES 8
#define MAX_WORD 128

static void add_base(char bases[][MAX_WORD], int *n, const char *b, size_t len)
{
    if (*n >= MAX_BASES || len == 0 || len >= MAX_WORD)
        return;
    for (int i = 0; i < *n; i++)
        if (strlen(bases[i]) == len && memcmp(bases[i], b, len) == 0)
            return;
    memcpy(bases[*n], b, len);
    bases[*n][len] = '\0';
    (*n)++;
}

/* The base forms of word in part of speech p that are in the index (morphy(7WN)). */
static int base_forms(const struct wordnet *wn, int p, const char *word,
                      char bases[][MAX_WORD])
{
    int n = 0;
    size_t len = strlen(word);
    const char *e = lookup(&wn->exc[p], word);
    char buf[MAX_WORD];

    if (lookup(&wn->index[p], word))
        add_base(bases, &n, word, len);
    if (e) {
        const char *f = e + strcspn(e, " ");
        while (*f == ' ') {
            f++;
            size_t k = strcspn(f, " ");
            if (k < MAX_WORD) {
                memcpy(buf, f, k);
                buf[k] = '\0';
                if (lookup(&wn->index[p], buf))
                    add_base(bases, &n, buf, k);
            }
            f += k;
        }
    }
    for (const struct rule *r = rules[p]; r && r->suffix; r++) {
        size_t sl = strlen(r->suffix), el = strlen(r->ending);
        if (len <= sl || len - sl + el >= MAX_WORD || strcmp(word + len - sl, r->suffix))
            continue;
        memcpy(buf, word, len - sl);
        memcpy(buf + len - sl, r->ending, el + 1);
        if (lookup(&wn->index[p], buf))
            add_base(bases, &n, buf, strlen(buf));
    }
    return n;
}

/* ---------------------------------------------------------------- synsets */

struct collect {
    char **items;
    int count, cap;
    char bases[MAX_BASES][MAX_WORD];
    int nbases;
    void (*fn)(void *ctx, const char *lemma);
    void *ctx;
};

/* Report a lemma as written in a data file (up to a space): lower-cased, '_' -> ' ',
 * an adjective marker "(a)", "(p)", "(ip)" removed; skipped if already seen or one of the
 * word's own base forms. */
static void report(struct collect *c, const char *lemma, size_t len)
{
    char buf[MAX_WORD];

    if (len >= MAX_WORD)
        return;
    for (size_t i = 0; i < len; i++)
        buf[i] = lemma[i] == '_' ? ' ' : (char)tolower((unsigned char)lemma[i]);
    buf[len] = '\0';
    char *paren = strchr(buf, '(');
    if (paren)
        *paren = '\0';
    if (!buf[0])
        return;
    for (int i = 0; i < c->nbases; i++)
        if (!strcmp(c->bases[i], buf))
            return;
    for (int i = 0; i < c->count; i++)
        if (!strcmp(c->items[i], buf))
            return;
    if (c->count == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->items = realloc(c->items, (size_t)c->cap * sizeof(*c->items));
        if (!c->items)
            abort();
    }
    c->items[c->count] = strdup(buf);
    if (!c->items[c->count])
        abort();
    c->count++;
    c->fn(c->ctx, buf);
}

struct synset {
    const char *words[256];   /* each ends at a space */
    size_t wlen[256];
    int wcount;
    const char *ptrs;         /* the first pointer, or NULL */
    int pcount;
};

static int pos_of(char c)
{
    switch (c) {
    case 'n': return POS_N;
    case 'v': return POS_V;
    case 'a': case 's': return POS_A;
    case 'r': return POS_R;
    default: return -1;
    }
}

static bool parse_synset(const struct wordnet *wn, int p, unsigned long off, struct synset *s)
{
    if (off >= wn->data_size[p])
        return false;
    const char *l = wn->data[p] + off;
    char *end;

    if (strtoul(l, &end, 10) != off)
        return false;
    strtoul(end, &end, 10);                       /* lex_filenum */
    while (*end == ' ')
        end++;
    end += strcspn(end, " ");                     /* ss_type */
    s->wcount = (int)strtoul(end, &end, 16);
    if (s->wcount > 256)
        return false;
    for (int i = 0; i < s->wcount; i++) {
        while (*end == ' ')
            end++;
        s->words[i] = end;
        s->wlen[i] = strcspn(end, " ");
        end += s->wlen[i];
        strtoul(end, &end, 16);                   /* lex_id */
    }
    s->pcount = (int)strtoul(end, &end, 10);
    while (*end == ' ')
        end++;
    s->ptrs = end;
    return true;
}

/* Read the pointer at q: its symbol, target offset and part of speech, source and target
 * word numbers (0: the whole synset). Returns the next pointer. */
static const char *next_ptr(const char *q, char sym[3], unsigned long *off, int *pos, int *src,
                            int *dst)
{
    while (*q == ' ')
        q++;
    size_t n = strcspn(q, " ");
    if (n > 2)
        n = 2;
    memcpy(sym, q, n);
    sym[n] = '\0';
    q += strcspn(q, " ");
    char *end;
    *off = strtoul(q, &end, 10);
    while (*end == ' ')
        end++;
    *pos = pos_of(*end);
    end += strcspn(end, " ");
    unsigned long st = strtoul(end, &end, 16);
    *src = (int)(st >> 8);
    *dst = (int)(st & 0xff);
    return end;
}

/* The lemmas of a synset, or only its word number only (1-based) when that is not 0. */
static void report_synset(const struct wordnet *wn, int p, unsigned long off, int only,
                          struct collect *c)
{
    struct synset s;

    if (p < 0 || !parse_synset(wn, p, off, &s))
        return;
    for (int i = 0; i < s.wcount; i++)
        if (only == 0 || only == i + 1)
            report(c, s.words[i], s.wlen[i]);
}

/* Whether word number n (1-based) of s is one of the word's base forms. */
static bool is_base(const struct collect *c, const struct synset *s, int n)
{
    char buf[MAX_WORD];

    if (n < 1 || n > s->wcount || s->wlen[n - 1] >= MAX_WORD)
        return false;
    for (size_t i = 0; i < s->wlen[n - 1]; i++)
        buf[i] = (char)tolower((unsigned char)s->words[n - 1][i]);
    buf[s->wlen[n - 1]] = '\0';
    for (int i = 0; i < c->nbases; i++)
        if (!strcmp(c->bases[i], buf))
            return true;
    return false;
}

int wn_related(const struct wordnet *wn, const char *word, int max_senses, unsigned mask,
               void (*fn)(void *ctx, const char *lemma), void *ctx)
{
    struct collect c = { .fn = fn, .ctx = ctx };
    char lower[MAX_WORD];
    size_t len = strlen(word);

    if (len == 0 || len >= MAX_WORD)
        return 0;
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char)tolower((unsigned char)word[i]);

    /* All base forms first, so none of them is reported as a relative. */
    char bases[POS_COUNT][MAX_BASES][MAX_WORD];
    int nb[POS_COUNT];
    for (int p = 0; p < POS_COUNT; p++) {
        nb[p] = base_forms(wn, p, lower, bases[p]);
        for (int i = 0; i < nb[p]; i++)
            add_base(c.bases, &c.nbases, bases[p][i], strlen(bases[p][i]));
    }

    for (int p = 0; p < POS_COUNT; p++) {
        for (int bi = 0; bi < nb[p]; bi++) {
            const char *l = lookup(&wn->index[p], bases[p][bi]);
            char *end;
            if (!l)
                continue;
            l += strcspn(l, " ");
            l++;
            l += strcspn(l, " ");                         /* pos */
            int synsets = (int)strtol(l, &end, 10);
            int pc = (int)strtol(end, &end, 10);
            for (int i = 0; i < pc; i++) {                /* pointer symbols */
                while (*end == ' ')
                    end++;
                end += strcspn(end, " ");
            }
            strtol(end, &end, 10);                        /* sense_cnt */
            strtol(end, &end, 10);                        /* tagsense_cnt */
            for (int k = 0; k < synsets; k++) {
                unsigned long off = strtoul(end, &end, 10);
                struct synset s;
                if (k >= max_senses || !parse_synset(wn, p, off, &s))
                    continue;
                if (mask & WN_SYNONYM)
                    for (int i = 0; i < s.wcount; i++)
                        report(&c, s.words[i], s.wlen[i]);
                const char *q = s.ptrs;
                for (int i = 0; i < s.pcount; i++) {
                    char sym[3];
                    unsigned long to;
                    int tp, src, dst;
                    q = next_ptr(q, sym, &to, &tp, &src, &dst);
                    bool lexical_ok = src == 0 || is_base(&c, &s, src);
                    if (((mask & WN_SIMILAR) && !strcmp(sym, "&")) ||
                        ((mask & WN_ATTRIBUTE) && !strcmp(sym, "=")) ||
                        ((mask & WN_ALSO) && !strcmp(sym, "^") && lexical_ok) ||
                        ((mask & WN_DERIVED) && !strcmp(sym, "+") && src != 0 && lexical_ok) ||
                        ((mask & WN_HYPERNYM) && p == POS_V && !strcmp(sym, "@")) ||
                        ((mask & WN_TROPONYM) && p == POS_V && !strcmp(sym, "~")))
                        report_synset(wn, tp, to, src ? dst : 0, &c);
                }
            }
        }
    }
    for (int i = 0; i < c.count; i++)
        free(c.items[i]);
    free(c.items);
    return c.count;
}
