/*
 * The results reader (reports/resultsin.c). Round trips through the real
 * writers (reports/output.c) in CSV and NDJSON: what the scanner writes, the
 * reader gives back, field by field, and the derived reachability class and
 * eligibility come out the same. Then the reader's strictness: every kind of
 * bad cell, bad line and bad file is an error naming the file, the line and
 * the column; unknown columns are ignored and missing ones read as empty.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/output.h"
#include "reports/resultsin.h"

static const sn_probe_t fake_udp = {.name = "skype", .transport = SN_TRANSPORT_UDP};
static const sn_probe_t fake_tcp = {.name = "tcp", .transport = SN_TRANSPORT_TCP};

static sn_addr_t addr_of(const char *ip, uint16_t port)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &a), SN_OK);
    a.port = port;
    return a;
}

/* What a row read back looked like, copied out of the callback. */
typedef struct got {
    sn_addr_t addr;
    uint32_t seen;
    int64_t first, last;
    char blocked[64], sources[256], vantage[128], reach[32];
    bool eligible, has_enrich;
    uint8_t uo, to;
    uint32_t urtt, trtt;
    uint16_t tport;
    sn_addr_t observed, reply;
    sn_enrichment_t e;
    char rdns[32], rule[64], geo_src[64], edu_src[16];
    unsigned long line;
} got_t;

typedef struct sink {
    got_t rows[32];
    size_t n;
    sn_status_t stop_at; /* return this status from row stop_row (0: never) */
    size_t stop_row;
} sink_t;

static sn_status_t collect(void *ud, const sn_resultsin_row_t *row, sn_error_t *err)
{
    sink_t *s = ud;
    if (s->stop_at != 0 && s->n == s->stop_row)
        return sn_error_set(err, s->stop_at, "stopped by the callback");
    assert_true(s->n < 32);
    got_t *g = &s->rows[s->n++];
    memset(g, 0, sizeof *g);
    const sn_result_t *r = &row->result;
    assert_ptr_equal(r->target, &row->target);
    g->addr = row->target.addr;
    g->seen = row->target.seen_count;
    g->first = row->target.first_seen;
    g->last = row->target.last_seen;
    snprintf(g->blocked, sizeof g->blocked, "%s", r->blocked ? r->blocked : "");
    snprintf(g->sources, sizeof g->sources, "%s", row->sources);
    snprintf(g->vantage, sizeof g->vantage, "%s", row->vantage);
    snprintf(g->reach, sizeof g->reach, "%s", sn_result_reach_class(r, &(sn_reach_buf_t){0}));
    g->eligible = sn_result_sn_eligible(r);
    g->uo = r->udp.outcome;
    g->to = r->tcp.outcome;
    g->urtt = r->udp.rtt_us;
    g->trtt = r->tcp.rtt_us;
    g->tport = r->tcp.port;
    g->observed = r->udp.observed;
    g->reply = r->udp.reply_from;
    g->has_enrich = r->enrich != NULL;
    if (r->enrich != NULL) {
        g->e = *r->enrich;
        snprintf(g->rdns, sizeof g->rdns, "%s", r->enrich->rdns_status);
        snprintf(g->rule, sizeof g->rule, "%s", r->enrich->cls.dyn_rule);
        snprintf(g->geo_src, sizeof g->geo_src, "%s", r->enrich->geo.source);
        snprintf(g->edu_src, sizeof g->edu_src, "%s", r->enrich->cls.edu_source);
    }
    g->line = row->line;
    return SN_OK;
}

/* ---- round trips ----------------------------------------------------------- */

static sn_enrichment_t enr = {
    .rdns_status = "ok",
    .ptr = "\"><img src=x>,\nevil.example host2.example.edu",
    .ptr_valid = false,
    .geo_known = true,
    .geo = {.country = "US",
            .continent = "NA",
            .asn = 64500,
            .as_org = "Example \"Uni\", Inc \xc3\xa9",
            .source = "test.mmdb"},
    .class_known = true,
    .cls = {.edu = true, .edu_source = "ptr", .dyn = SN_DYN_STATIC, .dyn_rule = "named-host"},
};

/* Writes five results (NAT, fallback 443, blocked, silent, IPv6 eligible) and reads them back. */
static void round_trip(sn_output_format_t fmt)
{
    sn_targets_t *ts = sn_targets_new();
    sn_addr_t a[5] = {addr_of("198.51.100.7", 33033), addr_of("198.51.100.8", 1000),
                      addr_of("192.0.2.1", 80), addr_of("203.0.113.9", 5),
                      addr_of("2001:db8::1", 443)};
    assert_true(sn_targets_begin_input(ts, "a;b.xml") >= 0);
    sn_listing_t l = {.count = 3, .first_seen = 1700000000, .last_seen = 1700001000};
    for (int i = 0; i < 5; i++)
        assert_int_equal(sn_targets_add(ts, &a[i], i == 0 ? &l : NULL), SN_OK);
    assert_true(sn_targets_begin_input(ts, "list.txt") >= 0);
    assert_int_equal(sn_targets_add(ts, &a[0], NULL), SN_OK);

    sn_result_t r[5];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 5; i++)
        r[i].target = sn_targets_find(ts, &a[i]);
    r[0].udp = (sn_probe_result_t){.probe = &fake_udp,
                                   .outcome = SN_OUTCOME_ALIVE,
                                   .attempts = 2,
                                   .port = 33033,
                                   .rtt_us = 12345,
                                   .observed = addr_of("203.0.113.5", 40001),
                                   .reply_from = addr_of("198.51.100.8", 33034)};
    r[0].tcp = (sn_probe_result_t){.probe = &fake_tcp,
                                   .outcome = SN_OUTCOME_ALIVE,
                                   .attempts = 1,
                                   .port = 33033,
                                   .rtt_us = 99};
    r[0].enrich = &enr;
    r[1].udp = (sn_probe_result_t){
        .probe = &fake_udp, .outcome = SN_OUTCOME_ALIVE, .attempts = 1, .port = 1000, .rtt_us = 5};
    r[1].tcp = (sn_probe_result_t){
        .probe = &fake_tcp, .outcome = SN_OUTCOME_ALIVE, .attempts = 3, .port = 443, .rtt_us = 7};
    r[2].blocked = "documentation (RFC 5737)";
    r[3].udp = (sn_probe_result_t){
        .probe = &fake_udp, .outcome = SN_OUTCOME_FILTERED, .attempts = 3, .port = 5};
    r[3].tcp = (sn_probe_result_t){
        .probe = &fake_tcp, .outcome = SN_OUTCOME_CLOSED, .attempts = 1, .port = 5};
    r[4].udp = (sn_probe_result_t){
        .probe = &fake_udp, .outcome = SN_OUTCOME_ALIVE, .attempts = 1, .port = 443, .rtt_us = 1};
    r[4].tcp = (sn_probe_result_t){
        .probe = &fake_tcp, .outcome = SN_OUTCOME_ALIVE, .attempts = 1, .port = 443, .rtt_us = 2};

    char path[] = "/tmp/sn_resultsin_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sn_output_t *o;
    sn_error_t err;
    assert_int_equal(sn_output_open(&o, fmt, path, ts, &err), SN_OK);
    sn_output_set_vantage(o, "mapping=none;filtering=none;udp=open;tcp=open");
    for (int i = 0; i < 5; i++)
        assert_int_equal(sn_output_write(o, &r[i], &err), SN_OK);
    assert_int_equal(sn_output_close(o, &err), SN_OK);

    static sink_t s;
    memset(&s, 0, sizeof s);
    uint64_t rows = 0;
    assert_int_equal(sn_resultsin_read(path, collect, &s, &rows, &err), SN_OK);
    assert_int_equal(rows, 5);
    assert_int_equal(s.n, 5);
    for (int i = 0; i < 5; i++) {
        got_t *g = &s.rows[i];
        assert_true(sn_addr_equal(&g->addr, &a[i]));
        assert_string_equal(g->reach, sn_result_reach_class(&r[i], &(sn_reach_buf_t){0}));
        assert_int_equal(g->eligible, sn_result_sn_eligible(&r[i]));
        assert_int_equal(g->uo, r[i].udp.outcome);
        assert_int_equal(g->to, r[i].tcp.outcome);
        assert_int_equal(g->urtt, r[i].udp.outcome == SN_OUTCOME_ALIVE ? r[i].udp.rtt_us : 0);
        assert_string_equal(g->vantage, "mapping=none;filtering=none;udp=open;tcp=open");
        /* lines: the CSV header is line 1, and row 0's PTR name holds a newline */
        unsigned long line =
            fmt == SN_OUTPUT_CSV ? (i == 0 ? 2 : (unsigned long)i + 3) : (unsigned long)i + 1;
        assert_int_equal(g->line, line);
    }
    got_t *g = &s.rows[0];
    assert_int_equal(g->seen, 4);
    assert_int_equal(g->first, 1700000000);
    assert_int_equal(g->last, 1700001000);
    assert_string_equal(g->sources, "a,b.xml;list.txt");
    assert_true(sn_addr_equal(&g->observed, &r[0].udp.observed));
    assert_true(sn_addr_equal(&g->reply, &r[0].udp.reply_from));
    assert_true(g->has_enrich);
    assert_string_equal(g->e.ptr, enr.ptr);
    assert_false(g->e.ptr_valid);
    assert_string_equal(g->e.geo.country, "US");
    assert_string_equal(g->e.geo.continent, "NA");
    assert_int_equal(g->e.geo.asn, 64500);
    assert_string_equal(g->e.geo.as_org, enr.geo.as_org);
    assert_true(g->e.class_known && g->e.cls.edu);
    assert_string_equal(g->edu_src, "ptr");
    assert_int_equal(g->e.cls.dyn, SN_DYN_STATIC);
    assert_string_equal(g->rule, "named-host");
    assert_string_equal(g->geo_src, "test.mmdb");
    assert_string_equal(g->rdns, "ok");
    assert_int_equal(s.rows[1].tport, 443);
    assert_string_equal(s.rows[2].blocked, "documentation (RFC 5737)");
    assert_false(s.rows[1].has_enrich);
    unlink(path);
    sn_targets_free(ts);
}

/*
 * Formula-looking text (OWASP CSV injection) is neutralised in the CSV, "\\=" for the PTR
 * name and a leading apostrophe elsewhere, and reads back exactly; NDJSON keeps the text.
 */
static void formula_round_trip(sn_output_format_t fmt)
{
    static sn_enrichment_t fe = {
        .rdns_status = "ok",
        .ptr = "=cmd|calc!A0.example.com -x.example",
        .geo_known = true,
        .geo = {.country = "US",
                .continent = "NA",
                .asn = 64501,
                .as_org = "@SUM(1+1)*cmd|' /C calc'!A0"},
        .class_known = true,
        .cls = {.dyn = SN_DYN_STATIC, .dyn_rule = "'=already quoted"},
    };
    sn_targets_t *ts = sn_targets_new();
    sn_addr_t a = addr_of("198.51.100.7", 33033);
    assert_true(sn_targets_begin_input(ts, "=HYPERLINK(1).txt") >= 0);
    assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK);
    sn_result_t r = {.target = sn_targets_find(ts, &a), .enrich = &fe};
    char path[] = "/tmp/sn_resultsin_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sn_output_t *o;
    sn_error_t err;
    assert_int_equal(sn_output_open(&o, fmt, path, ts, &err), SN_OK);
    sn_output_set_vantage(o, "-vantage");
    assert_int_equal(sn_output_write(o, &r, &err), SN_OK);
    assert_int_equal(sn_output_close(o, &err), SN_OK);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    if (fmt == SN_OUTPUT_CSV) {
        assert_non_null(strstr(text, ",\\=cmd|calc!A0.example.com -x.example,"));
        assert_non_null(strstr(text, ",'=HYPERLINK(1).txt,"));
        assert_non_null(strstr(text, ",'@SUM(1+1)*cmd|' /C calc'!A0,"));
        assert_non_null(strstr(text, ",''=already quoted,"));
        assert_non_null(strstr(text, ",'-vantage,"));
        assert_null(strstr(text, ",="));
        assert_null(strstr(text, ",@"));
    } else {
        assert_non_null(strstr(text, "\"ptr\":\"=cmd|calc!A0.example.com -x.example\""));
        assert_non_null(strstr(text, "\"sources\":\"=HYPERLINK(1).txt\""));
    }

    static sink_t s;
    memset(&s, 0, sizeof s);
    uint64_t rows = 0;
    assert_int_equal(sn_resultsin_read(path, collect, &s, &rows, &err), SN_OK);
    assert_int_equal(rows, 1);
    got_t *g = &s.rows[0];
    assert_string_equal(g->e.ptr, fe.ptr);
    assert_string_equal(g->e.geo.as_org, fe.geo.as_org);
    assert_string_equal(g->sources, "=HYPERLINK(1).txt");
    assert_string_equal(g->rule, "'=already quoted");
    assert_string_equal(g->vantage, "-vantage");
    unlink(path);
    sn_targets_free(ts);
}

static void test_csv_formulas_are_neutralised_and_read_back(void **state)
{
    (void)state;
    formula_round_trip(SN_OUTPUT_CSV);
}

static void test_ndjson_formulas_keep_the_exact_text(void **state)
{
    (void)state;
    formula_round_trip(SN_OUTPUT_NDJSON);
}

static void test_csv_round_trip_gives_back_every_field(void **state)
{
    (void)state;
    round_trip(SN_OUTPUT_CSV);
}

static void test_ndjson_round_trip_gives_back_every_field(void **state)
{
    (void)state;
    round_trip(SN_OUTPUT_NDJSON);
}

static void test_reader_knows_every_result_column_with_its_type(void **state)
{
    (void)state;
    for (size_t i = 0; i < sn_field_count; i++) {
        int type = -1;
        if (!sn_resultsin_knows(sn_fields[i].name, &type))
            fail_msg("the reader does not know column %s", sn_fields[i].name);
        assert_int_equal(type, (int)sn_fields[i].type);
    }
    assert_false(sn_resultsin_knows("no_such_column", NULL));
}

/* ---- leniency where it belongs --------------------------------------------------- */

static sn_status_t read_text(const char *text, sink_t *s, sn_error_t *err)
{
    memset(s, 0, sizeof *s);
    return sn_resultsin_read_buf("t.csv", text, strlen(text), collect, s, NULL, err);
}

static void test_csv_columns_any_order_unknown_ignored_missing_empty(void **state)
{
    (void)state;
    static sink_t s;
    sn_error_t err;
    assert_int_equal(read_text("\xEF\xBB\xBF"
                               "Extra,PORT,address,udp_outcome,udp_probe\r\n"
                               "whatever,33033,198.51.100.1,alive,skype\r\n"
                               "x,80,2001:db8::2,,\r\n",
                               &s, &err),
                     SN_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.rows[0].addr.port, 33033);
    assert_int_equal(s.rows[0].seen, 1); /* no seen_count column: listed once */
    assert_string_equal(s.rows[0].reach, "udp-only");
    assert_string_equal(s.rows[1].reach, "");
    assert_false(s.rows[1].has_enrich);
    assert_int_equal(s.rows[1].line, 3);
}

static void test_empty_input_and_header_only_have_no_rows(void **state)
{
    (void)state;
    static sink_t s;
    sn_error_t err;
    assert_int_equal(read_text("", &s, &err), SN_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(read_text("\n\n", &s, &err), SN_OK);
    assert_int_equal(read_text("address,port\n", &s, &err), SN_OK);
    assert_int_equal(s.n, 0);
}

static void test_ndjson_unknown_keys_and_nulls(void **state)
{
    (void)state;
    static sink_t s;
    sn_error_t err;
    assert_int_equal(read_text("{\"address\":\"198.51.100.1\",\"port\":1,\"future\":{\"x\":1},"
                               "\"udp_rtt_us\":null}\n",
                               &s, &err),
                     SN_EPARSE); /* nested values are refused even for unknown keys */
    assert_int_equal(read_text("\n{ \"address\" : \"198.51.100.1\" , \"port\" : 1 , \"future\" : "
                               "[] }\n",
                               &s, &err),
                     SN_EPARSE);
    assert_int_equal(read_text("{\"address\":\"198.51.100.1\",\"port\":1,\"future\":\"x\","
                               "\"later\":2.5e3,\"flag\":true,\"udp_rtt_us\":null,"
                               "\"ptr\":\"caf\\u00e9 \\ud83d\\ude00\"}\n"
                               "   \n",
                               &s, &err),
                     SN_OK);
    assert_int_equal(s.n, 1);
    assert_true(s.rows[0].has_enrich);
    assert_string_equal(s.rows[0].e.ptr, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    assert_string_equal(s.rows[0].rdns, "skipped");
}

static void test_callback_status_stops_the_read(void **state)
{
    (void)state;
    static sink_t s;
    memset(&s, 0, sizeof s);
    s.stop_at = SN_ELIMIT;
    s.stop_row = 1;
    sn_error_t err;
    const char *t = "address,port\n198.51.100.1,1\n198.51.100.2,1\n198.51.100.3,1\n";
    uint64_t rows = 0;
    assert_int_equal(sn_resultsin_read_buf("t", t, strlen(t), collect, &s, &rows, &err), SN_ELIMIT);
    assert_int_equal(s.n, 1);
    assert_string_equal(err.msg, "stopped by the callback");
}

/* ---- strictness ------------------------------------------------------------------ */

static void test_bad_rows_name_file_line_and_column(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
        sn_status_t st;
    } cases[] = {
        {"address,port\n198.51.100.1,1\n010.0.0.1,1\n", "t.csv:3: column address", SN_EPARSE},
        {"address,port\n198.51.100.1,70000\n", "t.csv:2: column port", SN_EPARSE},
        {"address,port\n198.51.100.1,0\n", "t.csv:2: column port", SN_EPARSE},
        {"address,port\n198.51.100.1\n", "t.csv:2: 1 fields, the header has 2", SN_EPARSE},
        {"address,port\n198.51.100.1,1,2\n", "t.csv:2: more fields", SN_EPARSE},
        {"addr,port\n198.51.100.1,1\n", "t.csv:1: the header has no address column", SN_EPARSE},
        {"address,port,port\n", "t.csv:1: column port appears twice", SN_EPARSE},
        {"address,port,udp_outcome\n198.51.100.1,1,dead\n", "column udp_outcome", SN_EPARSE},
        {"address,port,udp_rtt_us\n198.51.100.1,1,-5\n", "column udp_rtt_us", SN_EPARSE},
        {"address,port,udp_attempts\n198.51.100.1,1,256\n", "column udp_attempts", SN_EPARSE},
        {"address,port,seen_count\n198.51.100.1,1,4294967296\n", "column seen_count", SN_EPARSE},
        {"address,port,first_seen\n198.51.100.1,1,12x\n", "column first_seen", SN_EPARSE},
        {"address,port,udp_outcome,reply_from\n198.51.100.1,1,alive,198.51.100.2\n",
         "column reply_from", SN_EPARSE},
        {"address,port,observed_addr\n198.51.100.1,1,192.0.2.1\n", "with no probe", SN_EPARSE},
        {"address,port,udp_probe\n198.51.100.1,1,skype\n", "column udp_probe", SN_EPARSE},
        {"address,port,country\n198.51.100.1,1,usa\n", "column country", SN_EPARSE},
        {"address,port,continent\n198.51.100.1,1,XX\n", "column continent", SN_EPARSE},
        {"address,port,edu\n198.51.100.1,1,yes\n", "column edu", SN_EPARSE},
        {"address,port,edu_source\n198.51.100.1,1,dns\n", "column edu_source", SN_EPARSE},
        {"address,port,addr_kind\n198.51.100.1,1,sometimes\n", "column addr_kind", SN_EPARSE},
        {"address,port,tcp_port\n198.51.100.1,1,0\n", "column tcp_port", SN_EPARSE},
        {"address,port\n198.51.100.1,\"1\n", "t.csv:2: CSV error", SN_EPARSE},
        {"address,port\n\"198.51.100.1\"x,1\n", "t.csv:2: CSV error", SN_EPARSE},
        {"address,port\n,1\n", "column address: missing", SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":\"1\"}\n", "t.csv:1: column port: a string",
         SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":1.5}\n", "column port: a number", SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":1,\"edu\":1}\n", "column edu", SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":1,\"port\":2}\n", "appears twice", SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":1}\n{\"address\":\"198.51.100.2\",\"port\":1\n",
         "t.csv:2: the object is not closed", SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":1} x\n", "text after the object", SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":1,\"ptr\":\"\\x\"}\n", "bad escape", SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":1,\"ptr\":\"\\ud800\"}\n", "lone surrogate",
         SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":1,\"ptr\":\"\\u0000\"}\n", "NUL", SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":1,\"ptr\":\"\xff\"}\n", "invalid UTF-8",
         SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":01}\n", "expected ',' or '}'", SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":-}\n", "malformed number", SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":1,\"x\":nul}\n", "not JSON", SN_EPARSE},
        {"{\"port\":1}\n", "column address: missing", SN_EPARSE},
        {"{\"address\":\"198.51.100.1\",\"port\":1}\n[1]\n", "t.csv:2: not a JSON object",
         SN_EPARSE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        static sink_t s;
        sn_error_t err = {{0}};
        sn_status_t st = read_text(cases[i].text, &s, &err);
        if (st != cases[i].st || strstr(err.msg, cases[i].msg) == NULL)
            fail_msg("case %zu: status %d, message \"%s\", want %d and \"%s\"", i, st, err.msg,
                     cases[i].st, cases[i].msg);
    }
}

static void test_a_line_over_one_mib_is_refused(void **state)
{
    (void)state;
    size_t n = (1u << 20) + 100;
    char *t = malloc(n + 64);
    assert_non_null(t);
    strcpy(t, "{\"address\":\"198.51.100.1\",\"port\":1,\"ptr\":\"");
    size_t k = strlen(t);
    memset(t + k, 'a', n - k);
    strcpy(t + n, "\"}\n");
    static sink_t s;
    memset(&s, 0, sizeof s);
    sn_error_t err;
    assert_int_equal(sn_resultsin_read_buf("big", t, strlen(t), collect, &s, NULL, &err),
                     SN_ELIMIT);
    assert_non_null(strstr(err.msg, "1 MiB"));
    free(t);
}

static void test_a_long_ptr_cell_is_refused(void **state)
{
    (void)state;
    char t[4096];
    int k = snprintf(t, sizeof t, "address,port,ptr\n198.51.100.1,1,");
    memset(t + k, 'a', 1500);
    strcpy(t + k + 1500, "\n");
    static sink_t s;
    sn_error_t err;
    assert_int_equal(read_text(t, &s, &err), SN_EPARSE);
    assert_non_null(strstr(err.msg, "column ptr: longer than"));
}

static void test_missing_file_is_not_found(void **state)
{
    (void)state;
    sn_error_t err;
    assert_int_equal(sn_resultsin_read("/nonexistent/results.csv", collect, NULL, NULL, &err),
                     SN_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/results.csv"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_round_trip_gives_back_every_field),
        cmocka_unit_test(test_csv_formulas_are_neutralised_and_read_back),
        cmocka_unit_test(test_ndjson_formulas_keep_the_exact_text),
        cmocka_unit_test(test_ndjson_round_trip_gives_back_every_field),
        cmocka_unit_test(test_reader_knows_every_result_column_with_its_type),
        cmocka_unit_test(test_csv_columns_any_order_unknown_ignored_missing_empty),
        cmocka_unit_test(test_empty_input_and_header_only_have_no_rows),
        cmocka_unit_test(test_ndjson_unknown_keys_and_nulls),
        cmocka_unit_test(test_callback_status_stops_the_read),
        cmocka_unit_test(test_bad_rows_name_file_line_and_column),
        cmocka_unit_test(test_a_line_over_one_mib_is_refused),
        cmocka_unit_test(test_a_long_ptr_cell_is_refused),
        cmocka_unit_test(test_missing_file_is_not_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
