/*
 * The sink interface: where results go. The scan (scanner/scan.c) iterates a
 * list of sinks and knows none of them by name; the sinks themselves (results
 * CSV and NDJSON, the statistics behind the summary and the HTML report, the
 * firewall export, the history recorder) live in reports/ and are created by
 * name through its registry (reports/sinks.h), by the command line, which
 * hands the list down. This header sits in data/, below both rooms, because
 * both speak it and neither may include the other.
 *
 * A sink is one `const` ops table and its state. The scan calls, in order:
 * check (before any file exists, so that a bad path is refused first),
 * extend and skip (the target set is being built: a sink that knows earlier
 * runs may add targets or hold some back), begin (the target set is final;
 * open files now), add (once per result, in the order results leave the
 * pipeline), flush (about once a second), and close, exactly once, whatever
 * happened before, also when begin was never called (then nothing is written).
 * Every operation but add and close may be NULL. A sink whose add failed gets
 * no further results; the scan stops probing and reports its error.
 */
#ifndef SN_SINK_H
#define SN_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "data/result.h"
#include "data/targets.h"
#include "lib/status.h"

/* What a sink learns of the scan at begin. Pointers live until close. */
typedef struct sn_sink_scan {
    const sn_targets_t *targets;     /* the final target set */
    uint64_t bad;                    /* bad entries skipped while reading */
    const char *const *inputs;       /* the input files */
    size_t n_inputs;                 /* (an inline input is not among them) */
    const char *vantage;             /* compact vantage recorded in every row, or NULL */
    const char *command;             /* the command line, or NULL */
    const char *where;               /* free text on where the scan ran, or NULL */
    const char *const *data_sources; /* enrichment databases consulted */
    size_t n_data_sources;
    int64_t started_at; /* wall clock, Unix seconds */
} sn_sink_scan_t;

/* What a sink learns of the scan at close. */
typedef struct sn_sink_end {
    bool begun;         /* begin was called (and returned SN_OK) */
    bool interrupted;   /* a signal stopped the scan */
    bool failed;        /* the scan (or a sink closed before this one) failed */
    uint64_t targets;   /* distinct targets read */
    int64_t started_at; /* wall clock, Unix seconds */
    int64_t ended_at;
} sn_sink_end_t;

typedef struct sn_sink_ops {
    const char *name; /* for messages: "csv", "history", ... */
    /* Refuses what can be refused before any file exists (a path that cannot be
     * written). May be NULL. */
    sn_status_t (*check)(void *state, sn_error_t *err);
    /* Adds targets to the set being built (the history's revisits). May be NULL. */
    sn_status_t (*extend)(void *state, sn_targets_t *ts, sn_error_t *err);
    /* True when t needs no probe (a resumed run measured it). May be NULL. */
    bool (*skip)(void *state, const sn_target_t *t);
    /* The target set is final: open what is written. May be NULL. */
    sn_status_t (*begin)(void *state, const sn_sink_scan_t *scan, sn_error_t *err);
    /* One result, in pipeline order. */
    sn_status_t (*add)(void *state, const sn_result_t *r, sn_error_t *err);
    /* Writes what is buffered (about once a second). May be NULL. */
    sn_status_t (*flush)(void *state, sn_error_t *err);
    /* Ends the sink (commits its files, or keeps them aside after an error) and
     * frees state. Called exactly once. Returns the first error met, if any. */
    sn_status_t (*close)(void *state, const sn_sink_end_t *end, sn_error_t *err);
} sn_sink_ops_t;

/* A sink: its ops and its state. {NULL, NULL} is no sink. */
typedef struct sn_sink {
    const sn_sink_ops_t *ops;
    void *state;
} sn_sink_t;

/*
 * Closes the sinks v[0..n) in reverse order (the first one given hears of
 * every later one's close error through end->failed), each exactly once, and
 * clears them. err gets the first error when *st is SN_OK; *st gets it too.
 * For a caller that built sinks and cannot run the scan; the scan closes its
 * own.
 */
void sn_sinks_close(sn_sink_t *v, size_t n, const sn_sink_end_t *end, sn_status_t *st,
                    sn_error_t *err);

#endif
