/*
 * The summary writer: one line per metric row that sn_stats_finish computed,
 * as CSV (metric,value,denominator) or NDJSON. It reads only the public view
 * (stats.h), so what it prints is what the HTML report and the tests read.
 *
 * CSV cells go through libcsv (csv_fwrite), as the results writer (output.c)
 * does: a cell is written bare unless RFC 4180 needs quotes (a comma, a
 * quote, a line break) or a leading blank would be trimmed by a reader; a
 * text cell that a spreadsheet would evaluate as a formula gets OWASP's
 * leading apostrophe inside the quotes (sn_csv_formula_like, lib/text.h).
 * NDJSON strings go through the one JSON writer (lib/json.h), as the results'.
 */
#include "reports/stats.h"

#include <csv.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/outfile.h"
#include "lib/text.h"

void sn_stats_format_value(const sn_stats_row_t *row, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    buf[0] = '\0';
    if (row == NULL || !row->known)
        return;
    switch (row->unit) {
    case SN_UNIT_COUNT: snprintf(buf, cap, "%.0f", row->value); break;
    case SN_UNIT_SHARE: snprintf(buf, cap, "%.6f", row->value); break;
    case SN_UNIT_MS: snprintf(buf, cap, "%.3f", row->value); break;
    case SN_UNIT_NUMBER: snprintf(buf, cap, "%.4f", row->value); break;
    case SN_UNIT_TEXT: snprintf(buf, cap, "%s", row->text != NULL ? row->text : ""); break;
    }
}

/* Whether a cell must be quoted; neutral: it gets the formula apostrophe. */
static bool needs_quotes(const char *v, bool neutral)
{
    return neutral || strpbrk(v, ",\"\r\n") != NULL || v[0] == ' ' || v[0] == '\t';
}

/*
 * One CSV cell; false only when out of memory. A failed write leaves the
 * stream's error flag set, and sn_outfile_commit reports it naming the file.
 */
static bool csv_cell(FILE *f, const char *v, bool text)
{
    size_t n = strlen(v);
    bool neutral = text && sn_csv_formula_like(v, n);
    if (!needs_quotes(v, neutral)) {
        fputs(v, f);
        return true;
    }
    if (!neutral) {
        csv_fwrite(f, v, n);
        return true;
    }
    char *p = malloc(n + 2);
    if (p == NULL)
        return false;
    p[0] = '\'';
    memcpy(p + 1, v, n + 1);
    csv_fwrite(f, p, n + 1);
    free(p);
    return true;
}

sn_status_t sn_stats_write_summary(sn_stats_t *s, const char *path, sn_output_format_t fmt,
                                   sn_error_t *err)
{
    if (s == NULL)
        return sn_error_set(err, SN_EINVAL, "no statistics");
    if (fmt != SN_OUTPUT_CSV && fmt != SN_OUTPUT_NDJSON)
        return sn_error_set(err, SN_EINVAL, "unknown summary format %d", (int)fmt);
    sn_status_t st = sn_stats_finish(s, err);
    if (st != SN_OK)
        return st;
    sn_outfile_t *of = NULL;
    if ((st = sn_outfile_open(path, &of, err)) != SN_OK)
        return st;
    FILE *f = sn_outfile_stream(of);
    if (f == NULL) {
        sn_outfile_abort(of, false);
        return sn_error_set(err, SN_ENOMEM, "out of memory writing %s", path);
    }
    if (fmt == SN_OUTPUT_CSV)
        fputs("metric,value,denominator\n", f);
    const sn_stats_view_t *view = sn_stats_view(s);
    char val[4096];
    for (size_t i = 0; i < view->n_rows; i++) {
        const sn_stats_row_t *r = &view->rows[i];
        sn_stats_format_value(r, val, sizeof val);
        const char *v = r->unit == SN_UNIT_TEXT && r->known ? r->text : val;
        if (fmt == SN_OUTPUT_CSV) {
            /* nothing known for the population: "n/a", never an empty 0% look-alike */
            const char *value = r->has_unknown ? "n/a" : v;
            bool ok = csv_cell(f, r->name, true) && fputc(',', f) != EOF &&
                      csv_cell(f, value, r->unit == SN_UNIT_TEXT || r->has_unknown) &&
                      fputc(',', f) != EOF && csv_cell(f, r->denominator, true);
            if (!ok && !ferror(f)) {
                sn_outfile_abort(of, false);
                return sn_error_set(err, SN_ENOMEM, "out of memory writing %s", path);
            }
            fputc('\n', f);
        } else {
            fputs("{\"metric\":", f);
            sn_json_write_string(f, r->name);
            fputs(",\"value\":", f);
            if (!r->known)
                fputs("null", f);
            else if (r->unit == SN_UNIT_TEXT)
                sn_json_write_string(f, v);
            else
                fputs(v, f);
            fputs(",\"denominator\":", f);
            sn_json_write_string(f, r->denominator[0] ? r->denominator : NULL);
            if (r->has_unknown)
                fprintf(f, ",\"unknown\":%" PRIu64, r->unknown);
            fputs("}\n", f);
        }
    }
    return sn_outfile_commit(of, err);
}
