/*
 * The result sinks and the field table (reports/output.c, reports/fields.c).
 *
 * Golden rows are compared whole; CSV is read back with libcsv's own parser
 * and NDJSON with a small strict checker below (RFC 8259 grammar for an
 * object of scalars, and UTF-8 validity of the raw bytes), so the tests hold
 * the writers to what a reader of the files will see. Every file lives in a
 * fresh mkdtemp directory under /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <csv.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/output.h"
#include "lib/json.h"
#include "lib/text.h"

static const sn_probe_t fake_udp = {.name = "skype-udp", .transport = SN_TRANSPORT_UDP};
static const sn_probe_t fake_tcp = {.name = "tcp", .transport = SN_TRANSPORT_TCP};

static const char *const expected_names[] = {
    "address",       "port",        "seen_count",  "sources",     "first_seen", "last_seen",
    "flags",         "blocked",     "udp_probe",   "udp_outcome", "udp_rtt_us", "udp_attempts",
    "observed_addr", "reply_from",  "tcp_outcome", "tcp_rtt_us",  "tcp_port",   "tcp_attempts",
    "reach_class",   "sn_eligible", "vantage",     "rdns_status", "ptr",        "ptr_valid",
    "country",       "continent",   "asn",         "as_org",      "edu",        "edu_source",
    "addr_kind",     "dyn_rule",    "geo_source",
};
#define NFIELDS (sizeof expected_names / sizeof expected_names[0])

static const char golden_header[] =
    "address,port,seen_count,sources,first_seen,last_seen,flags,blocked,udp_probe,"
    "udp_outcome,udp_rtt_us,udp_attempts,observed_addr,reply_from,tcp_outcome,tcp_rtt_us,"
    "tcp_port,tcp_attempts,reach_class,sn_eligible,vantage,rdns_status,ptr,ptr_valid,country,"
    "continent,asn,as_org,edu,edu_source,addr_kind,dyn_rule,geo_source\n";

/* ---- helpers ------------------------------------------------------------ */

struct tmpdir {
    char path[64];
};

static void tmpdir_make(struct tmpdir *d)
{
    snprintf(d->path, sizeof d->path, "/tmp/sn_output_XXXXXX");
    assert_non_null(mkdtemp(d->path));
}

static void tmpdir_file(const struct tmpdir *d, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", d->path, name);
}

static void tmpdir_remove(const struct tmpdir *d, const char *const *names)
{
    char p[256];
    for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
        tmpdir_file(d, names[i], p, sizeof p);
        unlink(p);
    }
    rmdir(d->path);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    for (;;) {
        if (n + 1024 + 1 > cap) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    b[n] = '\0';
    if (len != NULL)
        *len = n;
    return b;
}

/* The sink's temporary file next to DIR/name (".name.XXXXXX"); false if none. */
static bool find_temp(const struct tmpdir *d, const char *name, char *out, size_t cap)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, ".%s.", name);
    DIR *dir = opendir(d->path);
    assert_non_null(dir);
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(dir)) != NULL;)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
            if ((size_t)snprintf(out, cap, "%s/%.*s", d->path, 180, e->d_name) >= cap)
                fail();
            found = true;
        }
    closedir(dir);
    return found;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static sn_addr_t v4(const char *ip, uint16_t port)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &a), SN_OK);
    a.port = port;
    return a;
}

/* A target set with one fully described target 198.51.100.7:33033. */
static sn_targets_t *golden_targets(const sn_target_t **t)
{
    sn_targets_t *ts = sn_targets_new();
    assert_non_null(ts);
    sn_addr_t a = v4("198.51.100.7", 33033);
    assert_true(sn_targets_begin_input(ts, "hosts.xml") >= 0);
    sn_listing_t l1 = {
        .count = 3, .first_seen = 1700000000, .last_seen = 1700001000, .flags = "0x1f"};
    assert_int_equal(sn_targets_add(ts, &a, &l1), SN_OK);
    assert_true(sn_targets_begin_input(ts, "list.txt") >= 0);
    sn_listing_t l2 = {.count = 1, .last_seen = 1700003600, .source = "harvest;2024"};
    assert_int_equal(sn_targets_add(ts, &a, &l2), SN_OK);
    *t = sn_targets_find(ts, &a);
    assert_non_null(*t);
    return ts;
}

/* Every field has a value: UDP alive through a NAT, TCP alive on 443. */
static sn_result_t golden_result(const sn_target_t *t)
{
    sn_result_t r = {.target = t};
    r.udp.probe = &fake_udp;
    r.udp.outcome = SN_OUTCOME_ALIVE;
    r.udp.attempts = 2;
    r.udp.port = 33033;
    r.udp.rtt_us = 12345;
    r.udp.observed = v4("203.0.113.5", 40001);
    r.udp.reply_from = v4("198.51.100.8", 33034);
    r.tcp.probe = &fake_tcp;
    r.tcp.outcome = SN_OUTCOME_ALIVE;
    r.tcp.attempts = 3;
    r.tcp.port = 443;
    r.tcp.rtt_us = 23456;
    /* A hostile PTR name and an AS name with a quote and a comma: both must be escaped. */
    static sn_enrichment_t en = {
        .rdns_status = "ok",
        .ptr = "=cmd.example.edu host2.example.edu",
        .ptr_valid = false,
        .geo_known = true,
        .geo = {.country = "US",
                .continent = "NA",
                .asn = 64500,
                .as_org = "Example \"Uni\", Inc",
                .source = "test.mmdb"},
        .class_known = true,
        .cls = {.edu = true, .edu_source = "ptr", .dyn = SN_DYN_STATIC, .dyn_rule = "named-host"},
    };
    r.enrich = &en;
    return r;
}

static const char golden_csv_row[] =
    "198.51.100.7,33033,4,\"hosts.xml;harvest,2024\",1700000000,1700003600,0x1f,,skype-udp,"
    "alive,12345,2,203.0.113.5:40001,198.51.100.8:33034,alive,23456,443,3,udp+tcp-443,0,,ok,"
    "\\=cmd.example.edu host2.example.edu,0,US,NA,64500,\"Example \"\"Uni\"\", Inc\",1,ptr,"
    "static,named-host,test.mmdb\n";

static const char golden_json_row[] =
    "{\"address\":\"198.51.100.7\",\"port\":33033,\"seen_count\":4,"
    "\"sources\":\"hosts.xml;harvest,2024\",\"first_seen\":1700000000,"
    "\"last_seen\":1700003600,\"flags\":\"0x1f\",\"blocked\":null,"
    "\"udp_probe\":\"skype-udp\",\"udp_outcome\":\"alive\",\"udp_rtt_us\":12345,"
    "\"udp_attempts\":2,\"observed_addr\":\"203.0.113.5:40001\","
    "\"reply_from\":\"198.51.100.8:33034\",\"tcp_outcome\":\"alive\",\"tcp_rtt_us\":23456,"
    "\"tcp_port\":443,\"tcp_attempts\":3,\"reach_class\":\"udp+tcp-443\","
    "\"sn_eligible\":false,\"vantage\":null,\"rdns_status\":\"ok\","
    "\"ptr\":\"=cmd.example.edu host2.example.edu\",\"ptr_valid\":false,\"country\":\"US\","
    "\"continent\":\"NA\",\"asn\":64500,\"as_org\":\"Example \\\"Uni\\\", Inc\",\"edu\":true,"
    "\"edu_source\":\"ptr\",\"addr_kind\":\"static\",\"dyn_rule\":\"named-host\","
    "\"geo_source\":\"test.mmdb\"}\n";

/* Writes the given results to a fresh file and returns its bytes. */
static char *write_rows(sn_output_format_t fmt, const sn_targets_t *ts, const sn_result_t *rs,
                        size_t n, size_t *len)
{
    struct tmpdir d;
    char path[256];
    sn_error_t err = {{0}};
    sn_output_t *o = NULL;

    tmpdir_make(&d);
    tmpdir_file(&d, "out", path, sizeof path);
    assert_int_equal(sn_output_open(&o, fmt, path, ts, &err), SN_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sn_output_write(o, &rs[i], &err), SN_OK);
    assert_int_equal(sn_output_rows(o), n);
    assert_int_equal(sn_output_close(o, &err), SN_OK);
    char *b = slurp(path, len);
    assert_non_null(b);
    const char *const names[] = {"out", NULL};
    tmpdir_remove(&d, names);
    return b;
}

/* ---- CSV read-back through libcsv --------------------------------------- */

#define MAX_ROWS 16

struct csv_table {
    char *cell[MAX_ROWS][NFIELDS];
    size_t ncols[MAX_ROWS];
    size_t nrows;
    bool overflow;
};

static void on_cell(void *s, size_t len, void *ud)
{
    struct csv_table *t = ud;
    if (t->nrows >= MAX_ROWS || t->ncols[t->nrows] >= NFIELDS) {
        t->overflow = true;
        return;
    }
    char *c = malloc(len + 1);
    assert_non_null(c);
    if (len > 0)
        memcpy(c, s, len);
    c[len] = '\0';
    t->cell[t->nrows][t->ncols[t->nrows]++] = c;
}

static void on_row(int term, void *ud)
{
    (void)term;
    struct csv_table *t = ud;
    if (t->nrows < MAX_ROWS)
        t->nrows++;
    else
        t->overflow = true;
}

static void csv_read(const char *b, size_t len, struct csv_table *t)
{
    struct csv_parser p;
    memset(t, 0, sizeof *t);
    assert_int_equal(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI), 0);
    assert_int_equal(csv_parse(&p, b, len, on_cell, on_row, t), len);
    assert_int_equal(csv_fini(&p, on_cell, on_row, t), 0);
    csv_free(&p);
    assert_false(t->overflow);
}

static void csv_table_free(struct csv_table *t)
{
    for (size_t r = 0; r < MAX_ROWS; r++)
        for (size_t c = 0; c < NFIELDS; c++)
            free(t->cell[r][c]);
}

static size_t field_index(const char *name)
{
    for (size_t i = 0; i < sn_field_count; i++)
        if (strcmp(sn_fields[i].name, name) == 0)
            return i;
    fail_msg("no field %s", name);
    return 0;
}

/* ---- NDJSON checker ----------------------------------------------------- */

struct jcur {
    const unsigned char *s;
    size_t n, i;
};

static void jws(struct jcur *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t'))
        c->i++;
}

static bool jlit(struct jcur *c, const char *lit)
{
    size_t l = strlen(lit);
    if (c->n - c->i < l || memcmp(c->s + c->i, lit, l) != 0)
        return false;
    c->i += l;
    return true;
}

static size_t utf8_ok(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < need; k++)
        if (s[k] < 0x80 || s[k] > 0xBF)
            return 0;
    return need;
}

/* A JSON string; copies the raw (still escaped) contents into out if given. */
static bool jstring(struct jcur *c, char *out, size_t cap)
{
    size_t start;
    if (c->i >= c->n || c->s[c->i] != '"')
        return false;
    start = ++c->i;
    while (c->i < c->n) {
        unsigned char ch = c->s[c->i];
        if (ch == '"') {
            if (out != NULL) {
                size_t l = c->i - start;
                if (l >= cap)
                    return false;
                memcpy(out, c->s + start, l);
                out[l] = '\0';
            }
            c->i++;
            return true;
        }
        if (ch < 0x20)
            return false;
        if (ch == '\\') {
            if (c->i + 1 >= c->n)
                return false;
            char e = (char)c->s[c->i + 1];
            if (e == 'u') {
                if (c->i + 6 > c->n)
                    return false;
                for (size_t k = 2; k < 6; k++)
                    if (!strchr("0123456789abcdefABCDEF", c->s[c->i + k]) || c->s[c->i + k] == 0)
                        return false;
                c->i += 6;
            } else if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
                c->i += 2;
            } else {
                return false;
            }
            continue;
        }
        size_t k = utf8_ok(c->s + c->i, c->n - c->i);
        if (k == 0)
            return false;
        c->i += k;
    }
    return false;
}

static bool jnumber(struct jcur *c)
{
    size_t st = c->i;
    if (c->i < c->n && c->s[c->i] == '-')
        c->i++;
    if (c->i >= c->n || c->s[c->i] < '0' || c->s[c->i] > '9')
        return false;
    if (c->s[c->i] == '0')
        c->i++;
    else
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
            c->i++;
    if (c->i < c->n && c->s[c->i] == '.') {
        c->i++;
        size_t d = c->i;
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
            c->i++;
        if (c->i == d)
            return false;
    }
    return c->i > st;
}

/*
 * Checks that line (without its '\n') is one JSON object of scalars whose
 * keys are exactly the field names in table order.
 */
static void json_check_line(const char *line, size_t n)
{
    struct jcur c = {(const unsigned char *)line, n, 0};
    char key[64];
    size_t k = 0;

    jws(&c);
    if (!jlit(&c, "{"))
        fail_msg("line does not start an object: %.*s", (int)n, line);
    jws(&c);
    if (!jlit(&c, "}")) {
        for (;;) {
            jws(&c);
            if (!jstring(&c, key, sizeof key))
                fail_msg("bad key at %zu: %.*s", c.i, (int)n, line);
            assert_true(k < sn_field_count);
            assert_string_equal(key, sn_fields[k].name);
            k++;
            jws(&c);
            if (!jlit(&c, ":"))
                fail_msg("no colon at %zu", c.i);
            jws(&c);
            if (!(jstring(&c, NULL, 0) || jnumber(&c) || jlit(&c, "true") || jlit(&c, "false") ||
                  jlit(&c, "null")))
                fail_msg("bad value at %zu: %.*s", c.i, (int)n, line);
            jws(&c);
            if (jlit(&c, "}"))
                break;
            if (!jlit(&c, ","))
                fail_msg("no comma at %zu: %.*s", c.i, (int)n, line);
        }
    }
    jws(&c);
    assert_int_equal(c.i, n);
    assert_int_equal(k, sn_field_count);
}

static size_t json_check_all(const char *b, size_t len)
{
    size_t lines = 0, start = 0;
    assert_true(len > 0);
    assert_int_equal(b[len - 1], '\n');
    for (size_t i = 0; i < len; i++) {
        if (b[i] == '\n') {
            json_check_line(b + start, i - start);
            start = i + 1;
            lines++;
        }
    }
    return lines;
}

/* ---- field table -------------------------------------------------------- */

static void test_fields_have_stable_order_names_and_help(void **state)
{
    (void)state;
    assert_int_equal(sn_field_count, NFIELDS);
    for (size_t i = 0; i < sn_field_count; i++) {
        assert_string_equal(sn_fields[i].name, expected_names[i]);
        assert_true(strspn(sn_fields[i].name, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
                    strlen(sn_fields[i].name));
        assert_non_null(sn_fields[i].format);
        assert_non_null(sn_fields[i].help);
        assert_true(strlen(sn_fields[i].help) > 20);
        assert_null(strchr(sn_fields[i].help, '\n'));
    }
}

static void test_fields_print_lists_every_field_once_with_type(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    sn_fields_print(f);
    fclose(f);

    size_t line = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        char name[64], type[16];
        int used = 0;
        assert_true(line < NFIELDS);
        assert_int_equal(sscanf(l, "%63s %15s %n", name, type, &used), 2);
        assert_string_equal(name, expected_names[line]);
        assert_string_equal(type, sn_field_type_name(sn_fields[line].type));
        assert_string_equal(l + used, sn_fields[line].help);
        line++;
    }
    assert_int_equal(line, NFIELDS);
    free(text);
    assert_string_equal(sn_field_type_name(SN_FIELD_INT), "int");
    assert_string_equal(sn_field_type_name(SN_FIELD_BOOL), "bool");
}

/* ---- CSV ---------------------------------------------------------------- */

static void test_csv_header_is_exact(void **state)
{
    (void)state;
    size_t len;
    char *b = write_rows(SN_OUTPUT_CSV, NULL, NULL, 0, &len);
    assert_int_equal(len, strlen(golden_header));
    assert_memory_equal(b, golden_header, len);
    free(b);
}

static void test_csv_row_with_every_field_filled_is_exact(void **state)
{
    (void)state;
    const sn_target_t *t;
    sn_targets_t *ts = golden_targets(&t);
    sn_result_t r = golden_result(t);
    size_t len;
    char *b = write_rows(SN_OUTPUT_CSV, ts, &r, 1, &len);

    size_t hl = strlen(golden_header), rl = strlen(golden_csv_row);
    assert_int_equal(len, hl + rl);
    assert_memory_equal(b + hl, golden_csv_row, rl);
    free(b);
    sn_targets_free(ts);
}

static void test_csv_blocked_target_leaves_probe_columns_empty(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    assert_non_null(ts);
    assert_true(sn_targets_begin_input(ts, "in.txt") >= 0);
    sn_addr_t a = v4("10.1.2.3", 33033);
    assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK);
    sn_result_t r = {.target = sn_targets_find(ts, &a), .blocked = "private (RFC 1918)"};
    size_t len;
    char *b = write_rows(SN_OUTPUT_CSV, ts, &r, 1, &len);

    static const char want[] =
        "10.1.2.3,33033,1,in.txt,,,,private (RFC 1918),,,,,,,,,,,,,,,,,,,,,,,,,\n";
    size_t hl = strlen(golden_header);
    assert_int_equal(len, hl + strlen(want));
    assert_memory_equal(b + hl, want, strlen(want));
    free(b);
    sn_targets_free(ts);
}

static void test_csv_awkward_values_round_trip_through_libcsv(void **state)
{
    (void)state;
    static const char *const awkward[] = {
        "he said \"hi\", then\nleft",
        "=cmd|' /C calc'!A0",
        "+1+2",
        "-2+3",
        "@SUM(A1)",
        "\tleading tab",
        "\rleading cr",
        "trailing space ",
        " leading space",
        "crlf\r\ninside",
        "plain",
        "\"",
    };
    enum { N = sizeof awkward / sizeof awkward[0] };
    sn_targets_t *ts = sn_targets_new();
    assert_non_null(ts);
    assert_true(sn_targets_begin_input(ts, "in") >= 0);
    sn_result_t rs[N];
    for (size_t i = 0; i < N; i++) {
        sn_addr_t a = v4("198.51.100.1", (uint16_t)(1000 + i));
        sn_listing_t l = {.flags = awkward[i], .source = awkward[i]};
        assert_int_equal(sn_targets_add(ts, &a, &l), SN_OK);
        rs[i] = (sn_result_t){.target = sn_targets_find(ts, &a), .blocked = awkward[i]};
    }
    size_t len;
    char *b = write_rows(SN_OUTPUT_CSV, ts, rs, N, &len);

    struct csv_table t;
    csv_read(b, len, &t);
    assert_int_equal(t.nrows, N + 1);
    size_t fl = field_index("flags"), bl = field_index("blocked"), so = field_index("sources");
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(t.ncols[i + 1], NFIELDS);
        /* A formula-looking text cell carries OWASP's apostrophe; the rule's own undo gives
         * the value back exactly (resultsin.c reads it so). */
        const size_t cols[] = {fl, bl, so};
        for (size_t k = 0; k < 3; k++) {
            const char *c = t.cell[i + 1][cols[k]];
            bool formula = strchr("=+-@\t\r", awkward[i][0]) != NULL;
            assert_int_equal(c[0] == '\'', formula);
            size_t skip = sn_csv_formula_prefix(c, strlen(c));
            assert_int_equal(skip, formula ? 1 : 0);
            assert_string_equal(c + skip, awkward[i]);
        }
    }
    /* Formula-looking text cells are neutralised: no cell begins with a formula. */
    assert_non_null(strstr(b, ",'=cmd|' /C calc'!A0,"));
    assert_non_null(strstr(b, ",'+1+2,"));
    assert_non_null(strstr(b, ",'-2+3,"));
    assert_non_null(strstr(b, ",'@SUM(A1),"));
    assert_non_null(strstr(b, ",'\tleading tab,"));
    assert_null(strstr(b, ",=cmd"));
    assert_null(strstr(b, ",\"=cmd"));
    /* ...and a plain one is not. */
    assert_non_null(strstr(b, ",plain,plain,"));
    csv_table_free(&t);
    free(b);
    sn_targets_free(ts);
}

static void test_csv_sources_join_in_order_and_semicolon_becomes_comma(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    assert_non_null(ts);
    sn_addr_t a = v4("198.51.100.2", 443);
    assert_true(sn_targets_begin_input(ts, "b.xml") >= 0);
    assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK);
    assert_true(sn_targets_begin_input(ts, "a;b.txt") >= 0);
    assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK);
    assert_true(sn_targets_begin_input(ts, "-") >= 0);
    assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK);
    sn_result_t r = {.target = sn_targets_find(ts, &a)};
    char buf[256];
    sn_field_ctx_t ctx = {.targets = ts};
    sn_fields[field_index("sources")].format(&ctx, &r, buf, sizeof buf);
    assert_string_equal(buf, "b.xml;a,b.txt;-");

    /* A lone "-" (stdin) in a text column would read as a formula: neutralised. */
    sn_targets_t *ts2 = sn_targets_new();
    assert_non_null(ts2);
    assert_true(sn_targets_begin_input(ts2, "-") >= 0);
    assert_int_equal(sn_targets_add(ts2, &a, NULL), SN_OK);
    r.target = sn_targets_find(ts2, &a);
    size_t len;
    char *b = write_rows(SN_OUTPUT_CSV, ts2, &r, 1, &len);
    assert_string_equal(b + strlen(golden_header),
                        "198.51.100.2,443,1,'-,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n");
    free(b);
    sn_targets_free(ts2);
    sn_targets_free(ts);
}

static void test_sources_that_do_not_fit_drop_whole_labels(void **state)
{
    (void)state;
    char big[3][7001];
    sn_targets_t *ts = sn_targets_new();
    assert_non_null(ts);
    sn_addr_t a = v4("198.51.100.3", 80);
    for (int i = 0; i < 3; i++) {
        memset(big[i], 'a' + i, 7000);
        big[i][7000] = '\0';
        assert_true(sn_targets_begin_input(ts, big[i]) >= 0);
        assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK);
    }
    sn_result_t r = {.target = sn_targets_find(ts, &a)};
    size_t len;
    char *b = write_rows(SN_OUTPUT_CSV, ts, &r, 1, &len);
    struct csv_table t;
    csv_read(b, len, &t);
    const char *cell = t.cell[1][field_index("sources")];
    assert_int_equal(strlen(cell), 7000 + 1 + 7000);
    assert_int_equal(cell[7000], ';');
    assert_memory_equal(cell, big[0], 7000);
    assert_memory_equal(cell + 7001, big[1], 7000);
    csv_table_free(&t);
    free(b);
    sn_targets_free(ts);
}

static void test_observed_without_port_and_ipv6_reply_from(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    assert_non_null(ts);
    assert_true(sn_targets_begin_input(ts, "in") >= 0);
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip("2001:db8::7", 11, &a), SN_OK);
    a.port = 33033;
    assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK);
    sn_result_t r = {.target = sn_targets_find(ts, &a)};
    r.udp.probe = &fake_udp;
    r.udp.outcome = SN_OUTCOME_ALIVE;
    r.udp.attempts = 1;
    r.udp.port = 33033;
    r.udp.rtt_us = 0;
    r.udp.observed = v4("203.0.113.9", 0);
    assert_int_equal(sn_addr_parse_ip("2001:db8::8", 11, &r.udp.reply_from), SN_OK);
    r.udp.reply_from.port = 5000;
    r.tcp.probe = &fake_tcp;
    r.tcp.outcome = SN_OUTCOME_FILTERED;
    r.tcp.attempts = 2;
    r.tcp.port = 33033;
    r.tcp.rtt_us = 999; /* not alive: not written */
    size_t len;
    char *b = write_rows(SN_OUTPUT_NDJSON, ts, &r, 1, &len);
    static const char want[] =
        "{\"address\":\"2001:db8::7\",\"port\":33033,\"seen_count\":1,\"sources\":\"in\","
        "\"first_seen\":null,\"last_seen\":null,\"flags\":null,\"blocked\":null,"
        "\"udp_probe\":\"skype-udp\",\"udp_outcome\":\"alive\",\"udp_rtt_us\":0,"
        "\"udp_attempts\":1,\"observed_addr\":\"203.0.113.9\","
        "\"reply_from\":\"[2001:db8::8]:5000\",\"tcp_outcome\":\"filtered\","
        "\"tcp_rtt_us\":null,\"tcp_port\":33033,\"tcp_attempts\":2,"
        "\"reach_class\":\"udp-only\",\"sn_eligible\":false,"
        "\"vantage\":null,\"rdns_status\":null,\"ptr\":null,\"ptr_valid\":null,\"country\":null,"
        "\"continent\":null,\"asn\":null,\"as_org\":null,\"edu\":null,\"edu_source\":null,"
        "\"addr_kind\":null,\"dyn_rule\":null,\"geo_source\":null}\n";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(b, want, len);
    free(b);
    sn_targets_free(ts);
}

/*
 * The columns marked plain skip the CSV writer's quoting and formula checks,
 * so every value they can take must need neither: every outcome, every
 * registered probe's name, every reachability class, every address kind, and
 * addresses of both families, with and without a port.
 */
static void plain_cell_is_safe(const char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return;
    assert_null(strchr("=+-@'\t\r ", v[0]));
    assert_false(v[n - 1] == ' ' || v[n - 1] == '\t');
    assert_null(strpbrk(v, ",\"\r\n"));
}

static void plain_row_is_safe(const sn_result_t *r)
{
    sn_field_ctx_t ctx = {0};
    char buf[512];
    for (size_t i = 0; i < sn_field_count; i++) {
        if (!sn_fields[i].plain)
            continue;
        size_t n = sn_fields[i].format(&ctx, r, buf, sizeof buf);
        assert_int_equal(n, strlen(buf));
        plain_cell_is_safe(buf);
    }
}

static void test_plain_columns_never_need_quotes_or_neutralising(void **state)
{
    (void)state;
    size_t plain = 0;
    for (size_t i = 0; i < sn_field_count; i++)
        plain += sn_fields[i].plain;
    assert_true(plain >= 8);

    sn_targets_t *ts = sn_targets_new();
    assert_non_null(ts);
    assert_true(sn_targets_begin_input(ts, "in") >= 0);
    const char *ips[] = {"198.51.100.7", "0.0.0.0", "2001:db8::7", "::", "::ffff:192.0.2.1"};
    uint16_t ports[] = {1, 80, 443, 65535};
    for (size_t a = 0; a < sizeof ips / sizeof ips[0]; a++) {
        sn_addr_t ad;
        assert_int_equal(sn_addr_parse_ip(ips[a], strlen(ips[a]), &ad), SN_OK);
        ad.port = ports[a % 4];
        assert_int_equal(sn_targets_add(ts, &ad, NULL), SN_OK);
        const sn_target_t *t = sn_targets_find(ts, &ad);
        for (size_t p = 0; p < sn_probe_count + 2; p++) {
            const sn_probe_t *pr = p < sn_probe_count    ? sn_probes[p]
                                   : p == sn_probe_count ? &fake_udp
                                                         : &fake_tcp;
            for (int uo = SN_OUTCOME_NONE; uo <= SN_OUTCOME_INCOMPLETE; uo++) {
                for (int to = SN_OUTCOME_NONE; to <= SN_OUTCOME_INCOMPLETE; to++) {
                    sn_result_t r = {.target = t};
                    r.udp.probe = pr;
                    r.udp.outcome = (uint8_t)uo;
                    r.udp.observed = ad;
                    r.udp.reply_from = ad;
                    r.udp.observed.port = (uint16_t)(to % 2 ? 0 : 40001);
                    r.tcp.probe = &fake_tcp;
                    r.tcp.outcome = (uint8_t)to;
                    r.tcp.port = ports[(size_t)to % 4];
                    plain_row_is_safe(&r);
                    for (int d = SN_DYN_UNKNOWN; d <= SN_DYN_STATIC; d++) {
                        sn_enrichment_t en = {.rdns_status = "ok", .class_known = true};
                        en.cls.dyn = (sn_dyn_t)d;
                        r.enrich = &en;
                        plain_row_is_safe(&r);
                        r.enrich = NULL;
                    }
                }
            }
        }
    }
    sn_targets_free(ts);
}

/* ---- NDJSON ------------------------------------------------------------- */

static void test_ndjson_row_with_every_field_filled_is_exact(void **state)
{
    (void)state;
    const sn_target_t *t;
    sn_targets_t *ts = golden_targets(&t);
    sn_result_t r = golden_result(t);
    size_t len;
    char *b = write_rows(SN_OUTPUT_NDJSON, ts, &r, 1, &len);
    assert_int_equal(len, strlen(golden_json_row));
    assert_memory_equal(b, golden_json_row, len);
    assert_int_equal(json_check_all(b, len), 1);
    free(b);
    sn_targets_free(ts);
}

static void test_ndjson_not_probed_writes_nulls_and_eligible_true_when_direct(void **state)
{
    (void)state;
    const sn_target_t *t;
    sn_targets_t *ts = golden_targets(&t);
    sn_result_t rs[2] = {{.target = t, .blocked = "excluded by user"}, golden_result(t)};
    memset(&rs[1].udp.reply_from, 0, sizeof rs[1].udp.reply_from);
    rs[1].tcp.port = 33033;
    size_t len;
    char *b = write_rows(SN_OUTPUT_NDJSON, ts, rs, 2, &len);
    assert_int_equal(json_check_all(b, len), 2);
    assert_non_null(strstr(
        b, "\"blocked\":\"excluded by user\",\"udp_probe\":null,"
           "\"udp_outcome\":null,\"udp_rtt_us\":null,\"udp_attempts\":null,"
           "\"observed_addr\":null,\"reply_from\":null,\"tcp_outcome\":null,"
           "\"tcp_rtt_us\":null,\"tcp_port\":null,\"tcp_attempts\":null,"
           "\"reach_class\":null,\"sn_eligible\":null,"
           "\"vantage\":null,\"rdns_status\":null,\"ptr\":null,\"ptr_valid\":null,\"country\":null,"
           "\"continent\":null,\"asn\":null,\"as_org\":null,\"edu\":null,\"edu_source\":null,"
           "\"addr_kind\":null,\"dyn_rule\":null,\"geo_source\":null}\n"));
    assert_non_null(strstr(b, "\"reach_class\":\"udp+tcp\",\"sn_eligible\":true,\"vantage\":null"));
    free(b);
    sn_targets_free(ts);
}

static const struct {
    const char *in;
    const char *out;
} json_cases[] = {
    {"", "\"\""},
    {"plain", "\"plain\""},
    {"q\"b\\s/", "\"q\\\"b\\\\s/\""},
    {"\n\r\t\x01\x1f\x7f", "\"\\u000a\\u000d\\u0009\\u0001\\u001f\x7f\""},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
    {"bad\xff", "\"bad\\ufffd\""},
    {"lone\x80x", "\"lone\\ufffdx\""},
    {"overlong\xc0\xaf", "\"overlong\\ufffd\\ufffd\""},
    {"surrogate\xed\xa0\x80", "\"surrogate\\ufffd\\ufffd\\ufffd\""},
    {"too-big\xf4\x90\x80\x80", "\"too-big\\ufffd\\ufffd\\ufffd\\ufffd\""},
    {"cut\xe2\x82", "\"cut\\ufffd\\ufffd\""},
    {"\xe2\x82\x41", "\"\\ufffd\\ufffdA\""},
};

static void test_json_write_string_escapes_per_rfc8259(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof json_cases / sizeof json_cases[0]; i++) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        sn_json_write_string(f, json_cases[i].in);
        fclose(f);
        if (len != strlen(json_cases[i].out) || memcmp(text, json_cases[i].out, len) != 0)
            fail_msg("case %zu: got %s expected %s", i, text, json_cases[i].out);
        struct jcur c = {(const unsigned char *)text, len, 0};
        assert_true(jstring(&c, NULL, 0));
        assert_int_equal(c.i, len);
        free(text);
    }
}

static void test_json_write_string_long_input_crosses_chunks(void **state)
{
    (void)state;
    /* 3-byte characters straddle the writer's internal chunk boundaries. */
    size_t n = 3 * 1000;
    char *in = malloc(n + 1);
    assert_non_null(in);
    for (size_t i = 0; i < n; i += 3)
        memcpy(in + i, "\xe2\x82\xac", 3);
    in[n] = '\0';
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    sn_json_write_string(f, in);
    fclose(f);
    assert_int_equal(len, n + 2);
    assert_memory_equal(text + 1, in, n);
    free(text);
    free(in);
}

static void test_ndjson_bad_utf8_and_controls_stay_valid_json(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    assert_non_null(ts);
    assert_true(sn_targets_begin_input(ts, "in\xff\x01.xml") >= 0);
    sn_result_t rs[sizeof json_cases / sizeof json_cases[0]];
    size_t n = sizeof json_cases / sizeof json_cases[0];
    for (size_t i = 0; i < n; i++) {
        sn_addr_t a = v4("198.51.100.4", (uint16_t)(2000 + i));
        sn_listing_t l = {.flags = json_cases[i].in};
        assert_int_equal(sn_targets_add(ts, &a, &l), SN_OK);
        rs[i] = (sn_result_t){.target = sn_targets_find(ts, &a), .blocked = json_cases[i].in};
    }
    size_t len;
    char *b = write_rows(SN_OUTPUT_NDJSON, ts, rs, n, &len);
    assert_int_equal(json_check_all(b, len), n);
    assert_non_null(strstr(b, "\"sources\":\"in\\ufffd\\u0001.xml\""));
    assert_non_null(strstr(b, "\"flags\":\"bad\\ufffd\",\"blocked\":\"bad\\ufffd\""));
    free(b);
    sn_targets_free(ts);
}

/* ---- files, stdout, errors ---------------------------------------------- */

static void test_file_appears_only_at_close_and_temp_holds_flushed_rows(void **state)
{
    (void)state;
    struct tmpdir d;
    char path[256], tmp[256];
    sn_error_t err = {{0}};
    sn_output_t *o = NULL;
    const sn_target_t *t;
    sn_targets_t *ts = golden_targets(&t);
    sn_result_t r = golden_result(t);

    tmpdir_make(&d);
    tmpdir_file(&d, "res.csv", path, sizeof path);
    assert_int_equal(sn_output_open(&o, SN_OUTPUT_CSV, path, ts, &err), SN_OK);
    assert_true(find_temp(&d, "res.csv", tmp, sizeof tmp));
    assert_false(exists(path));

    /* The header is written at open; rows wait in the buffer until a flush. */
    char *b = slurp(tmp, NULL);
    assert_string_equal(b, golden_header);
    free(b);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sn_output_write(o, &r, &err), SN_OK);
    b = slurp(tmp, NULL);
    assert_string_equal(b, golden_header);
    free(b);
    assert_int_equal(sn_output_flush(o, &err), SN_OK);
    size_t len;
    b = slurp(tmp, &len);
    size_t hl = strlen(golden_header), rl = strlen(golden_csv_row);
    assert_int_equal(len, hl + 3 * rl);
    free(b);

    /* Past 64 KiB the sink writes by itself, in whole rows. */
    size_t many = (70 * 1024) / rl + 1;
    for (size_t i = 0; i < many; i++)
        assert_int_equal(sn_output_write(o, &r, &err), SN_OK);
    b = slurp(tmp, &len);
    assert_true(len > hl + 3 * rl);
    assert_int_equal((len - hl) % rl, 0);
    assert_int_equal(b[len - 1], '\n');
    free(b);
    assert_false(exists(path));
    assert_int_equal(sn_output_rows(o), 3 + many);

    assert_int_equal(sn_output_close(o, &err), SN_OK);
    assert_false(exists(tmp));
    char other[300];
    assert_false(find_temp(&d, "res.csv", other, sizeof other));
    snprintf(other, sizeof other, "%s.lock", path);
    assert_false(exists(other)); /* the lock goes with the writer */
    b = slurp(path, &len);
    assert_non_null(b);
    assert_int_equal(len, hl + (3 + many) * rl);
    free(b);

    const char *const names[] = {"res.csv", NULL};
    tmpdir_remove(&d, names);
    sn_targets_free(ts);
}

/* Runs fn with fd 1 pointing at path; restores stdout afterwards. */
static void with_stdout_at(const char *path, int flags, void (*fn)(void *), void *ud)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    int fd = open(path, flags, 0600);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
    close(fd);
    fn(ud);
    fflush(stdout);
    assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
    close(saved);
}

struct stdout_run {
    sn_output_format_t fmt;
    const sn_targets_t *ts;
    const sn_result_t *r;
    sn_status_t write_st, close_st;
    sn_error_t err;
};

static void run_stdout_sink(void *ud)
{
    struct stdout_run *s = ud;
    sn_output_t *o = NULL;
    s->write_st = sn_output_open(&o, s->fmt, "-", s->ts, &s->err);
    if (s->write_st != SN_OK)
        return;
    s->write_st = sn_output_write(o, s->r, &s->err);
    if (s->write_st == SN_OK)
        s->write_st = sn_output_flush(o, &s->err);
    s->close_st = sn_output_close(o, &s->err);
}

static void test_dash_writes_to_stdout(void **state)
{
    (void)state;
    struct tmpdir d;
    char path[256];
    const sn_target_t *t;
    sn_targets_t *ts = golden_targets(&t);
    sn_result_t r = golden_result(t);

    tmpdir_make(&d);
    tmpdir_file(&d, "stdout", path, sizeof path);
    struct stdout_run s = {.fmt = SN_OUTPUT_NDJSON, .ts = ts, .r = &r};
    with_stdout_at(path, O_WRONLY | O_CREAT | O_TRUNC, run_stdout_sink, &s);
    assert_int_equal(s.write_st, SN_OK);
    assert_int_equal(s.close_st, SN_OK);
    size_t len;
    char *b = slurp(path, &len);
    assert_int_equal(len, strlen(golden_json_row));
    assert_memory_equal(b, golden_json_row, len);
    free(b);
    /* No "-.tmp" or "-" file is made for stdout. */
    assert_false(exists("-.tmp"));

    const char *const names[] = {"stdout", NULL};
    tmpdir_remove(&d, names);
    sn_targets_free(ts);
}

static void test_write_error_on_full_device_is_reported_and_sticky(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    const sn_target_t *t;
    sn_targets_t *ts = golden_targets(&t);
    sn_result_t r = golden_result(t);
    struct stdout_run s = {.fmt = SN_OUTPUT_NDJSON, .ts = ts, .r = &r};
    with_stdout_at("/dev/full", O_WRONLY, run_stdout_sink, &s);
    assert_int_equal(s.write_st, SN_EIO);
    assert_int_equal(s.close_st, SN_EIO);
    assert_non_null(strstr(s.err.msg, "standard output"));
    assert_non_null(strstr(s.err.msg, strerror(ENOSPC)));

    /* CSV writes its header at open, so the error shows there already. */
    s = (struct stdout_run){.fmt = SN_OUTPUT_CSV, .ts = ts, .r = &r};
    with_stdout_at("/dev/full", O_WRONLY, run_stdout_sink, &s);
    assert_int_equal(s.write_st, SN_EIO);
    assert_non_null(strstr(s.err.msg, strerror(ENOSPC)));
    sn_targets_free(ts);
}

static void test_unwritable_directory_error_names_the_path(void **state)
{
    (void)state;
    struct tmpdir d;
    char path[256];
    sn_error_t err = {{0}};
    sn_output_t *o = (sn_output_t *)&err; /* must be reset to NULL */

    tmpdir_make(&d);
    tmpdir_file(&d, "no-such-dir/results.csv", path, sizeof path);
    assert_int_equal(sn_output_open(&o, SN_OUTPUT_CSV, path, NULL, &err), SN_EIO);
    assert_null(o);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, strerror(ENOENT)));

    /* A read-only directory (permissions bind only when not root). */
    if (geteuid() != 0) {
        char ro[256];
        tmpdir_file(&d, "ro", ro, sizeof ro);
        assert_int_equal(mkdir(ro, 0500), 0);
        tmpdir_file(&d, "ro/results.csv", path, sizeof path);
        assert_int_equal(sn_output_open(&o, SN_OUTPUT_NDJSON, path, NULL, &err), SN_EIO);
        assert_non_null(strstr(err.msg, path));
        assert_non_null(strstr(err.msg, strerror(EACCES)));
        rmdir(ro);
    }
    tmpdir_remove(&d, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_have_stable_order_names_and_help),
        cmocka_unit_test(test_fields_print_lists_every_field_once_with_type),
        cmocka_unit_test(test_csv_header_is_exact),
        cmocka_unit_test(test_csv_row_with_every_field_filled_is_exact),
        cmocka_unit_test(test_csv_blocked_target_leaves_probe_columns_empty),
        cmocka_unit_test(test_csv_awkward_values_round_trip_through_libcsv),
        cmocka_unit_test(test_csv_sources_join_in_order_and_semicolon_becomes_comma),
        cmocka_unit_test(test_sources_that_do_not_fit_drop_whole_labels),
        cmocka_unit_test(test_observed_without_port_and_ipv6_reply_from),
        cmocka_unit_test(test_plain_columns_never_need_quotes_or_neutralising),
        cmocka_unit_test(test_ndjson_row_with_every_field_filled_is_exact),
        cmocka_unit_test(test_ndjson_not_probed_writes_nulls_and_eligible_true_when_direct),
        cmocka_unit_test(test_json_write_string_escapes_per_rfc8259),
        cmocka_unit_test(test_json_write_string_long_input_crosses_chunks),
        cmocka_unit_test(test_ndjson_bad_utf8_and_controls_stay_valid_json),
        cmocka_unit_test(test_file_appears_only_at_close_and_temp_holds_flushed_rows),
        cmocka_unit_test(test_dash_writes_to_stdout),
        cmocka_unit_test(test_write_error_on_full_device_is_reported_and_sticky),
        cmocka_unit_test(test_unwritable_directory_error_names_the_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
