/*
 * The command line: one table describes every option once (name, argument,
 * default, bounds, help, which commands take it); the parser, `--help` and the
 * defaults all derive from it. Parsing fills sn_cli_t with raw values;
 * each command then validates what it uses into its own const configuration.
 */
#ifndef SN_CLI_H
#define SN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/status.h"

/* Commands, as bits, so that an option can belong to several. */
enum {
    SN_CMD_SCAN = 1 << 0,
    SN_CMD_BOOTSTRAP = 1 << 1,
    SN_CMD_SWARM = 1 << 2,
    SN_CMD_DEMO = 1 << 3,
    SN_CMD_POPULATION = 1 << 4,
    SN_CMD_VANTAGE = 1 << 5,
    SN_CMD_ANNOTATE = 1 << 6,
    SN_CMD_REPORT = 1 << 7,
    SN_CMD_EXPORT = 1 << 8,
    SN_CMD_HISTORY = 1 << 9,
};

typedef struct sn_strlist {
    const char **v;
    size_t n;
} sn_strlist_t;

typedef struct sn_cli {
    unsigned command; /* one SN_CMD_* bit; 0 for none */
    const char *command_name;
    bool help, version, list_probes, list_fields;
    /* scan and bootstrap */
    const char *output, *output_format, *probes, *fallback_ports, *input_format, *list;
    const char *boot_set; /* bootstrap --set: 2004, 1.4 or all */
    double rate, max_inflight, timeout, retries, seed;
    bool strict, dry_run, progress, quiet;
    sn_strlist_t allow, exclude_files;
    const char *stun, *vantage_from;
    /* enrichment */
    bool no_rdns, no_geo;
    const char *rdns;
    double dns_timeout, dns_inflight;
    sn_strlist_t dns_servers, geo_files;
    /* reports and export */
    const char *html, *summary, *export_format, *set_name;
    bool eligible_only, addr_only;
    /* the history store */
    const char *history, *site;
    bool resume;
    double revisit, run, nights, alive_within;
    /* swarm, population, demo */
    const char *population, *mix, *out_dir;
    double count, one_port, delay_ms;
    /* positional arguments */
    const char **inputs;
    size_t n_inputs;
} sn_cli_t;

/*
 * Parses argv into cli (defaults applied first). Returns SN_OK, or SN_EINVAL
 * with a message naming the option. The strings point into argv.
 */
sn_status_t sn_cli_parse(int argc, char **argv, sn_cli_t *cli, sn_error_t *err);
void sn_cli_free(sn_cli_t *cli);

/* Prints usage: the command list, or the options of one command. */
void sn_cli_help(FILE *f, unsigned command);

#endif
