/*
 * Results read back (see resultsin.h). Two front ends, one back end: the CSV
 * front end (libcsv, strict mode, fed one physical line at a time so that
 * every record knows its first line) and the NDJSON front end (one JSON
 * object of scalars per line, its tokens read by the one strict JSON reader,
 * lib/json.h) both fill the same array of cells, one per known column, and
 * build_row turns the cells into an sn_result_t with the same checks
 * whichever format they came in.
 *
 * The input is streamed through a line reader with a fixed ceiling (1 MiB a
 * line, 1 MiB a CSV record, 64 KiB a cell), so memory stays bounded whatever
 * the file holds. Cells live in one growable buffer per row.
 */
#include "reports/resultsin.h"

#include "data/csvgrow.h"
#include "data/geo.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reports/output.h"
#include "lib/decimal.h"
#include "lib/json.h"
#include "lib/text.h"

#define LINE_MAX_BYTES (1u << 20)
#define RECORD_MAX_BYTES (1u << 20)
#define CELL_MAX (64u * 1024u)

/*
 * The columns are the one table's (reports/fields.c): a header or a key is
 * looked up there, and a cell is stored at its column's index in the table,
 * SN_COL_* for the common ones and from SN_COL_CORE on for the fields probes
 * declare. The names and types are declared there only.
 */
#define NCOLS SN_FIELDS_MAX

/* A probe named in a file that this build does not have: the row still counts. */
static const sn_probe_t other_udp = {.name = "other", .transport = SN_TRANSPORT_UDP};
static const sn_probe_t other_tcp = {.name = "other", .transport = SN_TRANSPORT_TCP};

bool sn_resultsin_knows(const char *name, int *type)
{
    for (size_t i = 0; i < sn_field_count; i++) {
        if (name != NULL && strcmp(sn_fields[i].name, name) == 0) {
            if (type != NULL)
                *type = (int)sn_fields[i].type;
            return true;
        }
    }
    return false;
}

static int col_by_name(const char *s, size_t n, bool icase)
{
    for (size_t i = 0; i < sn_field_count; i++) {
        if (strlen(sn_fields[i].name) != n)
            continue;
        if (icase ? strncasecmp(sn_fields[i].name, s, n) == 0
                  : memcmp(sn_fields[i].name, s, n) == 0)
            return (int)i;
    }
    return -1;
}

/* ---- the reader state ---------------------------------------------------- */

typedef struct reader {
    const char *name;
    sn_resultsin_fn fn;
    void *ud;
    sn_error_t *err;
    sn_status_t status;
    uint64_t rows;

    /* the current row's cells: offsets into buf, -1 when absent */
    long cell[NCOLS];
    char *buf;
    size_t len, cap;
    unsigned long line;     /* physical line being read */
    unsigned long rec_line; /* first line of the current record */

    /* CSV */
    bool have_header;
    int *hdr; /* column of each CSV field position, -1 ignored */
    size_t n_hdr, cap_hdr;
    size_t nfield;
    bool rec_started;
    size_t rec_bytes;
} reader_t;

static sn_status_t fail(reader_t *r, sn_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sn_status_t fail(reader_t *r, sn_status_t st, const char *fmt, ...)
{
    if (r->status != SN_OK)
        return r->status;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->status = sn_error_set(r->err, st, "%s:%lu: %s", r->name,
                             r->rec_line != 0 ? r->rec_line : r->line, msg);
    return r->status;
}

static sn_status_t bad_cell(reader_t *r, int col, const char *why, const char *value)
{
    char q[4 * SN_QUOTE_MAX + 16];
    sn_text_quote(q, sizeof q, value, strlen(value));
    return fail(r, SN_EPARSE, "column %s: %s (\"%s\")", sn_fields[col].name, why, q);
}

static void row_reset(reader_t *r)
{
    for (size_t i = 0; i < NCOLS; i++)
        r->cell[i] = -1;
    r->len = 0;
}

/* Stores a cell's text (n bytes, NUL added) for column col. */
static sn_status_t put_cell(reader_t *r, int col, const char *s, size_t n)
{
    if (n > CELL_MAX)
        return fail(r, SN_ELIMIT, "column %s: value longer than %u bytes", sn_fields[col].name,
                    CELL_MAX);
    if (memchr(s, '\0', n) != NULL)
        return fail(r, SN_EPARSE, "column %s: a NUL byte in the value", sn_fields[col].name);
    if (r->cell[col] >= 0)
        return fail(r, SN_EPARSE, "column %s appears twice", sn_fields[col].name);
    if (r->cap - r->len < n + 1) {
        size_t nc = r->cap ? r->cap : 1024;
        while (nc - r->len < n + 1)
            nc *= 2;
        char *nb = realloc(r->buf, nc);
        if (nb == NULL)
            return fail(r, SN_ENOMEM, "out of memory");
        r->buf = nb;
        r->cap = nc;
    }
    memcpy(r->buf + r->len, s, n);
    r->buf[r->len + n] = '\0';
    r->cell[col] = (long)r->len;
    r->len += n + 1;
    return SN_OK;
}

static const char *cell(const reader_t *r, int col)
{
    return r->cell[col] >= 0 ? r->buf + r->cell[col] : "";
}

/* ---- cell values --------------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    return sn_decimal_u64(s, strlen(s), max, out);
}

static bool parse_i64(const char *s, int64_t *out)
{
    uint64_t v;
    if (s[0] == '-') {
        if (!parse_u64(s + 1, (uint64_t)INT64_MAX + 1u, &v))
            return false;
        *out = v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;
        return true;
    }
    if (!parse_u64(s, INT64_MAX, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

/* An optional unsigned column: empty gives dflt. */
static sn_status_t num_cell(reader_t *r, int col, uint64_t max, uint64_t dflt, uint64_t *out)
{
    const char *v = cell(r, col);
    *out = dflt;
    if (v[0] == '\0')
        return SN_OK;
    if (!parse_u64(v, max, out))
        return bad_cell(r, col, "not a decimal number in range", v);
    return SN_OK;
}

/* An optional bool column: -1 empty, 0, 1. */
static sn_status_t bool_cell(reader_t *r, int col, int *out)
{
    const char *v = cell(r, col);
    if (v[0] == '\0')
        *out = -1;
    else if (strcmp(v, "1") == 0)
        *out = 1;
    else if (strcmp(v, "0") == 0)
        *out = 0;
    else
        return bad_cell(r, col, "not 1 or 0", v);
    return SN_OK;
}

static sn_status_t outcome_cell(reader_t *r, int col, uint8_t *out)
{
    const char *v = cell(r, col);
    *out = SN_OUTCOME_NONE;
    if (v[0] == '\0')
        return SN_OK;
    for (int o = SN_OUTCOME_ALIVE; o <= SN_OUTCOME_INCOMPLETE; o++) {
        if (strcmp(v, sn_outcome_name((sn_outcome_t)o)) == 0) {
            *out = (uint8_t)o;
            return SN_OK;
        }
    }
    return bad_cell(r, col, "not alive, closed, unreachable, filtered, error or incomplete", v);
}

/* "ip", "ip:port" or "[ip]:port". */
static sn_status_t addr_cell(reader_t *r, int col, bool need_port, sn_addr_t *out)
{
    const char *v = cell(r, col);
    memset(out, 0, sizeof *out);
    if (v[0] == '\0')
        return SN_OK;
    size_t n = strlen(v);
    const char *why = NULL;
    if (!need_port && sn_addr_parse_ip(v, n, out) == SN_OK)
        return SN_OK;
    if (sn_addr_parse_endpoint(v, n, out, &why) == SN_OK)
        return SN_OK;
    memset(out, 0, sizeof *out);
    return bad_cell(r, col, why != NULL ? why : "not an address", v);
}

static sn_status_t text_cell(reader_t *r, int col, size_t max, const char **out)
{
    const char *v = cell(r, col);
    if (strlen(v) > max) {
        char why[64];
        snprintf(why, sizeof why, "longer than %zu bytes", max);
        return bad_cell(r, col, why, v);
    }
    *out = v;
    return SN_OK;
}

/* Only the canonical form reads back: upper case, as the writer wrote it. */
static bool is_canonical(bool (*code)(const char *, size_t, char[3]), const char *v)
{
    char out[3];
    return code(v, strlen(v), out) && strcmp(out, v) == 0;
}

/* ---- cells to a row ------------------------------------------------------ */

static sn_status_t build_enrichment(reader_t *r, sn_resultsin_row_t *row)
{
    sn_enrichment_t *e = &row->enrich;
    bool any = false;
    for (int c = SN_COL_RDNS; c <= SN_COL_GEO_SOURCE; c++)
        any = any || cell(r, c)[0] != '\0';

    /* Initialised for the optimiser's sake: every path below sets them first. */
    const char *rdns = "", *ptr = "", *org = "", *rule = "", *src = "";
    int ptr_valid = -1, edu = -1;
    uint64_t asn = 0;
    if (text_cell(r, SN_COL_RDNS, 31, &rdns) ||
        text_cell(r, SN_COL_PTR, SN_PTR_TEXT_MAX - 1, &ptr) ||
        bool_cell(r, SN_COL_PTR_VALID, &ptr_valid) ||
        num_cell(r, SN_COL_ASN, UINT32_MAX, 0, &asn) ||
        text_cell(r, SN_COL_AS_ORG, SN_GEO_ORG_MAX - 1, &org) || bool_cell(r, SN_COL_EDU, &edu) ||
        text_cell(r, SN_COL_DYN_RULE, 255, &rule) || text_cell(r, SN_COL_GEO_SOURCE, 1024, &src))
        return r->status;
    const char *country = cell(r, SN_COL_COUNTRY), *continent = cell(r, SN_COL_CONTINENT);
    if (country[0] != '\0' && !is_canonical(sn_country_code, country))
        return bad_cell(r, SN_COL_COUNTRY, "not a two-letter upper-case country code", country);
    if (continent[0] != '\0' && !is_canonical(sn_continent_code, continent))
        return bad_cell(r, SN_COL_CONTINENT, "not one of AF AN AS EU NA OC SA", continent);
    const char *edu_src = cell(r, SN_COL_EDU_SOURCE);
    if (edu_src[0] != '\0' && strcmp(edu_src, "ptr") != 0 && strcmp(edu_src, "as_org") != 0)
        return bad_cell(r, SN_COL_EDU_SOURCE, "not ptr or as_org", edu_src);
    const char *kind = cell(r, SN_COL_ADDR_KIND);
    sn_dyn_t dyn = SN_DYN_UNKNOWN;
    if (strcmp(kind, "dynamic") == 0)
        dyn = SN_DYN_DYNAMIC;
    else if (strcmp(kind, "static") == 0)
        dyn = SN_DYN_STATIC;
    else if (kind[0] != '\0' && strcmp(kind, "unknown") != 0)
        return bad_cell(r, SN_COL_ADDR_KIND, "not dynamic, static or unknown", kind);
    if (!any)
        return SN_OK;

    e->rdns_status = rdns[0] != '\0' ? rdns : "skipped";
    snprintf(e->ptr, sizeof e->ptr, "%s", ptr);
    e->ptr_valid = ptr_valid == 1;
    memcpy(e->geo.country, country, strlen(country) + 1);
    memcpy(e->geo.continent, continent, strlen(continent) + 1);
    e->geo.asn = (uint32_t)asn;
    snprintf(e->geo.as_org, sizeof e->geo.as_org, "%s", org);
    e->geo.source = src;
    e->geo.as_source = "";
    e->geo_known = country[0] != '\0' || asn != 0 || src[0] != '\0';
    e->class_known = edu != -1;
    e->cls.edu = edu == 1;
    e->cls.edu_source = strcmp(edu_src, "ptr") == 0      ? "ptr"
                        : strcmp(edu_src, "as_org") == 0 ? "as_org"
                                                         : "";
    e->cls.dyn = dyn;
    e->cls.dyn_rule = rule;
    row->result.enrich = e;
    return SN_OK;
}

/*
 * The fields probes declare (columns from SN_COL_CORE on): each value goes to
 * the slot of the row's probe that declares the column, UDP first as the
 * writer looks; a value on a row whose probes do not declare it is an error,
 * as an observed address on a row with no probe is.
 */
static sn_status_t build_probe_fields(reader_t *r, sn_resultsin_row_t *row)
{
    sn_result_t *res = &row->result;
    const sn_probe_result_t *u = &res->udp, *t = &res->tcp;
    for (size_t col = SN_COL_CORE; col < sn_field_count; col++) {
        const sn_field_t *f = &sn_fields[col];
        const char *v = cell(r, (int)col);
        if (v[0] == '\0')
            continue;
        int64_t num;
        int flag;
        if (f->type == SN_FIELD_INT && !parse_i64(v, &num))
            return bad_cell(r, (int)col, "not a decimal integer", v);
        if (f->type == SN_FIELD_BOOL && bool_cell(r, (int)col, &flag) != SN_OK)
            return r->status;
        if (strlen(v) >= SN_FIELD_VALUE_CAP) {
            char why[64];
            snprintf(why, sizeof why, "longer than %d bytes", SN_FIELD_VALUE_CAP - 1);
            return bad_cell(r, (int)col, why, v);
        }
        sn_field_values_t *owner = NULL;
        int slot = -1;
        if (u->outcome != SN_OUTCOME_NONE && (slot = sn_probe_field_index(u->probe, f->name)) >= 0)
            owner = &row->values[0];
        else if (t->outcome != SN_OUTCOME_NONE &&
                 (slot = sn_probe_field_index(t->probe, f->name)) >= 0)
            owner = &row->values[1];
        if (owner == NULL)
            return bad_cell(r, (int)col, "a value on a row whose probes do not declare it", v);
        *(owner == &row->values[0] ? &res->udp_values : &res->tcp_values) = owner;
        memcpy(owner->v[slot], v, strlen(v) + 1);
    }
    return SN_OK;
}

static sn_status_t build_row(reader_t *r)
{
    sn_resultsin_row_t row;
    memset(&row, 0, sizeof row);
    row.path = r->name;
    row.line = r->rec_line;

    const char *a = cell(r, SN_COL_ADDRESS), *p = cell(r, SN_COL_PORT);
    if (a[0] == '\0')
        return fail(r, SN_EPARSE, "column address: missing or empty");
    if (sn_addr_parse_ip(a, strlen(a), &row.target.addr) != SN_OK)
        return bad_cell(r, SN_COL_ADDRESS, "not an IP address", a);
    const char *why = NULL;
    if (p[0] == '\0')
        return fail(r, SN_EPARSE, "column port: missing or empty");
    if (sn_addr_parse_port(p, strlen(p), &row.target.addr.port, &why) != SN_OK)
        return bad_cell(r, SN_COL_PORT, why != NULL ? why : "not a port", p);

    uint64_t seen, urtt, uatt, trtt, tatt, tport;
    int64_t first = 0, last = 0;
    if (num_cell(r, SN_COL_SEEN, UINT32_MAX, 1, &seen) ||
        num_cell(r, SN_COL_UDP_RTT, UINT32_MAX, 0, &urtt) ||
        num_cell(r, SN_COL_UDP_ATTEMPTS, 255, 0, &uatt) ||
        num_cell(r, SN_COL_TCP_RTT, UINT32_MAX, 0, &trtt) ||
        num_cell(r, SN_COL_TCP_ATTEMPTS, 255, 0, &tatt) ||
        num_cell(r, SN_COL_TCP_PORT, 65535, 0, &tport))
        return r->status;
    if (cell(r, SN_COL_TCP_PORT)[0] != '\0' && tport == 0)
        return bad_cell(r, SN_COL_TCP_PORT, "port 0", cell(r, SN_COL_TCP_PORT));
    if (cell(r, SN_COL_FIRST)[0] != '\0' && !parse_i64(cell(r, SN_COL_FIRST), &first))
        return bad_cell(r, SN_COL_FIRST, "not a decimal number of seconds", cell(r, SN_COL_FIRST));
    if (cell(r, SN_COL_LAST)[0] != '\0' && !parse_i64(cell(r, SN_COL_LAST), &last))
        return bad_cell(r, SN_COL_LAST, "not a decimal number of seconds", cell(r, SN_COL_LAST));
    row.target.seen_count = (uint32_t)seen;
    row.target.first_seen = first;
    row.target.last_seen = last;
    row.target.sources = SN_NO_INDEX;
    row.target.flags = SN_NO_INDEX;
    row.result.target = &row.target;

    const char *blocked = cell(r, SN_COL_BLOCKED);
    if (blocked[0] != '\0')
        row.result.blocked = blocked;

    sn_probe_result_t *u = &row.result.udp, *t = &row.result.tcp;
    if (outcome_cell(r, SN_COL_UDP_OUTCOME, &u->outcome) ||
        outcome_cell(r, SN_COL_TCP_OUTCOME, &t->outcome))
        return r->status;
    const char *uname = cell(r, SN_COL_UDP_PROBE);
    if (u->outcome != SN_OUTCOME_NONE) {
        const sn_probe_t *pr = uname[0] != '\0' ? sn_probe_find(uname) : NULL;
        u->probe = pr != NULL && pr->transport == SN_TRANSPORT_UDP ? pr : &other_udp;
        u->rtt_us = (uint32_t)urtt;
        u->attempts = (uint8_t)uatt;
        u->port = row.target.addr.port;
    } else if (uname[0] != '\0') {
        return bad_cell(r, SN_COL_UDP_PROBE, "a UDP probe without a udp_outcome", uname);
    }
    if (t->outcome != SN_OUTCOME_NONE) {
        const sn_probe_t *pr = sn_probe_find("tcp");
        t->probe = pr != NULL ? pr : &other_tcp;
        t->rtt_us = (uint32_t)trtt;
        t->attempts = (uint8_t)tatt;
        t->port = tport != 0 ? (uint16_t)tport : row.target.addr.port;
    }

    /* The writer reports the UDP probe's addresses first, then TCP's. */
    sn_addr_t observed, reply;
    if (addr_cell(r, SN_COL_OBSERVED, false, &observed) ||
        addr_cell(r, SN_COL_REPLY_FROM, true, &reply))
        return r->status;
    sn_probe_result_t *owner = u->outcome != SN_OUTCOME_NONE ? u : t;
    if (observed.family != 0 || reply.family != 0) {
        if (owner->outcome == SN_OUTCOME_NONE)
            return fail(r, SN_EPARSE, "observed_addr or reply_from on a row with no probe");
        owner->observed = observed;
        owner->reply_from = reply;
    }
    if (build_probe_fields(r, &row) != SN_OK)
        return r->status;

    if (text_cell(r, SN_COL_SOURCES, CELL_MAX, &row.sources) ||
        text_cell(r, SN_COL_FLAGS, CELL_MAX, &row.flags) ||
        text_cell(r, SN_COL_VANTAGE, 1024, &row.vantage) || build_enrichment(r, &row) != SN_OK)
        return r->status;

    r->rows++;
    sn_status_t st = r->fn != NULL ? r->fn(r->ud, &row, r->err) : SN_OK;
    if (st != SN_OK && r->status == SN_OK)
        r->status = st;
    return st;
}

/* ---- line source ---------------------------------------------------------- */

typedef struct lines {
    FILE *f; /* NULL: memory */
    const char *mem;
    size_t mem_len, mem_pos;
    char *buf;
    size_t start, end, cap;
    bool eof;
} lines_t;

/*
 * The next line with its newline (the last may lack one) in *s, *n. Returns
 * 1 for a line, 0 at the end, SN_ELIMIT / SN_EIO / SN_ENOMEM.
 */
static int next_line(lines_t *L, const char **s, size_t *n)
{
    if (L->f == NULL) {
        if (L->mem_pos >= L->mem_len)
            return 0;
        const char *p = L->mem + L->mem_pos;
        size_t left = L->mem_len - L->mem_pos;
        const char *nl = memchr(p, '\n', left);
        size_t len = nl != NULL ? (size_t)(nl - p) + 1 : left;
        if (len > LINE_MAX_BYTES)
            return SN_ELIMIT;
        *s = p;
        *n = len;
        L->mem_pos += len;
        return 1;
    }
    for (;;) {
        char *nl = L->end > L->start ? memchr(L->buf + L->start, '\n', L->end - L->start) : NULL;
        if (nl != NULL || (L->eof && L->end > L->start)) {
            size_t len = nl != NULL ? (size_t)(nl - (L->buf + L->start)) + 1 : L->end - L->start;
            if (len > LINE_MAX_BYTES)
                return SN_ELIMIT;
            *s = L->buf + L->start;
            *n = len;
            L->start += len;
            return 1;
        }
        if (L->eof)
            return 0;
        if (L->end - L->start > LINE_MAX_BYTES)
            return SN_ELIMIT;
        if (L->start > 0) {
            memmove(L->buf, L->buf + L->start, L->end - L->start);
            L->end -= L->start;
            L->start = 0;
        }
        if (L->end == L->cap) {
            size_t nc = L->cap ? L->cap * 2 : 65536;
            char *nb = realloc(L->buf, nc);
            if (nb == NULL)
                return SN_ENOMEM;
            L->buf = nb;
            L->cap = nc;
        }
        size_t got = fread(L->buf + L->end, 1, L->cap - L->end, L->f);
        L->end += got;
        if (got == 0) {
            if (ferror(L->f))
                return SN_EIO;
            L->eof = true;
        }
    }
}

/* ---- CSV ------------------------------------------------------------------ */

static void csv_on_field(void *s, size_t n, void *ud)
{
    reader_t *r = ud;
    if (r->status != SN_OK)
        return;
    if (!r->rec_started) {
        r->rec_started = true;
        r->rec_line = r->line;
        r->nfield = 0;
        row_reset(r);
    }
    size_t i = r->nfield++;
    if (!r->have_header) {
        if (r->n_hdr == r->cap_hdr) {
            size_t nc = r->cap_hdr ? r->cap_hdr * 2 : 64;
            if (nc > 4096) {
                fail(r, SN_ELIMIT, "more than 4096 columns in the header");
                return;
            }
            int *nh = realloc(r->hdr, nc * sizeof *nh);
            if (nh == NULL) {
                fail(r, SN_ENOMEM, "out of memory");
                return;
            }
            r->hdr = nh;
            r->cap_hdr = nc;
        }
        int col = col_by_name(s, n, true);
        for (size_t k = 0; k < r->n_hdr && col >= 0; k++)
            if (r->hdr[k] == col)
                fail(r, SN_EPARSE, "column %s appears twice in the header", sn_fields[col].name);
        r->hdr[r->n_hdr++] = col;
        return;
    }
    if (i >= r->n_hdr) {
        fail(r, SN_EPARSE, "more fields than the header's %zu", r->n_hdr);
        return;
    }
    if (r->hdr[i] < 0)
        return;
    /* Undo the writer's formula neutralising (output.c): text cells only, CSV only. */
    int col = r->hdr[i];
    const char *v = s != NULL ? s : "";
    if (sn_fields[col].type == SN_FIELD_STR) {
        size_t k = col == SN_COL_PTR ? sn_ptr_formula_prefix(v, n) : sn_csv_formula_prefix(v, n);
        v += k;
        n -= k;
    }
    put_cell(r, col, v, n);
}

static void csv_on_record(int c, void *ud)
{
    reader_t *r = ud;
    (void)c;
    if (r->status != SN_OK)
        return;
    if (!r->rec_started) { /* libcsv reports an empty line only with CSV_REPALL_NL */
        return;
    }
    r->rec_started = false;
    r->rec_bytes = 0;
    if (!r->have_header) {
        r->have_header = true;
        bool addr = false, port = false;
        for (size_t k = 0; k < r->n_hdr; k++) {
            addr = addr || r->hdr[k] == SN_COL_ADDRESS;
            port = port || r->hdr[k] == SN_COL_PORT;
        }
        if (!addr || !port)
            fail(r, SN_EPARSE, "the header has no %s column (is this a results file?)",
                 addr ? "port" : "address");
        r->rec_line = 0;
        return;
    }
    if (r->nfield != r->n_hdr) {
        fail(r, SN_EPARSE, "%zu fields, the header has %zu", r->nfield, r->n_hdr);
        return;
    }
    build_row(r);
    r->rec_line = 0;
}

/* One physical line of CSV. */
static void csv_line(reader_t *r, struct csv_parser *p, const char *s, size_t n)
{
    r->rec_bytes += n;
    if (r->rec_bytes > RECORD_MAX_BYTES) {
        fail(r, SN_ELIMIT, "a record longer than %u bytes", RECORD_MAX_BYTES);
        return;
    }
    if (sn_csv_parse(p, s, n, csv_on_field, csv_on_record, r) != n && r->status == SN_OK) {
        int e = csv_error(p);
        fail(r, e == CSV_ENOMEM ? SN_ENOMEM : SN_EPARSE, "CSV error: %s", csv_strerror(e));
    }
}

/* ---- NDJSON --------------------------------------------------------------- */

/* A failure of the line's shape, at the JSON reader's cursor. */
static sn_status_t jfail(reader_t *r, const sn_json_t *j, const char *what)
{
    return fail(r, SN_EPARSE, "%s (column %lu)", what, sn_json_column(j));
}

/* The JSON reader's last failure: why and where. */
static sn_status_t jfail_read(reader_t *r, const sn_json_t *j)
{
    return fail(r, SN_EPARSE, "%s (column %lu)", sn_json_strerror(j->err), j->err_column);
}

/*
 * One line: one JSON object of scalars. scratch holds LINE_MAX_BYTES + 1
 * bytes, room for any string of the line decoded (an escape is never shorter
 * than what it stands for).
 */
static sn_status_t read_json_line(reader_t *r, const char *s, size_t n, char *scratch)
{
    sn_json_t j = sn_json_reader(s, n);
    size_t cap = LINE_MAX_BYTES + 1, kl, vl;
    row_reset(r);
    r->rec_line = r->line;
    int c = sn_json_peek(&j);
    if (c < 0)
        return SN_OK; /* a blank line */
    if (!sn_json_eat(&j, '{'))
        return jfail(r, &j, "not a JSON object");
    bool first = true;
    while ((c = sn_json_peek(&j)) >= 0 && c != '}') {
        if (!first) {
            if (!sn_json_eat(&j, ','))
                return jfail(r, &j, "expected ',' or '}' in the object");
            c = sn_json_peek(&j);
        }
        first = false;
        if (c != '"')
            return jfail(r, &j, "expected a key");
        if (!sn_json_string(&j, scratch, cap, &kl))
            return jfail_read(r, &j);
        int col = col_by_name(scratch, kl, false);
        if (!sn_json_eat(&j, ':'))
            return jfail(r, &j, "expected ':' after a key");
        if ((c = sn_json_peek(&j)) < 0)
            return jfail(r, &j, "a key without a value");
        const char *key = col >= 0 ? sn_fields[col].name : "an unknown key";
        sn_field_type_t type = col >= 0 ? sn_fields[col].type : SN_FIELD_STR;
        const char *num;
        bool integer;
        if (c == '"') {
            if (!sn_json_string(&j, scratch, cap, &vl))
                return jfail_read(r, &j);
            if (col >= 0 && type != SN_FIELD_STR)
                return fail(r, SN_EPARSE, "column %s: a string where a %s belongs", key,
                            type == SN_FIELD_INT ? "number" : "true or false");
            if (col >= 0 && put_cell(r, col, scratch, vl) != SN_OK)
                return r->status;
        } else if (c == '-' || sn_is_digit(c)) {
            if (!sn_json_number(&j, &num, &vl, &integer))
                return jfail_read(r, &j);
            if (col >= 0 && (type != SN_FIELD_INT || !integer))
                return fail(r, SN_EPARSE, "column %s: a number where %s belongs", key,
                            type == SN_FIELD_INT ? "an integer" : "text or a flag");
            if (col >= 0 && put_cell(r, col, num, vl) != SN_OK)
                return r->status;
        } else if (c == 't' || c == 'f') {
            if (!sn_json_literal(&j, c == 't' ? "true" : "false"))
                return jfail_read(r, &j);
            if (col >= 0 && type != SN_FIELD_BOOL)
                return fail(r, SN_EPARSE, "column %s: true or false where %s belongs", key,
                            type == SN_FIELD_INT ? "a number" : "a string");
            if (col >= 0 && put_cell(r, col, c == 't' ? "1" : "0", 1) != SN_OK)
                return r->status;
        } else if (c == 'n') {
            if (!sn_json_literal(&j, "null"))
                return jfail_read(r, &j);
            if (col >= 0 && put_cell(r, col, "", 0) != SN_OK)
                return r->status;
        } else if (c == '{' || c == '[') {
            return jfail(r, &j, "nested objects and arrays are not results columns");
        } else {
            return jfail(r, &j, "a value that is not JSON");
        }
    }
    if (c < 0)
        return jfail(r, &j, "the object is not closed on its line");
    sn_json_eat(&j, '}');
    if (!sn_json_end(&j))
        return jfail(r, &j, "text after the object");
    return build_row(r);
}

/*
 * The read loop. Blank lines before the first text are skipped; the first
 * non-blank byte chooses the front end: '{' is NDJSON, anything else CSV.
 */
static sn_status_t read_lines(reader_t *r, lines_t *L)
{
    enum { UNDECIDED, CSV, JSON } mode = UNDECIDED;
    struct csv_parser p;
    bool csv_ready = false;
    char *scratch = NULL;
    const char *s;
    size_t n;
    int got;
    row_reset(r);
    while (r->status == SN_OK && (got = next_line(L, &s, &n)) == 1) {
        r->line++;
        if (r->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            n -= 3;
        }
        if (mode == UNDECIDED) {
            size_t i = 0;
            while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
                i++;
            if (i == n)
                continue;
            mode = s[i] == '{' ? JSON : CSV;
            if (mode == JSON && (scratch = malloc(LINE_MAX_BYTES + 1)) == NULL) {
                fail(r, SN_ENOMEM, "out of memory");
                break;
            }
            if (mode == CSV) {
                if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
                    fail(r, SN_ENOMEM, "out of memory");
                    break;
                }
                csv_ready = true;
            }
        }
        if (mode == JSON)
            read_json_line(r, s, n, scratch);
        else
            csv_line(r, &p, s, n);
    }
    if (r->status == SN_OK && got < 0) {
        r->rec_line = 0;
        r->line++;
        fail(r, got, got == SN_ELIMIT ? "a line longer than 1 MiB" : "read error");
    }
    if (csv_ready) {
        if (r->status == SN_OK && csv_fini(&p, csv_on_field, csv_on_record, r) != 0 &&
            r->status == SN_OK)
            fail(r, SN_EPARSE, "CSV error at the end of the file: %s", csv_strerror(csv_error(&p)));
        csv_free(&p);
    }
    free(scratch);
    free(r->buf);
    free(r->hdr);
    return r->status;
}

/* ---- entry points ----------------------------------------------------------- */

sn_status_t sn_resultsin_read_buf(const char *name, const char *data, size_t len,
                                  sn_resultsin_fn fn, void *ud, uint64_t *rows, sn_error_t *err)
{
    reader_t r = {.name = name != NULL ? name : "(memory)", .fn = fn, .ud = ud, .err = err};
    lines_t L = {.mem = data != NULL ? data : "", .mem_len = data != NULL ? len : 0};
    sn_status_t st = read_lines(&r, &L);
    if (rows != NULL)
        *rows = r.rows;
    return st;
}

sn_status_t sn_resultsin_read(const char *path, sn_resultsin_fn fn, void *ud, uint64_t *rows,
                              sn_error_t *err)
{
    if (rows != NULL)
        *rows = 0;
    if (path == NULL)
        return sn_error_set(err, SN_EINVAL, "no results file given");
    bool std_in = strcmp(path, "-") == 0;
    FILE *f = std_in ? stdin : fopen(path, "rb");
    if (f == NULL)
        return sn_error_set(err, errno == ENOENT ? SN_ENOTFOUND : SN_EIO, "cannot open %s: %s",
                            path, strerror(errno));
    reader_t r = {.name = std_in ? "standard input" : path, .fn = fn, .ud = ud, .err = err};
    lines_t L = {.f = f};
    sn_status_t st = read_lines(&r, &L);
    free(L.buf);
    if (!std_in)
        fclose(f);
    if (rows != NULL)
        *rows = r.rows;
    return st;
}
