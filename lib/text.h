/*
 * Small text helpers shared by every parser of outside input and every
 * writer: quoting an excerpt of bad input into an error message, validating
 * UTF-8, the ASCII character classes and hex digits. One copy each, so that
 * every message quotes alike, every writer agrees on what valid UTF-8 is, and
 * every name check means the same by "a letter".
 */
#ifndef SN_TEXT_H
#define SN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * ASCII character classes, independent of the locale (<ctype.h>'s depend on
 * it, and take only unsigned char values or EOF): c may be a char of either
 * signedness or an unsigned char; every byte outside ASCII is in no class.
 */
static inline bool sn_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline bool sn_is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}

static inline bool sn_is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}

static inline bool sn_is_alpha(int c)
{
    return sn_is_lower(c) || sn_is_upper(c);
}

static inline bool sn_is_alnum(int c)
{
    return sn_is_alpha(c) || sn_is_digit(c);
}

/* The value of the hex digit c ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for any other byte. */
static inline int sn_hex_digit(int c)
{
    if (sn_is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#define SN_QUOTE_MAX                                                                               \
    24 /* bytes of input quoted at most: a line of /etc/shadow stops before its hash */
#define SN_QUOTE_CAP (4 * SN_QUOTE_MAX + 8) /* room the quoted form needs */

/*
 * Writes at most SN_QUOTE_MAX bytes of s[0..len) into out (cap should be
 * SN_QUOTE_CAP) as printable ASCII: control and non-ASCII bytes become \xNN,
 * quote and backslash are escaped, and "..." marks a cut.
 */
void sn_text_quote(char *out, size_t cap, const char *s, size_t len);

/* Length of the valid UTF-8 sequence at s (RFC 3629; n bytes available), 0 if invalid. */
size_t sn_utf8_len(const unsigned char *s, size_t n);

/* The index of s in the n names (NULL entries never match), or -1: enum names read back. */
int sn_name_index(const char *s, const char *const *names, size_t n);

/*
 * Spreadsheet formulas (OWASP "CSV injection"): a CSV cell that begins with '=', '+',
 * '-', '@', TAB or CR is evaluated by spreadsheets even when quoted. Text cells from
 * outside are neutralised with a leading apostrophe, reversibly: the writer prefixes one
 * "'" to every value that is formula-like after any leading apostrophes, and the reader
 * takes one off such a value, so every value reads back as it was written.
 */
bool sn_csv_formula_like(const char *v, size_t n);
/* Bytes the reader takes off v (n bytes): 1 when v is "'" + a formula-like value, else 0. */
size_t sn_csv_formula_prefix(const char *v, size_t n);

/*
 * The same for a PTR cell (names in DNS presentation form): a first name beginning with
 * '=', '+', '-' or '@' gets that character escaped as RFC 1035 master files do ("\="),
 * which every DNS tool reads as the same name (TAB and CR are already \009 and \013).
 * sn_ptr_formula_prefix (1 or 0) gives the name back: snprobe's presentation form never escapes
 * those four characters itself, so "\=" only comes from the writer.
 */
bool sn_ptr_formula_like(const char *v, size_t n);
size_t sn_ptr_formula_prefix(const char *v, size_t n);

#endif
