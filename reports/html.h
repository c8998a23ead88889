/*
 * The HTML report: one self-contained file (no scripts, no external fonts,
 * images or style sheets; a Content-Security-Policy meta tag forbids loading
 * any), readable offline, on a phone and on paper. Charts are inline SVG
 * drawn here (bar charts, the Lorenz curve of seen-counts, the discovery
 * curve, RTT distributions as CDFs), each with the table of its numbers next
 * to it. Headline numbers come first, beside the studies' figures where the
 * statistic is the same, then the sections, the scan's metadata and the
 * definitions of every statistic.
 *
 * Every string from outside (PTR names, AS organisations, file names, input
 * labels, the command line) passes through sn_html_escape, so a hostile PTR
 * name renders as text.
 *
 * Stable hooks for tests: each chart is <svg class="chart" data-chart="NAME"
 * data-bars="N">, each bar a <rect class="bar">, each headline number an
 * element with data-metric="NAME" data-value="VALUE" where VALUE is exactly
 * the summary file's value.
 */
#ifndef SN_HTML_H
#define SN_HTML_H

#include <stdio.h>

#include "lib/status.h"
#include "reports/stats.h"

/*
 * Finishes st and writes the report to path ("-": standard output; otherwise
 * an sn_outfile: temporary renamed over PATH). Returns SN_EIO naming the file, SN_ENOMEM.
 */
sn_status_t sn_report_write_html(sn_stats_t *st, const char *path, sn_error_t *err);

/*
 * As sn_report_write_html, with one more section written by section(f, ud)
 * before the scan's metadata (the history's, from `report --history`), with
 * its own entry "#history" in the navigation. The section writes complete
 * HTML (a <section id="history">) and escapes what it takes from outside.
 */
sn_status_t sn_report_write_html_with(sn_stats_t *st, const char *path,
                                      void (*section)(FILE *f, void *ud), void *ud,
                                      sn_error_t *err);

/*
 * Writes s as HTML text (valid in element content and in quoted attribute
 * values): & < > " ' escaped, control characters and bytes that are not valid
 * UTF-8 written as U+FFFD, so the page stays well formed whatever s holds.
 * NULL writes nothing.
 */
void sn_html_escape(FILE *f, const char *s);

#endif
