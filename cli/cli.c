/*
 * Option table and parser. Every option is one row; adding an option is one
 * row plus a field in sn_cli_t. getopt_long's table is built from these rows,
 * so the parser and --help cannot disagree.
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_FLAG, T_STR, T_NUM, T_LIST } opt_type_t;

typedef struct opt {
    const char *name;
    char short_name;
    opt_type_t type;
    const char *arg;   /* argument placeholder in --help */
    const char *def;   /* default, as text; NULL for none */
    double min, max;   /* bounds of T_NUM */
    unsigned commands; /* SN_CMD_* bits; 0 = every command */
    size_t offset;     /* field in sn_cli_t */
    const char *help;
} opt_t;

#define F(field) offsetof(sn_cli_t, field)
#define PROBING (SN_CMD_SCAN | SN_CMD_BOOTSTRAP)
#define TIMED (PROBING | SN_CMD_VANTAGE)
#define READING (PROBING | SN_CMD_ANNOTATE) /* commands that read inputs and write results */

static const opt_t options[] = {
    {"help", 'h', T_FLAG, NULL, NULL, 0, 0, 0, F(help), "show this help and exit"},
    {"version", 0, T_FLAG, NULL, NULL, 0, 0, 0, F(version), "print the version and exit"},
    {"list-probes", 0, T_FLAG, NULL, NULL, 0, 0, 0, F(list_probes),
     "list the probe modules and exit"},
    {"list-fields", 0, T_FLAG, NULL, NULL, 0, 0, 0, F(list_fields),
     "list the result columns and exit"},
    {"output", 'o', T_STR, "FILE", "-", 0, 0,
     READING | SN_CMD_POPULATION | SN_CMD_EXPORT | SN_CMD_HISTORY, F(output),
     "write results (population: the population CSV; export: the set) to FILE; - is "
     "standard output"},
    {"html", 0, T_STR, "FILE", NULL, 0, 0, READING | SN_CMD_REPORT, F(html),
     "write the self-contained HTML report (statistics and charts) to FILE"},
    {"summary", 0, T_STR, "FILE", NULL, 0, 0, READING | SN_CMD_REPORT, F(summary),
     "write the statistics as metric,value,denominator rows to FILE (NDJSON when it ends in "
     ".json or .ndjson)"},
    {"format", 0, T_STR, "nft|ipset|plain", "nft", 0, 0, SN_CMD_EXPORT, F(export_format),
     "export format: an nftables set, an ipset restore file, or an ip:port list"},
    {"eligible-only", 0, T_FLAG, NULL, NULL, 0, 0, SN_CMD_EXPORT, F(eligible_only),
     "export only super-node eligible nodes (default: every alive node)"},
    {"addr-only", 0, T_FLAG, NULL, NULL, 0, 0, SN_CMD_EXPORT, F(addr_only),
     "export addresses without ports"},
    {"name", 0, T_STR, "NAME", "snprobe", 0, 0, SN_CMD_EXPORT, F(set_name),
     "nftables table / ipset name prefix (letters, digits, _)"},
    {"output-format", 0, T_STR, "csv|ndjson", "csv", 0, 0, TIMED | READING, F(output_format),
     "format of the results (vantage: ndjson prints one JSON object)"},
    {"probes", 'p', T_STR, "LIST", "skype,tcp", 0, 0, PROBING, F(probes),
     "probe plan: comma-separated probe names, at most one UDP and one TCP probe"},
    {"rate", 'r', T_NUM, "N", "1000", 0, 1e7, PROBING, F(rate),
     "probes sent per second (0: as fast as the machine goes; loopback only)"},
    {"max-inflight", 0, T_NUM, "N", "65536", 1, 4194304, PROBING, F(max_inflight),
     "targets probed at once (TCP connections are further kept under the open-file limit)"},
    {"timeout", 't', T_NUM, "MS", "1000", 1, 600000, TIMED, F(timeout),
     "per-attempt timeout in milliseconds"},
    {"retries", 0, T_NUM, "N", "1", 0, 20, TIMED, F(retries),
     "further attempts after a timeout, with the same probe token"},
    {"fallback-ports", 0, T_STR, "LIST", "443,80", 0, 0, PROBING, F(fallback_ports),
     "TCP ports tried when the target's own port fails, as Skype clients do; none to disable"},
    {"allow", 0, T_LIST, "CIDR", NULL, 0, 0, PROBING, F(allow),
     "probe this range although the default blocklist holds it (repeatable)"},
    {"exclude-file", 0, T_LIST, "FILE", NULL, 0, 0, PROBING, F(exclude_files),
     "never probe the CIDRs listed in FILE, one per line (repeatable)"},
    {"stun", 0, T_STR, "HOST[:PORT]", NULL, 0, 0, SN_CMD_SCAN | SN_CMD_VANTAGE, F(stun),
     "STUN server with two addresses for RFC 5780 NAT discovery; scan: record the vantage "
     "found before scanning"},
    {"vantage-from", 0, T_STR, "FILE", NULL, 0, 0, SN_CMD_SCAN, F(vantage_from),
     "record the vantage saved by 'snprobe vantage' in FILE instead of discovering it"},
    {"input-format", 0, T_STR, "auto|xml|plain|csv", "auto", 0, 0, SN_CMD_SCAN | SN_CMD_ANNOTATE,
     F(input_format), "format of the inputs; auto sniffs each file"},
    {"strict", 0, T_FLAG, NULL, NULL, 0, 0, READING, F(strict),
     "stop at the first bad input entry instead of skipping it"},
    {"dry-run", 'n', T_FLAG, NULL, NULL, 0, 0, PROBING, F(dry_run),
     "send nothing; write the targets that would be probed"},
    {"progress", 0, T_FLAG, NULL, NULL, 0, 0, READING | SN_CMD_DEMO, F(progress),
     "print a progress line on stderr even when it is not a terminal"},
    {"quiet", 'q', T_FLAG, NULL, NULL, 0, 0, READING | SN_CMD_DEMO | SN_CMD_EXPORT, F(quiet),
     "no progress line and no bad-entry messages; bootstrap: print nothing, only the exit "
     "status (0 all alive, 1 some dead, 2 all dead or the check could not run)"},
    {"seed", 0, T_NUM, "N", "0", 0, 9007199254740991.0, PROBING | SN_CMD_POPULATION | SN_CMD_DEMO,
     F(seed),
     "seed for target order, tokens and generated populations (0: from the clock; "
     "population and demo: 1)"},
    {"no-rdns", 0, T_FLAG, NULL, NULL, 0, 0, READING, F(no_rdns), "no reverse DNS lookups"},
    {"rdns", 0, T_STR, "alive|all", NULL, 0, 0, READING, F(rdns),
     "whose PTR names to look up [default: alive for scan, all for annotate]; loopback and "
     "private addresses only with --dns-server (RFC 6303)"},
    {"dns-server", 0, T_LIST, "ADDR[:PORT]", NULL, 0, 0, READING, F(dns_servers),
     "DNS server for reverse lookups (repeatable); default: the system resolver"},
    {"dns-timeout", 0, T_NUM, "MS", "2000", 1, 60000, READING, F(dns_timeout),
     "timeout of a reverse lookup's first try, in milliseconds (two tries)"},
    {"dns-inflight", 0, T_NUM, "N", "200", 1, 10000, READING, F(dns_inflight),
     "reverse lookups in flight at once (a small local resolver drops bursts)"},
    {"geo", 0, T_LIST, "FILE", NULL, 0, 0, READING, F(geo_files),
     "country or ASN database: MaxMind/DB-IP .mmdb or ip-location-db .csv (repeatable)"},
    {"asn", 0, T_LIST, "FILE", NULL, 0, 0, READING, F(geo_files),
     "AS database, .mmdb or .csv (repeatable; the same as --geo, for readability)"},
    {"no-geo", 0, T_FLAG, NULL, NULL, 0, 0, READING, F(no_geo),
     "do not search the default places for geo/AS databases ("
     "/usr/share/GeoIP, "
     "/var/lib/GeoIP, the data directory)"},
    {"list", 0, T_STR, "FILE", NULL, 0, 0, SN_CMD_BOOTSTRAP | SN_CMD_POPULATION, F(list),
     "bootstrap: probe the nodes in FILE instead of the bundled ones; population: also "
     "write the nodes as an ip:port list to FILE"},
    {"set", 0, T_STR, "2004|1.4|all", "all", 0, 0, SN_CMD_BOOTSTRAP, F(boot_set),
     "which bundled bootstrap list: the Skype 1.x list of 2004, the 1.4 list, or both "
     "(de-duplicated; each row says which lists hold it)"},
    {"population", 0, T_STR, "FILE", NULL, 0, 0, SN_CMD_SWARM, F(population),
     "population CSV of the nodes to emulate (address,port,behaviour,delay_ms,loss)"},
    {"count", 0, T_NUM, "N", "3000", 1, 16000000, SN_CMD_POPULATION | SN_CMD_DEMO, F(count),
     "number of nodes to generate"},
    {"mix", 0, T_STR, "B=SHARE,...", NULL, 0, 0, SN_CMD_POPULATION, F(mix),
     "behaviour shares, e.g. dead=0.25,tcp-only=0.05 (the rest is alive); default: the demo's"},
    {"one-port", 0, T_NUM, "PORT", "0", 0, 65535, SN_CMD_POPULATION, F(one_port),
     "put every node on this port (the peers' case); 0: random ports"},
    {"delay-ms", 0, T_NUM, "MS", "0", 0, 60000, SN_CMD_POPULATION, F(delay_ms),
     "delay every UDP reply by MS milliseconds"},
    {"history", 0, T_STR, "FILE", NULL, 0, 0,
     SN_CMD_SCAN | SN_CMD_HISTORY | SN_CMD_REPORT | SN_CMD_EXPORT, F(history),
     "the history store (SQLite): scan records the run there; history reads it; report: the "
     "newest run; export: with --alive-within"},
    {"alive-within", 0, T_NUM, "DAYS", "0", 0, 36500, SN_CMD_EXPORT, F(alive_within),
     "export --history: the nodes alive in any run of the last DAYS days"},
    {"resume", 0, T_FLAG, NULL, NULL, 0, 0, SN_CMD_SCAN, F(resume),
     "with --history: continue the last run if it was interrupted (else start one); targets "
     "it measured are not probed again"},
    {"revisit", 0, T_NUM, "DAYS", "0", 0, 36500, SN_CMD_SCAN, F(revisit),
     "with --history: also probe the history's targets alive in the last DAYS days"},
    {"site", 0, T_STR, "NAME", "", 0, 0, SN_CMD_SCAN, F(site),
     "the name of this vantage, recorded with the run in the history"},
    {"run", 0, T_NUM, "N", "0", 0, 9007199254740991.0, SN_CMD_HISTORY, F(run),
     "history results: the run to write (0: the newest)"},
    {"nights", 0, T_NUM, "N", "3", 1, 30, SN_CMD_DEMO, F(nights),
     "nights the demo scans into out-dir/history.db, the population changing between them"},
    {"out-dir", 0, T_STR, "DIR", "out/demo", 0, 0, SN_CMD_DEMO, F(out_dir),
     "where the demo writes its population, list and results"},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

static const struct {
    const char *name;
    unsigned bit;
    const char *args;
    const char *help;
} commands[] = {
    {"scan", SN_CMD_SCAN, "[options] INPUT...",
     "probe every distinct IP:port in the inputs (host-cache XML, ip:port lists, CSV; - is stdin)"},
    {"bootstrap", SN_CMD_BOOTSTRAP, "[options]",
     "probe the bundled bootstrap super nodes (public addresses!) or the --list given; exit 0 "
     "all alive, 1 some dead, 2 all dead or could not run"},
    {"swarm", SN_CMD_SWARM, "--population FILE",
     "emulate a super-node network on loopback until SIGTERM"},
    {"population", SN_CMD_POPULATION, "[options] -o FILE",
     "generate a swarm population (and its ip:port list) for tests and benchmarks"},
    {"annotate", SN_CMD_ANNOTATE, "[options] INPUT...",
     "enrich and write a harvested list without sending a single probe"},
    {"report", SN_CMD_REPORT, "--html FILE [--summary FILE] RESULTS...",
     "statistics and the HTML report from saved results (CSV or NDJSON), without probing"},
    {"export", SN_CMD_EXPORT, "[--format nft|ipset|plain] -o FILE RESULTS...",
     "the alive (or eligible) nodes of saved results as a firewall set"},
    {"vantage", SN_CMD_VANTAGE, "--stun HOST[:PORT] [options]",
     "classify this machine's NAT and firewall against a STUN server (RFC 5780)"},
    {"history", SN_CMD_HISTORY,
     "runs|results|nodes|churn|staleness|survival|population|definitions --history FILE",
     "longitudinal statistics from the history store, as CSV (-o FILE, default stdout)"},
    {"demo", SN_CMD_DEMO, "[options]",
     "the embedded default: generate a population, start the swarm, scan it, summarise"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void set_default(sn_cli_t *cli, const opt_t *o)
{
    char *field = (char *)cli + o->offset;
    if (o->def == NULL)
        return;
    if (o->type == T_STR)
        *(const char **)field = o->def;
    else if (o->type == T_NUM)
        *(double *)field = strtod(o->def, NULL);
}

/* Strict decimal number: digits with an optional fraction; no sign, hex or exponent. */
static int parse_num(const char *s, double *out)
{
    if (*s == '\0')
        return -1;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static sn_status_t apply(sn_cli_t *cli, const opt_t *o, const char *arg, sn_error_t *err)
{
    char *field = (char *)cli + o->offset;
    if (o->commands != 0 && !(o->commands & cli->command))
        return sn_error_set(err, SN_EINVAL, "option --%s does not apply to '%s'", o->name,
                            cli->command_name ? cli->command_name : "(no command)");
    switch (o->type) {
    case T_FLAG: *(bool *)field = true; return SN_OK;
    case T_STR: *(const char **)field = arg; return SN_OK;
    case T_NUM: {
        double v;
        if (parse_num(arg, &v) != 0)
            return sn_error_set(err, SN_EINVAL, "--%s: '%s' is not a decimal number", o->name, arg);
        if (v < o->min || v > o->max)
            return sn_error_set(err, SN_EINVAL, "--%s: %s is out of range %g..%g", o->name, arg,
                                o->min, o->max);
        *(double *)field = v;
        return SN_OK;
    }
    case T_LIST: {
        sn_strlist_t *l = (sn_strlist_t *)field;
        const char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
        if (nv == NULL)
            return sn_error_set(err, SN_ENOMEM, "out of memory");
        nv[l->n++] = arg;
        l->v = nv;
        return SN_OK;
    }
    }
    return SN_EINVAL;
}

sn_status_t sn_cli_parse(int argc, char **argv, sn_cli_t *cli, sn_error_t *err)
{
    memset(cli, 0, sizeof *cli);
    for (size_t i = 0; i < N_OPTIONS; i++)
        set_default(cli, &options[i]);

    /* The command is the first argument that does not start with '-'. */
    int first = 1;
    if (argc > 1 && argv[1][0] != '-') {
        for (size_t c = 0; c < N_COMMANDS; c++)
            if (strcmp(argv[1], commands[c].name) == 0) {
                cli->command = commands[c].bit;
                cli->command_name = commands[c].name;
            }
        if (cli->command == 0)
            return sn_error_set(err, SN_EINVAL, "unknown command '%s' (see snprobe --help)",
                                argv[1]);
        first = 2;
    }

    struct option lo[N_OPTIONS + 1];
    char shorts[2 * N_OPTIONS + 2];
    size_t ns = 0; /* GNU getopt permutes: options and inputs may mix; '--' ends options */
    for (size_t i = 0; i < N_OPTIONS; i++) {
        lo[i] = (struct option){options[i].name,
                                options[i].type == T_FLAG ? no_argument : required_argument, NULL,
                                (int)(256 + i)};
        if (options[i].short_name) {
            shorts[ns++] = options[i].short_name;
            if (options[i].type != T_FLAG)
                shorts[ns++] = ':';
        }
    }
    lo[N_OPTIONS] = (struct option){0};
    shorts[ns] = '\0';

    char **av = argv + first - 1;
    int ac = argc - first + 1;
    optind = 0; /* 0, not 1: glibc then resets its whole state (a cluster left half-read by an
                   earlier parse) */
    opterr = 0;
    int c;
    while ((c = getopt_long(ac, av, shorts, lo, NULL)) != -1) {
        const opt_t *o = NULL;
        if (c >= 256) {
            o = &options[c - 256];
        } else if (c == '?' || c == ':') {
            const char *bad = av[optind - 1];
            return sn_error_set(err, SN_EINVAL, "%s: %s (see snprobe %s--help)", bad,
                                c == ':' ? "missing argument"
                                         : "unknown option or missing argument",
                                cli->command_name ? cli->command_name : "");
        } else {
            for (size_t i = 0; i < N_OPTIONS; i++)
                if (options[i].short_name == c)
                    o = &options[i];
        }
        if (o == NULL)
            return sn_error_set(err, SN_EINVAL, "unknown option");
        sn_status_t st = apply(cli, o, optarg, err);
        if (st != SN_OK)
            return st;
    }
    cli->inputs = (const char **)(av + optind);
    cli->n_inputs = (size_t)(ac - optind);
    return SN_OK;
}

void sn_cli_free(sn_cli_t *cli)
{
    if (cli == NULL)
        return;
    free(cli->allow.v);
    free(cli->exclude_files.v);
    free(cli->dns_servers.v);
    free(cli->geo_files.v);
}

void sn_cli_help(FILE *f, unsigned command)
{
    if (command == 0) {
        fprintf(f,
                "snprobe: active scanner of harvested super-node lists (Skype-style overlays)\n\n"
                "Usage: snprobe COMMAND [options]\n\nCommands:\n");
        for (size_t c = 0; c < N_COMMANDS; c++)
            fprintf(f, "  %-11s %s\n", commands[c].name, commands[c].help);
        fprintf(f, "\nOptions of every command:\n");
    } else {
        for (size_t c = 0; c < N_COMMANDS; c++)
            if (commands[c].bit == command)
                fprintf(f, "Usage: snprobe %s %s\n  %s\n\nOptions:\n", commands[c].name,
                        commands[c].args, commands[c].help);
    }
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const opt_t *o = &options[i];
        if (command == 0 ? o->commands != 0 : (o->commands != 0 && !(o->commands & command)))
            continue;
        char left[64];
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        fprintf(f, "  %-34s %s", left, o->help);
        if (o->def != NULL && o->type != T_FLAG)
            fprintf(f, " [default: %s]", o->def);
        fputc('\n', f);
    }
    if (command == 0)
        fprintf(f, "\nRun 'snprobe COMMAND --help' for the options of a command.\n");
}
