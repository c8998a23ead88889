/*
 * The sink registry (see sinks.h): the one place a kind of sink is named.
 * The order is stable; the scan's order of sinks is the caller's, not this.
 */
#include "reports/sinks.h"

#include <string.h>

extern const sn_sink_kind_t sn_sink_csv;     /* output.c */
extern const sn_sink_kind_t sn_sink_ndjson;  /* output.c */
extern const sn_sink_kind_t sn_sink_report;  /* report.c: statistics, summary, HTML */
extern const sn_sink_kind_t sn_sink_export;  /* export.c */
extern const sn_sink_kind_t sn_sink_history; /* history_rec.c */

const sn_sink_kind_t *const sn_sink_kinds[] = {&sn_sink_csv, &sn_sink_ndjson, &sn_sink_report,
                                               &sn_sink_export, &sn_sink_history};
const size_t sn_sink_kind_count = sizeof sn_sink_kinds / sizeof sn_sink_kinds[0];

const sn_sink_kind_t *sn_sink_kind_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < sn_sink_kind_count; i++)
        if (strcmp(sn_sink_kinds[i]->name, name) == 0)
            return sn_sink_kinds[i];
    return NULL;
}

sn_status_t sn_sink_create(const char *kind, const sn_sink_cfg_t *cfg, sn_sink_t *out,
                           sn_error_t *err)
{
    out->ops = NULL;
    out->state = NULL;
    const sn_sink_kind_t *k = sn_sink_kind_find(kind);
    if (k == NULL)
        return sn_error_set(err, SN_EINVAL, "no sink named '%s'", kind ? kind : "(null)");
    return k->create(cfg, out, err);
}
