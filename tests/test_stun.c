/*
 * Tests for probes/stun.c: the RFC 5769 test vectors byte for byte (the
 * addresses in them are documentation addresses, only ever parsed), malformed
 * variants of them, golden writer output, TCP framing, and the "stun" probe's
 * build -> answer -> parse round trip. Expected CRCs in the golden messages
 * were computed independently (zlib's crc32), not with the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "lib/crc32.h"
#include "probes/probe.h"
#include "probes/stun.h"

/* RFC 5769 section 2.1: sample request (USERNAME, MESSAGE-INTEGRITY, ICE attributes). */
static const uint8_t rfc5769_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

/* RFC 5769 section 2.2: sample IPv4 response. */
static const uint8_t rfc5769_v4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

/* RFC 5769 section 2.3: sample IPv6 response. */
static const uint8_t rfc5769_v6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};

static const uint8_t rfc5769_txid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                         0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

#define TOKEN 0x0123456789abcdefULL

/* The probe's request for TOKEN: Binding, FINGERPRINT only. */
static const uint8_t golden_probe_request[] = {
    0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
    0xcd, 0xef, 0x73, 0x6e, 0x70, 0x62, 0x80, 0x28, 0x00, 0x04, 0xcf, 0x8a, 0xa8, 0x1d};

/* The probe's answer to it from node 127.0.0.2:3478 to requester 127.0.0.1:40000. */
static const uint8_t golden_probe_answer[] = {
    0x01, 0x01, 0x00, 0x34, 0x21, 0x12, 0xa4, 0x42, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
    0xef, 0x73, 0x6e, 0x70, 0x62, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xbd, 0x52, 0x5e, 0x12,
    0xa4, 0x43, 0x80, 0x2b, 0x00, 0x08, 0x00, 0x01, 0x0d, 0x96, 0x7f, 0x00, 0x00, 0x02, 0x80,
    0x22, 0x00, 0x0d, 0x73, 0x6e, 0x70, 0x72, 0x6f, 0x62, 0x65, 0x2d, 0x73, 0x77, 0x61, 0x72,
    0x6d, 0x00, 0x00, 0x00, 0x80, 0x28, 0x00, 0x04, 0x2b, 0x66, 0xb6, 0xe0};

/* Binding request with CHANGE-REQUEST (change IP and port), SOFTWARE "snprobe", FINGERPRINT. */
static const uint8_t golden_change_request[] = {
    0x00, 0x01, 0x00, 0x1c, 0x21, 0x12, 0xa4, 0x42, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
    0x73, 0x6e, 0x70, 0x62, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x06, 0x80, 0x22, 0x00, 0x07,
    0x73, 0x6e, 0x70, 0x72, 0x6f, 0x62, 0x65, 0x00, 0x80, 0x28, 0x00, 0x04, 0x0f, 0x37, 0xbb, 0x0d};

static sn_addr_t ep(const char *ip, uint16_t port)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &a), SN_OK);
    a.port = port;
    return a;
}

static void assert_addr(const sn_addr_t *got, const char *ip, uint16_t port)
{
    sn_addr_t want = ep(ip, port);
    char g[SN_ADDR_STRLEN], w[SN_ADDR_STRLEN];
    sn_addr_format(got, g, sizeof g, true);
    sn_addr_format(&want, w, sizeof w, true);
    assert_string_equal(g, w);
    assert_memory_equal(got, &want, sizeof want);
}

/*
 * A scratch message builder for hand-made test input: header, raw
 * attributes, and an optional correct FINGERPRINT computed at the end.
 */
typedef struct mb {
    uint8_t b[2048];
    size_t n;
} mb_t;

static void mb_start(mb_t *m, uint16_t type)
{
    memset(m, 0, sizeof *m);
    m->b[0] = (uint8_t)(type >> 8);
    m->b[1] = (uint8_t)type;
    m->b[4] = 0x21, m->b[5] = 0x12, m->b[6] = 0xa4, m->b[7] = 0x42;
    sn_stun_txid_from_token(TOKEN, m->b + 8);
    m->n = 20;
}

static void mb_fix_len(mb_t *m)
{
    m->b[2] = (uint8_t)((m->n - 20) >> 8);
    m->b[3] = (uint8_t)(m->n - 20);
}

static void mb_attr(mb_t *m, uint16_t type, const void *v, size_t len)
{
    m->b[m->n] = (uint8_t)(type >> 8);
    m->b[m->n + 1] = (uint8_t)type;
    m->b[m->n + 2] = (uint8_t)(len >> 8);
    m->b[m->n + 3] = (uint8_t)len;
    memcpy(m->b + m->n + 4, v, len);
    m->n += 4 + ((len + 3) & ~(size_t)3);
    mb_fix_len(m);
}

static void mb_fingerprint(mb_t *m)
{
    m->n += 8;
    mb_fix_len(m);
    m->n -= 8;
    uint32_t c = sn_crc32(m->b, m->n) ^ SN_STUN_FINGERPRINT_XOR;
    uint8_t v[4] = {(uint8_t)(c >> 24), (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c};
    mb_attr(m, SN_STUN_ATTR_FINGERPRINT, v, 4);
}

static void test_crc32_matches_the_standard_check_value(void **state)
{
    (void)state;
    assert_int_equal(sn_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
    assert_int_equal(sn_crc32(NULL, 0), 0u);
}

static void test_stun_parses_rfc5769_sample_request(void **state)
{
    (void)state;
    sn_stun_msg_t m;
    sn_error_t err = {{0}};
    assert_int_equal(sn_stun_parse(rfc5769_request, sizeof rfc5769_request, &m, &err), SN_OK);
    assert_int_equal(m.cls, SN_STUN_REQUEST);
    assert_int_equal(m.method, SN_STUN_METHOD_BINDING);
    assert_memory_equal(m.txid, rfc5769_txid, 12);
    assert_string_equal(m.software, "STUN test client");
    assert_true(m.integrity);
    assert_true(m.fingerprint);
    /* PRIORITY (0x0024) is required but known; ICE-CONTROLLED (0x8029) is optional. */
    assert_int_equal(m.n_not_understood, 0);
    assert_int_equal(m.xor_mapped.family, 0);
    assert_false(m.change_request);
}

static void test_stun_parses_rfc5769_ipv4_response(void **state)
{
    (void)state;
    sn_stun_msg_t m;
    sn_error_t err = {{0}};
    assert_int_equal(sn_stun_parse(rfc5769_v4, sizeof rfc5769_v4, &m, &err), SN_OK);
    assert_int_equal(m.cls, SN_STUN_SUCCESS);
    assert_int_equal(m.method, SN_STUN_METHOD_BINDING);
    assert_memory_equal(m.txid, rfc5769_txid, 12);
    assert_addr(&m.xor_mapped, "192.0.2.1", 32853);
    assert_string_equal(m.software, "test vector");
    assert_true(m.fingerprint);
    assert_true(m.integrity);
    assert_true(sn_stun_response_usable(&m));
    assert_int_equal(m.mapped.family, 0);
    assert_int_equal(m.error_code, 0);
}

static void test_stun_parses_rfc5769_ipv6_response(void **state)
{
    (void)state;
    sn_stun_msg_t m;
    sn_error_t err = {{0}};
    assert_int_equal(sn_stun_parse(rfc5769_v6, sizeof rfc5769_v6, &m, &err), SN_OK);
    assert_int_equal(m.cls, SN_STUN_SUCCESS);
    assert_addr(&m.xor_mapped, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
    assert_string_equal(m.software, "test vector");
    assert_true(m.fingerprint);
}

/* The probe matches only its own transaction ids, so a foreign response is no match. */
static void test_stun_probe_rejects_rfc5769_response_with_foreign_txid(void **state)
{
    (void)state;
    const sn_probe_t *p = sn_probe_find("stun");
    assert_non_null(p);
    sn_probe_reply_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(p->parse(rfc5769_v4, sizeof rfc5769_v4, &r), 0);
}

/* Malformed variants of the RFC 5769 IPv4 response; each must be rejected. */
typedef struct mutation {
    const char *name;
    size_t len; /* bytes of the vector to use (0: all) */
    int at;     /* byte to overwrite, -1: none */
    uint8_t value;
    int at2; /* second byte to overwrite, -1: none */
    uint8_t value2;
    const char *says; /* a word the error sentence must contain */
} mutation_t;

static void test_stun_rejects_malformed_variants_of_rfc5769(void **state)
{
    (void)state;
    const size_t full = sizeof rfc5769_v4;
    const mutation_t cases[] = {
        {"shorter than the header", 19, -1, 0, -1, 0, "header"},
        {"truncated datagram", full - 4, -1, 0, -1, 0, "does not match"},
        {"truncated attribute (FINGERPRINT value cut)", full - 4, 3, 0x38, -1, 0, "past the end"},
        {"attribute length past the end", 0, 23, 0x40, -1, 0, "past the end"},
        {"wrong cookie", 0, 4, 0x22, -1, 0, "cookie"},
        {"bad fingerprint", 0, (int)full - 1, 0x97, -1, 0, "FINGERPRINT"},
        {"fingerprint no longer covers the message", 0, 25, 'E', -1, 0, "FINGERPRINT"},
        {"length not a multiple of 4", 0, 3, 0x3d, -1, 0, "multiple of 4"},
        {"top two bits set", 0, 0, 0x41, -1, 0, "top two bits"},
        {"XOR-MAPPED-ADDRESS with IPv6 family and IPv4 length", 0, 41, 0x02, -1, 0, "family"},
        {"XOR-MAPPED-ADDRESS with unknown family 3", 0, 41, 0x03, -1, 0, "family"},
        {"FINGERPRINT with length 8", 0, 75, 0x08, -1, 0, "past the end"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[sizeof rfc5769_v4];
        memcpy(buf, rfc5769_v4, full);
        size_t len = cases[i].len != 0 ? cases[i].len : full;
        if (cases[i].at >= 0)
            buf[cases[i].at] = cases[i].value;
        if (cases[i].at2 >= 0)
            buf[cases[i].at2] = cases[i].value2;
        sn_stun_msg_t m;
        sn_error_t err = {{0}};
        sn_status_t st = sn_stun_parse(buf, len, &m, &err);
        if (st != SN_EPARSE || strstr(err.msg, cases[i].says) == NULL)
            fail_msg("case \"%s\": status %d, message \"%s\"", cases[i].name, st, err.msg);
    }
}

static void test_stun_rejects_attribute_after_fingerprint(void **state)
{
    (void)state;
    mb_t m;
    mb_start(&m, 0x0101);
    mb_fingerprint(&m);
    mb_attr(&m, SN_STUN_ATTR_SOFTWARE, "late", 4);
    /* Make the FINGERPRINT verify over the final header, so only its place is wrong. */
    uint32_t c = sn_crc32(m.b, 20) ^ SN_STUN_FINGERPRINT_XOR;
    m.b[24] = (uint8_t)(c >> 24), m.b[25] = (uint8_t)(c >> 16);
    m.b[26] = (uint8_t)(c >> 8), m.b[27] = (uint8_t)c;
    sn_stun_msg_t out;
    sn_error_t err = {{0}};
    assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_EPARSE);
    assert_non_null(strstr(err.msg, "follows FINGERPRINT"));
}

/* Found by fuzzing: an address attribute too short to hold even its family byte. */
static void test_stun_rejects_short_address_attributes(void **state)
{
    (void)state;
    const uint16_t types[] = {SN_STUN_ATTR_MAPPED_ADDRESS,  SN_STUN_ATTR_XOR_MAPPED_ADDRESS,
                              SN_STUN_ATTR_RESPONSE_ORIGIN, SN_STUN_ATTR_OTHER_ADDRESS,
                              SN_STUN_ATTR_SOURCE_ADDRESS,  SN_STUN_ATTR_CHANGED_ADDRESS};
    const uint8_t v[8] = {0, 1, 0, 80, 127, 0, 0, 1};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        for (size_t len = 0; len < 8; len++) {
            mb_t m;
            sn_stun_msg_t out;
            sn_error_t err = {{0}};
            mb_start(&m, 0x0101);
            mb_attr(&m, types[i], v, len);
            /* An exact-size heap copy, so that ASan sees any read past the end. */
            uint8_t *exact = malloc(m.n);
            assert_non_null(exact);
            memcpy(exact, m.b, m.n);
            sn_status_t st = sn_stun_parse(exact, m.n, &out, &err);
            free(exact);
            if (st != SN_EPARSE || !strstr(err.msg, "family"))
                fail_msg("type 0x%04x length %zu: \"%s\"", types[i], len, err.msg);
        }
    }
}

static void test_stun_rejects_oversized_software_and_cuts_long_one(void **state)
{
    (void)state;
    uint8_t text[764];
    memset(text, 'a', sizeof text);
    mb_t m;
    sn_stun_msg_t out;
    sn_error_t err = {{0}};

    mb_start(&m, 0x0101);
    mb_attr(&m, SN_STUN_ATTR_SOFTWARE, text, 764);
    assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_EPARSE);
    assert_non_null(strstr(err.msg, "SOFTWARE"));

    /* 763 bytes is allowed on the wire; we keep 127 of them. */
    mb_start(&m, 0x0101);
    mb_attr(&m, SN_STUN_ATTR_SOFTWARE, text, 763);
    assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_OK);
    assert_int_equal(strlen(out.software), SN_STUN_TEXT_MAX - 1);
}

static void test_stun_software_is_sanitised_and_cut_on_utf8_boundary(void **state)
{
    (void)state;
    mb_t m;
    sn_stun_msg_t out;
    sn_error_t err = {{0}};

    mb_start(&m, 0x0101);
    mb_attr(&m, SN_STUN_ATTR_SOFTWARE, "a\x1b[2Jb\x7f\0\0", 9);
    assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_OK);
    assert_string_equal(out.software, "a?[2Jb?");

    /* 126 ASCII bytes, then a 2-byte UTF-8 character straddling the cut. */
    uint8_t text[130];
    memset(text, 'x', sizeof text);
    text[126] = 0xC3;
    text[127] = 0xA9;
    mb_start(&m, 0x0101);
    mb_attr(&m, SN_STUN_ATTR_SOFTWARE, text, sizeof text);
    assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_OK);
    assert_int_equal(strlen(out.software), 126);
}

static void test_stun_unknown_required_attribute_makes_response_unusable(void **state)
{
    (void)state;
    const sn_probe_t *p = sn_probe_find("stun");
    uint8_t xma[8] = {0, 1, 0x21 ^ 0x9c, 0x12 ^ 0x40, 127 ^ 0x21, 0 ^ 0x12, 0 ^ 0xa4, 1 ^ 0x42};
    mb_t m;
    sn_stun_msg_t out;
    sn_error_t err = {{0}};
    sn_probe_reply_t r;

    mb_start(&m, 0x0101);
    mb_attr(&m, SN_STUN_ATTR_XOR_MAPPED_ADDRESS, xma, 8);
    mb_attr(&m, 0x7777, "abc", 3);
    assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_OK);
    assert_int_equal(out.n_not_understood, 1);
    assert_int_equal(out.not_understood[0], 0x7777);
    assert_false(sn_stun_response_usable(&out));
    memset(&r, 0, sizeof r);
    assert_int_equal(p->parse(m.b, m.n, &r), 0);

    /* The same with a comprehension-optional type is skipped and usable. */
    mb_start(&m, 0x0101);
    mb_attr(&m, SN_STUN_ATTR_XOR_MAPPED_ADDRESS, xma, 8);
    mb_attr(&m, 0x8777, "abc", 3);
    assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_OK);
    assert_int_equal(out.n_not_understood, 0);
    memset(&r, 0, sizeof r);
    assert_int_equal(p->parse(m.b, m.n, &r), 1);
    assert_int_equal(r.token, TOKEN);
    assert_addr(&r.observed, "127.0.0.1", 0x9c40);
}

static void test_stun_ignores_attributes_after_message_integrity(void **state)
{
    (void)state;
    uint8_t hmac[20] = {0};
    mb_t m;
    sn_stun_msg_t out;
    sn_error_t err = {{0}};
    mb_start(&m, 0x0101);
    mb_attr(&m, SN_STUN_ATTR_MESSAGE_INTEGRITY, hmac, 20);
    mb_attr(&m, SN_STUN_ATTR_SOFTWARE, "after", 5);
    mb_attr(&m, 0x7777, "x", 1);
    mb_fingerprint(&m);
    assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_OK);
    assert_true(out.integrity);
    assert_true(out.fingerprint);
    assert_string_equal(out.software, "");
    assert_int_equal(out.n_not_understood, 0);
}

static void test_stun_reads_error_code_and_rejects_bad_class(void **state)
{
    (void)state;
    uint8_t ec[4 + 11] = {0, 0, 4, 38};
    memcpy(ec + 4, "Stale Nonce", 11);
    mb_t m;
    sn_stun_msg_t out;
    sn_error_t err = {{0}};

    mb_start(&m, 0x0111);
    mb_attr(&m, SN_STUN_ATTR_ERROR_CODE, ec, sizeof ec);
    assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_OK);
    assert_int_equal(out.cls, SN_STUN_ERROR);
    assert_int_equal(out.error_code, 438);
    assert_string_equal(out.reason, "Stale Nonce");

    const uint8_t bad[][4] = {{0, 0, 7, 0}, {0, 0, 2, 0}, {0, 0, 4, 100}};
    for (size_t i = 0; i < 3; i++) {
        mb_start(&m, 0x0111);
        mb_attr(&m, SN_STUN_ATTR_ERROR_CODE, bad[i], 4);
        assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_EPARSE);
    }
    mb_start(&m, 0x0111);
    mb_attr(&m, SN_STUN_ATTR_ERROR_CODE, ec, 3);
    assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_EPARSE);
}

/* RFC 3489 servers say CHANGED-ADDRESS; RFC 5780's OTHER-ADDRESS wins when both are there. */
static void test_stun_other_address_preferred_over_changed_address(void **state)
{
    (void)state;
    const uint8_t changed[8] = {0, 1, 0x0d, 0x97, 127, 0, 0, 3};
    const uint8_t other[8] = {0, 1, 0x0d, 0x98, 127, 0, 0, 4};
    mb_t m;
    sn_stun_msg_t out;
    sn_error_t err = {{0}};

    mb_start(&m, 0x0101);
    mb_attr(&m, SN_STUN_ATTR_CHANGED_ADDRESS, changed, 8);
    assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_OK);
    assert_addr(&out.other_address, "127.0.0.3", 3479);

    mb_attr(&m, SN_STUN_ATTR_OTHER_ADDRESS, other, 8);
    assert_int_equal(sn_stun_parse(m.b, m.n, &out, &err), SN_OK);
    assert_addr(&out.other_address, "127.0.0.4", 3480);
}

static void test_stun_writes_golden_request_with_change_request(void **state)
{
    (void)state;
    uint8_t txid[12], buf[256];
    sn_stun_txid_from_token(TOKEN, txid);
    sn_stun_msg_t m;
    sn_stun_msg_init(&m, SN_STUN_REQUEST, SN_STUN_METHOD_BINDING, txid);
    m.change_request = true;
    m.change_flags = SN_STUN_CHANGE_IP | SN_STUN_CHANGE_PORT;
    snprintf(m.software, sizeof m.software, "snprobe");
    m.fingerprint = true;
    int n = sn_stun_write(&m, buf, sizeof buf);
    assert_int_equal(n, sizeof golden_change_request);
    assert_memory_equal(buf, golden_change_request, sizeof golden_change_request);

    sn_stun_msg_t back;
    sn_error_t err = {{0}};
    assert_int_equal(sn_stun_parse(buf, (size_t)n, &back, &err), SN_OK);
    assert_true(back.change_request);
    assert_int_equal(back.change_flags, SN_STUN_CHANGE_IP | SN_STUN_CHANGE_PORT);
    assert_true(back.fingerprint);
}

static void test_stun_write_then_parse_keeps_every_field(void **state)
{
    (void)state;
    sn_stun_msg_t m, back;
    sn_stun_msg_init(&m, SN_STUN_ERROR, SN_STUN_METHOD_BINDING, rfc5769_txid);
    m.mapped = ep("127.0.0.1", 1);
    m.xor_mapped = ep("::1", 65535);
    m.response_origin = ep("127.0.0.2", 3478);
    m.other_address = ep("::1", 3479);
    m.change_request = true;
    m.change_flags = SN_STUN_CHANGE_PORT;
    m.error_code = 420;
    snprintf(m.reason, sizeof m.reason, "Unknown Attribute");
    m.unknown_attributes[0] = 0x7777;
    m.unknown_attributes[1] = 0x0003;
    m.n_unknown_attributes = 2;
    snprintf(m.software, sizeof m.software, "x");
    m.fingerprint = true;

    uint8_t buf[512];
    int n = sn_stun_write(&m, buf, sizeof buf);
    assert_true(n > 20);
    assert_int_equal(n % 4, 0);
    sn_error_t err = {{0}};
    assert_int_equal(sn_stun_parse(buf, (size_t)n, &back, &err), SN_OK);
    assert_memory_equal(&back, &m, sizeof m);
    assert_int_equal(sn_stun_frame_len(buf, (size_t)n), n);
}

static void test_stun_write_refuses_small_buffer_and_bad_fields(void **state)
{
    (void)state;
    uint8_t buf[64];
    sn_stun_msg_t m;
    sn_stun_msg_init(&m, SN_STUN_REQUEST, SN_STUN_METHOD_BINDING, NULL);
    m.fingerprint = true;
    assert_int_equal(sn_stun_write(&m, buf, 19), SN_ELIMIT);
    assert_int_equal(sn_stun_write(&m, buf, 27), SN_ELIMIT);
    assert_int_equal(sn_stun_write(&m, buf, 28), 28);

    m.error_code = 700;
    assert_int_equal(sn_stun_write(&m, buf, sizeof buf), SN_EINVAL);
    m.error_code = 0;
    m.method = 0x1000;
    assert_int_equal(sn_stun_write(&m, buf, sizeof buf), SN_EINVAL);
    m.method = 1;
    m.mapped.family = 99;
    assert_int_equal(sn_stun_write(&m, buf, sizeof buf), SN_EINVAL);
}

static void test_stun_frame_len_reassembles_a_stream(void **state)
{
    (void)state;
    uint8_t two[sizeof rfc5769_v4 + sizeof rfc5769_v6];
    memcpy(two, rfc5769_v4, sizeof rfc5769_v4);
    memcpy(two + sizeof rfc5769_v4, rfc5769_v6, sizeof rfc5769_v6);
    const struct {
        const uint8_t *buf;
        size_t len;
        int want;
    } cases[] = {
        {rfc5769_v4, 0, 0},
        {rfc5769_v4, 1, 0},
        {rfc5769_v4, 6, 0},
        {rfc5769_v4, 19, 0},
        {rfc5769_v4, 20, 0},
        {rfc5769_v4, sizeof rfc5769_v4 - 1, 0},
        {rfc5769_v4, sizeof rfc5769_v4, (int)sizeof rfc5769_v4},
        {two, sizeof two, (int)sizeof rfc5769_v4},
        {(const uint8_t *)"\xc0", 1, SN_EPARSE},
        {(const uint8_t *)"GET / HTTP/1.1\r\n", 16, SN_EPARSE},
        {(const uint8_t *)"\x01\x01\x00\x3d", 4, SN_EPARSE},
        {(const uint8_t *)"\x01\x01\x00\x3c\x21\x13", 6, SN_EPARSE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = sn_stun_frame_len(cases[i].buf, cases[i].len);
        if (got != cases[i].want)
            fail_msg("case %zu: got %d, want %d", i, got, cases[i].want);
    }
}

static void test_stun_probe_builds_golden_request(void **state)
{
    (void)state;
    const sn_probe_t *p = sn_probe_find("stun");
    assert_non_null(p);
    assert_int_equal(p->transport, SN_TRANSPORT_UDP);
    assert_int_equal(p->token_bits, 64);
    sn_probe_req_t req = {.target = ep("127.0.0.1", 3478), .token = TOKEN};
    uint8_t buf[64];
    assert_int_equal(p->build(&req, buf, sizeof buf), sizeof golden_probe_request);
    assert_memory_equal(buf, golden_probe_request, sizeof golden_probe_request);
    assert_int_equal(p->build(&req, buf, 27), SN_ELIMIT);
}

static void test_stun_probe_answers_golden_response_and_parses_it_back(void **state)
{
    (void)state;
    const sn_probe_t *p = sn_probe_find("stun");
    sn_answer_ctx_t ctx = {.requester = ep("127.0.0.1", 40000), .node = ep("127.0.0.2", 3478)};
    uint8_t out[256];
    int n = p->answer(golden_probe_request, sizeof golden_probe_request, &ctx, out, sizeof out);
    assert_int_equal(n, sizeof golden_probe_answer);
    assert_memory_equal(out, golden_probe_answer, sizeof golden_probe_answer);

    sn_probe_reply_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(p->parse(out, (size_t)n, &r), 1);
    assert_int_equal(r.token, TOKEN);
    assert_addr(&r.observed, "127.0.0.1", 40000);
    /* The node's own address (RESPONSE-ORIGIN) is in the answer; no result column reads it. */
    sn_stun_msg_t m;
    assert_int_equal(sn_stun_parse(out, (size_t)n, &m, NULL), SN_OK);
    assert_addr(&m.response_origin, "127.0.0.2", 3478);

    assert_int_equal(p->answer(golden_probe_request, sizeof golden_probe_request, &ctx, out, 71),
                     SN_ELIMIT);
}

static void test_stun_probe_round_trip_over_ipv6(void **state)
{
    (void)state;
    const sn_probe_t *p = sn_probe_find("stun");
    const uint64_t tokens[] = {0, 1, UINT64_MAX, 0x8000000000000000ULL};
    for (size_t i = 0; i < 4; i++) {
        sn_probe_req_t req = {.target = ep("::1", 3478), .token = tokens[i]};
        sn_answer_ctx_t ctx = {.requester = ep("::1", 50000), .node = ep("::1", 3478)};
        uint8_t q[64], a[256];
        int nq = p->build(&req, q, sizeof q);
        assert_true(nq > 0);
        int na = p->answer(q, (size_t)nq, &ctx, a, sizeof a);
        assert_true(na > 0);
        sn_probe_reply_t r;
        memset(&r, 0, sizeof r);
        assert_int_equal(p->parse(a, (size_t)na, &r), 1);
        assert_true(r.token == tokens[i]);
        assert_addr(&r.observed, "::1", 50000);
        sn_stun_msg_t m;
        assert_int_equal(sn_stun_parse(a, (size_t)na, &m, NULL), SN_OK);
        assert_addr(&m.response_origin, "::1", 3478);
    }
}

/* A one-address node cannot honour CHANGE-REQUEST: it says 420, which still proves it alive. */
static void test_stun_probe_answers_change_request_with_420(void **state)
{
    (void)state;
    const sn_probe_t *p = sn_probe_find("stun");
    sn_answer_ctx_t ctx = {.requester = ep("127.0.0.1", 40000), .node = ep("127.0.0.2", 3478)};
    uint8_t out[256];
    int n = p->answer(golden_change_request, sizeof golden_change_request, &ctx, out, sizeof out);
    assert_true(n > 0);
    sn_stun_msg_t m;
    sn_error_t err = {{0}};
    assert_int_equal(sn_stun_parse(out, (size_t)n, &m, &err), SN_OK);
    assert_int_equal(m.cls, SN_STUN_ERROR);
    assert_int_equal(m.error_code, 420);
    assert_int_equal(m.n_unknown_attributes, 1);
    assert_int_equal(m.unknown_attributes[0], SN_STUN_ATTR_CHANGE_REQUEST);
    assert_int_equal(m.xor_mapped.family, 0);
    assert_true(m.fingerprint);

    sn_probe_reply_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(p->parse(out, (size_t)n, &r), 1);
    assert_true(r.token == TOKEN);
    assert_int_equal(r.observed.family, 0);
}

static void test_stun_probe_answers_unknown_required_attribute_with_420(void **state)
{
    (void)state;
    const sn_probe_t *p = sn_probe_find("stun");
    sn_answer_ctx_t ctx = {.requester = ep("127.0.0.1", 40000), .node = ep("127.0.0.2", 3478)};
    mb_t q;
    mb_start(&q, 0x0001);
    mb_attr(&q, 0x7001, "zz", 2);
    uint8_t out[256];
    int n = p->answer(q.b, q.n, &ctx, out, sizeof out);
    assert_true(n > 0);
    sn_stun_msg_t m;
    assert_int_equal(sn_stun_parse(out, (size_t)n, &m, NULL), SN_OK);
    assert_int_equal(m.error_code, 420);
    assert_int_equal(m.n_unknown_attributes, 1);
    assert_int_equal(m.unknown_attributes[0], 0x7001);
}

static void test_stun_probe_answers_rfc5769_request_and_ignores_non_requests(void **state)
{
    (void)state;
    const sn_probe_t *p = sn_probe_find("stun");
    sn_answer_ctx_t ctx = {.requester = ep("127.0.0.1", 40000), .node = ep("127.0.0.2", 3478)};
    uint8_t out[256];
    int n = p->answer(rfc5769_request, sizeof rfc5769_request, &ctx, out, sizeof out);
    assert_true(n > 0);
    sn_stun_msg_t m;
    assert_int_equal(sn_stun_parse(out, (size_t)n, &m, NULL), SN_OK);
    assert_int_equal(m.cls, SN_STUN_SUCCESS);
    assert_memory_equal(m.txid, rfc5769_txid, 12);
    assert_addr(&m.xor_mapped, "127.0.0.1", 40000);
    assert_string_equal(m.software, "snprobe-swarm");

    assert_int_equal(p->answer(rfc5769_v4, sizeof rfc5769_v4, &ctx, out, sizeof out), 0);
    assert_int_equal(p->answer(golden_probe_request, 27, &ctx, out, sizeof out), 0);
    assert_int_equal(p->answer((const uint8_t *)"hello", 5, &ctx, out, sizeof out), 0);
    uint8_t bad[sizeof golden_probe_request];
    memcpy(bad, golden_probe_request, sizeof bad);
    bad[sizeof bad - 1] ^= 1;
    assert_int_equal(p->answer(bad, sizeof bad, &ctx, out, sizeof out), 0);
}

static void test_stun_txid_marker_round_trips_and_rejects_foreign(void **state)
{
    (void)state;
    uint8_t txid[12];
    uint64_t t = 7;
    sn_stun_txid_from_token(TOKEN, txid);
    assert_true(sn_stun_txid_token(txid, &t));
    assert_true(t == TOKEN);
    t = 7;
    assert_false(sn_stun_txid_token(rfc5769_txid, &t));
    assert_true(t == 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_matches_the_standard_check_value),
        cmocka_unit_test(test_stun_parses_rfc5769_sample_request),
        cmocka_unit_test(test_stun_parses_rfc5769_ipv4_response),
        cmocka_unit_test(test_stun_parses_rfc5769_ipv6_response),
        cmocka_unit_test(test_stun_probe_rejects_rfc5769_response_with_foreign_txid),
        cmocka_unit_test(test_stun_rejects_malformed_variants_of_rfc5769),
        cmocka_unit_test(test_stun_rejects_attribute_after_fingerprint),
        cmocka_unit_test(test_stun_rejects_short_address_attributes),
        cmocka_unit_test(test_stun_rejects_oversized_software_and_cuts_long_one),
        cmocka_unit_test(test_stun_software_is_sanitised_and_cut_on_utf8_boundary),
        cmocka_unit_test(test_stun_unknown_required_attribute_makes_response_unusable),
        cmocka_unit_test(test_stun_ignores_attributes_after_message_integrity),
        cmocka_unit_test(test_stun_reads_error_code_and_rejects_bad_class),
        cmocka_unit_test(test_stun_other_address_preferred_over_changed_address),
        cmocka_unit_test(test_stun_writes_golden_request_with_change_request),
        cmocka_unit_test(test_stun_write_then_parse_keeps_every_field),
        cmocka_unit_test(test_stun_write_refuses_small_buffer_and_bad_fields),
        cmocka_unit_test(test_stun_frame_len_reassembles_a_stream),
        cmocka_unit_test(test_stun_probe_builds_golden_request),
        cmocka_unit_test(test_stun_probe_answers_golden_response_and_parses_it_back),
        cmocka_unit_test(test_stun_probe_round_trip_over_ipv6),
        cmocka_unit_test(test_stun_probe_answers_change_request_with_420),
        cmocka_unit_test(test_stun_probe_answers_unknown_required_attribute_with_420),
        cmocka_unit_test(test_stun_probe_answers_rfc5769_request_and_ignores_non_requests),
        cmocka_unit_test(test_stun_txid_marker_round_trips_and_rejects_foreign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
