/*
 * history_bench STORE ROWS [SITE SHARD]: the history store's write rate, in
 * rows per second, for docs/scale-out.md. Writes ROWS observations with the
 * scan's whole column set (every result field, cells as a typical alive
 * target's) as one run through the same front end the scan uses (batches
 * committed on the writer thread), and prints "rows seconds rows/s". Run it
 * N times at once with different shards to measure N writers on one server.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/history.h"
#include "reports/output.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: history_bench STORE ROWS [SITE SHARD]\n");
        return 2;
    }
    long rows = atol(argv[2]);
    const char *site = argc > 3 ? argv[3] : "", *shard = argc > 4 ? argv[4] : "";
    const char **names = calloc(sn_field_count, sizeof *names);
    const char **cells = calloc(sn_field_count, sizeof *cells);
    if (names == NULL || cells == NULL)
        return 1;
    for (size_t i = 0; i < sn_field_count; i++) {
        names[i] = sn_fields[i].name;
        cells[i] = i % 3 == 0 ? "" : i % 3 == 1 ? "alive" : "12345";
    }
    sn_history_t *h;
    sn_error_t err;
    if (sn_history_open_writer(&h, argv[1], site, shard, names, sn_field_count, &err) != SN_OK) {
        fprintf(stderr, "history_bench: %s\n", err.msg);
        return 1;
    }
    sn_history_run_t run = {.started = (int64_t)time(NULL), .command = "history_bench"};
    int64_t id;
    bool resumed;
    if (sn_history_begin(h, &run, false, &id, &resumed, &err) != SN_OK) {
        fprintf(stderr, "history_bench: %s\n", err.msg);
        return 1;
    }
    /* Distinct targets per shard, so that the writers share no row (as shards do not). The
     * targets come in a scattered order, as a scan finishes them (its order is shuffled):
     * i -> i * P mod rows, P a prime that divides no row count this takes, visits every
     * target once. In address order instead, every insert would append to the targets'
     * (address, port) index and the figure would flatter the store. */
    unsigned base = (unsigned)(shard[0] ? atoi(shard) : 0) << 24;
    double t0 = now_s();
    for (long i = 0; i < rows; i++) {
        char ip[32];
        unsigned a = 0x0a000000u + base + (unsigned)((uint64_t)i * 2654435761u % (uint64_t)rows);
        snprintf(ip, sizeof ip, "%u.%u.%u.%u", (a >> 24) & 255, (a >> 16) & 255, (a >> 8) & 255,
                 a & 255);
        cells[0] = ip;
        sn_history_obs_t o = {.address = ip,
                              .port = 4000,
                              .observed_at = run.started,
                              .probed = true,
                              .alive = i % 2 == 0,
                              .cells = cells};
        if (sn_history_add(h, &o, &err) != SN_OK) {
            fprintf(stderr, "history_bench: %s\n", err.msg);
            return 1;
        }
    }
    if (sn_history_end(h, false, rows, &err) != SN_OK) {
        fprintf(stderr, "history_bench: %s\n", err.msg);
        return 1;
    }
    double dt = now_s() - t0;
    sn_history_close(h);
    printf("%ld %.2f %.0f\n", rows, dt, (double)rows / dt);
    free(names);
    free(cells);
    return 0;
}
