/*
 * Result sinks. Every writer (CSV via libcsv, NDJSON) walks the same field
 * table (reports/fields.c), so the columns are declared once, in one place,
 * and `--list-fields` and the README's column table come from it.
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
#include "probes/probe.h" /* the probes a result points at */
#include "lib/status.h"

typedef enum sn_field_type {
    SN_FIELD_STR = 0, /* JSON string; "" is written as null in NDJSON */
    SN_FIELD_INT,     /* JSON number; "" is null */
    SN_FIELD_BOOL     /* "1"/"0" in CSV, true/false in JSON */
} sn_field_type_t;

/* Context a field formatter may need beyond the result. */
typedef struct sn_field_ctx {
    const sn_targets_t *targets;
    const char *vantage; /* the scan's vantage in compact form, or NULL */
} sn_field_ctx_t;

typedef struct sn_field {
    const char *name;
    sn_field_type_t type;
    const char *help;
    /* Writes the value as text into buf (cap bytes, NUL-terminated; may truncate). */
    void (*format)(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap);
} sn_field_t;

extern const sn_field_t sn_fields[];
extern const size_t sn_field_count;

/* "str", "int" or "bool". */
const char *sn_field_type_name(sn_field_type_t t);

/*
 * Prints one line per field, in table order: name, type, help, aligned in
 * columns separated by two or more spaces (for --list-fields; the README's
 * column table is generated from it).
 */
void sn_fields_print(FILE *f);

typedef enum sn_output_format { SN_OUTPUT_CSV = 0, SN_OUTPUT_NDJSON } sn_output_format_t;

/* Parses "csv" / "ndjson". */
sn_status_t sn_output_format_parse(const char *s, sn_output_format_t *out);

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

/* Rows written so far. */
unsigned long long sn_output_rows(const sn_output_t *o);

/*
 * Flushes and closes; renames the temporary over PATH. After a write error
 * the temporary file (whole rows) is kept and named in the message instead.
 * Frees o (accepts NULL). Returns the first write error met, if any.
 */
sn_status_t sn_output_close(sn_output_t *o, sn_error_t *err);

/* Writes s as a JSON string (with quotes), escaping as RFC 8259 requires. */
void sn_json_write_string(FILE *f, const char *s);

#endif
