/*
 * The summary writer: one line per metric row that sn_stats_finish computed,
 * as CSV (metric,value,denominator) or NDJSON. It reads only the public view
 * (stats.h), so what it prints is what the HTML report and the tests read.
 *
 * CSV cells go through the results writer's cell writer (sn_csv_fput_cell,
 * output.c, libcsv underneath): bare unless RFC 4180 needs quotes, and a
 * text cell that a spreadsheet would evaluate as a formula gets OWASP's
 * leading apostrophe inside the quotes.
 * NDJSON strings go through the one JSON writer (lib/json.h), as the results'.
 */
#include "reports/stats.h"

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
            bool ok = sn_csv_fput_cell(f, r->name, true) && fputc(',', f) != EOF &&
                      sn_csv_fput_cell(f, value, r->unit == SN_UNIT_TEXT || r->has_unknown) &&
                      fputc(',', f) != EOF && sn_csv_fput_cell(f, r->denominator, true);
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
