/*
 * The one helper of the sink interface (see sink.h): closing a list of sinks
 * in reverse order, so that a sink listed first (the history recorder, which
 * marks its run interrupted when anything failed) learns of a later one's
 * close error before it ends.
 */
#include "data/sink.h"

void sn_sinks_close(sn_sink_t *v, size_t n, const sn_sink_end_t *end, sn_status_t *st,
                    sn_error_t *err)
{
    sn_sink_end_t e = *end;
    e.failed = e.failed || *st != SN_OK;
    for (size_t i = n; i-- > 0;) {
        if (v[i].ops == NULL)
            continue;
        sn_error_t cerr = {{0}};
        sn_status_t cst = v[i].ops->close(v[i].state, &e, &cerr);
        v[i].ops = NULL;
        v[i].state = NULL;
        if (cst != SN_OK) {
            e.failed = true;
            if (*st == SN_OK) {
                *st = cst;
                *err = cerr;
            }
        }
    }
}
