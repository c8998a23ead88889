/*
 * The statistics as a sink (data/sink.h): one aggregator (stats.c) fed every
 * result, written at close as the summary statistics and the HTML report
 * (either may be absent). Both come from one aggregator rather than being two
 * sinks so that the work is done once. Written after an interruption too: the
 * report says the scan was interrupted. A sink that was never begun writes
 * nothing (the scan stopped before it had a target set).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/outfile.h"
#include "lib/version.h"
#include "reports/report.h"
#include "reports/sinks.h"
#include "reports/stats.h"

typedef struct report_sink {
    char *html, *summary; /* either may be NULL */
    sn_stats_t *stats;    /* NULL until begin */
} report_sink_t;

static sn_status_t p_check(void *state, sn_error_t *err)
{
    report_sink_t *s = state;
    sn_status_t st = sn_outfile_check(s->html, err);
    return st == SN_OK ? sn_outfile_check(s->summary, err) : st;
}

/* What was read, and how: the report's metadata. */
static sn_status_t p_begin(void *state, const sn_sink_scan_t *scan, sn_error_t *err)
{
    report_sink_t *s = state;
    s->stats = sn_stats_new();
    if (s->stats == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    sn_status_t st = sn_stats_set_targets(s->stats, scan->targets, scan->bad, err);
    if (st == SN_OK)
        st = sn_stats_set_text(s->stats, SN_STATS_VERSION, SN_VERSION);
    for (size_t i = 0; i < scan->n_inputs && st == SN_OK; i++)
        st = sn_stats_add_file(s->stats, "input", scan->inputs[i], err);
    if (st == SN_OK && scan->command != NULL)
        st = sn_stats_set_text(s->stats, SN_STATS_COMMAND, scan->command);
    if (st == SN_OK && scan->vantage != NULL)
        st = sn_stats_set_text(s->stats, SN_STATS_VANTAGE, scan->vantage);
    if (st == SN_OK && scan->where != NULL)
        st = sn_stats_set_text(s->stats, SN_STATS_WHERE, scan->where);
    for (size_t i = 0; i < scan->n_data_sources && st == SN_OK; i++)
        st = sn_stats_add_data_source(s->stats, scan->data_sources[i]);
    if (st != SN_OK && st != SN_ENOMEM)
        return st;
    if (st == SN_ENOMEM)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    return SN_OK;
}

static sn_status_t p_add(void *state, const sn_result_t *r, sn_error_t *err)
{
    (void)err;
    report_sink_t *s = state;
    /* The statistics are a summary of the results file, not the record: a count
     * lost to memory must not stop a scan whose rows are still being written. */
    if (s->stats != NULL)
        (void)sn_stats_add(s->stats, r);
    return SN_OK;
}

static sn_status_t p_close(void *state, const sn_sink_end_t *end, sn_error_t *err)
{
    report_sink_t *s = state;
    sn_status_t st = SN_OK;
    if (s->stats != NULL && end->begun) {
        sn_stats_set_time(s->stats, end->started_at, end->ended_at);
        sn_stats_set_interrupted(s->stats, end->interrupted);
        st = sn_report_write(s->stats, s->html, s->summary, err);
    }
    sn_stats_free(s->stats);
    free(s->html);
    free(s->summary);
    free(s);
    return st;
}

static const sn_sink_ops_t report_ops = {
    .name = "report", .check = p_check, .begin = p_begin, .add = p_add, .close = p_close};

static char *dup_or_null(const char *s, bool *oom)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *oom = true;
    return d;
}

static sn_status_t create(const sn_sink_cfg_t *cfg, sn_sink_t *out, sn_error_t *err)
{
    if (cfg == NULL || (cfg->path == NULL && cfg->summary == NULL))
        return sn_error_set(err, SN_EINVAL, "the report sink needs an HTML or a summary path");
    report_sink_t *s = calloc(1, sizeof *s);
    bool oom = s == NULL;
    if (s != NULL) {
        s->html = dup_or_null(cfg->path, &oom);
        s->summary = dup_or_null(cfg->summary, &oom);
    }
    if (oom) {
        if (s != NULL) {
            free(s->html);
            free(s->summary);
        }
        free(s);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    out->ops = &report_ops;
    out->state = s;
    return SN_OK;
}

const sn_sink_kind_t sn_sink_report = {
    .name = "report",
    .help = "statistics, written as the summary (path in summary) and the HTML report (path)",
    .create = create};
