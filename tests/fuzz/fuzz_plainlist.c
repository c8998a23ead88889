/*
 * Fuzz harness for the plain-list reader (format forced to plain): arbitrary bytes go through
 * sn_input_read_buf twice, lenient then strict, so that both the skip-and-count
 * path and the stop-at-first-bad-entry path see every input.
 */
#include <stddef.h>
#include <stdint.h>

#include "data/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int strict = 0; strict <= 1; strict++) {
        sn_targets_t *ts = sn_targets_new();
        if (ts == NULL)
            return 0;
        sn_read_opts_t opts = {.format = SN_INPUT_PLAIN, .strict = strict != 0};
        sn_read_stats_t stats = {0};
        sn_error_t err;
        sn_input_read_buf(ts, "fuzz", (const char *)data, size, &opts, &stats, &err);
        sn_targets_free(ts);
    }
    return 0;
}
