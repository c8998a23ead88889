/*
 * Report and export from saved results. Both stream: each row read is added
 * to the statistics or the set and then forgotten, so a results file of a
 * million rows is summarised in the memory of its distinct keys.
 */
#include "reports/report.h"

#include <string.h>
#include <time.h>

#include "reports/html.h"
#include "reports/resultsin.h"
#include "lib/version.h"

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

sn_status_t sn_report_write(sn_stats_t *st, const char *html, const char *summary, sn_error_t *err)
{
    sn_status_t rc = SN_OK;
    if (summary != NULL) {
        sn_output_format_t fmt = ends_with(summary, ".json") || ends_with(summary, ".ndjson")
                                     ? SN_OUTPUT_NDJSON
                                     : SN_OUTPUT_CSV;
        rc = sn_stats_write_summary(st, summary, fmt, err);
    }
    if (rc == SN_OK && html != NULL)
        rc = sn_report_write_html(st, html, err);
    return rc;
}

static sn_status_t add_row(void *ud, const sn_resultsin_row_t *row, sn_error_t *err)
{
    (void)err;
    return sn_stats_add_row(ud, &row->result, row->sources, row->vantage);
}

sn_status_t sn_report_run(const char *const *paths, size_t n, const char *html, const char *summary,
                          const char *command, sn_error_t *err)
{
    if (html == NULL && summary == NULL)
        return sn_error_set(err, SN_EINVAL, "report needs --html FILE or --summary FILE");
    sn_stats_t *st = sn_stats_new();
    if (st == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    sn_status_t rc = sn_stats_set_text(st, SN_STATS_COMMAND, command);
    if (rc == SN_OK)
        rc = sn_stats_set_text(st, SN_STATS_VERSION, SN_VERSION);
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n && rc == SN_OK; i++) {
        uint64_t rows = 0;
        rc = sn_stats_add_file(st, "results", paths[i], err);
        if (rc == SN_OK)
            rc = sn_resultsin_read(paths[i], add_row, st, &rows, err);
    }
    sn_stats_set_time(st, now, now);
    if (rc == SN_OK)
        rc = sn_report_write(st, html, summary, err);
    sn_stats_free(st);
    return rc;
}

static sn_status_t add_export(void *ud, const sn_resultsin_row_t *row, sn_error_t *err)
{
    (void)err;
    return sn_export_add(ud, &row->result);
}

sn_status_t sn_export_run(const char *const *paths, size_t n, const sn_export_opts_t *opts,
                          const char *out, size_t *written, sn_error_t *err)
{
    sn_export_t *ex = NULL;
    sn_status_t rc = sn_export_new(&ex, opts, out, err);
    for (size_t i = 0; i < n && rc == SN_OK; i++) {
        uint64_t rows = 0;
        rc = sn_resultsin_read(paths[i], add_export, ex, &rows, err);
    }
    sn_error_t cerr;
    sn_status_t crc = ex != NULL ? sn_export_close(ex, written, &cerr) : SN_OK;
    if (rc == SN_OK && crc != SN_OK) {
        rc = crc;
        *err = cerr;
    }
    return rc;
}

sn_status_t sn_report_run_buf(const char *name, const char *data, size_t len, const char *html,
                              const char *summary, const char *command, const char *where,
                              void (*section)(FILE *f, void *ud), void *ud, sn_error_t *err)
{
    sn_stats_t *st = sn_stats_new();
    if (st == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    sn_status_t rc = sn_stats_set_text(st, SN_STATS_COMMAND, command);
    if (rc == SN_OK && where != NULL)
        rc = sn_stats_set_text(st, SN_STATS_WHERE, where);
    if (rc == SN_OK)
        rc = sn_stats_set_text(st, SN_STATS_VERSION, SN_VERSION);
    uint64_t rows = 0;
    if (rc == SN_OK)
        rc = sn_resultsin_read_buf(name, data, len, add_row, st, &rows, err);
    int64_t now = (int64_t)time(NULL);
    sn_stats_set_time(st, now, now);
    if (rc == SN_OK)
        rc = sn_report_write(st, NULL, summary, err);
    if (rc == SN_OK && html != NULL)
        rc = sn_report_write_html_with(st, html, section, ud, err);
    sn_stats_free(st);
    return rc;
}

sn_status_t sn_export_run_buf(const char *name, const char *data, size_t len,
                              const sn_export_opts_t *opts, const char *out, size_t *written,
                              sn_error_t *err)
{
    sn_export_t *ex = NULL;
    sn_status_t rc = sn_export_new(&ex, opts, out, err);
    uint64_t rows = 0;
    if (rc == SN_OK)
        rc = sn_resultsin_read_buf(name, data, len, add_export, ex, &rows, err);
    sn_error_t cerr;
    sn_status_t crc = ex != NULL ? sn_export_close(ex, written, &cerr) : SN_OK;
    if (rc == SN_OK && crc != SN_OK) {
        rc = crc;
        *err = cerr;
    }
    return rc;
}
