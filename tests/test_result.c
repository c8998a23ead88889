/*
 * Reachability class and super-node eligibility (scanner/result.c).
 *
 * The class test walks every combination of a UDP state and a TCP state in
 * one table whose expected strings are written out by hand, so that a change
 * of rule shows up as a changed cell here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "data/result.h"
#include "probes/probe.h"

#define OWN_PORT 33033

static const sn_probe_t fake_udp = {.name = "skype-udp", .transport = SN_TRANSPORT_UDP};
static const sn_probe_t fake_tcp = {.name = "tcp", .transport = SN_TRANSPORT_TCP};

enum { U_NOPLAN, U_NONE, U_ALIVE, U_FILTERED, U_CLOSED, U_STATES };
enum { T_NOPLAN, T_NONE, T_OWN, T_443, T_80, T_8080, T_FILTERED, T_CLOSED, T_STATES };

static const char *const udp_state_name[U_STATES] = {"no-plan", "none", "alive", "filtered",
                                                     "closed"};
static const char *const tcp_state_name[T_STATES] = {"no-plan", "none", "own",      "443",
                                                     "80",      "8080", "filtered", "closed"};

/* expected[udp state][tcp state] */
static const char *const expected[U_STATES][T_STATES] = {
    [U_NOPLAN] = {"", "", "tcp-only", "tcp-443-only", "tcp-80-only", "tcp-8080-only", "none",
                  "none"},
    [U_NONE] = {"", "", "tcp-only", "tcp-443-only", "tcp-80-only", "tcp-8080-only", "none", "none"},
    [U_ALIVE] = {"udp-only", "udp-only", "udp+tcp", "udp+tcp-443", "udp+tcp-80", "udp+tcp-8080",
                 "udp-only", "udp-only"},
    [U_FILTERED] = {"none", "none", "tcp-only", "tcp-443-only", "tcp-80-only", "tcp-8080-only",
                    "none", "none"},
    [U_CLOSED] = {"none", "none", "tcp-only", "tcp-443-only", "tcp-80-only", "tcp-8080-only",
                  "none", "none"},
};

static sn_target_t make_target(uint16_t port)
{
    sn_target_t t;
    memset(&t, 0, sizeof t);
    sn_addr_set_v4(&t.addr, 0xC6336401u /* 198.51.100.1 */, port);
    t.seen_count = 1;
    return t;
}

static void set_udp(sn_result_t *r, int s)
{
    static const uint8_t outcome[U_STATES] = {SN_OUTCOME_NONE, SN_OUTCOME_NONE, SN_OUTCOME_ALIVE,
                                              SN_OUTCOME_FILTERED, SN_OUTCOME_CLOSED};
    r->udp.probe = s == U_NOPLAN ? NULL : &fake_udp;
    r->udp.outcome = outcome[s];
    r->udp.port = r->target->addr.port;
    r->udp.attempts = s == U_NOPLAN || s == U_NONE ? 0 : 1;
}

static void set_tcp(sn_result_t *r, int s)
{
    r->tcp.probe = s == T_NOPLAN ? NULL : &fake_tcp;
    r->tcp.port = r->target->addr.port;
    r->tcp.attempts = 1;
    switch (s) {
    case T_NOPLAN:
    case T_NONE:
        r->tcp.outcome = SN_OUTCOME_NONE;
        r->tcp.attempts = 0;
        break;
    case T_OWN: r->tcp.outcome = SN_OUTCOME_ALIVE; break;
    case T_443:
        r->tcp.outcome = SN_OUTCOME_ALIVE;
        r->tcp.port = 443;
        break;
    case T_80:
        r->tcp.outcome = SN_OUTCOME_ALIVE;
        r->tcp.port = 80;
        break;
    case T_8080:
        r->tcp.outcome = SN_OUTCOME_ALIVE;
        r->tcp.port = 8080;
        break;
    case T_FILTERED: r->tcp.outcome = SN_OUTCOME_FILTERED; break;
    case T_CLOSED: r->tcp.outcome = SN_OUTCOME_CLOSED; break;
    }
}

static void test_reach_class_covers_every_udp_tcp_combination(void **state)
{
    (void)state;
    sn_target_t t = make_target(OWN_PORT);
    for (int u = 0; u < U_STATES; u++) {
        for (int c = 0; c < T_STATES; c++) {
            sn_result_t r = {.target = &t};
            set_udp(&r, u);
            set_tcp(&r, c);
            sn_reach_buf_t buf;
            const char *got = sn_result_reach_class(&r, &buf);
            if (strcmp(got, expected[u][c]) != 0)
                fail_msg("udp %s, tcp %s: got \"%s\", expected \"%s\"", udp_state_name[u],
                         tcp_state_name[c], got, expected[u][c]);
        }
    }
}

static void test_reach_class_is_empty_for_blocked_target(void **state)
{
    (void)state;
    sn_target_t t = make_target(OWN_PORT);
    sn_result_t r = {.target = &t, .blocked = "private (RFC 1918)"};
    assert_string_equal(sn_result_reach_class(&r, &(sn_reach_buf_t){0}), "");
    /* Even if some caller filled outcomes, a blocked target has no class. */
    set_udp(&r, U_ALIVE);
    set_tcp(&r, T_OWN);
    assert_string_equal(sn_result_reach_class(&r, &(sn_reach_buf_t){0}), "");
    assert_false(sn_result_sn_eligible(&r));
}

static void test_reach_class_tcp_on_443_is_own_port_when_target_listens_on_443(void **state)
{
    (void)state;
    sn_target_t t = make_target(443);
    sn_result_t r = {.target = &t};
    set_udp(&r, U_ALIVE);
    set_tcp(&r, T_443);
    assert_string_equal(sn_result_reach_class(&r, &(sn_reach_buf_t){0}), "udp+tcp");
    set_udp(&r, U_FILTERED);
    assert_string_equal(sn_result_reach_class(&r, &(sn_reach_buf_t){0}), "tcp-only");
}

static void test_reach_class_reads_tcp_port_zero_as_own_port(void **state)
{
    (void)state;
    sn_target_t t = make_target(OWN_PORT);
    sn_result_t r = {.target = &t};
    set_udp(&r, U_ALIVE);
    set_tcp(&r, T_OWN);
    r.tcp.port = 0;
    assert_string_equal(sn_result_reach_class(&r, &(sn_reach_buf_t){0}), "udp+tcp");
}

/* A probe the stop cut short leaves the class unknown, whatever the other
 * probe found: neither `none` nor `udp-only` may be claimed. */
static void test_reach_class_is_incomplete_when_a_probe_was_cut_short(void **state)
{
    (void)state;
    sn_target_t t = make_target(OWN_PORT);
    for (int u = U_NONE; u < U_STATES; u++) {
        sn_result_t r = {.target = &t};
        set_udp(&r, u);
        set_tcp(&r, T_FILTERED);
        r.tcp.outcome = SN_OUTCOME_INCOMPLETE;
        assert_string_equal(sn_result_reach_class(&r, &(sn_reach_buf_t){0}), "incomplete");
        assert_false(sn_result_sn_eligible(&r));
    }
    for (int c = T_NONE; c < T_STATES; c++) {
        sn_result_t r = {.target = &t};
        set_udp(&r, U_FILTERED);
        r.udp.outcome = SN_OUTCOME_INCOMPLETE;
        set_tcp(&r, c);
        assert_string_equal(sn_result_reach_class(&r, &(sn_reach_buf_t){0}), "incomplete");
        assert_false(sn_result_sn_eligible(&r));
    }
    /* Blocked stays blocked. */
    sn_result_t b = {.target = &t, .blocked = "private"};
    set_udp(&b, U_FILTERED);
    b.udp.outcome = SN_OUTCOME_INCOMPLETE;
    assert_string_equal(sn_result_reach_class(&b, &(sn_reach_buf_t){0}), "");
}

/* A TCP answer on a port outside the plan is spelt out in the caller's buffer,
 * so two such classes can be held at once (a thread-local buffer gave the
 * second call's text to both). */
static void test_reach_class_other_port_is_spelt_in_callers_buffer(void **state)
{
    (void)state;
    sn_target_t t = make_target(OWN_PORT);
    sn_result_t a = {.target = &t}, b = {.target = &t};
    set_udp(&a, U_ALIVE);
    set_tcp(&a, T_OWN);
    a.tcp.port = 8443;
    set_udp(&b, U_FILTERED);
    set_tcp(&b, T_OWN);
    b.tcp.port = 8080;
    sn_reach_buf_t ba, bb;
    const char *ca = sn_result_reach_class(&a, &ba);
    const char *cb = sn_result_reach_class(&b, &bb);
    assert_string_equal(ca, "udp+tcp-8443");
    assert_string_equal(cb, "tcp-8080-only");
    assert_ptr_equal(ca, ba.s);
}

static void test_reach_class_null_result_is_empty(void **state)
{
    (void)state;
    assert_string_equal(sn_result_reach_class(NULL, &(sn_reach_buf_t){0}), "");
    assert_false(sn_result_sn_eligible(NULL));
}

/* ---- eligibility -------------------------------------------------------- */

enum { NAT_NONE, NAT_UDP_REPLY_FROM, NAT_TCP_REPLY_FROM };

static const struct {
    const char *name;
    uint16_t own_port;
    int udp, tcp;
    int nat;
    bool observed; /* the node told us our address: irrelevant to eligibility */
    bool expect;
} eligible_cases[] = {
    {"udp and tcp alive on own port, direct", OWN_PORT, U_ALIVE, T_OWN, NAT_NONE, false, true},
    {"observed address set does not matter", OWN_PORT, U_ALIVE, T_OWN, NAT_NONE, true, true},
    {"udp reply from another address", OWN_PORT, U_ALIVE, T_OWN, NAT_UDP_REPLY_FROM, false, false},
    {"tcp reply from another address", OWN_PORT, U_ALIVE, T_OWN, NAT_TCP_REPLY_FROM, false, false},
    {"tcp alive only on 443", OWN_PORT, U_ALIVE, T_443, NAT_NONE, false, false},
    {"tcp alive only on 80", OWN_PORT, U_ALIVE, T_80, NAT_NONE, false, false},
    {"tcp alive on 443 which is its own port", 443, U_ALIVE, T_443, NAT_NONE, false, true},
    {"udp only", OWN_PORT, U_ALIVE, T_FILTERED, NAT_NONE, false, false},
    {"udp only, tcp not planned", OWN_PORT, U_ALIVE, T_NOPLAN, NAT_NONE, false, false},
    {"tcp only", OWN_PORT, U_FILTERED, T_OWN, NAT_NONE, false, false},
    {"tcp only, udp not planned", OWN_PORT, U_NOPLAN, T_OWN, NAT_NONE, false, false},
    {"udp closed, tcp closed", OWN_PORT, U_CLOSED, T_CLOSED, NAT_NONE, false, false},
    {"nothing probed", OWN_PORT, U_NOPLAN, T_NOPLAN, NAT_NONE, false, false},
};

static void test_sn_eligible_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof eligible_cases / sizeof eligible_cases[0]; i++) {
        sn_target_t t = make_target(eligible_cases[i].own_port);
        sn_result_t r = {.target = &t};
        set_udp(&r, eligible_cases[i].udp);
        set_tcp(&r, eligible_cases[i].tcp);
        sn_addr_t other;
        sn_addr_set_v4(&other, 0xCB00710Au /* 203.0.113.10 */, 40000);
        if (eligible_cases[i].nat == NAT_UDP_REPLY_FROM)
            r.udp.reply_from = other;
        if (eligible_cases[i].nat == NAT_TCP_REPLY_FROM)
            r.tcp.reply_from = other;
        if (eligible_cases[i].observed)
            sn_addr_set_v4(&r.udp.observed, 0xC0000201u, 5000);
        if (sn_result_sn_eligible(&r) != eligible_cases[i].expect)
            fail_msg("%s: expected %s", eligible_cases[i].name,
                     eligible_cases[i].expect ? "eligible" : "not eligible");
    }
}

static void test_sn_eligible_rejects_reply_from_same_ip_other_port(void **state)
{
    (void)state;
    sn_target_t t = make_target(OWN_PORT);
    sn_result_t r = {.target = &t};
    set_udp(&r, U_ALIVE);
    set_tcp(&r, T_OWN);
    r.udp.reply_from = t.addr;
    r.udp.reply_from.port = OWN_PORT + 1;
    assert_false(sn_result_sn_eligible(&r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reach_class_covers_every_udp_tcp_combination),
        cmocka_unit_test(test_reach_class_is_empty_for_blocked_target),
        cmocka_unit_test(test_reach_class_tcp_on_443_is_own_port_when_target_listens_on_443),
        cmocka_unit_test(test_reach_class_reads_tcp_port_zero_as_own_port),
        cmocka_unit_test(test_reach_class_is_incomplete_when_a_probe_was_cut_short),
        cmocka_unit_test(test_reach_class_other_port_is_spelt_in_callers_buffer),
        cmocka_unit_test(test_reach_class_null_result_is_empty),
        cmocka_unit_test(test_sn_eligible_table),
        cmocka_unit_test(test_sn_eligible_rejects_reply_from_same_ip_other_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
