/*
 * `snprobe history SUBCOMMAND --history FILE [-o FILE]`: the store's answers
 * as CSV. results gives a run back in exactly scan's result columns (so
 * report and export read it); the others are the longitudinal statistics of
 * data/history_stats.h over the complete runs.
 */
#ifndef SN_HISTORY_CMD_H
#define SN_HISTORY_CMD_H

#include <stdint.h>
#include <stdio.h>

#include "lib/status.h"

typedef struct sn_history_cmd {
    const char *path; /* the store */
    const char
        *what;   /* runs, results, nodes, churn, staleness, survival, population, definitions */
    int64_t run; /* results: the run; 0 the newest */
    const char *output; /* path, or "-" */
} sn_history_cmd_t;

extern const char sn_history_cmd_names[];

/*
 * `history import FILE.db --history DEST`: copies every finished run of the
 * SQLite history FILE.db (with its site, shard, night, times, command,
 * vantage, inputs, plan and every observation) into DEST as new runs, in
 * order. Runs still running are skipped. Prints what it copied to stderr.
 */
sn_status_t sn_history_import(const char *from, const char *to, sn_error_t *err);

/* Returns SN_EINVAL for an unknown subcommand (a usage error), other errors in err. */
sn_status_t sn_history_cmd_run(const sn_history_cmd_t *cmd, sn_error_t *err);

/*
 * Results held in the history as one CSV text in scan's columns (for report
 * and export): alive_within_days <= 0: every row of run (0: the newest run);
 * else, for each target, its latest alive observation of the last
 * alive_within_days days (any run). *data is malloc'd; the caller frees it.
 */
sn_status_t sn_history_results_text(const char *path, int64_t run, double alive_within_days,
                                    char **data, size_t *len, sn_error_t *err);

/*
 * Where run (0: the newest) was measured from, for the report's "Where":
 * "site NAME" and, for a sharded night, "night LABEL, shards K/N, ..." of
 * the runs read as one with it; "" when the run has no site nor shard.
 */
sn_status_t sn_history_where(const char *path, int64_t run, char *buf, size_t cap, sn_error_t *err);

/* The history section of the HTML report: the longitudinal tables as charts. */
typedef struct sn_history_section sn_history_section_t;

/* Loads the history at path (as a reader). */
sn_status_t sn_history_section_new(sn_history_section_t **sec, const char *path, sn_error_t *err);

/*
 * Writes <section id="history">: alive and discovered nodes per run,
 * new/returning/gone per run, staleness and survival by age, the
 * availability histogram; inline SVG with the table of each chart's
 * numbers. The signature of sn_report_write_html_with's section (ud is the
 * sn_history_section_t).
 */
void sn_history_section_write(FILE *f, void *ud);

void sn_history_section_free(sn_history_section_t *sec); /* accepts NULL */

#endif
