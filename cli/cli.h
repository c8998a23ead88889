/*
 * The command line: one table (cli.c) describes every option once with
 * designated initialisers: its name, short name, type, the choices of a choice
 * option with the enum value each maps to, the bounds of a number, the
 * default, the help, and which commands take it. The parser, `--help` of every
 * command and the man page (`snprobe --man`) all derive from that table.
 *
 * Parsing validates every option once (numbers against their bounds, choices
 * mapped to their enum values) into an sn_config_t that the commands receive
 * as `const`. The rooms below cli/ never see it: each command (cli/cmd_*.c)
 * fills their own configuration structs from it, in one place. Nothing here
 * is global.
 */
#ifndef SN_CLI_H
#define SN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "data/input.h"
#include "lib/status.h"
#include "reports/export.h"
#include "reports/output.h"
#include "scanner/enrich.h"

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

/*
 * The validated command line. Every field holds its option's default from the
 * table unless the option was given; numbers are within their bounds and
 * choices are enum values. Strings point into argv; the lists are owned (freed
 * by sn_cli_free).
 */
typedef struct sn_config {
    unsigned command; /* one SN_CMD_* bit; 0 for none */
    const char *command_name;
    char command_text[2048]; /* the command line as typed, for reports and the history */
    bool help, version, list_probes, list_fields, man;
    /* scan and bootstrap */
    const char *output, *probes, *fallback_ports, *list;
    sn_output_format_t output_format;
    sn_input_format_t input_format;
    unsigned boot_set; /* bootstrap --set: SN_BOOT_* bits */
    double rate, max_inflight, timeout, retries, seed;
    bool strict, dry_run, progress, quiet, fixed_timeout;
    sn_strlist_t allow, exclude_files;
    const char *stun, *vantage_from;
    /* enrichment */
    bool no_rdns, no_geo;
    sn_rdns_mode_t rdns; /* the command's default (table) unless --rdns was given */
    double dns_timeout, dns_inflight;
    sn_strlist_t dns_servers, geo_files;
    /* reports and export */
    const char *html, *summary, *set_name;
    sn_export_format_t export_format;
    bool eligible_only, addr_only;
    /* the history store */
    const char *history, *site, *shard, *night;
    bool resume, by_site;
    double revisit, run, nights, alive_within;
    /* swarm, population, demo */
    const char *population, *mix, *out_dir;
    double count, one_port, delay_ms;
    /* positional arguments */
    const char **inputs;
    size_t n_inputs;
} sn_config_t;

/* ---- the table, public so that tests and the man page can walk it ---- */

typedef enum sn_opt_type {
    SN_OPT_FLAG,   /* no argument: sets a bool */
    SN_OPT_STRING, /* any text: a const char * into argv */
    SN_OPT_NUMBER, /* strict decimal within [min, max]: a double */
    SN_OPT_CHOICE, /* one word of .choices: the enum value it maps to, in an int-sized enum */
    SN_OPT_LIST,   /* repeatable text: appended to an sn_strlist_t */
} sn_opt_type_t;

typedef struct sn_opt_choice {
    const char *name;
    int value;
} sn_opt_choice_t;

/* A default that differs for some commands (--rdns: all for annotate). */
typedef struct sn_opt_cmd_default {
    unsigned commands; /* SN_CMD_* bits; 0 ends the list */
    const char *value;
} sn_opt_cmd_default_t;

typedef struct sn_opt {
    const char *name;
    char short_name; /* 0: none */
    sn_opt_type_t type;
    const char *arg;                /* placeholder in --help; choices: NULL, derived from them */
    const sn_opt_choice_t *choices; /* SN_OPT_CHOICE: ended by a NULL name */
    double min, max;                /* SN_OPT_NUMBER */
    const char *def;                /* default as text, shown in --help; NULL: none shown */
    const sn_opt_cmd_default_t *cmd_defaults; /* per-command defaults (the help says them) */
    unsigned commands;                        /* SN_CMD_* bits; 0 = every command */
    size_t offset;                            /* field in sn_config_t */
    const char *help;
} sn_opt_t;

typedef struct sn_cmd_desc {
    const char *name;
    unsigned bit;
    const char *args;
    const char *help;
} sn_cmd_desc_t;

/* The option table and the command table (static storage). */
const sn_opt_t *sn_cli_options(size_t *n);
const sn_cmd_desc_t *sn_cli_commands(size_t *n);

/* The default of o for command (cmd_defaults first, then def); NULL if none. */
const char *sn_cli_default(const sn_opt_t *o, unsigned command);

/*
 * Parses argv into cfg: the table's defaults first, then every option given,
 * each validated (bounds, choices, whether the command takes it). Returns
 * SN_OK, or SN_EINVAL (SN_ENOMEM) with a message naming the option and, for a
 * choice, its choices. Call sn_cli_free on cfg afterwards either way.
 */
sn_status_t sn_cli_parse(int argc, char **argv, sn_config_t *cfg, sn_error_t *err);
void sn_cli_free(sn_config_t *cfg);

/* Prints usage: the command list, or the options of one command. */
void sn_cli_help(FILE *f, unsigned command);

/* Prints the man page (roff, section 1), every command and option, from the tables. */
void sn_cli_man(FILE *f);

#endif
