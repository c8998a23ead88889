/*
 * The one strict decimal loop. The overflow test is done before the multiply,
 * against (max - d) / 10, so that no intermediate value can wrap even when
 * max is UINT64_MAX.
 */
#include "lib/decimal.h"

bool sn_decimal_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 20)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (d > max || v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}
