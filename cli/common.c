/*
 * What the commands share: the error exits (a message on stderr and the exit
 * code it means) and the probe plan as the history records it.
 */
#include <stdio.h>

#include "cli/commands.h"

int sn_cli_usage(const sn_error_t *err)
{
    fprintf(stderr, "snprobe: %s\n", err->msg);
    return SN_EXIT_USAGE;
}

int sn_cli_fail(const sn_error_t *err)
{
    fprintf(stderr, "snprobe: %s\n", err->msg);
    return SN_EXIT_FAIL;
}

int sn_cli_fail_st(sn_status_t st, const sn_error_t *err)
{
    fprintf(stderr, "snprobe: %s\n", err->msg);
    return st == SN_EBUSY ? SN_EXIT_BUSY : SN_EXIT_FAIL;
}

void sn_cli_plan_text(const sn_config_t *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "probes=%s fallback-ports=%s timeout=%g retries=%g%s", cfg->probes,
             cfg->fallback_ports, cfg->timeout, cfg->retries,
             cfg->fixed_timeout ? " fixed-timeout" : "");
}
