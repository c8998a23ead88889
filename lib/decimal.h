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

#endif
