/*
 * Fuzz harness for the results reader (reports/resultsin.c): arbitrary bytes
 * are read as a results file (CSV or NDJSON, as the first byte decides), and
 * every row it accepts is fed to the statistics aggregator, which then
 * computes all its figures, so that whatever a file can make the reader
 * deliver, the statistics must take.
 */
#include <stddef.h>
#include <stdint.h>

#include "reports/resultsin.h"
#include "reports/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sn_status_t on_row(void *ud, const sn_resultsin_row_t *row, sn_error_t *err)
{
    (void)err;
    sn_stats_add_row(ud, &row->result, row->sources, row->vantage);
    return SN_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sn_stats_t *st = sn_stats_new();
    if (st == NULL)
        return 0;
    sn_error_t err;
    uint64_t rows = 0;
    sn_resultsin_read_buf("fuzz", (const char *)data, size, on_row, st, &rows, &err);
    sn_stats_finish(st, &err);
    sn_stats_free(st);
    return 0;
}
