/*
 * Unit tests for shared/lib/sha256.c: the FIPS 180-2 example vectors, the
 * empty message, and incremental hashing split at every possible point.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "sha256.h"

static void hex_digest(const uint8_t digest[SHA256_DIGEST_SIZE],
                       char out[2 * SHA256_DIGEST_SIZE + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < SHA256_DIGEST_SIZE; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    out[2 * SHA256_DIGEST_SIZE] = '\0';
}

static void check_oneshot(const char *msg, const char *expected)
{
    uint8_t digest[SHA256_DIGEST_SIZE];
    char hex[2 * SHA256_DIGEST_SIZE + 1];

    sha256(msg, strlen(msg), digest);
    hex_digest(digest, hex);
    assert_string_equal(hex, expected);
}

static void test_empty(void **state)
{
    (void)state;
    check_oneshot("",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_abc(void **state)
{
    (void)state;
    check_oneshot("abc",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* 56 bytes: the length no longer fits in the first block's padding. */
static void test_448_bits(void **state)
{
    (void)state;
    check_oneshot("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* Fed in uneven chunks so partial-block buffering is exercised too. */
static void test_million_a(void **state)
{
    static uint8_t chunk[1000];
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    char hex[2 * SHA256_DIGEST_SIZE + 1];
    size_t left = 1000000;
    size_t step = 1;

    (void)state;
    memset(chunk, 'a', sizeof(chunk));
    sha256_init(&ctx);
    while (left) {
        size_t n = step < left ? step : left;

        sha256_update(&ctx, chunk, n);
        left -= n;
        step = (step + 37) % sizeof(chunk) + 1;
    }
    sha256_final(&ctx, digest);
    hex_digest(digest, hex);
    assert_string_equal(hex,
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_million_a_oneshot(void **state)
{
    static uint8_t msg[1000000];
    uint8_t digest[SHA256_DIGEST_SIZE];
    char hex[2 * SHA256_DIGEST_SIZE + 1];

    (void)state;
    memset(msg, 'a', sizeof(msg));
    sha256(msg, sizeof(msg), digest);
    hex_digest(digest, hex);
    assert_string_equal(hex,
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/*
 * 200 bytes spans three blocks and a tail, so the splits cover every
 * buffering path: within a block, on a boundary, and across blocks.
 */
static void test_split_every_offset(void **state)
{
    uint8_t msg[200];
    uint8_t expected[SHA256_DIGEST_SIZE];
    size_t i, split;

    (void)state;
    for (i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 131 + 7);
    sha256(msg, sizeof(msg), expected);

    for (split = 0; split <= sizeof(msg); split++) {
        struct sha256_ctx ctx;
        uint8_t digest[SHA256_DIGEST_SIZE];

        sha256_init(&ctx);
        sha256_update(&ctx, msg, split);
        sha256_update(&ctx, msg + split, sizeof(msg) - split);
        sha256_final(&ctx, digest);
        assert_memory_equal(digest, expected, SHA256_DIGEST_SIZE);
    }
}

/* The target must cope with any input alignment; check the result does not depend on it. */
static void test_unaligned_input(void **state)
{
    uint8_t storage[200 + 8];
    uint8_t expected[SHA256_DIGEST_SIZE];
    size_t i, off;

    (void)state;
    for (i = 0; i < 200; i++)
        storage[i] = (uint8_t)(i ^ 0x5a);
    sha256(storage, 200, expected);
    for (off = 1; off < 8; off++) {
        uint8_t digest[SHA256_DIGEST_SIZE];

        memmove(storage + off, storage + off - 1, 200);
        sha256(storage + off, 200, digest);
        assert_memory_equal(digest, expected, SHA256_DIGEST_SIZE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_abc),
        cmocka_unit_test(test_448_bits),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_million_a_oneshot),
        cmocka_unit_test(test_split_every_offset),
        cmocka_unit_test(test_unaligned_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
