/*
 * Reading intent data (see intent_data.h).
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intent_data.h"

int labels_find(struct labels *l, const char *name, int add)
{
    for (int i = 0; i < l->count; i++)
        if (!strcmp(l->names[i], name))
            return i;
    if (!add)
        return -1;
    char **names = realloc(l->names, (size_t)(l->count + 1) * sizeof(*names));
    if (!names || !(names[l->count] = strdup(name)))
        abort();
    l->names = names;
    return l->count++;
}

void labels_free(struct labels *l)
{
    for (int i = 0; i < l->count; i++)
        free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->count = 0;
}

static void add_example(struct dataset *d, const char *text, size_t len, int label)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->ex = realloc(d->ex, d->cap * sizeof(*d->ex));
        if (!d->ex)
            abort();
    }
    char *t = malloc(len + 1);
    if (!t)
        abort();
    memcpy(t, text, len);
    t[len] = '\0';
    d->ex[d->n].text = t;
    d->ex[d->n].label = label;
    d->n++;
}

void dataset_free(struct dataset *d)
{
    for (size_t i = 0; i < d->n; i++)
        free((char *)d->ex[i].text);
    free(d->ex);
    memset(d, 0, sizeof(*d));
}

char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, got;

    if (!f)
        return NULL;
    do {
        if (len + 65536 + 1 > cap) {
            cap = (len + 65536 + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + len, 1, 65536, f);
        len += got;
    } while (got > 0);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if (size)
        *size = len;
    return buf;
}

/* Calls fn on each line of text without its end of line and surrounding blanks,
 * skipping blank lines and '#' comments. */
static int each_line(char *text, int (*fn)(void *ctx, char *line, size_t lineno), void *ctx)
{
    size_t lineno = 0;

    for (char *p = text; *p;) {
        char *eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        if (eol)
            *eol = '\0';
        lineno++;
        char *s = p, *e = p + strlen(p);
        while (*s == ' ' || *s == '\t' || *s == '\r')
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        *e = '\0';
        if (*s && *s != '#') {
            int rc = fn(ctx, s, lineno);
            if (rc)
                return rc;
        }
        p = next;
    }
    return 0;
}

struct corpus_ctx { struct dataset *d; int label; };

static int corpus_line(void *arg, char *line, size_t lineno)
{
    struct corpus_ctx *c = arg;

    (void)lineno;
    add_example(c->d, line, strlen(line), c->label);
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int data_read_corpus(const char *dir, struct labels *l, struct dataset *d, char *err,
                     size_t errlen)
{
    DIR *dh = opendir(dir);
    char **names = NULL;
    size_t count = 0;
    struct dirent *de;
    int rc = 0;

    if (!dh) {
        snprintf(err, errlen, "corpus: cannot open directory %s", dir);
        return -1;
    }
    while ((de = readdir(dh)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= 4 || strcmp(de->d_name + len - 4, ".txt") || de->d_name[0] == '.')
            continue;
        names = realloc(names, (count + 1) * sizeof(*names));
        if (!names || !(names[count] = strdup(de->d_name)))
            abort();
        count++;
    }
    closedir(dh);
    if (count == 0) {
        snprintf(err, errlen, "corpus: no .txt files in %s", dir);
        free(names);
        return -1;
    }
    qsort(names, count, sizeof(*names), name_cmp);
    for (size_t i = 0; i < count && rc == 0; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        char *text = read_file(path, NULL);
        if (!text) {
            snprintf(err, errlen, "corpus: cannot read %s", path);
            rc = -1;
            break;
        }
        names[i][strlen(names[i]) - 4] = '\0';
        struct corpus_ctx c = { .d = d, .label = labels_find(l, names[i], 1) };
        size_t before = d->n;
        each_line(text, corpus_line, &c);
        free(text);
        if (d->n == before) {
            snprintf(err, errlen, "corpus: %s has no examples", path);
            rc = -1;
        }
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return rc;
}

struct tsv_ctx { struct labels *l; struct dataset *d; char *err; size_t errlen; const char *path; };

static int tsv_line(void *arg, char *line, size_t lineno)
{
    struct tsv_ctx *c = arg;
    char *tab = strchr(line, '\t');

    if (!tab) {
        snprintf(c->err, c->errlen, "%s:%zu: no tab between intent and sentence", c->path,
                 lineno);
        return -1;
    }
    *tab = '\0';
    int label = labels_find(c->l, line, 0);
    if (label < 0) {
        snprintf(c->err, c->errlen, "%s:%zu: unknown intent \"%s\"", c->path, lineno, line);
        return -1;
    }
    char *s = tab + 1;
    while (*s == ' ' || *s == '\t')
        s++;
    add_example(c->d, s, strlen(s), label);
    return 0;
}

int data_read_tsv(const char *path, struct labels *l, struct dataset *d, char *err,
                  size_t errlen)
{
    char *text = read_file(path, NULL);

    if (!text) {
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }
    struct tsv_ctx c = { .l = l, .d = d, .err = err, .errlen = errlen, .path = path };
    int rc = each_line(text, tsv_line, &c);
    free(text);
    return rc;
}

/* ---------------------------------------------------------------- a little JSON */

struct json { const char *p; char *err; size_t errlen; };

static void ws(struct json *j)
{
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
        j->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string at j->p into a malloc'ed buffer (NULL on error). */
static char *jstring(struct json *j)
{
    ws(j);
    if (*j->p != '"') {
        snprintf(j->err, j->errlen, "json: string expected");
        return NULL;
    }
    j->p++;
    size_t cap = 64, len = 0;
    char *s = malloc(cap);
    if (!s)
        abort();
    while (*j->p != '"') {
        if (!*j->p) {
            snprintf(j->err, j->errlen, "json: unterminated string");
            free(s);
            return NULL;
        }
        if (len + 8 > cap) {
            cap *= 2;
            s = realloc(s, cap);
            if (!s)
                abort();
        }
        char c = *j->p++;
        if (c != '\\') {
            s[len++] = c;
            continue;
        }
        c = *j->p++;
        switch (c) {
        case 'n': s[len++] = '\n'; break;
        case 't': s[len++] = '\t'; break;
        case 'r': s[len++] = '\r'; break;
        case 'b': s[len++] = '\b'; break;
        case 'f': s[len++] = '\f'; break;
        case 'u': {
            unsigned long cp = 0;
            for (int i = 0; i < 4; i++) {
                int h = hexval(j->p[i]);
                if (h < 0) {
                    snprintf(j->err, j->errlen, "json: bad \\u escape");
                    free(s);
                    return NULL;
                }
                cp = cp * 16 + (unsigned long)h;
            }
            j->p += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && j->p[0] == '\\' && j->p[1] == 'u') {
                unsigned long lo = 0;
                bool ok = true;
                for (int i = 0; i < 4 && ok; i++) {
                    int h = hexval(j->p[2 + i]);
                    ok = h >= 0;
                    lo = lo * 16 + (unsigned long)(h < 0 ? 0 : h);
                }
                if (ok && lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    j->p += 6;
                }
            }
            len += put_utf8(s + len, cp);
            break;
        }
        case '\0':
            snprintf(j->err, j->errlen, "json: unterminated string");
            free(s);
            return NULL;
        default: s[len++] = c; break;   /* \" \\ \/ */
        }
    }
    j->p++;
    s[len] = '\0';
    return s;
}

/* Skip any value. 0 or -1. */
static int jskip(struct json *j)
{
    int depth = 0;

    ws(j);
    do {
        ws(j);
        char c = *j->p;
        if (c == '"') {
            char *s = jstring(j);
            if (!s)
                return -1;
            free(s);
        } else if (c == '[' || c == '{') {
            depth++;
            j->p++;
        } else if (c == ']' || c == '}') {
            depth--;
            j->p++;
        } else if (c == ',' || c == ':') {
            j->p++;
        } else if (c == '\0') {
            snprintf(j->err, j->errlen, "json: unexpected end");
            return -1;
        } else {
            while (*j->p && !strchr(" \t\r\n,]}:", *j->p))
                j->p++;
        }
        ws(j);
    } while (depth > 0);
    return 0;
}

int data_read_clinc(const char *json, const char *key, struct labels *l, int add,
                    struct dataset *d, char *err, size_t errlen)
{
    struct json j = { .p = json, .err = err, .errlen = errlen };

    ws(&j);
    if (*j.p != '{') {
        snprintf(err, errlen, "clinc: not a JSON object");
        return -1;
    }
    j.p++;
    for (;;) {
        ws(&j);
        if (*j.p == '}') {
            snprintf(err, errlen, "clinc: no split \"%s\"", key);
            return -1;
        }
        char *k = jstring(&j);
        if (!k)
            return -1;
        ws(&j);
        if (*j.p != ':') {
            free(k);
            snprintf(err, errlen, "clinc: ':' expected");
            return -1;
        }
        j.p++;
        bool match = !strcmp(k, key);
        free(k);
        if (!match) {
            if (jskip(&j))
                return -1;
            ws(&j);
            if (*j.p == ',')
                j.p++;
            continue;
        }
        ws(&j);
        if (*j.p++ != '[')
            goto shape;
        for (;;) {
            ws(&j);
            if (*j.p == ']')
                return 0;
            if (*j.p++ != '[')
                goto shape;
            char *text = jstring(&j);
            if (!text)
                return -1;
            ws(&j);
            if (*j.p++ != ',') {
                free(text);
                goto shape;
            }
            char *intent = jstring(&j);
            if (!intent) {
                free(text);
                return -1;
            }
            ws(&j);
            if (*j.p++ != ']') {
                free(text);
                free(intent);
                goto shape;
            }
            int label = labels_find(l, intent, add);
            if (label < 0 && strcmp(intent, "oos")) {
                snprintf(err, errlen, "clinc: unknown intent \"%s\" in %s", intent, key);
                free(text);
                free(intent);
                return -1;
            }
            add_example(d, text, strlen(text), label);
            free(text);
            free(intent);
            ws(&j);
            if (*j.p == ',')
                j.p++;
        }
    }
shape:
    snprintf(err, errlen, "clinc: split \"%s\" is not an array of [sentence, intent]", key);
    return -1;
}
