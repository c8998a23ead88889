/*
 * `snprobe report`: the statistics and the HTML report from saved results, or
 * from the newest run of a history (with the history section).
 */
#include <stdlib.h>

#include "cli/commands.h"
#include "reports/history_cmd.h"
#include "reports/history_sites.h"
#include "reports/report.h"

/* report and export both read RESULTS files or a --history, not both. */
sn_status_t sn_cli_results_source(const sn_config_t *cfg, sn_error_t *err)
{
    if (cfg->n_inputs == 0 && cfg->history == NULL)
        return sn_error_set(err, SN_EINVAL, "%s needs at least one RESULTS file",
                            cfg->command_name);
    if (cfg->history != NULL && cfg->n_inputs > 0)
        return sn_error_set(err, SN_EINVAL, "%s: give RESULTS files or --history, not both",
                            cfg->command_name);
    return SN_OK;
}

typedef struct sections {
    sn_history_section_t *history;
    sn_sites_t *sites;
} sections_t;

/* The history section, then (--by-site) the sites' comparison. */
static void write_sections(FILE *f, void *ud)
{
    const sections_t *s = ud;
    if (s->history != NULL)
        sn_history_section_write(f, s->history);
    if (s->sites != NULL)
        sn_sites_write_html(f, s->sites);
}

int sn_cmd_report(const sn_config_t *cfg)
{
    sn_error_t err = {{0}};
    if (sn_cli_results_source(cfg, &err) != SN_OK)
        return sn_cli_usage(&err);
    char *hist = NULL;
    size_t hist_len = 0;
    if (cfg->history != NULL &&
        sn_history_results_text(cfg->history, 0, 0, &hist, &hist_len, &err) != SN_OK)
        return sn_cli_fail(&err);
    if (cfg->html == NULL && cfg->summary == NULL) {
        free(hist);
        sn_error_set(&err, SN_EINVAL, "report needs --html FILE and/or --summary FILE");
        return sn_cli_usage(&err);
    }
    sn_history_section_t *sec = NULL;
    sn_status_t rst = SN_OK;
    char where[512] = "";
    if (hist != NULL)
        rst = sn_history_where(cfg->history, 0, where, sizeof where, &err);
    if (cfg->by_site && cfg->history == NULL) {
        free(hist);
        sn_error_set(&err, SN_EINVAL, "--by-site compares the sites of a --history");
        return sn_cli_usage(&err);
    }
    if (rst == SN_OK && hist != NULL && cfg->html != NULL)
        rst = sn_history_section_new(&sec, cfg->history, &err);
    sections_t secs = {.history = sec};
    if (rst == SN_OK && cfg->by_site && cfg->html != NULL)
        rst = sn_sites_load(&secs.sites, cfg->history, &err);
    if (rst == SN_OK)
        rst = hist != NULL
                  ? sn_report_run_buf(cfg->history, hist, hist_len, cfg->html, cfg->summary,
                                      cfg->command_text, where[0] ? where : NULL,
                                      sec || secs.sites ? write_sections : NULL, &secs, &err)
                  : sn_report_run(cfg->inputs, cfg->n_inputs, cfg->html, cfg->summary,
                                  cfg->command_text, &err);
    sn_history_section_free(sec);
    sn_sites_free(secs.sites);
    free(hist);
    return rst != SN_OK ? sn_cli_fail_st(rst, &err) : SN_EXIT_OK;
}
