/*
 * `snprobe report` and `snprobe export`: statistics, the HTML report and
 * firewall sets from saved results, without probing; and the one helper the
 * scan's report sink (sink_report.c) shares with them to write the summary and
 * the HTML at its end.
 */
#ifndef SN_REPORT_H
#define SN_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "reports/export.h"
#include "reports/stats.h"
#include "lib/status.h"

/* Writes the summary (CSV, or NDJSON for a .json/.ndjson name) and the HTML; either may be NULL. */
sn_status_t sn_report_write(sn_stats_t *st, const char *html, const char *summary, sn_error_t *err);

/* Reads results files (CSV or NDJSON) into statistics and writes them. */
sn_status_t sn_report_run(const char *const *paths, size_t n, const char *html, const char *summary,
                          const char *command, sn_error_t *err);

/* Writes the nodes of results files that opts wants as a firewall set to out. */
sn_status_t sn_export_run(const char *const *paths, size_t n, const sn_export_opts_t *opts,
                          const char *out, size_t *written, sn_error_t *err);

/*
 * The same two from results held in memory (name labels them in messages);
 * the report gets one more section from section(f, ud) when it is not NULL.
 */
sn_status_t sn_report_run_buf(const char *name, const char *data, size_t len, const char *html,
                              const char *summary, const char *command,
                              void (*section)(FILE *f, void *ud), void *ud, sn_error_t *err);
sn_status_t sn_export_run_buf(const char *name, const char *data, size_t len,
                              const sn_export_opts_t *opts, const char *out, size_t *written,
                              sn_error_t *err);

#endif
