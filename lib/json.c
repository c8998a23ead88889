/*
 * JSON writer and reader (see json.h).
 *
 * The writer copies runs of plain ASCII in one memcpy and handles the rest a
 * unit at a time (an escape, a valid UTF-8 sequence, or one invalid byte), so
 * a multi-byte character is never cut in two, also where the FILE writer
 * flushes its chunk. The reader takes every byte through the sn_bytes_t
 * cursor; on a failure it records the phrase and the offset and moves the
 * cursor back to the start of the token.
 */
#include "lib/json.h"

#include <string.h>

#include "lib/text.h"

/* ---- writer ------------------------------------------------------------------------------ */

/* Bytes a unit needs at most in the output: \u00XX or \ufffd. */
#define UNIT_MAX 6

/*
 * Escapes one unit of s (n > 0 bytes available) into out (UNIT_MAX bytes).
 * Returns the bytes written; *used gets the input bytes consumed.
 */
static size_t quote_unit(const unsigned char *s, size_t n, char *out, size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = s[0];

    *used = 1;
    if (c == '"' || c == '\\') {
        out[0] = '\\';
        out[1] = (char)c;
        return 2;
    }
    if (c < 0x20) {
        memcpy(out, "\\u00", 4);
        out[4] = hex[c >> 4];
        out[5] = hex[c & 15];
        return 6;
    }
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    size_t k = sn_utf8_len(s, n);
    if (k == 0) {
        memcpy(out, "\\ufffd", 6);
        return 6;
    }
    memcpy(out, s, k);
    *used = k;
    return k;
}

static bool plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

size_t sn_json_quote(char *out, size_t cap, const char *src, size_t n)
{
    if (out == NULL || n > (SIZE_MAX - 2) / 6 || cap < SN_JSON_QUOTED_MAX(n))
        return 0;
    const unsigned char *s = (const unsigned char *)src;
    size_t k = 0, i = 0;

    out[k++] = '"';
    while (i < n) {
        size_t run = i;
        while (run < n && plain(s[run]))
            run++;
        if (run > i) {
            memcpy(out + k, s + i, run - i);
            k += run - i;
            i = run;
            continue;
        }
        size_t used;
        k += quote_unit(s + i, n - i, out + k, &used);
        i += used;
    }
    out[k++] = '"';
    return k;
}

void sn_json_write_string(FILE *f, const char *s)
{
    if (f == NULL)
        return;
    if (s == NULL) {
        fputs("null", f);
        return;
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    char chunk[512];
    size_t k = 0;

    chunk[k++] = '"';
    while (i < n) {
        if (k > sizeof chunk - UNIT_MAX - 2) { /* room for a unit and the closing quote */
            fwrite(chunk, 1, k, f);
            k = 0;
        }
        size_t used;
        k += quote_unit(u + i, n - i, chunk + k, &used);
        i += used;
    }
    chunk[k++] = '"';
    fwrite(chunk, 1, k, f);
}

/* ---- reader ------------------------------------------------------------------------------ */

sn_json_t sn_json_reader(const void *text, size_t len)
{
    sn_json_t j = {.in = sn_bytes(text, len), .line = 1};
    return j;
}

/*
 * Records failure e, found at offset pos, and puts the cursor back at start
 * (the token's first byte). A token never spans a newline, so pos is on the
 * current line. Returns false, for `return fail(...)`.
 */
static bool fail(sn_json_t *j, sn_json_err_t e, size_t pos, size_t start)
{
    j->err = e;
    j->err_pos = pos;
    j->err_column = (unsigned long)(pos - j->line_start + 1);
    sn_bytes_seek(&j->in, start);
    return false;
}

void sn_json_ws(sn_json_t *j)
{
    for (;;) {
        int c = sn_bytes_peek(&j->in);
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return;
        sn_bytes_take(&j->in, 1, NULL);
        if (c == '\n') {
            j->line++;
            j->line_start = j->in.pos;
        }
    }
}

int sn_json_peek(sn_json_t *j)
{
    sn_json_ws(j);
    return sn_bytes_peek(&j->in);
}

bool sn_json_eat(sn_json_t *j, char c)
{
    if (sn_json_peek(j) != (unsigned char)c)
        return false;
    sn_bytes_take(&j->in, 1, NULL);
    return true;
}

unsigned long sn_json_column(const sn_json_t *j)
{
    return (unsigned long)(j->in.pos - j->line_start + 1);
}

/* Four hex digits, the rest of a \u escape. */
static bool hex4(sn_json_t *j, unsigned *out)
{
    const uint8_t *h;
    if (!sn_bytes_take(&j->in, 4, &h))
        return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = sn_hex_digit(h[i]);
        if (d < 0)
            return false;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return true;
}

/*
 * The rest of an escape (the backslash is taken): the code point in *cp. A
 * high surrogate must be followed at once by the \u escape of a low one; the
 * pair is one code point.
 */
static sn_json_err_t escape(sn_json_t *j, unsigned *cp)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    uint8_t e;
    if (!sn_bytes_u8(&j->in, &e))
        return SN_JSON_EUNTERMINATED;
    const char *simple = e != '\0' ? strchr(from, e) : NULL;
    if (simple != NULL) {
        *cp = (unsigned char)to[simple - from];
        return SN_JSON_OK;
    }
    if (e != 'u')
        return SN_JSON_EESCAPE;
    if (!hex4(j, cp))
        return SN_JSON_EHEX;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF)
        return SN_JSON_ESURROGATE;
    if (*cp >= 0xD800 && *cp <= 0xDBFF) {
        const uint8_t *bu;
        unsigned lo;
        if (!sn_bytes_take(&j->in, 2, &bu) || bu[0] != '\\' || bu[1] != 'u' || !hex4(j, &lo) ||
            lo < 0xDC00 || lo > 0xDFFF)
            return SN_JSON_ESURROGATE;
        *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    return *cp == 0 ? SN_JSON_ENUL : SN_JSON_OK;
}

/* Code point cp (at most U+10FFFF, no surrogate) as UTF-8 in o; returns its length. */
static size_t utf8_put(uint8_t *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

bool sn_json_string(sn_json_t *j, char *out, size_t cap, size_t *len)
{
    sn_json_ws(j);
    size_t start = j->in.pos, n = 0;
    if (sn_bytes_peek(&j->in) != '"')
        return fail(j, SN_JSON_ENOSTRING, start, start);
    if (out != NULL && cap == 0)
        return fail(j, SN_JSON_ELONG, start, start);
    sn_bytes_take(&j->in, 1, NULL);
    for (;;) {
        size_t at = j->in.pos;
        uint8_t c, enc[4];
        size_t k = 1;
        if (!sn_bytes_u8(&j->in, &c))
            return fail(j, SN_JSON_EUNTERMINATED, at, start);
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(j, SN_JSON_ECONTROL, at, start);
        if (c < 0x80 && c != '\\') { /* plain ASCII, most of any string: no detour */
            if (out != NULL) {
                if (n + 1 >= cap)
                    return fail(j, SN_JSON_ELONG, at, start);
                out[n] = (char)c;
            }
            n++;
            continue;
        }
        enc[0] = c;
        if (c == '\\') {
            unsigned cp;
            sn_json_err_t e = escape(j, &cp);
            if (e != SN_JSON_OK)
                return fail(j, e, e == SN_JSON_EUNTERMINATED ? j->in.pos : at, start);
            k = utf8_put(enc, cp);
        } else if (c >= 0x80) {
            /* The whole sequence, validated as the writer validates it. */
            const uint8_t *seq = NULL;
            sn_bytes_seek(&j->in, at);
            size_t avail = sn_bytes_left(&j->in) < 4 ? sn_bytes_left(&j->in) : 4;
            sn_bytes_take(&j->in, avail, &seq);
            k = sn_utf8_len(seq, avail);
            if (k == 0)
                return fail(j, SN_JSON_EUTF8, at, start);
            sn_bytes_seek(&j->in, at + k);
            memcpy(enc, seq, k);
        }
        if (out != NULL) {
            if (k >= cap - n) /* and the NUL */
                return fail(j, SN_JSON_ELONG, at, start);
            memcpy(out + n, enc, k);
        }
        n += k;
    }
    if (out != NULL)
        out[n] = '\0';
    if (len != NULL)
        *len = n;
    return true;
}

/* One or more digits; false (nothing taken) when no digit is next. */
static bool digits(sn_json_t *j)
{
    if (!sn_is_digit(sn_bytes_peek(&j->in)))
        return false;
    while (sn_is_digit(sn_bytes_peek(&j->in)))
        sn_bytes_take(&j->in, 1, NULL);
    return true;
}

static bool take_if(sn_json_t *j, char a, char b)
{
    int c = sn_bytes_peek(&j->in);
    if (c != a && c != b)
        return false;
    sn_bytes_take(&j->in, 1, NULL);
    return true;
}

bool sn_json_number(sn_json_t *j, const char **text, size_t *len, bool *integer)
{
    sn_json_ws(j);
    size_t start = j->in.pos;
    bool whole = true;
    take_if(j, '-', '-');
    /* int = "0" / digit1-9 *DIGIT: a leading zero stands alone */
    if (!take_if(j, '0', '0') && !digits(j))
        return fail(j, SN_JSON_ENUMBER, j->in.pos, start);
    if (take_if(j, '.', '.')) {
        whole = false;
        if (!digits(j))
            return fail(j, SN_JSON_ENUMBER, j->in.pos, start);
    }
    if (take_if(j, 'e', 'E')) {
        whole = false;
        take_if(j, '+', '-');
        if (!digits(j))
            return fail(j, SN_JSON_ENUMBER, j->in.pos, start);
    }
    size_t n = j->in.pos - start;
    const uint8_t *p = NULL;
    sn_bytes_seek(&j->in, start);
    sn_bytes_take(&j->in, n, &p);
    if (text != NULL)
        *text = (const char *)p;
    if (len != NULL)
        *len = n;
    if (integer != NULL)
        *integer = whole;
    return true;
}

bool sn_json_literal(sn_json_t *j, const char *word)
{
    sn_json_ws(j);
    size_t start = j->in.pos, n = strlen(word);
    const uint8_t *p = NULL;
    if (sn_bytes_take(&j->in, n, &p) && memcmp(p, word, n) == 0)
        return true;
    return fail(j, SN_JSON_ELITERAL, start, start);
}

bool sn_json_end(sn_json_t *j)
{
    sn_json_ws(j);
    if (sn_bytes_left(&j->in) == 0)
        return true;
    return fail(j, SN_JSON_ETRAILING, j->in.pos, j->in.pos);
}

const char *sn_json_strerror(sn_json_err_t e)
{
    switch (e) {
    case SN_JSON_OK: return "no error";
    case SN_JSON_ENOSTRING: return "expected a string";
    case SN_JSON_EUNTERMINATED: return "an unterminated string";
    case SN_JSON_ECONTROL: return "a control character in a string";
    case SN_JSON_EESCAPE: return "a bad escape in a string";
    case SN_JSON_EHEX: return "a bad \\u escape in a string (four hex digits expected)";
    case SN_JSON_ESURROGATE: return "a lone surrogate escape in a string";
    case SN_JSON_ENUL: return "a NUL character (\\u0000) in a string";
    case SN_JSON_EUTF8: return "invalid UTF-8 in a string";
    case SN_JSON_ELONG: return "a string longer than its buffer";
    case SN_JSON_ENUMBER: return "a malformed number";
    case SN_JSON_ELITERAL: return "a value that is not JSON";
    case SN_JSON_ETRAILING: return "text after the end";
    }
    return "an unknown JSON error";
}
