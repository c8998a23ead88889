/*
 * Fuzz harness for the reverse-DNS input paths: the host-name validator and
 * the PTR reply parser (data/rdns.c). The same bytes go to both: as a C
 * string to sn_hostname_valid, and as a DNS message answering the query for
 * 3.2.1.127.in-addr.arpa to sn_rdns_parse_reply. Besides memory errors
 * (under the sanitizers) it checks the promises of rdns.h: names come back
 * only with "ok", printable and without spaces, within the size limits, and
 * a name called valid is plain LDH text.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/rdns.h"

#define QNAME "3.2.1.127.in-addr.arpa"

static void check(bool ok)
{
    if (!ok)
        __builtin_trap();
}

static void check_valid_name(const char *s)
{
    size_t len = strlen(s);
    check(len >= 1 && len <= 254);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        check((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (sn_hostname_valid(text))
        check_valid_name(text);
    free(text);

    char **names = NULL;
    size_t n = 0;
    sn_rdns_status_t st = sn_rdns_parse_reply(data, size, QNAME, &names, &n);
    check((int)st >= 0 && st < SN_RDNS_STATUS_COUNT);
    check((st == SN_RDNS_OK) == (n > 0));
    check((n == 0) == (names == NULL));
    check(n <= SN_RDNS_MAX_NAMES);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        check(len >= 1 && len <= 4 * 255);
        for (size_t k = 0; k < len; k++)
            check(names[i][k] > ' ' && names[i][k] < 0x7f);
        if (sn_hostname_valid(names[i]))
            check_valid_name(names[i]);
    }
    free(names);
    return 0;
}
