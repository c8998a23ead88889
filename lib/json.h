/*
 * The one JSON writer and the one JSON reader. The NDJSON results sink, the
 * summary writer and the vantage verdict write strings through the writer;
 * the results reader (NDJSON) and the vantage loader read through the reader,
 * so every JSON string snprobe writes is escaped alike, and every JSON text it
 * reads is held to the same grammar and refused with the same words.
 *
 * Writer: '"', '\\' and the control characters (as \u00XX) are escaped as
 * RFC 8259 requires; a byte that does not begin a valid UTF-8 sequence (RFC
 * 3629: no overlong forms, no surrogates, nothing above U+10FFFF) is written
 * as \ufffd, one per byte, so the output is valid JSON whatever bytes it was
 * given. Everything else, DEL and valid multi-byte UTF-8 included, is copied.
 *
 * Reader: a strict tokenizer over a byte range, read through the bounds-checked
 * cursor of lib/bytes.h. It reads tokens, not documents: the callers know the
 * shape they expect (one object of scalars per line, one object of strings) and
 * say in their own words what is missing; the reader reads one string, number
 * or literal at a time and says what is wrong with it. Every read first skips
 * whitespace (space, tab, CR, LF, counting lines); a read that fails leaves the
 * cursor on the token it could not read and records why and where
 * (sn_json_t.err, .err_pos). Strings come out as NUL-terminated UTF-8, so
 * \u0000 is refused; so are raw control characters, invalid UTF-8, unknown
 * escapes and lone surrogates. Numbers follow RFC 8259's grammar and end where
 * it ends: on "01" the number is "0" and the caller's next expectation refuses
 * the "1", as on "truex" the literal is "true".
 */
#ifndef SN_LIB_JSON_H
#define SN_LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/bytes.h"

/* ---- writer ------------------------------------------------------------------------------ */

/* The most bytes sn_json_quote writes for n bytes of input (quotes included). */
#define SN_JSON_QUOTED_MAX(n) (6 * (size_t)(n) + 2)

/*
 * Writes the n bytes at s as a quoted JSON string into out (no NUL added).
 * cap must be at least SN_JSON_QUOTED_MAX(n); returns the bytes written, or 0
 * (nothing written) when cap is smaller. s may hold any bytes, NUL included.
 */
size_t sn_json_quote(char *out, size_t cap, const char *s, size_t n);

/* Writes the C string s to f as a quoted JSON string; s NULL writes null. */
void sn_json_write_string(FILE *f, const char *s);

/* ---- reader ------------------------------------------------------------------------------ */

typedef enum sn_json_err {
    SN_JSON_OK = 0,
    SN_JSON_ENOSTRING,     /* a string was expected and something else is there */
    SN_JSON_EUNTERMINATED, /* the text ends inside a string (or inside an escape) */
    SN_JSON_ECONTROL,      /* a raw control character (below 0x20) inside a string */
    SN_JSON_EESCAPE,       /* a backslash followed by a letter JSON does not know */
    SN_JSON_EHEX,          /* \u not followed by four hex digits */
    SN_JSON_ESURROGATE,    /* a \u escape of half a surrogate pair */
    SN_JSON_ENUL,          /* \u0000: strings come out as C strings */
    SN_JSON_EUTF8,         /* raw bytes that are not valid UTF-8 */
    SN_JSON_ELONG,         /* the decoded string does not fit the caller's buffer */
    SN_JSON_ENUMBER,       /* not a number by RFC 8259's grammar */
    SN_JSON_ELITERAL,      /* not the literal (true, false, null) that was asked for */
    SN_JSON_ETRAILING      /* text after the end */
} sn_json_err_t;

/* A reader over a JSON text; pass it by address to every function below. */
typedef struct sn_json {
    sn_bytes_t in;            /* the text; in.pos is the next byte to read */
    unsigned long line;       /* 1 + the newlines passed */
    size_t line_start;        /* offset of the first byte of that line */
    sn_json_err_t err;        /* the last failure, SN_JSON_OK before any */
    size_t err_pos;           /* offset of the byte where it was found */
    unsigned long err_column; /* 1-based column of err_pos in its line */
} sn_json_t;

/* A reader at the start of the len bytes at text (text may be NULL when len is 0). */
sn_json_t sn_json_reader(const void *text, size_t len);

/* Skips whitespace (space, tab, CR, LF), counting lines. */
void sn_json_ws(sn_json_t *j);

/* Skips whitespace; returns the next byte without taking it, or -1 at the end. */
int sn_json_peek(sn_json_t *j);

/* Skips whitespace; takes c and returns true if it is next (no failure is recorded). */
bool sn_json_eat(sn_json_t *j, char c);

/*
 * Reads a string (its opening quote must be next) into out, cap bytes,
 * NUL-terminated; *len (when not NULL) gets its length. With out NULL (and
 * cap 0) the string is only checked, whatever its length. A decoded string
 * of cap bytes or more fails with SN_JSON_ELONG.
 */
bool sn_json_string(sn_json_t *j, char *out, size_t cap, size_t *len);

/*
 * Reads a number: *text and *len get its text inside the input (not
 * NUL-terminated); *integer says whether it has neither fraction nor
 * exponent. Any of the three may be NULL.
 */
bool sn_json_number(sn_json_t *j, const char **text, size_t *len, bool *integer);

/* Reads the literal word ("true", "false" or "null") if it is next. */
bool sn_json_literal(sn_json_t *j, const char *word);

/* Skips whitespace; true at the end of the text, else fails with SN_JSON_ETRAILING. */
bool sn_json_end(sn_json_t *j);

/* The 1-based column of the cursor in the current line (for callers' own messages). */
unsigned long sn_json_column(const sn_json_t *j);

/* One phrase for an error ("an unterminated string"), for "FILE:LINE: PHRASE" messages. */
const char *sn_json_strerror(sn_json_err_t e);

#endif
