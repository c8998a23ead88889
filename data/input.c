/*
 * Input dispatch: reads a file (or stdin) into memory, begins it as a new
 * input of the target set, and hands it to the reader for its format.
 *
 * Files are read whole, up to SN_INPUT_MAX_BYTES: host caches are small, and
 * even a harvested list of millions of entries is a few tens of megabytes, so
 * one buffer keeps every reader a simple pass over bytes (and lets the fuzz
 * harnesses call the very same code with their input). When no format is
 * given it is sniffed from the content, not the name: harvested files come
 * with every extension or none. The sniff looks at the first non-blank byte
 * ('<' is XML) and then the first line (a comma and a column named `ip` or
 * `port` is a CSV header, so that a header without `ip` is told as such by the
 * CSV reader); anything else is a plain list, whose reader reports each line
 * it cannot read.
 */
#include "data/input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const sn_read_opts_t default_opts = {0};

#define TEXT_BLOCK 4096 /* bytes looked at to tell text from binary */

/*
 * Is this the start of a text file? A NUL byte in the first block, or more than one
 * control byte in 32 there (TAB, LF, VT, FF, CR and ESC aside), means a binary file
 * (a program, an image, UTF-16): its printable runs must not be read as a list (the
 * snprobe binary holds its bundled bootstrap list as text). UTF-8 and Latin-1 pass.
 */
static bool looks_like_text(const char *buf, size_t len)
{
    size_t n = len < TEXT_BLOCK ? len : TEXT_BLOCK, ctl = 0;
    if (memchr(buf, '\0', n) != NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if ((c < 0x20 && !(c >= '\t' && c <= '\r') && c != 0x1b) || c == 0x7f)
            ctl++;
    }
    return ctl * 32 <= n;
}

/* Does this line, split at commas, have a field that reads `ip` or `port` (any case, quotes
 * allowed)? */
static bool line_is_csv_header(const char *s, size_t len)
{
    size_t start = 0;
    bool comma = memchr(s, ',', len) != NULL;
    if (!comma)
        return false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ',')
            continue;
        const char *f = s + start;
        size_t n = i - start;
        while (n > 0 && (*f == ' ' || *f == '\t')) {
            f++;
            n--;
        }
        while (n > 0 && (f[n - 1] == ' ' || f[n - 1] == '\t' || f[n - 1] == '\r'))
            n--;
        if (n >= 2 && f[0] == '"' && f[n - 1] == '"') {
            f++;
            n -= 2;
        }
        if ((n == 2 && strncasecmp(f, "ip", 2) == 0) || (n == 4 && strncasecmp(f, "port", 4) == 0))
            return true;
        start = i + 1;
    }
    return false;
}

/* Picks the reader for an unnamed format from the content. */
static sn_input_format_t sniff(const char *buf, size_t len)
{
    size_t pos = 0;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (pos < len &&
           (buf[pos] == ' ' || buf[pos] == '\t' || buf[pos] == '\r' || buf[pos] == '\n'))
        pos++;
    if (pos < len && buf[pos] == '<')
        return SN_INPUT_XML;
    const char *nl = memchr(buf + pos, '\n', len - pos);
    size_t n = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
    return line_is_csv_header(buf + pos, n) ? SN_INPUT_CSV : SN_INPUT_PLAIN;
}

/* Dispatches an already begun input. */
static sn_status_t dispatch(sn_targets_t *ts, const char *name, const char *buf, size_t len,
                            const sn_read_opts_t *opts, sn_read_stats_t *stats, sn_error_t *err)
{
    sn_input_format_t fmt = opts->format == SN_INPUT_AUTO ? sniff(buf, len) : opts->format;
    switch (fmt) {
    case SN_INPUT_XML: return sn_hostcache_read(ts, name, buf, len, opts, stats, err);
    case SN_INPUT_CSV: return sn_csvin_read(ts, name, buf, len, opts, stats, err);
    case SN_INPUT_PLAIN: return sn_plainlist_read(ts, name, buf, len, opts, stats, err);
    default: return sn_error_set(err, SN_EINVAL, "%s: unknown input format %d", name, (int)fmt);
    }
}

static sn_status_t begin(sn_targets_t *ts, const char *name, sn_error_t *err)
{
    int idx = sn_targets_begin_input(ts, name);
    if (idx < 0)
        return sn_error_set(err, idx, "%s: cannot begin input (%s)", name, sn_status_str(idx));
    return SN_OK;
}

sn_status_t sn_input_read_buf(sn_targets_t *ts, const char *name, const char *buf, size_t len,
                              const sn_read_opts_t *opts, sn_read_stats_t *stats, sn_error_t *err)
{
    if (name == NULL)
        name = "(input)";
    if (opts == NULL)
        opts = &default_opts;
    if (ts == NULL || (buf == NULL && len != 0))
        return sn_error_set(err, SN_EINVAL, "%s: no target set or buffer", name);
    if (buf == NULL)
        buf = "";
    sn_status_t st = begin(ts, name, err);
    if (st != SN_OK)
        return st;
    return dispatch(ts, name, buf, len, opts, stats, err);
}

/*
 * Reads all of f into a fresh buffer (*out, *outlen; caller frees). size_hint
 * is the file size when known, so a regular file is read with one allocation.
 */
static sn_status_t slurp(FILE *f, const char *shown, size_t size_hint, char **out, size_t *outlen,
                         sn_error_t *err)
{
    size_t cap = size_hint + 1 > 4096 ? size_hint + 1 : 4096, len = 0;
    if (cap > SN_INPUT_MAX_BYTES + 1u)
        cap = SN_INPUT_MAX_BYTES + 1u;
    char *buf = malloc(cap);
    if (buf == NULL)
        return sn_error_set(err, SN_ENOMEM, "%s: out of memory", shown);
    for (;;) {
        if (len == cap) {
            if (cap > SN_INPUT_MAX_BYTES) {
                free(buf);
                return sn_error_set(err, SN_ELIMIT, "%s: larger than the %u MiB input limit", shown,
                                    SN_INPUT_MAX_BYTES / (1024u * 1024u));
            }
            size_t ncap = cap * 2 > SN_INPUT_MAX_BYTES + 1u ? SN_INPUT_MAX_BYTES + 1u : cap * 2;
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                free(buf);
                return sn_error_set(err, SN_ENOMEM, "%s: out of memory", shown);
            }
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                return sn_error_set(err, SN_EIO, "%s: %s", shown, strerror(e != 0 ? e : EIO));
            }
            break;
        }
    }
    if (len > SN_INPUT_MAX_BYTES) {
        free(buf);
        return sn_error_set(err, SN_ELIMIT, "%s: larger than the %u MiB input limit", shown,
                            SN_INPUT_MAX_BYTES / (1024u * 1024u));
    }
    *out = buf;
    *outlen = len;
    return SN_OK;
}

sn_status_t sn_input_read(sn_targets_t *ts, const char *path, const sn_read_opts_t *opts,
                          sn_read_stats_t *stats, sn_error_t *err)
{
    if (ts == NULL || path == NULL)
        return sn_error_set(err, SN_EINVAL, "no target set or path given");
    if (opts == NULL)
        opts = &default_opts;

    bool is_stdin = strcmp(path, "-") == 0;
    const char *shown = is_stdin ? "stdin" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        return sn_error_set(err, e == ENOENT ? SN_ENOTFOUND : SN_EIO, "%s: %s", path, strerror(e));
    }
    size_t hint = 0;
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            if (!is_stdin)
                fclose(f);
            return sn_error_set(err, SN_EIO, "%s: %s", shown, strerror(EISDIR));
        }
        if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
            if ((uint64_t)sb.st_size > SN_INPUT_MAX_BYTES) {
                if (!is_stdin)
                    fclose(f);
                return sn_error_set(err, SN_ELIMIT, "%s: larger than the %u MiB input limit", shown,
                                    SN_INPUT_MAX_BYTES / (1024u * 1024u));
            }
            hint = (size_t)sb.st_size;
        }
    }
    char *buf = NULL;
    size_t len = 0;
    sn_status_t st = slurp(f, shown, hint, &buf, &len, err);
    if (!is_stdin)
        fclose(f);
    if (st != SN_OK)
        return st;
    if (!looks_like_text(buf, len)) {
        free(buf);
        return sn_error_set(err, SN_EPARSE, "%s: not a text file", shown);
    }

    if ((st = begin(ts, path, err)) == SN_OK)
        st = dispatch(ts, shown, buf, len, opts, stats, err);
    free(buf);
    return st;
}
