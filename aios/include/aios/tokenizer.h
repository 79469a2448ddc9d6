/*
 * libaios tokenizer: text to token ids and back, for Llama-2-style models, reading
 * llama2.c's tokenizer.bin format.
 *
 * File format (little-endian, no alignment):
 *     int32 max_token_length
 *     vocab_size times: float32 score, int32 len, len bytes of the piece (no NUL)
 * vocab_size is not in the file; it comes from the model. The loader checks every field
 * against the buffer and refuses a file with bytes left over. The pieces stay in the
 * caller's buffer (which must outlive the tokenizer); the per-token table and a hash
 * index for string -> id lookups are built in the arena.
 *
 * Encoding is llama2.c's: optional BOS; the dummy-prefix piece " " when the text is not
 * empty; one token per UTF-8 character found in the vocabulary, else one byte token
 * (id byte + 3, the "<0xXX>" pieces) per byte; then the adjacent pair whose
 * concatenation is in the vocabulary with the highest score is merged, leftmost first on
 * ties, until none is left; optional EOS. The result is the same ids as llama2.c's
 * encode(); the merge loop is a heap over the pairs instead of a rescan, so a long
 * prompt costs O(n log n), not O(n^2) lookups.
 */
#ifndef AIOS_TOKENIZER_H
#define AIOS_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "aios/common.h"

/* The fixed ids every llama2.c vocabulary starts with; 3..258 are the byte tokens. */
enum {
    AIOS_TOKEN_UNK = 0,
    AIOS_TOKEN_BOS = 1,
    AIOS_TOKEN_EOS = 2,
    AIOS_TOKEN_BYTE0 = 3,   /* byte b is token AIOS_TOKEN_BYTE0 + b */
};

/* Limits the loader enforces: the Llama 2 file has 32000 tokens of at most 27 bytes. */
#define AIOS_TOKENIZER_MAX_VOCAB (1 << 22)
#define AIOS_TOKENIZER_MAX_PIECE 1024

struct aios_token_entry;   /* private to tokenizer.c */

/* Filled by aios_tokenizer_load; read-only afterwards, so one tokenizer may be shared by
 * several threads as long as each encodes with its own scratch arena. */
struct aios_tokenizer {
    const unsigned char *data;               /* the file: pieces point into it */
    const struct aios_token_entry *tokens;   /* vocab_size entries, in the arena */
    const uint32_t *buckets;                 /* hash index: id + 1, 0 = empty slot */
    uint32_t bucket_mask;                    /* bucket count - 1 (a power of two) */
    int32_t vocab_size;
    int32_t max_token_length;
    int32_t space_id;                        /* the " " piece, or -1 when absent */
};

/*
 * Load a tokenizer.bin image of size bytes for a model of vocab_size tokens. Tables go
 * into arena (12 bytes per token plus a hash index of 4-byte slots, 2 to 4 per token:
 * 640 KiB for 32000 tokens); data must stay valid and unchanged while t is used.
 * Returns AIOS_OK, AIOS_EINVAL for a malformed file or vocab_size (reason in err), or
 * AIOS_ENOMEM when the arena is too small. On failure the arena is left as it was.
 */
int aios_tokenizer_load(struct aios_tokenizer *t, const void *data, size_t size,
                        int32_t vocab_size, struct aios_arena *arena, char *err,
                        size_t errlen);

/*
 * Encode the NUL-terminated text into ids[0..max_ids), *n_ids = the count. bos/eos
 * non-zero add those tokens. Working memory (48 bytes per input byte) comes from
 * scratch and is released before returning. Returns AIOS_OK; AIOS_ERANGE when the
 * result has more than max_ids tokens (ids is then left untouched and *n_ids says how
 * many are needed) or the text is over 256 MiB; AIOS_ENOMEM when scratch is too small;
 * AIOS_EINVAL for a NULL argument or an unloaded tokenizer.
 *
 * Text is split into characters as llama2.c does: a byte that is not a UTF-8
 * continuation byte (10xxxxxx) starts a new group, and following continuation bytes
 * join it up to 4 bytes in all. Malformed UTF-8 (stray continuation bytes, a lead byte
 * with too few or too many, bytes 0xF8..0xFF) thus forms groups that are not in the
 * vocabulary and falls back to byte tokens: every input byte is represented, and
 * nothing is read past the NUL. A byte whose token id would be >= vocab_size (a
 * vocabulary too small to hold the byte tokens) becomes AIOS_TOKEN_UNK, so every id is
 * in range. Like llama2.c, BOS takes part in the pair merging (harmless: no real piece
 * starts with "\n<s>\n"), pairs whose merged piece scores <= -1e10 are never merged,
 * and the dummy prefix is the byte token for ' ' when the vocabulary has no " " piece.
 */
int aios_tokenizer_encode(const struct aios_tokenizer *t, const char *text, int bos,
                          int eos, int32_t *ids, size_t max_ids, size_t *n_ids,
                          struct aios_arena *scratch);

/*
 * The bytes to print for token after prev (not NUL-terminated), length in *len; never
 * NULL: an id out of range gives an empty piece. After BOS one leading space (the
 * dummy prefix encode added) is dropped, also when it comes as the byte token <0x20>
 * (llama2.c keeps that one; it only occurs with a vocabulary lacking " "). A byte token
 * "<0xXX>" gives that one raw byte (from a constant table, not the caller's stack). A
 * character the vocabulary lacks thus arrives as several one-byte pieces over several
 * calls; the bytes concatenate to valid UTF-8 and a terminal reassembles them, so a
 * streaming caller may print each piece as it comes without buffering partial UTF-8.
 */
const char *aios_tokenizer_decode(const struct aios_tokenizer *t, int32_t prev,
                                  int32_t token, size_t *len);

/* The piece of id as stored in the file, length in *len; empty (never NULL) when id is
 * out of range. */
const char *aios_tokenizer_piece(const struct aios_tokenizer *t, int32_t id, size_t *len);

/* The score of id (0 when out of range). */
float aios_tokenizer_score(const struct aios_tokenizer *t, int32_t id);

/* The id of the piece equal to bytes[0..len), or -1 when the vocabulary has none.
 * Should the file hold a piece twice, the lower id is the one found. */
int32_t aios_tokenizer_lookup(const struct aios_tokenizer *t, const void *bytes,
                              size_t len);

#endif /* AIOS_TOKENIZER_H */
