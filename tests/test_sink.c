/*
 * The sink seam (data/sink.h, reports/sinks.h): a new output format is one
 * file and one registry line. The test sink below is that one file's worth: an
 * ops table and a create function, handed to the scan beside the product's CSV
 * sink exactly as cli/ hands down the sinks it created from the registry.
 *
 * The claims: the scan gives a sink every result exactly once, in the order
 * the results file has them; begin and close are called once each, close also
 * when the scan is refused before it begins (then with begun false), when a
 * sink fails, and when a signal interrupts the scan; a sink whose add fails
 * gets nothing more while the others keep their rows, and its message is the
 * scan's. Dry runs need no network; the interrupted scan probes closed UDP
 * ports on 127.0.0.1 only (ICMP port unreachable answers at once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/sink.h"
#include "lib/addr.h"
#include "reports/sinks.h"
#include "scanner/scan.h"

/* ---- the test sink: what a new format's file holds ---- */

#define MAX_SEEN 256

typedef struct test_sink {
    int checks, begins, closes;
    size_t n;                            /* results added */
    char seen[MAX_SEEN][SN_ADDR_STRLEN]; /* "ip:port" of each, in order */
    size_t fail_at;                      /* add number n fails (1-based); 0: never */
    bool fail_check;                     /* check refuses */
    bool interrupt_on_probe;             /* raise SIGINT at the first probed result */
    bool raised;
    sn_sink_end_t end; /* as close saw it */
} test_sink_t;

static sn_status_t t_check(void *state, sn_error_t *err)
{
    test_sink_t *t = state;
    t->checks++;
    return t->fail_check ? sn_error_set(err, SN_EINVAL, "test sink refuses") : SN_OK;
}

static sn_status_t t_begin(void *state, const sn_sink_scan_t *scan, sn_error_t *err)
{
    (void)err;
    test_sink_t *t = state;
    assert_non_null(scan->targets);
    t->begins++;
    return SN_OK;
}

static sn_status_t t_add(void *state, const sn_result_t *r, sn_error_t *err)
{
    test_sink_t *t = state;
    assert_int_equal(t->begins, 1);
    assert_int_equal(t->closes, 0);
    assert_true(t->n < MAX_SEEN);
    sn_addr_format(&r->target->addr, t->seen[t->n], sizeof t->seen[t->n], true);
    t->n++;
    if (t->interrupt_on_probe && !t->raised && r->udp.probe != NULL) {
        t->raised = true;
        raise(SIGINT); /* the scan's own handler takes it, as a user's Ctrl-C */
    }
    if (t->fail_at != 0 && t->n == t->fail_at)
        return sn_error_set(err, SN_EIO, "test sink is full at row %zu", t->n);
    return SN_OK;
}

static sn_status_t t_close(void *state, const sn_sink_end_t *end, sn_error_t *err)
{
    (void)err;
    test_sink_t *t = state;
    t->closes++;
    t->end = *end;
    return SN_OK; /* the state is the test's: nothing to free */
}

static const sn_sink_ops_t test_ops = {
    .name = "test", .check = t_check, .begin = t_begin, .add = t_add, .close = t_close};

/* ---- helpers ---- */

typedef struct fixture {
    char dir[64];
    char input[128], csv[128];
} fixture_t;

static void fixture_make(fixture_t *f, size_t n_targets, uint16_t first_port)
{
    strcpy(f->dir, "/tmp/sn_test_sink_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->input, sizeof f->input, "%s/in.txt", f->dir);
    snprintf(f->csv, sizeof f->csv, "%s/out.csv", f->dir);
    FILE *in = fopen(f->input, "w");
    assert_non_null(in);
    for (size_t i = 0; i < n_targets; i++)
        fprintf(in, "127.0.0.1:%u\n", (unsigned)(first_port + i));
    fprintf(in, "10.0.0.1:%u\n", (unsigned)first_port); /* private: blocked, still a row */
    assert_int_equal(fclose(in), 0);
}

static void fixture_free(fixture_t *f)
{
    unlink(f->input);
    unlink(f->csv);
    rmdir(f->dir);
}

/* The scan configuration of a dry run over f's input, results to f's CSV. */
static sn_scan_cfg_t dry_cfg(const fixture_t *f, const char *const *inputs)
{
    (void)f;
    sn_scan_cfg_t sc = {.inputs = inputs, .n_inputs = 1, .dry_run = true, .quiet = true};
    sc.engine.seed = 7;
    return sc;
}

/* "ip:port" of every row of the CSV file, in file order; returns the count. */
static size_t csv_rows(const char *path, char rows[][SN_ADDR_STRLEN], size_t cap)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[4096];
    size_t n = 0;
    assert_non_null(fgets(line, sizeof line, fp)); /* the header */
    assert_true(strncmp(line, "address,port,", 13) == 0);
    while (fgets(line, sizeof line, fp) != NULL) {
        assert_true(n < cap);
        char *c1 = strchr(line, ',');
        assert_non_null(c1);
        char *c2 = strchr(c1 + 1, ',');
        assert_non_null(c2);
        snprintf(rows[n++], SN_ADDR_STRLEN, "%.*s:%.*s", (int)(c1 - line), line, (int)(c2 - c1 - 1),
                 c1 + 1);
    }
    fclose(fp);
    return n;
}

static void assert_each_once(const test_sink_t *t, size_t want)
{
    assert_int_equal(t->n, want);
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = i + 1; j < t->n; j++)
            assert_string_not_equal(t->seen[i], t->seen[j]);
}

/* ---- tests ---- */

static void test_sink_registry_names_every_kind_and_refuses_unknown(void **state)
{
    (void)state;
    static const char *const want[] = {"csv", "ndjson", "report", "export", "history"};
    assert_int_equal(sn_sink_kind_count, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(sn_sink_kinds[i]->name, want[i]);
        assert_ptr_equal(sn_sink_kind_find(want[i]), sn_sink_kinds[i]);
        assert_non_null(sn_sink_kinds[i]->help);
    }
    sn_sink_t s;
    sn_error_t err = {{0}};
    assert_int_equal(sn_sink_create("xml", &(sn_sink_cfg_t){.path = "x"}, &s, &err), SN_EINVAL);
    assert_null(s.ops);
    assert_non_null(strstr(err.msg, "xml"));
}

static void test_sink_gets_every_result_once_in_file_order_and_one_close(void **state)
{
    (void)state;
    fixture_t f;
    fixture_make(&f, 40, 20000);
    const char *inputs[] = {f.input};
    test_sink_t t = {0};
    sn_sink_t sinks[2] = {{.ops = &test_ops, .state = &t}};
    sn_error_t err = {{0}};
    assert_int_equal(sn_sink_create("csv", &(sn_sink_cfg_t){.path = f.csv}, &sinks[1], &err),
                     SN_OK);
    sn_scan_cfg_t sc = dry_cfg(&f, inputs);
    sc.sinks = sinks;
    sc.n_sinks = 2;
    sn_scan_summary_t sum;
    assert_int_equal(sn_scan_run(&sc, &sum, &err), SN_OK);
    assert_int_equal(t.checks, 1);
    assert_int_equal(t.begins, 1);
    assert_int_equal(t.closes, 1);
    assert_true(t.end.begun);
    assert_false(t.end.interrupted);
    assert_false(t.end.failed);
    assert_int_equal(t.end.targets, 41);
    assert_each_once(&t, 41); /* 40 targets and the blocked one */
    char rows[MAX_SEEN][SN_ADDR_STRLEN];
    size_t n = csv_rows(f.csv, rows, MAX_SEEN);
    assert_int_equal(n, t.n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(rows[i], t.seen[i]);
    fixture_free(&f);
}

static void test_sink_refused_at_check_is_closed_unbegun_and_nothing_written(void **state)
{
    (void)state;
    fixture_t f;
    fixture_make(&f, 5, 20100);
    const char *inputs[] = {f.input};
    test_sink_t t = {.fail_check = true};
    sn_sink_t sinks[2] = {{0}, {.ops = &test_ops, .state = &t}};
    sn_error_t err = {{0}};
    assert_int_equal(sn_sink_create("csv", &(sn_sink_cfg_t){.path = f.csv}, &sinks[0], &err),
                     SN_OK);
    sn_scan_cfg_t sc = dry_cfg(&f, inputs);
    sc.sinks = sinks;
    sc.n_sinks = 2;
    sn_scan_summary_t sum;
    assert_int_equal(sn_scan_run(&sc, &sum, &err), SN_EINVAL);
    assert_string_equal(err.msg, "test sink refuses");
    assert_int_equal(t.begins, 0);
    assert_int_equal(t.n, 0);
    assert_int_equal(t.closes, 1);
    assert_false(t.end.begun);
    struct stat sb;
    assert_int_equal(stat(f.csv, &sb), -1); /* the CSV sink never began: no file */
    assert_null(sinks[0].ops);              /* the scan closed and cleared it */
    fixture_free(&f);
}

static void test_sink_failing_add_gets_no_more_and_others_keep_their_rows(void **state)
{
    (void)state;
    fixture_t f;
    fixture_make(&f, 30, 20200);
    const char *inputs[] = {f.input};
    test_sink_t bad = {.fail_at = 3}, good = {0};
    sn_sink_t sinks[3] = {{.ops = &test_ops, .state = &good}, {.ops = &test_ops, .state = &bad}};
    sn_error_t err = {{0}};
    assert_int_equal(sn_sink_create("csv", &(sn_sink_cfg_t){.path = f.csv}, &sinks[2], &err),
                     SN_OK);
    sn_scan_cfg_t sc = dry_cfg(&f, inputs);
    sc.sinks = sinks;
    sc.n_sinks = 3;
    sn_scan_summary_t sum;
    assert_int_equal(sn_scan_run(&sc, &sum, &err), SN_EIO);
    assert_string_equal(err.msg, "test sink is full at row 3");
    assert_int_equal(bad.n, 3);
    assert_int_equal(bad.closes, 1);
    assert_int_equal(good.closes, 1);
    assert_true(good.end.failed); /* closed after the failure: it is told */
    assert_each_once(&good, 31);
    char rows[MAX_SEEN][SN_ADDR_STRLEN];
    assert_int_equal(csv_rows(f.csv, rows, MAX_SEEN), 31);
    fixture_free(&f);
}

static void test_sink_interrupted_scan_closes_once_with_every_measured_row(void **state)
{
    (void)state;
    fixture_t f;
    fixture_make(&f, 200, 21000);
    const char *inputs[] = {f.input};
    const char *allow[] = {"127.0.0.0/8"};
    test_sink_t t = {.interrupt_on_probe = true};
    sn_sink_t sinks[2] = {{.ops = &test_ops, .state = &t}};
    sn_error_t err = {{0}};
    assert_int_equal(sn_sink_create("csv", &(sn_sink_cfg_t){.path = f.csv}, &sinks[1], &err),
                     SN_OK);
    sn_scan_cfg_t sc = {.inputs = inputs,
                        .n_inputs = 1,
                        .allow = allow,
                        .n_allow = 1,
                        .quiet = true,
                        .sinks = sinks,
                        .n_sinks = 2,
                        .engine = {.rate = 100, /* 2 s for all: the signal lands well before */
                                   .max_inflight = 16,
                                   .timeout_ms = 300,
                                   .retries = 0,
                                   .seed = 3}};
    assert_int_equal(sn_scan_parse_plan("skype", &sc.engine, &err), SN_OK);
    sn_scan_summary_t sum;
    sn_status_t st = sn_scan_run(&sc, &sum, &err);
    if (st != SN_OK)
        fail_msg("scan: %s", err.msg);
    assert_true(t.raised);
    assert_true(sum.interrupted);
    assert_int_equal(t.closes, 1);
    assert_true(t.end.interrupted);
    /* The blocked row, the probed one that raised the signal, and at most what was
     * in flight then: far from the 201 of a finished scan (2 s at 100 probes/s). */
    assert_true(t.n >= 2 && t.n < 100);
    assert_each_once(&t, t.n);
    char rows[MAX_SEEN][SN_ADDR_STRLEN];
    size_t n = csv_rows(f.csv, rows, MAX_SEEN);
    assert_int_equal(n, t.n); /* the interrupted scan's file is committed, whole */
    for (size_t i = 0; i < n; i++)
        assert_string_equal(rows[i], t.seen[i]);
    fixture_free(&f);
}

/* The export and report kinds through their ops, as the scan calls them. */
static void test_sink_export_and_report_write_at_close_and_never_unbegun(void **state)
{
    (void)state;
    fixture_t f;
    fixture_make(&f, 1, 20300);
    char set[160], summary[160], html[160];
    snprintf(set, sizeof set, "%s/set.txt", f.dir);
    snprintf(summary, sizeof summary, "%s/summary.csv", f.dir);
    snprintf(html, sizeof html, "%s/report.html", f.dir);
    sn_export_opts_t xo = {.format = SN_EXPORT_PLAIN};
    sn_sink_t ex, rep, unbegun;
    sn_error_t err = {{0}};
    assert_int_equal(
        sn_sink_create("export", &(sn_sink_cfg_t){.path = set, .export_opts = &xo}, &ex, &err),
        SN_OK);
    assert_int_equal(
        sn_sink_create("report", &(sn_sink_cfg_t){.path = html, .summary = summary}, &rep, &err),
        SN_OK);
    assert_int_equal(sn_sink_create("export", &(sn_sink_cfg_t){.path = html, .export_opts = &xo},
                                    &unbegun, &err),
                     SN_OK);

    sn_targets_t *ts = sn_targets_new();
    sn_addr_t a[2];
    assert_int_equal(sn_addr_parse_endpoint("198.51.100.7:4000", 17, &a[0], NULL), SN_OK);
    assert_int_equal(sn_addr_parse_endpoint("198.51.100.8:4001", 17, &a[1], NULL), SN_OK);
    assert_true(sn_targets_begin_input(ts, "list.txt") >= 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(sn_targets_add(ts, &a[i], NULL), SN_OK);
    sn_result_t r[2] = {{.target = sn_targets_find(ts, &a[0])},
                        {.target = sn_targets_find(ts, &a[1])}};
    r[0].udp = (sn_probe_result_t){
        .probe = sn_probe_find("skype"), .outcome = SN_OUTCOME_ALIVE, .attempts = 1};
    r[1].udp = (sn_probe_result_t){
        .probe = sn_probe_find("skype"), .outcome = SN_OUTCOME_FILTERED, .attempts = 2};
    sn_sink_scan_t scan = {.targets = ts, .command = "test", .started_at = 1};
    const sn_sink_t *both[2] = {&ex, &rep};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(both[k]->ops->check(both[k]->state, &err), SN_OK);
        assert_int_equal(both[k]->ops->begin(both[k]->state, &scan, &err), SN_OK);
        for (int i = 0; i < 2; i++)
            assert_int_equal(both[k]->ops->add(both[k]->state, &r[i], &err), SN_OK);
    }
    sn_status_t st = SN_OK;
    sn_sinks_close(&unbegun, 1, &(sn_sink_end_t){.begun = false}, &st, &err);
    struct stat sb;
    assert_int_equal(stat(html, &sb), -1); /* never begun: it wrote nothing */
    sn_sink_t v[2] = {ex, rep};
    sn_sinks_close(v, 2, &(sn_sink_end_t){.begun = true, .started_at = 1, .ended_at = 2}, &st,
                   &err);
    assert_int_equal(st, SN_OK);
    assert_null(v[0].ops);

    FILE *fp = fopen(set, "r");
    assert_non_null(fp);
    char line[128] = "";
    assert_non_null(fgets(line, sizeof line, fp));
    assert_string_equal(line, "198.51.100.7:4000\n"); /* the alive node only */
    assert_null(fgets(line, sizeof line, fp));
    fclose(fp);
    assert_int_equal(stat(summary, &sb), 0);
    assert_true(sb.st_size > 0);
    assert_int_equal(stat(html, &sb), 0);
    assert_true(sb.st_size > 0);
    unlink(set);
    unlink(summary);
    unlink(html);
    sn_targets_free(ts);
    fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sink_registry_names_every_kind_and_refuses_unknown),
        cmocka_unit_test(test_sink_gets_every_result_once_in_file_order_and_one_close),
        cmocka_unit_test(test_sink_refused_at_check_is_closed_unbegun_and_nothing_written),
        cmocka_unit_test(test_sink_failing_add_gets_no_more_and_others_keep_their_rows),
        cmocka_unit_test(test_sink_interrupted_scan_closes_once_with_every_measured_row),
        cmocka_unit_test(test_sink_export_and_report_write_at_close_and_never_unbegun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
