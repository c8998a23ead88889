/*
 * The vocabulary of result fields that a probe declares (probes/probe.h) and
 * that the column table (reports/fields.c) turns into columns: a field's type,
 * its declaration, and the values a probe found. It sits in lib/ because the
 * probe that declares a field (probes/), the result that carries its value
 * (data/result.h) and the writers (reports/) all speak it.
 *
 * A value is text, as it is written in a CSV cell: "" means "not said" (an
 * empty cell, null in NDJSON), an int field holds decimal digits, a bool field
 * "1" or "0". Values live in fixed slots, so a result costs no allocation.
 */
#ifndef SN_FIELD_H
#define SN_FIELD_H

#include <stddef.h>

typedef enum sn_field_type {
    SN_FIELD_STR = 0, /* JSON string; "" is written as null in NDJSON */
    SN_FIELD_INT,     /* JSON number; "" is null */
    SN_FIELD_BOOL     /* "1"/"0" in CSV, true/false in JSON */
} sn_field_type_t;

/* One field a probe adds to the results (as ZMap's fielddef_t). */
typedef struct sn_field_decl {
    const char *name; /* column name: [a-z0-9_], unique among all columns */
    sn_field_type_t type;
    const char *help; /* one line for --list-fields */
} sn_field_decl_t;

#define SN_FIELD_VALUES_MAX 2 /* fields one probe may declare */
#define SN_FIELD_VALUE_CAP 64 /* bytes of one value, with its NUL */

/* The values of a probe's declared fields, slot i for its fields[i]. */
typedef struct sn_field_values {
    char v[SN_FIELD_VALUES_MAX][SN_FIELD_VALUE_CAP];
} sn_field_values_t;

#endif
