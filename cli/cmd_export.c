/*
 * `snprobe export`: the alive (or eligible) nodes of saved results, or of the
 * runs of a history within --alive-within days, as an nftables set, an ipset
 * restore file or a plain list.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "reports/history_cmd.h"
#include "reports/report.h"

int sn_cmd_export(const sn_config_t *cfg)
{
    sn_error_t err = {{0}};
    if (sn_cli_results_source(cfg, &err) != SN_OK)
        return sn_cli_usage(&err);
    if (cfg->history != NULL && cfg->alive_within <= 0) {
        sn_error_set(&err, SN_EINVAL, "export --history needs --alive-within DAYS");
        return sn_cli_usage(&err);
    }
    char *hist = NULL;
    size_t hist_len = 0;
    if (cfg->history != NULL && sn_history_results_text(cfg->history, 0, cfg->alive_within, &hist,
                                                        &hist_len, &err) != SN_OK)
        return sn_cli_fail(&err);
    sn_export_opts_t eo = {.format = cfg->export_format,
                           .eligible_only = cfg->eligible_only,
                           .addr_only = cfg->addr_only,
                           .name = cfg->set_name};
    size_t written = 0;
    sn_status_t est =
        hist != NULL
            ? sn_export_run_buf(cfg->history, hist, hist_len, &eo, cfg->output, &written, &err)
            : sn_export_run(cfg->inputs, cfg->n_inputs, &eo, cfg->output, &written, &err);
    free(hist);
    if (est != SN_OK)
        return sn_cli_fail_st(est, &err);
    if (!cfg->quiet)
        fprintf(stderr, "snprobe: exported %zu nodes\n", written);
    return SN_EXIT_OK;
}
