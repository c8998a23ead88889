/*
 * `snprobe annotate INPUT...`: the scan run with nothing sent, every target
 * enriched (reverse DNS defaults to all for this command: the option table's
 * per-command default).
 */
#include "cli/commands.h"

int sn_cmd_annotate(const sn_config_t *cfg)
{
    /* The same run as scan's; the scan configuration says annotate from cfg->command. */
    return sn_cmd_scan(cfg);
}
