/*
 * SHA-256 (FIPS 180-4), incremental and one-shot, for measuring and
 * verifying images. Safe to call with the MMU off: it never performs an
 * unaligned load, whatever the alignment of the input.
 */
#ifndef SHARED_SHA256_H
#define SHARED_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_BLOCK_SIZE 64

struct sha256_ctx {
    uint32_t state[8];
    uint64_t total;                    /* bytes hashed so far */
    uint8_t block[SHA256_BLOCK_SIZE];  /* partial block awaiting more input */
    size_t fill;                       /* bytes used in block */
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest; the context must be re-initialised before reuse. */
void sha256_final(struct sha256_ctx *ctx, uint8_t digest[SHA256_DIGEST_SIZE]);
void sha256(const void *data, size_t len, uint8_t digest[SHA256_DIGEST_SIZE]);

#endif
