/*
 * `snprobe demo`: the embedded default (lab/demo.c). Its scan settings are
 * the option table's defaults, taken from the validated configuration (the
 * demo takes none of those options, so they hold the defaults), not restated.
 */
#include <stdio.h>
#include <unistd.h>

#include "cli/commands.h"
#include "lab/demo.h"

int sn_cmd_demo(const sn_config_t *cfg, const char *argv0)
{
    sn_error_t err = {{0}};
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        snprintf(self, sizeof self, "%s", argv0);
    else
        self[n] = '\0';
    char plan[512];
    sn_cli_plan_text(cfg, plan, sizeof plan);
    sn_demo_cfg_t dc = {.out_dir = cfg->out_dir,
                        .self_exe = self,
                        .count = (unsigned)cfg->count,
                        .nights = (unsigned)cfg->nights,
                        .seed = (uint64_t)cfg->seed,
                        .progress = cfg->progress || isatty(2),
                        .quiet = cfg->quiet,
                        .probes = cfg->probes,
                        .fallback_ports = cfg->fallback_ports,
                        .plan = plan,
                        .timeout_ms = (unsigned)cfg->timeout,
                        .retries = (unsigned)cfg->retries,
                        .dns_timeout_ms = (unsigned)cfg->dns_timeout,
                        .dns_inflight = (unsigned)cfg->dns_inflight};
    return sn_demo_run(&dc, &err) == SN_OK ? SN_EXIT_OK : sn_cli_fail(&err);
}
