/*
 * Vantage discovery, the saved forms of a verdict: stable `key: value` lines,
 * or one JSON object (written and read through the one JSON writer and reader
 * of lib/json.h), read back by a strict reader that names file and line, since
 * a scan records what it reads into every result row.
 */
#include "scanner/vantage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/text.h"

#define LOAD_MAX (64 * 1024)
#define VALUE_MAX 1024

/* ---- saved forms -------------------------------------------------------------------------- */

void sn_vantage_print(FILE *f, const sn_vantage_t *v, bool json)
{
    char local[SN_ADDR_STRLEN] = "unknown";
    if (f == NULL || v == NULL)
        return;
    if (v->local.family != 0)
        sn_addr_format(&v->local, local, sizeof local, true);
    unsigned n = v->n_evidence < SN_VANTAGE_EVIDENCE ? v->n_evidence : SN_VANTAGE_EVIDENCE;
    if (!json) {
        fprintf(f, "mapping: %s\nfiltering: %s\nudp: %s\ntcp: %s\nlocal: %s\n",
                sn_nat_behaviour_name(v->mapping), sn_nat_behaviour_name(v->filtering),
                sn_path_name(v->udp), sn_path_name(v->tcp), local);
        for (unsigned i = 0; i < n; i++)
            fprintf(f, "%.*s\n", SN_VANTAGE_EVIDENCE_LEN - 1, v->evidence[i]);
        return;
    }
    fprintf(f, "{\"mapping\":\"%s\",\"filtering\":\"%s\",\"udp\":\"%s\",\"tcp\":\"%s\",\"local\":",
            sn_nat_behaviour_name(v->mapping), sn_nat_behaviour_name(v->filtering),
            sn_path_name(v->udp), sn_path_name(v->tcp));
    if (v->local.family != 0)
        fprintf(f, "\"%s\"", local);
    else
        fputs("null", f);
    fputs(",\"evidence\":[", f);
    for (unsigned i = 0; i < n; i++) {
        char line[SN_VANTAGE_EVIDENCE_LEN];
        snprintf(line, sizeof line, "%s", v->evidence[i]);
        if (i > 0)
            fputc(',', f);
        sn_json_write_string(f, line);
    }
    fputs("]}\n", f);
}

void sn_vantage_format(const sn_vantage_t *v, char *buf, size_t cap)
{
    if (buf == NULL || cap == 0)
        return;
    buf[0] = '\0';
    if (v == NULL || !v->known)
        return;
    snprintf(buf, cap, "mapping=%s;filtering=%s;udp=%s;tcp=%s", sn_nat_behaviour_name(v->mapping),
             sn_nat_behaviour_name(v->filtering), sn_path_name(v->udp), sn_path_name(v->tcp));
}

/* What the reader has seen so far; shared by the two forms. */
typedef struct load_state {
    const char *path;
    sn_vantage_t *v;
    bool seen[5]; /* mapping, filtering, udp, tcp, local */
    sn_error_t *err;
} load_state_t;

static const char *const keys[5] = {"mapping", "filtering", "udp", "tcp", "local"};

/* Applies one known key's value (null_value: JSON null); line for messages. */
static sn_status_t apply_value(load_state_t *ls, int k, const char *val, bool null_value,
                               unsigned long line)
{
    sn_nat_behaviour_t nat;
    sn_path_t path;
    if (ls->seen[k])
        return sn_error_set(ls->err, SN_EPARSE, "%s:%lu: '%s' is given twice", ls->path, line,
                            keys[k]);
    ls->seen[k] = true;
    if (null_value && k != 4)
        return sn_error_set(ls->err, SN_EPARSE, "%s:%lu: '%s' cannot be null", ls->path, line,
                            keys[k]);
    switch (k) {
    case 0:
    case 1:
        if (!sn_nat_behaviour_from_name(val, &nat))
            return sn_error_set(ls->err, SN_EPARSE,
                                "%s:%lu: %s '%.40s' is not none, endpoint-independent, "
                                "address-dependent, address-and-port-dependent or unknown",
                                ls->path, line, keys[k], val);
        *(k == 0 ? &ls->v->mapping : &ls->v->filtering) = nat;
        return SN_OK;
    case 2:
        if (!sn_path_from_name(val, &path) || path == SN_PATH_443_80_ONLY)
            return sn_error_set(ls->err, SN_EPARSE,
                                "%s:%lu: udp '%.40s' is not open, blocked or unknown", ls->path,
                                line, val);
        ls->v->udp = path;
        return SN_OK;
    case 3:
        if (!sn_path_from_name(val, &path))
            return sn_error_set(ls->err, SN_EPARSE,
                                "%s:%lu: tcp '%.40s' is not open, 443-80-only, blocked or unknown",
                                ls->path, line, val);
        ls->v->tcp = path;
        return SN_OK;
    default:
        if (null_value || strcmp(val, "unknown") == 0) {
            memset(&ls->v->local, 0, sizeof ls->v->local);
            return SN_OK;
        }
        const char *why = NULL;
        if (sn_addr_parse_endpoint(val, strlen(val), &ls->v->local, &why) != SN_OK)
            return sn_error_set(ls->err, SN_EPARSE, "%s:%lu: local '%.60s' is not an address (%s)",
                                ls->path, line, val, why != NULL ? why : "bad address");
        return SN_OK;
    }
}

/* Keeps one evidence line: "name: text", printable, short enough, not too many. */
static sn_status_t apply_evidence(load_state_t *ls, const char *s, unsigned long line)
{
    size_t n = strlen(s);
    const char *colon = strstr(s, ": ");
    if (colon == NULL || colon == s)
        return sn_error_set(ls->err, SN_EPARSE, "%s:%lu: expected 'key: value'", ls->path, line);
    for (const char *p = s; p < colon; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return sn_error_set(ls->err, SN_EPARSE,
                                "%s:%lu: key '%.*s' is not lower-case letters, digits and '-'",
                                ls->path, line, (int)(colon - s > 40 ? 40 : colon - s), s);
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7F)
            return sn_error_set(ls->err, SN_EPARSE, "%s:%lu: control character in evidence",
                                ls->path, line);
    }
    if (n >= SN_VANTAGE_EVIDENCE_LEN)
        return sn_error_set(ls->err, SN_ELIMIT, "%s:%lu: evidence line longer than %d characters",
                            ls->path, line, SN_VANTAGE_EVIDENCE_LEN - 1);
    if (ls->v->n_evidence >= SN_VANTAGE_EVIDENCE)
        return sn_error_set(ls->err, SN_ELIMIT, "%s:%lu: more than %d evidence lines", ls->path,
                            line, SN_VANTAGE_EVIDENCE);
    memcpy(ls->v->evidence[ls->v->n_evidence++], s, n + 1);
    return SN_OK;
}

static sn_status_t check_complete(load_state_t *ls, unsigned long line)
{
    for (int k = 0; k < 4; k++) {
        if (!ls->seen[k])
            return sn_error_set(ls->err, SN_EPARSE, "%s:%lu: no '%s' given before the end",
                                ls->path, line, keys[k]);
    }
    ls->v->known = true;
    return SN_OK;
}

static sn_status_t load_text(load_state_t *ls, char *data, size_t len)
{
    unsigned long line = 0;
    size_t pos = 0;
    while (pos < len) {
        char *s = data + pos;
        char *nl = memchr(s, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL ? 1 : 0);
        line++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        s[n] = '\0';
        if (n == 0)
            continue;
        if (n > VALUE_MAX)
            return sn_error_set(ls->err, SN_ELIMIT, "%s:%lu: line longer than %d characters",
                                ls->path, line, VALUE_MAX);
        char *colon = strstr(s, ": ");
        int k;
        if (colon != NULL) {
            *colon = '\0';
            k = sn_name_index(s, keys, 5);
            bool known_key = k >= 0;
            *colon = ':';
            if (known_key) {
                sn_status_t st = apply_value(ls, k, colon + 2, false, line);
                if (st != SN_OK)
                    return st;
                continue;
            }
        }
        sn_status_t st = apply_evidence(ls, s, line);
        if (st != SN_OK)
            return st;
    }
    return check_complete(ls, line > 0 ? line : 1);
}

/* The JSON form, through the one JSON reader (lib/json.h), which counts the lines. */
typedef struct jr {
    sn_json_t j;
    load_state_t *ls;
} jr_t;

/* A failure of the file's shape, at the cursor. */
static sn_status_t jfail(jr_t *r, const char *what)
{
    return sn_error_set(r->ls->err, SN_EPARSE, "%s:%lu: %s (column %lu)", r->ls->path, r->j.line,
                        what, sn_json_column(&r->j));
}

/* A string into out (cap bytes); a failure says why and where the reader stopped. */
static sn_status_t jstring(jr_t *r, char *out, size_t cap)
{
    const sn_json_t *j = &r->j;
    if (sn_json_string(&r->j, out, cap, NULL))
        return SN_OK;
    if (j->err == SN_JSON_ELONG)
        return sn_error_set(r->ls->err, SN_ELIMIT, "%s:%lu: string longer than %zu bytes",
                            r->ls->path, j->line, cap - 1);
    return sn_error_set(r->ls->err, SN_EPARSE, "%s:%lu: %s (column %lu)", r->ls->path, j->line,
                        sn_json_strerror(j->err), j->err_column);
}

/* An array of strings; each goes to evidence when keep, else is skipped. */
static sn_status_t jstring_array(jr_t *r, bool keep)
{
    char s[VALUE_MAX];
    if (!sn_json_eat(&r->j, '['))
        return jfail(r, "expected an array of strings");
    if (sn_json_eat(&r->j, ']'))
        return SN_OK;
    for (;;) {
        unsigned long line = r->j.line;
        sn_status_t st = jstring(r, s, sizeof s);
        if (st == SN_OK && keep)
            st = apply_evidence(r->ls, s, line);
        if (st != SN_OK)
            return st;
        if (sn_json_eat(&r->j, ']'))
            return SN_OK;
        if (!sn_json_eat(&r->j, ','))
            return jfail(r, "expected ',' or ']' in an array");
    }
}

static sn_status_t load_json(load_state_t *ls, const char *data, size_t len)
{
    jr_t r = {.j = sn_json_reader(data, len), .ls = ls};
    char key[64], val[VALUE_MAX];
    bool seen_evidence = false;

    if (!sn_json_eat(&r.j, '{'))
        return jfail(&r, "expected '{'");
    if (!sn_json_eat(&r.j, '}')) {
        for (;;) {
            sn_status_t st = jstring(&r, key, sizeof key);
            if (st != SN_OK)
                return st;
            if (!sn_json_eat(&r.j, ':'))
                return jfail(&r, "expected ':' after a key");
            unsigned long line = r.j.line;
            int k;
            if (strcmp(key, "evidence") == 0) {
                if (seen_evidence)
                    return jfail(&r, "'evidence' is given twice");
                seen_evidence = true;
                st = jstring_array(&r, true);
            } else if ((k = sn_name_index(key, keys, 5)) >= 0) {
                if (sn_json_literal(&r.j, "null")) {
                    st = apply_value(ls, k, "", true, line);
                } else {
                    st = jstring(&r, val, sizeof val);
                    if (st == SN_OK)
                        st = apply_value(ls, k, val, false, line);
                }
            } else {
                /* A key of a later version: skip a string, null or array of strings. */
                if (sn_json_peek(&r.j) == '[')
                    st = jstring_array(&r, false);
                else if (!sn_json_literal(&r.j, "null"))
                    st = jstring(&r, val, sizeof val);
            }
            if (st != SN_OK)
                return st;
            if (sn_json_eat(&r.j, '}'))
                break;
            if (!sn_json_eat(&r.j, ','))
                return jfail(&r, "expected ',' or '}' after a value");
        }
    }
    if (!sn_json_end(&r.j))
        return jfail(&r, "data after the JSON object");
    return check_complete(ls, r.j.line);
}

sn_status_t sn_vantage_load(const char *path, sn_vantage_t *out, sn_error_t *err)
{
    if (path == NULL || out == NULL)
        return sn_error_set(err, SN_EINVAL, "vantage: no file given");
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sn_error_set(err, SN_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *data = malloc(LOAD_MAX + 1);
    if (data == NULL) {
        fclose(f);
        return sn_error_set(err, SN_ENOMEM, "%s: out of memory", path);
    }
    size_t len = fread(data, 1, LOAD_MAX + 1, f);
    bool bad = ferror(f) != 0;
    fclose(f);
    sn_status_t st;
    if (bad) {
        st = sn_error_set(err, SN_EIO, "%s: read error", path);
    } else if (len > LOAD_MAX) {
        st = sn_error_set(err, SN_ELIMIT, "%s: larger than %d bytes", path, LOAD_MAX);
    } else if (memchr(data, '\0', len) != NULL) {
        unsigned long line = 1;
        for (const char *p = data; *p; p++)
            line += *p == '\n';
        st = sn_error_set(err, SN_EPARSE, "%s:%lu: NUL byte", path, line);
    } else {
        data[len] = '\0';
        load_state_t ls = {.path = path, .v = out, .err = err};
        size_t i = 0;
        while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
            i++;
        if (i == len)
            st = sn_error_set(err, SN_EPARSE, "%s:1: empty file", path);
        else if (data[i] == '{')
            st = load_json(&ls, data, len);
        else
            st = load_text(&ls, data, len);
    }
    free(data);
    if (st != SN_OK)
        memset(out, 0, sizeof *out);
    return st;
}
