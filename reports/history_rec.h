/*
 * The scan's side of the history store: opens the store as its one writer,
 * starts (or resumes) the run with its inputs' digests and plan, turns each
 * result into an observation with every result column, and ends the run
 * complete or interrupted. sink_history.c makes it one of the scan's sinks
 * (data/sink.h), so the scan knows nothing of the store.
 */
#ifndef SN_HISTORY_REC_H
#define SN_HISTORY_REC_H

#include <stdbool.h>
#include <stdint.h>

#include "data/history.h"
#include "data/targets.h"
#include "data/result.h"
#include "lib/status.h"

typedef struct sn_hrec sn_hrec_t;

typedef struct sn_hrec_cfg {
    const char *path;
    bool resume;         /* continue the newest interrupted run */
    double revisit_days; /* > 0: also probe targets alive in the last DAYS days */
    const char *command;
    const char *site;
    const char *vantage;
    const char *plan;
    const char *const *inputs;
    size_t n_inputs;
    bool quiet;
} sn_hrec_cfg_t;

/*
 * Opens the history at cfg->path as its writer and starts the run. Returns
 * SN_EBUSY (message naming the holder's pid) when another snprobe writes it.
 */
sn_status_t sn_hrec_open(sn_hrec_t **rec, const sn_hrec_cfg_t *cfg, sn_error_t *err);

/*
 * Adds to ts the targets of the history alive within the revisit window
 * (their source label is "history"); nothing without --revisit.
 */
sn_status_t sn_hrec_add_revisits(sn_hrec_t *rec, sn_targets_t *ts, sn_error_t *err);

/* Whether a resumed run already has a finished observation of t (so it is not probed again). */
bool sn_hrec_skip(const sn_hrec_t *rec, const sn_target_t *t);

/* Records one result (buffered; committed in batches). */
sn_status_t sn_hrec_add(sn_hrec_t *rec, const sn_targets_t *ts, const char *vantage,
                        const sn_result_t *r, sn_error_t *err);

/* Commits what is buffered (once a second). */
sn_status_t sn_hrec_flush(sn_hrec_t *rec, sn_error_t *err);

/* The run's id, and the targets a resumed run already had. */
int64_t sn_hrec_run_id(const sn_hrec_t *rec);
size_t sn_hrec_kept(const sn_hrec_t *rec);
uint64_t sn_hrec_rows(const sn_hrec_t *rec);

/* Ends the run (complete, or interrupted), closes the store, frees rec. Accepts NULL. */
sn_status_t sn_hrec_close(sn_hrec_t *rec, bool interrupted, uint64_t targets, sn_error_t *err);

#endif
