/*
 * For the harnesses of the three target-list readers (CSV, host-cache XML, plain list):
 * the input bytes go through sn_input_read_buf with the format forced, twice, lenient
 * then strict, so that both the skip-and-count path and the stop-at-first-bad-entry
 * path see every input.
 */
#ifndef SN_FUZZ_INPUT_H
#define SN_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "data/input.h"

/* Reads data as format, lenient then strict; returns 0, LLVMFuzzerTestOneInput's answer. */
static inline int fuzz_input_read(const uint8_t *data, size_t size, sn_input_format_t format)
{
    for (int strict = 0; strict <= 1; strict++) {
        sn_targets_t *ts = sn_targets_new();
        if (ts == NULL)
            return 0;
        sn_read_opts_t opts = {.format = format, .strict = strict != 0};
        sn_read_stats_t stats = {0};
        sn_error_t err;
        sn_input_read_buf(ts, "fuzz", (const char *)data, size, &opts, &stats, &err);
        sn_targets_free(ts);
    }
    return 0;
}

#endif
