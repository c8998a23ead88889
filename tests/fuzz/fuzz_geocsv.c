/*
 * libFuzzer harness for the ip-location-db CSV loader (sn_geo_add_csv_mem).
 * The first byte picks the file name the table is loaded under, since the
 * name decides how "-num" integers are read (IPv4, IPv6, by magnitude). A
 * table that loads must answer lookups at the edges of both address spaces and
 * at every range end it holds with well-formed values; a table that does not
 * load must say why. Anything else aborts: that is how a harness reports.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "data/geo.h"

static void check(const sn_geo_t *g, const sn_addr_t *a)
{
    sn_geo_info_t o;
    sn_geo_lookup(g, a, &o);
    size_t n = strlen(o.country);
    if (n != 0 && n != 2)
        abort();
    if (n == 2 &&
        (o.country[0] < 'A' || o.country[0] > 'Z' || o.country[1] < 'A' || o.country[1] > 'Z'))
        abort();
    if (strlen(o.as_org) >= SN_GEO_ORG_MAX || o.source == NULL || o.as_source == NULL)
        abort();
    for (const char *p = o.as_org; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            abort();
    if (o.as_org[0] != '\0' && o.asn == 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"fuzz.csv", "asn-ipv4-num.csv", "asn-ipv6-num.csv",
                                        "dbip-country-ipv6.csv"};
    if (size == 0)
        return 0;
    const char *name = names[data[0] % 4];
    data++;
    size--;

    sn_geo_t *g = sn_geo_new();
    if (g == NULL)
        return 0;
    sn_error_t err;
    err.msg[0] = '\0';
    if (sn_geo_add_csv_mem(g, name, data, size, &err) != SN_OK) {
        if (err.msg[0] == '\0' || sn_geo_count(g) != 0)
            abort();
        sn_geo_free(g);
        return 0;
    }
    if (sn_geo_count(g) != 1 || sn_geo_source(g, 0) == NULL)
        abort();

    sn_addr_t a;
    static const char *const edges[] = {"0.0.0.0",
                                        "255.255.255.255",
                                        "1.0.0.1",
                                        "::",
                                        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                                        "2001:db8::1",
                                        "::ffff:1.2.3.4"};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        if (sn_addr_parse_ip(edges[i], strlen(edges[i]), &a) == SN_OK)
            check(g, &a);
    }
    /* Every literal address in the input, as a boundary the table may hold. */
    const char *s = (const char *)data;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && s[i] != ',' && s[i] != '\n' && s[i] != '\r' && s[i] != '"')
            continue;
        if (i > start && i - start < 64 && sn_addr_parse_ip(s + start, i - start, &a) == SN_OK)
            check(g, &a);
        start = i + 1;
    }
    sn_geo_free(g);
    return 0;
}
