/*
 * libFuzzer harness for the address parsers: sn_addr_parse_endpoint over the
 * raw bytes, and sn_cidr_parse over a NUL-terminated copy. Whatever parses
 * must format and parse back to the very same bytes, so that a value written
 * to a report or a blocklist export reads back as what was scanned. A mismatch
 * aborts: that is how a harness reports a finding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "data/blocklist.h"

static void check_endpoint(const uint8_t *data, size_t size)
{
    sn_addr_t a, b;
    const char *why = NULL;
    char text[SN_ADDR_STRLEN];

    if (sn_addr_parse_endpoint((const char *)data, size, &a, &why) != SN_OK) {
        if (why == NULL)
            abort(); /* every rejection carries a reason */
        return;
    }
    if (a.pad_ != 0 || a.port == 0)
        abort();
    size_t n = sn_addr_format(&a, text, sizeof text, true);
    if (n == 0 || n >= sizeof text || n != strlen(text))
        abort();
    if (sn_addr_parse_endpoint(text, n, &b, &why) != SN_OK)
        abort();
    if (memcmp(&a, &b, sizeof a) != 0 || sn_addr_hash(&a, 1) != sn_addr_hash(&b, 1))
        abort();
}

static void check_cidr(const uint8_t *data, size_t size)
{
    sn_addr_t net, back;
    unsigned prefix = 0, prefix2 = 0;
    sn_error_t err;
    char ip[SN_ADDR_STRLEN], text[SN_ADDR_STRLEN + 8];

    char *s = malloc(size + 1);
    if (s == NULL)
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    err.msg[0] = '\0';
    if (sn_cidr_parse(s, &net, &prefix, &err) != SN_OK) {
        if (err.msg[0] == '\0')
            abort(); /* every rejection is explained */
        free(s);
        return;
    }
    free(s);
    if (prefix > (net.family == AF_INET ? 32u : 128u))
        abort();
    sn_addr_format(&net, ip, sizeof ip, false);
    snprintf(text, sizeof text, "%s/%u", ip, prefix);
    if (sn_cidr_parse(text, &back, &prefix2, &err) != SN_OK)
        abort();
    if (prefix != prefix2 || memcmp(&net, &back, sizeof net) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_endpoint(data, size);
    check_cidr(data, size);
    return 0;
}
