/*
 * snprobe's entry point: parse and validate the command line (cli.c) into
 * one const configuration, hand it to its command (cli/cmd_*.c), and exit
 * with the code the command returns. The only file that exits.
 *
 * Exit codes (lib/status.h, SN_EXIT_*): 0 done; 1 the run failed (bad input
 * under --strict, unreadable file, unwritable output or standard output,
 * socket error); 2 usage error; 3 a scan stopped by a signal (its results are
 * partial: rows cut short say `incomplete`); 4 the inputs held no target at
 * all; 5 another snprobe is writing the same output. `bootstrap` is a check
 * in the Nagios way: 0 every node alive, 1 some dead, 2 all dead or the check
 * could not run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/version.h"
#include "probes/probe.h"
#include "reports/output.h"

/* The commands that run: everything but help, version and the listings. */
static int dispatch(const sn_config_t *cfg, const char *argv0)
{
    switch (cfg->command) {
    case SN_CMD_SCAN: return sn_cmd_scan(cfg);
    case SN_CMD_BOOTSTRAP: return sn_cmd_bootstrap(cfg);
    case SN_CMD_ANNOTATE: return sn_cmd_annotate(cfg);
    case SN_CMD_SWARM: return sn_cmd_swarm(cfg);
    case SN_CMD_POPULATION: return sn_cmd_population(cfg);
    case SN_CMD_DEMO: return sn_cmd_demo(cfg, argv0);
    case SN_CMD_VANTAGE: return sn_cmd_vantage(cfg);
    case SN_CMD_REPORT: return sn_cmd_report(cfg);
    case SN_CMD_EXPORT: return sn_cmd_export(cfg);
    case SN_CMD_HISTORY: return sn_cmd_history(cfg);
    }
    return SN_EXIT_OK;
}

int main(int argc, char **argv)
{
    sn_config_t cfg;
    sn_error_t err = {{0}};
    if (sn_cli_parse(argc, argv, &cfg, &err) != SN_OK) {
        sn_cli_free(&cfg);
        return sn_cli_usage(&err);
    }
    int rc = SN_EXIT_OK;
    if (cfg.help ||
        (cfg.command == 0 && !cfg.version && !cfg.list_probes && !cfg.list_fields && !cfg.man)) {
        sn_cli_help(stdout, cfg.command);
    } else if (cfg.version) {
        printf("snprobe %s\n", SN_VERSION);
    } else if (cfg.man) {
        sn_cli_man(stdout);
    } else if (cfg.list_probes) {
        for (size_t i = 0; i < sn_probe_count; i++)
            printf("%-8s %s  %s\n", sn_probes[i]->name,
                   sn_probes[i]->transport == SN_TRANSPORT_UDP ? "udp" : "tcp",
                   sn_probes[i]->summary);
    } else if (cfg.list_fields) {
        sn_fields_print(stdout);
    } else {
        rc = dispatch(&cfg, argv[0]);
    }
    sn_cli_free(&cfg);
    /* What went to standard output must have arrived: `> /dev/full` fails. */
    if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
        fprintf(stderr, "snprobe: writing standard output: %s\n", strerror(errno));
        if (rc == SN_EXIT_OK || rc == SN_EXIT_INTERRUPTED)
            rc = SN_EXIT_FAIL;
    }
    return rc;
}
