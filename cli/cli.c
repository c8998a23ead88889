/*
 * Option table and parser. Every option is one row with designated
 * initialisers; adding an option is one row plus a field in sn_config_t.
 * getopt_long's table, `--help` and the man page are built from these rows,
 * so the parser, the help and the manual cannot disagree, and a choice is
 * mapped from its word to its enum value here, once.
 */
#include "cli/cli.h"

#include "data/history.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/bootstrap.h"
#include "lib/version.h"

#define F(field) offsetof(sn_config_t, field)
#define PROBING (SN_CMD_SCAN | SN_CMD_BOOTSTRAP)
#define TIMED (PROBING | SN_CMD_VANTAGE)
#define READING (PROBING | SN_CMD_ANNOTATE) /* commands that read inputs and write results */

/* The choices of each choice option, in the order --help lists them. */
static const sn_opt_choice_t output_formats[] = {
    {"csv", SN_OUTPUT_CSV}, {"ndjson", SN_OUTPUT_NDJSON}, {NULL, 0}};
static const sn_opt_choice_t input_formats[] = {{"auto", SN_INPUT_AUTO},
                                                {"xml", SN_INPUT_XML},
                                                {"plain", SN_INPUT_PLAIN},
                                                {"csv", SN_INPUT_CSV},
                                                {NULL, 0}};
static const sn_opt_choice_t rdns_modes[] = {
    {"alive", SN_RDNS_ALIVE}, {"all", SN_RDNS_ALL}, {NULL, 0}};
static const sn_opt_choice_t export_formats[] = {
    {"nft", SN_EXPORT_NFT}, {"ipset", SN_EXPORT_IPSET}, {"plain", SN_EXPORT_PLAIN}, {NULL, 0}};
static const sn_opt_choice_t boot_sets[] = {
    {"2004", SN_BOOT_2004}, {"1.4", SN_BOOT_14}, {"all", SN_BOOT_ALL}, {NULL, 0}};

/* A scan looks up the nodes that answered; annotate, which probes nothing, every one. */
static const sn_opt_cmd_default_t rdns_defaults[] = {
    {SN_CMD_SCAN | SN_CMD_BOOTSTRAP, "alive"}, {SN_CMD_ANNOTATE, "all"}, {0, NULL}};

static const sn_opt_t options[] = {
    {.name = "help",
     .short_name = 'h',
     .type = SN_OPT_FLAG,
     .offset = F(help),
     .help = "show this help and exit"},
    {.name = "version",
     .type = SN_OPT_FLAG,
     .offset = F(version),
     .help = "print the version and exit"},
    {.name = "list-probes",
     .type = SN_OPT_FLAG,
     .offset = F(list_probes),
     .help = "list the probe modules and exit"},
    {.name = "list-fields",
     .type = SN_OPT_FLAG,
     .offset = F(list_fields),
     .help = "list the result columns and exit"},
    {.name = "man",
     .type = SN_OPT_FLAG,
     .offset = F(man),
     .help = "print the manual page (roff, section 1) and exit"},
    {.name = "output",
     .short_name = 'o',
     .type = SN_OPT_STRING,
     .arg = "FILE",
     .def = "-",
     .commands = READING | SN_CMD_POPULATION | SN_CMD_EXPORT | SN_CMD_HISTORY,
     .offset = F(output),
     .help = "write results (population: the population CSV; export: the set) to FILE; - is "
             "standard output"},
    {.name = "html",
     .type = SN_OPT_STRING,
     .arg = "FILE",
     .commands = READING | SN_CMD_REPORT,
     .offset = F(html),
     .help = "write the self-contained HTML report (statistics and charts) to FILE"},
    {.name = "summary",
     .type = SN_OPT_STRING,
     .arg = "FILE",
     .commands = READING | SN_CMD_REPORT,
     .offset = F(summary),
     .help =
         "write the statistics as metric,value,denominator rows to FILE (NDJSON when it ends in "
         ".json or .ndjson)"},
    {.name = "format",
     .type = SN_OPT_CHOICE,
     .choices = export_formats,
     .def = "nft",
     .commands = SN_CMD_EXPORT,
     .offset = F(export_format),
     .help = "export format: an nftables set, an ipset restore file, or an ip:port list"},
    {.name = "eligible-only",
     .type = SN_OPT_FLAG,
     .commands = SN_CMD_EXPORT,
     .offset = F(eligible_only),
     .help = "export only super-node eligible nodes (default: every alive node)"},
    {.name = "addr-only",
     .type = SN_OPT_FLAG,
     .commands = SN_CMD_EXPORT,
     .offset = F(addr_only),
     .help = "export addresses without ports"},
    {.name = "name",
     .type = SN_OPT_STRING,
     .arg = "NAME",
     .def = "snprobe",
     .commands = SN_CMD_EXPORT,
     .offset = F(set_name),
     .help = "nftables table / ipset name prefix (letters, digits, _)"},
    {.name = "output-format",
     .type = SN_OPT_CHOICE,
     .choices = output_formats,
     .def = "csv",
     .commands = TIMED | READING,
     .offset = F(output_format),
     .help = "format of the results (vantage: ndjson prints one JSON object)"},
    {.name = "probes",
     .short_name = 'p',
     .type = SN_OPT_STRING,
     .arg = "LIST",
     .def = "skype,tcp",
     .commands = PROBING,
     .offset = F(probes),
     .help = "probe plan: comma-separated probe names, at most one UDP and one TCP probe"},
    {.name = "rate",
     .short_name = 'r',
     .type = SN_OPT_NUMBER,
     .arg = "N",
     .min = 0,
     .max = 1e7,
     .def = "1000",
     .commands = PROBING,
     .offset = F(rate),
     .help = "probes sent per second (0: as fast as the machine goes; loopback only)"},
    {.name = "max-inflight",
     .type = SN_OPT_NUMBER,
     .arg = "N",
     .min = 1,
     .max = 4194304,
     .def = "65536",
     .commands = PROBING,
     .offset = F(max_inflight),
     .help = "targets probed at once (TCP connections are further kept under the open-file limit)"},
    {.name = "timeout",
     .short_name = 't',
     .type = SN_OPT_NUMBER,
     .arg = "MS",
     .min = 1,
     .max = 600000,
     .def = "1000",
     .commands = TIMED,
     .offset = F(timeout),
     .help = "per-attempt timeout in milliseconds (TCP: the longest wait, see --fixed-timeout)"},
    {.name = "retries",
     .type = SN_OPT_NUMBER,
     .arg = "N",
     .min = 0,
     .max = 20,
     .def = "1",
     .commands = TIMED,
     .offset = F(retries),
     .help = "further attempts after a timeout, with the same probe token"},
    {.name = "fixed-timeout",
     .type = SN_OPT_FLAG,
     .commands = PROBING,
     .offset = F(fixed_timeout),
     .help = "wait the whole --timeout for every TCP handshake; by default, once the first "
             "attempts have had the whole timeout and 32 handshakes have answered, it is cut to "
             "twice the slowest answer seen (at least 100 ms, at most --timeout)"},
    {.name = "fallback-ports",
     .type = SN_OPT_STRING,
     .arg = "LIST",
     .def = "443,80",
     .commands = PROBING,
     .offset = F(fallback_ports),
     .help =
         "TCP ports tried when the target's own port fails, as Skype clients do; none to disable"},
    {.name = "allow",
     .type = SN_OPT_LIST,
     .arg = "CIDR",
     .commands = PROBING,
     .offset = F(allow),
     .help = "probe this range although the default blocklist holds it (repeatable)"},
    {.name = "exclude-file",
     .type = SN_OPT_LIST,
     .arg = "FILE",
     .commands = PROBING,
     .offset = F(exclude_files),
     .help = "never probe the CIDRs listed in FILE, one per line (repeatable)"},
    {.name = "stun",
     .type = SN_OPT_STRING,
     .arg = "HOST[:PORT]",
     .commands = SN_CMD_SCAN | SN_CMD_VANTAGE,
     .offset = F(stun),
     .help = "STUN server with two addresses for RFC 5780 NAT discovery; scan: record the vantage "
             "found before scanning"},
    {.name = "vantage-from",
     .type = SN_OPT_STRING,
     .arg = "FILE",
     .commands = SN_CMD_SCAN,
     .offset = F(vantage_from),
     .help = "record the vantage saved by 'snprobe vantage' in FILE instead of discovering it"},
    {.name = "input-format",
     .type = SN_OPT_CHOICE,
     .choices = input_formats,
     .def = "auto",
     .commands = SN_CMD_SCAN | SN_CMD_ANNOTATE,
     .offset = F(input_format),
     .help = "format of the inputs; auto sniffs each file"},
    {.name = "strict",
     .type = SN_OPT_FLAG,
     .commands = READING,
     .offset = F(strict),
     .help = "stop at the first bad input entry instead of skipping it"},
    {.name = "dry-run",
     .short_name = 'n',
     .type = SN_OPT_FLAG,
     .commands = PROBING,
     .offset = F(dry_run),
     .help = "send nothing; write the targets that would be probed"},
    {.name = "progress",
     .type = SN_OPT_FLAG,
     .commands = READING | SN_CMD_DEMO,
     .offset = F(progress),
     .help = "print a progress line on stderr even when it is not a terminal"},
    {.name = "quiet",
     .short_name = 'q',
     .type = SN_OPT_FLAG,
     .commands = READING | SN_CMD_DEMO | SN_CMD_EXPORT,
     .offset = F(quiet),
     .help = "no progress line and no bad-entry messages; bootstrap: print nothing, only the exit "
             "status (0 all alive, 1 some dead, 2 all dead or the check could not run)"},
    {.name = "seed",
     .type = SN_OPT_NUMBER,
     .arg = "N",
     .min = 0,
     .max = 9007199254740991.0,
     .def = "0",
     .commands = PROBING | SN_CMD_POPULATION | SN_CMD_DEMO,
     .offset = F(seed),
     .help = "seed for target order, tokens and generated populations (0: from the clock; "
             "population and demo: 1)"},
    {.name = "no-rdns",
     .type = SN_OPT_FLAG,
     .commands = READING,
     .offset = F(no_rdns),
     .help = "no reverse DNS lookups"},
    {.name = "rdns",
     .type = SN_OPT_CHOICE,
     .choices = rdns_modes,
     .cmd_defaults = rdns_defaults,
     .commands = READING,
     .offset = F(rdns),
     .help = "whose PTR names to look up [default: alive for scan, all for annotate]; loopback and "
             "private addresses only with --dns-server (RFC 6303)"},
    {.name = "dns-server",
     .type = SN_OPT_LIST,
     .arg = "ADDR[:PORT]",
     .commands = READING,
     .offset = F(dns_servers),
     .help = "DNS server for reverse lookups (repeatable); default: the system resolver"},
    {.name = "dns-timeout",
     .type = SN_OPT_NUMBER,
     .arg = "MS",
     .min = 1,
     .max = 60000,
     .def = "2000",
     .commands = READING,
     .offset = F(dns_timeout),
     .help = "timeout of a reverse lookup's first try, in milliseconds (two tries)"},
    {.name = "dns-inflight",
     .type = SN_OPT_NUMBER,
     .arg = "N",
     .min = 1,
     .max = 10000,
     .def = "200",
     .commands = READING,
     .offset = F(dns_inflight),
     .help = "reverse lookups in flight at once (a small local resolver drops bursts)"},
    {.name = "geo",
     .type = SN_OPT_LIST,
     .arg = "FILE",
     .commands = READING,
     .offset = F(geo_files),
     .help = "country or ASN database: MaxMind/DB-IP .mmdb or ip-location-db .csv (repeatable)"},
    {.name = "asn",
     .type = SN_OPT_LIST,
     .arg = "FILE",
     .commands = READING,
     .offset = F(geo_files),
     .help = "AS database, .mmdb or .csv (repeatable; the same as --geo, for readability)"},
    {.name = "no-geo",
     .type = SN_OPT_FLAG,
     .commands = READING,
     .offset = F(no_geo),
     .help = "do not search the default places for geo/AS databases ("
             "/usr/share/GeoIP, "
             "/var/lib/GeoIP, the data directory)"},
    {.name = "list",
     .type = SN_OPT_STRING,
     .arg = "FILE",
     .commands = SN_CMD_BOOTSTRAP | SN_CMD_POPULATION,
     .offset = F(list),
     .help = "bootstrap: probe the nodes in FILE instead of the bundled ones; population: also "
             "write the nodes as an ip:port list to FILE"},
    {.name = "set",
     .type = SN_OPT_CHOICE,
     .choices = boot_sets,
     .def = "all",
     .commands = SN_CMD_BOOTSTRAP,
     .offset = F(boot_set),
     .help = "which bundled bootstrap list: the Skype 1.x list of 2004, the 1.4 list, or both "
             "(de-duplicated; each row says which lists hold it)"},
    {.name = "population",
     .type = SN_OPT_STRING,
     .arg = "FILE",
     .commands = SN_CMD_SWARM,
     .offset = F(population),
     .help = "population CSV of the nodes to emulate (address,port,behaviour,delay_ms,loss)"},
    {.name = "count",
     .type = SN_OPT_NUMBER,
     .arg = "N",
     .min = 1,
     .max = 16000000,
     .def = "3000",
     .commands = SN_CMD_POPULATION | SN_CMD_DEMO,
     .offset = F(count),
     .help = "number of nodes to generate"},
    {.name = "mix",
     .type = SN_OPT_STRING,
     .arg = "B=SHARE,...",
     .commands = SN_CMD_POPULATION,
     .offset = F(mix),
     .help =
         "behaviour shares, e.g. dead=0.25,tcp-only=0.05 (the rest is alive); default: the demo's"},
    {.name = "one-port",
     .type = SN_OPT_NUMBER,
     .arg = "PORT",
     .min = 0,
     .max = 65535,
     .def = "0",
     .commands = SN_CMD_POPULATION,
     .offset = F(one_port),
     .help = "put every node on this port (the peers' case); 0: random ports"},
    {.name = "delay-ms",
     .type = SN_OPT_NUMBER,
     .arg = "MS",
     .min = 0,
     .max = 60000,
     .def = "0",
     .commands = SN_CMD_POPULATION,
     .offset = F(delay_ms),
     .help = "delay every UDP reply by MS milliseconds"},
    {.name = "history",
     .type = SN_OPT_STRING,
     .arg = "FILE",
     .commands = SN_CMD_SCAN | SN_CMD_HISTORY | SN_CMD_REPORT | SN_CMD_EXPORT,
     .offset = F(history),
     .help =
         "the history store (SQLite): scan records the run there; history reads it; report: the "
         "newest run; export: with --alive-within"},
    {.name = "alive-within",
     .type = SN_OPT_NUMBER,
     .arg = "DAYS",
     .min = 0,
     .max = 36500,
     .def = "0",
     .commands = SN_CMD_EXPORT,
     .offset = F(alive_within),
     .help = "export --history: the nodes alive in any run of the last DAYS days"},
    {.name = "resume",
     .type = SN_OPT_FLAG,
     .commands = SN_CMD_SCAN,
     .offset = F(resume),
     .help =
         "with --history: continue the last run if it was interrupted (else start one); targets "
         "it measured are not probed again"},
    {.name = "revisit",
     .type = SN_OPT_NUMBER,
     .arg = "DAYS",
     .min = 0,
     .max = 36500,
     .def = "0",
     .commands = SN_CMD_SCAN,
     .offset = F(revisit),
     .help = "with --history: also probe the history's targets alive in the last DAYS days"},
    {.name = "site",
     .type = SN_OPT_STRING,
     .arg = "NAME",
     .def = "",
     .commands = SN_CMD_SCAN,
     .offset = F(site),
     .help = "the name of this vantage, recorded with the run in the history and shown as the "
             "report's Where; several sites write one history at once"},
    {.name = "by-site",
     .type = SN_OPT_FLAG,
     .commands = SN_CMD_REPORT,
     .offset = F(by_site),
     .help = "report --history: compare the sites that scanned the newest night (alive sets, "
             "Jaccard index, reachability classes, RTT by continent, vantage verdicts)"},
    {.name = "shard",
     .type = SN_OPT_STRING,
     .arg = "K/N",
     .commands = SN_CMD_SCAN,
     .offset = F(shard),
     .help = "probe only shard K of N of the de-duplicated targets (a keyed hash of address, port "
             "and --seed: N scanners with the same inputs and seed probe every target once; "
             "recorded with the run)"},
    {.name = "night",
     .type = SN_OPT_STRING,
     .arg = "LABEL",
     .def = "",
     .commands = SN_CMD_SCAN,
     .offset = F(night),
     .help = "with --history: the night the run belongs to (default: the UTC date it starts); "
             "the shards of one night and site read as one result set"},
    {.name = "run",
     .type = SN_OPT_NUMBER,
     .arg = "N",
     .min = 0,
     .max = 9007199254740991.0,
     .def = "0",
     .commands = SN_CMD_HISTORY,
     .offset = F(run),
     .help = "history results: the run to write (0: the newest)"},
    {.name = "nights",
     .type = SN_OPT_NUMBER,
     .arg = "N",
     .min = 1,
     .max = 30,
     .def = "3",
     .commands = SN_CMD_DEMO,
     .offset = F(nights),
     .help = "nights the demo scans into out-dir/history.db, the population changing between them"},
    {.name = "out-dir",
     .type = SN_OPT_STRING,
     .arg = "DIR",
     .def = "out/demo",
     .commands = SN_CMD_DEMO,
     .offset = F(out_dir),
     .help = "where the demo writes its population, list and results"},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

static const sn_cmd_desc_t commands[] = {
    {.name = "scan",
     .bit = SN_CMD_SCAN,
     .args = "[options] INPUT...",
     .help = "probe every distinct IP:port in the inputs (host-cache XML, ip:port lists, CSV; - "
             "is stdin)"},
    {.name = "bootstrap",
     .bit = SN_CMD_BOOTSTRAP,
     .args = "[options]",
     .help = "probe the bundled bootstrap super nodes (public addresses!) or the --list given; "
             "exit 0 all alive, 1 some dead, 2 all dead or could not run"},
    {.name = "swarm",
     .bit = SN_CMD_SWARM,
     .args = "--population FILE",
     .help = "emulate a super-node network on loopback until SIGTERM"},
    {.name = "population",
     .bit = SN_CMD_POPULATION,
     .args = "[options] -o FILE",
     .help = "generate a swarm population (and its ip:port list) for tests and benchmarks"},
    {.name = "annotate",
     .bit = SN_CMD_ANNOTATE,
     .args = "[options] INPUT...",
     .help = "enrich and write a harvested list without sending a single probe"},
    {.name = "report",
     .bit = SN_CMD_REPORT,
     .args = "--html FILE [--summary FILE] RESULTS...",
     .help = "statistics and the HTML report from saved results (CSV or NDJSON), without "
             "probing"},
    {.name = "export",
     .bit = SN_CMD_EXPORT,
     .args = "[--format nft|ipset|plain] -o FILE RESULTS...",
     .help = "the alive (or eligible) nodes of saved results as a firewall set"},
    {.name = "vantage",
     .bit = SN_CMD_VANTAGE,
     .args = "--stun HOST[:PORT] [options]",
     .help = "classify this machine's NAT and firewall against a STUN server (RFC 5780)"},
    {.name = "history",
     .bit = SN_CMD_HISTORY,
     .args = "runs|results|nodes|churn|staleness|survival|population|definitions --history FILE; "
             "import FILE.db --history postgresql://...",
     .help = "longitudinal statistics from the history store, as CSV (-o FILE, default stdout)"},
    {.name = "demo",
     .bit = SN_CMD_DEMO,
     .args = "[options]",
     .help = "the embedded default: generate a population, start the swarm, scan it, "
             "summarise"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

const sn_opt_t *sn_cli_options(size_t *n)
{
    *n = N_OPTIONS;
    return options;
}

const sn_cmd_desc_t *sn_cli_commands(size_t *n)
{
    *n = N_COMMANDS;
    return commands;
}

const char *sn_cli_default(const sn_opt_t *o, unsigned command)
{
    for (const sn_opt_cmd_default_t *d = o->cmd_defaults; d != NULL && d->commands != 0; d++)
        if (d->commands & command)
            return d->value;
    return o->def;
}

/* "a, b or c": the choices as an error message lists them. */
static void choice_words(const sn_opt_choice_t *c, const char *last_sep, const char *sep, char *buf,
                         size_t cap)
{
    size_t n = 0, len = 0;
    while (c[n].name != NULL)
        n++;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s",
                                i == 0       ? ""
                                : i + 1 == n ? last_sep
                                             : sep,
                                c[i].name);
}

/* The help's placeholder of an option's argument: "FILE", or the choices "a|b|c". */
static const char *arg_text(const sn_opt_t *o, char *buf, size_t cap)
{
    if (o->type == SN_OPT_CHOICE) {
        choice_words(o->choices, "|", "|", buf, cap);
        return buf;
    }
    return o->arg;
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

/* Stores one value of o (an argument, or a default) into its field; names o on failure. */
static sn_status_t store(sn_config_t *cfg, const sn_opt_t *o, const char *arg, sn_error_t *err)
{
    char *field = (char *)cfg + o->offset;
    switch (o->type) {
    case SN_OPT_FLAG: *(bool *)field = true; return SN_OK;
    case SN_OPT_STRING: *(const char **)field = arg; return SN_OK;
    case SN_OPT_NUMBER: {
        double v;
        if (parse_num(arg, &v) != 0)
            return sn_error_set(err, SN_EINVAL, "--%s: '%s' is not a decimal number", o->name, arg);
        if (v < o->min || v > o->max)
            return sn_error_set(err, SN_EINVAL, "--%s: %s is out of range %g..%g", o->name, arg,
                                o->min, o->max);
        *(double *)field = v;
        return SN_OK;
    }
    case SN_OPT_CHOICE:
        for (const sn_opt_choice_t *c = o->choices; c->name != NULL; c++)
            if (strcmp(arg, c->name) == 0) {
                /* every choice field is an int-sized enum (checked below) */
                *(int *)field = c->value;
                return SN_OK;
            }
        char words[128];
        choice_words(o->choices, " or ", ", ", words, sizeof words);
        return sn_error_set(err, SN_EINVAL, "--%s: '%s' is not %s", o->name, arg, words);
    case SN_OPT_LIST: {
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

_Static_assert(sizeof(sn_output_format_t) == sizeof(int) &&
                   sizeof(sn_input_format_t) == sizeof(int) &&
                   sizeof(sn_rdns_mode_t) == sizeof(int) &&
                   sizeof(sn_export_format_t) == sizeof(int) && sizeof(unsigned) == sizeof(int),
               "choice fields are stored through an int");

sn_status_t sn_cli_parse(int argc, char **argv, sn_config_t *cfg, sn_error_t *err)
{
    memset(cfg, 0, sizeof *cfg);
    size_t len = 0;
    /* Recorded in reports and the history: a URI's password never is. */
    for (int i = 0; i < argc && len < sizeof cfg->command_text - 1; i++) {
        char *red = strstr(argv[i], "://") ? sn_history_pg_redact(argv[i]) : NULL;
        len += (size_t)snprintf(cfg->command_text + len, sizeof cfg->command_text - len, "%s%s",
                                i ? " " : "", red ? red : argv[i]);
        free(red);
    }

    /* The command is the first argument that does not start with '-'. */
    int first = 1;
    if (argc > 1 && argv[1][0] != '-') {
        for (size_t c = 0; c < N_COMMANDS; c++)
            if (strcmp(argv[1], commands[c].name) == 0) {
                cfg->command = commands[c].bit;
                cfg->command_name = commands[c].name;
            }
        if (cfg->command == 0)
            return sn_error_set(err, SN_EINVAL, "unknown command '%s' (see snprobe --help)",
                                argv[1]);
        first = 2;
    }

    /* The defaults go through the same store as arguments: the table's text is validated
       as a user's would be (tests/test_cli.c holds every default to its bounds). */
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *def = sn_cli_default(&options[i], cfg->command);
        if (def != NULL && options[i].type != SN_OPT_FLAG && options[i].type != SN_OPT_LIST) {
            sn_status_t st = store(cfg, &options[i], def, err);
            if (st != SN_OK)
                return st;
        }
    }

    struct option lo[N_OPTIONS + 1];
    char shorts[2 * N_OPTIONS + 2];
    size_t ns = 0; /* GNU getopt permutes: options and inputs may mix; '--' ends options */
    for (size_t i = 0; i < N_OPTIONS; i++) {
        lo[i] = (struct option){options[i].name,
                                options[i].type == SN_OPT_FLAG ? no_argument : required_argument,
                                NULL, (int)(256 + i)};
        if (options[i].short_name) {
            shorts[ns++] = options[i].short_name;
            if (options[i].type != SN_OPT_FLAG)
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
        const sn_opt_t *o = NULL;
        if (c >= 256) {
            o = &options[c - 256];
        } else if (c == '?' || c == ':') {
            const char *bad = av[optind - 1];
            return sn_error_set(err, SN_EINVAL, "%s: %s (see snprobe %s--help)", bad,
                                c == ':' ? "missing argument"
                                         : "unknown option or missing argument",
                                cfg->command_name ? cfg->command_name : "");
        } else {
            for (size_t i = 0; i < N_OPTIONS; i++)
                if (options[i].short_name == c)
                    o = &options[i];
        }
        if (o == NULL)
            return sn_error_set(err, SN_EINVAL, "unknown option");
        if (o->commands != 0 && !(o->commands & cfg->command))
            return sn_error_set(err, SN_EINVAL, "option --%s does not apply to '%s'", o->name,
                                cfg->command_name ? cfg->command_name : "(no command)");
        sn_status_t st = store(cfg, o, optarg, err);
        if (st != SN_OK)
            return st;
    }
    cfg->inputs = (const char **)(av + optind);
    cfg->n_inputs = (size_t)(ac - optind);
    return SN_OK;
}

void sn_cli_free(sn_config_t *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->allow.v);
    free(cfg->exclude_files.v);
    free(cfg->dns_servers.v);
    free(cfg->geo_files.v);
}

/* Whether o is listed under command (0: the options of every command). */
static bool listed(const sn_opt_t *o, unsigned command)
{
    return command == 0 ? o->commands == 0 : (o->commands == 0 || (o->commands & command));
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
        const sn_opt_t *o = &options[i];
        if (!listed(o, command))
            continue;
        char left[200], words[128]; /* left: "-x, --" + name + " " + words */
        const char *arg = arg_text(o, words, sizeof words);
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, arg ? " " : "",
                     arg ? arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, arg ? " " : "", arg ? arg : "");
        fprintf(f, "  %-34s %s", left, o->help);
        if (o->def != NULL && o->type != SN_OPT_FLAG)
            fprintf(f, " [default: %s]", o->def);
        fputc('\n', f);
    }
    if (command == 0)
        fprintf(f, "\nRun 'snprobe COMMAND --help' for the options of a command.\n");
}

/* Text for roff: backslashes and hyphens escaped, a line never starting with a control. */
static void roff(FILE *f, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", f);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
    }
}

static void man_option(FILE *f, const sn_opt_t *o)
{
    char words[128];
    const char *arg = arg_text(o, words, sizeof words);
    fputs(".TP\n", f);
    if (o->short_name)
        fprintf(f, "\\fB\\-%c\\fR, ", o->short_name);
    fputs("\\fB\\-\\-", f);
    roff(f, o->name);
    fputs("\\fR", f);
    if (arg != NULL) {
        fputs(" \\fI", f);
        roff(f, arg);
        fputs("\\fR", f);
    }
    fputc('\n', f);
    roff(f, o->help);
    if (o->def != NULL && o->type != SN_OPT_FLAG) {
        fputs(" [default: ", f);
        roff(f, o->def);
        fputc(']', f);
    }
    fputc('\n', f);
}

void sn_cli_man(FILE *f)
{
    fprintf(f, ".\\\" Generated by 'snprobe --man' from the option table (cli/cli.c).\n");
    fprintf(f, ".TH SNPROBE 1 \"\" \"snprobe %s\" \"User Commands\"\n", SN_VERSION);
    fputs(".SH NAME\nsnprobe \\- active scanner of harvested super\\-node lists (Skype\\-style "
          "overlays)\n",
          f);
    fputs(".SH SYNOPSIS\n\\fBsnprobe\\fR \\fICOMMAND\\fR [\\fIoptions\\fR]\n", f);
    fputs(".SH OPTIONS OF EVERY COMMAND\n", f);
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (listed(&options[i], 0))
            man_option(f, &options[i]);
    fputs(".SH COMMANDS\n", f);
    for (size_t c = 0; c < N_COMMANDS; c++) {
        fputs(".SS \"snprobe ", f);
        roff(f, commands[c].name);
        fputc(' ', f);
        roff(f, commands[c].args);
        fputs("\"\n", f);
        roff(f, commands[c].help);
        fputc('\n', f);
        for (size_t i = 0; i < N_OPTIONS; i++)
            if (options[i].commands & commands[c].bit)
                man_option(f, &options[i]);
    }
    fputs(".SH EXIT STATUS\n", f);
    static const struct {
        int code;
        const char *what;
    } codes[] = {
        {SN_EXIT_OK, "the run did its whole job"},
        {SN_EXIT_FAIL, "the run failed: unreadable input, bad entry under --strict, unwritable "
                       "output or standard output, socket error, too few file descriptors"},
        {SN_EXIT_USAGE, "usage error"},
        {SN_EXIT_INTERRUPTED, "interrupted by a signal: results written but partial (cut-short "
                              "targets say incomplete)"},
        {SN_EXIT_NO_TARGETS, "the inputs held no target at all; nothing is written"},
        {SN_EXIT_BUSY, "another snprobe is writing the same output file or history (its pid "
                       "is named)"},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        fprintf(f, ".TP\n.B %d\n", codes[i].code);
        roff(f, codes[i].what);
        fputc('\n', f);
    }
    fputs(".PP\n\\fBsnprobe bootstrap\\fR is a check in the Nagios way: 0 every node alive, 1 "
          "some dead, 2 all dead or the check could not run.\n",
          f);
    fputs(".SH SEE ALSO\nThe README installed with snprobe.\n", f);
}
