/*
 * Fuzz harness for the one JSON reader and writer (lib/json.c): arbitrary
 * bytes read as a stream of tokens, and written as a string. Properties
 * checked beyond "does not crash":
 *   - every read moves the cursor forward, or fails and leaves it on the
 *     token with an error, a position inside the text and a phrase (the
 *     stream goes on a byte later, so one input tries many tokens);
 *   - a string the reader accepts is valid UTF-8 without NUL, fits a buffer
 *     of its length plus one and not one byte less, and what the writer makes
 *     of it reads back as the same bytes (the writer and reader agree);
 *   - a number is a slice of the input, integer exactly when it has neither
 *     fraction nor exponent;
 *   - the writer turns any bytes into a string the reader accepts (or refuses
 *     only for a NUL), reading back as the input with each byte that is not
 *     UTF-8 replaced by U+FFFD.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = sn_utf8_len((const unsigned char *)s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

/* Writes s (n bytes), reads it back into a fresh buffer; *back_n gets the length, NULL if refused.
 */
static char *through_writer(const char *s, size_t n, size_t *back_n, sn_json_err_t *err)
{
    size_t cap = SN_JSON_QUOTED_MAX(n);
    char *text = malloc(cap), *back = malloc(cap);
    if (text == NULL || back == NULL)
        __builtin_trap();
    size_t len = sn_json_quote(text, cap, s, n);
    if (len < 2 || len > cap || sn_json_quote(text, cap - 1, s, n) != 0)
        __builtin_trap();
    sn_json_t j = sn_json_reader(text, len);
    bool ok = sn_json_string(&j, back, cap, back_n) && sn_json_end(&j);
    *err = j.err;
    free(text);
    if (!ok) {
        free(back);
        return NULL;
    }
    return back;
}

static void check_string(const char *s, size_t n)
{
    if (s[n] != '\0' || memchr(s, '\0', n) != NULL || !valid_utf8(s, n))
        __builtin_trap();
    size_t back_n;
    sn_json_err_t err;
    char *back = through_writer(s, n, &back_n, &err);
    if (back == NULL || back_n != n || memcmp(back, s, n) != 0)
        __builtin_trap();
    free(back);
}

/* The writer on raw bytes: what comes back is the input, sanitised. */
static void check_writer(const uint8_t *data, size_t size)
{
    size_t back_n;
    sn_json_err_t err;
    char *back = through_writer((const char *)data, size, &back_n, &err);
    if (back == NULL) {
        if (err != SN_JSON_ENUL || memchr(data, '\0', size) == NULL)
            __builtin_trap();
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < size;) {
        size_t k = sn_utf8_len(data + i, size - i);
        const char *want = k > 0 ? (const char *)data + i : "\xEF\xBF\xBD";
        size_t wl = k > 0 ? k : 3;
        if (o + wl > back_n || memcmp(back + o, want, wl) != 0)
            __builtin_trap();
        o += wl;
        i += k > 0 ? k : 1;
    }
    if (o != back_n)
        __builtin_trap();
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out = malloc(size + 1);
    if (out == NULL)
        return 0;
    sn_json_t j = sn_json_reader(data, size);
    for (;;) {
        int c = sn_json_peek(&j);
        size_t at = j.in.pos;
        if (c < 0)
            break;
        bool ok;
        if (c == '"') {
            size_t n;
            ok = sn_json_string(&j, out, size + 1, &n);
            if (ok) {
                check_string(out, n);
                /* One byte less room than it needs: refused, and no byte past the room. */
                sn_json_t again = sn_json_reader(data, size);
                sn_bytes_seek(&again.in, at);
                out[n] = 'Z';
                if (sn_json_string(&again, out, n, NULL) || again.err != SN_JSON_ELONG ||
                    out[n] != 'Z')
                    __builtin_trap();
            }
        } else if (c == '-' || sn_is_digit(c)) {
            const char *num;
            size_t len;
            bool integer;
            ok = sn_json_number(&j, &num, &len, &integer);
            if (ok && (num != (const char *)data + at || len == 0 || len > size - at ||
                       integer != (memchr(num, '.', len) == NULL && memchr(num, 'e', len) == NULL &&
                                   memchr(num, 'E', len) == NULL)))
                __builtin_trap();
        } else if (c == 't' || c == 'f' || c == 'n') {
            ok = sn_json_literal(&j, c == 't' ? "true" : c == 'f' ? "false" : "null");
        } else if (c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',') {
            ok = sn_json_eat(&j, (char)c);
            if (!ok)
                __builtin_trap();
        } else {
            ok = sn_json_end(&j);
            if (ok || j.err != SN_JSON_ETRAILING)
                __builtin_trap();
        }
        if (ok && j.in.pos <= at)
            __builtin_trap();
        if (!ok) {
            if (j.err == SN_JSON_OK || j.in.pos != at || j.err_pos < at || j.err_pos > size ||
                j.err_column < 1 || sn_json_strerror(j.err)[0] == '\0')
                __builtin_trap();
            sn_bytes_take(&j.in, 1, NULL); /* on past the bad token's first byte */
        }
    }
    free(out);
    check_writer(data, size);
    return 0;
}
