/*
 * The one strict decimal loop, for both widths. The overflow test is done
 * before the multiply, against max / 10 and max % 10, so that no intermediate
 * value can wrap even when max is the largest value of the type. The loop works in
 * the compiler's unsigned __int128 (GCC and clang, which the build requires)
 * inside this file only, so that the header stays plain C.
 */
#include "lib/decimal.h"

#include "lib/text.h"

/*
 * The loop of both: the len bytes at s as a value no greater than max, or false, where
 * limit and last are max / 10 and max % 10 (the callers know them for their width without
 * a 128-bit division). A digit d may follow v when v < limit, or v == limit and d <= last.
 */
static bool parse(const char *s, size_t len, unsigned __int128 limit, unsigned last,
                  unsigned __int128 *out)
{
    unsigned __int128 v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!sn_is_digit(s[i]))
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > limit || (v == limit && d > last))
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool sn_decimal_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    unsigned __int128 v;
    if (len == 0 || len > 20 || !parse(s, len, max / 10, (unsigned)(max % 10), &v))
        return false;
    *out = (uint64_t)v;
    return true;
}

bool sn_decimal_u128(const char *s, size_t len, uint64_t *hi, uint64_t *lo)
{
    unsigned __int128 v;
    const unsigned __int128 max = ~(unsigned __int128)0; /* 2^128 - 1, whose last digit is 5 */
    if (len == 0 || len > 39 || !parse(s, len, max / 10, 5, &v))
        return false;
    *hi = (uint64_t)(v >> 64);
    *lo = (uint64_t)v;
    return true;
}

size_t sn_decimal_span(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && sn_is_digit(s[n]))
        n++;
    return n;
}
