/*
 * Result sinks. Every writer (CSV via libcsv, NDJSON) walks the same field
 * table (reports/fields.c), so the columns are declared once, in one place,
 * and `--list-fields`, the results reader (resultsin.c), the history and the
 * README's column table come from it. The table is the common columns
 * (sn_col_t) followed by the fields the registered probes declare
 * (probes/probe.h), in registry order.
 *
 * A sink writes through an sn_outfile (lib/outfile.h): a unique temporary
 * renamed over PATH when closed, a device or FIFO written in place, one writer
 * per PATH (open fails with SN_EBUSY). Rows are written whole (past 64 KiB
 * buffered, on sn_output_flush about once a second, and at close), so that an
 * interrupted scan leaves complete, readable rows behind (the caller closes
 * after the drain, interrupted or not; the rows cut short say `incomplete`).
 */
#ifndef SN_OUTPUT_H
#define SN_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "data/targets.h"
#include "data/result.h"
#include "lib/field.h" /* sn_field_type_t */
#include "lib/status.h"
#include "probes/probe.h" /* the probes a result points at, and the fields they declare */

/* The common columns, in table order (append only: a column's place is its place
 * in every file). The fields probes declare follow from SN_COL_CORE on. */
typedef enum sn_col {
    SN_COL_ADDRESS,
    SN_COL_PORT,
    SN_COL_SEEN,
    SN_COL_SOURCES,
    SN_COL_FIRST,
    SN_COL_LAST,
    SN_COL_FLAGS,
    SN_COL_BLOCKED,
    SN_COL_UDP_PROBE,
    SN_COL_UDP_OUTCOME,
    SN_COL_UDP_RTT,
    SN_COL_UDP_ATTEMPTS,
    SN_COL_OBSERVED,
    SN_COL_REPLY_FROM,
    SN_COL_TCP_OUTCOME,
    SN_COL_TCP_RTT,
    SN_COL_TCP_PORT,
    SN_COL_TCP_ATTEMPTS,
    SN_COL_REACH,
    SN_COL_ELIGIBLE,
    SN_COL_VANTAGE,
    SN_COL_RDNS,
    SN_COL_PTR,
    SN_COL_PTR_VALID,
    SN_COL_COUNTRY,
    SN_COL_CONTINENT,
    SN_COL_ASN,
    SN_COL_AS_ORG,
    SN_COL_EDU,
    SN_COL_EDU_SOURCE,
    SN_COL_ADDR_KIND,
    SN_COL_DYN_RULE,
    SN_COL_GEO_SOURCE,
    SN_COL_CORE /* the number of common columns; probes' fields come after */
} sn_col_t;

/* Probe-declared columns the table holds at most (beyond that they are left out). */
#define SN_PROBE_COLUMNS_MAX 16
#define SN_FIELDS_MAX (SN_COL_CORE + SN_PROBE_COLUMNS_MAX)

/* Context a field formatter may need beyond the result. */
typedef struct sn_field_ctx {
    const sn_targets_t *targets;
    const char *vantage; /* the scan's vantage in compact form, or NULL */
} sn_field_ctx_t;

typedef struct sn_field {
    const char *name;
    sn_field_type_t type;
    const char *help;
    /* Writes the value as text into buf (cap bytes, NUL-terminated; may truncate)
     * and returns its length (strlen(buf)). */
    size_t (*format)(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap);
    /* For a probe-declared column: the declaration (its value is in the slot of
     * the probe that ran and declares this name); NULL for a common column. */
    const sn_field_decl_t *decl;
    /* The formatter writes only an address or a name from a fixed set of ours,
     * which never needs CSV quotes or formula neutralising (tests/test_output.c
     * holds every such column to that). */
    bool plain;
} sn_field_t;

/*
 * The column table: the common columns, then every field the registered
 * probes declare (one column per name, in registry order; a name a common
 * column has is left out). Built on first use and again when a probe has been
 * registered since; the pointer is valid until then. Not thread-safe against
 * sn_probe_register.
 */
void sn_fields_build(void);
/* The built table, its length, and the sn_probe_count it was built for (fields.c). */
extern sn_field_t sn_fields_built[SN_FIELDS_MAX];
extern size_t sn_fields_built_n, sn_fields_built_for;

/* Inline: the writers read the table once per cell, so this is a load and a compare. */
static inline const sn_field_t *sn_fields_table(void)
{
    if (sn_fields_built_for != sn_probe_count)
        sn_fields_build();
    return sn_fields_built;
}

static inline size_t sn_fields_count(void)
{
    if (sn_fields_built_for != sn_probe_count)
        sn_fields_build();
    return sn_fields_built_n;
}

/* The table read as an array: sn_fields[i], i < sn_field_count. */
#define sn_fields (sn_fields_table())
#define sn_field_count (sn_fields_count())

/* Index of the column named name, or -1. */
int sn_field_find(const char *name);

/* "str", "int" or "bool". */
const char *sn_field_type_name(sn_field_type_t t);

/*
 * Prints one line per field, in table order: name, type, help, aligned in
 * columns separated by two or more spaces (for --list-fields; the README's
 * column table is generated from it).
 */
void sn_fields_print(FILE *f);

typedef enum sn_output_format { SN_OUTPUT_CSV = 0, SN_OUTPUT_NDJSON } sn_output_format_t;

typedef struct sn_output sn_output_t;

/*
 * Opens a sink writing to path ("-" for stdout). targets must outlive it.
 * Writes the CSV header at once.
 */
sn_status_t sn_output_open(sn_output_t **out, sn_output_format_t fmt, const char *path,
                           const sn_targets_t *targets, sn_error_t *err);

/* Records the scan's vantage (compact form; copied) in every row that follows. */
void sn_output_set_vantage(sn_output_t *o, const char *vantage);

/* Writes one row. */
sn_status_t sn_output_write(sn_output_t *o, const sn_result_t *r, sn_error_t *err);

/*
 * Writes the rows buffered so far (whole rows only). The engine calls it about
 * once a second, so that a killed process loses at most that much. Rows are
 * also written whenever more than 64 KiB are buffered, and at close.
 */
sn_status_t sn_output_flush(sn_output_t *o, sn_error_t *err);

/*
 * Writes one row given as text, one cell per field in table order ("" for
 * empty), formatted exactly as sn_output_write formats a result: `history
 * results` gives back rows that were stored as text.
 */
sn_status_t sn_output_write_cells(sn_output_t *o, const char *const *cells, sn_error_t *err);

/*
 * Writes one CSV cell to a stream, quoted as the results writer quotes: bare
 * unless RFC 4180 needs quotes or a blank at either end would be trimmed; with
 * neutralise, text that a spreadsheet would evaluate as a formula gets the
 * leading apostrophe inside the quotes (sn_csv_formula_like, lib/text.h). The
 * summary and the history command's tables write their cells through it. False
 * only when out of memory; a failed write leaves the stream's error flag set.
 */
bool sn_csv_fput_cell(FILE *f, const char *v, bool neutralise);

/* Rows written so far. */
unsigned long long sn_output_rows(const sn_output_t *o);

/*
 * Flushes and closes; renames the temporary over PATH. After a write error
 * the temporary file (whole rows) is kept and named in the message instead.
 * Frees o (accepts NULL). Returns the first write error met, if any.
 */
sn_status_t sn_output_close(sn_output_t *o, sn_error_t *err);

#endif
