/*
 * Reverse DNS over c-ares on the scanner's libuv loop.
 *
 * c-ares owns the DNS protocol (query ids, retries, server failover, TCP
 * fallback on truncation); this file owns the event plumbing and the meaning
 * of an answer. c-ares tells us through its socket-state callback which
 * sockets to watch, and we give each a uv_poll_t; one uv_timer_t is re-armed
 * from ares_timeout after every call into c-ares. Lookups beyond max_inflight
 * wait in a FIFO that a uv_idle_t drains, so that a lookup is never sent (and
 * so never completes) from inside sn_rdns_lookup, and so that a chain of
 * lookups failing synchronously cannot recurse.
 *
 * c-ares must not be torn down from inside one of its callbacks, so every
 * call into it is bracketed by enter_ares/leave_ares; sn_rdns_close called
 * from a callback only marks the resolver, and the outermost leave_ares
 * finishes the job.
 *
 * Replies are parsed here rather than by ares_parse_ptr_reply (see rdns.h),
 * through the bounds-checked cursor of lib/bytes.h: every length is checked
 * against the message, and compression pointers are followed only backwards.
 */
#include "data/rdns.h"
#include "lib/bytes.h"

#include <ares.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 2000u
#define DEFAULT_TRIES 2u
#define DEFAULT_MAX_INFLIGHT 100u
#define DEFAULT_BREAKER 16u
#define BACKOFF_FIRST_MS 30000u
#define BACKOFF_MAX_MS 300000u
#define DNS_PORT 53

#define DNS_CLASS_IN 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_PTR 12
#define DNS_NAME_MAX 255 /* octets in wire form, root label included */
#define MAX_CNAME_LINKS 8
#define MAX_POINTER_HOPS 128
/* Presentation form of a 255-octet name: at most 4 characters per octet. */
#define TEXT_NAME_MAX (4 * DNS_NAME_MAX + 2)

typedef struct lookup {
    struct lookup *next; /* FIFO link while queued */
    sn_rdns_t *r;
    sn_addr_t addr;
    sn_rdns_cb cb;
    void *ud;
    char qname[SN_RDNS_QNAME_MAX];
} lookup_t;

/* One watched c-ares socket. */
typedef struct sock_watch {
    uv_poll_t poll;
    sn_rdns_t *r;
    ares_socket_t fd;
    struct sock_watch *next;
} sock_watch_t;

struct sn_rdns {
    uv_loop_t *loop;
    ares_channel channel;
    uv_timer_t timer;
    uv_idle_t idle;
    sock_watch_t *watches;
    lookup_t *q_head, *q_tail;
    size_t queued, inflight;
    size_t max_inflight, max_queued;
    unsigned handles_open; /* libuv handles not yet through their close callback */
    unsigned depth;        /* nesting of calls into c-ares */
    bool closing;          /* sn_rdns_close was called */
    bool torn_down;        /* the channel is destroyed and handles are closing */
    /* circuit breaker (see rdns.h) */
    unsigned breaker_at, timeouts_in_row, backoff_ms;
    bool tripped;         /* servers judged dead: only one test lookup at a time */
    uint64_t retry_at_ms; /* loop time before which nothing is sent */
    size_t short_circuited;
    void (*on_trip)(void *ud, unsigned timeouts, unsigned backoff_ms);
    void *trip_ud;
};

static bool library_ready;

/* ------------------------------------------------------------------------ */
/* Names and validation                                                      */

static bool is_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool sn_hostname_valid(const char *name)
{
    if (name == NULL)
        return false;
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        len--; /* one trailing dot: the absolute form of the same name */
    if (len == 0 || len > 253)
        return false;

    size_t start = 0;
    bool all_digits = true;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && name[i] != '.') {
            unsigned char c = (unsigned char)name[i];
            if (!is_ldh(c))
                return false;
            if (c < '0' || c > '9')
                all_digits = false;
            continue;
        }
        size_t label_len = i - start;
        if (label_len == 0 || label_len > 63)
            return false;
        if (name[start] == '-' || name[i - 1] == '-')
            return false;
        if (i == len && all_digits)
            return false; /* numeric top label: an address posing as a name */
        start = i + 1;
        all_digits = true;
    }
    return true;
}

size_t sn_rdns_ptr_name(const sn_addr_t *a, char *buf, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[SN_RDNS_QNAME_MAX];
    int n;

    if (a == NULL || buf == NULL)
        return 0;
    if (a->family == AF_INET) {
        n = snprintf(tmp, sizeof tmp, "%u.%u.%u.%u.in-addr.arpa", a->ip[3], a->ip[2], a->ip[1],
                     a->ip[0]);
    } else if (a->family == AF_INET6) {
        char *p = tmp;
        for (int i = 15; i >= 0; i--) {
            *p++ = hex[a->ip[i] & 0xf];
            *p++ = '.';
            *p++ = hex[a->ip[i] >> 4];
            *p++ = '.';
        }
        memcpy(p, "ip6.arpa", sizeof "ip6.arpa");
        n = (int)(p - tmp) + (int)sizeof "ip6.arpa" - 1;
    } else {
        return 0;
    }
    if (n <= 0 || (size_t)n >= cap)
        return 0;
    memcpy(buf, tmp, (size_t)n + 1);
    return (size_t)n;
}

/*
 * Encodes a plain dotted name (no escapes, no trailing dot) into wire form.
 * Returns the wire length including the root label, or 0 if a label is empty
 * or too long, or the name is too long.
 */
static size_t text_to_wire(const char *text, uint8_t out[DNS_NAME_MAX])
{
    size_t n = 0, label_start = 0;
    size_t len = strlen(text);
    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '.')
            continue;
        size_t l = i - label_start;
        if (l == 0 || l > 63 || n + 1 + l + 1 > DNS_NAME_MAX)
            return 0;
        out[n++] = (uint8_t)l;
        memcpy(out + n, text + label_start, l);
        n += l;
        label_start = i + 1;
    }
    out[n++] = 0;
    return n;
}

/* ------------------------------------------------------------------------ */
/* DNS reply reader                                                          */

/*
 * Reads a possibly compressed name at the cursor into out (uncompressed wire
 * form, root label included) and sets *out_len. Moves rd past the name as it
 * sits in the message; a pointer may reach anywhere before the cursor, which
 * is why the caller's cursor spans the message from its first byte. Every
 * pointer must point before the start of the stretch of labels it ends, so
 * the offsets visited strictly decrease and a loop is impossible. Returns
 * false, with rd unmoved, on any malformation: reads past the end, label
 * types 01/10, a forward or self pointer, more than 255 octets.
 */
static bool rd_name(sn_bytes_t *rd, uint8_t out[DNS_NAME_MAX], size_t *out_len)
{
    sn_bytes_t at = *rd; /* follows the pointers; rd moves only on success */
    size_t segment = rd->pos, n = 0, after = 0;
    unsigned hops = 0;

    for (;;) {
        uint8_t c, low;
        if (!sn_bytes_u8(&at, &c))
            return false;
        if ((c & 0xC0) == 0xC0) {
            if (!sn_bytes_u8(&at, &low))
                return false;
            size_t target = (size_t)(c & 0x3F) << 8 | low;
            if (target >= segment || ++hops > MAX_POINTER_HOPS)
                return false;
            if (after == 0)
                after = at.pos;
            segment = target;
            (void)sn_bytes_seek(&at, target); /* before segment, so inside */
            continue;
        }
        if (c & 0xC0)
            return false;
        /* Room for this label and, if it is not the root, a root after it. */
        if (n + 1 + c + (c != 0) > DNS_NAME_MAX || !sn_bytes_copy(&at, out + n + 1, c))
            return false;
        out[n] = c;
        n += (size_t)1 + c;
        if (c == 0)
            break;
    }
    (void)sn_bytes_seek(rd, after != 0 ? after : at.pos);
    *out_len = n;
    return true;
}

static uint8_t ascii_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Case-insensitive equality of two wire names (RFC 4343: ASCII only). */
static bool wire_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

/* Writes one octet of a label in presentation form; returns chars written. */
static size_t octet_text(uint8_t b, char *out)
{
    if (b == '.' || b == '\\') {
        if (out != NULL) {
            out[0] = '\\';
            out[1] = (char)b;
        }
        return 2;
    }
    if (b < 0x21 || b > 0x7E) {
        if (out != NULL) {
            out[0] = '\\';
            out[1] = (char)('0' + b / 100);
            out[2] = (char)('0' + b / 10 % 10);
            out[3] = (char)('0' + b % 10);
        }
        return 4;
    }
    if (out != NULL)
        out[0] = (char)b;
    return 1;
}

/*
 * Writes a wire name in presentation form plus NUL into out (NULL to only
 * measure). Returns the length without the NUL.
 */
static size_t wire_to_text(const uint8_t *w, size_t wlen, char *out)
{
    size_t n = 0, i = 0;
    if (wlen == 0 || w[0] == 0) {
        if (out != NULL)
            memcpy(out, ".", 2);
        return 1;
    }
    while (i < wlen && w[i] != 0) {
        size_t l = w[i++];
        if (n > 0) {
            if (out != NULL)
                out[n] = '.';
            n++;
        }
        for (size_t k = 0; k < l && i < wlen; k++, i++)
            n += octet_text(w[i], out != NULL ? out + n : NULL);
    }
    if (out != NULL)
        out[n] = '\0';
    return n;
}

/* One resource record of the answer section. */
typedef struct rr {
    uint8_t owner[DNS_NAME_MAX];
    size_t owner_len;
    uint16_t type, klass;
    uint8_t target[DNS_NAME_MAX]; /* PTR and CNAME only */
    size_t target_len;
} rr_t;

/*
 * Reads one RR. For PTR and CNAME of class IN the RDATA must be exactly one
 * name. Returns false on malformation.
 */
static bool rd_rr(sn_bytes_t *rd, rr_t *rr)
{
    uint16_t rdlen;
    if (!rd_name(rd, rr->owner, &rr->owner_len) || !sn_bytes_be16(rd, &rr->type) ||
        !sn_bytes_be16(rd, &rr->klass) || !sn_bytes_take(rd, 4, NULL) || !sn_bytes_be16(rd, &rdlen))
        return false;
    size_t rdata = rd->pos;
    if (!sn_bytes_take(rd, rdlen, NULL))
        return false;
    rr->target_len = 0;
    if (rr->klass == DNS_CLASS_IN && (rr->type == DNS_TYPE_PTR || rr->type == DNS_TYPE_CNAME)) {
        /* The message up to the end of the RDATA: the name must fill the RDATA
         * exactly, and its pointers may still reach back into the message. */
        sn_bytes_t sub = sn_bytes(rd->p, rd->pos);
        if (!sn_bytes_seek(&sub, rdata) || !rd_name(&sub, rr->target, &rr->target_len) ||
            sn_bytes_left(&sub) != 0)
            return false;
    }
    return true;
}

sn_rdns_status_t sn_rdns_parse_reply(const uint8_t *msg, size_t len, const char *qname,
                                     char ***names, size_t *n_names)
{
    uint8_t qwire[DNS_NAME_MAX], name[DNS_NAME_MAX];
    size_t qwire_len, name_len;
    uint16_t qd, an, type, klass;
    rr_t rr;

    if (names == NULL || n_names == NULL)
        return SN_RDNS_ERROR;
    *names = NULL;
    *n_names = 0;
    if (qname == NULL || (qwire_len = text_to_wire(qname, qwire)) == 0)
        return SN_RDNS_ERROR;
    if (msg == NULL)
        return SN_RDNS_BADRESP;

    /* The 12-byte header: id, flags, then the four section counts. */
    sn_bytes_t rd = sn_bytes(msg, len);
    uint16_t flags;
    if (!sn_bytes_take(&rd, 2, NULL) || !sn_bytes_be16(&rd, &flags) || !sn_bytes_be16(&rd, &qd) ||
        !sn_bytes_be16(&rd, &an) || !sn_bytes_take(&rd, 4, NULL))
        return SN_RDNS_BADRESP;
    if (!(flags & 0x8000) || ((flags >> 11) & 0xF) != 0)
        return SN_RDNS_BADRESP; /* not a response, or not a standard query */
    switch (flags & 0xF) {
    case 0: break;
    case 1: return SN_RDNS_BADRESP; /* FORMERR: the server could not read us */
    case 2: return SN_RDNS_SERVFAIL;
    case 3: return SN_RDNS_NXDOMAIN;
    case 5: return SN_RDNS_REFUSED;
    default: return SN_RDNS_ERROR;
    }

    if (qd != 1)
        return SN_RDNS_BADRESP;
    if (!rd_name(&rd, name, &name_len) || !sn_bytes_be16(&rd, &type) || !sn_bytes_be16(&rd, &klass))
        return SN_RDNS_BADRESP;
    if (!wire_equal(name, name_len, qwire, qwire_len) || type != DNS_TYPE_PTR ||
        klass != DNS_CLASS_IN)
        return SN_RDNS_BADRESP;
    const size_t answers = rd.pos;

    /* Pass 1: every answer RR must be well formed. */
    for (unsigned i = 0; i < an; i++)
        if (!rd_rr(&rd, &rr))
            return SN_RDNS_BADRESP;

    /* Follow CNAMEs from the query name to the name that owns the PTRs. */
    uint8_t owner[DNS_NAME_MAX];
    size_t owner_len = qwire_len;
    memcpy(owner, qwire, qwire_len);
    for (unsigned link = 0; link < MAX_CNAME_LINKS; link++) {
        bool moved = false;
        (void)sn_bytes_seek(&rd, answers);
        for (unsigned i = 0; i < an && !moved; i++) {
            (void)rd_rr(&rd, &rr); /* checked in pass 1 */
            if (rr.klass == DNS_CLASS_IN && rr.type == DNS_TYPE_CNAME &&
                wire_equal(rr.owner, rr.owner_len, owner, owner_len)) {
                memcpy(owner, rr.target, rr.target_len);
                owner_len = rr.target_len;
                moved = true;
            }
        }
        if (!moved)
            break;
    }

    /* Pass 2 measures, pass 3 writes: one allocation for pointers and text. */
    size_t count = 0, text_total = 0;
    (void)sn_bytes_seek(&rd, answers);
    for (unsigned i = 0; i < an && count < SN_RDNS_MAX_NAMES; i++) {
        (void)rd_rr(&rd, &rr);
        if (rr.klass == DNS_CLASS_IN && rr.type == DNS_TYPE_PTR &&
            wire_equal(rr.owner, rr.owner_len, owner, owner_len)) {
            text_total += wire_to_text(rr.target, rr.target_len, NULL) + 1;
            count++;
        }
    }
    if (count == 0)
        return SN_RDNS_NODATA;

    char **out = malloc(count * sizeof *out + text_total);
    if (out == NULL)
        return SN_RDNS_ERROR;
    char *text = (char *)(out + count);
    size_t k = 0;
    (void)sn_bytes_seek(&rd, answers);
    for (unsigned i = 0; i < an && k < count; i++) {
        (void)rd_rr(&rd, &rr);
        if (rr.klass == DNS_CLASS_IN && rr.type == DNS_TYPE_PTR &&
            wire_equal(rr.owner, rr.owner_len, owner, owner_len)) {
            out[k++] = text;
            text += wire_to_text(rr.target, rr.target_len, text) + 1;
        }
    }
    *names = out;
    *n_names = count;
    return SN_RDNS_OK;
}

const char *sn_rdns_status_name(sn_rdns_status_t st)
{
    switch (st) {
    case SN_RDNS_OK: return "ok";
    case SN_RDNS_NXDOMAIN: return "nxdomain";
    case SN_RDNS_NODATA: return "nodata";
    case SN_RDNS_SERVFAIL: return "servfail";
    case SN_RDNS_REFUSED: return "refused";
    case SN_RDNS_TIMEOUT: return "timeout";
    case SN_RDNS_BADRESP: return "badresp";
    case SN_RDNS_SKIPPED: return "skipped";
    case SN_RDNS_CANCELLED: return "cancelled";
    default: return "error";
    }
}

/* ------------------------------------------------------------------------ */
/* libuv plumbing                                                            */

static void maybe_free(sn_rdns_t *r)
{
    if (r->torn_down && r->handles_open == 0)
        free(r);
}

static void on_handle_closed(uv_handle_t *h)
{
    sn_rdns_t *r = h->data;
    r->handles_open--;
    maybe_free(r);
}

static void on_watch_closed(uv_handle_t *h)
{
    sock_watch_t *w = (sock_watch_t *)h;
    sn_rdns_t *r = w->r;
    free(w);
    r->handles_open--;
    maybe_free(r);
}

static void enter_ares(sn_rdns_t *r)
{
    r->depth++;
}

static void teardown(sn_rdns_t *r);
static void on_timer(uv_timer_t *t);
static void on_idle(uv_idle_t *h);

/*
 * Re-arms the timer to c-ares's next deadline, or stops it when nothing is
 * pending; or, when the outermost call into c-ares returns after
 * sn_rdns_close, tears the channel down.
 */
static void leave_ares(sn_rdns_t *r)
{
    if (--r->depth != 0 || r->torn_down)
        return;
    if (r->closing) {
        teardown(r);
        return;
    }
    struct timeval tv;
    if (ares_timeout(r->channel, NULL, &tv) == NULL) {
        uv_timer_stop(&r->timer);
        return;
    }
    uint64_t ms = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
    uv_timer_start(&r->timer, on_timer, ms, 0);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_watch_t *w = (sock_watch_t *)h;
    sn_rdns_t *r = w->r;
    ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;

    /* On a poll error let c-ares read and write: it sees the socket error
     * itself and fails over. */
    if (status < 0 || (events & UV_READABLE))
        rfd = w->fd;
    if (status < 0 || (events & UV_WRITABLE))
        wfd = w->fd;
    enter_ares(r);
    ares_process_fd(r->channel, rfd, wfd);
    leave_ares(r);
}

static void on_timer(uv_timer_t *t)
{
    sn_rdns_t *r = t->data;
    enter_ares(r);
    ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    leave_ares(r);
}

static void close_watch(sock_watch_t *w)
{
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_watch_closed);
}

/*
 * c-ares's socket-state callback: start, change or stop watching fd. c-ares
 * calls it with both flags 0 before it closes the socket, so the poll handle
 * is stopped while the descriptor is still valid.
 */
static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    sn_rdns_t *r = data;
    sock_watch_t **pp = &r->watches, *w;

    while ((w = *pp) != NULL && w->fd != fd)
        pp = &w->next;

    if (!readable && !writable) {
        if (w != NULL) {
            *pp = w->next;
            close_watch(w);
        }
        return;
    }
    if (w == NULL) {
        w = calloc(1, sizeof *w);
        if (w == NULL)
            return; /* unwatched: its queries end by timeout */
        if (uv_poll_init_socket(r->loop, &w->poll, fd) != 0) {
            free(w);
            return;
        }
        w->r = r;
        w->fd = fd;
        w->next = r->watches;
        r->watches = w;
        r->handles_open++;
        /* The channel keeps its sockets open between lookups; an idle socket
         * must not keep the loop alive (the timer does while queries run). */
        uv_unref((uv_handle_t *)&w->poll);
    }
    int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
    uv_poll_start(&w->poll, events, on_poll);
}

static sn_rdns_status_t map_ares_status(int status)
{
    switch (status) {
    case ARES_ENODATA: return SN_RDNS_NODATA;
    case ARES_ENOTFOUND: return SN_RDNS_NXDOMAIN;
    case ARES_ESERVFAIL: return SN_RDNS_SERVFAIL;
    case ARES_EREFUSED: return SN_RDNS_REFUSED;
    case ARES_ETIMEOUT: return SN_RDNS_TIMEOUT;
    case ARES_EBADRESP:
    case ARES_EFORMERR: return SN_RDNS_BADRESP;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return SN_RDNS_CANCELLED;
    default: return SN_RDNS_ERROR;
    }
}

static void kick(sn_rdns_t *r)
{
    if (!r->closing && r->q_head != NULL && r->inflight < r->max_inflight)
        uv_idle_start(&r->idle, on_idle);
}

/* ares_query's callback: one lookup is over. */
static void on_ares_reply(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    lookup_t *l = arg;
    sn_rdns_t *r = l->r;
    char **names = NULL;
    size_t n_names = 0;
    sn_rdns_status_t st;

    (void)timeouts;
    r->inflight--;
    if (status == ARES_ETIMEOUT) {
        if (++r->timeouts_in_row >= r->breaker_at && !r->closing) {
            /* Dead servers: stop spending every lookup's whole bounded time. */
            r->backoff_ms = !r->tripped                          ? BACKOFF_FIRST_MS
                            : r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                                 : r->backoff_ms * 2;
            r->retry_at_ms = uv_now(r->loop) + r->backoff_ms;
            if (!r->tripped && r->on_trip != NULL)
                r->on_trip(r->trip_ud, r->timeouts_in_row, r->backoff_ms);
            r->tripped = true;
        }
    } else if (status != ARES_ECANCELLED && status != ARES_EDESTRUCTION) {
        r->timeouts_in_row = 0; /* a server answered (whatever it said) */
        r->tripped = false;
    }
    if (status == ARES_SUCCESS)
        st = sn_rdns_parse_reply(abuf, alen > 0 ? (size_t)alen : 0, l->qname, &names, &n_names);
    else
        st = map_ares_status(status);
    l->cb(l->ud, &l->addr, st, (const char *const *)names, n_names);
    free(names);
    free(l);
    kick(r);
}

/* Sends queued lookups while there is room in flight. */
static void on_idle(uv_idle_t *h)
{
    sn_rdns_t *r = h->data;

    enter_ares(r);
    while (!r->closing && r->q_head != NULL && r->inflight < r->max_inflight) {
        lookup_t *l = r->q_head;
        r->q_head = l->next;
        if (r->q_head == NULL)
            r->q_tail = NULL;
        r->queued--;
        /* Breaker open (backing off, or its one test lookup in flight): the
         * answer is known to be a timeout; give it now. */
        if (r->tripped && (r->inflight > 0 || uv_now(r->loop) < r->retry_at_ms)) {
            r->short_circuited++;
            l->cb(l->ud, &l->addr, SN_RDNS_TIMEOUT, NULL, 0);
            free(l);
            continue;
        }
        r->inflight++;
        /* May call on_ares_reply before it returns (no socket, no memory). */
        ares_query(r->channel, l->qname, DNS_CLASS_IN, DNS_TYPE_PTR, on_ares_reply, l);
    }
    if (r->closing || r->q_head == NULL || r->inflight >= r->max_inflight)
        uv_idle_stop(&r->idle);
    leave_ares(r);
}

/* Cancels in-flight lookups, destroys the channel, closes every handle. */
static void teardown(sn_rdns_t *r)
{
    r->depth++; /* callbacks fired from here must not re-enter teardown */
    ares_cancel(r->channel);
    ares_destroy(r->channel); /* reports its open sockets as unwatched */
    r->channel = NULL;
    r->depth--;
    r->torn_down = true;

    while (r->watches != NULL) {
        sock_watch_t *w = r->watches;
        r->watches = w->next;
        close_watch(w);
    }
    uv_close((uv_handle_t *)&r->timer, on_handle_closed);
    uv_close((uv_handle_t *)&r->idle, on_handle_closed);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */

/*
 * Parses one "ADDR[:PORT]" server string into node. Returns SN_OK or
 * SN_EINVAL with err naming the string.
 */
static sn_status_t parse_server(const char *s, struct ares_addr_port_node *node, sn_error_t *err)
{
    sn_addr_t a;
    const char *why = "bad address";
    size_t len = s != NULL ? strlen(s) : 0;

    if (len == 0)
        return sn_error_set(err, SN_EINVAL, "DNS server: empty address");
    if (sn_addr_parse_ip(s, len, &a) == SN_OK) {
        a.port = DNS_PORT;
    } else if (s[0] == '[' && s[len - 1] == ']') {
        if (sn_addr_parse_ip(s + 1, len - 2, &a) != SN_OK || a.family != AF_INET6)
            return sn_error_set(err, SN_EINVAL, "DNS server \"%s\": bad IPv6 address", s);
        a.port = DNS_PORT;
    } else if (sn_addr_parse_endpoint(s, len, &a, &why) != SN_OK) {
        return sn_error_set(err, SN_EINVAL, "DNS server \"%s\": %s", s, why);
    }
    memset(node, 0, sizeof *node);
    node->family = a.family;
    if (a.family == AF_INET)
        memcpy(&node->addr.addr4, a.ip, 4);
    else
        memcpy(&node->addr.addr6, a.ip, 16);
    node->udp_port = a.port;
    node->tcp_port = a.port;
    return SN_OK;
}

sn_status_t sn_rdns_new(uv_loop_t *loop, const sn_rdns_opts_t *opts, sn_rdns_t **out,
                        sn_error_t *err)
{
    static const sn_rdns_opts_t defaults = {0};
    struct ares_addr_port_node *nodes = NULL;
    struct ares_options ao;
    sn_rdns_t *r = NULL;
    sn_status_t st = SN_OK;
    int rc;

    if (out == NULL || loop == NULL)
        return sn_error_set(err, SN_EINVAL, "rdns: no loop or result pointer");
    *out = NULL;
    if (opts == NULL)
        opts = &defaults;
    if (opts->n_servers > 0 && opts->servers == NULL)
        return sn_error_set(err, SN_EINVAL, "rdns: %zu DNS servers but no list", opts->n_servers);
    if (opts->timeout_ms > 3600000u || opts->tries > 100u)
        return sn_error_set(err, SN_EINVAL, "rdns: timeout %u ms or tries %u out of range",
                            opts->timeout_ms, opts->tries);

    if (!library_ready) {
        rc = ares_library_init(ARES_LIB_INIT_ALL);
        if (rc != ARES_SUCCESS)
            return sn_error_set(err, rc == ARES_ENOMEM ? SN_ENOMEM : SN_ESYS,
                                "rdns: c-ares library init: %s", ares_strerror(rc));
        library_ready = true;
    }

    if (opts->n_servers > 0) {
        nodes = calloc(opts->n_servers, sizeof *nodes);
        if (nodes == NULL)
            return sn_error_set(err, SN_ENOMEM, "rdns: out of memory for DNS servers");
        for (size_t i = 0; i < opts->n_servers; i++) {
            st = parse_server(opts->servers[i], &nodes[i], err);
            if (st != SN_OK)
                goto cleanup;
            nodes[i].next = i + 1 < opts->n_servers ? &nodes[i + 1] : NULL;
        }
    }

    r = calloc(1, sizeof *r);
    if (r == NULL) {
        st = sn_error_set(err, SN_ENOMEM, "rdns: out of memory");
        goto cleanup;
    }
    r->loop = loop;
    r->max_inflight = opts->max_inflight != 0 ? opts->max_inflight : DEFAULT_MAX_INFLIGHT;
    r->max_queued = opts->max_queued;
    r->breaker_at = opts->breaker_timeouts != 0 ? opts->breaker_timeouts : DEFAULT_BREAKER;
    r->on_trip = opts->on_trip;
    r->trip_ud = opts->trip_ud;

    memset(&ao, 0, sizeof ao);
    /* NOCHECKRESP: hand SERVFAIL and REFUSED to us instead of turning them
     * into ECONNREFUSED. STAYOPEN: keep the UDP socket between lookups.
     * NOROTATE: servers are tried in the order given, even if resolv.conf
     * says "options rotate". */
    ao.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_STAYOPEN;
    ao.timeout = (int)(opts->timeout_ms != 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS);
    ao.tries = (int)(opts->tries != 0 ? opts->tries : DEFAULT_TRIES);
    ao.sock_state_cb = on_sock_state;
    ao.sock_state_cb_data = r;
    rc = ares_init_options(&r->channel, &ao,
                           ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
                               ARES_OPT_SOCK_STATE_CB | ARES_OPT_NOROTATE);
    if (rc != ARES_SUCCESS) {
        r->channel = NULL;
        st = sn_error_set(err, rc == ARES_ENOMEM ? SN_ENOMEM : SN_ESYS, "rdns: c-ares init: %s",
                          ares_strerror(rc));
        goto cleanup;
    }
    if (nodes != NULL && (rc = ares_set_servers_ports(r->channel, nodes)) != ARES_SUCCESS) {
        st = sn_error_set(err, rc == ARES_ENOMEM ? SN_ENOMEM : SN_ESYS,
                          "rdns: setting DNS servers: %s", ares_strerror(rc));
        goto cleanup;
    }

    /* Neither init can fail on Unix; they only fill in the handles. */
    uv_timer_init(loop, &r->timer);
    uv_idle_init(loop, &r->idle);
    r->timer.data = r;
    r->idle.data = r;
    r->handles_open = 2;
    free(nodes);
    *out = r;
    return SN_OK;

cleanup:
    if (r != NULL && r->channel != NULL)
        ares_destroy(r->channel);
    free(r);
    free(nodes);
    return st;
}

sn_status_t sn_rdns_lookup(sn_rdns_t *r, const sn_addr_t *addr, sn_rdns_cb cb, void *ud)
{
    if (r == NULL || addr == NULL || cb == NULL || r->closing)
        return SN_EINVAL;
    if (addr->family != AF_INET && addr->family != AF_INET6)
        return SN_EINVAL;
    if (r->max_queued != 0 && r->queued >= r->max_queued)
        return SN_ELIMIT;

    lookup_t *l = malloc(sizeof *l);
    if (l == NULL)
        return SN_ENOMEM;
    l->next = NULL;
    l->r = r;
    l->addr = *addr;
    l->cb = cb;
    l->ud = ud;
    if (sn_rdns_ptr_name(addr, l->qname, sizeof l->qname) == 0) {
        free(l);
        return SN_EINVAL;
    }
    if (r->q_tail != NULL)
        r->q_tail->next = l;
    else
        r->q_head = l;
    r->q_tail = l;
    r->queued++;
    kick(r);
    return SN_OK;
}

size_t sn_rdns_pending(const sn_rdns_t *r)
{
    return r != NULL ? r->queued + r->inflight : 0;
}

size_t sn_rdns_short_circuited(const sn_rdns_t *r)
{
    return r != NULL ? r->short_circuited : 0;
}

void sn_rdns_close(sn_rdns_t *r)
{
    if (r == NULL || r->closing)
        return;
    r->closing = true;
    uv_idle_stop(&r->idle);

    /* Queued lookups never reached c-ares: answer them here. */
    while (r->q_head != NULL) {
        lookup_t *l = r->q_head;
        r->q_head = l->next;
        if (r->q_head == NULL)
            r->q_tail = NULL;
        r->queued--;
        l->cb(l->ud, &l->addr, SN_RDNS_CANCELLED, NULL, 0);
        free(l);
    }
    if (r->depth == 0)
        teardown(r);
}
