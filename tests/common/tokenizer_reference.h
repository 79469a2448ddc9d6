/*
 * The tokenizer's test oracle, for the unit test and the fuzzer alike: llama2.c's
 * encoding, written plainly, against which the library's heap-based merge is checked.
 */
#ifndef TESTS_TOKENIZER_REFERENCE_H
#define TESTS_TOKENIZER_REFERENCE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aios/tokenizer.h"

/*
 * llama2.c's encode() transcribed as plainly as possible (byte-at-a-time grouping with a
 * look-ahead, then rescanning every pair each round), with this library's two documented
 * choices for inputs llama2.c mishandles: a missing " " or byte token falls back to the
 * byte token or <unk>. The oracle for the heap-based merge.
 */
static inline size_t reference_encode(const struct aios_tokenizer *t, const char *text, int bos,
                               int eos, int32_t *out)
{
    static char buf[2 * AIOS_TOKENIZER_MAX_PIECE + 1];
    size_t n = 0, buf_len = 0;

#define BYTE_TOKEN(b) (3 + (b) < t->vocab_size ? 3 + (b) : 0)
    if (bos)
        out[n++] = 1;
    if (text[0]) {
        int32_t sp = aios_tokenizer_lookup(t, " ", 1);

        out[n++] = sp >= 0 ? sp : BYTE_TOKEN(' ');
    }
    for (const char *c = text; *c; c++) {
        int32_t id;

        if ((*c & 0xc0) != 0x80)
            buf_len = 0;
        buf[buf_len++] = *c;
        if ((c[1] & 0xc0) == 0x80 && buf_len < 4)
            continue;
        id = aios_tokenizer_lookup(t, buf, buf_len);
        if (id >= 0) {
            out[n++] = id;
        } else {
            for (size_t i = 0; i < buf_len; i++)
                out[n++] = BYTE_TOKEN((unsigned char)buf[i]);
        }
        buf_len = 0;
    }
#undef BYTE_TOKEN
    for (;;) {
        float best_score = -1e10f;
        int32_t best_id = -1;
        size_t best_at = 0;

        for (size_t i = 0; i + 1 < n; i++) {
            size_t la, lb;
            const char *a = aios_tokenizer_piece(t, out[i], &la);
            const char *b = aios_tokenizer_piece(t, out[i + 1], &lb);
            int32_t id;

            memcpy(buf, a, la);
            memcpy(buf + la, b, lb);
            id = aios_tokenizer_lookup(t, buf, la + lb);
            if (id >= 0 && aios_tokenizer_score(t, id) > best_score) {
                best_score = aios_tokenizer_score(t, id);
                best_id = id;
                best_at = i;
            }
        }
        if (best_id < 0)
            break;
        out[best_at] = best_id;
        memmove(out + best_at + 1, out + best_at + 2, (n - best_at - 2) * sizeof(*out));
        n--;
    }
    if (eos)
        out[n++] = 2;
    return n;
}

#endif /* TESTS_TOKENIZER_REFERENCE_H */
