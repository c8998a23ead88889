/*
 * Tests for lib/sha256.c against the FIPS 180-4 / NIST example vectors
 * ("abc", the empty message, the 448- and 896-bit messages, and one million
 * 'a' fed in pieces that straddle the 64-byte blocks in every way).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lib/sha256.h"

static void test_sha256_matches_fips_180_4_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *msg, *hex;
    } cases[] = {
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
         "lmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char hex[65];
        sn_sha256_hex(cases[i].msg, strlen(cases[i].msg), hex);
        assert_string_equal(hex, cases[i].hex);
    }
}

static void test_sha256_of_a_million_a_in_odd_pieces(void **state)
{
    (void)state;
    char chunk[1024];
    memset(chunk, 'a', sizeof chunk);
    sn_sha256_t c;
    sn_sha256_init(&c);
    size_t left = 1000000;
    /* piece sizes that straddle the 64-byte blocks in every way */
    for (size_t k = 1; left > 0; k = k % 997 + 7) {
        size_t n = k < left ? k : left;
        sn_sha256_update(&c, chunk, n);
        left -= n;
    }
    uint8_t d[32];
    sn_sha256_final(&c, d);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_matches_fips_180_4_vectors),
        cmocka_unit_test(test_sha256_of_a_million_a_in_odd_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
