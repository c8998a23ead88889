/*
 * Text helpers (see text.h).
 */
#include "lib/text.h"

#include <stdio.h>
#include <string.h>

void sn_text_quote(char *out, size_t cap, const char *s, size_t len)
{
    if (cap == 0)
        return;
    size_t o = 0, n = len < SN_QUOTE_MAX ? len : SN_QUOTE_MAX;
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (len > n && o + 4 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

size_t sn_utf8_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
        hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need;
}

static bool formula_char(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

bool sn_csv_formula_like(const char *v, size_t n)
{
    size_t i = 0;
    while (i < n && v[i] == '\'')
        i++;
    return i < n && formula_char(v[i]);
}

size_t sn_csv_formula_prefix(const char *v, size_t n)
{
    return n > 1 && v[0] == '\'' && sn_csv_formula_like(v + 1, n - 1) ? 1 : 0;
}

bool sn_ptr_formula_like(const char *v, size_t n)
{
    return n > 0 && v[0] != '\t' && v[0] != '\r' && formula_char(v[0]);
}

size_t sn_ptr_formula_prefix(const char *v, size_t n)
{
    return n > 1 && v[0] == '\\' && sn_ptr_formula_like(v + 1, n - 1) ? 1 : 0;
}

int sn_name_index(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        if (names[i] != NULL && strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}
