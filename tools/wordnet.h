/*
 * A reader for WordNet 3.0's database files (Debian's wordnet-base, /usr/share/wordnet;
 * format in wndb(5) and morphy(7WN)), for the encoder trainer: the lemmas related to a
 * word, to substitute for it when augmenting training sentences. Host only (malloc).
 *
 * The files are read whole into memory. Lookups binary-search the sorted index.* and
 * *.exc files; a synset is read at its byte offset in data.* (the offset is its id), so
 * nothing else is parsed up front: opening takes ~0.1 s.
 */
#ifndef TOOLS_WORDNET_H
#define TOOLS_WORDNET_H

#include <stddef.h>

#define WORDNET_DIR "/usr/share/wordnet"

/* Relations wn_related follows from the word's synsets (pointer symbols of wndb(5)). */
enum {
    WN_SYNONYM = 1 << 0,     /* the other lemmas of the word's own synsets */
    WN_SIMILAR = 1 << 1,     /* '&' adjective similar to ("hot" ~ "warm") */
    WN_ATTRIBUTE = 1 << 2,   /* '=' adjective <-> attribute noun ("hot" ~ "temperature") */
    WN_DERIVED = 1 << 3,     /* '+' derivationally related form of this word ("delete" ~ "deletion") */
    WN_ALSO = 1 << 4,        /* '^' also see */
    WN_HYPERNYM = 1 << 5,    /* '@' verbs only: the more general verb ("wipe" -> "rub") */
    WN_TROPONYM = 1 << 6,    /* '~' verbs only: the more specific ways ("remove" -> "strip") */
};

struct wordnet;

/* Open the database in dir (NULL: WORDNET_DIR). NULL when a file is missing or
 * unreadable, with the reason in err. */
struct wordnet *wn_open(const char *dir, char *err, size_t errlen);
void wn_close(struct wordnet *wn);

/*
 * Call fn once per distinct lemma related to word (any inflection: morphy's exception
 * lists and suffix rules find the base forms) through the relations in mask, over the
 * first max_senses senses of each part of speech (WordNet lists senses most frequent
 * first). Lemmas come lower-case with '_' turned into ' ' ("wipe off"), the word's own
 * base forms excluded, in a fixed order: parts of speech noun, verb, adjective, adverb,
 * then sense order, then the order in the files. Returns how many lemmas were reported.
 */
int wn_related(const struct wordnet *wn, const char *word, int max_senses, unsigned mask,
               void (*fn)(void *ctx, const char *lemma), void *ctx);

#endif /* TOOLS_WORDNET_H */
