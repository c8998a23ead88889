/*
 * Small text helpers shared by every parser of outside input and every
 * writer: quoting an excerpt of bad input into an error message, and
 * validating UTF-8. One copy each, so that every message quotes alike and
 * every writer agrees on what valid UTF-8 is.
 */
#ifndef SN_TEXT_H
#define SN_TEXT_H

#include <stddef.h>

#define SN_QUOTE_MAX 60                     /* bytes of input quoted at most */
#define SN_QUOTE_CAP (4 * SN_QUOTE_MAX + 8) /* room the quoted form needs */

/*
 * Writes at most SN_QUOTE_MAX bytes of s[0..len) into out (cap should be
 * SN_QUOTE_CAP) as printable ASCII: control and non-ASCII bytes become \xNN,
 * quote and backslash are escaped, and "..." marks a cut.
 */
void sn_text_quote(char *out, size_t cap, const char *s, size_t len);

/* Length of the valid UTF-8 sequence at s (RFC 3629; n bytes available), 0 if invalid. */
size_t sn_utf8_len(const unsigned char *s, size_t n);

#endif
