/*
 * Tests of data/rdns: the name validator, the PTR query names, the reply
 * parser on hand-built messages, and the resolver end to end against real
 * DNS servers started here on loopback (dnsmasq; unbound for SERVFAIL) and a
 * tiny UDP responder on the test's own loop for replies no real server sends
 * (odd RCODEs, malformed answers, silence, held replies).
 *
 * All DNS traffic goes to 127.0.0.1. The addresses looked up are only query
 * names. Server tests skip with a message when dnsmasq (or unbound) is not
 * installed. Every loop test ends by closing the loop, which fails if a
 * handle was leaked.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/addr.h"
#include "data/rdns.h"

extern char **environ;

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static sn_addr_t ip(const char *s)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(s, strlen(s), &a), SN_OK);
    return a;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ------------------------------------------------------------------------ */
/* Host name validation                                                      */

static void test_hostname_valid_table(void **state)
{
    (void)state;
    char l63[64], l64[65], n253[254], n254[255];
    memset(l63, 'a', 63);
    l63[63] = '\0';
    memset(l64, 'a', 64);
    l64[64] = '\0';
    /* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
    snprintf(n253, sizeof n253, "%s.%s.%s.%.61s", l63, l63, l63, l63);
    snprintf(n254, sizeof n254, "%s.%s.%s.%.62s", l63, l63, l63, l63);
    assert_int_equal(strlen(n253), 253);
    assert_int_equal(strlen(n254), 254);

    static char n253dot[255];
    snprintf(n253dot, sizeof n253dot, "%s.", n253);

    const struct {
        const char *name;
        bool valid;
    } cases[] = {
        {"host.example", true},
        {"a", true},
        {"localhost", true},
        {"Host-1.Example.COM", true},
        {"1-2-3-4.dyn.example.net", true},
        {"x1.example.", true},  /* absolute form */
        {"3com.example", true}, /* labels may start with a digit */
        {"example.c0m", true},  /* a top label with a letter */
        {l63, true},
        {l64, false},
        {n253, true},
        {n253dot, true},
        {n254, false},
        {"", false},
        {".", false},
        {"..", false},
        {"a..b", false},
        {".a", false},
        {"a.example..", false},
        {"-lead.example", false},
        {"trail-.example", false},
        {"a.-b.example", false},
        {"under_score.example", false},
        {"a b.example", false},
        {"a\\032b.example", false},
        {"=cmd.example", false},
        {"+plus.example", false},
        {"@at.example", false},
        {"\"q\".example", false},
        {"<b>.example", false},
        {"it's.example", false},
        {"10.0.0.1", false}, /* numeric top label */
        {"host.123", false},
        {"caf\xc3\xa9.example", false}, /* raw UTF-8, not punycode */
        {"xn--caf-dma.example", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (sn_hostname_valid(cases[i].name) != cases[i].valid)
            fail_msg("case %zu \"%s\": expected %s", i, cases[i].name,
                     cases[i].valid ? "valid" : "invalid");
    }
    assert_false(sn_hostname_valid(NULL));
}

/* ------------------------------------------------------------------------ */
/* PTR query names and status names                                          */

static void test_ptr_name_golden_v4_and_v6(void **state)
{
    (void)state;
    const struct {
        const char *addr;
        const char *qname;
    } cases[] = {
        {"127.1.2.3", "3.2.1.127.in-addr.arpa"},
        {"0.0.0.0", "0.0.0.0.in-addr.arpa"},
        {"255.254.10.1", "1.10.254.255.in-addr.arpa"},
        {"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
        {"::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"},
        {"fe80::abcd:ef01",
         "1.0.f.e.d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_addr_t a = ip(cases[i].addr);
        char buf[SN_RDNS_QNAME_MAX];
        size_t n = sn_rdns_ptr_name(&a, buf, sizeof buf);
        assert_int_equal(n, strlen(cases[i].qname));
        assert_memory_equal(buf, cases[i].qname, n + 1);
    }
    /* Too small a buffer and an unknown family both give 0. */
    sn_addr_t a = ip("127.1.2.3");
    char small[10];
    assert_int_equal(sn_rdns_ptr_name(&a, small, sizeof small), 0);
    sn_addr_t none;
    memset(&none, 0, sizeof none);
    char buf[SN_RDNS_QNAME_MAX];
    assert_int_equal(sn_rdns_ptr_name(&none, buf, sizeof buf), 0);
}

static void test_status_names_are_stable(void **state)
{
    (void)state;
    const char *want[SN_RDNS_STATUS_COUNT] = {
        "ok",      "nxdomain", "nodata",  "servfail",  "refused",
        "timeout", "badresp",  "skipped", "cancelled", "error",
    };
    for (int i = 0; i < SN_RDNS_STATUS_COUNT; i++)
        assert_string_equal(sn_rdns_status_name((sn_rdns_status_t)i), want[i]);
    assert_string_equal(sn_rdns_status_name((sn_rdns_status_t)99), "error");
}

/* ------------------------------------------------------------------------ */
/* Reply parser on hand-built messages                                       */

#define QNAME "3.2.1.127.in-addr.arpa"

typedef struct msgb {
    uint8_t b[8192];
    size_t n;
} msgb_t;

static void put(msgb_t *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void put8(msgb_t *m, unsigned v)
{
    uint8_t b = (uint8_t)v;
    put(m, &b, 1);
}

static void put16(msgb_t *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}

/* Dotted name to uncompressed wire form (no escapes; "" is the root). */
static void put_name(msgb_t *m, const char *dotted)
{
    const char *p = dotted;
    while (*p != '\0') {
        const char *dot = strchr(p, '.');
        size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);
        put8(m, (unsigned)l);
        put(m, p, l);
        p += l;
        if (*p == '.')
            p++;
    }
    put8(m, 0);
}

static void header(msgb_t *m, unsigned flags, unsigned qd, unsigned an)
{
    m->n = 0;
    put16(m, 0x1234);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, 0);
    put16(m, 0);
}

static void question(msgb_t *m, const char *name, unsigned type)
{
    put_name(m, name);
    put16(m, type);
    put16(m, 1);
}

/* RR header with owner as a pointer to the question (offset 12). */
static void rr_head(msgb_t *m, unsigned type, unsigned klass, unsigned rdlen)
{
    put16(m, 0xc00c);
    put16(m, type);
    put16(m, klass);
    put16(m, 0);
    put16(m, 60);
    put16(m, rdlen);
}

static void ptr_rr(msgb_t *m, const char *target)
{
    msgb_t t = {.n = 0};
    put_name(&t, target);
    rr_head(m, 12, 1, (unsigned)t.n);
    put(m, t.b, t.n);
}

/* A NOERROR reply with the question and PTRs to each target. */
static void reply_with(msgb_t *m, size_t n, const char *const *targets)
{
    header(m, 0x8180, 1, (unsigned)n);
    question(m, QNAME, 12);
    for (size_t i = 0; i < n; i++)
        ptr_rr(m, targets[i]);
}

typedef struct parse_case {
    const char *label;
    void (*build)(msgb_t *m);
    sn_rdns_status_t status;
    size_t n_names;
    const char *names[3];
} parse_case_t;

static void b_single(msgb_t *m)
{
    const char *t[] = {"host.example"};
    reply_with(m, 1, t);
}

static void b_two(msgb_t *m)
{
    const char *t[] = {"one.example", "two.example"};
    reply_with(m, 2, t);
}

static void b_owner_mixed_case(msgb_t *m)
{
    header(m, 0x8180, 1, 1);
    question(m, QNAME, 12);
    put_name(m, "3.2.1.127.IN-ADDR.Arpa");
    put16(m, 12);
    put16(m, 1);
    put16(m, 0);
    put16(m, 0);
    msgb_t t = {.n = 0};
    put_name(&t, "mixed.example");
    put16(m, (unsigned)t.n);
    put(m, t.b, t.n);
}

static void b_cname_chain(msgb_t *m)
{
    header(m, 0x8180, 1, 3);
    question(m, QNAME, 12);
    /* Order on purpose: the PTR first, then the CNAMEs that lead to it. */
    put_name(m, "3.sub.2.1.127.in-addr.arpa");
    put16(m, 12);
    put16(m, 1);
    put16(m, 0);
    put16(m, 0);
    msgb_t t = {.n = 0};
    put_name(&t, "classless.example");
    put16(m, (unsigned)t.n);
    put(m, t.b, t.n);
    t.n = 0;
    put_name(&t, "3.0-63.2.1.127.in-addr.arpa");
    rr_head(m, 5, 1, (unsigned)t.n);
    put(m, t.b, t.n);
    put_name(m, "3.0-63.2.1.127.in-addr.arpa");
    put16(m, 5);
    put16(m, 1);
    put16(m, 0);
    put16(m, 0);
    t.n = 0;
    put_name(&t, "3.sub.2.1.127.in-addr.arpa");
    put16(m, (unsigned)t.n);
    put(m, t.b, t.n);
}

static void b_ptr_of_other_owner(msgb_t *m)
{
    header(m, 0x8180, 1, 1);
    question(m, QNAME, 12);
    put_name(m, "4.2.1.127.in-addr.arpa");
    put16(m, 12);
    put16(m, 1);
    put16(m, 0);
    put16(m, 0);
    msgb_t t = {.n = 0};
    put_name(&t, "other.example");
    put16(m, (unsigned)t.n);
    put(m, t.b, t.n);
}

static void b_rcode3(msgb_t *m)
{
    header(m, 0x8183, 1, 0);
    question(m, QNAME, 12);
}
static void b_rcode2(msgb_t *m)
{
    header(m, 0x8182, 1, 0);
    question(m, QNAME, 12);
}
static void b_rcode5(msgb_t *m)
{
    header(m, 0x8185, 1, 0);
    question(m, QNAME, 12);
}
static void b_rcode1(msgb_t *m)
{
    header(m, 0x8181, 0, 0);
}
static void b_rcode4(msgb_t *m)
{
    header(m, 0x8184, 1, 0);
    question(m, QNAME, 12);
}
static void b_empty_noerror(msgb_t *m)
{
    header(m, 0x8180, 1, 0);
    question(m, QNAME, 12);
}

static void b_not_response(msgb_t *m)
{
    b_single(m);
    m->b[2] &= 0x7f;
}

static void b_opcode_status(msgb_t *m)
{
    b_single(m);
    m->b[2] |= 2 << 3;
}

static void b_no_question(msgb_t *m)
{
    header(m, 0x8180, 0, 0);
}

static void b_other_question(msgb_t *m)
{
    header(m, 0x8180, 1, 1);
    question(m, "4.2.1.127.in-addr.arpa", 12);
    ptr_rr(m, "host.example");
}

static void b_question_type_a(msgb_t *m)
{
    header(m, 0x8180, 1, 1);
    question(m, QNAME, 1);
    ptr_rr(m, "host.example");
}

static void b_short_header(msgb_t *m)
{
    b_single(m);
    m->n = 11;
}

static void b_cut_last_byte(msgb_t *m)
{
    b_single(m);
    m->n--;
}

static void b_ancount_too_big(msgb_t *m)
{
    b_single(m);
    m->b[7] = 2;
}

static void b_rdata_trailing_junk(msgb_t *m)
{
    header(m, 0x8180, 1, 1);
    question(m, QNAME, 12);
    msgb_t t = {.n = 0};
    put_name(&t, "host.example");
    put8(&t, 0xaa);
    rr_head(m, 12, 1, (unsigned)t.n);
    put(m, t.b, t.n);
}

static void b_rdata_name_overruns(msgb_t *m)
{
    /* RDLENGTH 5 holds "\4host" only; the rest of the name lies past the RDATA. */
    header(m, 0x8180, 1, 1);
    question(m, QNAME, 12);
    rr_head(m, 12, 1, 5);
    put_name(m, "host.example");
}

static void b_pointer_to_itself(msgb_t *m)
{
    header(m, 0x8180, 1, 1);
    question(m, QNAME, 12);
    rr_head(m, 12, 1, 2);
    put16(m, 0xc000 | (unsigned)m->n); /* points at its own offset */
}

static void b_pointer_loop_two(msgb_t *m)
{
    /* Target "a" + pointer back to the start of the target: a loop that
     * still only points backwards at each step. */
    header(m, 0x8180, 1, 1);
    question(m, QNAME, 12);
    rr_head(m, 12, 1, 4);
    size_t at = m->n;
    put8(m, 1);
    put8(m, 'a');
    put16(m, 0xc000 | (unsigned)at);
}

static void b_forward_pointer(msgb_t *m)
{
    header(m, 0x8180, 1, 1);
    question(m, QNAME, 12);
    rr_head(m, 12, 1, 2);
    put16(m, 0xc000 | (unsigned)(m->n + 2));
}

static void b_pointer_chain_backwards(msgb_t *m)
{
    /* "host" + pointer to "example" written in an earlier RR's target. */
    header(m, 0x8180, 1, 2);
    question(m, QNAME, 12);
    msgb_t t = {.n = 0};
    put_name(&t, "first.example");
    rr_head(m, 12, 1, (unsigned)t.n);
    size_t example_at = m->n + 6; /* after "\5first" */
    put(m, t.b, t.n);
    rr_head(m, 12, 1, 7);
    put8(m, 4);
    put(m, "host", 4);
    put16(m, 0xc000 | (unsigned)example_at);
}

static void b_label_type_01(msgb_t *m)
{
    header(m, 0x8180, 1, 1);
    question(m, QNAME, 12);
    rr_head(m, 12, 1, 3);
    put8(m, 0x41);
    put8(m, 'x');
    put8(m, 0);
}

/* A target of exactly wire_len octets: 63-byte labels, then a shorter one. */
static void long_target(msgb_t *m, size_t wire_len)
{
    header(m, 0x8180, 1, 1);
    question(m, QNAME, 12);
    rr_head(m, 12, 1, (unsigned)wire_len);
    size_t left = wire_len - 1; /* the root byte */
    while (left > 0) {
        size_t l = left - 1 > 63 ? 63 : left - 1;
        assert_true(l > 0);
        put8(m, (unsigned)l);
        for (size_t i = 0; i < l; i++)
            put8(m, 'a' + (unsigned)(i % 26));
        left -= l + 1;
    }
    put8(m, 0);
}

static void b_name_255(msgb_t *m)
{
    long_target(m, 255);
}
static void b_name_256(msgb_t *m)
{
    long_target(m, 256);
}

static void b_escapes(msgb_t *m)
{
    header(m, 0x8180, 1, 1);
    question(m, QNAME, 12);
    static const uint8_t target[] = {10,  'a', '.', 'b', '\\', 'c', ' ', 'd', 0x00, 0xff,
                                     'e', 7,   'e', 'x', 'a',  'm', 'p', 'l', 'e',  0};
    rr_head(m, 12, 1, sizeof target);
    put(m, target, sizeof target);
}

static void b_root_target(msgb_t *m)
{
    const char *t[] = {""};
    reply_with(m, 1, t);
}

static void b_class_chaos_only(msgb_t *m)
{
    header(m, 0x8180, 1, 1);
    question(m, QNAME, 12);
    msgb_t t = {.n = 0};
    put_name(&t, "chaos.example");
    rr_head(m, 12, 3, (unsigned)t.n);
    put(m, t.b, t.n);
}

static void b_a_then_ptr(msgb_t *m)
{
    header(m, 0x8180, 1, 2);
    question(m, QNAME, 12);
    rr_head(m, 1, 1, 4);
    put(m, "\x7f\x00\x00\x01", 4);
    ptr_rr(m, "after-a.example");
}

static const parse_case_t parse_cases[] = {
    {"single PTR", b_single, SN_RDNS_OK, 1, {"host.example"}},
    {"two PTRs in answer order", b_two, SN_RDNS_OK, 2, {"one.example", "two.example"}},
    {"owner differs in case only", b_owner_mixed_case, SN_RDNS_OK, 1, {"mixed.example"}},
    {"CNAME chain (RFC 2317)", b_cname_chain, SN_RDNS_OK, 1, {"classless.example"}},
    {"PTR of another owner", b_ptr_of_other_owner, SN_RDNS_NODATA, 0, {NULL}},
    {"NXDOMAIN", b_rcode3, SN_RDNS_NXDOMAIN, 0, {NULL}},
    {"SERVFAIL", b_rcode2, SN_RDNS_SERVFAIL, 0, {NULL}},
    {"REFUSED", b_rcode5, SN_RDNS_REFUSED, 0, {NULL}},
    {"FORMERR", b_rcode1, SN_RDNS_BADRESP, 0, {NULL}},
    {"NOTIMP", b_rcode4, SN_RDNS_ERROR, 0, {NULL}},
    {"NOERROR, empty answer", b_empty_noerror, SN_RDNS_NODATA, 0, {NULL}},
    {"QR clear", b_not_response, SN_RDNS_BADRESP, 0, {NULL}},
    {"opcode STATUS", b_opcode_status, SN_RDNS_BADRESP, 0, {NULL}},
    {"no question", b_no_question, SN_RDNS_BADRESP, 0, {NULL}},
    {"question for another name", b_other_question, SN_RDNS_BADRESP, 0, {NULL}},
    {"question of type A", b_question_type_a, SN_RDNS_BADRESP, 0, {NULL}},
    {"11-byte header", b_short_header, SN_RDNS_BADRESP, 0, {NULL}},
    {"last byte cut", b_cut_last_byte, SN_RDNS_BADRESP, 0, {NULL}},
    {"ANCOUNT beyond the message", b_ancount_too_big, SN_RDNS_BADRESP, 0, {NULL}},
    {"junk after the name in RDATA", b_rdata_trailing_junk, SN_RDNS_BADRESP, 0, {NULL}},
    {"name runs past its RDATA", b_rdata_name_overruns, SN_RDNS_BADRESP, 0, {NULL}},
    {"pointer to itself", b_pointer_to_itself, SN_RDNS_BADRESP, 0, {NULL}},
    {"two-step pointer loop", b_pointer_loop_two, SN_RDNS_BADRESP, 0, {NULL}},
    {"forward pointer", b_forward_pointer, SN_RDNS_BADRESP, 0, {NULL}},
    {"backward pointer chain",
     b_pointer_chain_backwards,
     SN_RDNS_OK,
     2,
     {"first.example", "host.example"}},
    {"label type 01", b_label_type_01, SN_RDNS_BADRESP, 0, {NULL}},
    {"256-octet name", b_name_256, SN_RDNS_BADRESP, 0, {NULL}},
    {"escaped octets", b_escapes, SN_RDNS_OK, 1, {"a\\.b\\\\c\\032d\\000\\255e.example"}},
    {"root target", b_root_target, SN_RDNS_OK, 1, {"."}},
    {"PTR of class CH only", b_class_chaos_only, SN_RDNS_NODATA, 0, {NULL}},
    {"A record before the PTR", b_a_then_ptr, SN_RDNS_OK, 1, {"after-a.example"}},
};

static void test_parse_reply_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const parse_case_t *c = &parse_cases[i];
        msgb_t m = {.n = 0};
        char **names = (char **)1;
        size_t n = 99;
        c->build(&m);
        sn_rdns_status_t st = sn_rdns_parse_reply(m.b, m.n, QNAME, &names, &n);
        if (st != c->status)
            fail_msg("%s: status %s, expected %s", c->label, sn_rdns_status_name(st),
                     sn_rdns_status_name(c->status));
        if (n != c->n_names)
            fail_msg("%s: %zu names, expected %zu", c->label, n, c->n_names);
        if (n == 0)
            assert_null(names);
        for (size_t k = 0; k < n; k++)
            if (strcmp(names[k], c->names[k]) != 0)
                fail_msg("%s: name %zu is \"%s\", expected \"%s\"", c->label, k, names[k],
                         c->names[k]);
        free(names);
    }
}

static void test_parse_reply_255_octet_name_is_valid_hostname(void **state)
{
    (void)state;
    msgb_t m = {.n = 0};
    char **names;
    size_t n;
    b_name_255(&m);
    assert_int_equal(sn_rdns_parse_reply(m.b, m.n, QNAME, &names, &n), SN_RDNS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(strlen(names[0]), 253);
    assert_true(sn_hostname_valid(names[0]));
    free(names);
}

static void test_parse_reply_caps_names_at_max(void **state)
{
    (void)state;
    const char *t[40];
    char buf[40][32];
    for (int i = 0; i < 40; i++) {
        snprintf(buf[i], sizeof buf[i], "n%d.example", i);
        t[i] = buf[i];
    }
    msgb_t m = {.n = 0};
    reply_with(&m, 40, t);
    char **names;
    size_t n;
    assert_int_equal(sn_rdns_parse_reply(m.b, m.n, QNAME, &names, &n), SN_RDNS_OK);
    assert_int_equal(n, SN_RDNS_MAX_NAMES);
    assert_string_equal(names[0], "n0.example");
    assert_string_equal(names[SN_RDNS_MAX_NAMES - 1], "n31.example");
    free(names);
}

static void test_parse_reply_rejects_null_and_bad_qname(void **state)
{
    (void)state;
    msgb_t m = {.n = 0};
    char **names;
    size_t n;
    b_single(&m);
    assert_int_equal(sn_rdns_parse_reply(NULL, 0, QNAME, &names, &n), SN_RDNS_BADRESP);
    assert_int_equal(sn_rdns_parse_reply(m.b, m.n, "a..b", &names, &n), SN_RDNS_ERROR);
    assert_int_equal(sn_rdns_parse_reply(m.b, m.n, NULL, &names, &n), SN_RDNS_ERROR);
    assert_null(names);
    assert_int_equal(n, 0);
}

/* ------------------------------------------------------------------------ */
/* Creating the resolver                                                     */

static void test_new_rejects_bad_server_strings(void **state)
{
    (void)state;
    const char *bad[] = {
        "",          "localhost", "127.0.0.1:",      "127.0.0.1:0", "127.0.0.1:65536",
        "010.0.0.1", "127.1",     "1.2.3.4:053x",    "[::1]:x",     "[127.0.0.1]:53",
        "[::1",      "::1]:53",   "127.0.0.1:53:53", " 127.0.0.1",
    };
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *servers[] = {"127.0.0.1:53", bad[i]};
        sn_rdns_opts_t o = {.servers = servers, .n_servers = 2};
        sn_rdns_t *r = (sn_rdns_t *)1;
        sn_error_t err = {{0}};
        sn_status_t st = sn_rdns_new(&loop, &o, &r, &err);
        if (st != SN_EINVAL)
            fail_msg("server \"%s\" accepted (status %d)", bad[i], st);
        assert_null(r);
        assert_non_null(strstr(err.msg, "DNS server"));
    }
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_new_accepts_server_forms_and_closes_cleanly(void **state)
{
    (void)state;
    const char *servers[] = {"127.0.0.1", "127.0.0.1:5353", "::1", "[::1]", "[::1]:5353"};
    sn_rdns_opts_t o = {.servers = servers, .n_servers = 5};
    uv_loop_t loop;
    sn_rdns_t *r = NULL;
    sn_error_t err = {{0}};
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(sn_rdns_new(&loop, &o, &r, &err), SN_OK);
    assert_non_null(r);
    assert_int_equal(sn_rdns_pending(r), 0);
    sn_rdns_close(r);
    sn_rdns_close(NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ------------------------------------------------------------------------ */
/* Lookup results                                                            */

typedef struct result {
    int calls;
    sn_rdns_status_t st;
    sn_addr_t addr;
    size_t n;
    char names[SN_RDNS_MAX_NAMES][1100];
} result_t;

static void on_result(void *ud, const sn_addr_t *addr, sn_rdns_status_t st,
                      const char *const *names, size_t n)
{
    result_t *res = ud;
    res->calls++;
    res->st = st;
    res->addr = *addr;
    res->n = n;
    if (n > 0)
        assert_non_null(names);
    else
        assert_null(names);
    for (size_t i = 0; i < n && i < SN_RDNS_MAX_NAMES; i++)
        snprintf(res->names[i], sizeof res->names[i], "%s", names[i]);
}

/* Sorted copy of a result's names, for comparing sets. */
static void sorted_names(result_t *res, const char **out)
{
    for (size_t i = 0; i < res->n; i++)
        out[i] = res->names[i];
    qsort(out, res->n, sizeof *out, cmp_str);
}

/* ------------------------------------------------------------------------ */
/* Tiny UDP responder on the test loop                                       */

typedef enum { RESP_REPLY, RESP_SILENT, RESP_HOLD } resp_mode_t;

typedef size_t (*reply_fn)(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap);

typedef struct held {
    uint8_t q[512];
    size_t len;
    struct sockaddr_storage from;
} held_t;

typedef struct responder {
    uv_udp_t udp;
    uint16_t port;
    resp_mode_t mode;
    reply_fn make;
    int received;
    held_t held[64];
    int n_held;
    uint8_t rbuf[2048];
} responder_t;

static void resp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    responder_t *rs = h->data;
    (void)hint;
    *buf = uv_buf_init((char *)rs->rbuf, sizeof rs->rbuf);
}

static void resp_send(responder_t *rs, const uint8_t *q, size_t qlen, const struct sockaddr *to)
{
    uint8_t out[4096];
    size_t n = rs->make(q, qlen, out, sizeof out);
    if (n == 0)
        return;
    uv_buf_t b = uv_buf_init((char *)out, (unsigned)n);
    assert_int_equal(uv_udp_try_send(&rs->udp, &b, 1, to), (int)n);
}

static void resp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                      unsigned flags)
{
    responder_t *rs = h->data;
    (void)flags;
    if (nread <= 0 || from == NULL)
        return;
    rs->received++;
    if (rs->mode == RESP_SILENT)
        return;
    if (rs->mode == RESP_HOLD) {
        assert_true(rs->n_held < 64);
        held_t *hd = &rs->held[rs->n_held++];
        hd->len = (size_t)nread < sizeof hd->q ? (size_t)nread : sizeof hd->q;
        memcpy(hd->q, buf->base, hd->len);
        memcpy(&hd->from, from, sizeof(struct sockaddr_in));
        return;
    }
    resp_send(rs, (const uint8_t *)buf->base, (size_t)nread, from);
}

static void responder_start(uv_loop_t *loop, responder_t *rs, resp_mode_t mode, reply_fn make)
{
    struct sockaddr_in sa;
    int len = sizeof sa;
    memset(rs, 0, sizeof *rs);
    rs->mode = mode;
    rs->make = make;
    assert_int_equal(uv_udp_init(loop, &rs->udp), 0);
    rs->udp.data = rs;
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
    assert_int_equal(uv_udp_bind(&rs->udp, (const struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_udp_getsockname(&rs->udp, (struct sockaddr *)&sa, &len), 0);
    rs->port = ntohs(sa.sin_port);
    assert_int_equal(uv_udp_recv_start(&rs->udp, resp_alloc, resp_recv), 0);
    uv_unref((uv_handle_t *)&rs->udp); /* the resolver keeps the loop alive */
}

/* Replies to the first n held queries, in arrival order. */
static void responder_release(responder_t *rs, int n)
{
    assert_true(n <= rs->n_held);
    for (int i = 0; i < n; i++)
        resp_send(rs, rs->held[i].q, rs->held[i].len, (struct sockaddr *)&rs->held[i].from);
    memmove(rs->held, rs->held + n, (size_t)(rs->n_held - n) * sizeof rs->held[0]);
    rs->n_held -= n;
}

static void responder_close(responder_t *rs)
{
    uv_close((uv_handle_t *)&rs->udp, NULL);
}

/* Length of the header plus question of a query, or 0. */
static size_t query_head_len(const uint8_t *q, size_t qlen)
{
    size_t p = 12;
    while (p < qlen && q[p] != 0)
        p += (size_t)q[p] + 1;
    p += 5;
    return p <= qlen ? p : 0;
}

/* Starts a reply: the query's id and question, the given flags and ANCOUNT. */
static size_t reply_head(const uint8_t *q, size_t qlen, uint8_t *out, unsigned flags, unsigned an)
{
    size_t hl = query_head_len(q, qlen);
    assert_true(hl > 12);
    memcpy(out, q, hl);
    out[2] = (uint8_t)(flags >> 8);
    out[3] = (uint8_t)flags;
    out[4] = 0;
    out[5] = 1;
    out[6] = (uint8_t)(an >> 8);
    out[7] = (uint8_t)an;
    memset(out + 8, 0, 4);
    return hl;
}

/* Appends a PTR RR owned by the question with raw wire RDATA. */
static size_t add_ptr(uint8_t *out, size_t n, const uint8_t *rdata, size_t rdlen)
{
    static const uint8_t head[] = {0xc0, 0x0c, 0, 12, 0, 1, 0, 0, 0, 60};
    memcpy(out + n, head, sizeof head);
    n += sizeof head;
    out[n++] = (uint8_t)(rdlen >> 8);
    out[n++] = (uint8_t)rdlen;
    memcpy(out + n, rdata, rdlen);
    return n + rdlen;
}

static size_t r_servfail(const uint8_t *q, size_t ql, uint8_t *o, size_t c)
{
    (void)c;
    return reply_head(q, ql, o, 0x8182, 0);
}

static size_t r_refused(const uint8_t *q, size_t ql, uint8_t *o, size_t c)
{
    (void)c;
    return reply_head(q, ql, o, 0x8185, 0);
}

static size_t r_formerr(const uint8_t *q, size_t ql, uint8_t *o, size_t c)
{
    (void)c;
    return reply_head(q, ql, o, 0x8181, 0);
}

static size_t r_notimp(const uint8_t *q, size_t ql, uint8_t *o, size_t c)
{
    (void)c;
    return reply_head(q, ql, o, 0x8184, 0);
}

static size_t r_truncated_answer(const uint8_t *q, size_t ql, uint8_t *o, size_t c)
{
    (void)c;
    static const uint8_t rd[] = {4, 'h', 'o', 's', 't', 0};
    size_t n = add_ptr(o, reply_head(q, ql, o, 0x8180, 1), rd, sizeof rd);
    return n - 3; /* cut inside the RDATA */
}

static size_t r_overlong_name(const uint8_t *q, size_t ql, uint8_t *o, size_t c)
{
    (void)c;
    uint8_t rd[300];
    size_t k = 0;
    for (int l = 0; l < 4; l++) { /* 4 x 64 = 256 octets before the root */
        rd[k++] = 63;
        memset(rd + k, 'x', 63);
        k += 63;
    }
    rd[k++] = 0;
    return add_ptr(o, reply_head(q, ql, o, 0x8180, 1), rd, k);
}

static size_t r_name_253(const uint8_t *q, size_t ql, uint8_t *o, size_t c)
{
    (void)c;
    uint8_t rd[300];
    size_t k = 0;
    for (int l = 0; l < 3; l++) {
        rd[k++] = 63;
        memset(rd + k, 'a' + l, 63);
        k += 63;
    }
    rd[k++] = 61;
    memset(rd + k, 'd', 61);
    k += 61;
    rd[k++] = 0;
    return add_ptr(o, reply_head(q, ql, o, 0x8180, 1), rd, k);
}

static size_t r_dot_and_space(const uint8_t *q, size_t ql, uint8_t *o, size_t c)
{
    (void)c;
    static const uint8_t rd[] = {5,   'a', '.', 'b', ' ', 'c', 7, 'e',
                                 'x', 'a', 'm', 'p', 'l', 'e', 0};
    return add_ptr(o, reply_head(q, ql, o, 0x8180, 1), rd, sizeof rd);
}

static size_t r_other_question(const uint8_t *q, size_t ql, uint8_t *o, size_t c)
{
    (void)c;
    size_t n = reply_head(q, ql, o, 0x8180, 1);
    o[13] = o[13] == '9' ? '8' : '9'; /* first label of the question */
    static const uint8_t rd[] = {4, 'h', 'o', 's', 't', 0};
    return add_ptr(o, n, rd, sizeof rd);
}

static size_t r_pointer_loop(const uint8_t *q, size_t ql, uint8_t *o, size_t c)
{
    (void)c;
    size_t n = reply_head(q, ql, o, 0x8180, 1);
    size_t at = n + 12; /* where the RDATA starts */
    uint8_t rd[4] = {1, 'a', (uint8_t)(0xc0 | at >> 8), (uint8_t)at};
    return add_ptr(o, n, rd, sizeof rd);
}

static size_t r_ok(const uint8_t *q, size_t ql, uint8_t *o, size_t c)
{
    (void)c;
    static const uint8_t rd[] = {4, 'h', 'e', 'l', 'd', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
    return add_ptr(o, reply_head(q, ql, o, 0x8180, 1), rd, sizeof rd);
}

static sn_rdns_t *new_rdns(uv_loop_t *loop, uint16_t port, unsigned timeout_ms, unsigned tries,
                           size_t max_inflight)
{
    char server[32];
    const char *servers[] = {server};
    snprintf(server, sizeof server, "127.0.0.1:%u", port);
    sn_rdns_opts_t o = {.servers = servers,
                        .n_servers = 1,
                        .timeout_ms = timeout_ms,
                        .tries = tries,
                        .max_inflight = max_inflight};
    sn_rdns_t *r = NULL;
    sn_error_t err = {{0}};
    if (sn_rdns_new(loop, &o, &r, &err) != SN_OK)
        fail_msg("sn_rdns_new: %s", err.msg);
    return r;
}

static void finish_loop(uv_loop_t *loop, sn_rdns_t *r, responder_t *rs)
{
    sn_rdns_close(r);
    if (rs != NULL)
        responder_close(rs);
    assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(loop), 0);
}

typedef struct responder_case {
    const char *label;
    reply_fn make;
    sn_rdns_status_t status;
    const char *name; /* expected single name, or NULL */
    bool valid;
} responder_case_t;

static void test_lookup_classifies_crafted_replies(void **state)
{
    (void)state;
    static char n253[254];
    snprintf(n253, sizeof n253, "%.63s.%.63s.%.63s.%.61s",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
             "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
             "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
             "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
    const responder_case_t cases[] = {
        {"SERVFAIL", r_servfail, SN_RDNS_SERVFAIL, NULL, false},
        {"REFUSED", r_refused, SN_RDNS_REFUSED, NULL, false},
        {"FORMERR", r_formerr, SN_RDNS_BADRESP, NULL, false},
        {"NOTIMP", r_notimp, SN_RDNS_ERROR, NULL, false},
        {"answer cut short", r_truncated_answer, SN_RDNS_BADRESP, NULL, false},
        {"256-octet name", r_overlong_name, SN_RDNS_BADRESP, NULL, false},
        /* c-ares drops a reply whose question differs (a spoofing guard) and
         * waits for the real one. */
        {"question for another name", r_other_question, SN_RDNS_TIMEOUT, NULL, false},
        {"pointer loop", r_pointer_loop, SN_RDNS_BADRESP, NULL, false},
        {"253-character name", r_name_253, SN_RDNS_OK, n253, true},
        {"dot and space in a label", r_dot_and_space, SN_RDNS_OK, "a\\.b\\032c.example", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uv_loop_t loop;
        responder_t rs;
        result_t res;
        memset(&res, 0, sizeof res);
        assert_int_equal(uv_loop_init(&loop), 0);
        responder_start(&loop, &rs, RESP_REPLY, cases[i].make);
        sn_rdns_t *r = new_rdns(&loop, rs.port, 100, 1, 10);
        sn_addr_t a = ip("127.9.9.9");
        assert_int_equal(sn_rdns_lookup(r, &a, on_result, &res), SN_OK);
        assert_int_equal(res.calls, 0); /* never from inside sn_rdns_lookup */
        assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
        if (res.calls != 1 || res.st != cases[i].status)
            fail_msg("%s: %d calls, status %s, expected %s", cases[i].label, res.calls,
                     sn_rdns_status_name(res.st), sn_rdns_status_name(cases[i].status));
        assert_true(sn_addr_same_ip(&res.addr, &a));
        if (cases[i].name != NULL) {
            assert_int_equal(res.n, 1);
            assert_string_equal(res.names[0], cases[i].name);
            assert_int_equal(sn_hostname_valid(res.names[0]), cases[i].valid);
        } else {
            assert_int_equal(res.n, 0);
        }
        assert_int_equal(rs.received, 1);
        finish_loop(&loop, r, &rs);
    }
}

static void test_lookup_times_out_after_all_tries(void **state)
{
    (void)state;
    uv_loop_t loop;
    responder_t rs;
    result_t res;
    memset(&res, 0, sizeof res);
    assert_int_equal(uv_loop_init(&loop), 0);
    responder_start(&loop, &rs, RESP_SILENT, NULL);
    sn_rdns_t *r = new_rdns(&loop, rs.port, 40, 3, 10);
    sn_addr_t a = ip("127.9.9.8");
    assert_int_equal(sn_rdns_lookup(r, &a, on_result, &res), SN_OK);
    assert_int_equal(sn_rdns_pending(r), 1);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.st, SN_RDNS_TIMEOUT);
    assert_int_equal(rs.received, 3); /* one send per try */
    assert_int_equal(sn_rdns_pending(r), 0);
    finish_loop(&loop, r, &rs);
}

static void count_trip(void *ud, unsigned timeouts, unsigned backoff_ms)
{
    int *trips = ud;
    (*trips)++;
    assert_int_equal(timeouts, 3);
    assert_true(backoff_ms >= 1000);
}

/* A dead server costs the breaker's few lookups, not every lookup's whole
 * bounded time: after 3 timeouts in a row the rest are timeouts at once,
 * and the server sees no more queries. */
static void test_breaker_opens_after_consecutive_timeouts(void **state)
{
    (void)state;
    enum { N = 30 };
    uv_loop_t loop;
    responder_t rs;
    static result_t res[N];
    memset(res, 0, sizeof res);
    int trips = 0;
    assert_int_equal(uv_loop_init(&loop), 0);
    responder_start(&loop, &rs, RESP_SILENT, NULL);
    char server[32];
    const char *servers[] = {server};
    snprintf(server, sizeof server, "127.0.0.1:%u", rs.port);
    sn_rdns_opts_t o = {.servers = servers,
                        .n_servers = 1,
                        .timeout_ms = 30,
                        .tries = 1,
                        .max_inflight = 1,
                        .breaker_timeouts = 3,
                        .on_trip = count_trip,
                        .trip_ud = &trips};
    sn_rdns_t *r = NULL;
    sn_error_t err = {{0}};
    assert_int_equal(sn_rdns_new(&loop, &o, &r, &err), SN_OK);
    for (int i = 0; i < N; i++) {
        char a[32];
        snprintf(a, sizeof a, "127.9.%d.1", i);
        sn_addr_t addr = ip(a);
        assert_int_equal(sn_rdns_lookup(r, &addr, on_result, &res[i]), SN_OK);
    }
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(res[i].calls, 1);
        assert_int_equal(res[i].st, SN_RDNS_TIMEOUT);
    }
    assert_int_equal(trips, 1);
    assert_int_equal(rs.received, 3);
    assert_int_equal(sn_rdns_short_circuited(r), N - 3);
    finish_loop(&loop, r, &rs);
}

/* A port with nothing bound: the kernel answers with ICMP port unreachable. */
static uint16_t dead_udp_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void test_lookup_to_closed_port_is_error(void **state)
{
    (void)state;
    uv_loop_t loop;
    result_t res;
    memset(&res, 0, sizeof res);
    assert_int_equal(uv_loop_init(&loop), 0);
    sn_rdns_t *r = new_rdns(&loop, dead_udp_port(), 2000, 2, 10);
    sn_addr_t a = ip("127.9.9.7");
    assert_int_equal(sn_rdns_lookup(r, &a, on_result, &res), SN_OK);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.st, SN_RDNS_ERROR);
    finish_loop(&loop, r, NULL);
}

static void test_lookup_rejects_bad_arguments_without_callback(void **state)
{
    (void)state;
    uv_loop_t loop;
    result_t res;
    memset(&res, 0, sizeof res);
    assert_int_equal(uv_loop_init(&loop), 0);
    sn_rdns_t *r = new_rdns(&loop, 53, 100, 1, 10);
    sn_addr_t none;
    memset(&none, 0, sizeof none);
    sn_addr_t a = ip("127.0.0.1");
    assert_int_equal(sn_rdns_lookup(r, &none, on_result, &res), SN_EINVAL);
    assert_int_equal(sn_rdns_lookup(r, NULL, on_result, &res), SN_EINVAL);
    assert_int_equal(sn_rdns_lookup(r, &a, NULL, &res), SN_EINVAL);
    assert_int_equal(sn_rdns_lookup(NULL, &a, on_result, &res), SN_EINVAL);
    assert_int_equal(sn_rdns_pending(r), 0);
    sn_rdns_close(r);
    /* Closing but not yet freed: new lookups are refused. */
    assert_int_equal(sn_rdns_lookup(r, &a, on_result, &res), SN_EINVAL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(res.calls, 0);
}

static void test_lookup_queue_cap_returns_limit(void **state)
{
    (void)state;
    uv_loop_t loop;
    result_t res[3];
    memset(res, 0, sizeof res);
    assert_int_equal(uv_loop_init(&loop), 0);
    responder_t rs;
    responder_start(&loop, &rs, RESP_REPLY, r_ok);
    char server[32];
    snprintf(server, sizeof server, "127.0.0.1:%u", rs.port);
    const char *servers[] = {server};
    sn_rdns_opts_t o = {.servers = servers, .n_servers = 1, .max_queued = 2};
    sn_rdns_t *r = NULL;
    assert_int_equal(sn_rdns_new(&loop, &o, &r, NULL), SN_OK);
    sn_addr_t a = ip("127.9.9.6");
    assert_int_equal(sn_rdns_lookup(r, &a, on_result, &res[0]), SN_OK);
    assert_int_equal(sn_rdns_lookup(r, &a, on_result, &res[1]), SN_OK);
    assert_int_equal(sn_rdns_lookup(r, &a, on_result, &res[2]), SN_ELIMIT);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(res[0].calls, 1);
    assert_int_equal(res[1].calls, 1);
    assert_int_equal(res[2].calls, 0);
    assert_int_equal(res[0].st, SN_RDNS_OK);
    finish_loop(&loop, r, &rs);
}

/* Runs a few non-blocking loop turns: enough for loopback UDP to land. */
static void turn(uv_loop_t *loop, int n)
{
    for (int i = 0; i < n; i++)
        uv_run(loop, UV_RUN_NOWAIT);
}

static void test_lookup_never_exceeds_max_inflight(void **state)
{
    (void)state;
    uv_loop_t loop;
    responder_t rs;
    result_t res[10];
    memset(res, 0, sizeof res);
    assert_int_equal(uv_loop_init(&loop), 0);
    responder_start(&loop, &rs, RESP_HOLD, r_ok);
    sn_rdns_t *r = new_rdns(&loop, rs.port, 5000, 1, 3);
    char buf[32];
    for (int i = 0; i < 10; i++) {
        snprintf(buf, sizeof buf, "127.9.8.%d", i + 1);
        sn_addr_t a = ip(buf);
        assert_int_equal(sn_rdns_lookup(r, &a, on_result, &res[i]), SN_OK);
    }
    assert_int_equal(sn_rdns_pending(r), 10);
    int done = 0;
    for (int round = 0; round < 4; round++) {
        turn(&loop, 8);
        int expect = 10 - done < 3 ? 10 - done : 3;
        assert_int_equal(rs.n_held, expect); /* no more than max_inflight sent */
        assert_int_equal(sn_rdns_pending(r), (size_t)(10 - done));
        responder_release(&rs, rs.n_held);
        turn(&loop, 8);
        done += expect;
        int calls = 0;
        for (int i = 0; i < 10; i++)
            calls += res[i].calls;
        assert_int_equal(calls, done);
    }
    for (int i = 0; i < 10; i++) {
        assert_int_equal(res[i].calls, 1);
        assert_int_equal(res[i].st, SN_RDNS_OK);
        assert_string_equal(res[i].names[0], "held.example");
    }
    assert_int_equal(rs.received, 10);
    finish_loop(&loop, r, &rs);
}

static void test_close_cancels_queued_and_inflight_once(void **state)
{
    (void)state;
    uv_loop_t loop;
    responder_t rs;
    result_t res[5];
    memset(res, 0, sizeof res);
    assert_int_equal(uv_loop_init(&loop), 0);
    responder_start(&loop, &rs, RESP_SILENT, NULL);
    sn_rdns_t *r = new_rdns(&loop, rs.port, 5000, 1, 2);
    sn_addr_t a = ip("127.9.7.1");
    for (int i = 0; i < 5; i++)
        assert_int_equal(sn_rdns_lookup(r, &a, on_result, &res[i]), SN_OK);
    turn(&loop, 8);
    assert_int_equal(rs.received, 2);
    sn_rdns_close(r);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(res[i].calls, 1);
        assert_int_equal(res[i].st, SN_RDNS_CANCELLED);
        assert_int_equal(res[i].n, 0);
    }
    responder_close(&rs);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(res[i].calls, 1);
}

typedef struct closer {
    sn_rdns_t *r;
    result_t res[5];
} closer_t;

static void on_result_then_close(void *ud, const sn_addr_t *addr, sn_rdns_status_t st,
                                 const char *const *names, size_t n)
{
    closer_t *c = ud;
    on_result(&c->res[0], addr, st, names, n);
    sn_rdns_close(c->r);
    sn_rdns_close(c->r); /* a second call is a no-op */
}

static void test_close_inside_callback_cancels_the_rest(void **state)
{
    (void)state;
    uv_loop_t loop;
    responder_t rs;
    closer_t c;
    memset(&c, 0, sizeof c);
    assert_int_equal(uv_loop_init(&loop), 0);
    responder_start(&loop, &rs, RESP_HOLD, r_ok);
    c.r = new_rdns(&loop, rs.port, 5000, 1, 3);
    sn_addr_t a = ip("127.9.7.2");
    assert_int_equal(sn_rdns_lookup(c.r, &a, on_result_then_close, &c), SN_OK);
    for (int i = 1; i < 5; i++)
        assert_int_equal(sn_rdns_lookup(c.r, &a, on_result, &c.res[i]), SN_OK);
    turn(&loop, 8);
    assert_int_equal(rs.n_held, 3);
    responder_release(&rs, 1);
    turn(&loop, 8);
    assert_int_equal(c.res[0].calls, 1);
    assert_int_equal(c.res[0].st, SN_RDNS_OK);
    for (int i = 1; i < 5; i++) {
        assert_int_equal(c.res[i].calls, 1);
        assert_int_equal(c.res[i].st, SN_RDNS_CANCELLED);
    }
    responder_close(&rs);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

typedef struct chainer {
    sn_rdns_t *r;
    result_t first, second;
} chainer_t;

static void on_second(void *ud, const sn_addr_t *addr, sn_rdns_status_t st,
                      const char *const *names, size_t n)
{
    on_result(&((chainer_t *)ud)->second, addr, st, names, n);
}

static void on_first_then_lookup(void *ud, const sn_addr_t *addr, sn_rdns_status_t st,
                                 const char *const *names, size_t n)
{
    chainer_t *c = ud;
    on_result(&c->first, addr, st, names, n);
    sn_addr_t b = ip("127.9.6.2");
    assert_int_equal(sn_rdns_lookup(c->r, &b, on_second, c), SN_OK);
}

static void test_lookup_from_inside_callback_completes(void **state)
{
    (void)state;
    uv_loop_t loop;
    responder_t rs;
    chainer_t c;
    memset(&c, 0, sizeof c);
    assert_int_equal(uv_loop_init(&loop), 0);
    responder_start(&loop, &rs, RESP_REPLY, r_ok);
    c.r = new_rdns(&loop, rs.port, 1000, 1, 1);
    sn_addr_t a = ip("127.9.6.1");
    assert_int_equal(sn_rdns_lookup(c.r, &a, on_first_then_lookup, &c), SN_OK);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(c.first.calls, 1);
    assert_int_equal(c.second.calls, 1);
    assert_int_equal(c.second.st, SN_RDNS_OK);
    sn_addr_t b = ip("127.9.6.2");
    assert_true(sn_addr_same_ip(&c.second.addr, &b));
    assert_int_equal(rs.received, 2);
    finish_loop(&loop, c.r, &rs);
}

/* ------------------------------------------------------------------------ */
/* Real servers: dnsmasq (and unbound) on loopback                           */

static const char *find_exe(const char *name)
{
    static char path[256];
    const char *dirs[] = {"/usr/sbin", "/sbin",           "/usr/bin",
                          "/bin",      "/usr/local/sbin", "/usr/local/bin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dirs[i], name);
        if (access(path, X_OK) == 0)
            return path;
    }
    return NULL;
}

/* A port free for both UDP and TCP on 127.0.0.1, found by binding port 0. */
static uint16_t free_port(void)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        uint16_t port = dead_udp_port();
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons(port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        close(fd);
        if (ok)
            return port;
    }
    fail_msg("no free port");
    return 0;
}

static pid_t spawn(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

static void stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

/*
 * Waits until a DNS server on port answers anything, polling with a query
 * (the server needs a moment to bind). False if the process died or 10 s
 * passed.
 */
static bool wait_ready(pid_t pid, uint16_t port)
{
    static const uint8_t q[] = {0xab, 0xcd, 1, 0,   0,   1,   0,   0,   0, 0,   0,   0,   1,   '1',
                                1,    '1',  1, '1', 3,   '1', '2', '7', 7, 'i', 'n', '-', 'a', 'd',
                                'd',  'r',  4, 'a', 'r', 'p', 'a', 0,   0, 12,  0,   1};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    uint8_t buf[512];
    bool ready = false;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int i = 0; i < 100 && !ready; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            break;
        sendto(fd, q, sizeof q, 0, (struct sockaddr *)&sa, sizeof sa);
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        ready = n >= 12 && buf[0] == 0xab && buf[1] == 0xcd;
        if (n < 0 && errno == ECONNREFUSED)
            usleep(50000); /* not bound yet */
    }
    close(fd);
    return ready;
}

#define BENCH_N 2000

static struct {
    pid_t pid;
    uint16_t port;
    char hosts[64];
} dns;

static void bench_addr(int i, char *buf, size_t cap)
{
    snprintf(buf, cap, "127.10.%d.%d", i / 256, i % 256);
}

static int group_setup(void **state)
{
    (void)state;
    const char *exe = find_exe("dnsmasq");
    if (exe == NULL) {
        fprintf(stderr, "dnsmasq not installed: skipping tests against a real DNS server\n");
        return 0;
    }
    snprintf(dns.hosts, sizeof dns.hosts, "/tmp/sn_rdns_hosts_XXXXXX");
    int fd = mkstemp(dns.hosts);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    for (int i = 1; i <= BENCH_N; i++) {
        char a[32];
        bench_addr(i, a, sizeof a);
        fprintf(f, "%s h%d.bench.example\n", a, i);
    }
    fchmod(fd, 0644); /* dnsmasq reads it after dropping privileges */
    fclose(f);

    static char long_names[20][128];
    for (int attempt = 0; attempt < 5 && dns.pid <= 0; attempt++) {
        char port_opt[32], hosts_opt[96], log_opt[110], exe_copy[256];
        char *argv[80];
        int n = 0;
        dns.port = free_port();
        snprintf(port_opt, sizeof port_opt, "--port=%u", dns.port);
        snprintf(hosts_opt, sizeof hosts_opt, "--addn-hosts=%s", dns.hosts);
        /* dnsmasq hands its log file to the user it drops to: ours, never /dev/null. */
        snprintf(log_opt, sizeof log_opt, "--log-facility=%s.log", dns.hosts);
        snprintf(exe_copy, sizeof exe_copy, "%s", exe);
        argv[n++] = exe_copy;
        argv[n++] = port_opt;
        argv[n++] = "--listen-address=127.0.0.1";
        argv[n++] = "--bind-interfaces";
        argv[n++] = "--no-resolv";
        argv[n++] = "--no-hosts";
        argv[n++] = "--keep-in-foreground";
        argv[n++] = "--conf-file=/dev/null";
        argv[n++] = "--pid-file=";
        argv[n++] = log_opt;
        argv[n++] = hosts_opt;
        /* 127.1.2.0/24 is ours: unknown names there are NXDOMAIN. Names
         * elsewhere (127.1.3.x) have no server: dnsmasq answers REFUSED. */
        argv[n++] = "--local=/2.1.127.in-addr.arpa/";
        argv[n++] = "--ptr-record=3.2.1.127.in-addr.arpa,host-a.example";
        argv[n++] = "--ptr-record=4.2.1.127.in-addr.arpa,one.example";
        argv[n++] = "--ptr-record=4.2.1.127.in-addr.arpa,two.example";
        argv[n++] = "--ptr-record=4.2.1.127.in-addr.arpa,three.example";
        argv[n++] = "--ptr-record=5.2.1.127.in-addr.arpa,fine.example";
        argv[n++] = "--ptr-record=5.2.1.127.in-addr.arpa,=HYPERLINK(\"x\")";
        argv[n++] = "--ptr-record=5.2.1.127.in-addr.arpa,+plus.example";
        argv[n++] = "--ptr-record=5.2.1.127.in-addr.arpa,-minus.example";
        argv[n++] = "--ptr-record=5.2.1.127.in-addr.arpa,@at.example";
        argv[n++] = "--ptr-record=5.2.1.127.in-addr.arpa,<b>bold</b>.example";
        argv[n++] = "--ptr-record=5.2.1.127.in-addr.arpa,it's.example";
        argv[n++] = "--ptr-record=5.2.1.127.in-addr.arpa,a b.example";
        argv[n++] = "--ptr-record=5.2.1.127.in-addr.arpa,a\\b.example";
        argv[n++] = "--ptr-record=5.2.1.127.in-addr.arpa,under_score.example";
        argv[n++] = "--txt-record=6.2.1.127.in-addr.arpa,no ptr here";
        argv[n++] = "--cname=7.2.1.127.in-addr.arpa,7.0-63.2.1.127.in-addr.arpa";
        argv[n++] = "--ptr-record=7.0-63.2.1.127.in-addr.arpa,classless.example";
        argv[n++] = "--ptr-record=1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0."
                    "2.ip6.arpa,v6.example";
        for (int i = 0; i < 20; i++) {
            /* 20 x ~60 octets: over 512 bytes, so the answer comes over TCP. */
            snprintf(long_names[i], sizeof long_names[i],
                     "--ptr-record=8.2.1.127.in-addr.arpa,name-%02d-padding-padding-padding-"
                     "padding.long.example",
                     i);
            argv[n++] = long_names[i];
        }
        argv[n] = NULL;
        assert_true(n < 80);
        dns.pid = spawn(argv);
        if (dns.pid > 0 && !wait_ready(dns.pid, dns.port)) {
            stop(dns.pid);
            dns.pid = 0;
        }
    }
    if (dns.pid <= 0) {
        fprintf(stderr, "dnsmasq did not start: skipping tests against a real DNS server\n");
        dns.pid = 0;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    stop(dns.pid);
    if (dns.hosts[0] != '\0') {
        char log[80];
        snprintf(log, sizeof log, "%s.log", dns.hosts);
        unlink(dns.hosts);
        unlink(log);
    }
    return 0;
}

#define NEED_DNSMASQ()                                                                             \
    do {                                                                                           \
        if (dns.pid <= 0) {                                                                        \
            print_message("dnsmasq not available: skipped\n");                                     \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* Looks up one address against dnsmasq and returns the result. */
static void lookup_one(const char *addr, result_t *res)
{
    uv_loop_t loop;
    memset(res, 0, sizeof *res);
    assert_int_equal(uv_loop_init(&loop), 0);
    sn_rdns_t *r = new_rdns(&loop, dns.port, 2000, 2, 10);
    sn_addr_t a = ip(addr);
    assert_int_equal(sn_rdns_lookup(r, &a, on_result, res), SN_OK);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(res->calls, 1);
    assert_true(sn_addr_same_ip(&res->addr, &a));
    finish_loop(&loop, r, NULL);
}

static void test_dnsmasq_statuses_table(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    const struct {
        const char *addr;
        sn_rdns_status_t status;
        const char *name;
    } cases[] = {
        {"127.1.2.3", SN_RDNS_OK, "host-a.example"},
        {"127.1.2.7", SN_RDNS_OK, "classless.example"}, /* via CNAME */
        {"2001:db8::1", SN_RDNS_OK, "v6.example"},
        {"127.1.2.9", SN_RDNS_NXDOMAIN, NULL},
        {"127.1.2.6", SN_RDNS_NODATA, NULL},            /* TXT but no PTR */
        {"127.1.3.1", SN_RDNS_REFUSED, NULL},           /* no upstream for this zone */
        {"127.10.0.1", SN_RDNS_OK, "h1.bench.example"}, /* from the hosts file */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result_t res;
        lookup_one(cases[i].addr, &res);
        if (res.st != cases[i].status)
            fail_msg("%s: %s, expected %s", cases[i].addr, sn_rdns_status_name(res.st),
                     sn_rdns_status_name(cases[i].status));
        if (cases[i].name != NULL) {
            assert_int_equal(res.n, 1);
            assert_string_equal(res.names[0], cases[i].name);
            assert_true(sn_hostname_valid(res.names[0]));
        } else {
            assert_int_equal(res.n, 0);
        }
    }
}

static void test_dnsmasq_returns_every_ptr_name(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    result_t res;
    const char *got[SN_RDNS_MAX_NAMES];
    lookup_one("127.1.2.4", &res);
    assert_int_equal(res.st, SN_RDNS_OK);
    assert_int_equal(res.n, 3);
    sorted_names(&res, got);
    assert_string_equal(got[0], "one.example");
    assert_string_equal(got[1], "three.example");
    assert_string_equal(got[2], "two.example");
}

static void test_dnsmasq_large_answer_arrives_over_tcp(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    result_t res;
    const char *got[SN_RDNS_MAX_NAMES];
    lookup_one("127.1.2.8", &res);
    assert_int_equal(res.st, SN_RDNS_OK);
    assert_int_equal(res.n, 20);
    sorted_names(&res, got);
    for (int i = 0; i < 20; i++) {
        char want[96];
        snprintf(want, sizeof want, "name-%02d-padding-padding-padding-padding.long.example", i);
        assert_string_equal(got[i], want);
        assert_true(sn_hostname_valid(got[i]));
    }
}

static void test_dnsmasq_odd_names_kept_and_flagged_invalid(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    /* dnsmasq lowercases; bytes that break CSV or HTML arrive as they are,
     * a space as \032 and a backslash as "\\". */
    const char *want[] = {
        "+plus.example", "-minus.example",      "<b>bold</b>.example", "=hyperlink(\"x\")",
        "@at.example",   "a\\032b.example",     "a\\\\b.example",      "fine.example",
        "it's.example",  "under_score.example",
    };
    const size_t n_want = sizeof want / sizeof want[0];
    result_t res;
    const char *got[SN_RDNS_MAX_NAMES];
    lookup_one("127.1.2.5", &res);
    assert_int_equal(res.st, SN_RDNS_OK);
    assert_int_equal(res.n, n_want);
    sorted_names(&res, got);
    for (size_t i = 0; i < n_want; i++) {
        assert_string_equal(got[i], want[i]);
        assert_int_equal(sn_hostname_valid(got[i]), strcmp(want[i], "fine.example") == 0);
    }
}

static void test_failover_to_second_server_after_timeout(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    uv_loop_t loop;
    responder_t rs;
    result_t res;
    memset(&res, 0, sizeof res);
    assert_int_equal(uv_loop_init(&loop), 0);
    responder_start(&loop, &rs, RESP_SILENT, NULL);
    char s1[32], s2[32];
    snprintf(s1, sizeof s1, "127.0.0.1:%u", rs.port);
    snprintf(s2, sizeof s2, "127.0.0.1:%u", dns.port);
    const char *servers[] = {s1, s2};
    sn_rdns_opts_t o = {.servers = servers, .n_servers = 2, .timeout_ms = 40, .tries = 1};
    sn_rdns_t *r = NULL;
    assert_int_equal(sn_rdns_new(&loop, &o, &r, NULL), SN_OK);
    sn_addr_t a = ip("127.1.2.3");
    assert_int_equal(sn_rdns_lookup(r, &a, on_result, &res), SN_OK);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.st, SN_RDNS_OK);
    assert_string_equal(res.names[0], "host-a.example");
    assert_int_equal(rs.received, 1);
    finish_loop(&loop, r, &rs);
}

static void test_unbound_forwarding_to_refusing_server_gives_servfail(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    const char *exe = find_exe("unbound");
    if (exe == NULL) {
        print_message("unbound not installed: skipped\n");
        skip();
    }
    char dir[] = "/tmp/sn_rdns_unbound_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char conf[96];
    snprintf(conf, sizeof conf, "%s/unbound.conf", dir);
    uint16_t port = free_port();
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    /* Every zone forwards to loopback: "." to a dead port, 127.1.3.x to
     * dnsmasq, which refuses it; unbound turns that into SERVFAIL. */
    fprintf(f,
            "server:\n"
            "  interface: 127.0.0.1\n  port: %u\n  do-daemonize: no\n  username: \"\"\n"
            "  chroot: \"\"\n  directory: \"%s\"\n  pidfile: \"\"\n  use-syslog: no\n"
            "  logfile: \"\"\n  verbosity: 0\n  do-ip6: no\n"
            "  access-control: 127.0.0.0/8 allow\n  do-not-query-localhost: no\n"
            "  module-config: \"iterator\"\n"
            "  local-zone: \"127.in-addr.arpa.\" nodefault\n"
            "  local-zone: \"1.1.127.in-addr.arpa.\" static\n" /* for wait_ready */
            "forward-zone:\n  name: \".\"\n  forward-addr: 127.0.0.1@%u\n"
            "forward-zone:\n  name: \"3.1.127.in-addr.arpa.\"\n  forward-addr: 127.0.0.1@%u\n",
            port, dir, dead_udp_port(), dns.port);
    fclose(f);
    char exe_copy[256];
    snprintf(exe_copy, sizeof exe_copy, "%s", exe);
    char *argv[] = {exe_copy, "-d", "-c", conf, NULL};
    pid_t pid = spawn(argv);
    bool ready = pid > 0 && wait_ready(pid, port);

    result_t res;
    memset(&res, 0, sizeof res);
    if (ready) {
        uv_loop_t loop;
        assert_int_equal(uv_loop_init(&loop), 0);
        sn_rdns_t *r = new_rdns(&loop, port, 2000, 1, 10);
        sn_addr_t a = ip("127.1.3.2");
        assert_int_equal(sn_rdns_lookup(r, &a, on_result, &res), SN_OK);
        assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
        finish_loop(&loop, r, NULL);
    }
    stop(pid);
    unlink(conf);
    rmdir(dir);
    if (!ready) {
        print_message("unbound did not start: skipped\n");
        skip();
    }
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.st, SN_RDNS_SERVFAIL);
}

typedef struct bench {
    int done, ok;
} bench_t;

static void on_bench(void *ud, const sn_addr_t *addr, sn_rdns_status_t st, const char *const *names,
                     size_t n)
{
    bench_t *b = ud;
    b->done++;
    uint32_t v4 = sn_addr_v4(addr);
    int i = (int)((v4 >> 8 & 0xff) * 256 + (v4 & 0xff));
    char want[48];
    snprintf(want, sizeof want, "h%d.bench.example", i);
    if (st == SN_RDNS_OK && n == 1 && strcmp(names[0], want) == 0)
        b->ok++;
}

static void test_dnsmasq_2000_lookups_with_50_in_flight(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    uv_loop_t loop;
    bench_t b = {0, 0};
    assert_int_equal(uv_loop_init(&loop), 0);
    sn_rdns_t *r = new_rdns(&loop, dns.port, 2000, 3, 50);
    uint64_t t0 = uv_hrtime();
    for (int i = 1; i <= BENCH_N; i++) {
        char s[32];
        bench_addr(i, s, sizeof s);
        sn_addr_t a = ip(s);
        assert_int_equal(sn_rdns_lookup(r, &a, on_bench, &b), SN_OK);
    }
    assert_int_equal(sn_rdns_pending(r), BENCH_N);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    uint64_t ns = uv_hrtime() - t0;
    assert_int_equal(b.done, BENCH_N);
    assert_int_equal(b.ok, BENCH_N);
    printf("rdns: %d lookups against dnsmasq, max_inflight 50: %.1f ms, %.0f lookups/s\n", BENCH_N,
           (double)ns / 1e6, BENCH_N / ((double)ns / 1e9));
    finish_loop(&loop, r, NULL);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostname_valid_table),
        cmocka_unit_test(test_ptr_name_golden_v4_and_v6),
        cmocka_unit_test(test_status_names_are_stable),
        cmocka_unit_test(test_parse_reply_table),
        cmocka_unit_test(test_parse_reply_255_octet_name_is_valid_hostname),
        cmocka_unit_test(test_parse_reply_caps_names_at_max),
        cmocka_unit_test(test_parse_reply_rejects_null_and_bad_qname),
        cmocka_unit_test(test_new_rejects_bad_server_strings),
        cmocka_unit_test(test_new_accepts_server_forms_and_closes_cleanly),
        cmocka_unit_test(test_lookup_classifies_crafted_replies),
        cmocka_unit_test(test_lookup_times_out_after_all_tries),
        cmocka_unit_test(test_breaker_opens_after_consecutive_timeouts),
        cmocka_unit_test(test_lookup_to_closed_port_is_error),
        cmocka_unit_test(test_lookup_rejects_bad_arguments_without_callback),
        cmocka_unit_test(test_lookup_queue_cap_returns_limit),
        cmocka_unit_test(test_lookup_never_exceeds_max_inflight),
        cmocka_unit_test(test_close_cancels_queued_and_inflight_once),
        cmocka_unit_test(test_close_inside_callback_cancels_the_rest),
        cmocka_unit_test(test_lookup_from_inside_callback_completes),
        cmocka_unit_test(test_dnsmasq_statuses_table),
        cmocka_unit_test(test_dnsmasq_returns_every_ptr_name),
        cmocka_unit_test(test_dnsmasq_large_answer_arrives_over_tcp),
        cmocka_unit_test(test_dnsmasq_odd_names_kept_and_flagged_invalid),
        cmocka_unit_test(test_failover_to_second_server_after_timeout),
        cmocka_unit_test(test_unbound_forwarding_to_refusing_server_gives_servfail),
        cmocka_unit_test(test_dnsmasq_2000_lookups_with_50_in_flight),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
