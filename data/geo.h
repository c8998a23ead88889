/*
 * Geography and autonomous systems of an address: country, continent, AS
 * number and AS organisation, from any mix of MaxMind DB files (GeoIP2 and
 * GeoLite2 schemas, and the ip-location-db `country_code` schema) and
 * ip-location-db CSV range tables.
 *
 * Databases are consulted in the order they were added; per field group the
 * first database with an answer wins (country and its continent come from one
 * database, AS number and organisation from one database). A continent the
 * database does not carry is filled from the bundled ISO 3166 table.
 *
 * Lookups never allocate and never fail: a missing entry, corrupt data or any
 * libmaxminddb error is "no data" for that field. Only opening or loading a
 * database can fail, with a message that names the file.
 *
 * A loaded sn_geo_t is read-only: sn_geo_lookup may run from several threads at
 * once. Adding databases must not overlap with lookups.
 */
#ifndef SN_GEO_H
#define SN_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/status.h"
#include "lib/addr.h"

/* Bytes of sn_geo_info_t.as_org with the NUL; longer names are cut at a UTF-8 boundary. */
#define SN_GEO_ORG_MAX 256

typedef struct sn_geo sn_geo_t;

/*
 * What the databases know about one address. Every field has a "no data"
 * value, so a caller never needs to ask whether a lookup succeeded. The struct
 * is a plain value (safe to copy, keep, and use after sn_geo_free) except for
 * the two source pointers, which live as long as the sn_geo_t.
 */
typedef struct sn_geo_info {
    char country[3];             /* ISO 3166-1 alpha-2, upper case; "" = no data */
    char continent[3];           /* AF AN AS EU NA OC SA; "" = no data */
    bool continent_from_table;   /* continent came from the bundled table */
    uint32_t asn;                /* 0 = no data */
    char as_org[SN_GEO_ORG_MAX]; /* UTF-8 as stored; "" = no data */
    const char *source;          /* database that gave the country, "" if none */
    const char *as_source;       /* database that gave the AS, "" if none */
} sn_geo_info_t;

/* An empty set of databases (every lookup answers "no data"); NULL when out of memory. */
sn_geo_t *sn_geo_new(void);

/* Closes every database. Accepts NULL. */
void sn_geo_free(sn_geo_t *geo);

/*
 * Opens a MaxMind DB file (memory-mapped) and appends it to the lookup order.
 * Returns SN_EIO with the file name and MMDB_strerror text when it cannot be
 * opened (missing, not an MMDB file, invalid metadata), SN_ENOMEM.
 */
sn_status_t sn_geo_add_mmdb(sn_geo_t *geo, const char *path, sn_error_t *err);

/*
 * Loads an ip-location-db CSV range table (no header row; a header starting
 * with "ip_range_start" is skipped) and appends it to the lookup order. The
 * kind follows from the column count of the first row:
 *   3 columns   ip_range_start,ip_range_end,country_code
 *   4 columns   ip_range_start,ip_range_end,autonomous_system_number,autonomous_system_organization
 *   5 or more   a city table; column 3 is the country code, the rest is ignored
 * Range ends are IP literals (IPv4 and IPv6 may be mixed in one file) or, as
 * in the "-num" files, decimal integers (IPv6 when the file name contains
 * "ipv6" or the value exceeds 32 bits). Ranges are inclusive. Where ranges
 * overlap, the one that starts lower (on a tie, the wider) keeps the shared
 * addresses. Organisation names are interned once; control bytes become spaces.
 * Returns SN_EIO (unreadable), SN_EPARSE ("file:row: why"), SN_ELIMIT, SN_ENOMEM.
 */
sn_status_t sn_geo_add_csv(sn_geo_t *geo, const char *path, sn_error_t *err);

/* As sn_geo_add_csv, from memory; name stands for the file in messages and sources. */
sn_status_t sn_geo_add_csv_mem(sn_geo_t *geo, const char *name, const void *data, size_t len,
                               sn_error_t *err);

/* sn_geo_add_csv for names ending in ".csv" (any case), else sn_geo_add_mmdb. */
sn_status_t sn_geo_add_file(sn_geo_t *geo, const char *path, sn_error_t *err);

/*
 * The default search path, NULL-terminated: /usr/share/GeoIP, /var/lib/GeoIP
 * (where geoipupdate writes GeoLite2) and sn_data_dir() "/geo" (where
 * scripts/fetch-geo-data.sh writes DB-IP Lite and ip-location-db data;
 * lib/datadir.h: SNPROBE_DATA_DIR, else the installed data directory).
 */
const char *const *sn_geo_default_dirs(void);

/*
 * Discovers databases in dirs (NULL-terminated; NULL means the default path)
 * and adds them. There are two roles, country and AS; for each role the
 * directories are searched in order and, within a directory, the well-known
 * file names in this order (a group such as an -ipv4/-ipv6 pair counts as one):
 *   country: GeoIP2-Country.mmdb, GeoLite2-Country.mmdb, GeoIP2-City.mmdb,
 *            GeoLite2-City.mmdb, dbip-country.mmdb,
 *            dbip-country-ipv4.mmdb + dbip-country-ipv6.mmdb,
 *            dbip-country-lite-*.mmdb (newest name), dbip-country-ipv4.csv +
 *            dbip-country-ipv6.csv, dbip-country-ipv4-num.csv + dbip-country-ipv6-num.csv
 *   AS:      GeoLite2-ASN.mmdb, GeoIP2-ISP.mmdb, asn.mmdb, asn-ipv4.mmdb + asn-ipv6.mmdb,
 *            dbip-asn-lite-*.mmdb (newest name), asn-ipv4.csv + asn-ipv6.csv,
 *            asn-ipv4-num.csv + asn-ipv6-num.csv
 * The first group found fills the role; country databases come before AS
 * databases in the lookup order. Finding nothing is not an error (check
 * sn_geo_count); a discovered file that cannot be loaded is, naming the file.
 * *added (may be NULL) gets the number of files added.
 */
sn_status_t sn_geo_add_defaults(sn_geo_t *geo, const char *const *dirs, size_t *added,
                                sn_error_t *err);

/* Number of databases added. */
size_t sn_geo_count(const sn_geo_t *geo);

/*
 * Credit line of database i (0-based, lookup order), owned by geo: the file
 * name and what the file says of itself, e.g.
 * "dbip-country.mmdb (country ipvAll, built 2026-06-01)" or
 * "asn-ipv4.csv (ip-location-db asn CSV, 411961 ranges)". NULL when i is out of range.
 */
const char *sn_geo_source(const sn_geo_t *geo, size_t i);

/*
 * Looks up one address (its port is ignored; IPv4-mapped IPv6 is looked up as
 * IPv4) and fills *out entirely. Never allocates. geo may be NULL or empty.
 */
void sn_geo_lookup(const sn_geo_t *geo, const sn_addr_t *addr, sn_geo_info_t *out);

/*
 * Continent code ("EU", ...) of a NUL-terminated ISO 3166-1 alpha-2 country
 * code in either case (also XK, and the legacy GeoIP pseudo-codes EU and AP);
 * NULL when unknown or not exactly two letters. Follows GeoNames, as MaxMind
 * does: RU is EU; TR and the Caucasus states are AS; CY is EU; Antarctica and
 * the southern islands are AN.
 */
const char *sn_continent_of(const char *cc);

/*
 * The one reading of a country code: exactly two ASCII letters (len bytes at s), written
 * upper-cased with a NUL into out. Returns false, out untouched, for anything else. A
 * reader that wants the canonical form only (the results CSV) compares out with s.
 */
bool sn_country_code(const char *s, size_t len, char out[3]);

/* The same for a continent code: one of AF AN AS EU NA OC SA, upper case only. */
bool sn_continent_code(const char *s, size_t len, char out[3]);

#endif
