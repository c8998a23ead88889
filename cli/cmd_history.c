/*
 * `snprobe history SUBCOMMAND --history FILE`: the longitudinal tables, and
 * `history import FILE.db --history DEST` (reports/history_cmd.c does the work).
 */
#include <string.h>

#include "cli/commands.h"
#include "reports/history_cmd.h"

int sn_cmd_history(const sn_config_t *cfg)
{
    sn_error_t err = {{0}};
    if (cfg->history != NULL && cfg->n_inputs == 2 && strcmp(cfg->inputs[0], "import") == 0) {
        sn_status_t st = sn_history_import(cfg->inputs[1], cfg->history, &err);
        return st == SN_OK ? SN_EXIT_OK : sn_cli_fail_st(st, &err);
    }
    if (cfg->history == NULL || cfg->n_inputs != 1) {
        sn_error_set(&err, SN_EINVAL,
                     "usage: snprobe history SUBCOMMAND --history FILE "
                     "(subcommands: %s)",
                     sn_history_cmd_names);
        return sn_cli_usage(&err);
    }
    sn_history_cmd_t hc = {.path = cfg->history,
                           .what = cfg->inputs[0],
                           .run = (int64_t)cfg->run,
                           .output = cfg->output};
    sn_status_t st = sn_history_cmd_run(&hc, &err);
    if (st == SN_EINVAL)
        return sn_cli_usage(&err);
    return st == SN_OK ? SN_EXIT_OK : sn_cli_fail(&err);
}
