/*
 * Strict decimal parsing for outside input (CSV cells, config fields, DNS
 * labels): digits only, no sign, no blanks, no base prefix, overflow refused.
 * strtoul() is not used because it skips blanks, takes a sign and, with base
 * 0, reads "010" as octal; every reader of files and packets had its own loop
 * for this, and now they share this one.
 */
#ifndef SN_DECIMAL_H
#define SN_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses the len bytes at s as an unsigned decimal no greater than max.
 * Leading zeros are allowed ("007" is 7); an empty field, any byte other than
 * '0'..'9', more than 20 bytes or a value above max is refused.
 * Returns true and stores the value in *out on success; on failure returns
 * false and leaves *out untouched. s need not be NUL-terminated.
 */
bool sn_decimal_u64(const char *s, size_t len, uint64_t max, uint64_t *out);

/*
 * The same for a number of up to 128 bits (an IPv6 address written as an
 * integer, as geo/AS range files do): at most 39 bytes, refused above
 * 2^128 - 1. The value is stored as its high and low 64 bits; on failure
 * neither is touched.
 */
bool sn_decimal_u128(const char *s, size_t len, uint64_t *hi, uint64_t *lo);

/*
 * How many of the len bytes at s, from the first, are '0'..'9' (0 to len).
 * For a reader whose messages tell "not a number" from "out of range", and
 * for a number followed by more text ("0.25").
 */
size_t sn_decimal_span(const char *s, size_t len);

#endif
