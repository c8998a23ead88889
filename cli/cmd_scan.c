/*
 * `snprobe scan INPUT...`, and the scan run that annotate and bootstrap share:
 * the validated command line becomes the scan's, the engine's, the
 * enrichment's and the history recorder's configuration here, in one place,
 * and the sinks the run wants are created here from the registry
 * (reports/sinks.h) and handed down to the scan, which names none of them.
 * Every check of the options comes before the first packet (the vantage
 * discovery), so that a usage error costs no round trip.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "reports/history_rec.h"
#include "reports/sinks.h"
#include "scanner/scan.h"
#include "scanner/vantage.h"

/* The enrichment stage's configuration (scan, bootstrap and annotate). */
static void enrich_config(const sn_config_t *cfg, sn_scan_cfg_t *sc)
{
    sc->enrich_on = true;
    sc->enrich = (sn_enrich_cfg_t){
        .rdns = cfg->no_rdns ? SN_RDNS_NONE : cfg->rdns,
        .dns_servers = cfg->dns_servers.v,
        .n_dns_servers = cfg->dns_servers.n,
        .dns_timeout_ms = (unsigned)cfg->dns_timeout,
        .dns_tries = 2,
        .dns_inflight = (unsigned)cfg->dns_inflight,
        .geo_files = cfg->geo_files.v,
        .n_geo_files = cfg->geo_files.n,
        .geo_defaults = !cfg->no_geo,
        /* Parking many more results than lookups in flight buys no speed, only memory. */
        .max_parked = 4 * (size_t)cfg->dns_inflight + 64,
        .quiet = cfg->quiet,
    };
}

int sn_cli_run_scan(const sn_config_t *cfg, const sn_cli_scan_run_t *run)
{
    sn_error_t err = {{0}};
    sn_scan_cfg_t sc = {
        .inputs = run->inputs,
        .n_inputs = run->n_inputs,
        .inline_name = run->inline_name,
        .inline_text = run->inline_text,
        .input_format = (int)cfg->input_format,
        .strict = cfg->strict,
        .allow = cfg->allow.v,
        .n_allow = cfg->allow.n,
        .exclude_files = cfg->exclude_files.v,
        .n_exclude_files = cfg->exclude_files.n,
        .dry_run = cfg->dry_run,
        .annotate = cfg->command == SN_CMD_ANNOTATE,
        .command_text = cfg->command_text,
        .progress = !cfg->quiet && (cfg->progress || isatty(STDERR_FILENO)),
        .quiet = cfg->quiet,
        .engine = {.rate = cfg->rate,
                   .max_inflight = (uint32_t)cfg->max_inflight,
                   .timeout_ms = (uint32_t)cfg->timeout,
                   .fixed_timeout = cfg->fixed_timeout,
                   .retries = (uint32_t)cfg->retries,
                   .seed = (uint64_t)cfg->seed},
        .on_result = run->on_result,
        .ud = run->ud,
    };
    if (sn_scan_parse_plan(cfg->probes, &sc.engine, &err) != SN_OK ||
        sn_scan_parse_ports(cfg->fallback_ports, &sc.engine, &err) != SN_OK)
        return sn_cli_usage(&err);
    enrich_config(cfg, &sc);
    /* The shard's key is --seed as given (0 too), never the clock's: every scanner of the
     * split must compute the same one. */
    sc.shard.key = (uint64_t)cfg->seed;
    if (cfg->shard != NULL && sn_shard_parse(cfg->shard, &sc.shard, &err) != SN_OK)
        return sn_cli_usage(&err);
    char where[512] = "";
    if (cfg->site != NULL && cfg->site[0] != '\0') {
        snprintf(where, sizeof where, "site %s%s%s", cfg->site, cfg->shard ? ", shard " : "",
                 cfg->shard ? cfg->shard : "");
        sc.where = where;
    } else if (cfg->shard != NULL) {
        snprintf(where, sizeof where, "shard %s", cfg->shard);
        sc.where = where;
    }
    if (cfg->history == NULL && (cfg->resume || cfg->revisit > 0)) {
        sn_error_set(&err, SN_EINVAL, "--resume and --revisit need --history FILE");
        return sn_cli_usage(&err);
    }
    if (cfg->history != NULL && cfg->dry_run) {
        /* A run that probed nothing would read as a night on which every node was gone. */
        sn_error_set(&err, SN_EINVAL, "--history records what a scan measured: not with --dry-run");
        return sn_cli_usage(&err);
    }

    char vtext[256] = "";
    if (cfg->vantage_from != NULL || cfg->stun != NULL) {
        sn_vantage_t v;
        sn_status_t vst;
        if (cfg->vantage_from != NULL) {
            vst = sn_vantage_load(cfg->vantage_from, &v, &err);
        } else {
            sn_vantage_cfg_t vc = {.stun = cfg->stun,
                                   .timeout_ms = (unsigned)cfg->timeout,
                                   .retries = (unsigned)cfg->retries};
            vst = sn_vantage_discover(&vc, &v, &err);
        }
        if (vst != SN_OK)
            return sn_cli_fail(&err);
        sn_vantage_format(&v, vtext, sizeof vtext);
        sc.vantage = vtext;
    }

    sn_sink_t sinks[3];
    size_t n_sinks = 0;
    if (cfg->history != NULL) {
        /* A server's writer spools next to the results file (or in the working directory). */
        char spool[4096];
        if (run->output != NULL && strcmp(run->output, "-") != 0 &&
            strncmp(run->output, "/dev/", 5) != 0)
            snprintf(spool, sizeof spool, "%s.history-spool", run->output);
        else
            snprintf(spool, sizeof spool, "snprobe-%ld.history-spool", (long)getpid());
        char plan[512];
        sn_cli_plan_text(cfg, plan, sizeof plan);
        sn_hrec_cfg_t hc = {.path = cfg->history,
                            .resume = cfg->resume,
                            .revisit_days = cfg->revisit,
                            .command = cfg->command_text,
                            .site = cfg->site,
                            .shard = cfg->shard ? cfg->shard : "",
                            .night = cfg->night,
                            .spool = spool,
                            .vantage = sc.vantage ? sc.vantage : "",
                            .plan = plan,
                            .inputs = sc.inputs,
                            .n_inputs = sc.n_inputs,
                            .quiet = cfg->quiet};
        /* Opened now, as the store's one writer: SN_EBUSY before any probe. */
        sn_status_t hs =
            sn_sink_create("history", &(sn_sink_cfg_t){.history = &hc}, &sinks[n_sinks], &err);
        if (hs != SN_OK)
            return sn_cli_fail_st(hs, &err);
        n_sinks++;
    }
    /* The sinks in the order they get each result; the scan closes them in
     * reverse, so the history hears of any other's failure: history, statistics
     * (the summary and the HTML report), results. */
    sn_status_t st = SN_OK;
    if (cfg->html != NULL || cfg->summary != NULL)
        st = sn_sink_create("report", &(sn_sink_cfg_t){.path = cfg->html, .summary = cfg->summary},
                            &sinks[n_sinks++], &err);
    if (st == SN_OK && run->output != NULL)
        st = sn_sink_create(cfg->output_format == SN_OUTPUT_NDJSON ? "ndjson" : "csv",
                            &(sn_sink_cfg_t){.path = run->output}, &sinks[n_sinks++], &err);
    if (st != SN_OK) {
        sn_sinks_close(sinks, n_sinks, &(sn_sink_end_t){.failed = true}, &st, &err);
        return sn_cli_fail_st(st, &err);
    }
    sc.sinks = sinks;
    sc.n_sinks = n_sinks;
    sn_scan_summary_t sum;
    st = sn_scan_run(&sc, &sum, &err); /* closes every sink, the history's run ends */
    if (st == SN_OK && run->after_scan != NULL)
        run->after_scan(run->ud);
    if (st != SN_OK) {
        int rc = sn_cli_fail_st(st, &err);
        return run->nagios ? 2 : rc; /* a check that could not run is critical */
    }
    if (sum.distinct == 0) {
        fprintf(stderr,
                "snprobe: no target in the inputs (%llu bad entries skipped); nothing "
                "scanned, nothing written\n",
                (unsigned long long)sum.bad);
        return run->nagios ? 2 : SN_EXIT_NO_TARGETS;
    }
    if (!cfg->quiet)
        sn_scan_print_summary(stderr, &sum, run->output);
    if (run->exit_code != NULL)
        return run->exit_code(run->ud, &sum);
    return sum.interrupted ? SN_EXIT_INTERRUPTED : SN_EXIT_OK;
}

int sn_cmd_scan(const sn_config_t *cfg)
{
    if (cfg->n_inputs == 0) {
        sn_error_t err = {{0}};
        sn_error_set(&err, SN_EINVAL, "%s needs at least one INPUT (a file, or - for stdin)",
                     cfg->command_name);
        return sn_cli_usage(&err);
    }
    sn_cli_scan_run_t run = {.inputs = cfg->inputs,
                             .n_inputs = cfg->n_inputs,
                             .inline_name = "bundled bootstrap list",
                             .output = cfg->output};
    return sn_cli_run_scan(cfg, &run);
}
