/*
 * Geo and AS enrichment over MaxMind DB files and ip-location-db CSV tables.
 *
 * Each database is one entry in an ordered list. MMDB files are memory-mapped
 * and read with MMDB_lookup_sockaddr + MMDB_aget_value, which walk the file in
 * place: no entry-data lists, no allocation. CSV tables are parsed once with
 * libcsv into two sorted arrays of inclusive ranges (IPv4 as uint32, IPv6 as a
 * pair of uint64) and searched by bisection inside a bucket picked by the top
 * 16 bits of the address (a 256 KiB index per family); AS organisation names
 * are interned into one string pool at load, so a table of 400,000 ranges
 * holds each of its ~75,000 names once. The lookup path copies at most one short string per
 * field into the caller's value struct, which is why sn_geo_info_t carries the
 * organisation inline rather than as a pointer into a database.
 *
 * Both paths apply the same validation to what they hand out (two ASCII
 * letters for a country, one of seven continent codes, control bytes in
 * organisation names replaced by spaces), so that the same data in either
 * format gives byte-identical answers.
 */
#include "data/geo.h"
#include "lib/datadir.h"
#include "lib/decimal.h"
#include "lib/fnv.h"

#include "data/csvgrow.h"
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

/* Which field groups a database can answer. */
enum { HAS_COUNTRY = 1, HAS_ASN = 2 };

/* CSV table kinds, from the column count of the first row. */
enum { KIND_NONE = 0, KIND_COUNTRY, KIND_ASN, KIND_CITY };

/* More ranges than any real table has (the ip-location-db asn tables hold ~500,000). */
#define MAX_RANGES ((size_t)1 << 26)

/* Longest CSV field kept; an IPv6 literal with an IPv4 tail is 45 bytes, a 128-bit decimal 39. */
#define FIELD_MAX 512

typedef struct u128 {
    uint64_t hi, lo;
} u128_t;

typedef struct v4_range {
    uint32_t lo, hi;
    uint32_t asn;
    uint32_t org; /* offset into the table's pool; 0 is "" */
    char cc[2];
} v4_range_t;

typedef struct v6_range {
    u128_t lo, hi;
    uint32_t asn;
    uint32_t org;
    char cc[2];
} v6_range_t;

/*
 * Bucket index over the top 16 bits of an address: ranges [idx[p], idx[p+1])
 * are those that start inside prefix p, so bisection runs over a handful of
 * entries instead of 400,000 (three cache misses instead of nineteen).
 */
#define INDEX_SIZE (65536 + 1)

typedef struct csv_table {
    v4_range_t *v4;
    size_t n4, cap4;
    v6_range_t *v6;
    size_t n6, cap6;
    uint32_t *idx4, *idx6; /* INDEX_SIZE entries each, built after sorting */
    char *pool;
    size_t pool_len, pool_cap;
} csv_table_t;

typedef struct geo_db {
    bool is_mmdb;
    unsigned fields;
    char *source;
    MMDB_s mmdb;
    csv_table_t csv;
} geo_db_t;

struct sn_geo {
    geo_db_t **dbs;
    size_t n, cap;
};

/* ---- shared helpers ---------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

bool sn_country_code(const char *s, size_t len, char out[3])
{
    if (s == NULL || len != 2)
        return false;
    char c[2];
    for (int i = 0; i < 2; i++) {
        char ch = s[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch < 'A' || ch > 'Z')
            return false;
        c[i] = ch;
    }
    out[0] = c[0];
    out[1] = c[1];
    out[2] = '\0';
    return true;
}

bool sn_continent_code(const char *s, size_t len, char out[3])
{
    static const char codes[][3] = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};
    if (s == NULL || len != 2)
        return false;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        if (s[0] == codes[i][0] && s[1] == codes[i][1]) {
            memcpy(out, codes[i], 3);
            return true;
        }
    }
    return false;
}

/*
 * Copies an organisation name into dst (cap bytes with the NUL): stops at a
 * NUL, replaces control bytes by spaces (names end up on terminals and in
 * CSV), and cuts at a UTF-8 character boundary when it does not fit.
 * Idempotent, so text already cleaned at CSV load copies unchanged.
 */
static void copy_org(char *dst, size_t cap, const char *src, size_t len)
{
    size_t n = 0;
    while (n < len && src[n] != '\0')
        n++;
    if (n > cap - 1) {
        n = cap - 1;
        /* Back off over continuation bytes so a multi-byte character is not split. */
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c < 0x20 || c == 0x7F) ? ' ' : (char)c;
    }
    dst[n] = '\0';
}

static void info_clear(sn_geo_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->source = "";
    out->as_source = "";
}

static sn_status_t append_db(sn_geo_t *geo, geo_db_t *db)
{
    if (geo->n == geo->cap) {
        size_t cap = geo->cap ? geo->cap * 2 : 4;
        geo_db_t **d = realloc(geo->dbs, cap * sizeof *d);
        if (d == NULL)
            return SN_ENOMEM;
        geo->dbs = d;
        geo->cap = cap;
    }
    geo->dbs[geo->n++] = db;
    return SN_OK;
}

static void db_free(geo_db_t *db)
{
    if (db == NULL)
        return;
    if (db->is_mmdb)
        MMDB_close(&db->mmdb);
    free(db->csv.v4);
    free(db->csv.v6);
    free(db->csv.idx4);
    free(db->csv.idx6);
    free(db->csv.pool);
    free(db->source);
    free(db);
}

sn_geo_t *sn_geo_new(void)
{
    return calloc(1, sizeof(sn_geo_t));
}

void sn_geo_free(sn_geo_t *geo)
{
    if (geo == NULL)
        return;
    for (size_t i = 0; i < geo->n; i++)
        db_free(geo->dbs[i]);
    free(geo->dbs);
    free(geo);
}

size_t sn_geo_count(const sn_geo_t *geo)
{
    return geo != NULL ? geo->n : 0;
}

const char *sn_geo_source(const sn_geo_t *geo, size_t i)
{
    if (geo == NULL || i >= geo->n)
        return NULL;
    return geo->dbs[i]->source;
}

/* ---- MaxMind DB -------------------------------------------------------- */

sn_status_t sn_geo_add_mmdb(sn_geo_t *geo, const char *path, sn_error_t *err)
{
    if (geo == NULL || path == NULL)
        return sn_error_set(err, SN_EINVAL, "no database path given");
    geo_db_t *db = calloc(1, sizeof *db);
    if (db == NULL)
        return sn_error_set(err, SN_ENOMEM, "%s: out of memory", path);
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
    if (rc != MMDB_SUCCESS) {
        int saved = errno;
        free(db);
        if (rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR)
            return sn_error_set(err, SN_EIO, "%s: cannot open MaxMind DB: %s (%s)", path,
                                MMDB_strerror(rc), strerror(saved));
        if (rc == MMDB_OUT_OF_MEMORY_ERROR)
            return sn_error_set(err, SN_ENOMEM, "%s: cannot open MaxMind DB: %s", path,
                                MMDB_strerror(rc));
        return sn_error_set(err, SN_EIO, "%s: cannot open MaxMind DB: %s", path, MMDB_strerror(rc));
    }
    db->is_mmdb = true;
    db->fields = HAS_COUNTRY | HAS_ASN;

    /* The type string comes from the file: keep it printable and short. */
    char type[64];
    const char *t = db->mmdb.metadata.database_type;
    copy_org(type, sizeof type, t != NULL ? t : "", t != NULL ? strlen(t) : 0);
    if (type[0] == '\0')
        strcpy(type, "MaxMind DB");

    char built[48] = "";
    uint64_t epoch = db->mmdb.metadata.build_epoch;
    struct tm tm;
    time_t when = (time_t)epoch;
    if (epoch <= (uint64_t)253402300799 /* 9999-12-31 */ && gmtime_r(&when, &tm) != NULL)
        strftime(built, sizeof built, ", built %Y-%m-%d", &tm);
    else
        snprintf(built, sizeof built, ", build epoch %llu", (unsigned long long)epoch);

    char src[512];
    snprintf(src, sizeof src, "%s (%s%s)", base_name(path), type, built);
    db->source = strdup(src);
    sn_status_t st = db->source != NULL ? append_db(geo, db) : SN_ENOMEM;
    if (st != SN_OK) {
        db_free(db);
        return sn_error_set(err, st, "%s: out of memory", path);
    }
    return SN_OK;
}

static bool mmdb_string(MMDB_entry_s *e, const char *const *path, const char **s, size_t *len)
{
    MMDB_entry_data_s d;
    if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
        d.type != MMDB_DATA_TYPE_UTF8_STRING)
        return false;
    *s = d.utf8_string;
    *len = d.data_size;
    return true;
}

static bool mmdb_uint32(MMDB_entry_s *e, const char *const *path, uint32_t *v)
{
    MMDB_entry_data_s d;
    if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data)
        return false;
    switch (d.type) {
    case MMDB_DATA_TYPE_UINT16: *v = d.uint16; return true;
    case MMDB_DATA_TYPE_UINT32: *v = d.uint32; return true;
    case MMDB_DATA_TYPE_INT32:
        if (d.int32 < 0)
            return false;
        *v = (uint32_t)d.int32;
        return true;
    case MMDB_DATA_TYPE_UINT64:
        if (d.uint64 > UINT32_MAX)
            return false;
        *v = (uint32_t)d.uint64;
        return true;
    default: return false;
    }
}

static const char *const PATH_COUNTRY[] = {"country", "iso_code", NULL};
static const char *const PATH_REG_COUNTRY[] = {"registered_country", "iso_code", NULL};
static const char *const PATH_COUNTRY_CODE[] = {"country_code", NULL};
static const char *const PATH_CONTINENT[] = {"continent", "code", NULL};
static const char *const PATH_ASN[] = {"autonomous_system_number", NULL};
static const char *const PATH_ASORG[] = {"autonomous_system_organization", NULL};

static void mmdb_lookup(const geo_db_t *db, const struct sockaddr *sa, bool *need_country,
                        bool *need_as, sn_geo_info_t *out)
{
    int mmerr = MMDB_SUCCESS;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&db->mmdb, sa, &mmerr);
    if (mmerr != MMDB_SUCCESS || !r.found_entry)
        return;
    const char *s;
    size_t len;
    if (*need_country) {
        /* GeoIP2 schema, then ip-location-db's flat key, then where the block is registered. */
        if ((mmdb_string(&r.entry, PATH_COUNTRY, &s, &len) &&
             sn_country_code(s, len, out->country)) ||
            (mmdb_string(&r.entry, PATH_COUNTRY_CODE, &s, &len) &&
             sn_country_code(s, len, out->country)) ||
            (mmdb_string(&r.entry, PATH_REG_COUNTRY, &s, &len) &&
             sn_country_code(s, len, out->country))) {
            *need_country = false;
            out->source = db->source;
            if (mmdb_string(&r.entry, PATH_CONTINENT, &s, &len))
                sn_continent_code(s, len, out->continent);
        }
    }
    if (*need_as) {
        uint32_t asn = 0;
        if (mmdb_uint32(&r.entry, PATH_ASN, &asn) && asn != 0) {
            *need_as = false;
            out->asn = asn;
            out->as_source = db->source;
            if (mmdb_string(&r.entry, PATH_ASORG, &s, &len))
                copy_org(out->as_org, sizeof out->as_org, s, len);
        }
    }
}

/* ---- CSV range tables: loading ----------------------------------------- */

typedef struct csv_load {
    csv_table_t *t;
    const char *name;
    int family_hint; /* 4 or 6 from the file name, 0 when it says neither */
    int kind;
    size_t ncols; /* columns of the first row; every row must match */
    unsigned long row;
    size_t col;
    char field[4][FIELD_MAX + 1];
    size_t flen[4];
    bool ftrunc[4];
    sn_status_t st;
    sn_error_t *err;
    /* Intern index: open addressing over pool offsets, load-time only. */
    uint32_t *slots;
    size_t nslots, nused;
} csv_load_t;

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = sn_fnv1a64(SN_FNV64_OFFSET, s, n);
    return h ^ (h >> 29);
}

static sn_status_t pool_reserve(csv_table_t *t, size_t more)
{
    if (t->pool_len + more <= t->pool_cap)
        return SN_OK;
    size_t cap = t->pool_cap ? t->pool_cap : 4096;
    while (cap < t->pool_len + more)
        cap *= 2;
    char *p = realloc(t->pool, cap);
    if (p == NULL)
        return SN_ENOMEM;
    t->pool = p;
    t->pool_cap = cap;
    return SN_OK;
}

static sn_status_t intern_grow(csv_load_t *L)
{
    size_t n = L->nslots ? L->nslots * 2 : 1024;
    uint32_t *s = calloc(n, sizeof *s);
    if (s == NULL)
        return SN_ENOMEM;
    for (size_t i = 0; i < L->nslots; i++) {
        uint32_t off = L->slots[i];
        if (off == 0)
            continue;
        const char *str = L->t->pool + off;
        size_t j = hash_bytes(str, strlen(str)) & (n - 1);
        while (s[j] != 0)
            j = (j + 1) & (n - 1);
        s[j] = off;
    }
    free(L->slots);
    L->slots = s;
    L->nslots = n;
    return SN_OK;
}

/* Returns the pool offset of the cleaned name, adding it once; 0 for "". */
static sn_status_t intern(csv_load_t *L, const char *raw, size_t rawlen, uint32_t *off)
{
    char clean[SN_GEO_ORG_MAX];
    copy_org(clean, sizeof clean, raw, rawlen);
    size_t len = strlen(clean);
    if (len == 0) {
        *off = 0;
        return SN_OK;
    }
    if ((L->nused + 1) * 2 > L->nslots && intern_grow(L) != SN_OK)
        return SN_ENOMEM;
    csv_table_t *t = L->t;
    size_t j = hash_bytes(clean, len) & (L->nslots - 1);
    while (L->slots[j] != 0) {
        if (strcmp(t->pool + L->slots[j], clean) == 0) {
            *off = L->slots[j];
            return SN_OK;
        }
        j = (j + 1) & (L->nslots - 1);
    }
    if (t->pool_len + len + 1 > UINT32_MAX)
        return SN_ELIMIT;
    if (pool_reserve(t, len + 1) != SN_OK)
        return SN_ENOMEM;
    *off = (uint32_t)t->pool_len;
    memcpy(t->pool + t->pool_len, clean, len + 1);
    t->pool_len += len + 1;
    L->slots[j] = *off;
    L->nused++;
    return SN_OK;
}

/*
 * Parses one range end: an IPv4 or IPv6 literal (via inet_pton), or a plain
 * decimal integer of up to 39 digits. *fam gets 4, 6, or 0 for a number whose
 * family the caller decides.
 */
static bool parse_end(const char *s, size_t len, int *fam, u128_t *v)
{
    if (len == 0)
        return false;
    if (memchr(s, ':', len) != NULL || memchr(s, '.', len) != NULL) {
        sn_addr_t a;
        if (sn_addr_parse_ip(s, len, &a) != SN_OK)
            return false;
        if (a.family == AF_INET) {
            *fam = 4;
            v->hi = 0;
            v->lo = sn_addr_v4(&a);
        } else {
            *fam = 6;
            v->hi = v->lo = 0;
            for (int i = 0; i < 8; i++) {
                v->hi = (v->hi << 8) | a.ip[i];
                v->lo = (v->lo << 8) | a.ip[8 + i];
            }
        }
        return true;
    }
    if (!sn_decimal_u128(s, len, &v->hi, &v->lo))
        return false;
    *fam = 0;
    return true;
}

static int u128_cmp(u128_t a, u128_t b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

static sn_status_t load_fail(csv_load_t *L, sn_status_t st, const char *why)
{
    if (L->st == SN_OK) {
        if (st == SN_ENOMEM)
            sn_error_set(L->err, st, "%s: out of memory", L->name);
        else
            sn_error_set(L->err, st, "%s:%lu: %s", L->name, L->row, why);
        L->st = st;
    }
    return st;
}

static bool field_is(const csv_load_t *L, int i, const char *word)
{
    return L->flen[i] == strlen(word) && strncasecmp(L->field[i], word, L->flen[i]) == 0;
}

static void take_row(csv_load_t *L)
{
    if (L->ncols == 0) {
        if (L->col == 0)
            return;
        /* ip-location-db files carry no header, but a hand-made one is harmless. */
        if (field_is(L, 0, "ip_range_start")) {
            L->ncols = L->col;
            return;
        }
        L->ncols = L->col;
    }
    if (L->kind == KIND_NONE) {
        if (L->ncols == 3)
            L->kind = KIND_COUNTRY;
        else if (L->ncols == 4)
            L->kind = KIND_ASN;
        else if (L->ncols >= 5)
            L->kind = KIND_CITY;
        else {
            load_fail(L, SN_EPARSE, "expected 3 (country), 4 (ASN) or more (city) columns");
            return;
        }
    }
    if (L->col != L->ncols) {
        char why[96];
        snprintf(why, sizeof why, "%zu columns where the first row has %zu", L->col, L->ncols);
        load_fail(L, SN_EPARSE, why);
        return;
    }
    for (int i = 0; i < 3; i++) {
        if (L->ftrunc[i]) {
            load_fail(L, SN_EPARSE, "field too long");
            return;
        }
    }

    int f1, f2;
    u128_t lo, hi;
    if (!parse_end(L->field[0], L->flen[0], &f1, &lo) ||
        !parse_end(L->field[1], L->flen[1], &f2, &hi)) {
        load_fail(L, SN_EPARSE, "range start or end is not an IP address or a decimal number");
        return;
    }
    if (f1 == 0 && f2 == 0) {
        /* "-num" files: the file name says the family, else the magnitude does. */
        bool big = lo.hi != 0 || lo.lo > UINT32_MAX || hi.hi != 0 || hi.lo > UINT32_MAX;
        if (L->family_hint == 4 && big) {
            load_fail(L, SN_EPARSE, "number too large for an IPv4 address");
            return;
        }
        f1 = f2 = (L->family_hint == 6 || big) ? 6 : 4;
    }
    if (f1 != f2) {
        load_fail(L, SN_EPARSE, "range start and end are of different kinds");
        return;
    }
    if (u128_cmp(lo, hi) > 0) {
        load_fail(L, SN_EPARSE, "range start is above its end");
        return;
    }

    char cc[3] = "";
    uint32_t asn = 0, org = 0;
    if (L->kind == KIND_ASN) {
        u128_t a;
        int fa;
        if (L->flen[2] == 0)
            return; /* a range without an AS says nothing */
        if (!parse_end(L->field[2], L->flen[2], &fa, &a) || fa != 0 || a.hi != 0 ||
            a.lo > UINT32_MAX) {
            load_fail(L, SN_EPARSE, "autonomous_system_number is not a 32-bit decimal number");
            return;
        }
        asn = (uint32_t)a.lo;
        sn_status_t st = intern(L, L->field[3], L->flen[3], &org);
        if (st != SN_OK) {
            load_fail(L, st, "too much organisation text");
            return;
        }
    } else {
        if (L->flen[2] == 0)
            return;
        if (!sn_country_code(L->field[2], L->flen[2], cc)) {
            load_fail(L, SN_EPARSE, "country_code is not two letters");
            return;
        }
    }

    csv_table_t *t = L->t;
    if (t->n4 + t->n6 >= MAX_RANGES) {
        load_fail(L, SN_ELIMIT, "too many ranges");
        return;
    }
    if (f1 == 4) {
        if (t->n4 == t->cap4) {
            size_t cap = t->cap4 ? t->cap4 * 2 : 1024;
            v4_range_t *p = realloc(t->v4, cap * sizeof *p);
            if (p == NULL) {
                load_fail(L, SN_ENOMEM, "");
                return;
            }
            t->v4 = p;
            t->cap4 = cap;
        }
        v4_range_t *r = &t->v4[t->n4++];
        r->lo = (uint32_t)lo.lo;
        r->hi = (uint32_t)hi.lo;
        r->asn = asn;
        r->org = org;
        memcpy(r->cc, cc, 2);
    } else {
        if (t->n6 == t->cap6) {
            size_t cap = t->cap6 ? t->cap6 * 2 : 1024;
            v6_range_t *p = realloc(t->v6, cap * sizeof *p);
            if (p == NULL) {
                load_fail(L, SN_ENOMEM, "");
                return;
            }
            t->v6 = p;
            t->cap6 = cap;
        }
        v6_range_t *r = &t->v6[t->n6++];
        r->lo = lo;
        r->hi = hi;
        r->asn = asn;
        r->org = org;
        memcpy(r->cc, cc, 2);
    }
}

static void on_field(void *s, size_t len, void *data)
{
    csv_load_t *L = data;
    if (L->st != SN_OK)
        return;
    if (L->col < 4) {
        size_t n = len > FIELD_MAX ? FIELD_MAX : len;
        if (n > 0)
            memcpy(L->field[L->col], s, n);
        L->field[L->col][n] = '\0';
        L->flen[L->col] = n;
        L->ftrunc[L->col] = len > FIELD_MAX;
    }
    if (L->col < SIZE_MAX)
        L->col++;
}

static void on_row(int c, void *data)
{
    (void)c;
    csv_load_t *L = data;
    if (L->st != SN_OK)
        return;
    L->row++;
    take_row(L);
    L->col = 0;
}

static int cmp_v4(const void *a, const void *b)
{
    const v4_range_t *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    /* Same start: the wider range first, so that it keeps the shared addresses. */
    if (x->hi != y->hi)
        return x->hi > y->hi ? -1 : 1;
    return 0;
}

static int cmp_v6(const void *a, const void *b)
{
    const v6_range_t *x = a, *y = b;
    int c = u128_cmp(x->lo, y->lo);
    if (c != 0)
        return c;
    return -u128_cmp(x->hi, y->hi);
}

static u128_t u128_inc(u128_t v)
{
    v.lo++;
    if (v.lo == 0)
        v.hi++;
    return v;
}

/*
 * Sorts by start and removes overlaps so that bisection finds at most one
 * range per address: the range that starts lower keeps what it covers, a
 * later one is cut to begin after it or dropped when wholly inside.
 * ip-location-db files are sorted already (qsort is skipped) but are known to
 * contain a few overlaps.
 */
static void normalise(csv_table_t *t)
{
    bool sorted = true;
    for (size_t i = 1; i < t->n4 && sorted; i++)
        sorted = cmp_v4(&t->v4[i - 1], &t->v4[i]) <= 0;
    if (!sorted)
        qsort(t->v4, t->n4, sizeof *t->v4, cmp_v4);
    size_t k = 0;
    for (size_t i = 0; i < t->n4; i++) {
        v4_range_t r = t->v4[i];
        if (k > 0 && r.lo <= t->v4[k - 1].hi) {
            if (r.hi <= t->v4[k - 1].hi)
                continue;
            r.lo = t->v4[k - 1].hi + 1;
        }
        t->v4[k++] = r;
    }
    t->n4 = k;

    sorted = true;
    for (size_t i = 1; i < t->n6 && sorted; i++)
        sorted = cmp_v6(&t->v6[i - 1], &t->v6[i]) <= 0;
    if (!sorted)
        qsort(t->v6, t->n6, sizeof *t->v6, cmp_v6);
    k = 0;
    for (size_t i = 0; i < t->n6; i++) {
        v6_range_t r = t->v6[i];
        if (k > 0 && u128_cmp(r.lo, t->v6[k - 1].hi) <= 0) {
            if (u128_cmp(r.hi, t->v6[k - 1].hi) <= 0)
                continue;
            r.lo = u128_inc(t->v6[k - 1].hi);
        }
        t->v6[k++] = r;
    }
    t->n6 = k;
}

/* idx[p] = number of ranges whose start is below prefix p (p = 0..65536). */
static sn_status_t build_index(csv_table_t *t)
{
    t->idx4 = malloc(INDEX_SIZE * sizeof *t->idx4);
    t->idx6 = malloc(INDEX_SIZE * sizeof *t->idx6);
    if (t->idx4 == NULL || t->idx6 == NULL)
        return SN_ENOMEM;
    size_t k = 0;
    for (uint32_t p = 0; p < INDEX_SIZE; p++) {
        while (k < t->n4 && (t->v4[k].lo >> 16) < p)
            k++;
        t->idx4[p] = (uint32_t)k;
    }
    k = 0;
    for (uint32_t p = 0; p < INDEX_SIZE; p++) {
        while (k < t->n6 && (t->v6[k].lo.hi >> 48) < p)
            k++;
        t->idx6[p] = (uint32_t)k;
    }
    return SN_OK;
}

static int family_hint_of(const char *name)
{
    const char *b = base_name(name);
    if (strcasestr(b, "ipv6") != NULL)
        return 6;
    if (strcasestr(b, "ipv4") != NULL)
        return 4;
    return 0;
}

static sn_status_t csv_begin(csv_load_t *L, struct csv_parser *p, geo_db_t **dbp, const char *name,
                             sn_error_t *err)
{
    memset(L, 0, sizeof *L);
    geo_db_t *db = calloc(1, sizeof *db);
    if (db == NULL)
        return sn_error_set(err, SN_ENOMEM, "%s: out of memory", name);
    L->t = &db->csv;
    L->name = name;
    L->family_hint = family_hint_of(name);
    L->err = err;
    /* Offset 0 of the pool is the empty name. */
    if (pool_reserve(&db->csv, 1) != SN_OK || csv_init(p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        db_free(db);
        return sn_error_set(err, SN_ENOMEM, "%s: out of memory", name);
    }
    db->csv.pool[0] = '\0';
    db->csv.pool_len = 1;
    *dbp = db;
    return SN_OK;
}

static void csv_parse_error(csv_load_t *L, struct csv_parser *p)
{
    int e = csv_error(p);
    if (e == CSV_ENOMEM)
        load_fail(L, SN_ENOMEM, "");
    else {
        /* The row being parsed is the one after the last complete one. */
        L->row++;
        load_fail(L, SN_EPARSE, csv_strerror(e));
    }
}

/* Finishes a load: flushes the parser, checks, sorts, and appends the table. */
static sn_status_t csv_end(sn_geo_t *geo, csv_load_t *L, struct csv_parser *p, geo_db_t *db)
{
    if (L->st == SN_OK && csv_fini(p, on_field, on_row, L) != 0)
        csv_parse_error(L, p);
    csv_free(p);
    free(L->slots);
    L->slots = NULL;
    if (L->st == SN_OK && db->csv.n4 + db->csv.n6 == 0)
        sn_error_set(L->err, L->st = SN_EPARSE, "%s: no ranges", L->name);
    if (L->st != SN_OK) {
        db_free(db);
        return L->st;
    }
    normalise(&db->csv);
    if (build_index(&db->csv) != SN_OK) {
        db_free(db);
        return sn_error_set(L->err, SN_ENOMEM, "%s: out of memory", L->name);
    }
    db->fields = L->kind == KIND_ASN ? HAS_ASN : HAS_COUNTRY;
    /* Give back the growth slack; a table is kept for the whole run. */
    if (db->csv.n4 > 0) {
        v4_range_t *p4 = realloc(db->csv.v4, db->csv.n4 * sizeof *p4);
        if (p4 != NULL)
            db->csv.v4 = p4;
    }
    if (db->csv.n6 > 0) {
        v6_range_t *p6 = realloc(db->csv.v6, db->csv.n6 * sizeof *p6);
        if (p6 != NULL)
            db->csv.v6 = p6;
    }
    static const char *const kinds[] = {"", "country", "asn", "city"};
    char src[512];
    snprintf(src, sizeof src, "%s (ip-location-db %s CSV, %zu ranges)", base_name(L->name),
             kinds[L->kind], db->csv.n4 + db->csv.n6);
    db->source = strdup(src);
    sn_status_t st = db->source != NULL ? append_db(geo, db) : SN_ENOMEM;
    if (st != SN_OK) {
        db_free(db);
        return sn_error_set(L->err, st, "%s: out of memory", L->name);
    }
    return SN_OK;
}

sn_status_t sn_geo_add_csv_mem(sn_geo_t *geo, const char *name, const void *data, size_t len,
                               sn_error_t *err)
{
    if (geo == NULL || (data == NULL && len > 0))
        return sn_error_set(err, SN_EINVAL, "no table given");
    if (name == NULL)
        name = "(memory)";
    csv_load_t *L = malloc(sizeof *L);
    if (L == NULL)
        return sn_error_set(err, SN_ENOMEM, "%s: out of memory", name);
    struct csv_parser p;
    geo_db_t *db;
    sn_status_t st = csv_begin(L, &p, &db, name, err);
    if (st == SN_OK) {
        if (len > 0 && sn_csv_parse(&p, data, len, on_field, on_row, L) != len && L->st == SN_OK)
            csv_parse_error(L, &p);
        st = csv_end(geo, L, &p, db);
    }
    free(L);
    return st;
}

sn_status_t sn_geo_add_csv(sn_geo_t *geo, const char *path, sn_error_t *err)
{
    if (geo == NULL || path == NULL)
        return sn_error_set(err, SN_EINVAL, "no table path given");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sn_error_set(err, SN_EIO, "%s: cannot open: %s", path, strerror(errno));
    csv_load_t *L = malloc(sizeof *L);
    char *buf = malloc(1 << 16);
    if (L == NULL || buf == NULL) {
        free(L);
        free(buf);
        fclose(f);
        return sn_error_set(err, SN_ENOMEM, "%s: out of memory", path);
    }
    struct csv_parser p;
    geo_db_t *db;
    sn_status_t st = csv_begin(L, &p, &db, path, err);
    if (st == SN_OK) {
        size_t n;
        while (L->st == SN_OK && (n = fread(buf, 1, 1 << 16, f)) > 0) {
            if (sn_csv_parse(&p, buf, n, on_field, on_row, L) != n && L->st == SN_OK)
                csv_parse_error(L, &p);
        }
        if (L->st == SN_OK && ferror(f)) {
            sn_error_set(err, SN_EIO, "%s: read failed: %s", path, strerror(errno));
            L->st = SN_EIO;
        }
        st = csv_end(geo, L, &p, db);
    }
    free(L);
    free(buf);
    fclose(f);
    return st;
}

sn_status_t sn_geo_add_file(sn_geo_t *geo, const char *path, sn_error_t *err)
{
    if (path == NULL)
        return sn_error_set(err, SN_EINVAL, "no database path given");
    size_t n = strlen(path);
    if (n >= 4 && strcasecmp(path + n - 4, ".csv") == 0)
        return sn_geo_add_csv(geo, path, err);
    return sn_geo_add_mmdb(geo, path, err);
}

/* ---- CSV range tables: lookup ------------------------------------------ */

/*
 * The range holding ip is the last one starting at or below it. Ranges that
 * start in ip's /16 bucket are [idx[p], idx[p+1]); if none of them starts at
 * or below ip, the candidate is the last range of an earlier bucket, which
 * sits at idx[p] - 1.
 */
static const v4_range_t *find_v4(const csv_table_t *t, uint32_t ip)
{
    uint32_t p = ip >> 16;
    size_t lo = t->idx4[p], hi = t->idx4[p + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v4[mid].lo <= ip)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || ip > t->v4[lo - 1].hi)
        return NULL;
    return &t->v4[lo - 1];
}

static const v6_range_t *find_v6(const csv_table_t *t, u128_t ip)
{
    uint32_t p = (uint32_t)(ip.hi >> 48);
    size_t lo = t->idx6[p], hi = t->idx6[p + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u128_cmp(t->v6[mid].lo, ip) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || u128_cmp(ip, t->v6[lo - 1].hi) > 0)
        return NULL;
    return &t->v6[lo - 1];
}

static void csv_lookup(const geo_db_t *db, bool v4, uint32_t ip4, u128_t ip6, bool *need_country,
                       bool *need_as, sn_geo_info_t *out)
{
    const csv_table_t *t = &db->csv;
    const char *cc;
    uint32_t asn, org;
    if (v4) {
        const v4_range_t *r = find_v4(t, ip4);
        if (r == NULL)
            return;
        cc = r->cc;
        asn = r->asn;
        org = r->org;
    } else {
        const v6_range_t *r = find_v6(t, ip6);
        if (r == NULL)
            return;
        cc = r->cc;
        asn = r->asn;
        org = r->org;
    }
    if (*need_country && (db->fields & HAS_COUNTRY) && sn_country_code(cc, 2, out->country)) {
        *need_country = false;
        out->source = db->source;
    }
    if (*need_as && (db->fields & HAS_ASN) && asn != 0) {
        *need_as = false;
        out->asn = asn;
        out->as_source = db->source;
        const char *s = t->pool + org;
        copy_org(out->as_org, sizeof out->as_org, s, strlen(s));
    }
}

/* ---- lookup ------------------------------------------------------------ */

void sn_geo_lookup(const sn_geo_t *geo, const sn_addr_t *addr, sn_geo_info_t *out)
{
    if (out == NULL)
        return;
    info_clear(out);
    if (geo == NULL || addr == NULL || geo->n == 0)
        return;

    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    const uint8_t *ip = addr->ip;
    bool v4;
    if (addr->family == AF_INET)
        v4 = true;
    else if (addr->family == AF_INET6) {
        v4 = memcmp(ip, mapped, sizeof mapped) == 0;
        if (v4)
            ip += 12;
    } else
        return;

    uint32_t ip4 = 0;
    u128_t ip6 = {0, 0};
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    if (v4) {
        ip4 = (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | (uint32_t)ip[2] << 8 | ip[3];
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, ip, 4);
        sa = (const struct sockaddr *)&sin;
    } else {
        for (int i = 0; i < 8; i++) {
            ip6.hi = (ip6.hi << 8) | ip[i];
            ip6.lo = (ip6.lo << 8) | ip[8 + i];
        }
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, ip, 16);
        sa = (const struct sockaddr *)&sin6;
    }

    bool need_country = true, need_as = true;
    for (size_t i = 0; i < geo->n && (need_country || need_as); i++) {
        const geo_db_t *db = geo->dbs[i];
        unsigned want = (need_country ? HAS_COUNTRY : 0) | (need_as ? HAS_ASN : 0);
        if ((db->fields & want) == 0)
            continue;
        if (db->is_mmdb)
            mmdb_lookup(db, sa, &need_country, &need_as, out);
        else
            csv_lookup(db, v4, ip4, ip6, &need_country, &need_as, out);
    }
    if (out->country[0] != '\0' && out->continent[0] == '\0') {
        const char *c = sn_continent_of(out->country);
        if (c != NULL) {
            memcpy(out->continent, c, 3);
            out->continent_from_table = true;
        }
    }
}

/* ---- discovery --------------------------------------------------------- */

enum { ROLE_COUNTRY, ROLE_ASN };

/*
 * Well-known file names per role, best first. A group is one database split
 * by family; a name with '*' picks the greatest matching name in the
 * directory, which for DB-IP's dated names ("-2024-05") is the newest.
 */
typedef struct default_group {
    int role;
    const char *files[2];
} default_group_t;

static const default_group_t DEFAULTS[] = {
    /* MaxMind, commercial and GeoLite2, as geoipupdate names them. */
    {ROLE_COUNTRY, {"GeoIP2-Country.mmdb", NULL}},
    {ROLE_COUNTRY, {"GeoLite2-Country.mmdb", NULL}},
    {ROLE_COUNTRY, {"GeoIP2-City.mmdb", NULL}},
    {ROLE_COUNTRY, {"GeoLite2-City.mmdb", NULL}},
    /* DB-IP Lite through ip-location-db (scripts/fetch-geo-data.sh), then DB-IP's own names. */
    {ROLE_COUNTRY, {"dbip-country.mmdb", NULL}},
    {ROLE_COUNTRY, {"dbip-country-ipv4.mmdb", "dbip-country-ipv6.mmdb"}},
    {ROLE_COUNTRY, {"dbip-country-lite-*.mmdb", NULL}},
    {ROLE_COUNTRY, {"dbip-country-ipv4.csv", "dbip-country-ipv6.csv"}},
    {ROLE_COUNTRY, {"dbip-country-ipv4-num.csv", "dbip-country-ipv6-num.csv"}},
    {ROLE_ASN, {"GeoLite2-ASN.mmdb", NULL}},
    {ROLE_ASN, {"GeoIP2-ISP.mmdb", NULL}},
    {ROLE_ASN, {"asn.mmdb", NULL}},
    {ROLE_ASN, {"asn-ipv4.mmdb", "asn-ipv6.mmdb"}},
    {ROLE_ASN, {"dbip-asn-lite-*.mmdb", NULL}},
    {ROLE_ASN, {"asn-ipv4.csv", "asn-ipv6.csv"}},
    {ROLE_ASN, {"asn-ipv4-num.csv", "asn-ipv6-num.csv"}},
};

const char *const *sn_geo_default_dirs(void)
{
    /* The data directory is read at each call, so an override set later counts. */
    static char data_geo[4096];
    static const char *dirs[] = {"/usr/share/GeoIP", "/var/lib/GeoIP", data_geo, NULL};
    snprintf(data_geo, sizeof data_geo, "%s/geo", sn_data_dir());
    return dirs;
}

static bool is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Resolves one name in dir to a readable path in out; false when absent. */
static bool resolve(const char *dir, const char *name, char *out, size_t cap)
{
    if (strchr(name, '*') == NULL) {
        int n = snprintf(out, cap, "%s/%s", dir, name);
        return n > 0 && (size_t)n < cap && is_regular(out);
    }
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    char best[256] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (fnmatch(name, e->d_name, 0) == 0 && strlen(e->d_name) < sizeof best &&
            strcmp(e->d_name, best) > 0) {
            int n = snprintf(out, cap, "%s/%s", dir, e->d_name);
            if (n > 0 && (size_t)n < cap && is_regular(out))
                strcpy(best, e->d_name);
        }
    }
    closedir(d);
    if (best[0] == '\0')
        return false;
    int n = snprintf(out, cap, "%s/%s", dir, best);
    return n > 0 && (size_t)n < cap;
}

sn_status_t sn_geo_add_defaults(sn_geo_t *geo, const char *const *dirs, size_t *added,
                                sn_error_t *err)
{
    if (added != NULL)
        *added = 0;
    if (geo == NULL)
        return sn_error_set(err, SN_EINVAL, "no geo context");
    if (dirs == NULL)
        dirs = sn_geo_default_dirs();
    static const int roles[] = {ROLE_COUNTRY, ROLE_ASN};
    for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++) {
        bool done = false;
        for (size_t d = 0; dirs[d] != NULL && !done; d++) {
            for (size_t g = 0; g < sizeof DEFAULTS / sizeof DEFAULTS[0] && !done; g++) {
                if (DEFAULTS[g].role != roles[r])
                    continue;
                for (int k = 0; k < 2 && DEFAULTS[g].files[k] != NULL; k++) {
                    char path[4096];
                    if (!resolve(dirs[d], DEFAULTS[g].files[k], path, sizeof path))
                        continue;
                    sn_status_t st = sn_geo_add_file(geo, path, err);
                    if (st != SN_OK)
                        return st;
                    if (added != NULL)
                        (*added)++;
                    done = true;
                }
            }
        }
    }
    return SN_OK;
}
