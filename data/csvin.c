/*
 * CSV reader: a header row naming the columns, then one listing per row.
 *
 * `ip` and `port` are required; `count`, `first_seen`, `last_seen` and
 * `source` are optional; names are matched without regard to case, in any
 * order, and unknown columns are ignored, so the results CSV of an earlier
 * run or a spreadsheet export reads as it is. libcsv does the quoting (strict
 * mode: a stray quote is an error, as is a quoted field left open at the end).
 *
 * libcsv does not count lines, so the buffer is fed to it one physical line
 * at a time; a record's line is the first line that carried any of it. A
 * fault in the CSV syntax stops the file (libcsv cannot resume after one); a
 * bad field is a bad entry naming the line and the column.
 */
#include "data/input.h"
#include "lib/decimal.h"
#include "lib/text.h"

#include "data/csvgrow.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FIELD_MAX 255 /* longest kept field; an address or a label is far shorter */
#define UNIX_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

static const sn_read_opts_t default_opts = {0};

enum { COL_IP, COL_PORT, COL_COUNT, COL_FIRST, COL_LAST, COL_SOURCE, NCOLS };
static const char *const col_names[NCOLS] = {"ip",         "port",      "count",
                                             "first_seen", "last_seen", "source"};

typedef struct csv_ctx {
    sn_targets_t *ts;
    const char *name;
    const sn_read_opts_t *opts;
    sn_read_stats_t *stats;
    sn_error_t *err;
    sn_status_t status; /* first fatal status; callbacks do nothing once set */

    unsigned long line;     /* physical line being fed */
    unsigned long rec_line; /* first line of the current record, 0 before it starts */
    bool have_header;
    long col[NCOLS]; /* column index of each known name, -1 if absent */

    size_t nfield; /* fields of the current record so far */
    bool any_text; /* the record has a non-empty field */
    struct {
        char text[FIELD_MAX + 1];
        size_t len;
        bool present, too_long;
    } f[NCOLS];
} csv_ctx_t;

/*
 * One bad field of the current record: fatal under strict (err gets
 * "file:line: column N (name): reason"), otherwise reported and counted.
 */
static sn_status_t bad_field(csv_ctx_t *c, int which, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sn_status_t bad_field(csv_ctx_t *c, int which, const char *fmt, ...)
{
    char where[600], reason[400], msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    snprintf(where, sizeof where, "%s:%lu", c->name, c->rec_line);
    snprintf(msg, sizeof msg, "column %ld (%s): %s", c->col[which] + 1, col_names[which], reason);
    if (c->opts->strict)
        return sn_error_set(c->err, SN_EPARSE, "%s: %s", where, msg);
    if (c->opts->on_bad != NULL)
        c->opts->on_bad(c->opts->ud, where, msg);
    c->stats->bad++;
    return SN_OK;
}

/* Reads exactly n digits (n <= 4, a field of a date or time) at s into *out. */
static bool digits(const char *s, size_t n, int *out)
{
    uint64_t v;
    if (!sn_decimal_u64(s, n, 9999, &v))
        return false;
    *out = (int)v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/*
 * A time as Unix seconds (decimal digits) or ISO 8601 in one of two exact
 * shapes, `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ`; every field
 * is range-checked, so `2017-02-30` is refused rather than rolled over.
 */
static bool parse_time(const char *s, size_t len, int64_t *out)
{
    uint64_t v;
    if (len != 10 && len != 20)
        goto unix_seconds;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
        !digits(s + 8, 2, &d))
        goto unix_seconds;
    if (len == 20 &&
        (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' || !digits(s + 11, 2, &h) ||
         !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec)))
        return false;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 59)
        return false;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *out = (int64_t)t;
    return true;

unix_seconds:
    if (!sn_decimal_u64(s, len, (uint64_t)UNIX_MAX, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

static bool field_is(const csv_ctx_t *c, int which)
{
    return c->col[which] >= 0 && c->f[which].present && c->f[which].len > 0;
}

/* Validates the finished header row. */
static void header_done(csv_ctx_t *c)
{
    for (int k = COL_IP; k <= COL_PORT; k++)
        if (c->col[k] < 0) {
            c->status = sn_error_set(c->err, SN_EPARSE,
                                     "%s:%lu: CSV header lacks the required column \"%s\"", c->name,
                                     c->rec_line, col_names[k]);
            return;
        }
    c->have_header = true;
}

/* Parses one data row into a listing and adds it. Returns a fatal status or SN_OK. */
static sn_status_t row_done(csv_ctx_t *c)
{
    char q[300];
    sn_addr_t a;
    sn_listing_t l = {.count = 1};
    uint64_t v;

    if (!c->any_text)
        return SN_OK; /* a row of empty fields is a blank line */
    for (int k = 0; k < NCOLS; k++) {
        if (c->col[k] < 0)
            continue;
        if (!c->f[k].present && k <= COL_PORT)
            return bad_field(c, k, "missing (the row has %zu columns)", c->nfield);
        if (c->f[k].too_long)
            return bad_field(c, k, "longer than %d bytes", FIELD_MAX);
    }

    const char *s = c->f[COL_IP].text;
    size_t n = c->f[COL_IP].len;
    sn_text_quote(q, sizeof q, s, n);
    if (sn_addr_parse_ip(s, n, &a) != SN_OK)
        return bad_field(c, COL_IP, "not an IP address (\"%s\")", q);

    const char *why = NULL;
    s = c->f[COL_PORT].text;
    n = c->f[COL_PORT].len;
    sn_text_quote(q, sizeof q, s, n);
    if (sn_addr_parse_port(s, n, &a.port, &why) != SN_OK)
        return bad_field(c, COL_PORT, "%s (\"%s\")", why != NULL ? why : "bad port", q);

    if (field_is(c, COL_COUNT)) {
        s = c->f[COL_COUNT].text;
        n = c->f[COL_COUNT].len;
        sn_text_quote(q, sizeof q, s, n);
        if (!sn_decimal_u64(s, n, UINT32_MAX, &v) || v == 0)
            return bad_field(c, COL_COUNT, "count is not a decimal number 1-4294967295 (\"%s\")",
                             q);
        l.count = (uint32_t)v;
    }
    int64_t *times[2] = {&l.first_seen, &l.last_seen};
    for (int k = COL_FIRST; k <= COL_LAST; k++) {
        if (!field_is(c, k))
            continue;
        s = c->f[k].text;
        n = c->f[k].len;
        sn_text_quote(q, sizeof q, s, n);
        if (!parse_time(s, n, times[k - COL_FIRST]))
            return bad_field(c, k,
                             "not a time (Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ) "
                             "(\"%s\")",
                             q);
    }
    if (l.first_seen != 0 && l.last_seen != 0 && l.first_seen > l.last_seen)
        return bad_field(c, COL_LAST, "last_seen is before first_seen");
    if (field_is(c, COL_SOURCE)) {
        s = c->f[COL_SOURCE].text;
        n = c->f[COL_SOURCE].len;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
                sn_text_quote(q, sizeof q, s, n);
                return bad_field(c, COL_SOURCE, "control character in source label (\"%s\")", q);
            }
        l.source = s;
    }

    sn_status_t st = sn_targets_add(c->ts, &a, &l);
    if (st != SN_OK)
        return sn_error_set(c->err, st, "%s:%lu: cannot add target (%s)", c->name, c->rec_line,
                            sn_status_str(st));
    c->stats->entries++;
    return SN_OK;
}

static void on_field(void *data, size_t len, void *ud)
{
    csv_ctx_t *c = ud;
    const char *s = data != NULL ? data : "";
    if (c->status != SN_OK)
        return;
    if (c->rec_line == 0)
        c->rec_line = c->line;
    size_t idx = c->nfield++;
    if (len > 0)
        c->any_text = true;

    if (!c->have_header) {
        /* Header names: blanks around them and case do not matter. */
        while (len > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        for (int k = 0; k < NCOLS; k++) {
            if (strlen(col_names[k]) != len || strncasecmp(s, col_names[k], len) != 0)
                continue;
            if (c->col[k] >= 0) {
                c->status = sn_error_set(c->err, SN_EPARSE,
                                         "%s:%lu: CSV header names the column \"%s\" twice",
                                         c->name, c->rec_line, col_names[k]);
                return;
            }
            c->col[k] = (long)idx;
        }
        return;
    }
    for (int k = 0; k < NCOLS; k++) {
        if (c->col[k] != (long)idx)
            continue;
        c->f[k].present = true;
        c->f[k].too_long = len > FIELD_MAX;
        c->f[k].len = len > FIELD_MAX ? FIELD_MAX : len;
        memcpy(c->f[k].text, s, c->f[k].len);
        c->f[k].text[c->f[k].len] = '\0';
    }
}

static void on_record(int term, void *ud)
{
    csv_ctx_t *c = ud;
    (void)term;
    if (c->status != SN_OK)
        return;
    if (c->rec_line == 0)
        c->rec_line = c->line;
    if (!c->have_header) {
        if (c->any_text) /* else a blank line before the header */
            header_done(c);
    } else {
        c->status = row_done(c);
    }
    c->nfield = 0;
    c->any_text = false;
    c->rec_line = 0;
    for (int k = 0; k < NCOLS; k++)
        c->f[k].present = false;
}

static bool all_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

sn_status_t sn_csvin_read(sn_targets_t *ts, const char *name, const char *buf, size_t len,
                          const sn_read_opts_t *opts, sn_read_stats_t *stats, sn_error_t *err)
{
    sn_read_stats_t dummy = {0};
    if (name == NULL)
        name = "(input)";
    if (ts == NULL || (buf == NULL && len != 0))
        return sn_error_set(err, SN_EINVAL, "%s: no target set or buffer", name);

    csv_ctx_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return sn_error_set(err, SN_ENOMEM, "%s: out of memory", name);
    c->ts = ts;
    c->name = name;
    c->opts = opts != NULL ? opts : &default_opts;
    c->stats = stats != NULL ? stats : &dummy;
    c->err = err;
    for (int k = 0; k < NCOLS; k++)
        c->col[k] = -1;

    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        free(c);
        return sn_error_set(err, SN_ENOMEM, "%s: out of memory", name);
    }

    size_t pos = 0;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    c->line = 1;
    while (pos < len && c->status == SN_OK) {
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - s) + 1 : len - pos;
        if (c->rec_line == 0 && !all_blank(s, n))
            c->rec_line = c->line;
        if (sn_csv_parse(&p, s, n, on_field, on_record, c) != n && c->status == SN_OK) {
            int e = csv_error(&p);
            c->status = sn_error_set(err, e == CSV_ENOMEM ? SN_ENOMEM : SN_EPARSE,
                                     "%s:%lu: CSV error: %s", name, c->line, csv_strerror(e));
        }
        pos += n;
        c->line++;
    }
    if (c->status == SN_OK && csv_fini(&p, on_field, on_record, c) != 0 && c->status == SN_OK)
        c->status = sn_error_set(
            err, SN_EPARSE, "%s:%lu: CSV error: %s (a quoted field is not closed)", name,
            c->rec_line != 0 ? c->rec_line : c->line - 1, csv_strerror(csv_error(&p)));
    if (c->status == SN_OK && !c->have_header)
        c->status = sn_error_set(err, SN_EPARSE, "%s: CSV file has no header row", name);
    csv_free(&p);
    sn_status_t st = c->status;
    free(c);
    return st;
}
