/*
 * Fuzz harness for MaxMind DB loading and the strings read from it (sn_geo_add_mmdb, then
 * sn_geo_lookup): arbitrary bytes as the .mmdb file. A database libmaxminddb refuses is
 * an error that names it; one it opens answers lookups at the edges of both families with
 * a well-formed info (country two letters or empty, AS organisation NUL-terminated UTF-8).
 * Seeds: the databases tests/fixtures/geo/write-mmdb.pl writes.
 */
#include <stdlib.h>
#include <string.h>

#include "data/geo.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_mmdb(const char *path, sn_error_t *err)
{
    sn_geo_t *g = sn_geo_new();
    if (g != NULL) {
        if (sn_geo_add_mmdb(g, path, err) != SN_OK) {
            if (err->msg[0] == '\0' || sn_geo_count(g) != 0)
                abort();
        } else {
            static const char *const ips[] = {
                "0.0.0.0",     "1.0.0.1",         "8.8.8.8",
                "128.0.0.1",   "255.255.255.255", "::",
                "2001:db8::1", "2a00::1",         "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};
            for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
                sn_addr_t a;
                if (sn_addr_parse_ip(ips[i], strlen(ips[i]), &a) != SN_OK)
                    abort();
                sn_geo_info_t info;
                sn_geo_lookup(g, &a, &info);
                if (memchr(info.as_org, '\0', sizeof info.as_org) == NULL ||
                    memchr(info.country, '\0', sizeof info.country) == NULL)
                    abort();
                size_t cl = strlen(info.country);
                if (cl != 0 && cl != 2)
                    abort();
            }
        }
    }
    sn_geo_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_file_run(data, size, check_mmdb);
}
