/*
 * The probe seam: a probe that adds a result field is one file and one
 * registry line. The "greet" probe below is that file (it lives here, not in
 * the product): it declares one field, greet_text, and its parse fills it;
 * sn_probe_register is its registry line. Nothing else names it, and the
 * claims are that its field then is a column everywhere a user looks: the CSV
 * header and rows, NDJSON, the --list-fields listing, the results reader
 * (which reads it back and refuses it where it does not belong), and a real
 * scan, where the value goes from the reply through the engine to the file.
 *
 * The scan test answers from a UDP socket on 127.0.0.1 in a thread; CTest
 * runs this program in a private network namespace (tests/lib/in_netns.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "probes/probe.h"
#include "reports/output.h"
#include "reports/resultsin.h"
#include "reports/sinks.h"
#include "scanner/scan.h"

/* ---- the greet probe: what the new probe's file holds ---- */

#define GREETING "hello, world"

static const sn_field_decl_t greet_fields[] = {
    {.name = "greet_text",
     .type = SN_FIELD_STR,
     .help = "the text the node greets with (a test probe's field)"},
};

/* Request: "GREET" and the 64-bit token, big-endian. */
static int greet_build(const sn_probe_req_t *req, uint8_t *buf, size_t cap)
{
    if (cap < 13)
        return SN_ELIMIT;
    memcpy(buf, "GREET", 5);
    for (int i = 0; i < 8; i++)
        buf[5 + i] = (uint8_t)(req->token >> (56 - 8 * i));
    return 13;
}

/* Reply: "HI", the token, then the greeting (1..63 printable bytes). */
static int greet_parse(const uint8_t *buf, size_t len, sn_probe_reply_t *out)
{
    if (len < 11 || len > 10 + SN_FIELD_VALUE_CAP - 1 || memcmp(buf, "HI", 2) != 0)
        return 0;
    for (size_t i = 10; i < len; i++)
        if (buf[i] < 0x20 || buf[i] > 0x7e)
            return 0;
    for (int i = 0; i < 8; i++)
        out->token = out->token << 8 | buf[2 + i];
    memcpy(out->values.v[0], buf + 10, len - 10);
    out->values.v[0][len - 10] = '\0';
    return 1;
}

static int greet_answer(const uint8_t *req, size_t len, const sn_answer_ctx_t *ctx, uint8_t *out,
                        size_t cap)
{
    (void)ctx;
    if (len != 13 || memcmp(req, "GREET", 5) != 0)
        return 0;
    if (cap < 10 + strlen(GREETING))
        return SN_ELIMIT;
    memcpy(out, "HI", 2);
    memcpy(out + 2, req + 5, 8);
    memcpy(out + 10, GREETING, strlen(GREETING));
    return (int)(10 + strlen(GREETING));
}

static const sn_probe_t greet = {
    .name = "greet",
    .summary = "test probe: a greeting with one declared field",
    .transport = SN_TRANSPORT_UDP,
    .token_bits = 64,
    .fields = greet_fields,
    .n_fields = 1,
    .build = greet_build,
    .parse = greet_parse,
    .answer = greet_answer,
};

static int register_greet(void **state)
{
    (void)state;
    return sn_probe_register(&greet) == SN_OK ? 0 : -1; /* the one registry line */
}

/* ---- helpers ---- */

static char tmpdir[64];

static void path_in_tmp(const char *name, char *out, size_t cap)
{
    if (tmpdir[0] == '\0') {
        strcpy(tmpdir, "/tmp/sn_test_probe_field_XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
    }
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static sn_addr_t addr_of(const char *ip, uint16_t port)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &a), SN_OK);
    a.port = port;
    return a;
}

typedef struct got {
    size_t n;
    char probe[2][16];
    char value[2][SN_FIELD_VALUE_CAP];
} got_t;

static sn_status_t collect(void *ud, const sn_resultsin_row_t *row, sn_error_t *err)
{
    (void)err;
    got_t *g = ud;
    assert_true(g->n < 2);
    const sn_probe_result_t *u = &row->result.udp;
    snprintf(g->probe[g->n], sizeof g->probe[g->n], "%s", u->probe ? u->probe->name : "");
    const sn_field_values_t *v = row->result.udp_values;
    snprintf(g->value[g->n], sizeof g->value[g->n], "%s", v != NULL ? v->v[0] : "");
    g->n++;
    return SN_OK;
}

/* Two results: the greet probe with its value, and skype (which declares nothing). */
static void write_two(sn_output_format_t fmt, const char *path)
{
    sn_targets_t *ts = sn_targets_new();
    sn_addr_t a[2] = {addr_of("198.51.100.7", 4000), addr_of("198.51.100.8", 4001)};
    assert_true(sn_targets_begin_input(ts, "list.txt") >= 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(sn_targets_add(ts, &a[i], NULL), SN_OK);
    sn_result_t r[2];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 2; i++)
        r[i].target = sn_targets_find(ts, &a[i]);
    r[0].udp = (sn_probe_result_t){
        .probe = &greet, .outcome = SN_OUTCOME_ALIVE, .attempts = 1, .rtt_us = 900};
    sn_field_values_t greet_values = {{{0}}};
    strcpy(greet_values.v[0], GREETING);
    r[0].udp_values = &greet_values;
    r[1].udp = (sn_probe_result_t){
        .probe = sn_probe_find("skype"), .outcome = SN_OUTCOME_ALIVE, .attempts = 1, .rtt_us = 800};
    sn_output_t *o;
    sn_error_t err = {{0}};
    assert_int_equal(sn_output_open(&o, fmt, path, ts, &err), SN_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(sn_output_write(o, &r[i], &err), SN_OK);
    assert_int_equal(sn_output_close(o, &err), SN_OK);
    sn_targets_free(ts);
}

/* ---- tests ---- */

static void test_probe_field_registry_refuses_a_second_or_bad_declaration(void **state)
{
    (void)state;
    assert_ptr_equal(sn_probe_find("greet"), &greet);
    assert_int_equal(sn_probe_register(&greet), SN_EINVAL); /* the name is taken */
    static const sn_field_decl_t bad_name[] = {{.name = "Greet-Text", .help = "x"}};
    sn_probe_t p = greet;
    p.name = "greet2";
    p.fields = bad_name;
    assert_int_equal(sn_probe_register(&p), SN_EINVAL);
    static const sn_field_decl_t three[] = {
        {.name = "a", .help = "x"}, {.name = "b", .help = "x"}, {.name = "c", .help = "x"}};
    p.fields = three;
    p.n_fields = 3; /* more than SN_FIELD_VALUES_MAX */
    assert_int_equal(sn_probe_register(&p), SN_EINVAL);
    static const sn_field_decl_t twice[] = {{.name = "a", .help = "x"}, {.name = "a", .help = "y"}};
    p.fields = twice;
    p.n_fields = 2;
    assert_int_equal(sn_probe_register(&p), SN_EINVAL);
    assert_null(sn_probe_find("greet2"));
}

static void test_probe_field_is_a_column_after_the_common_ones_and_listed(void **state)
{
    (void)state;
    assert_int_equal(sn_field_count, SN_COL_CORE + 1);
    assert_string_equal(sn_fields[SN_COL_CORE - 1].name, "geo_source");
    assert_string_equal(sn_fields[SN_COL_CORE].name, "greet_text");
    assert_int_equal(sn_fields[SN_COL_CORE].type, SN_FIELD_STR);
    assert_ptr_equal(sn_fields[SN_COL_CORE].decl, &greet_fields[0]);
    assert_int_equal(sn_field_find("greet_text"), SN_COL_CORE);
    int type = -1;
    assert_true(sn_resultsin_knows("greet_text", &type));
    assert_int_equal(type, SN_FIELD_STR);

    /* --list-fields: the last line is the probe's field, with its type and help. */
    char path[128];
    path_in_tmp("fields.txt", path, sizeof path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    sn_fields_print(f);
    fclose(f);
    const char *text = slurp(path);
    const char *last = strstr(text, "\ngreet_text ");
    assert_non_null(last);
    assert_non_null(strstr(last, " str "));
    assert_non_null(strstr(last, "the text the node greets with (a test probe's field)\n"));
    assert_string_equal(last + strlen(last) - strlen("field)\n"), "field)\n");
    unlink(path);
}

static void test_probe_field_in_csv_header_and_rows_and_read_back(void **state)
{
    (void)state;
    char path[128];
    path_in_tmp("out.csv", path, sizeof path);
    write_two(SN_OUTPUT_CSV, path);
    const char *csv = slurp(path);
    const char *nl = strchr(csv, '\n');
    assert_non_null(nl);
    assert_memory_equal(nl - strlen(",geo_source,greet_text"), ",geo_source,greet_text",
                        strlen(",geo_source,greet_text"));
    const char *row1 = nl + 1, *row2 = strchr(row1, '\n') + 1;
    assert_memory_equal(row2 - 1 - strlen(",\"" GREETING "\""), ",\"" GREETING "\"",
                        strlen(",\"" GREETING "\"")); /* quoted for its comma */
    assert_true(strncmp(row1, "198.51.100.7,4000,", 18) == 0);
    assert_string_equal(row2 + strlen(row2) - 2, ",\n"); /* skype: the cell is empty */

    got_t g = {0};
    uint64_t rows = 0;
    sn_error_t err = {{0}};
    assert_int_equal(sn_resultsin_read(path, collect, &g, &rows, &err), SN_OK);
    assert_int_equal(rows, 2);
    assert_string_equal(g.probe[0], "greet");
    assert_string_equal(g.value[0], GREETING);
    assert_string_equal(g.probe[1], "skype");
    assert_string_equal(g.value[1], "");
    unlink(path);
}

static void test_probe_field_in_ndjson_and_read_back(void **state)
{
    (void)state;
    char path[128];
    path_in_tmp("out.ndjson", path, sizeof path);
    write_two(SN_OUTPUT_NDJSON, path);
    const char *js = slurp(path);
    const char *nl = strchr(js, '\n');
    assert_non_null(nl);
    assert_memory_equal(nl - strlen(",\"greet_text\":\"" GREETING "\"}"),
                        ",\"greet_text\":\"" GREETING "\"}",
                        strlen(",\"greet_text\":\"" GREETING "\"}"));
    assert_string_equal(js + strlen(js) - strlen(",\"greet_text\":null}\n"),
                        ",\"greet_text\":null}\n");
    got_t g = {0};
    uint64_t rows = 0;
    sn_error_t err = {{0}};
    assert_int_equal(sn_resultsin_read(path, collect, &g, &rows, &err), SN_OK);
    assert_int_equal(rows, 2);
    assert_string_equal(g.value[0], GREETING);
    assert_string_equal(g.value[1], "");
    unlink(path);
}

static void test_probe_field_reader_refuses_it_where_it_does_not_belong(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"address,port,udp_probe,udp_outcome,greet_text\n198.51.100.1,1,skype,alive,hi\n",
         "column greet_text: a value on a row whose probes do not declare it"},
        {"address,port,greet_text\n198.51.100.1,1,hi\n",
         "column greet_text: a value on a row whose probes do not declare it"},
        {"address,port,udp_probe,udp_outcome,greet_text\n198.51.100.1,1,greet,alive,"
         "0123456789012345678901234567890123456789012345678901234567890123\n",
         "column greet_text: longer than 63 bytes"},
        {"{\"address\":\"198.51.100.1\",\"port\":1,\"udp_probe\":\"greet\",\"udp_outcome\":"
         "\"alive\",\"greet_text\":7}\n",
         "greet_text"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        got_t g = {0};
        uint64_t rows = 0;
        sn_error_t err = {{0}};
        assert_int_equal(sn_resultsin_read_buf("in", cases[i].text, strlen(cases[i].text), collect,
                                               &g, &rows, &err),
                         SN_EPARSE);
        if (strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: %s", i, err.msg);
        assert_int_equal(g.n, 0);
    }
}

/* ---- a real scan: the value goes from the reply, through the engine, to the file ---- */

typedef struct responder {
    int fd;
    uint16_t port;
    volatile int stop;
    int answered;
} responder_t;

static void *respond(void *arg)
{
    responder_t *rs = arg;
    while (!rs->stop) {
        uint8_t q[64], a[128];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(rs->fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
        if (n <= 0)
            continue; /* the receive timeout: look at stop again */
        sn_answer_ctx_t ctx = {0};
        int k = greet.answer(q, (size_t)n, &ctx, a, sizeof a);
        if (k > 0 && sendto(rs->fd, a, (size_t)k, 0, (struct sockaddr *)&from, fl) == k)
            rs->answered++;
    }
    return NULL;
}

static void test_probe_field_flows_from_the_reply_through_a_scan_to_the_csv(void **state)
{
    (void)state;
    responder_t rs = {.fd = socket(AF_INET, SOCK_DGRAM, 0)};
    assert_true(rs.fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(rs.fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(rs.fd, (struct sockaddr *)&sa, &sl), 0);
    rs.port = ntohs(sa.sin_port);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    assert_int_equal(setsockopt(rs.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, respond, &rs), 0);

    char input[128], csv[128];
    path_in_tmp("targets.txt", input, sizeof input);
    path_in_tmp("scan.csv", csv, sizeof csv);
    FILE *in = fopen(input, "w");
    assert_non_null(in);
    fprintf(in, "127.0.0.1:%u\n", rs.port);
    fclose(in);
    const char *inputs[] = {input};
    const char *allow[] = {"127.0.0.0/8"};
    sn_sink_t sinks[1];
    sn_error_t err = {{0}};
    assert_int_equal(sn_sink_create("csv", &(sn_sink_cfg_t){.path = csv}, &sinks[0], &err), SN_OK);
    sn_scan_cfg_t sc = {
        .inputs = inputs,
        .n_inputs = 1,
        .allow = allow,
        .n_allow = 1,
        .quiet = true,
        .sinks = sinks,
        .n_sinks = 1,
        .engine = {.rate = 1000, .max_inflight = 16, .timeout_ms = 2000, .retries = 1, .seed = 5}};
    assert_int_equal(sn_scan_parse_plan("greet", &sc.engine, &err), SN_OK);
    sn_scan_summary_t sum;
    sn_status_t st = sn_scan_run(&sc, &sum, &err);
    rs.stop = 1;
    pthread_join(th, NULL);
    close(rs.fd);
    if (st != SN_OK)
        fail_msg("scan: %s", err.msg);
    assert_true(rs.answered >= 1);
    assert_int_equal(sum.udp_alive, 1);

    got_t g = {0};
    uint64_t rows = 0;
    assert_int_equal(sn_resultsin_read(csv, collect, &g, &rows, &err), SN_OK);
    assert_int_equal(rows, 1);
    assert_string_equal(g.probe[0], "greet");
    assert_string_equal(g.value[0], GREETING);
    const char *text = slurp(csv);
    assert_non_null(strstr(text, ",greet_text\n"));
    assert_non_null(strstr(text, ",\"" GREETING "\"\n"));
    unlink(input);
    unlink(csv);
}

static int cleanup(void **state)
{
    (void)state;
    if (tmpdir[0] != '\0')
        rmdir(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_field_registry_refuses_a_second_or_bad_declaration),
        cmocka_unit_test(test_probe_field_is_a_column_after_the_common_ones_and_listed),
        cmocka_unit_test(test_probe_field_in_csv_header_and_rows_and_read_back),
        cmocka_unit_test(test_probe_field_in_ndjson_and_read_back),
        cmocka_unit_test(test_probe_field_reader_refuses_it_where_it_does_not_belong),
        cmocka_unit_test(test_probe_field_flows_from_the_reply_through_a_scan_to_the_csv),
    };
    return cmocka_run_group_tests(tests, register_greet, cleanup);
}
