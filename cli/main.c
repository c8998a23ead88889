/*
 * snprobe's entry point: parse the command line (cli.c), validate it into the
 * configuration of one command, run it, and turn its status into an exit
 * code. The only file that exits.
 *
 * Exit codes (scanner/status.h, SN_EXIT_*): 0 done; 1 the run failed (bad
 * input under --strict, unreadable file, unwritable output or standard
 * output, socket error); 2 usage error; 3 a scan stopped by a signal (its
 * results are partial: rows cut short say `incomplete`); 4 the inputs held
 * no target at all; 5 another snprobe is writing the same output.
 * `bootstrap` is a check in the Nagios way: 0 every node alive, 1 some dead,
 * 2 all dead or the check could not run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/bootstrap.h"
#include "data/input.h"
#include "lab/population.h"
#include "lib/outfile.h"
#include "probes/probe.h"
#include "reports/output.h"
#include "cli/cli.h"
#include "lab/demo.h"
#include "reports/history_cmd.h"
#include "reports/history_rec.h"
#include "reports/sinks.h"
#include "scanner/scan.h"
#include "lab/swarm.h"
#include "reports/report.h"
#include "scanner/vantage.h"
#include "lib/version.h"

/* The command line as typed, for the report's metadata. */
static char command_text[2048];

static void keep_command_text(int argc, char **argv)
{
    size_t len = 0;
    for (int i = 0; i < argc && len < sizeof command_text - 1; i++)
        len += (size_t)snprintf(command_text + len, sizeof command_text - len, "%s%s", i ? " " : "",
                                argv[i]);
}

static int fail(const sn_error_t *err)
{
    fprintf(stderr, "snprobe: %s\n", err->msg);
    return SN_EXIT_FAIL;
}

/* As fail, telling a lock held by another run (SN_EBUSY) apart. */
static int fail_st(sn_status_t st, const sn_error_t *err)
{
    fprintf(stderr, "snprobe: %s\n", err->msg);
    return st == SN_EBUSY ? SN_EXIT_BUSY : SN_EXIT_FAIL;
}

static int usage(const sn_error_t *err)
{
    fprintf(stderr, "snprobe: %s\n", err->msg);
    return 2;
}

/* ---- scan and bootstrap ---- */

/* A row of the bootstrap table: copies, since the scan frees its targets. */
typedef struct boot_row {
    sn_addr_t addr;
    bool blocked;
    sn_probe_result_t udp, tcp;
} boot_row_t;

typedef struct boot_table {
    boot_row_t *rows;
    size_t n, cap;
} boot_table_t;

static void boot_collect(void *ud, const sn_result_t *r)
{
    boot_table_t *t = ud;
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        boot_row_t *nr = realloc(t->rows, nc * sizeof *nr);
        if (nr == NULL)
            return;
        t->rows = nr;
        t->cap = nc;
    }
    t->rows[t->n++] = (boot_row_t){
        .addr = r->target->addr, .blocked = r->blocked != NULL, .udp = r->udp, .tcp = r->tcp};
}

/* Which bundled lists hold a node ("2004+1.4"), or "list" for a node only --list gave. */
static void boot_sets(const sn_addr_t *a, char *buf, size_t cap)
{
    const sn_bootstrap_node_t *n = sn_bootstrap_find(a);
    if (n != NULL)
        sn_bootstrap_sets_str(n->sets, buf, cap);
    else
        snprintf(buf, cap, "list");
}

static void boot_print(const boot_table_t *t)
{
    printf("%-24s %-10s %10s %-10s %10s %-6s %s\n", "node", "udp", "udp_rtt_ms", "tcp",
           "tcp_rtt_ms", "port", "sets");
    for (size_t i = 0; i < t->n; i++) {
        const boot_row_t *r = &t->rows[i];
        char a[SN_ADDR_STRLEN];
        sn_addr_format(&r->addr, a, sizeof a, true);
        char ur[16] = "-", tr[16] = "-", tp[8] = "-";
        if (r->udp.outcome == SN_OUTCOME_ALIVE)
            snprintf(ur, sizeof ur, "%.3f", r->udp.rtt_us / 1000.0);
        if (r->tcp.outcome == SN_OUTCOME_ALIVE) {
            snprintf(tr, sizeof tr, "%.3f", r->tcp.rtt_us / 1000.0);
            snprintf(tp, sizeof tp, "%u", r->tcp.port);
        }
        char sets[32];
        boot_sets(&r->addr, sets, sizeof sets);
        printf("%-24s %-10s %10s %-10s %10s %-6s %s\n", a,
               r->blocked ? "blocked" : sn_outcome_name(r->udp.outcome), ur,
               r->blocked ? "blocked" : sn_outcome_name(r->tcp.outcome), tr, tp, sets);
    }
}

/* Nagios-style: 0 every node alive, 1 some dead, 2 all dead (or none checked). */
static int boot_status(const boot_table_t *t)
{
    size_t alive = 0;
    for (size_t i = 0; i < t->n; i++)
        alive += !t->rows[i].blocked && (t->rows[i].udp.outcome == SN_OUTCOME_ALIVE ||
                                         t->rows[i].tcp.outcome == SN_OUTCOME_ALIVE);
    return t->n == 0 || alive == 0 ? 2 : alive == t->n ? 0 : 1;
}

/* bootstrap --dry-run on the bundled lists: what would be probed, and what the sources say. */
static void boot_print_bundled(unsigned mask)
{
    size_t n, ns;
    const sn_bootstrap_node_t *nodes = sn_bootstrap_nodes(&n);
    const sn_bootstrap_set_t *sets = sn_bootstrap_sets(&ns);
    for (size_t i = 0; i < ns; i++)
        if (mask & sets[i].bit)
            printf("# set %s: %s; %s\n", sets[i].name, sets[i].client, sets[i].source);
    printf("%-24s %-9s %s\n", "node", "sets", "reverse_name (as the source gives it)");
    for (size_t i = 0; i < n; i++) {
        if (!(nodes[i].sets & mask))
            continue;
        char node[SN_ADDR_STRLEN], in[32];
        snprintf(node, sizeof node, "%s:%u", nodes[i].ip, nodes[i].port);
        sn_bootstrap_sets_str(nodes[i].sets, in, sizeof in);
        printf("%-24s %-9s %s\n", node, in, nodes[i].ptr[0] ? nodes[i].ptr : "-");
    }
}

/* Enrichment options, shared by scan, bootstrap and annotate. */
static sn_status_t enrich_config(const sn_cli_t *cli, sn_scan_cfg_t *sc, sn_error_t *err)
{
    sn_rdns_mode_t mode = cli->command == SN_CMD_ANNOTATE ? SN_RDNS_ALL : SN_RDNS_ALIVE;
    if (cli->rdns != NULL) {
        if (strcmp(cli->rdns, "alive") == 0)
            mode = SN_RDNS_ALIVE;
        else if (strcmp(cli->rdns, "all") == 0)
            mode = SN_RDNS_ALL;
        else
            return sn_error_set(err, SN_EINVAL, "--rdns: '%s' is not alive or all", cli->rdns);
    }
    sc->enrich_on = true;
    sc->enrich = (sn_enrich_cfg_t){
        .rdns = cli->no_rdns ? SN_RDNS_NONE : mode,
        .dns_servers = cli->dns_servers.v,
        .n_dns_servers = cli->dns_servers.n,
        .dns_timeout_ms = (unsigned)cli->dns_timeout,
        .dns_tries = 2,
        .dns_inflight = (unsigned)cli->dns_inflight,
        .geo_files = cli->geo_files.v,
        .n_geo_files = cli->geo_files.n,
        .geo_defaults = !cli->no_geo,
        /* Parking many more results than lookups in flight buys no speed, only memory. */
        .max_parked = 4 * (size_t)cli->dns_inflight + 64,
        .quiet = cli->quiet,
    };
    return SN_OK;
}

static int run_scan(const sn_cli_t *cli)
{
    sn_error_t err = {{0}};
    bool boot = cli->command == SN_CMD_BOOTSTRAP;
    if (!boot && cli->n_inputs == 0) {
        sn_error_set(&err, SN_EINVAL, "%s needs at least one INPUT (a file, or - for stdin)",
                     cli->command_name);
        return usage(&err);
    }
    unsigned boot_mask = SN_BOOT_ALL;
    static char boot_text[1024];
    if (boot && cli->list == NULL) {
        if (sn_bootstrap_parse_set(cli->boot_set, &boot_mask, &err) != SN_OK)
            return usage(&err);
        if (cli->dry_run) { /* nothing is sent: the bundled lists as the sources give them */
            if (!cli->quiet)
                boot_print_bundled(boot_mask);
            return 0;
        }
        if (sn_bootstrap_list_text(boot_mask, boot_text, sizeof boot_text) == 0) {
            sn_error_set(&err, SN_ENOMEM, "the bundled bootstrap list does not fit");
            fail(&err);
            return 2;
        }
    }
    sn_scan_cfg_t sc = {
        .inputs = boot ? (cli->list ? &cli->list : NULL) : cli->inputs,
        .n_inputs = boot ? (cli->list ? 1 : 0) : cli->n_inputs,
        .inline_name = "bundled bootstrap list",
        .inline_text = boot && cli->list == NULL ? boot_text : NULL,
        .strict = cli->strict,
        .allow = cli->allow.v,
        .n_allow = cli->allow.n,
        .exclude_files = cli->exclude_files.v,
        .n_exclude_files = cli->exclude_files.n,
        .dry_run = cli->dry_run,
        .annotate = cli->command == SN_CMD_ANNOTATE,
        .command_text = command_text,
        .progress = !cli->quiet && (cli->progress || isatty(STDERR_FILENO)),
        .quiet = cli->quiet,
        .engine = {.rate = cli->rate,
                   .max_inflight = (uint32_t)cli->max_inflight,
                   .timeout_ms = (uint32_t)cli->timeout,
                   .retries = (uint32_t)cli->retries,
                   .seed = (uint64_t)cli->seed},
    };
    static const char *const formats[] = {"auto", "xml", "plain", "csv"};
    sc.input_format = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(cli->input_format, formats[i]) == 0)
            sc.input_format = i;
    if (sc.input_format < 0) {
        sn_error_set(&err, SN_EINVAL, "--input-format: '%s' is not auto, xml, plain or csv",
                     cli->input_format);
        return usage(&err);
    }
    /* Bootstrap prints its table, and writes results only to a file it is given. */
    const char *results = boot && strcmp(cli->output, "-") == 0 ? NULL : cli->output;
    sn_output_format_t ofmt;
    if (sn_output_format_parse(cli->output_format, &ofmt) != SN_OK) {
        sn_error_set(&err, SN_EINVAL, "--output-format: '%s' is not csv or ndjson",
                     cli->output_format);
        return usage(&err);
    }
    char vtext[256] = "";
    if (cli->vantage_from != NULL || cli->stun != NULL) {
        sn_vantage_t v;
        sn_status_t vst;
        if (cli->vantage_from != NULL) {
            vst = sn_vantage_load(cli->vantage_from, &v, &err);
        } else {
            sn_vantage_cfg_t vc = {.stun = cli->stun,
                                   .timeout_ms = (unsigned)cli->timeout,
                                   .retries = (unsigned)cli->retries};
            vst = sn_vantage_discover(&vc, &v, &err);
        }
        if (vst != SN_OK)
            return fail(&err);
        sn_vantage_format(&v, vtext, sizeof vtext);
        sc.vantage = vtext;
    }
    if (sn_scan_parse_plan(cli->probes, &sc.engine, &err) != SN_OK ||
        sn_scan_parse_ports(cli->fallback_ports, &sc.engine, &err) != SN_OK ||
        enrich_config(cli, &sc, &err) != SN_OK)
        return usage(&err);

    boot_table_t table = {0};
    if (boot) {
        sc.on_result = boot_collect;
        sc.ud = &table;
    }
    if (cli->history == NULL && (cli->resume || cli->revisit > 0)) {
        sn_error_set(&err, SN_EINVAL, "--resume and --revisit need --history FILE");
        return usage(&err);
    }
    if (cli->history != NULL && cli->dry_run) {
        /* A run that probed nothing would read as a night on which every node was gone. */
        sn_error_set(&err, SN_EINVAL, "--history records what a scan measured: not with --dry-run");
        return usage(&err);
    }
    sn_sink_t sinks[3];
    size_t n_sinks = 0;
    if (cli->history != NULL) {
        char plan[512];
        snprintf(plan, sizeof plan, "probes=%s fallback-ports=%s timeout=%g retries=%g",
                 cli->probes, cli->fallback_ports, cli->timeout, cli->retries);
        sn_hrec_cfg_t hc = {.path = cli->history,
                            .resume = cli->resume,
                            .revisit_days = cli->revisit,
                            .command = command_text,
                            .site = cli->site,
                            .vantage = sc.vantage ? sc.vantage : "",
                            .plan = plan,
                            .inputs = sc.inputs,
                            .n_inputs = sc.n_inputs,
                            .quiet = cli->quiet};
        sn_status_t hs =
            sn_sink_create("history", &(sn_sink_cfg_t){.history = &hc}, &sinks[n_sinks], &err);
        if (hs != SN_OK) {
            fprintf(stderr, "snprobe: %s\n", err.msg);
            return hs == SN_EBUSY ? SN_EXIT_BUSY : SN_EXIT_FAIL;
        }
        n_sinks++;
    }
    /* The sinks, in the order they get each result (and closed in reverse, so
     * the history hears of any other's failure): history, statistics, results. */
    sn_status_t st = SN_OK;
    if (cli->html != NULL || cli->summary != NULL)
        st = sn_sink_create("report", &(sn_sink_cfg_t){.path = cli->html, .summary = cli->summary},
                            &sinks[n_sinks++], &err);
    if (st == SN_OK && results != NULL)
        st = sn_sink_create(ofmt == SN_OUTPUT_NDJSON ? "ndjson" : "csv",
                            &(sn_sink_cfg_t){.path = results}, &sinks[n_sinks++], &err);
    if (st != SN_OK) {
        sn_sinks_close(sinks, n_sinks, &(sn_sink_end_t){.failed = true}, &st, &err);
        return fail_st(st, &err);
    }
    sc.sinks = sinks;
    sc.n_sinks = n_sinks;
    sn_scan_summary_t sum;
    st = sn_scan_run(&sc, &sum, &err);
    if (boot && st == SN_OK && !cli->quiet)
        boot_print(&table);
    int boot_rc = boot_status(&table);
    free(table.rows);
    if (st != SN_OK) {
        int rc = fail_st(st, &err);
        return boot ? 2 : rc; /* a check that could not run is critical */
    }
    if (sum.distinct == 0) {
        fprintf(stderr,
                "snprobe: no target in the inputs (%llu bad entries skipped); nothing "
                "scanned, nothing written\n",
                (unsigned long long)sum.bad);
        return boot ? 2 : SN_EXIT_NO_TARGETS;
    }
    if (!cli->quiet)
        sn_scan_print_summary(stderr, &sum, results);
    if (boot && !cli->dry_run)
        return boot_rc;
    return sum.interrupted ? SN_EXIT_INTERRUPTED : SN_EXIT_OK;
}

static int run_vantage(const sn_cli_t *cli)
{
    sn_error_t err = {{0}};
    if (cli->stun == NULL) {
        sn_error_set(&err, SN_EINVAL, "vantage needs --stun HOST[:PORT]");
        return usage(&err);
    }
    sn_output_format_t fmt;
    if (sn_output_format_parse(cli->output_format, &fmt) != SN_OK) {
        sn_error_set(&err, SN_EINVAL, "--output-format: '%s' is not csv or ndjson",
                     cli->output_format);
        return usage(&err);
    }
    sn_vantage_cfg_t vc = {
        .stun = cli->stun, .timeout_ms = (unsigned)cli->timeout, .retries = (unsigned)cli->retries};
    sn_vantage_t v;
    sn_status_t st = sn_vantage_discover(&vc, &v, &err);
    if (st != SN_OK)
        return fail(&err);
    sn_vantage_print(stdout, &v, fmt == SN_OUTPUT_NDJSON);
    return 0;
}

/* ---- report and export ---- */

static int run_report(const sn_cli_t *cli)
{
    sn_error_t err = {{0}};
    if (cli->n_inputs == 0 && cli->history == NULL) {
        sn_error_set(&err, SN_EINVAL, "%s needs at least one RESULTS file", cli->command_name);
        return usage(&err);
    }
    if (cli->history != NULL && cli->n_inputs > 0) {
        sn_error_set(&err, SN_EINVAL, "%s: give RESULTS files or --history, not both",
                     cli->command_name);
        return usage(&err);
    }
    if (cli->history != NULL && cli->command == SN_CMD_EXPORT && cli->alive_within <= 0) {
        sn_error_set(&err, SN_EINVAL, "export --history needs --alive-within DAYS");
        return usage(&err);
    }
    char *hist = NULL;
    size_t hist_len = 0;
    if (cli->history != NULL &&
        sn_history_results_text(cli->history, 0,
                                cli->command == SN_CMD_EXPORT ? cli->alive_within : 0, &hist,
                                &hist_len, &err) != SN_OK)
        return fail(&err);
    if (cli->command == SN_CMD_REPORT) {
        if (cli->html == NULL && cli->summary == NULL) {
            sn_error_set(&err, SN_EINVAL, "report needs --html FILE and/or --summary FILE");
            return usage(&err);
        }
        sn_history_section_t *sec = NULL;
        sn_status_t rst = SN_OK;
        if (hist != NULL && cli->html != NULL)
            rst = sn_history_section_new(&sec, cli->history, &err);
        if (rst == SN_OK)
            rst = hist != NULL ? sn_report_run_buf(cli->history, hist, hist_len, cli->html,
                                                   cli->summary, command_text,
                                                   sec ? sn_history_section_write : NULL, sec, &err)
                               : sn_report_run(cli->inputs, cli->n_inputs, cli->html, cli->summary,
                                               command_text, &err);
        sn_history_section_free(sec);
        free(hist);
        return rst != SN_OK ? fail_st(rst, &err) : 0;
    }
    sn_export_opts_t eo = {
        .eligible_only = cli->eligible_only, .addr_only = cli->addr_only, .name = cli->set_name};
    if (sn_export_format_parse(cli->export_format, &eo.format) != SN_OK) {
        free(hist);
        sn_error_set(&err, SN_EINVAL, "--format: '%s' is not nft, ipset or plain",
                     cli->export_format);
        return usage(&err);
    }
    size_t written = 0;
    sn_status_t est =
        hist != NULL
            ? sn_export_run_buf(cli->history, hist, hist_len, &eo, cli->output, &written, &err)
            : sn_export_run(cli->inputs, cli->n_inputs, &eo, cli->output, &written, &err);
    free(hist);
    if (est != SN_OK)
        return fail_st(est, &err);
    if (!cli->quiet)
        fprintf(stderr, "snprobe: exported %zu nodes\n", written);
    return 0;
}

/* ---- history ---- */

static int run_history(const sn_cli_t *cli)
{
    sn_error_t err = {{0}};
    if (cli->history == NULL || cli->n_inputs != 1) {
        sn_error_set(&err, SN_EINVAL,
                     "usage: snprobe history SUBCOMMAND --history FILE "
                     "(subcommands: %s)",
                     sn_history_cmd_names);
        return usage(&err);
    }
    sn_history_cmd_t hc = {.path = cli->history,
                           .what = cli->inputs[0],
                           .run = (int64_t)cli->run,
                           .output = cli->output};
    sn_status_t st = sn_history_cmd_run(&hc, &err);
    if (st == SN_EINVAL)
        return usage(&err);
    return st == SN_OK ? 0 : fail(&err);
}

/* ---- swarm, population, demo ---- */

static int swarm_signal;
static sn_swarm_stats_t swarm_final;

/* Copies the counters first: the swarm frees itself once stopped. */
static void on_swarm_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    if (swarm_signal)
        return;
    sn_swarm_get_stats(h->data, &swarm_final);
    sn_swarm_stop(h->data);
    swarm_signal = 1;
}

static int run_swarm(const sn_cli_t *cli)
{
    sn_error_t err = {{0}};
    if (cli->population == NULL) {
        sn_error_set(&err, SN_EINVAL, "swarm needs --population FILE");
        return usage(&err);
    }
    sn_population_t pop = {0};
    if (sn_population_load(cli->population, &pop, &err) != SN_OK)
        return fail(&err);
    uv_loop_t loop;
    uv_loop_init(&loop);
    sn_swarm_t *sw = NULL;
    sn_status_t st = sn_swarm_start(&loop, &pop, NULL, &sw, &err);
    size_t n_nodes = pop.count;
    sn_population_free(&pop);
    if (st != SN_OK) {
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        return fail(&err);
    }
    sn_swarm_stats_t ss;
    sn_swarm_get_stats(sw, &ss);
    printf("swarm: ready, %zu nodes on %zu ports\n", n_nodes, ss.ports);
    fflush(stdout);
    uv_signal_t sigint, sigterm;
    uv_signal_init(&loop, &sigint);
    uv_signal_init(&loop, &sigterm);
    sigint.data = sigterm.data = sw;
    uv_signal_start(&sigint, on_swarm_signal, SIGINT);
    uv_signal_start(&sigterm, on_swarm_signal, SIGTERM);
    while (!swarm_signal)
        uv_run(&loop, UV_RUN_ONCE);
    ss = swarm_final;
    uv_close((uv_handle_t *)&sigint, NULL);
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (!cli->quiet)
        fprintf(stderr,
                "swarm: %llu UDP requests, %llu replies (%llu delayed, %llu lost on purpose), "
                "%llu TCP connections accepted\n",
                (unsigned long long)ss.udp_requests, (unsigned long long)ss.udp_replies,
                (unsigned long long)ss.udp_delayed, (unsigned long long)ss.udp_lost,
                (unsigned long long)ss.tcp_accepted);
    return 0;
}

/* The population's addresses, one ip:port a line: the list a scan reads. */
static sn_status_t write_list(const sn_population_t *pop, const char *path, sn_error_t *err)
{
    sn_outfile_t *of = NULL;
    sn_status_t st = sn_outfile_open(path, &of, err);
    if (st != SN_OK)
        return st;
    FILE *f = sn_outfile_stream(of);
    if (f == NULL) {
        sn_outfile_abort(of, false);
        return sn_error_set(err, SN_ENOMEM, "out of memory writing %s", path);
    }
    for (size_t i = 0; i < pop->count; i++) {
        char a[SN_ADDR_STRLEN];
        sn_addr_format(&pop->nodes[i].addr, a, sizeof a, true);
        fprintf(f, "%s\n", a);
    }
    return sn_outfile_commit(of, err);
}

static int run_population(const sn_cli_t *cli)
{
    sn_error_t err = {{0}};
    sn_popgen_t gen = {.count = (size_t)cli->count,
                       .seed = cli->seed ? (uint64_t)cli->seed : 1,
                       .one_port = (uint16_t)cli->one_port,
                       .delay_ms = (uint32_t)cli->delay_ms};
    if (cli->mix != NULL) {
        if (sn_demo_parse_mix(cli->mix, &gen, &err) != SN_OK)
            return usage(&err);
    } else {
        sn_demo_default_mix(&gen);
    }
    if (strcmp(cli->output, "-") == 0) {
        sn_error_set(&err, SN_EINVAL, "population needs -o FILE");
        return usage(&err);
    }
    sn_population_t pop = {0};
    sn_status_t st = sn_population_generate(&gen, &pop, &err);
    if (st == SN_OK)
        st = sn_population_write(&pop, cli->output, &err);
    if (st == SN_OK && cli->list != NULL)
        st = write_list(&pop, cli->list, &err);
    sn_population_free(&pop);
    return st == SN_OK ? 0 : fail_st(st, &err);
}

static int run_demo(const sn_cli_t *cli, const char *argv0)
{
    sn_error_t err = {{0}};
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        snprintf(self, sizeof self, "%s", argv0);
    else
        self[n] = '\0';
    sn_demo_cfg_t dc = {.out_dir = cli->out_dir,
                        .self_exe = self,
                        .count = (unsigned)cli->count,
                        .nights = (unsigned)cli->nights,
                        .seed = (uint64_t)cli->seed,
                        .progress = cli->progress || isatty(2),
                        .quiet = cli->quiet};
    return sn_demo_run(&dc, &err) == SN_OK ? 0 : fail(&err);
}

int main(int argc, char **argv)
{
    sn_cli_t cli;
    sn_error_t err = {{0}};
    keep_command_text(argc, argv);
    if (sn_cli_parse(argc, argv, &cli, &err) != SN_OK) {
        sn_cli_free(&cli);
        return usage(&err);
    }
    int rc = 0;
    if (cli.help || (cli.command == 0 && !cli.version && !cli.list_probes && !cli.list_fields)) {
        sn_cli_help(stdout, cli.command);
    } else if (cli.version) {
        printf("snprobe %s\n", SN_VERSION);
    } else if (cli.list_probes) {
        for (size_t i = 0; i < sn_probe_count; i++)
            printf("%-8s %s  %s\n", sn_probes[i]->name,
                   sn_probes[i]->transport == SN_TRANSPORT_UDP ? "udp" : "tcp",
                   sn_probes[i]->summary);
    } else if (cli.list_fields) {
        sn_fields_print(stdout);
    } else {
        switch (cli.command) {
        case SN_CMD_SCAN:
        case SN_CMD_BOOTSTRAP:
        case SN_CMD_ANNOTATE: rc = run_scan(&cli); break;
        case SN_CMD_SWARM: rc = run_swarm(&cli); break;
        case SN_CMD_POPULATION: rc = run_population(&cli); break;
        case SN_CMD_DEMO: rc = run_demo(&cli, argv[0]); break;
        case SN_CMD_VANTAGE: rc = run_vantage(&cli); break;
        case SN_CMD_REPORT:
        case SN_CMD_EXPORT: rc = run_report(&cli); break;
        case SN_CMD_HISTORY: rc = run_history(&cli); break;
        }
    }
    sn_cli_free(&cli);
    /* What went to standard output must have arrived: `> /dev/full` fails. */
    if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
        fprintf(stderr, "snprobe: writing standard output: %s\n", strerror(errno));
        if (rc == SN_EXIT_OK || rc == SN_EXIT_INTERRUPTED)
            rc = SN_EXIT_FAIL;
    }
    return rc;
}
