/*
 * Tests for the probe registry (probes/registry.c), the Skype UDP probe
 * (probes/skype.c) and the TCP handshake probe (probes/tcp.c). Probes are
 * pure bytes in, fields out, so everything here runs on byte arrays: golden
 * requests and replies compared whole, round trips through build, answer and
 * parse, and every wrong length and type the parser must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "probes/probe.h"

#define TOKEN 0x0123456789abcdefULL

/*
 * The Skype request for TOKEN: id 0xcdef, type 0x02, IV 0x456789ab, CRC-32 of
 * "snprobe" (0x636ee3d5, computed with zlib), then "snprobe".
 */
static const uint8_t golden_skype_request[18] = {0xcd, 0xef, 0x02, 0x45, 0x67, 0x89,
                                                 0xab, 0x63, 0x6e, 0xe3, 0xd5, 's',
                                                 'n',  'p',  'r',  'o',  'b',  'e'};

/* The NAT-info reply to it: requester 127.0.0.1, node 127.0.0.2. */
static const uint8_t golden_skype_reply[11] = {0xcd, 0xef, 0x05, 127, 0, 0, 1, 127, 0, 0, 2};

static sn_addr_t ep(const char *ip, uint16_t port)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &a), SN_OK);
    a.port = port;
    return a;
}

static const sn_probe_t *skype(void)
{
    const sn_probe_t *p = sn_probe_find("skype");
    assert_non_null(p);
    return p;
}

static void test_registry_lists_skype_tcp_stun_in_order(void **state)
{
    (void)state;
    const char *want[] = {"skype", "tcp", "stun"};
    assert_int_equal(sn_probe_count, 3);
    for (size_t i = 0; i < sn_probe_count; i++) {
        assert_string_equal(sn_probes[i]->name, want[i]);
        assert_ptr_equal(sn_probe_find(want[i]), sn_probes[i]);
    }
}

static void test_registry_find_returns_null_for_unknown_names(void **state)
{
    (void)state;
    assert_null(sn_probe_find(NULL));
    assert_null(sn_probe_find(""));
    assert_null(sn_probe_find("SKYPE"));
    assert_null(sn_probe_find("skype "));
    assert_null(sn_probe_find("udp"));
}

/* What the engine and --list-probes rely on, for every registered module. */
static void test_registry_every_probe_is_complete(void **state)
{
    (void)state;
    for (size_t i = 0; i < sn_probe_count; i++) {
        const sn_probe_t *p = sn_probes[i];
        assert_non_null(p->name);
        assert_non_null(p->summary);
        assert_true(strlen(p->summary) > 10);
        assert_non_null(p->build);
        assert_true(p->token_bits <= 64);
        assert_true(p->transport == SN_TRANSPORT_UDP || p->transport == SN_TRANSPORT_TCP);
        if (p->transport == SN_TRANSPORT_UDP) {
            assert_non_null(p->parse);
            assert_non_null(p->answer);
            assert_true(p->token_bits > 0);
        }
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(p->name, sn_probes[j]->name);
    }
}

static void test_outcome_names(void **state)
{
    (void)state;
    const struct {
        sn_outcome_t o;
        const char *name;
    } cases[] = {
        {SN_OUTCOME_NONE, ""},
        {SN_OUTCOME_ALIVE, "alive"},
        {SN_OUTCOME_CLOSED, "closed"},
        {SN_OUTCOME_UNREACHABLE, "unreachable"},
        {SN_OUTCOME_FILTERED, "filtered"},
        {SN_OUTCOME_ERROR, "error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(sn_outcome_name(cases[i].o), cases[i].name);
    assert_string_equal(sn_outcome_name((sn_outcome_t)99), "");
}

static void test_skype_builds_golden_request(void **state)
{
    (void)state;
    const sn_probe_t *p = skype();
    assert_int_equal(p->transport, SN_TRANSPORT_UDP);
    assert_int_equal(p->default_port, 0);
    assert_int_equal(p->token_bits, 16);
    sn_probe_req_t req = {.target = ep("127.0.0.2", 33033), .token = TOKEN};
    uint8_t buf[64];
    memset(buf, 0xAA, sizeof buf);
    assert_int_equal(p->build(&req, buf, sizeof buf), 18);
    assert_memory_equal(buf, golden_skype_request, sizeof golden_skype_request);
    assert_int_equal(buf[18], 0xAA);
}

static void test_skype_build_is_deterministic_and_refuses_small_buffer(void **state)
{
    (void)state;
    const sn_probe_t *p = skype();
    sn_probe_req_t req = {.target = ep("127.0.0.2", 33033), .token = TOKEN};
    uint8_t a[18], b[18];
    assert_int_equal(p->build(&req, a, sizeof a), 18);
    assert_int_equal(p->build(&req, b, sizeof b), 18);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(p->build(&req, b, 17), SN_ELIMIT);

    /* Another token changes the id and the IV, and nothing else. */
    req.token = TOKEN ^ 0x0000000100010001ULL;
    assert_int_equal(p->build(&req, b, sizeof b), 18);
    assert_int_equal(b[1], a[1] ^ 0x01);
    assert_int_equal(b[4], a[4] ^ 0x01);
    assert_int_equal(b[6], a[6] ^ 0x01);
    assert_memory_equal(b + 7, a + 7, 11);
}

/* Four bytes of an IPv4 address as dotted text (a static buffer: one at a time). */
static const char *v4_text(const uint8_t *b)
{
    static char buf[16];
    snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    return buf;
}

static void test_skype_answers_golden_reply(void **state)
{
    (void)state;
    const sn_probe_t *p = skype();
    sn_answer_ctx_t ctx = {.requester = ep("127.0.0.1", 40000), .node = ep("127.0.0.2", 33033)};
    uint8_t out[64];
    assert_int_equal(p->answer(golden_skype_request, 18, &ctx, out, sizeof out), 11);
    assert_memory_equal(out, golden_skype_reply, sizeof golden_skype_reply);
    assert_int_equal(p->answer(golden_skype_request, 18, &ctx, out, 10), SN_ELIMIT);
}

static void test_skype_parses_golden_reply(void **state)
{
    (void)state;
    sn_probe_reply_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(skype()->parse(golden_skype_reply, 11, &r), 1);
    assert_int_equal(r.token, 0xcdef);
    sn_addr_t obs = ep("127.0.0.1", 0);
    assert_memory_equal(&r.observed, &obs, sizeof obs);
    /* The node's own address (bytes 7..10) is in the reply; no result column reads it. */
    assert_string_equal(v4_text(golden_skype_reply + 7), "127.0.0.2");
}

static void test_skype_round_trip_gives_back_token_and_addresses(void **state)
{
    (void)state;
    const sn_probe_t *p = skype();
    const uint64_t tokens[] = {0, 1, 0xffff, 0x10000, TOKEN, UINT64_MAX};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        sn_probe_req_t req = {.target = ep("127.0.0.9", 1234), .token = tokens[i]};
        sn_answer_ctx_t ctx = {.requester = ep("127.0.0.5", 5555), .node = ep("127.0.0.9", 1234)};
        uint8_t q[32], a[32];
        assert_int_equal(p->build(&req, q, sizeof q), 18);
        assert_int_equal(p->answer(q, 18, &ctx, a, sizeof a), 11);
        sn_probe_reply_t r;
        memset(&r, 0, sizeof r);
        assert_int_equal(p->parse(a, 11, &r), 1);
        assert_true(r.token == (tokens[i] & 0xffffu));
        assert_int_equal(r.observed.family, AF_INET);
        assert_true(sn_addr_same_ip(&r.observed, &ctx.requester));
        char node[SN_ADDR_STRLEN];
        sn_addr_format(&ctx.node, node, sizeof node, false);
        assert_string_equal(v4_text(a + 7), node);
        assert_int_equal(r.observed.port, 0);
    }
}

/* An IPv6 requester has no IPv4 address to report: the reply says 0.0.0.0, read as none. */
static void test_skype_ipv6_requester_is_reported_as_no_address(void **state)
{
    (void)state;
    const sn_probe_t *p = skype();
    sn_answer_ctx_t ctx = {.requester = ep("::1", 40000), .node = ep("127.0.0.2", 33033)};
    uint8_t out[16];
    assert_int_equal(p->answer(golden_skype_request, 18, &ctx, out, sizeof out), 11);
    const uint8_t want[11] = {0xcd, 0xef, 0x05, 0, 0, 0, 0, 127, 0, 0, 2};
    assert_memory_equal(out, want, sizeof want);
    sn_probe_reply_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(p->parse(out, 11, &r), 1);
    assert_int_equal(r.observed.family, 0);
    assert_string_equal(v4_text(out + 7), "127.0.0.2");
}

static void test_skype_parse_rejects_wrong_length_and_type(void **state)
{
    (void)state;
    const sn_probe_t *p = skype();
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    memcpy(buf, golden_skype_reply, 11);
    sn_probe_reply_t r;

    /* Every truncation, and one byte too many. */
    for (size_t len = 0; len <= 12; len++) {
        if (len == 11)
            continue;
        memset(&r, 0, sizeof r);
        if (p->parse(buf, len, &r) != 0)
            fail_msg("a %zu-byte reply was accepted", len);
    }
    const uint8_t bad_types[] = {0x00, 0x02, 0x04, 0x06, 0x0f, 0x55 ^ 0x01};
    for (size_t i = 0; i < sizeof bad_types; i++) {
        buf[2] = bad_types[i];
        memset(&r, 0, sizeof r);
        if (p->parse(buf, 11, &r) != 0)
            fail_msg("type 0x%02x was accepted", bad_types[i]);
    }
    /* The high nibble carries flags: only the low one names the type. */
    buf[2] = 0x35;
    assert_int_equal(p->parse(buf, 11, &r), 1);
    /* The request itself is not a reply. */
    assert_int_equal(p->parse(golden_skype_request, 18, &r), 0);
}

static void test_skype_answer_ignores_what_is_not_a_first_message(void **state)
{
    (void)state;
    const sn_probe_t *p = skype();
    sn_answer_ctx_t ctx = {.requester = ep("127.0.0.1", 40000), .node = ep("127.0.0.2", 33033)};
    uint8_t q[32], out[32];
    memset(q, 0, sizeof q);
    memcpy(q, golden_skype_request, 18);
    assert_int_equal(p->answer(q, 17, &ctx, out, sizeof out), 0);
    assert_int_equal(p->answer(q, 19, &ctx, out, sizeof out), 0);
    assert_int_equal(p->answer(golden_skype_reply, 11, &ctx, out, sizeof out), 0);
    q[2] = 0x03;
    assert_int_equal(p->answer(q, 18, &ctx, out, sizeof out), 0);
    q[2] = 0x42; /* flags in the high nibble, payload type in the low one */
    assert_int_equal(p->answer(q, 18, &ctx, out, sizeof out), 11);
    assert_int_equal(out[2], 0x05);
}

static void test_tcp_probe_is_a_bare_handshake(void **state)
{
    (void)state;
    const sn_probe_t *p = sn_probe_find("tcp");
    assert_non_null(p);
    assert_int_equal(p->transport, SN_TRANSPORT_TCP);
    assert_int_equal(p->default_port, 0);
    assert_int_equal(p->token_bits, 0);
    assert_null(p->parse);
    assert_null(p->answer);
    sn_probe_req_t req = {.target = ep("127.0.0.2", 33033), .token = TOKEN};
    uint8_t buf[8];
    assert_int_equal(p->build(&req, buf, sizeof buf), 0);
    assert_int_equal(p->build(&req, NULL, 0), 0);
    assert_non_null(strstr(p->summary, "443"));
    assert_non_null(strstr(p->summary, "80"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_lists_skype_tcp_stun_in_order),
        cmocka_unit_test(test_registry_find_returns_null_for_unknown_names),
        cmocka_unit_test(test_registry_every_probe_is_complete),
        cmocka_unit_test(test_outcome_names),
        cmocka_unit_test(test_skype_builds_golden_request),
        cmocka_unit_test(test_skype_build_is_deterministic_and_refuses_small_buffer),
        cmocka_unit_test(test_skype_answers_golden_reply),
        cmocka_unit_test(test_skype_parses_golden_reply),
        cmocka_unit_test(test_skype_round_trip_gives_back_token_and_addresses),
        cmocka_unit_test(test_skype_ipv6_requester_is_reported_as_no_address),
        cmocka_unit_test(test_skype_parse_rejects_wrong_length_and_type),
        cmocka_unit_test(test_skype_answer_ignores_what_is_not_a_first_message),
        cmocka_unit_test(test_tcp_probe_is_a_bare_handshake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
