/*
 * aios-intent: the intent engine on the host, with the same encoder and intent files the
 * AI partition boots with.
 *
 *   aios-intent [--json] [-e encoder.bin] [-c intents.bin]
 *
 * Reads sentences from stdin, one per line; a blank line starts a new conversation (the
 * context is forgotten, the memory kept); `learn "<sentence>" <intent>` adds an example,
 * as the RT shell's learn command does. For each sentence prints what the engine
 * understood (--embed: the encoder's vector instead, as the bits of each float, as the AI
 * partition's `embed` prints it): with --json one line of JSON, {"intent": "...", "slots": {...},
 * "confidence": 0.93} (clarify's candidates as "candidates": [...]; "error": "..." when a
 * memory.remember could not be stored: every one is stored here, as if granted); else a
 * line of text.
 * The files default to build/images/ beside this program's build/host/.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aios/common.h"
#include "aios/encoder.h"
#include "aios/intent.h"

#define ARENA_BYTES (64u << 20)

static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    void *buf = NULL;
    long len;

    if (!f) {
        fprintf(stderr, "aios-intent: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
        !(buf = malloc((size_t)len + 1)) || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "aios-intent: %s: cannot read it\n", path);
        free(buf);
        buf = NULL;
    } else {
        ((char *)buf)[len] = '\0';
        *size = (size_t)len;
    }
    fclose(f);
    return buf;
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* error: why a granted memory.remember was not stored, or NULL. */
static void print_json(const struct aios_intent_result *r, const char *error)
{
    bool first = true, clarify = !strcmp(r->intent, "clarify");

    printf("{\"intent\": ");
    json_string(r->intent);
    printf(", \"slots\": {");
    if (clarify) {
        printf("\"candidates\": [");
        for (unsigned i = 0; i < r->nslots; i++) {
            printf("%s", i ? ", " : "");
            json_string(r->slots[i].value);
        }
        printf("]");
    } else {
        for (unsigned i = 0; i < r->nslots; i++) {
            printf("%s", first ? "" : ", ");
            json_string(r->slots[i].name);
            printf(": ");
            json_string(r->slots[i].value);
            first = false;
        }
    }
    printf("}, \"confidence\": %.2f", r->confidence);
    if (error) {
        printf(", \"error\": ");
        json_string(error);
    }
    printf("}\n");
}

static void print_text(const struct aios_intent_result *r, const char *error)
{
    printf("%s (%.2f)", r->intent, r->confidence);
    for (unsigned i = 0; i < r->nslots; i++)
        printf(" %s=\"%s\"", r->slots[i].name, r->slots[i].value);
    if (error)
        printf(": not remembered: %s", error);
    printf("\n");
}

/* build/images/<name> beside build/host/ where this program lives. */
static const char *default_path(const char *argv0, const char *name)
{
    static char buf[2][4096];
    static int which;
    const char *slash = strrchr(argv0, '/');
    char *out = buf[which++ & 1];

    snprintf(out, sizeof(buf[0]), "%.*s../images/%s", slash ? (int)(slash - argv0 + 1) : 0,
             argv0, name);
    return out;
}

int main(int argc, char **argv)
{
    const char *enc_path = default_path(argv[0], "encoder.bin");
    const char *corpus_path = default_path(argv[0], "intents.bin");
    struct aios_encoder enc;
    struct aios_intent_engine engine;
    struct aios_arena arena;
    char err[160], line[4096];
    size_t enc_size, corpus_size;
    void *enc_buf, *corpus, *mem;
    bool json = false, embed = false;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--embed"))
            embed = true;
        else if (!strcmp(argv[i], "-e") && i + 1 < argc)
            enc_path = argv[++i];
        else if (!strcmp(argv[i], "-c") && i + 1 < argc)
            corpus_path = argv[++i];
        else {
            fprintf(stderr, "usage: aios-intent [--json | --embed] [-e encoder.bin] [-c intents.bin]\n");
            return 2;
        }
    }
    enc_buf = read_file(enc_path, &enc_size);
    corpus = read_file(corpus_path, &corpus_size);
    mem = malloc(ARENA_BYTES);
    if (!enc_buf || !corpus || !mem)
        return 1;
    if (aios_encoder_load(&enc, enc_buf, enc_size, err, sizeof(err))) {
        fprintf(stderr, "aios-intent: %s: %s\n", enc_path, err);
        return 1;
    }
    aios_arena_init(&arena, mem, ARENA_BYTES);
    if (aios_intent_init(&engine, &enc, corpus, corpus_size, &arena, err, sizeof(err))) {
        fprintf(stderr, "aios-intent: %s: %s\n", corpus_path, err);
        return 1;
    }
    while (fgets(line, sizeof(line), stdin)) {
        struct aios_intent_result r;
        size_t len = strlen(line);
        int rc;

        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len) {
            aios_intent_reset(&engine);
            continue;
        }
        if (embed) {
            static float v[AIOS_ENC_MAX_EMBED];
            size_t mark = aios_arena_mark(&arena);

            if (aios_encoder_embed(&enc, line, v, &arena))
                return 1;
            aios_arena_reset(&arena, mark);
            printf("embedding %zu:", aios_encoder_dim(&enc));
            for (size_t i = 0; i < aios_encoder_dim(&enc); i++) {
                uint32_t bits;

                memcpy(&bits, &v[i], sizeof(bits));
                printf(" %08x", bits);
            }
            printf("\n");
            continue;
        }
        /* learn "<sentence>" <intent>: a correction, as at the RT shell. */
        if (!strncmp(line, "learn \"", 7) && strrchr(line, '"') > line + 6) {
            char *end = strrchr(line, '"'), *intent = end + 1;

            *end = '\0';
            while (*intent == ' ')
                intent++;
            rc = aios_intent_learn(&engine, line + 7, intent, err, sizeof(err));
            if (json) {
                printf("{\"learned\": %s, \"intent\": ", rc ? "false" : "true");
                json_string(intent);
                printf(", \"error\": ");
                json_string(rc ? err : "");
                printf("}\n");
            } else {
                printf(rc ? "%s\n" : "learned\n", err);
            }
            fflush(stdout);
            continue;
        }
        if (aios_intent_understand(&engine, line, &r)) {
            fprintf(stderr, "aios-intent: out of memory\n");
            return 1;
        }
        /* Nothing stands between the engine and its memory here: every memory.remember
         * is granted, as the shipped layout grants it to the AI partition. */
        rc = 0;
        if (!strcmp(r.intent, "memory.remember"))
            rc = aios_intent_remember(&engine, aios_intent_slot(&r, "fact"), err, sizeof(err));
        if (json)
            print_json(&r, rc ? err : NULL);
        else
            print_text(&r, rc ? err : NULL);
        fflush(stdout);
    }
    return 0;
}
