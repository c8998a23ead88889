/*
 * The scan job: read the inputs into a target set, hold back what the
 * blocklist forbids, probe the rest with the engine, stream every result to
 * the sinks, and summarise. `snprobe scan`, `snprobe bootstrap` and
 * `snprobe demo` all run through sn_scan_run. The sinks (data/sink.h) are
 * created by the caller (through the registry in reports/sinks.h) and handed
 * down; the scan iterates them and knows none by name.
 */
#ifndef SN_SCAN_H
#define SN_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "data/shard.h"
#include "data/sink.h"
#include "scanner/engine.h"
#include "scanner/enrich.h"
#include "lib/status.h"

typedef struct sn_scan_cfg {
    const char *const *inputs;
    size_t n_inputs;
    const char *inline_name; /* with inline_text: an input held in memory (bundled list) */
    const char *inline_text;
    int input_format; /* sn_input_format_t */
    bool strict;
    const char *const *allow; /* CIDRs opened despite the default blocklist */
    size_t n_allow;
    const char *const *exclude_files;
    size_t n_exclude_files;
    /* Where results go, in this order; closed in reverse order by sn_scan_run,
     * exactly once each, whatever happens (the scan owns them from the call). */
    sn_sink_t *sinks;
    size_t n_sinks;
    bool dry_run;           /* write the targets, probe and enrich nothing */
    bool annotate;          /* probe nothing; enrich and write every target */
    bool progress;          /* progress line on stderr */
    bool quiet;             /* no bad-entry lines, no progress */
    sn_engine_cfg_t engine; /* on_result/ud are set by sn_scan_run */
    bool enrich_on;         /* run the enrichment stage */
    sn_enrich_cfg_t enrich;
    const char *vantage;      /* compact vantage recorded in every row, or NULL */
    const char *command_text; /* the command line, for the sinks (report metadata) */
    const char *where;        /* free text for the report's "Where" (the demo says it is
                               * emulated); NULL: none */
    sn_shard_t shard;         /* --shard K/N: only the targets of shard K (n 0: all) */
    /* Called for every result besides the sinks (bootstrap's table); may be NULL. */
    void (*on_result)(void *ud, const sn_result_t *r);
    void *ud;
} sn_scan_cfg_t;

typedef struct sn_scan_summary {
    uint64_t entries; /* entries read (lines, elements, rows) */
    uint64_t listings, distinct, bad, blocked, probed, inputs; /* listings: seen-counts summed */
    uint64_t udp_alive, tcp_alive, tcp_alive_own, tcp_alive_fallback, eligible, reply_other;
    uint64_t sent, replies;
    uint32_t tcp_timeout_ms, timeout_ms; /* the TCP timeout at the end (0: no TCP); --timeout */
    uint64_t rdns_ok, geo_known;
    uint64_t input_errors; /* inputs refused (unreadable, not text, malformed) without --strict */
    double seconds;
    bool interrupted;
    uint64_t incomplete;   /* targets a stop cut short (reach_class incomplete) */
    uint64_t other_shards; /* distinct targets left to the other shards (--shard) */
} sn_scan_summary_t;

/*
 * Runs one scan on a fresh loop. Returns SN_OK when every target is done (or
 * the scan was interrupted and what was measured is written), or an error in
 * err: an input that cannot be read, a bad entry under strict, an output that
 * cannot be written. Results already written stay written. Every sink of cfg
 * is closed before it returns (a sink whose add fails stops the probing).
 */
sn_status_t sn_scan_run(const sn_scan_cfg_t *cfg, sn_scan_summary_t *sum, sn_error_t *err);

/* Prints the one-paragraph summary. */
void sn_scan_print_summary(FILE *f, const sn_scan_summary_t *sum, const char *output);

/*
 * Parses a probe plan ("skype,tcp") into the engine configuration's UDP and
 * TCP probe; and a fallback port list ("443,80" or "none").
 */
sn_status_t sn_scan_parse_plan(const char *plan, sn_engine_cfg_t *ecfg, sn_error_t *err);
sn_status_t sn_scan_parse_ports(const char *list, sn_engine_cfg_t *ecfg, sn_error_t *err);

#endif
