/*
 * The registry of sinks (the interface is data/sink.h): every kind of place
 * results go, by name. The command line creates the sinks a run wants through
 * it and hands the list to the scan, which iterates them and names none.
 * Adding an output format is one new file defining one sn_sink_kind_t plus
 * one line in sinks.c.
 */
#ifndef SN_SINKS_H
#define SN_SINKS_H

#include <stddef.h>

#include "data/sink.h"
#include "lib/status.h"
#include "reports/export.h"
#include "reports/history_rec.h"

/* What a sink is created from; each kind reads the members it names. */
typedef struct sn_sink_cfg {
    /* csv, ndjson: the results file ("-": standard output); report: the HTML
     * report, or NULL; export: the firewall set ("-": standard output). */
    const char *path;
    const char *summary;                 /* report: the summary statistics, or NULL */
    const sn_export_opts_t *export_opts; /* export: format and filter */
    const sn_hrec_cfg_t *history;        /* history: the store and the run */
} sn_sink_cfg_t;

typedef struct sn_sink_kind {
    const char *name; /* "csv", "ndjson", "report", "export", "history" */
    const char *help; /* one line */
    /*
     * Creates the sink into *out. Writes nothing yet (files are opened at
     * begin), except where the kind says so: the history opens its store as
     * the one writer here, so that SN_EBUSY comes before any probe.
     */
    sn_status_t (*create)(const sn_sink_cfg_t *cfg, sn_sink_t *out, sn_error_t *err);
} sn_sink_kind_t;

/* Every kind, in a stable order. */
extern const sn_sink_kind_t *const sn_sink_kinds[];
extern const size_t sn_sink_kind_count;

/* Finds a kind by name; NULL if there is none. */
const sn_sink_kind_t *sn_sink_kind_find(const char *name);

/* Creates a sink of the named kind. SN_EINVAL for an unknown name. */
sn_status_t sn_sink_create(const char *kind, const sn_sink_cfg_t *cfg, sn_sink_t *out,
                           sn_error_t *err);

#endif
