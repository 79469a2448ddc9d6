/*
 * Reading intent data for the encoder's host tools (trainer, evaluation, tests):
 *   - the corpus: a directory of <intent>.txt files, one example sentence per line,
 *     blank lines and lines starting with '#' ignored (aios/intents/);
 *   - a test set: lines "intent<TAB>sentence", '#' comments (tests/intents/);
 *   - CLINC150's data_full.json: an object of splits ("train", "val", "test",
 *     "oos_train", "oos_val", "oos_test"), each an array of [sentence, intent] pairs.
 * Host only (malloc, stdio).
 */
#ifndef TOOLS_INTENT_DATA_H
#define TOOLS_INTENT_DATA_H

#include <stddef.h>

#include "encoder_train.h"

struct labels {
    char **names;
    int count;
};

struct dataset {
    struct enc_example *ex;   /* texts are malloc'ed */
    size_t n, cap;
};

/* The id of name; when absent, added if add, else -1. */
int labels_find(struct labels *l, const char *name, int add);
void labels_free(struct labels *l);
void dataset_free(struct dataset *d);

/* The whole file, NUL-terminated, malloc'ed; NULL on error. */
char *read_file(const char *path, size_t *size);

/* Corpus directory: intents get ids in the order of the sorted file names. 0 or -1. */
int data_read_corpus(const char *dir, struct labels *l, struct dataset *d, char *err,
                     size_t errlen);

/* "intent<TAB>sentence" lines; every intent must already be in l. 0 or -1. */
int data_read_tsv(const char *path, struct labels *l, struct dataset *d, char *err,
                  size_t errlen);

/* The pairs of split `key` of a CLINC150 JSON text. Intents are looked up in l, and added
 * when add; otherwise an unknown intent is an error, unless its name is "oos", which then
 * gets label -1. 0 or -1. */
int data_read_clinc(const char *json, const char *key, struct labels *l, int add,
                    struct dataset *d, char *err, size_t errlen);

#endif /* TOOLS_INTENT_DATA_H */
