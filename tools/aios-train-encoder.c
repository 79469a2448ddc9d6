/*
 * aios-train-encoder: trains the sentence encoder (aios/include/aios/encoder.h) on the
 * intent corpus, or on CLINC150's train split, and writes its fp32 and int8 weight files.
 * Deterministic: the same inputs, options and seed give byte-identical files. See
 * docs/encoder.md.
 *
 *   aios-train-encoder --corpus aios/intents --out-f32 F32.bin --out-int8 INT8.bin
 *   aios-train-encoder --clinc data_full.json [--clinc-oos] --out-f32 ... --out-int8 ...
 * Options: --seed N, --epochs N, --members N (independent encoders in the file),
 * --buckets N, --dim N, --out-dim N (0: no dense layer), --minn N --maxn N, --lr X,
 * --scale X, --margin X, --aug N (variants per sentence and epoch), --aug-prob X
 * (substitution), --aug-drop X (word dropout), --init X, --wordnet DIR, --no-wordnet,
 * --wn-senses N, --wn-relations syn,similar,attr,derived,also,hyper,tropo, --quiet.
 * --pretrain-text FILE [--pretrained N] [--pretrain-epochs N]: the last N members (1 by
 * default) get a table pretrained on FILE (plain text, a passage per line;
 * tools/encoder_pretrain.h), kept fixed while their dense layer is trained, and read no
 * bigrams; two are pretrained at a time, on threads.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encoder_pretrain.h"
#include "encoder_train.h"
#include "intent_data.h"
#include "wordnet.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: aios-train-encoder (--corpus DIR | --clinc FILE [--clinc-oos])\n"
            "         [--out-f32 FILE] [--out-int8 FILE] [--seed N] [--epochs N]\n"
            "         [--members N] [--buckets N] [--dim N] [--out-dim N] [--minn N] [--maxn N]\n"
            "         [--lr X] [--scale X] [--margin X] [--aug N] [--aug-prob X]\n"
            "         [--aug-drop X] [--init X]\n"
            "         [--wordnet DIR | --no-wordnet] [--wn-senses N]\n"
            "         [--wn-relations syn,similar,attr,derived,also,hyper,tropo]\n"
            "         [--pretrain-text FILE [--pretrained N] [--pretrain-epochs N]] [--quiet]\n");
    exit(2);
}

/* Words never substituted: function words WordNet knows in senses no sentence here
 * means ("it" as information technology, "can" as a container, "do" as a note). */
static const char *const stop_words[] = {
    "about", "after", "again", "all", "also", "and", "any", "are", "been", "but", "can",
    "could", "did", "does", "doing", "each", "for", "from", "get", "give", "had", "has",
    "have", "her", "here", "him", "his", "how", "into", "its", "just", "let", "like", "may",
    "more", "most", "much", "must", "not", "now", "off", "once", "one", "only", "other",
    "our", "out", "over", "own", "please", "same", "she", "should", "some", "such", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
    "too", "very", "was", "way", "were", "what", "when", "where", "which", "while", "who",
    "whom", "why", "will", "with", "would", "you", "your", "yours",
};

static bool is_stop(const char *w)
{
    for (size_t i = 0; i < sizeof(stop_words) / sizeof(stop_words[0]); i++)
        if (!strcmp(stop_words[i], w))
            return true;
    return false;
}

/* Substitutes worth using: letters, spaces, hyphens, apostrophes; at most 3 words. */
static bool usable(const char *s)
{
    int spaces = 0;

    if (strlen(s) > 32)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p == ' ')
            spaces++;
        else if (!(*p >= 'a' && *p <= 'z') && *p != '-' && *p != '\'')
            return false;
    }
    return spaces <= 2;
}

struct add_ctx { struct enc_subst *s; const char *word; size_t added; };

static void add_related(void *arg, const char *lemma)
{
    struct add_ctx *c = arg;

    if (usable(lemma)) {
        enc_subst_add(c->s, c->word, lemma);
        c->added++;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct lower-case alphabetic words of the examples, sorted. */
static char **vocabulary(const struct dataset *d, size_t *count)
{
    char **words = NULL;
    size_t n = 0, cap = 0;

    for (size_t i = 0; i < d->n; i++) {
        const unsigned char *t = (const unsigned char *)d->ex[i].text;
        while (*t) {
            char w[64];
            size_t len = 0;
            bool alpha = true;
            while (*t && !((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
                           (*t >= '0' && *t <= '9') || *t >= 0x80))
                t++;
            while ((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
                   (*t >= '0' && *t <= '9') || *t >= 0x80) {
                unsigned char c = *t++;
                if (c >= 'A' && c <= 'Z')
                    c = (unsigned char)(c - 'A' + 'a');
                alpha = alpha && c >= 'a' && c <= 'z';
                if (len + 1 < sizeof(w))
                    w[len++] = (char)c;
            }
            w[len] = '\0';
            if (len == 0 || !alpha)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                words = realloc(words, cap * sizeof(*words));
                if (!words)
                    abort();
            }
            if (!(words[n++] = strdup(w)))
                abort();
        }
    }
    if (n)
        qsort(words, n, sizeof(*words), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u && !strcmp(words[u - 1], words[i]))
            free(words[i]);
        else
            words[u++] = words[i];
    }
    *count = u;
    return words;
}

static unsigned parse_relations(const char *s)
{
    static const struct { const char *name; unsigned bit; } rel[] = {
        { "syn", WN_SYNONYM }, { "similar", WN_SIMILAR }, { "attr", WN_ATTRIBUTE },
        { "derived", WN_DERIVED }, { "also", WN_ALSO }, { "hyper", WN_HYPERNYM },
        { "tropo", WN_TROPONYM },
    };
    unsigned mask = 0;

    while (*s) {
        size_t n = strcspn(s, ",");
        bool found = false;
        for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++)
            if (strlen(rel[i].name) == n && !strncmp(rel[i].name, s, n)) {
                mask |= rel[i].bit;
                found = true;
            }
        if (!found && n) {
            fprintf(stderr, "aios-train-encoder: unknown WordNet relation \"%.*s\"\n", (int)n, s);
            exit(2);
        }
        s += n;
        if (*s == ',')
            s++;
    }
    return mask;
}

static int write_file(const char *path, const struct enc_model *m, int encoding)
{
    char err[256];
    size_t size;
    unsigned char *buf = enc_model_file(m, encoding, &size, err, sizeof(err));

    if (!buf) {
        fprintf(stderr, "aios-train-encoder: %s\n", err);
        return -1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(buf, 1, size, f) == size;
    if (f && fclose(f) != 0)
        ok = false;
    free(buf);
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "aios-train-encoder: cannot write %s\n", path);
        remove(tmp);
        return -1;
    }
    fprintf(stderr, "aios-train-encoder: wrote %s (%s, %zu bytes)\n", path,
            encoding == AIOS_ENC_FP32 ? "fp32" : "int8", size);
    return 0;
}

/* One pretrained member's table, made on its own thread. */
struct pretrain_job {
    struct enc_pretrain_opts o;
    const char *text;
    float *emb;
    char err[256];
    char name[32];
    pthread_t th;
};

static void *pretrain_thread(void *arg)
{
    struct pretrain_job *j = arg;

    if (enc_pretrain(j->text, &j->o, &j->emb, j->err, sizeof(j->err)))
        j->emb = NULL;
    return NULL;
}

/* The tables of the last n members of o, pretrained on text, two at a time (each
 * deterministic on its own, so the threads change nothing but the time). */
static int pretrain_members(const struct enc_train_opts *o, uint32_t n, int epochs,
                            const char *text, struct pretrain_job *jobs, int verbose)
{
    for (uint32_t k = 0; k < n; k++) {
        struct pretrain_job *j = &jobs[k];
        uint32_t mb = o->p.members - n + k;
        enc_pretrain_defaults(&j->o);
        j->o.p = aios_encoder_member_params(&o->p, mb);
        j->o.p.members = 1;
        j->o.seed = o->seed * 1000003u + mb;
        if (epochs > 0)
            j->o.epochs = epochs;
        j->o.verbose = verbose;
        snprintf(j->name, sizeof(j->name), "(member %u)", (unsigned)mb + 1);
        j->o.name = j->name;
        j->text = text;
    }
    for (uint32_t k = 0; k < n; k += 2) {
        uint32_t m = n - k < 2 ? n - k : 2;
        for (uint32_t i = 0; i < m; i++)
            if (pthread_create(&jobs[k + i].th, NULL, pretrain_thread, &jobs[k + i])) {
                pretrain_thread(&jobs[k + i]);
                jobs[k + i].th = 0;
            }
        for (uint32_t i = 0; i < m; i++)
            if (jobs[k + i].th)
                pthread_join(jobs[k + i].th, NULL);
    }
    for (uint32_t k = 0; k < n; k++)
        if (!jobs[k].emb) {
            fprintf(stderr, "aios-train-encoder: %s\n", jobs[k].err);
            return -1;
        }
    return 0;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    struct enc_train_opts o;
    const char *corpus = NULL, *clinc = NULL, *out_f32 = NULL, *out_int8 = NULL;
    const char *wn_dir = WORDNET_DIR, *pretrain_text = NULL;
    long pretrained = -1;           /* -1: not given */
    int pretrain_epochs = -1;
    bool use_wn = true, clinc_oos = false;
    int wn_senses = 3;
    unsigned wn_mask = WN_SYNONYM | WN_SIMILAR | WN_ATTRIBUTE | WN_DERIVED;
    char err[512];
    double t0 = now();

    enc_train_defaults(&o);
    o.verbose = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (!strcmp(a, name) && (v ? (i++, 1) : (usage(), 0)))
        if (ARG("--corpus"))
            corpus = v;
        else if (ARG("--clinc"))
            clinc = v;
        else if (!strcmp(a, "--clinc-oos"))
            clinc_oos = true;
        else if (ARG("--out-f32"))
            out_f32 = v;
        else if (ARG("--out-int8"))
            out_int8 = v;
        else if (ARG("--seed"))
            o.seed = strtoull(v, NULL, 0);
        else if (ARG("--epochs"))
            o.epochs = atoi(v);
        else if (ARG("--members"))
            o.p.members = (uint32_t)strtoul(v, NULL, 0);
        else if (ARG("--buckets"))
            o.p.buckets = (uint32_t)strtoul(v, NULL, 0);
        else if (ARG("--dim"))
            o.p.dim = (uint32_t)strtoul(v, NULL, 0);
        else if (ARG("--out-dim"))
            o.p.out_dim = (uint32_t)strtoul(v, NULL, 0);
        else if (ARG("--minn"))
            o.p.minn = (uint32_t)strtoul(v, NULL, 0);
        else if (ARG("--maxn"))
            o.p.maxn = (uint32_t)strtoul(v, NULL, 0);
        else if (ARG("--word-weight"))
            o.p.word_permille = (uint32_t)strtoul(v, NULL, 0);
        else if (ARG("--hash-seed"))
            o.p.seed = (uint32_t)strtoul(v, NULL, 0);
        else if (ARG("--lr"))
            o.lr = strtof(v, NULL);
        else if (ARG("--scale"))
            o.scale = strtof(v, NULL);
        else if (ARG("--margin"))
            o.margin = strtof(v, NULL);
        else if (ARG("--aug"))
            o.aug_copies = atoi(v);
        else if (ARG("--aug-prob"))
            o.aug_prob = strtof(v, NULL);
        else if (ARG("--aug-drop"))
            o.aug_drop = strtof(v, NULL);
        else if (ARG("--init"))
            o.init = strtof(v, NULL);
        else if (ARG("--wordnet"))
            wn_dir = v;
        else if (!strcmp(a, "--no-wordnet"))
            use_wn = false;
        else if (ARG("--wn-senses"))
            wn_senses = atoi(v);
        else if (ARG("--wn-relations"))
            wn_mask = parse_relations(v);
        else if (ARG("--pretrain-text"))
            pretrain_text = v;
        else if (ARG("--pretrained"))
            pretrained = strtol(v, NULL, 0);
        else if (ARG("--pretrain-epochs"))
            pretrain_epochs = atoi(v) > 0 ? atoi(v) : 0;
        else if (!strcmp(a, "--quiet"))
            o.verbose = 0;
        else
            usage();
#undef ARG
    }
    if (!corpus == !clinc || o.epochs < 1 || o.aug_copies < 0)
        usage();

    struct labels labels = { 0 };
    struct dataset data = { 0 };
    if (corpus) {
        if (data_read_corpus(corpus, &labels, &data, err, sizeof(err))) {
            fprintf(stderr, "aios-train-encoder: %s\n", err);
            return 1;
        }
    } else {
        char *json = read_file(clinc, NULL);
        if (!json) {
            fprintf(stderr, "aios-train-encoder: cannot read %s\n", clinc);
            return 1;
        }
        int rc = data_read_clinc(json, "train", &labels, 1, &data, err, sizeof(err));
        if (!rc && clinc_oos)
            rc = data_read_clinc(json, "oos_train", &labels, 1, &data, err, sizeof(err));
        free(json);
        if (rc) {
            fprintf(stderr, "aios-train-encoder: %s\n", err);
            return 1;
        }
    }
    fprintf(stderr, "aios-train-encoder: %zu sentences, %d intents\n", data.n, labels.count);

    struct enc_subst subst = { 0 };
    bool have_subst = false;
    if (use_wn) {
        struct wordnet *wn = wn_open(wn_dir, err, sizeof(err));
        if (!wn) {
            fprintf(stderr, "aios-train-encoder: WordNet not found (%s), training without it\n",
                    err);
        } else {
            size_t nv, with = 0, total = 0;
            char **vocab = vocabulary(&data, &nv);
            for (size_t i = 0; i < nv; i++) {
                if (strlen(vocab[i]) < 3 || is_stop(vocab[i])) {
                    free(vocab[i]);
                    continue;
                }
                struct add_ctx c = { .s = &subst, .word = vocab[i] };
                wn_related(wn, vocab[i], wn_senses, wn_mask, add_related, &c);
                with += c.added > 0;
                total += c.added;
                free(vocab[i]);
            }
            free(vocab);
            wn_close(wn);
            enc_subst_finish(&subst);
            have_subst = true;
            fprintf(stderr,
                    "aios-train-encoder: WordNet (%s): %zu of %zu words have substitutes, "
                    "%zu in all\n", wn_dir, with, nv, total);
        }
    }

    struct pretrain_job jobs[AIOS_ENC_MAX_MEMBERS] = { 0 };
    const float *tables[AIOS_ENC_MAX_MEMBERS];
    if (!pretrain_text && (pretrained != -1 || pretrain_epochs != -1)) {
        fprintf(stderr, "aios-train-encoder: --pretrained and --pretrain-epochs need "
                "--pretrain-text\n");
        return 1;
    }
    if (pretrain_text) {
        /* The shape first: pretraining takes minutes. */
        if (aios_encoder_file_size(&o.p, AIOS_ENC_FP32, err, sizeof(err)) == 0) {
            fprintf(stderr, "aios-train-encoder: %s\n", err);
            return 1;
        }
        if (pretrained == -1)
            pretrained = 1;
        if (pretrained < 1 || pretrained > (long)o.p.members) {
            fprintf(stderr, "aios-train-encoder: --pretrained %ld: between 1 and the members "
                    "(%u)\n", pretrained, (unsigned)o.p.members);
            return 1;
        }
        if (pretrain_epochs == 0) {
            fprintf(stderr, "aios-train-encoder: --pretrain-epochs: at least 1\n");
            return 1;
        }
        for (uint32_t k = o.p.members - (uint32_t)pretrained; k < o.p.members; k++)
            o.p.no_bigrams |= 1u << k;
        size_t len;
        char *text = read_file(pretrain_text, &len);
        if (!text) {
            fprintf(stderr, "aios-train-encoder: cannot read %s\n", pretrain_text);
            return 1;
        }
        fprintf(stderr, "aios-train-encoder: pretraining %ld member%s on %s (%zu bytes)\n",
                pretrained, pretrained == 1 ? "" : "s", pretrain_text, len);
        int prc = pretrain_members(&o, (uint32_t)pretrained, pretrain_epochs, text, jobs,
                                   o.verbose);
        free(text);
        if (prc)
            return 1;
        for (uint32_t k = 0; k < (uint32_t)pretrained; k++)
            tables[k] = jobs[k].emb;
        o.pretrained_members = (uint32_t)pretrained;
        o.pretrained = tables;
    }

    struct enc_model m;
    if (enc_train(data.ex, data.n, labels.count, &o, have_subst ? &subst : NULL, &m, err,
                  sizeof(err))) {
        fprintf(stderr, "aios-train-encoder: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (out_f32 && write_file(out_f32, &m, AIOS_ENC_FP32))
        rc = 1;
    if (out_int8 && write_file(out_int8, &m, AIOS_ENC_INT8))
        rc = 1;
    fprintf(stderr, "aios-train-encoder: done in %.1f s\n", now() - t0);
    enc_model_free(&m);
    for (uint32_t k = 0; k < o.pretrained_members; k++)
        free(jobs[k].emb);
    enc_subst_free(&subst);
    dataset_free(&data);
    labels_free(&labels);
    return rc;
}
