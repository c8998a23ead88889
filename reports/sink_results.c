/*
 * The results file as a sink (data/sink.h): CSV and NDJSON, both through
 * sn_output (output.c). The file is opened at begin, not at create, so that
 * nothing exists at PATH (and nothing reaches standard output) before the
 * inputs are read and the target set is final; close commits it through
 * lib/outfile, or keeps the temporary aside after a write error.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/outfile.h"
#include "reports/output.h"
#include "reports/sinks.h"

typedef struct results_sink {
    sn_output_format_t fmt;
    char *path;
    sn_output_t *out; /* NULL until begin */
} results_sink_t;

static sn_status_t r_check(void *state, sn_error_t *err)
{
    results_sink_t *s = state;
    return sn_outfile_check(s->path, err);
}

static sn_status_t r_begin(void *state, const sn_sink_scan_t *scan, sn_error_t *err)
{
    results_sink_t *s = state;
    sn_status_t st = sn_output_open(&s->out, s->fmt, s->path, scan->targets, err);
    if (st == SN_OK)
        sn_output_set_vantage(s->out, scan->vantage);
    return st;
}

static sn_status_t r_add(void *state, const sn_result_t *r, sn_error_t *err)
{
    results_sink_t *s = state;
    return s->out != NULL ? sn_output_write(s->out, r, err) : SN_OK;
}

static sn_status_t r_flush(void *state, sn_error_t *err)
{
    results_sink_t *s = state;
    return s->out != NULL ? sn_output_flush(s->out, err) : SN_OK;
}

static sn_status_t r_close(void *state, const sn_sink_end_t *end, sn_error_t *err)
{
    (void)end; /* an interrupted scan's rows are whole and say incomplete: commit them */
    results_sink_t *s = state;
    sn_status_t st = sn_output_close(s->out, err);
    free(s->path);
    free(s);
    return st;
}

static const sn_sink_ops_t results_ops = {.name = "results",
                                          .check = r_check,
                                          .begin = r_begin,
                                          .add = r_add,
                                          .flush = r_flush,
                                          .close = r_close};

static sn_status_t create(sn_output_format_t fmt, const sn_sink_cfg_t *cfg, sn_sink_t *out,
                          sn_error_t *err)
{
    if (cfg == NULL || cfg->path == NULL)
        return sn_error_set(err, SN_EINVAL, "the results sink needs a path");
    results_sink_t *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(cfg->path)) == NULL) {
        free(s);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    s->fmt = fmt;
    out->ops = &results_ops;
    out->state = s;
    return SN_OK;
}

static sn_status_t create_csv(const sn_sink_cfg_t *cfg, sn_sink_t *out, sn_error_t *err)
{
    return create(SN_OUTPUT_CSV, cfg, out, err);
}

static sn_status_t create_ndjson(const sn_sink_cfg_t *cfg, sn_sink_t *out, sn_error_t *err)
{
    return create(SN_OUTPUT_NDJSON, cfg, out, err);
}

const sn_sink_kind_t sn_sink_csv = {
    .name = "csv", .help = "results, one CSV row per target (libcsv)", .create = create_csv};
const sn_sink_kind_t sn_sink_ndjson = {
    .name = "ndjson", .help = "results, one JSON object per line", .create = create_ndjson};
