/*
 * Reader of saved results (the CSV or NDJSON that reports/output.c writes)
 * back into sn_result_t rows, for `snprobe report` and `snprobe export`, so
 * that statistics, the HTML report and firewall exports can be made again
 * without probing.
 *
 * Columns are matched by header name (CSV, any case) or key (NDJSON); unknown
 * columns are ignored, missing ones read as empty, so files of older and newer
 * versions read alike. Only `address` and `port` are required. Every value is
 * checked as strictly as the scanner's own inputs (inet_pton addresses,
 * decimal numbers, known outcome and class names, length limits), and a bad
 * row stops the read with an error naming the file, the line and the column.
 * The reachability class and super-node eligibility are not read: they follow
 * from the outcomes, so they are derived again (sn_result_reach_class).
 */
#ifndef SN_RESULTSIN_H
#define SN_RESULTSIN_H

#include <stdint.h>

#include "data/result.h"
#include "lib/status.h"

/* One row read back. Every pointer is valid only during the callback. */
typedef struct sn_resultsin_row {
    sn_result_t result; /* .target points at target; .enrich at enrich or NULL
                           when no enrichment column had a value */
    sn_target_t target; /* addr, seen_count (1 when the column is absent),
                           first_seen, last_seen; first_input 0, no sources/flags */
    sn_enrichment_t enrich;
    sn_field_values_t values[2]; /* result.udp_values, .tcp_values point here when set */
    const char *sources;         /* the `sources` cell: labels joined with ';'; "" if none */
    const char *flags;           /* the `flags` cell, "" if none */
    const char *vantage;         /* the `vantage` cell, "" if none */
    const char *path;            /* the file (or name) read */
    unsigned long line;          /* line where the row starts */
} sn_resultsin_row_t;

/*
 * Called once per row. Returning non-zero stops the read, which then returns
 * that status (fill err in the callback).
 */
typedef sn_status_t (*sn_resultsin_fn)(void *ud, const sn_resultsin_row_t *row, sn_error_t *err);

/*
 * Reads the results file at path ("-": standard input), CSV or NDJSON told
 * apart by the first non-blank byte ('{' is NDJSON). An empty file has no
 * rows. Returns SN_EIO (cannot read), SN_EPARSE ("file:line: column: why"),
 * SN_ELIMIT (a line over 1 MiB or a cell over 64 KiB), SN_ENOMEM, or the
 * callback's status. *rows (may be NULL) gets the rows delivered.
 */
sn_status_t sn_resultsin_read(const char *path, sn_resultsin_fn fn, void *ud, uint64_t *rows,
                              sn_error_t *err);

/* As sn_resultsin_read, from memory; name stands for the file in messages. */
sn_status_t sn_resultsin_read_buf(const char *name, const char *data, size_t len,
                                  sn_resultsin_fn fn, void *ud, uint64_t *rows, sn_error_t *err);

/*
 * True when the reader knows a column of this name, and *type (may be NULL)
 * gets the type it expects (sn_field_type_t). The tests hold the reader to
 * the field table with it.
 */
bool sn_resultsin_knows(const char *name, int *type);

#endif
