/*
 * Plain-list reader: one `ip:port` or `[ipv6]:port` per line, as harvested
 * lists and bootstrap files are written by hand or by scripts.
 *
 * The reader is forgiving about layout and strict about content. Layout that
 * tools and editors produce is accepted: a UTF-8 BOM at the start, CRLF line
 * ends, a missing final newline, blank lines, `#` comments (a whole line, or
 * the rest of a line after a blank), and blanks around the entry. Content is
 * parsed by sn_addr_parse_endpoint, which refuses octal, short and hex forms
 * of addresses and anything but a plain decimal port. A line that is not an
 * entry (real lists carry prose section headers) is a bad entry naming the
 * line and quoting it, never a reason to drop the file.
 */
#include "data/input.h"
#include "lib/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const sn_read_opts_t default_opts = {0};

/*
 * One bad entry: fatal under strict (err gets "where: reason"), otherwise
 * reported to on_bad and counted.
 */
static sn_status_t bad_entry(const sn_read_opts_t *opts, sn_read_stats_t *stats, sn_error_t *err,
                             const char *where, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static sn_status_t bad_entry(const sn_read_opts_t *opts, sn_read_stats_t *stats, sn_error_t *err,
                             const char *where, const char *fmt, ...)
{
    char reason[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (opts->strict)
        return sn_error_set(err, SN_EPARSE, "%s: %s", where, reason);
    if (opts->on_bad != NULL)
        opts->on_bad(opts->ud, where, reason);
    stats->bad++;
    return SN_OK;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Cuts a line to its entry: drops a comment (a `#` opening the line or
 * following a blank) and the blanks around what is left.
 */
static void strip_line(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '#' && (i == 0 || is_blank(p[i - 1]))) {
            n = i;
            break;
        }
    while (n > 0 && is_blank(*p)) {
        p++;
        n--;
    }
    while (n > 0 && is_blank(p[n - 1]))
        n--;
    *s = p;
    *len = n;
}

sn_status_t sn_plainlist_read(sn_targets_t *ts, const char *name, const char *buf, size_t len,
                              const sn_read_opts_t *opts, sn_read_stats_t *stats, sn_error_t *err)
{
    sn_read_stats_t dummy = {0};
    if (name == NULL)
        name = "(input)";
    if (opts == NULL)
        opts = &default_opts;
    if (stats == NULL)
        stats = &dummy;
    if (ts == NULL || (buf == NULL && len != 0))
        return sn_error_set(err, SN_EINVAL, "%s: no target set or buffer", name);

    size_t pos = 0;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    for (unsigned long line = 1; pos < len; line++) {
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL);

        strip_line(&s, &n);
        if (n == 0)
            continue;
        sn_addr_t a;
        const char *why = NULL;
        if (sn_addr_parse_endpoint(s, n, &a, &why) != SN_OK) {
            char where[600], q[300];
            snprintf(where, sizeof where, "%s:%lu", name, line);
            sn_text_quote(q, sizeof q, s, n);
            sn_status_t st = bad_entry(opts, stats, err, where, "%s (\"%s\")",
                                       why != NULL ? why : "bad address", q);
            if (st != SN_OK)
                return st;
            continue;
        }
        sn_status_t st = sn_targets_add(ts, &a, NULL);
        if (st != SN_OK)
            return sn_error_set(err, st, "%s:%lu: cannot add target (%s)", name, line,
                                sn_status_str(st));
        stats->entries++;
    }
    return SN_OK;
}
