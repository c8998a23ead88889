/*
 * The firewall export as a sink (data/sink.h): the alive (or eligible) nodes
 * of the scan, written at close as an nft, ipset or plain set (export.c). The
 * exporter is started at begin, so that nothing is written for a scan that
 * never had targets.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/outfile.h"
#include "reports/export.h"
#include "reports/sinks.h"

typedef struct export_sink {
    sn_export_opts_t opts;
    char *path;
    sn_export_t *ex; /* NULL until begin */
} export_sink_t;

static sn_status_t x_check(void *state, sn_error_t *err)
{
    export_sink_t *s = state;
    return strcmp(s->path, "-") == 0 ? SN_OK : sn_outfile_check(s->path, err);
}

static sn_status_t x_begin(void *state, const sn_sink_scan_t *scan, sn_error_t *err)
{
    (void)scan;
    export_sink_t *s = state;
    return sn_export_new(&s->ex, &s->opts, s->path, err);
}

static sn_status_t x_add(void *state, const sn_result_t *r, sn_error_t *err)
{
    export_sink_t *s = state;
    if (s->ex == NULL)
        return SN_OK;
    sn_status_t st = sn_export_add(s->ex, r);
    return st == SN_OK ? SN_OK : sn_error_set(err, st, "%s: out of memory for the export", s->path);
}

static sn_status_t x_close(void *state, const sn_sink_end_t *end, sn_error_t *err)
{
    (void)end;
    export_sink_t *s = state;
    sn_status_t st = s->ex != NULL ? sn_export_close(s->ex, NULL, err) : SN_OK;
    free(s->path);
    free(s);
    return st;
}

static const sn_sink_ops_t export_ops = {
    .name = "export", .check = x_check, .begin = x_begin, .add = x_add, .close = x_close};

static sn_status_t create(const sn_sink_cfg_t *cfg, sn_sink_t *out, sn_error_t *err)
{
    if (cfg == NULL || cfg->path == NULL || cfg->export_opts == NULL)
        return sn_error_set(err, SN_EINVAL, "the export sink needs a path and its options");
    export_sink_t *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(cfg->path)) == NULL) {
        free(s);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    s->opts = *cfg->export_opts;
    out->ops = &export_ops;
    out->state = s;
    return SN_OK;
}

const sn_sink_kind_t sn_sink_export = {
    .name = "export",
    .help = "alive or eligible nodes as a firewall set (nft, ipset, plain), written at close",
    .create = create};
