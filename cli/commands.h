/*
 * The commands, one file each (cli/cmd_<command>.c). Each takes the validated
 * command line, fills the configuration structs of the rooms it drives from
 * it (the only place those are filled from options), runs, and returns the
 * exit code (lib/status.h SN_EXIT_*; bootstrap's are Nagios codes); main.c
 * exits with it. None of them exits.
 */
#ifndef SN_CLI_COMMANDS_H
#define SN_CLI_COMMANDS_H

#include "cli/cli.h"
#include "data/result.h"
#include "lib/status.h"
#include "scanner/scan.h"

int sn_cmd_scan(const sn_config_t *cfg);      /* scan INPUT... */
int sn_cmd_annotate(const sn_config_t *cfg);  /* annotate INPUT...: enrich, no probe */
int sn_cmd_bootstrap(const sn_config_t *cfg); /* bootstrap: the bundled nodes' liveness */
int sn_cmd_vantage(const sn_config_t *cfg);
int sn_cmd_report(const sn_config_t *cfg);
int sn_cmd_export(const sn_config_t *cfg);
int sn_cmd_history(const sn_config_t *cfg);
int sn_cmd_swarm(const sn_config_t *cfg);
int sn_cmd_population(const sn_config_t *cfg);
int sn_cmd_demo(const sn_config_t *cfg, const char *argv0);

/* ---- shared by the commands (cli/common.c) ---- */

/* Prints "snprobe: MSG" on stderr; returns SN_EXIT_USAGE, SN_EXIT_FAIL, or (for a lock
   another run holds, SN_EBUSY) SN_EXIT_BUSY. */
int sn_cli_usage(const sn_error_t *err);
int sn_cli_fail(const sn_error_t *err);
int sn_cli_fail_st(sn_status_t st, const sn_error_t *err);

/* The probe plan as the history records it ("probes=skype,tcp fallback-ports=443,80
   timeout=1000 retries=1"), from cfg's values. */
void sn_cli_plan_text(const sn_config_t *cfg, char *buf, size_t cap);

/* report and export: RESULTS files or --history, one of them (SN_EINVAL naming the command). */
sn_status_t sn_cli_results_source(const sn_config_t *cfg, sn_error_t *err);

/*
 * What scan, annotate and bootstrap share: validates the probe plan, ports and
 * history options, discovers or loads the vantage, reads the inputs (or the
 * inline text), probes (unless annotating), enriches, writes, records the
 * history, and prints the summary. Returns the exit code.
 */
typedef struct sn_cli_scan_run {
    const char *const *inputs;
    size_t n_inputs;
    const char *inline_name, *inline_text;             /* bootstrap's bundled list; NULL: none */
    const char *output;                                /* NULL: no results file */
    void (*on_result)(void *ud, const sn_result_t *r); /* may be NULL */
    void (*after_scan)(void *ud); /* a scan that ran, before its summary (may be NULL) */
    /* The exit code of a scan that went to its end; NULL: 0, or 3 when interrupted. */
    int (*exit_code)(void *ud, const sn_scan_summary_t *sum);
    void *ud;
    bool nagios; /* a check that could not run, or found no target, is critical (2) */
} sn_cli_scan_run_t;

int sn_cli_run_scan(const sn_config_t *cfg, const sn_cli_scan_run_t *run);

#endif
