/*
 * The history recorder as a sink (data/sink.h; the recorder is
 * history_rec.c). Unlike the files, the store is opened at create: it is
 * opened as its one writer, and a store another snprobe holds must be refused
 * (SN_EBUSY) before anything is probed. It extends the target set with the
 * revisits, holds back what a resumed run already measured, and at close ends
 * the run complete, or interrupted when the scan was stopped or anything
 * failed (a sink closed before it included: the scan closes sinks in reverse
 * order, so a history listed first hears of every other error).
 */
#include <stdlib.h>

#include "reports/history_rec.h"
#include "reports/sinks.h"

typedef struct history_sink {
    sn_hrec_t *rec;
    const sn_targets_t *ts; /* from begin */
    const char *vantage;
} history_sink_t;

static sn_status_t h_extend(void *state, sn_targets_t *ts, sn_error_t *err)
{
    history_sink_t *s = state;
    return sn_hrec_add_revisits(s->rec, ts, err);
}

static bool h_skip(void *state, const sn_target_t *t)
{
    history_sink_t *s = state;
    return sn_hrec_skip(s->rec, t);
}

static sn_status_t h_begin(void *state, const sn_sink_scan_t *scan, sn_error_t *err)
{
    (void)err;
    history_sink_t *s = state;
    s->ts = scan->targets;
    s->vantage = scan->vantage;
    return SN_OK;
}

static sn_status_t h_add(void *state, const sn_result_t *r, sn_error_t *err)
{
    history_sink_t *s = state;
    return sn_hrec_add(s->rec, s->ts, s->vantage, r, err);
}

static sn_status_t h_flush(void *state, sn_error_t *err)
{
    history_sink_t *s = state;
    return sn_hrec_flush(s->rec, err);
}

static sn_status_t h_close(void *state, const sn_sink_end_t *end, sn_error_t *err)
{
    history_sink_t *s = state;
    sn_status_t st = sn_hrec_close(s->rec, end->interrupted || end->failed, end->targets, err);
    free(s);
    return st;
}

static const sn_sink_ops_t history_ops = {.name = "history",
                                          .extend = h_extend,
                                          .skip = h_skip,
                                          .begin = h_begin,
                                          .add = h_add,
                                          .flush = h_flush,
                                          .close = h_close};

static sn_status_t create(const sn_sink_cfg_t *cfg, sn_sink_t *out, sn_error_t *err)
{
    if (cfg == NULL || cfg->history == NULL)
        return sn_error_set(err, SN_EINVAL, "the history sink needs its store and run");
    history_sink_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    sn_status_t st = sn_hrec_open(&s->rec, cfg->history, err);
    if (st != SN_OK) {
        free(s);
        return st;
    }
    out->ops = &history_ops;
    out->state = s;
    return SN_OK;
}

const sn_sink_kind_t sn_sink_history = {
    .name = "history",
    .help = "every result into the history store as one run (--history)",
    .create = create};
