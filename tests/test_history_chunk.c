/*
 * The history store's packed observations (data/history_chunk.c): what is
 * packed reads back the same, field by field; a cell that repeats the row
 * before costs one byte; a blob cut anywhere, or holding a lie (a count, a
 * length, a NUL in a text, a port above 65535), is refused with the byte
 * offset named, never read past its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/history_chunk.h"

#define NCELLS 3

typedef struct got {
    int n;
    struct {
        char address[80], cells[NCELLS][64];
        uint16_t port;
        int64_t at;
        bool probed, alive, incomplete;
    } o[16];
} got_t;

static void keep(void *ud, const sn_history_obs_t *o)
{
    got_t *g = ud;
    assert_true(g->n < 16);
    snprintf(g->o[g->n].address, sizeof g->o[0].address, "%s", o->address);
    for (int i = 0; i < NCELLS; i++)
        snprintf(g->o[g->n].cells[i], sizeof g->o[0].cells[0], "%s", o->cells[i]);
    g->o[g->n].port = o->port;
    g->o[g->n].at = o->observed_at;
    g->o[g->n].probed = o->probed;
    g->o[g->n].alive = o->alive;
    g->o[g->n].incomplete = o->incomplete;
    g->n++;
}

static const char *c0[] = {"alive", "", "x"}, *c1[] = {"alive", "12", "x"},
                  *c2[] = {"", "12", "y,\"z\"\n"}, *c3[] = {"dead", "", ""};

/* Observations that take every path: IPv6, NULL cells, times going back, the extremes. */
static const sn_history_obs_t sample[] = {
    {.address = "192.0.2.1",
     .port = 1,
     .observed_at = 1700000000,
     .probed = true,
     .alive = true,
     .cells = c0},
    {.address = "2001:db8::1",
     .port = 65535,
     .observed_at = 1699999990,
     .probed = true,
     .cells = c1},
    {.address = "10.0.0.1",
     .port = 4000,
     .observed_at = INT64_MAX,
     .incomplete = true,
     .cells = NULL},
    {.address = "10.0.0.2",
     .port = 4000,
     .observed_at = INT64_MIN,
     .probed = true,
     .alive = true,
     .incomplete = true,
     .cells = c2},
    {.address = "10.0.0.3", .port = 0, .observed_at = 0, .cells = c3},
};
#define NSAMPLE (sizeof sample / sizeof sample[0])

static void test_hchunk_round_trip_keeps_every_field(void **state)
{
    (void)state;
    uint8_t *blob;
    size_t len;
    sn_error_t err;
    assert_int_equal(sn_hchunk_encode(sample, NSAMPLE, NCELLS, &blob, &len, &err), SN_OK);
    uint64_t n, nc;
    assert_int_equal(sn_hchunk_header(blob, len, &n, &nc, &err), SN_OK);
    assert_int_equal(n, NSAMPLE);
    assert_int_equal(nc, NCELLS);
    got_t g = {0};
    assert_int_equal(sn_hchunk_decode(blob, len, keep, &g, &err), SN_OK);
    assert_int_equal(g.n, NSAMPLE);
    for (size_t k = 0; k < NSAMPLE; k++) {
        const sn_history_obs_t *o = &sample[k];
        assert_string_equal(g.o[k].address, o->address);
        assert_int_equal(g.o[k].port, o->port);
        assert_true(g.o[k].at == o->observed_at);
        assert_int_equal(g.o[k].probed, o->probed);
        assert_int_equal(g.o[k].alive, o->alive);
        assert_int_equal(g.o[k].incomplete, o->incomplete);
        for (int i = 0; i < NCELLS; i++)
            assert_string_equal(g.o[k].cells[i], o->cells ? o->cells[i] : "");
    }
    free(blob);
}

static size_t size_of(const sn_history_obs_t *obs, size_t n, size_t n_cells)
{
    uint8_t *blob;
    size_t len;
    sn_error_t err;
    assert_int_equal(sn_hchunk_encode(obs, n, n_cells, &blob, &len, &err), SN_OK);
    free(blob);
    return len;
}

/* Ten rows whose one cell is "alive" in each: the text once, then one byte a row. */
static void test_hchunk_repeated_cell_costs_one_byte(void **state)
{
    (void)state;
    const char *same[] = {"alive"}, *none[] = {""};
    sn_history_obs_t a[10], b[10];
    for (int i = 0; i < 10; i++) {
        a[i] = (sn_history_obs_t){.address = "10.0.0.1", .port = 80, .cells = same};
        b[i] = (sn_history_obs_t){.address = "10.0.0.1", .port = 80, .cells = none};
    }
    /* "" before the first row: a column of "" costs one byte a row too. */
    assert_int_equal(size_of(a, 10, 1), size_of(b, 10, 1) + strlen("alive"));
    /* A cell that alternates pays its text every row. */
    const char *other[] = {"dead"};
    a[5].cells = other;
    assert_int_equal(size_of(a, 10, 1), size_of(b, 10, 1) + 2 * strlen("alive") + strlen("dead"));
}

static void test_hchunk_encode_refuses_overlong_address(void **state)
{
    (void)state;
    char addr[SN_HCHUNK_ADDR_MAX + 2];
    memset(addr, '1', sizeof addr - 1);
    addr[sizeof addr - 1] = '\0';
    sn_history_obs_t o = {.address = addr, .port = 1};
    uint8_t *blob = (uint8_t *)"x";
    size_t len = 7;
    sn_error_t err;
    assert_int_equal(sn_hchunk_encode(&o, 1, 0, &blob, &len, &err), SN_EINVAL);
    assert_null(blob);
    assert_int_equal(len, 0);
    assert_non_null(strstr(err.msg, "too long"));
}

static void nothing(void *ud, const sn_history_obs_t *o)
{
    (void)o;
    (*(int *)ud)++;
}

/* Every proper prefix of a valid blob is refused (the sanitizers check no byte past it is
 * read); the observations before the cut are delivered, never more. */
static void test_hchunk_every_truncation_is_refused(void **state)
{
    (void)state;
    uint8_t *blob;
    size_t len;
    sn_error_t err;
    assert_int_equal(sn_hchunk_encode(sample, NSAMPLE, NCELLS, &blob, &len, &err), SN_OK);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exactly cut bytes: ASan sees any overread */
        memcpy(copy, blob, cut);
        int n = 0;
        assert_int_equal(sn_hchunk_decode(copy, cut, nothing, &n, &err), SN_EINVAL);
        assert_true(n < (int)NSAMPLE);
        assert_non_null(strstr(err.msg, "at byte"));
        free(copy);
    }
    free(blob);
}

typedef struct bad {
    const char *name;
    uint8_t bytes[24];
    size_t len;
    const char *why;
} bad_t;

/* Hand-made blobs, each with one lie; header: version 1, N, C. */
static const bad_t bad[] = {
    {"empty", {0}, 0, "truncated"},
    {"version 2", {2, 0, 0}, 3, "unknown chunk version"},
    {"more observations than bytes", {1, 9, 0, 1}, 4, "counts larger"},
    {"more cells than bytes", {1, 0, 5, 0}, 4, "counts larger"},
    {"a byte after the end", {1, 0, 0, 7}, 4, "bytes after"},
    {"unknown flag", {1, 1, 0, 8, 1, '1', 1, 0}, 8, "unknown flags"},
    {"empty address", {1, 1, 0, 0, 0, 1, 0, 0}, 8, "address length"},
    {"NUL in the address", {1, 1, 0, 0, 2, '1', 0, 1, 0}, 9, "NUL"},
    {"port 65536", {1, 1, 0, 0, 1, '1', 0x80, 0x80, 0x04, 0}, 10, "port above"},
    {"NUL in a cell", {1, 1, 1, 0, 1, '1', 1, 0, 3, 'a', 0}, 11, "NUL"},
    {"cell past the end", {1, 1, 1, 0, 1, '1', 1, 0, 9, 'a'}, 10, "past the end"},
    {"integer of 11 bytes",
     {1, 1, 0, 0, 1, '1', 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x01},
     18,
     "longer than 10"},
};

static void test_hchunk_refuses_each_lie(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sn_error_t err;
        int n = 0;
        uint8_t *copy = malloc(bad[i].len ? bad[i].len : 1);
        memcpy(copy, bad[i].bytes, bad[i].len);
        sn_status_t st = sn_hchunk_decode(copy, bad[i].len, nothing, &n, &err);
        free(copy);
        if (st != SN_EINVAL || strstr(err.msg, bad[i].why) == NULL)
            fail_msg("%s: status %d, '%s'", bad[i].name, st, st ? err.msg : "");
        assert_int_equal(n, 0);
    }
}

/* The same blobs with the lie taken out decode: the cases above fail for their lie alone. */
static void test_hchunk_refusals_are_of_the_lie(void **state)
{
    (void)state;
    static const uint8_t ok[][12] = {
        {1, 1, 0, 7, 1, '1', 1, 0},                /* every flag */
        {1, 1, 0, 0, 1, '1', 0xff, 0xff, 0x03, 0}, /* port 65535 */
        {1, 1, 1, 0, 1, '1', 1, 0, 2, 'a'},        /* one cell, "a" */
    };
    static const size_t lens[] = {8, 10, 10};
    for (size_t i = 0; i < 3; i++) {
        sn_error_t err;
        int n = 0;
        assert_int_equal(sn_hchunk_decode(ok[i], lens[i], nothing, &n, &err), SN_OK);
        assert_int_equal(n, 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hchunk_round_trip_keeps_every_field),
        cmocka_unit_test(test_hchunk_repeated_cell_costs_one_byte),
        cmocka_unit_test(test_hchunk_encode_refuses_overlong_address),
        cmocka_unit_test(test_hchunk_every_truncation_is_refused),
        cmocka_unit_test(test_hchunk_refuses_each_lie),
        cmocka_unit_test(test_hchunk_refusals_are_of_the_lie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
