/*
 * What the input readers' unit tests (test_csvin.c, test_hostcache.c, test_plainlist.c,
 * test_input.c) share: a log of the bad entries a reader reports through on_bad, one read
 * of a buffer into a fresh target set with its status, counts, error and log, and the
 * lookups the tests assert on (a target by its endpoint text, a target's source labels,
 * an address as text). It includes cmocka itself; the functions are static inline, so a
 * test that uses only some of them builds without warnings.
 *
 * The logs are sized for the largest user: 64 entries (a plain list with many bad lines)
 * of up to 4200 bytes of "where" (a fixture's full path and line); a run_t is therefore
 * some 300 KB, which the tests keep on the stack or allocate.
 */
#ifndef SN_TESTS_INPUT_RUN_H
#define SN_TESTS_INPUT_RUN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "data/input.h"

#define BAD_LOG_MAX 64 /* bad entries kept; the rest are only counted in n */

typedef struct bad_log {
    unsigned n;
    char where[BAD_LOG_MAX][4200];
    char reason[BAD_LOG_MAX][400];
} bad_log_t;

/* The on_bad callback of sn_read_opts_t: ud is a bad_log_t. */
static inline void on_bad(void *ud, const char *where, const char *reason)
{
    bad_log_t *b = ud;
    if (b->n < BAD_LOG_MAX) {
        snprintf(b->where[b->n], sizeof b->where[0], "%s", where);
        snprintf(b->reason[b->n], sizeof b->reason[0], "%s", reason);
    }
    b->n++;
}

typedef struct run {
    sn_targets_t *ts;
    sn_status_t st;
    sn_read_stats_t stats;
    sn_error_t err;
    bad_log_t bad;
} run_t;

/* Reads the len bytes of buf, named name, in format (lenient, or strict) into a new target
 * set; the bad entries go to r->bad. End with done(r). */
static inline void run_read(run_t *r, sn_input_format_t format, const char *name, const char *buf,
                            size_t len, bool strict)
{
    memset(r, 0, sizeof *r);
    r->ts = sn_targets_new();
    assert_non_null(r->ts);
    sn_read_opts_t o = {.format = format, .strict = strict, .on_bad = on_bad, .ud = &r->bad};
    r->st = sn_input_read_buf(r->ts, name, buf, len, &o, &r->stats, &r->err);
}

static inline void done(run_t *r)
{
    sn_targets_free(r->ts);
    r->ts = NULL;
}

/* The target of ts at the endpoint text ep ("192.0.2.1:80", "[2001:db8::1]:443"), or NULL. */
static inline const sn_target_t *find(sn_targets_t *ts, const char *ep)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_endpoint(ep, strlen(ep), &a, NULL), SN_OK);
    return sn_targets_find(ts, &a);
}

static inline void assert_addr(const sn_addr_t *a, const char *want)
{
    char buf[SN_ADDR_STRLEN];
    sn_addr_format(a, buf, sizeof buf, true);
    assert_string_equal(buf, want);
}

/* A target's source labels, as sn_targets_foreach_source gives them (add_label is its
 * callback, ud a labels_t); the first 8 are kept, n counts all. */
typedef struct labels {
    unsigned n;
    char s[8][4200];
} labels_t;

static inline void add_label(const char *label, void *ud)
{
    labels_t *l = ud;
    if (l->n < 8)
        snprintf(l->s[l->n], sizeof l->s[0], "%s", label);
    l->n++;
}

#endif
