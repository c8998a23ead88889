/*
 * `snprobe vantage --stun HOST[:PORT]`: where this machine scans from (RFC
 * 5780 behaviour discovery), printed as key: value lines or one JSON object.
 */
#include <stdio.h>

#include "cli/commands.h"
#include "scanner/vantage.h"

int sn_cmd_vantage(const sn_config_t *cfg)
{
    sn_error_t err = {{0}};
    if (cfg->stun == NULL) {
        sn_error_set(&err, SN_EINVAL, "vantage needs --stun HOST[:PORT]");
        return sn_cli_usage(&err);
    }
    sn_vantage_cfg_t vc = {
        .stun = cfg->stun, .timeout_ms = (unsigned)cfg->timeout, .retries = (unsigned)cfg->retries};
    sn_vantage_t v;
    if (sn_vantage_discover(&vc, &v, &err) != SN_OK)
        return sn_cli_fail(&err);
    sn_vantage_print(stdout, &v, cfg->output_format == SN_OUTPUT_NDJSON);
    return SN_EXIT_OK;
}
