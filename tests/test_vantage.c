/*
 * Tests for NAT discovery (scanner/vantage_*.c): the RFC 5780 judgement from injected
 * observations (one table row per NAT or firewall situation), the evidence
 * lines, the two saved forms (golden text and JSON, round trips, and a table
 * of bad files whose errors must name file and line), the compact form, the
 * --stun parser, and the whole discovery against a fake two-address STUN
 * server on loopback that can play a NAT (it reports a made-up mapped
 * address and drops CHANGE-REQUESTs, as a port-restricted or symmetric NAT
 * would make them look). Traffic stays on 127.0.0.1 and 127.0.0.2.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "probes/stun.h"
#include "scanner/vantage.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static sn_addr_t ep(const char *s)
{
    sn_addr_t a;
    const char *why = NULL;
    assert_int_equal(sn_addr_parse_endpoint(s, strlen(s), &a, &why), SN_OK);
    return a;
}

#define SERVER "198.51.100.10:3478"
#define OTHER "198.51.100.11:3479"
#define LOCAL_MAP "192.0.2.2:5000"
#define LOCAL_FILTER "192.0.2.2:5001"

/*
 * A UDP test from a spec: NULL not run; "silent"; "refused@IP" or
 * "unreach@IP" (ICMP from IP; "unreach@" without a source); "error420";
 * "nomap" (answered without a mapped address); "MAPPED" or "MAPPED<FROM"
 * (answered; from defaults to where the request went).
 */
static void udp_spec(sn_vantage_test_t *t, const char *to, const char *spec, const char *other)
{
    memset(t, 0, sizeof *t);
    if (spec == NULL)
        return;
    t->to = ep(to);
    if (strcmp(spec, "silent") == 0) {
        t->result = SN_VTEST_SILENT;
    } else if (strncmp(spec, "refused@", 8) == 0 || strncmp(spec, "unreach@", 8) == 0) {
        t->result = spec[0] == 'r' ? SN_VTEST_REFUSED : SN_VTEST_UNREACHABLE;
        if (spec[8] != '\0')
            assert_int_equal(sn_addr_parse_ip(spec + 8, strlen(spec + 8), &t->from), SN_OK);
    } else if (strcmp(spec, "error420") == 0) {
        t->result = SN_VTEST_REJECTED;
        t->error_code = 420;
        t->from = t->to;
    } else if (strcmp(spec, "nomap") == 0) {
        t->result = SN_VTEST_ANSWERED;
        t->from = t->to;
    } else {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", spec);
        char *lt = strchr(buf, '<');
        if (lt != NULL)
            *lt = '\0';
        t->result = SN_VTEST_ANSWERED;
        t->mapped = ep(buf);
        t->from = lt != NULL ? ep(lt + 1) : t->to;
        if (other != NULL)
            t->other = ep(other);
    }
}

/* A TCP test from a spec: NULL not run; "connected"; "silent"; "refused"; "mapped:ADDR". */
static void tcp_spec(sn_vantage_test_t *t, const char *to, const char *spec)
{
    memset(t, 0, sizeof *t);
    if (spec == NULL)
        return;
    t->to = ep(to);
    if (strcmp(spec, "silent") == 0) {
        t->result = SN_VTEST_SILENT;
    } else if (strcmp(spec, "refused") == 0) {
        t->result = SN_VTEST_REFUSED;
    } else if (strncmp(spec, "mapped:", 7) == 0) {
        t->result = SN_VTEST_ANSWERED;
        t->mapped = ep(spec + 7);
        t->from = t->to;
    } else {
        assert_string_equal(spec, "connected");
        t->result = SN_VTEST_ANSWERED;
    }
}

typedef struct dcase {
    const char *name;
    const char *other; /* OTHER-ADDRESS in test 1 answers; NULL: the server has none */
    const char *m1, *m2, *m3, *f1, *f2, *f3;
    const char *tcp_stun, *tcp_443, *tcp_80;
    sn_nat_behaviour_t mapping, filtering;
    sn_path_t udp, tcp;
} dcase_t;

static void build_obs(const dcase_t *c, sn_vantage_obs_t *o)
{
    memset(o, 0, sizeof *o);
    o->server = ep(SERVER);
    o->local_map = ep(LOCAL_MAP);
    o->local_filter = ep(LOCAL_FILTER);
    udp_spec(&o->t[SN_VT_MAP1], SERVER, c->m1, c->other);
    udp_spec(&o->t[SN_VT_MAP2], "198.51.100.11:3478", c->m2, NULL);
    udp_spec(&o->t[SN_VT_MAP3], OTHER, c->m3, NULL);
    udp_spec(&o->t[SN_VT_FILTER1], SERVER, c->f1, c->other);
    udp_spec(&o->t[SN_VT_FILTER2], SERVER, c->f2, NULL);
    udp_spec(&o->t[SN_VT_FILTER3], SERVER, c->f3, NULL);
    tcp_spec(&o->t[SN_VT_TCP_STUN], SERVER, c->tcp_stun);
    tcp_spec(&o->t[SN_VT_TCP_443], "198.51.100.10:443", c->tcp_443);
    tcp_spec(&o->t[SN_VT_TCP_80], "198.51.100.10:80", c->tcp_80);
}

#define NAT_M "203.0.113.1:6000"
#define NAT_F "203.0.113.1:6001"
#define ALL_TCP "connected", "connected", "connected"

/* clang-format off: one situation per row reads better than the formatter's packing */
static const dcase_t decide_cases[] = {
    {"no NAT and nothing filtering: none/none", OTHER, LOCAL_MAP, NULL, NULL, LOCAL_FILTER,
     LOCAL_FILTER "<" OTHER, NULL, ALL_TCP, SN_NAT_NONE, SN_NAT_NONE, SN_PATH_OPEN, SN_PATH_OPEN},
    {"port-restricted cone: same mapping, both change tests silent", OTHER, NAT_M, NAT_M, NULL,
     NAT_F, "silent", "silent", ALL_TCP, SN_NAT_ENDPOINT_INDEPENDENT, SN_NAT_ADDRESS_PORT_DEPENDENT,
     SN_PATH_OPEN, SN_PATH_OPEN},
    {"full cone: change ip+port answered from the other address", OTHER, NAT_M, NAT_M, NULL, NAT_F,
     NAT_F "<" OTHER, NULL, ALL_TCP, SN_NAT_ENDPOINT_INDEPENDENT, SN_NAT_ENDPOINT_INDEPENDENT,
     SN_PATH_OPEN, SN_PATH_OPEN},
    {"restricted cone: only change port answered", OTHER, NAT_M, NAT_M, NULL, NAT_F, "silent",
     NAT_F "<198.51.100.10:3479", ALL_TCP, SN_NAT_ENDPOINT_INDEPENDENT, SN_NAT_ADDRESS_DEPENDENT,
     SN_PATH_OPEN, SN_PATH_OPEN},
    {"address-dependent mapping: test 3 maps like test 2", OTHER, NAT_M, "203.0.113.1:6002",
     "203.0.113.1:6002", NAT_F, "silent", "silent", ALL_TCP, SN_NAT_ADDRESS_DEPENDENT,
     SN_NAT_ADDRESS_PORT_DEPENDENT, SN_PATH_OPEN, SN_PATH_OPEN},
    {"symmetric: every test maps elsewhere", OTHER, NAT_M, "203.0.113.1:6002", "203.0.113.1:6003",
     NAT_F, "silent", "silent", ALL_TCP, SN_NAT_ADDRESS_PORT_DEPENDENT,
     SN_NAT_ADDRESS_PORT_DEPENDENT, SN_PATH_OPEN, SN_PATH_OPEN},
    {"firewall without NAT: mapping none, filtering measured", OTHER, LOCAL_MAP, NULL, NULL,
     LOCAL_FILTER, "silent", "silent", ALL_TCP, SN_NAT_NONE, SN_NAT_ADDRESS_PORT_DEPENDENT,
     SN_PATH_OPEN, SN_PATH_OPEN},
    {"UDP silent: blocked, behaviours unknown", OTHER, "silent", NULL, NULL, NULL, NULL, NULL,
     "silent", "connected", "silent", SN_NAT_UNKNOWN, SN_NAT_UNKNOWN, SN_PATH_BLOCKED,
     SN_PATH_443_80_ONLY},
    {"ICMP port unreachable from the server itself: UDP got there", OTHER, "refused@198.51.100.10",
     NULL, NULL, NULL, NULL, NULL, ALL_TCP, SN_NAT_UNKNOWN, SN_NAT_UNKNOWN, SN_PATH_OPEN,
     SN_PATH_OPEN},
    {"ICMP port unreachable from a router: blocked", OTHER, "refused@192.0.2.1", NULL, NULL, NULL,
     NULL, NULL, ALL_TCP, SN_NAT_UNKNOWN, SN_NAT_UNKNOWN, SN_PATH_BLOCKED, SN_PATH_OPEN},
    {"unreachable without an ICMP source: blocked", OTHER, "unreach@", NULL, NULL, NULL, NULL, NULL,
     ALL_TCP, SN_NAT_UNKNOWN, SN_NAT_UNKNOWN, SN_PATH_BLOCKED, SN_PATH_OPEN},
    {"server without OTHER-ADDRESS behind a NAT: unknown", NULL, NAT_M, NULL, NULL, NAT_F, NULL,
     NULL, ALL_TCP, SN_NAT_UNKNOWN, SN_NAT_UNKNOWN, SN_PATH_OPEN, SN_PATH_OPEN},
    {"change request ignored (answer from the primary): filtering unknown", OTHER, NAT_M, NAT_M,
     NULL, NAT_F, NAT_F "<" SERVER, NULL, ALL_TCP, SN_NAT_ENDPOINT_INDEPENDENT, SN_NAT_UNKNOWN,
     SN_PATH_OPEN, SN_PATH_OPEN},
    {"change port answered from the primary port: filtering unknown", OTHER, NAT_M, NAT_M, NULL,
     NAT_F, "silent", NAT_F "<" SERVER, ALL_TCP, SN_NAT_ENDPOINT_INDEPENDENT, SN_NAT_UNKNOWN,
     SN_PATH_OPEN, SN_PATH_OPEN},
    {"change request rejected with 420: filtering unknown", OTHER, NAT_M, NAT_M, NULL, NAT_F,
     "error420", NULL, ALL_TCP, SN_NAT_ENDPOINT_INDEPENDENT, SN_NAT_UNKNOWN, SN_PATH_OPEN,
     SN_PATH_OPEN},
    {"mapping test 2 silent: mapping unknown", OTHER, NAT_M, "silent", NULL, NAT_F, "silent",
     "silent", ALL_TCP, SN_NAT_UNKNOWN, SN_NAT_ADDRESS_PORT_DEPENDENT, SN_PATH_OPEN, SN_PATH_OPEN},
    {"mapping test 3 silent after a new mapping: unknown", OTHER, NAT_M, "203.0.113.1:6002",
     "silent", NAT_F, "silent", "silent", ALL_TCP, SN_NAT_UNKNOWN, SN_NAT_ADDRESS_PORT_DEPENDENT,
     SN_PATH_OPEN, SN_PATH_OPEN},
    {"answer without a mapped address: UDP open, rest unknown", OTHER, "nomap", NULL, NULL, "nomap",
     NULL, NULL, ALL_TCP, SN_NAT_UNKNOWN, SN_NAT_UNKNOWN, SN_PATH_OPEN, SN_PATH_OPEN},
    {"TCP: high port silent, 443 connects: 443-80-only", OTHER, LOCAL_MAP, NULL, NULL, LOCAL_FILTER,
     LOCAL_FILTER "<" OTHER, NULL, "silent", "connected", "silent", SN_NAT_NONE, SN_NAT_NONE,
     SN_PATH_OPEN, SN_PATH_443_80_ONLY},
    {"TCP: RST on the high port is not passing: 80 only gives 443-80-only", OTHER, LOCAL_MAP, NULL,
     NULL, LOCAL_FILTER, LOCAL_FILTER "<" OTHER, NULL, "refused", "refused", "connected",
     SN_NAT_NONE, SN_NAT_NONE, SN_PATH_OPEN, SN_PATH_443_80_ONLY},
    {"TCP: nothing connects: blocked", OTHER, LOCAL_MAP, NULL, NULL, LOCAL_FILTER,
     LOCAL_FILTER "<" OTHER, NULL, "silent", "refused", "silent", SN_NAT_NONE, SN_NAT_NONE,
     SN_PATH_OPEN, SN_PATH_BLOCKED},
    {"TCP: STUN on 443 (no high-port test): unknown", OTHER, LOCAL_MAP, NULL, NULL, LOCAL_FILTER,
     LOCAL_FILTER "<" OTHER, NULL, NULL, "connected", "silent", SN_NAT_NONE, SN_NAT_NONE,
     SN_PATH_OPEN, SN_PATH_UNKNOWN},
    {"nothing run: all unknown", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     SN_NAT_UNKNOWN, SN_NAT_UNKNOWN, SN_PATH_UNKNOWN, SN_PATH_UNKNOWN},
};
/* clang-format on */

static void test_decide_gives_the_rfc5780_verdict_for_each_situation(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof decide_cases / sizeof decide_cases[0]; i++) {
        const dcase_t *c = &decide_cases[i];
        sn_vantage_obs_t o;
        sn_vantage_t v;
        build_obs(c, &o);
        sn_vantage_decide(&o, &v);
        char want[160], got[160];
        snprintf(want, sizeof want, "%s: %s %s %s %s", c->name, sn_nat_behaviour_name(c->mapping),
                 sn_nat_behaviour_name(c->filtering), sn_path_name(c->udp), sn_path_name(c->tcp));
        snprintf(got, sizeof got, "%s: %s %s %s %s", c->name, sn_nat_behaviour_name(v.mapping),
                 sn_nat_behaviour_name(v.filtering), sn_path_name(v.udp), sn_path_name(v.tcp));
        assert_string_equal(got, want);
        assert_true(v.known);
        assert_true(sn_addr_equal(&v.local, &o.local_map));
    }
}

static void test_decide_accepts_null_observations_as_unknown(void **state)
{
    (void)state;
    sn_vantage_t v;
    memset(&v, 0xAB, sizeof v);
    sn_vantage_decide(NULL, &v);
    assert_true(v.known);
    assert_int_equal(v.mapping, SN_NAT_UNKNOWN);
    assert_int_equal(v.tcp, SN_PATH_UNKNOWN);
    assert_int_equal(v.n_evidence, 0);
    sn_vantage_decide(NULL, NULL); /* must not crash */
}

/* The port-restricted cone of the table, with a TCP picture that shows every outcome. */
static void restricted_cone(sn_vantage_t *v)
{
    dcase_t c = {.other = OTHER,
                 .m1 = NAT_M,
                 .m2 = NAT_M,
                 .f1 = NAT_F,
                 .f2 = "silent",
                 .f3 = "silent",
                 .tcp_stun = "silent",
                 .tcp_443 = "mapped:203.0.113.1:7000",
                 .tcp_80 = "refused"};
    sn_vantage_obs_t o;
    build_obs(&c, &o);
    sn_vantage_decide(&o, v);
}

static const char golden_text[] =
    "mapping: endpoint-independent\n"
    "filtering: address-and-port-dependent\n"
    "udp: open\n"
    "tcp: 443-80-only\n"
    "local: 192.0.2.2:5000\n"
    "map-test1: 198.51.100.10:3478 -> mapped 203.0.113.1:6000, other 198.51.100.11:3479\n"
    "map-test2: 198.51.100.11:3478 -> mapped 203.0.113.1:6000\n"
    "filter-test1: 198.51.100.10:3478 -> mapped 203.0.113.1:6001\n"
    "filter-test2: 198.51.100.10:3478 change ip+port -> no answer\n"
    "filter-test3: 198.51.100.10:3478 change port -> no answer\n"
    "tcp-stun: 198.51.100.10:3478 -> no answer\n"
    "tcp-443: 198.51.100.10:443 -> connected, mapped 203.0.113.1:7000\n"
    "tcp-80: 198.51.100.10:80 -> refused (RST)\n";

static const char golden_json[] =
    "{\"mapping\":\"endpoint-independent\",\"filtering\":\"address-and-port-dependent\","
    "\"udp\":\"open\",\"tcp\":\"443-80-only\",\"local\":\"192.0.2.2:5000\",\"evidence\":["
    "\"map-test1: 198.51.100.10:3478 -> mapped 203.0.113.1:6000, other 198.51.100.11:3479\","
    "\"map-test2: 198.51.100.11:3478 -> mapped 203.0.113.1:6000\","
    "\"filter-test1: 198.51.100.10:3478 -> mapped 203.0.113.1:6001\","
    "\"filter-test2: 198.51.100.10:3478 change ip+port -> no answer\","
    "\"filter-test3: 198.51.100.10:3478 change port -> no answer\","
    "\"tcp-stun: 198.51.100.10:3478 -> no answer\","
    "\"tcp-443: 198.51.100.10:443 -> connected, mapped 203.0.113.1:7000\","
    "\"tcp-80: 198.51.100.10:80 -> refused (RST)\"]}\n";

static char *print_to_string(const sn_vantage_t *v, bool json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    sn_vantage_print(f, v, json);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_print_text_is_verdict_lines_then_evidence(void **state)
{
    (void)state;
    sn_vantage_t v;
    restricted_cone(&v);
    char *s = print_to_string(&v, false);
    assert_string_equal(s, golden_text);
    free(s);
}

static void test_print_json_is_one_object_on_one_line(void **state)
{
    (void)state;
    sn_vantage_t v;
    restricted_cone(&v);
    char *s = print_to_string(&v, true);
    assert_string_equal(s, golden_json);
    free(s);
}

static void test_print_evidence_names_icmp_source_and_stun_error(void **state)
{
    (void)state;
    dcase_t c = {.other = OTHER, .m1 = "refused@198.51.100.10", .tcp_stun = "connected"};
    sn_vantage_obs_t o;
    sn_vantage_t v;
    build_obs(&c, &o);
    udp_spec(&o.t[SN_VT_FILTER2], SERVER, "error420", NULL);
    sn_vantage_decide(&o, &v);
    assert_int_equal(v.n_evidence, 3);
    assert_string_equal(v.evidence[0],
                        "map-test1: 198.51.100.10:3478 -> refused by 198.51.100.10 (ICMP port "
                        "unreachable)");
    assert_string_equal(v.evidence[1],
                        "filter-test2: 198.51.100.10:3478 change ip+port -> error 420");
    assert_string_equal(v.evidence[2], "tcp-stun: 198.51.100.10:3478 -> connected, no STUN answer");
}

static void test_print_json_escapes_quotes_backslashes_and_controls(void **state)
{
    (void)state;
    sn_vantage_t v = {.known = true};
    snprintf(v.evidence[0], sizeof v.evidence[0], "odd: a\"b\\c\td");
    v.n_evidence = 1;
    char *s = print_to_string(&v, true);
    assert_string_equal(s, "{\"mapping\":\"unknown\",\"filtering\":\"unknown\",\"udp\":\"unknown\","
                           "\"tcp\":\"unknown\",\"local\":null,"
                           "\"evidence\":[\"odd: a\\\"b\\\\c\\u0009d\"]}\n");
    free(s);
}

static void test_format_is_the_compact_field(void **state)
{
    (void)state;
    sn_vantage_t v;
    restricted_cone(&v);
    char buf[128];
    sn_vantage_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "mapping=endpoint-independent;filtering=address-and-port-dependent;"
                             "udp=open;tcp=443-80-only");
    char small[8];
    sn_vantage_format(&v, small, sizeof small);
    assert_string_equal(small, "mapping");
    v.known = false;
    sn_vantage_format(&v, buf, sizeof buf);
    assert_string_equal(buf, "");
    sn_vantage_format(NULL, buf, sizeof buf);
    assert_string_equal(buf, "");
    sn_vantage_format(&v, NULL, 0); /* must not crash */
}

static void test_names_of_out_of_range_values_are_unknown(void **state)
{
    (void)state;
    assert_string_equal(sn_nat_behaviour_name((sn_nat_behaviour_t)99), "unknown");
    assert_string_equal(sn_path_name((sn_path_t)-1), "unknown");
    assert_string_equal(sn_nat_behaviour_name(SN_NAT_ADDRESS_PORT_DEPENDENT),
                        "address-and-port-dependent");
    assert_string_equal(sn_path_name(SN_PATH_443_80_ONLY), "443-80-only");
}

/* ---- saved forms ---------------------------------------------------------------------------- */

static char *write_temp(const char *content, size_t len)
{
    char *path = strdup("/tmp/sn_vantage_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

static void assert_same_vantage(const sn_vantage_t *a, const sn_vantage_t *b)
{
    assert_int_equal(a->known, b->known);
    assert_int_equal(a->mapping, b->mapping);
    assert_int_equal(a->filtering, b->filtering);
    assert_int_equal(a->udp, b->udp);
    assert_int_equal(a->tcp, b->tcp);
    assert_memory_equal(&a->local, &b->local, sizeof a->local);
    assert_int_equal(a->n_evidence, b->n_evidence);
    for (unsigned i = 0; i < a->n_evidence; i++)
        assert_string_equal(a->evidence[i], b->evidence[i]);
}

static void round_trip(const sn_vantage_t *v, bool json)
{
    char *s = print_to_string(v, json);
    char *path = write_temp(s, strlen(s));
    sn_vantage_t back;
    sn_error_t err = {{0}};
    assert_int_equal(sn_vantage_load(path, &back, &err), SN_OK);
    assert_same_vantage(v, &back);
    unlink(path);
    free(path);
    free(s);
}

static void test_load_reads_back_what_print_wrote_in_both_forms(void **state)
{
    (void)state;
    sn_vantage_t v;
    restricted_cone(&v);
    round_trip(&v, false);
    round_trip(&v, true);

    /* Unknown local address, no evidence, every other value. */
    sn_vantage_t u = {.known = true,
                      .mapping = SN_NAT_ADDRESS_DEPENDENT,
                      .filtering = SN_NAT_NONE,
                      .udp = SN_PATH_BLOCKED,
                      .tcp = SN_PATH_BLOCKED};
    round_trip(&u, false);
    round_trip(&u, true);

    /* IPv6 local address and the longest evidence line. */
    u.local = ep("[2001:db8::2]:4000");
    memset(u.evidence[0], 'x', SN_VANTAGE_EVIDENCE_LEN - 1);
    memcpy(u.evidence[0], "long: ", 6);
    u.evidence[0][SN_VANTAGE_EVIDENCE_LEN - 1] = '\0';
    u.n_evidence = 1;
    round_trip(&u, false);
    round_trip(&u, true);
}

static void test_load_json_accepts_whitespace_escapes_and_later_keys(void **state)
{
    (void)state;
    static const char json[] =
        "  {\n  \"mapping\" : \"none\",\n  \"filtering\":\"none\",\"udp\":\"open\",\n"
        "  \"tcp\":\"open\", \"local\": null, \"server\": \"198.51.100.10:3478\",\n"
        "  \"extra\": [\"a\", \"b\"], \"later\": null,\n"
        "  \"evidence\": [\"map-test1: caf\\u00e9 \\ud83d\\ude00 \\/ok\"]\n}\n";
    char *path = write_temp(json, sizeof json - 1);
    sn_vantage_t v;
    sn_error_t err = {{0}};
    assert_int_equal(sn_vantage_load(path, &v, &err), SN_OK);
    assert_int_equal(v.mapping, SN_NAT_NONE);
    assert_int_equal(v.local.family, 0);
    assert_int_equal(v.n_evidence, 1);
    assert_string_equal(v.evidence[0], "map-test1: caf\xC3\xA9 \xF0\x9F\x98\x80 /ok");
    unlink(path);
    free(path);
}

static void test_load_text_tolerates_crlf_and_blank_lines(void **state)
{
    (void)state;
    static const char text[] = "mapping: none\r\n\r\nfiltering: none\r\nudp: open\r\ntcp: open\r\n"
                               "local: unknown\r\nmap-test1: x -> y\r\n";
    char *path = write_temp(text, sizeof text - 1);
    sn_vantage_t v;
    sn_error_t err = {{0}};
    assert_int_equal(sn_vantage_load(path, &v, &err), SN_OK);
    assert_int_equal(v.tcp, SN_PATH_OPEN);
    assert_int_equal(v.n_evidence, 1);
    assert_string_equal(v.evidence[0], "map-test1: x -> y");
    unlink(path);
    free(path);
}

#define OKV "mapping: none\nfiltering: none\nudp: open\ntcp: open\n"

typedef struct bad_file {
    const char *name;
    const char *content;
    sn_status_t status;
    const char *where; /* ":LINE:" expected right after the path */
    const char *says;  /* a part of the message */
} bad_file_t;

static const bad_file_t bad_files[] = {
    {"unknown mapping value", "mapping: sideways\n", SN_EPARSE, ":1:", "mapping 'sideways'"},
    {"udp cannot be 443-80-only", "mapping: none\nfiltering: none\nudp: 443-80-only\n", SN_EPARSE,
     ":3:", "udp '443-80-only'"},
    {"tcp value with a trailing blank", "mapping: none\nfiltering: none\nudp: open\ntcp: open \n",
     SN_EPARSE, ":4:", "tcp 'open '"},
    {"key given twice", OKV "mapping: none\n", SN_EPARSE, ":5:", "'mapping' is given twice"},
    {"missing tcp", "mapping: none\nfiltering: none\nudp: open\nlocal: unknown\n", SN_EPARSE,
     ":4:", "no 'tcp'"},
    {"octal local address", OKV "local: 010.0.0.1:5\n", SN_EPARSE, ":5:", "local '010.0.0.1:5'"},
    {"line without key: value", OKV "just words\n", SN_EPARSE, ":5:", "expected 'key: value'"},
    {"key with capitals", OKV "Map-Test: x\n", SN_EPARSE, ":5:", "key 'Map-Test'"},
    {"empty file", "", SN_EPARSE, ":1:", "empty file"},
    {"only blank lines", "\n\n  \n", SN_EPARSE, ":1:", "empty file"},
    {"JSON unterminated string", "{\"mapping\":\"none", SN_EPARSE, ":1:", "unterminated string"},
    {"JSON data after the object",
     "{\"mapping\":\"none\",\"filtering\":\"none\",\"udp\":\"open\","
     "\"tcp\":\"open\"}\n{}",
     SN_EPARSE, ":2:", "data after the JSON object"},
    {"JSON lone surrogate", "{\n\"mapping\":\"\\ud800x\"}", SN_EPARSE, ":2:", "lone surrogate"},
    {"JSON number value", "{\"mapping\":\"none\",\n\"extra\":5}", SN_EPARSE,
     ":2:", "expected a string"},
    {"JSON null mapping", "{\"mapping\":null}", SN_EPARSE, ":1:", "'mapping' cannot be null"},
    {"JSON evidence not an array", "{\"evidence\":\"x: y\"}", SN_EPARSE,
     ":1:", "expected an array of strings"},
    {"JSON newline inside evidence", "{\"evidence\":[\"x: a\\nb\"]}", SN_EPARSE,
     ":1:", "control character in evidence"},
    {"JSON raw control character", "{\"mapping\":\"no\tne\"}", SN_EPARSE,
     ":1:", "control character in a string"},
    {"JSON missing comma", "{\"mapping\":\"none\" \"udp\":\"open\"}", SN_EPARSE,
     ":1:", "expected ',' or '}'"},
    {"JSON missing keys", "{}\n", SN_EPARSE, ":2:", "no 'mapping'"},
    {"JSON bad escape", "{\"mapping\":\"\\x\"}", SN_EPARSE, ":1:", "bad escape"},
};

static void check_bad(const char *name, const char *content, size_t len, sn_status_t status,
                      const char *where, const char *says)
{
    char *path = write_temp(content, len);
    sn_vantage_t v;
    sn_error_t err = {{0}};
    sn_status_t st = sn_vantage_load(path, &v, &err);
    if (st != status || strncmp(err.msg, path, strlen(path)) != 0 ||
        strncmp(err.msg + strlen(path), where, strlen(where)) != 0 || strstr(err.msg, says) == NULL)
        fail_msg("%s: got status %d, message '%s'; expected %d, '%s%s ...%s...'", name, st, err.msg,
                 status, path, where, says);
    assert_false(v.known); /* nothing half-read is left behind */
    unlink(path);
    free(path);
}

static void test_load_rejects_bad_files_naming_file_and_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        const bad_file_t *b = &bad_files[i];
        check_bad(b->name, b->content, strlen(b->content), b->status, b->where, b->says);
    }
}

static void test_load_limits_evidence_length_count_and_file_size(void **state)
{
    (void)state;
    char buf[4096];

    /* An evidence line of 160 characters, one over the limit. */
    int n = snprintf(buf, sizeof buf, OKV "long: ");
    memset(buf + n, 'x', SN_VANTAGE_EVIDENCE_LEN - 6);
    n += SN_VANTAGE_EVIDENCE_LEN - 6;
    buf[n++] = '\n';
    check_bad("evidence line too long", buf, (size_t)n, SN_ELIMIT, ":5:", "longer than 159");

    /* Seventeen evidence lines. */
    n = snprintf(buf, sizeof buf, OKV);
    for (int i = 0; i < SN_VANTAGE_EVIDENCE + 1; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "e%d: x\n", i);
    check_bad("too many evidence lines", buf, (size_t)n, SN_ELIMIT, ":21:", "more than 16");

    /* A NUL byte on line 2. */
    static const char nul[] = "mapping: none\nfil\0tering: none\n";
    check_bad("NUL byte", nul, sizeof nul - 1, SN_EPARSE, ":2:", "NUL byte");

    /* Over 64 KiB. */
    size_t big = 64 * 1024 + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, '\n', big);
    char *path = write_temp(huge, big);
    sn_vantage_t v;
    sn_error_t err = {{0}};
    assert_int_equal(sn_vantage_load(path, &v, &err), SN_ELIMIT);
    assert_non_null(strstr(err.msg, path));
    unlink(path);
    free(path);
    free(huge);
}

static void test_load_missing_file_is_an_io_error_naming_it(void **state)
{
    (void)state;
    sn_vantage_t v;
    sn_error_t err = {{0}};
    assert_int_equal(sn_vantage_load("/nonexistent/vantage.txt", &v, &err), SN_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/vantage.txt"));
    assert_int_equal(sn_vantage_load(NULL, &v, &err), SN_EINVAL);
}

/*
 * ---- the --stun parser ----
 * Every case fails before a socket is opened or a name is looked up (a
 * lookup would leave loopback), so no traffic at all.
 */

static void test_discover_rejects_bad_stun_servers(void **state)
{
    (void)state;
    static const struct {
        const char *stun;
        sn_status_t st;
        const char *says;
    } cases[] = {
        {"", SN_EINVAL, "not HOST[:PORT]"},
        {"[::1", SN_EINVAL, "missing ']'"},
        {"[::1]x", SN_EINVAL, "expected ':' after ']'"},
        {"[127.0.0.1]:3478", SN_EINVAL, "brackets around a non-IPv6"},
        {"127.0.0.1:0", SN_EINVAL, "bad port"},
        {"127.0.0.1:65536", SN_EINVAL, "bad port"},
        {"127.0.0.1:+80", SN_EINVAL, "bad port"},
        {"010.0.0.1", SN_EINVAL, "neither an IP address nor a host name"},
        {"127.1", SN_EINVAL, "neither an IP address nor a host name"},
        {"0x7f.0.0.1:3478", SN_EINVAL, "neither an IP address nor a host name"},
        {"0x7f000001", SN_EINVAL, "neither an IP address nor a host name"},
        {"1.2.3.0x4", SN_EINVAL, "neither an IP address nor a host name"},
        {"stun.example.0x10", SN_EINVAL, "neither an IP address nor a host name"},
        {"..", SN_EINVAL, "neither an IP address nor a host name"},
        {"stun_server!:3478", SN_EINVAL, "neither an IP address nor a host name"},
        {":3478", SN_EINVAL, "no host"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_vantage_cfg_t cfg = {.stun = cases[i].stun, .timeout_ms = 50};
        sn_vantage_t v;
        sn_error_t err = {{0}};
        sn_status_t st = sn_vantage_discover(&cfg, &v, &err);
        if (st != cases[i].st || strstr(err.msg, cases[i].says) == NULL)
            fail_msg("--stun '%s': status %d, '%s'", cases[i].stun, st, err.msg);
        assert_false(v.known);
    }
    sn_vantage_t v;
    sn_error_t err = {{0}};
    assert_int_equal(sn_vantage_discover(NULL, &v, &err), SN_EINVAL);
    sn_vantage_cfg_t none = {0};
    assert_int_equal(sn_vantage_discover(&none, &v, &err), SN_EINVAL);
    assert_int_equal(sn_vantage_discover(&none, NULL, &err), SN_EINVAL);
}

/* ---- a fake two-address STUN server on loopback ---------------------------------------------- */

typedef enum fs_mode {
    FS_HONEST,          /* a real RFC 5780 server seen from a host without NAT */
    FS_PORT_RESTRICTED, /* reports 203.0.113.1:srcport, drops CHANGE-REQUESTs */
    FS_SYMMETRIC,       /* reports a port that depends on which address was asked */
    FS_IGNORE_CHANGE    /* answers CHANGE-REQUESTs from where they arrived */
} fs_mode_t;

typedef struct fake_server {
    fs_mode_t mode;
    int udp[4]; /* 0: P:p, 1: P:a, 2: A:p, 3: A:a (P 127.0.0.1, A 127.0.0.2) */
    sn_addr_t addr[4];
    int tcp; /* listener on P:p */
    int stop[2];
    pthread_t thread;
    unsigned change_requests;
} fake_server_t;

static int bind_udp(const char *ip, uint16_t port, sn_addr_t *bound)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &a), SN_OK);
    a.port = port;
    struct sockaddr_storage ss;
    socklen_t sl = sn_addr_to_sockaddr(&a, &ss);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
        close(fd);
        return -1;
    }
    socklen_t ll = sizeof ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &ll), 0);
    assert_int_equal(sn_addr_from_sockaddr((struct sockaddr *)&ss, bound), SN_OK);
    return fd;
}

/* Binds (P, x) and (A, x) for a free x; returns x. */
static uint16_t bind_pair(fake_server_t *s, int i0, int i1)
{
    for (int tries = 0; tries < 50; tries++) {
        s->udp[i0] = bind_udp("127.0.0.1", 0, &s->addr[i0]);
        assert_true(s->udp[i0] >= 0);
        s->udp[i1] = bind_udp("127.0.0.2", s->addr[i0].port, &s->addr[i1]);
        if (s->udp[i1] >= 0)
            return s->addr[i0].port;
        close(s->udp[i0]);
    }
    fail_msg("no free UDP port pair on 127.0.0.1/127.0.0.2");
    return 0;
}

static void fs_answer_udp(fake_server_t *s, int i)
{
    uint8_t buf[2048], out[512];
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(s->udp[i], buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    sn_stun_msg_t q, r;
    sn_addr_t src;
    if (n <= 0 || sn_stun_parse(buf, (size_t)n, &q, NULL) != SN_OK || q.cls != SN_STUN_REQUEST ||
        sn_addr_from_sockaddr((struct sockaddr *)&from, &src) != SN_OK)
        return;
    int via = i;
    if (q.change_request && q.change_flags != 0) {
        s->change_requests++;
        if (s->mode == FS_PORT_RESTRICTED || s->mode == FS_SYMMETRIC)
            return; /* as the NAT would drop the answer */
        if (s->mode == FS_HONEST)
            via = i ^ ((q.change_flags & SN_STUN_CHANGE_IP) ? 2 : 0) ^
                  ((q.change_flags & SN_STUN_CHANGE_PORT) ? 1 : 0);
    }
    sn_stun_msg_init(&r, SN_STUN_SUCCESS, SN_STUN_METHOD_BINDING, q.txid);
    r.xor_mapped = src;
    if (s->mode == FS_PORT_RESTRICTED || s->mode == FS_SYMMETRIC) {
        sn_addr_set_v4(&r.xor_mapped, 0xCB007101u, src.port); /* 203.0.113.1: never sent to */
        if (s->mode == FS_SYMMETRIC)
            r.xor_mapped.port = (uint16_t)(src.port ^ (i + 1));
    }
    r.other_address = s->addr[via ^ 3];
    r.response_origin = s->addr[via];
    int len = sn_stun_write(&r, out, sizeof out);
    if (len > 0)
        sendto(s->udp[via], out, (size_t)len, 0, (struct sockaddr *)&from, fl);
}

static void fs_answer_tcp(fake_server_t *s)
{
    int c = accept(s->tcp, NULL, NULL);
    if (c < 0)
        return;
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    sn_addr_t src;
    uint8_t buf[512], out[512];
    size_t have = 0;
    int flen = 0;
    if (getpeername(c, (struct sockaddr *)&peer, &pl) == 0 &&
        sn_addr_from_sockaddr((struct sockaddr *)&peer, &src) == SN_OK) {
        while (flen == 0 && have < sizeof buf) {
            struct pollfd p = {.fd = c, .events = POLLIN};
            if (poll(&p, 1, 2000) <= 0)
                break;
            ssize_t n = read(c, buf + have, sizeof buf - have);
            if (n <= 0)
                break;
            have += (size_t)n;
            flen = sn_stun_frame_len(buf, have);
        }
        sn_stun_msg_t q, r;
        if (flen > 0 && sn_stun_parse(buf, (size_t)flen, &q, NULL) == SN_OK) {
            sn_stun_msg_init(&r, SN_STUN_SUCCESS, SN_STUN_METHOD_BINDING, q.txid);
            r.xor_mapped = src;
            int len = sn_stun_write(&r, out, sizeof out);
            if (len > 0 && write(c, out, (size_t)len) != len)
                flen = -1;
        }
    }
    close(c);
}

static void *fs_run(void *arg)
{
    fake_server_t *s = arg;
    for (;;) {
        struct pollfd p[6];
        for (int i = 0; i < 4; i++)
            p[i] = (struct pollfd){.fd = s->udp[i], .events = POLLIN};
        p[4] = (struct pollfd){.fd = s->tcp, .events = POLLIN};
        p[5] = (struct pollfd){.fd = s->stop[0], .events = POLLIN};
        if (poll(p, 6, -1) < 0 && errno != EINTR)
            break;
        if (p[5].revents)
            break;
        for (int i = 0; i < 4; i++)
            if (p[i].revents & POLLIN)
                fs_answer_udp(s, i);
        if (p[4].revents & POLLIN)
            fs_answer_tcp(s);
    }
    return NULL;
}

static void fs_start(fake_server_t *s, fs_mode_t mode)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    for (int tries = 0; tries < 50; tries++) {
        uint16_t p = bind_pair(s, 0, 2);
        bind_pair(s, 1, 3);
        sn_addr_t l = s->addr[0];
        struct sockaddr_storage ss;
        socklen_t sl = sn_addr_to_sockaddr(&l, &ss);
        s->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->tcp >= 0);
        int on = 1;
        setsockopt(s->tcp, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(s->tcp, (struct sockaddr *)&ss, sl) == 0 && listen(s->tcp, 8) == 0) {
            (void)p;
            assert_int_equal(pipe(s->stop), 0);
            assert_int_equal(pthread_create(&s->thread, NULL, fs_run, s), 0);
            return;
        }
        close(s->tcp);
        for (int i = 0; i < 4; i++)
            close(s->udp[i]);
    }
    fail_msg("no free TCP port next to the UDP ports");
}

static void fs_stop(fake_server_t *s)
{
    assert_int_equal(write(s->stop[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    close(s->stop[0]);
    close(s->stop[1]);
    close(s->tcp);
    for (int i = 0; i < 4; i++)
        close(s->udp[i]);
}

static void discover_against(fake_server_t *s, sn_vantage_t *v)
{
    char stun[SN_ADDR_STRLEN];
    sn_addr_format(&s->addr[0], stun, sizeof stun, true);
    sn_vantage_cfg_t cfg = {.stun = stun, .timeout_ms = 150, .retries = 1};
    sn_error_t err = {{0}};
    sn_status_t st = sn_vantage_discover(&cfg, v, &err);
    if (st != SN_OK)
        fail_msg("discover against %s: %s", stun, err.msg);
    assert_true(v->known);
}

/* The evidence line that starts with name, or NULL. */
static const char *evidence(const sn_vantage_t *v, const char *name)
{
    for (unsigned i = 0; i < v->n_evidence; i++)
        if (strncmp(v->evidence[i], name, strlen(name)) == 0 && v->evidence[i][strlen(name)] == ':')
            return v->evidence[i];
    return NULL;
}

static void test_discover_against_honest_server_on_loopback_finds_no_nat(void **state)
{
    (void)state;
    fake_server_t s;
    sn_vantage_t v;
    fs_start(&s, FS_HONEST);
    discover_against(&s, &v);
    fs_stop(&s);
    assert_int_equal(v.mapping, SN_NAT_NONE);
    assert_int_equal(v.filtering, SN_NAT_NONE);
    assert_int_equal(v.udp, SN_PATH_OPEN);
    assert_int_equal(v.tcp, SN_PATH_OPEN); /* the STUN port accepts TCP */
    char local[SN_ADDR_STRLEN], want[160];
    sn_addr_format(&v.local, local, sizeof local, true);
    assert_int_equal(strncmp(local, "127.0.0.1:", 10), 0);
    snprintf(want, sizeof want, "map-test1: 127.0.0.1:%u -> mapped %s, other 127.0.0.2:%u",
             s.addr[0].port, local, s.addr[3].port);
    assert_string_equal(evidence(&v, "map-test1"), want);
    assert_null(evidence(&v, "map-test2")); /* no NAT: nothing more to compare */
    snprintf(want, sizeof want, "from 127.0.0.2:%u", s.addr[3].port);
    assert_non_null(strstr(evidence(&v, "filter-test2"), want));
    assert_null(evidence(&v, "filter-test3"));
    assert_non_null(strstr(evidence(&v, "tcp-stun"), "connected, mapped 127.0.0.1:"));
    assert_int_equal(s.change_requests, 1);
}

static void test_discover_against_server_playing_port_restricted_nat(void **state)
{
    (void)state;
    fake_server_t s;
    sn_vantage_t v;
    fs_start(&s, FS_PORT_RESTRICTED);
    discover_against(&s, &v);
    fs_stop(&s);
    assert_int_equal(v.mapping, SN_NAT_ENDPOINT_INDEPENDENT);
    assert_int_equal(v.filtering, SN_NAT_ADDRESS_PORT_DEPENDENT);
    assert_int_equal(v.udp, SN_PATH_OPEN);
    char want[160];
    snprintf(want, sizeof want, "map-test2: 127.0.0.2:%u -> mapped 203.0.113.1:%u", s.addr[0].port,
             v.local.port);
    assert_string_equal(evidence(&v, "map-test2"), want);
    assert_null(evidence(&v, "map-test3"));
    assert_non_null(strstr(evidence(&v, "filter-test2"), "change ip+port -> no answer"));
    assert_non_null(strstr(evidence(&v, "filter-test3"), "change port -> no answer"));
    /* Each silent change test was sent twice (one retry). */
    assert_int_equal(s.change_requests, 4);
}

static void test_discover_against_server_playing_symmetric_nat(void **state)
{
    (void)state;
    fake_server_t s;
    sn_vantage_t v;
    fs_start(&s, FS_SYMMETRIC);
    discover_against(&s, &v);
    fs_stop(&s);
    assert_int_equal(v.mapping, SN_NAT_ADDRESS_PORT_DEPENDENT);
    assert_int_equal(v.filtering, SN_NAT_ADDRESS_PORT_DEPENDENT);
    assert_non_null(evidence(&v, "map-test3"));
}

static void
test_discover_against_server_ignoring_change_request_leaves_filtering_unknown(void **state)
{
    (void)state;
    fake_server_t s;
    sn_vantage_t v;
    fs_start(&s, FS_IGNORE_CHANGE);
    discover_against(&s, &v);
    fs_stop(&s);
    assert_int_equal(v.mapping, SN_NAT_NONE);
    assert_int_equal(v.filtering, SN_NAT_UNKNOWN);
    assert_int_equal(v.udp, SN_PATH_OPEN);
}

static void test_discover_against_closed_port_sees_icmp_from_the_server(void **state)
{
    (void)state;
    sn_addr_t a;
    int fd = bind_udp("127.0.0.1", 0, &a);
    assert_true(fd >= 0);
    close(fd); /* now nothing listens there: the kernel answers port unreachable */
    char stun[SN_ADDR_STRLEN], want[160];
    sn_addr_format(&a, stun, sizeof stun, true);
    sn_vantage_cfg_t cfg = {.stun = stun, .timeout_ms = 500, .retries = 0};
    sn_vantage_t v;
    sn_error_t err = {{0}};
    assert_int_equal(sn_vantage_discover(&cfg, &v, &err), SN_OK);
    assert_int_equal(v.udp, SN_PATH_OPEN);
    assert_int_equal(v.mapping, SN_NAT_UNKNOWN);
    assert_int_equal(v.filtering, SN_NAT_UNKNOWN);
    snprintf(want, sizeof want, "map-test1: %s -> refused by 127.0.0.1 (ICMP port unreachable)",
             stun);
    assert_string_equal(evidence(&v, "map-test1"), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_gives_the_rfc5780_verdict_for_each_situation),
        cmocka_unit_test(test_decide_accepts_null_observations_as_unknown),
        cmocka_unit_test(test_print_text_is_verdict_lines_then_evidence),
        cmocka_unit_test(test_print_json_is_one_object_on_one_line),
        cmocka_unit_test(test_print_evidence_names_icmp_source_and_stun_error),
        cmocka_unit_test(test_print_json_escapes_quotes_backslashes_and_controls),
        cmocka_unit_test(test_format_is_the_compact_field),
        cmocka_unit_test(test_names_of_out_of_range_values_are_unknown),
        cmocka_unit_test(test_load_reads_back_what_print_wrote_in_both_forms),
        cmocka_unit_test(test_load_json_accepts_whitespace_escapes_and_later_keys),
        cmocka_unit_test(test_load_text_tolerates_crlf_and_blank_lines),
        cmocka_unit_test(test_load_rejects_bad_files_naming_file_and_line),
        cmocka_unit_test(test_load_limits_evidence_length_count_and_file_size),
        cmocka_unit_test(test_load_missing_file_is_an_io_error_naming_it),
        cmocka_unit_test(test_discover_rejects_bad_stun_servers),
        cmocka_unit_test(test_discover_against_honest_server_on_loopback_finds_no_nat),
        cmocka_unit_test(test_discover_against_server_playing_port_restricted_nat),
        cmocka_unit_test(test_discover_against_server_playing_symmetric_nat),
        cmocka_unit_test(
            test_discover_against_server_ignoring_change_request_leaves_filtering_unknown),
        cmocka_unit_test(test_discover_against_closed_port_sees_icmp_from_the_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
