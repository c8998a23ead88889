/*
 * Skype host-cache reader: the config/Lib/Connection/HostCache element of a
 * shared.xml, in both shapes found in the wild.
 *
 * Skype 1.x/2.x wrote one child element per node, `<_N>ip:port[,flags]</_N>`.
 * Skype 3.x and later write the element's text as one hex string: a
 * serialised object list (0x41 marker, LEB128 count, then typed elements,
 * objects nesting inside objects), in which every type-5 object whose field 0
 * is an IPv4 address and port is one cache entry. Both shapes may appear in
 * one element; both are read.
 *
 * The XML comes from other people's machines, so expat is run defensively:
 * any entity declaration (the billion-laughs shape and the external-entity
 * shape both need one) stops the parser with a clear message before anything
 * is expanded or read from the filesystem; external entity references and
 * external DTDs are refused; element depth and document size are bounded.
 * Only the exact path config/Lib/Connection/HostCache counts: a HostCache
 * element anywhere else is someone else's data and is ignored.
 *
 * The blob decoder reads through the bounds-checked cursor of lib/bytes.h
 * (every read checks what is left), never allocates, bounds LEB128 integers to 10 bytes and 64
 * bits, nesting to BLOB_MAX_DEPTH, and checks each declared count against the
 * bytes left, so a hostile blob costs at most one pass over its bytes.
 */
#include "data/input.h"
#include "lib/bytes.h"
#include "lib/text.h"

#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* expat 2.4.0 added its own amplification limits; we reject entity
 * declarations outright, so older versions are safe too, but say so. */
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 4)
#define HAVE_EXPAT_BL_PROTECTION 1
#else
#define HAVE_EXPAT_BL_PROTECTION 0
#endif

#define XML_MAX_BYTES (16u * 1024u * 1024u) /* a real shared.xml is tens of KB */
#define XML_MAX_DEPTH 64
#define ENTRY_TEXT_MAX 256 /* "[v6]:port,flags" fits many times over */
#define FLAGS_MAX 63
#define BLOB_MAX_DEPTH 8

/*
 * Timestamp-like integers in an entry: Unix seconds from Skype's first release
 * (2003-01-01) to 2100-01-01. The small per-entry integer (2 or 4 in real
 * caches) and the trailing zero fall outside, so they are never taken for times.
 */
#define TS_MIN INT64_C(1041379200)
#define TS_MAX INT64_C(4102444800)

static const sn_read_opts_t default_opts = {0};

/* --- the blob decoder ---------------------------------------------------- */

/* What one object says about itself, enough to tell whether it is an entry. */
typedef struct obj_summary {
    bool has_addr;
    sn_addr_t addr;
    unsigned nts; /* timestamp-like integers seen, at most 2 kept */
    int64_t ts[2];
    bool has_small; /* field 1 as a small integer */
    uint64_t small;
} obj_summary_t;

typedef struct blob_dec {
    sn_bytes_t r;
    sn_blob_entry_fn fn;
    void *ud;
    unsigned entries; /* delivered so far; the next entry's 0-based index */
    const char *why;  /* set on a fault in the blob itself */
    size_t why_pos;   /* byte offset of the fault */
} blob_dec_t;

static sn_status_t dec_fail(blob_dec_t *d, const char *why, size_t pos)
{
    d->why = why;
    d->why_pos = pos;
    return SN_EPARSE;
}

static void note_int(obj_summary_t *s, uint64_t id, uint64_t v)
{
    if (id == 1 && v < 256 && !s->has_small) {
        s->has_small = true;
        s->small = v;
    } else if (id != 0 && (int64_t)v >= TS_MIN && v <= (uint64_t)TS_MAX && s->nts < 2) {
        s->ts[s->nts++] = (int64_t)v;
    }
}

/*
 * Hands a finished entry object to the caller. Mapping of the entry's fields
 * to a listing (as seen in real Skype 7 caches: field 0 the address, field 1 a
 * small integer, fields 2 and 3 Unix times, field 4 zero):
 *   - the first two timestamp-like integers (TS_MIN..TS_MAX, any field but 0)
 *     become first_seen (the smaller) and last_seen (the larger); with only
 *     one, both take it;
 *   - the small integer of field 1 is kept, as an opaque decimal string, in
 *     listing.flags: like the `,flags` of the 1.x shape, its meaning is not
 *     documented, so it is carried, not interpreted.
 */
static sn_status_t deliver(blob_dec_t *d, const obj_summary_t *s)
{
    char flags[24];
    sn_listing_t l = {.count = 1};
    if (s->nts == 1) {
        l.first_seen = l.last_seen = s->ts[0];
    } else if (s->nts == 2) {
        l.first_seen = s->ts[0] < s->ts[1] ? s->ts[0] : s->ts[1];
        l.last_seen = s->ts[0] < s->ts[1] ? s->ts[1] : s->ts[0];
    }
    if (s->has_small) {
        snprintf(flags, sizeof flags, "%u", (unsigned)s->small);
        l.flags = flags;
    }
    unsigned index = d->entries++;
    return d->fn != NULL ? d->fn(d->ud, index, &s->addr, &l) : SN_OK;
}

/*
 * Decodes one object (0x41, count, elements) at depth depth (1 for the outer
 * one) and summarises it into *self. Nested objects that carry an address
 * in field 0 are delivered as entries once they are complete; others are
 * containers whose own nested objects are searched the same way.
 */
static sn_status_t dec_object(blob_dec_t *d, unsigned depth, obj_summary_t *self)
{
    sn_bytes_t *r = &d->r;
    size_t start = r->pos;
    uint8_t marker;
    uint64_t count;
    const char *why;

    if (depth > BLOB_MAX_DEPTH)
        return dec_fail(d, "objects nested deeper than 8", start);
    if (!sn_bytes_u8(r, &marker))
        return dec_fail(d, "truncated object (missing 0x41 marker)", start);
    if (marker != 0x41)
        return dec_fail(d, "object does not start with the 0x41 marker", start);
    if ((why = sn_bytes_leb128(r, &count)) != NULL)
        return dec_fail(d, why, r->pos);
    /* The smallest element (type, id, one-byte value) takes 3 bytes. */
    if (count > sn_bytes_left(r) / 3)
        return dec_fail(d, "element count larger than the remaining bytes can hold", start);

    for (uint64_t i = 0; i < count; i++) {
        size_t el = r->pos;
        uint8_t type;
        uint64_t id, v, n;
        const uint8_t *bytes;
        if (!sn_bytes_u8(r, &type))
            return dec_fail(d, "truncated element (missing type byte)", el);
        if ((why = sn_bytes_leb128(r, &id)) != NULL)
            return dec_fail(d, why, r->pos);
        switch (type) {
        case 0:
            if ((why = sn_bytes_leb128(r, &v)) != NULL)
                return dec_fail(d, why, r->pos);
            note_int(self, id, v);
            break;
        case 1:
            /* Byte order undocumented; read big endian like the address. */
            if (!sn_bytes_be64(r, &v))
                return dec_fail(d, "truncated 8-byte integer element", el);
            note_int(self, id, v);
            break;
        case 2:
            if (!sn_bytes_take(r, 6, &bytes))
                return dec_fail(d, "truncated IPv4 element", el);
            if (id == 0 && !self->has_addr) {
                self->has_addr = true;
                sn_addr_set_v4(&self->addr, sn_get32(bytes), sn_get16(bytes + 4));
            }
            break;
        case 3:
            if (!sn_bytes_take_until(r, '\0', NULL, NULL))
                return dec_fail(d, "unterminated string element", el);
            break;
        case 4:
            if ((why = sn_bytes_leb128(r, &n)) != NULL)
                return dec_fail(d, why, r->pos);
            if (n > sn_bytes_left(r) || !sn_bytes_take(r, (size_t)n, NULL))
                return dec_fail(d, "truncated byte-string element", el);
            break;
        case 5: {
            obj_summary_t child = {0};
            sn_status_t st = dec_object(d, depth + 1, &child);
            if (st != SN_OK)
                return st;
            if (child.has_addr && (st = deliver(d, &child)) != SN_OK)
                return st;
            break;
        }
        case 6:
            if ((why = sn_bytes_leb128(r, &n)) != NULL)
                return dec_fail(d, why, r->pos);
            if (n > sn_bytes_left(r))
                return dec_fail(d, "integer-list count larger than the remaining bytes", el);
            for (uint64_t k = 0; k < n; k++)
                if ((why = sn_bytes_leb128(r, &v)) != NULL)
                    return dec_fail(d, why, r->pos);
            break;
        default: return dec_fail(d, "unknown element type", el);
        }
    }
    return SN_OK;
}

/* Decodes a whole blob; on a blob fault d->why is set, else the status is the callback's. */
static sn_status_t dec_blob(blob_dec_t *d)
{
    obj_summary_t top = {0};
    sn_status_t st = dec_object(d, 1, &top);
    if (st != SN_OK)
        return st;
    if (sn_bytes_left(&d->r) != 0)
        return dec_fail(d, "trailing bytes after the object list", d->r.pos);
    return SN_OK;
}

sn_status_t sn_hostcache_blob_decode(const uint8_t *blob, size_t len, sn_blob_entry_fn fn, void *ud,
                                     sn_error_t *err)
{
    blob_dec_t d = {.r = sn_bytes(blob, blob != NULL ? len : 0), .fn = fn, .ud = ud};
    sn_status_t st = dec_blob(&d);
    /* A status from fn passes through untouched: fn set err (or chose not to). */
    if (st != SN_OK && d.why != NULL)
        return sn_error_set(err, SN_EPARSE, "entry %u: %s at byte %zu", d.entries + 1, d.why,
                            d.why_pos);
    return st;
}

/* --- the XML side -------------------------------------------------------- */

static const char *const hc_path[4] = {"config", "Lib", "Connection", "HostCache"};

typedef struct hc_ctx {
    XML_Parser xp;
    sn_targets_t *ts;
    const char *name;
    const sn_read_opts_t *opts;
    sn_read_stats_t *stats;
    sn_error_t *err;
    sn_status_t status; /* first fatal status; handlers do nothing once set */
    unsigned depth;     /* current element depth, root = 1 */
    unsigned matched;   /* leading levels of the current path matching hc_path */
    bool found;         /* a HostCache at the right path was seen */
    bool check_only;    /* the first pass: the document is checked, nothing is added */

    /* the blob text of the HostCache being read */
    char *blob;
    size_t blob_len, blob_cap;
    unsigned long hc_line;

    /* the <_N> being read */
    bool in_entry;
    bool entry_nested; /* an element inside <_N> */
    char entry_name[32];
    char entry[ENTRY_TEXT_MAX];
    size_t entry_len;
    bool entry_long;
    unsigned long entry_line;
} hc_ctx_t;

static unsigned long xml_line(const hc_ctx_t *c)
{
    return (unsigned long)XML_GetCurrentLineNumber(c->xp);
}

/* Stops the parse with a fatal error; the first one wins. */
static void hc_fatal(hc_ctx_t *c, sn_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void hc_fatal(hc_ctx_t *c, sn_status_t st, const char *fmt, ...)
{
    if (c->status != SN_OK)
        return;
    c->status = st;
    if (c->err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err->msg, sizeof c->err->msg, fmt, ap);
        va_end(ap);
    }
    XML_StopParser(c->xp, XML_FALSE);
}

/*
 * One bad entry: fatal under strict (err gets "where: reason"), otherwise
 * reported to on_bad and counted. Returns the status to continue with.
 */
static sn_status_t hc_bad(hc_ctx_t *c, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sn_status_t hc_bad(hc_ctx_t *c, const char *where, const char *fmt, ...)
{
    char reason[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (c->check_only)
        return SN_OK; /* entries are judged in the second pass */
    if (c->opts->strict)
        return sn_error_set(c->err, SN_EPARSE, "%s: %s", where, reason);
    if (c->opts->on_bad != NULL)
        c->opts->on_bad(c->opts->ud, where, reason);
    c->stats->bad++;
    return SN_OK;
}

/* Sets status from a bad-entry or add result and stops the parser if it failed. */
static void hc_check(hc_ctx_t *c, sn_status_t st)
{
    if (st != SN_OK && c->status == SN_OK) {
        c->status = st;
        if (st == SN_ENOMEM)
            sn_error_set(c->err, st, "%s: out of memory", c->name);
        XML_StopParser(c->xp, XML_FALSE);
    }
}

static sn_status_t hc_add(hc_ctx_t *c, const sn_addr_t *a, const sn_listing_t *l)
{
    if (c->check_only)
        return SN_OK;
    sn_status_t st = sn_targets_add(c->ts, a, l);
    if (st == SN_OK)
        c->stats->entries++;
    else if (st != SN_ENOMEM)
        sn_error_set(c->err, st, "%s: cannot add target (%s)", c->name, sn_status_str(st));
    return st;
}

static bool is_entry_name(const char *n)
{
    if (n[0] != '_' || n[1] == '\0')
        return false;
    for (const char *p = n + 1; *p != '\0'; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_blank((*s)[*len - 1]))
        (*len)--;
}

/* Parses the finished text of one <_N>: "ip:port" or "ip:port,flags". */
static sn_status_t hc_entry_done(hc_ctx_t *c)
{
    char where[600], q[300];
    const char *s = c->entry;
    size_t len = c->entry_len;
    snprintf(where, sizeof where, "%s:%lu", c->name, c->entry_line);
    trim(&s, &len);
    sn_text_quote(q, sizeof q, s, len);

    if (c->entry_nested)
        return hc_bad(c, where, "element inside <%s> (\"%s\")", c->entry_name, q);
    if (c->entry_long)
        return hc_bad(c, where, "entry <%s> longer than %d bytes (\"%s\")", c->entry_name,
                      ENTRY_TEXT_MAX, q);
    if (len == 0)
        return hc_bad(c, where, "empty entry <%s>", c->entry_name);

    const char *comma = memchr(s, ',', len);
    size_t ep_len = comma != NULL ? (size_t)(comma - s) : len;
    char flags[FLAGS_MAX + 1];
    sn_listing_t l = {.count = 1};
    if (comma != NULL) {
        size_t fl = len - ep_len - 1;
        if (fl == 0)
            return hc_bad(c, where, "empty flags after ',' (\"%s\")", q);
        if (fl > FLAGS_MAX)
            return hc_bad(c, where, "flags longer than %d bytes (\"%s\")", FLAGS_MAX, q);
        for (size_t i = 0; i < fl; i++) {
            unsigned char ch = (unsigned char)comma[1 + i];
            if (ch <= 0x20 || ch >= 0x7f)
                return hc_bad(c, where, "flags hold a blank or non-printable byte (\"%s\")", q);
        }
        memcpy(flags, comma + 1, fl);
        flags[fl] = '\0';
        l.flags = flags;
    }
    sn_addr_t a;
    const char *why = NULL;
    if (sn_addr_parse_endpoint(s, ep_len, &a, &why) != SN_OK)
        return hc_bad(c, where, "%s (\"%s\")", why != NULL ? why : "bad address", q);
    return hc_add(c, &a, &l);
}

/* The blob callback: one decoded entry. */
static sn_status_t hc_blob_entry(void *ud, unsigned index, const sn_addr_t *addr,
                                 const sn_listing_t *listing)
{
    hc_ctx_t *c = ud;
    if (addr->port == 0) {
        char where[600], text[SN_ADDR_STRLEN];
        snprintf(where, sizeof where, "%s:entry %u", c->name, index + 1);
        sn_addr_format(addr, text, sizeof text, true);
        return hc_bad(c, where, "port out of range 1-65535 (\"%s\")", text);
    }
    return hc_add(c, addr, listing);
}

/* Un-hexes and decodes the blob text of a finished HostCache element. */
static sn_status_t hc_blob_done(hc_ctx_t *c)
{
    const char *s = c->blob;
    size_t len = c->blob_len;
    char where[600];
    trim(&s, &len);
    if (len == 0)
        return SN_OK;
    snprintf(where, sizeof where, "%s:%lu", c->name, c->hc_line);
    if (len % 2 != 0)
        return hc_bad(c, where, "host-cache blob has an odd number of hex digits (%zu)", len);
    for (size_t i = 0; i < len; i++)
        if (sn_hex_digit((unsigned char)s[i]) < 0) {
            char q[16];
            sn_text_quote(q, sizeof q, s + i, 1);
            return hc_bad(c, where, "host-cache blob has a non-hex character \"%s\" at offset %zu",
                          q, i);
        }
    uint8_t *bytes = malloc(len / 2);
    if (bytes == NULL)
        return sn_error_set(c->err, SN_ENOMEM, "%s: out of memory", c->name);
    for (size_t i = 0; i < len / 2; i++)
        bytes[i] = (uint8_t)(sn_hex_digit((unsigned char)s[2 * i]) << 4 |
                             sn_hex_digit((unsigned char)s[2 * i + 1]));

    blob_dec_t d = {.r = sn_bytes(bytes, len / 2), .fn = hc_blob_entry, .ud = c};
    sn_status_t st = dec_blob(&d);
    free(bytes);
    if (st != SN_OK && d.why != NULL) {
        snprintf(where, sizeof where, "%s:entry %u", c->name, d.entries + 1);
        return hc_bad(c, where, "%s at byte %zu of the host-cache blob", d.why, d.why_pos);
    }
    return st;
}

static sn_status_t blob_append(hc_ctx_t *c, const char *s, size_t len)
{
    if (len > c->blob_cap - c->blob_len) {
        size_t ncap = c->blob_cap != 0 ? c->blob_cap : 4096;
        while (ncap - c->blob_len < len)
            ncap *= 2;
        char *nb = realloc(c->blob, ncap);
        if (nb == NULL)
            return SN_ENOMEM;
        c->blob = nb;
        c->blob_cap = ncap;
    }
    memcpy(c->blob + c->blob_len, s, len);
    c->blob_len += len;
    return SN_OK;
}

static void XMLCALL on_start(void *ud, const XML_Char *el, const XML_Char **attr)
{
    hc_ctx_t *c = ud;
    (void)attr;
    if (c->status != SN_OK)
        return;
    if (++c->depth > XML_MAX_DEPTH) {
        hc_fatal(c, SN_ELIMIT, "%s:%lu: XML nested deeper than %d elements", c->name, xml_line(c),
                 XML_MAX_DEPTH);
        return;
    }
    if (c->depth <= 4 && c->matched == c->depth - 1 && strcmp(el, hc_path[c->depth - 1]) == 0) {
        c->matched = c->depth;
        if (c->depth == 4) {
            c->found = true;
            c->blob_len = 0;
            c->hc_line = xml_line(c);
        }
        return;
    }
    if (c->matched == 4 && c->depth == 5) {
        char where[600], q[300];
        if (!is_entry_name(el)) {
            snprintf(where, sizeof where, "%s:%lu", c->name, xml_line(c));
            sn_text_quote(q, sizeof q, el, strlen(el));
            hc_check(c, hc_bad(c, where, "unexpected element <%s> in HostCache", q));
            return;
        }
        c->in_entry = true;
        c->entry_nested = false;
        c->entry_long = false;
        c->entry_len = 0;
        c->entry_line = xml_line(c);
        snprintf(c->entry_name, sizeof c->entry_name, "%s", el);
    } else if (c->in_entry && c->depth == 6) {
        c->entry_nested = true;
    }
}

static void XMLCALL on_end(void *ud, const XML_Char *el)
{
    hc_ctx_t *c = ud;
    (void)el;
    if (c->status != SN_OK)
        return;
    if (c->in_entry && c->depth == 5) {
        c->in_entry = false;
        hc_check(c, hc_entry_done(c));
    } else if (c->matched == 4 && c->depth == 4) {
        hc_check(c, hc_blob_done(c));
    }
    if (c->matched == c->depth)
        c->matched--;
    c->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    hc_ctx_t *c = ud;
    if (c->status != SN_OK || len <= 0)
        return;
    if (c->matched == 4 && c->depth == 4) {
        if (blob_append(c, s, (size_t)len) != SN_OK)
            hc_fatal(c, SN_ENOMEM, "%s: out of memory", c->name);
    } else if (c->in_entry && c->depth == 5) {
        size_t n = (size_t)len;
        if (n > sizeof c->entry - c->entry_len) {
            n = sizeof c->entry - c->entry_len;
            c->entry_long = true;
        }
        memcpy(c->entry + c->entry_len, s, n);
        c->entry_len += n;
    }
}

/*
 * Both attack shapes (billion laughs, external entities) need an entity
 * declaration; refusing the first one means nothing is expanded or fetched.
 */
static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *system_id, const XML_Char *public_id,
                                   const XML_Char *notation)
{
    hc_ctx_t *c = ud;
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)system_id,
        (void)public_id, (void)notation;
    hc_fatal(c, SN_EPARSE,
             "%s:%lu: XML entity declarations are not accepted (billion laughs / external "
             "entity protection)",
             c->name, xml_line(c));
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    hc_ctx_t *c = ud;
    (void)name, (void)has_internal_subset;
    if (sysid != NULL || pubid != NULL)
        hc_fatal(c, SN_EPARSE,
                 "%s:%lu: XML external DTDs are not accepted (external entity protection)", c->name,
                 xml_line(c));
}

static int XMLCALL on_external_ref(XML_Parser p, const XML_Char *context, const XML_Char *base,
                                   const XML_Char *system_id, const XML_Char *public_id)
{
    hc_ctx_t *c = XML_GetUserData(p);
    (void)context, (void)base, (void)system_id, (void)public_id;
    hc_fatal(c, SN_EPARSE,
             "%s:%lu: XML external entity references are not accepted (external entity "
             "protection)",
             c->name, xml_line(c));
    return XML_STATUS_ERROR;
}

/* One pass of expat over the document with the handlers above; returns c->status. */
static sn_status_t hc_parse(hc_ctx_t *c, const char *buf, size_t len)
{
    c->xp = XML_ParserCreate(NULL);
    if (c->xp == NULL)
        return sn_error_set(c->err, SN_ENOMEM, "%s: out of memory", c->name);
    XML_SetUserData(c->xp, c);
    XML_SetElementHandler(c->xp, on_start, on_end);
    XML_SetCharacterDataHandler(c->xp, on_text);
    XML_SetEntityDeclHandler(c->xp, on_entity_decl);
    XML_SetStartDoctypeDeclHandler(c->xp, on_doctype);
    XML_SetExternalEntityRefHandler(c->xp, on_external_ref);
    XML_SetParamEntityParsing(c->xp, XML_PARAM_ENTITY_PARSING_NEVER);
#if HAVE_EXPAT_BL_PROTECTION && defined(XML_DTD)
    /* A second line of defence, should a declaration ever slip through. */
    XML_SetBillionLaughsAttackProtectionMaximumAmplification(c->xp, 10.0f);
    XML_SetBillionLaughsAttackProtectionActivationThreshold(c->xp, 1024 * 1024);
#endif

    if (XML_Parse(c->xp, buf != NULL ? buf : "", (int)len, XML_TRUE) == XML_STATUS_ERROR &&
        c->status == SN_OK) {
        c->status = sn_error_set(c->err, SN_EPARSE, "%s:%lu: XML error: %s", c->name,
                                 (unsigned long)XML_GetCurrentLineNumber(c->xp),
                                 XML_ErrorString(XML_GetErrorCode(c->xp)));
    }
    if (c->status == SN_OK && !c->found)
        c->status = sn_error_set(c->err, SN_EPARSE,
                                 "%s: no host cache found (expected the element "
                                 "config/Lib/Connection/HostCache)",
                                 c->name);
    XML_ParserFree(c->xp);
    free(c->blob);
    return c->status;
}

sn_status_t sn_hostcache_read(sn_targets_t *ts, const char *name, const char *buf, size_t len,
                              const sn_read_opts_t *opts, sn_read_stats_t *stats, sn_error_t *err)
{
    sn_read_stats_t dummy = {0};
    if (name == NULL)
        name = "(input)";
    if (ts == NULL || (buf == NULL && len != 0))
        return sn_error_set(err, SN_EINVAL, "%s: no target set or buffer", name);
    if (len > XML_MAX_BYTES)
        return sn_error_set(err, SN_ELIMIT, "%s: XML file larger than %u MiB", name,
                            XML_MAX_BYTES / (1024u * 1024u));

    /*
     * Two passes: the first checks the whole document and adds nothing, so that a
     * malformed or truncated host cache gives no target at all (an error for this
     * input alone); the second reads the entries of a document known to be sound.
     */
    hc_ctx_t c = {.ts = ts,
                  .name = name,
                  .opts = opts != NULL ? opts : &default_opts,
                  .stats = stats != NULL ? stats : &dummy,
                  .err = err,
                  .check_only = true};
    sn_status_t st = hc_parse(&c, buf, len);
    if (st != SN_OK)
        return st;
    c = (hc_ctx_t){.ts = ts,
                   .name = name,
                   .opts = opts != NULL ? opts : &default_opts,
                   .stats = stats != NULL ? stats : &dummy,
                   .err = err};
    return hc_parse(&c, buf, len);
}
