/*
 * The history store (data/history.c, data/history_sqlite.c): a run written
 * in batches reads back whole; a resumed run keeps what it had and replaces
 * incomplete observations; a second writer is refused with the holder's pid;
 * a file written by the schema's first version opens and is migrated; a
 * column added to the result table appears in an existing file; writers of
 * different sites and shards hold their own locks and write at once, and the
 * runs of one sharded night read back as one set; a file of schema version 3
 * keeps its observation rows readable beside the chunks new runs write, with
 * one id per target across both; a damaged chunk fails the read and names
 * itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "data/history.h"

static char dir[64], db[512];

/* SN_TEST_PG_URI set (tests/lib/with_pg.sh): every test runs against that PostgreSQL server,
 * on an empty schema each; the few about SQLite files themselves are skipped. */
static const char *pg_uri;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sn_history_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/h.db", dir);
    if (pg_uri != NULL) {
        snprintf(db, sizeof db, "%s", pg_uri);
        PGconn *c = PQconnectdb(pg_uri);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        PGresult *r = PQexec(c, "SET client_min_messages = warning;"
                                "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
        PQfinish(c);
    }
    return 0;
}

/* A test of SQLite's files (their schema as older releases wrote it, the lock file). */
#define SQLITE_ONLY()                                                                              \
    do {                                                                                           \
        if (pg_uri != NULL)                                                                        \
            skip();                                                                                \
    } while (0)

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static const char *const cols[] = {"address", "port", "udp_outcome"};

static sn_history_obs_t obs_of(const char *ip, uint16_t port, bool alive, bool incomplete,
                               const char **cells, char *portbuf)
{
    snprintf(portbuf, 8, "%u", port);
    cells[0] = ip;
    cells[1] = portbuf;
    cells[2] = incomplete ? "incomplete" : alive ? "alive" : "filtered";
    return (sn_history_obs_t){.address = ip,
                              .port = port,
                              .observed_at = 100,
                              .probed = true,
                              .alive = alive,
                              .incomplete = incomplete,
                              .cells = cells};
}

typedef struct seen {
    int n, alive, incomplete;
    char last_outcome[32];
    int64_t run;
} seen_t;

static void count_obs(void *ud, const sn_history_obs_t *o)
{
    seen_t *s = ud;
    s->n++;
    s->alive += o->alive;
    s->incomplete += o->incomplete;
    s->run = o->run_id;
    if (o->cells)
        snprintf(s->last_outcome, sizeof s->last_outcome, "%s", o->cells[2]);
}

typedef struct runs {
    int n;
    struct {
        char status[16], site[32], shard[16], night[16];
        int64_t probed, alive;
    } r[16];
} runs_t;

static void keep_run(void *ud, const sn_history_run_t *r)
{
    runs_t *rs = ud;
    if (rs->n == 16)
        return;
    snprintf(rs->r[rs->n].status, sizeof rs->r[0].status, "%s", r->status);
    snprintf(rs->r[rs->n].site, sizeof rs->r[0].site, "%s", r->site);
    snprintf(rs->r[rs->n].shard, sizeof rs->r[0].shard, "%s", r->shard);
    snprintf(rs->r[rs->n].night, sizeof rs->r[0].night, "%s", r->night);
    rs->r[rs->n].probed = r->probed;
    rs->r[rs->n].alive = r->alive;
    rs->n++;
}

static void add_n(sn_history_t *h, int from, int to, bool incomplete_odd)
{
    sn_error_t err;
    for (int i = from; i < to; i++) {
        char ip[32], pb[8];
        const char *cells[3];
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 256, i % 256);
        sn_history_obs_t o = obs_of(ip, 4000, i % 3 == 0, incomplete_odd && i % 2, cells, pb);
        assert_int_equal(sn_history_add(h, &o, &err), SN_OK);
    }
}

static void test_history_run_in_batches_reads_back_whole(void **state)
{
    (void)state;
    sn_history_t *h;
    sn_error_t err;
    assert_int_equal(sn_history_open(&h, db, true, cols, 3, &err), SN_OK);
    sn_history_run_t run = {.started = 1, .command = "snprobe scan x", .targets = 2500};
    int64_t id;
    bool resumed;
    assert_int_equal(sn_history_begin(h, &run, true, &id, &resumed, &err), SN_OK);
    assert_false(resumed); /* nothing to resume: a new run */
    add_n(h, 0, 2500, false);
    /* Two full batches are committed already; the rest at end. */
    assert_int_equal(sn_history_rows(h), 2 * SN_HISTORY_BATCH);
    assert_int_equal(sn_history_end(h, false, 2500, &err), SN_OK);
    sn_history_close(h);

    assert_int_equal(sn_history_open(&h, db, false, cols, 3, &err), SN_OK);
    seen_t s = {0};
    assert_int_equal(sn_history_each_observation(h, id, true, count_obs, &s, &err), SN_OK);
    assert_int_equal(s.n, 2500);
    assert_int_equal(s.alive, (2500 + 2) / 3);
    assert_int_equal(sn_history_newest(h, "complete", &id, &err), SN_OK);
    assert_int_equal(id, 1);
    sn_history_close(h);
}

static void test_history_resume_keeps_finished_and_replaces_incomplete(void **state)
{
    (void)state;
    sn_history_t *h;
    sn_error_t err;
    int64_t id, id2;
    bool resumed;
    assert_int_equal(sn_history_open(&h, db, true, cols, 3, &err), SN_OK);
    sn_history_run_t run = {.started = 1};
    assert_int_equal(sn_history_begin(h, &run, false, &id, &resumed, &err), SN_OK);
    add_n(h, 0, 100, true); /* 50 finished, 50 incomplete */
    assert_int_equal(sn_history_end(h, true, 200, &err), SN_OK);
    sn_history_close(h);

    assert_int_equal(sn_history_open(&h, db, true, cols, 3, &err), SN_OK);
    assert_int_equal(sn_history_begin(h, &run, true, &id2, &resumed, &err), SN_OK);
    assert_true(resumed);
    assert_int_equal(id2, id);
    assert_int_equal(sn_history_kept(h), 50);
    assert_true(sn_history_has(h, "10.0.0.0", 4000));
    assert_false(sn_history_has(h, "10.0.0.1", 4000)); /* incomplete: probed again */
    assert_false(sn_history_has(h, "10.0.0.150", 4000));
    /* The resumed scan probes the incomplete ones and the 100 never started. */
    for (int i = 0; i < 200; i++) {
        char ip[32], pb[8];
        const char *cells[3];
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 256, i % 256);
        if (sn_history_has(h, ip, 4000))
            continue;
        sn_history_obs_t o = obs_of(ip, 4000, i % 3 == 0, false, cells, pb);
        assert_int_equal(sn_history_add(h, &o, &err), SN_OK);
    }
    assert_int_equal(sn_history_end(h, false, 200, &err), SN_OK);
    sn_history_close(h);

    assert_int_equal(sn_history_open(&h, db, false, NULL, 0, &err), SN_OK);
    seen_t s = {0};
    assert_int_equal(sn_history_each_observation(h, id, false, count_obs, &s, &err), SN_OK);
    assert_int_equal(s.n, 200);
    assert_int_equal(s.incomplete, 0);
    assert_int_equal(s.alive, (200 + 2) / 3);
    int64_t newest;
    assert_int_equal(sn_history_newest(h, "interrupted", &newest, &err), SN_OK);
    assert_int_equal(newest, 0);
    /* The run's counts are of what it holds now: the 50 replaced observations count once. */
    runs_t rs = {0};
    assert_int_equal(sn_history_each_run(h, keep_run, &rs, &err), SN_OK);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.r[0].probed, 200);
    assert_int_equal(rs.r[0].alive, (200 + 2) / 3);
    sn_history_close(h);
}

/*
 * The second writers of the lock tests run as this program anew (fork, then exec of itself
 * with --child): a child only forked from a process whose history has a writer thread may
 * inherit a lock that thread held at the fork (seen once as a hang under ASan), and exec
 * starts clean. Returns the child's exit status.
 */
static int run_child(const char *which)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", "test_history", "--child", which, db, (char *)NULL);
        _exit(127);
    }
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    return WEXITSTATUS(ws);
}

/* The children: 0 when every open went as the parent's lock says it must. */
static int child_main(const char *which, const char *where)
{
    snprintf(db, sizeof db, "%s", where);
    sn_error_t e;
    if (strcmp(which, "second-writer") == 0) {
        sn_history_t *h2 = NULL;
        sn_status_t st = sn_history_open(&h2, db, true, cols, 3, &e);
        char want[32];
        snprintf(want, sizeof want, "pid %ld", (long)getppid());
        return st == SN_EBUSY && strstr(e.msg, want) != NULL ? 0 : 1;
    }
    if (strcmp(which, "site-locks") == 0) {
        sn_history_t *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        int bad = 0;
        bad |= sn_history_open_writer(&a, db, "zurich", "1/2", cols, 3, &e) != SN_EBUSY;
        bad |= strstr(e.msg, "zurich") == NULL;
        bad |= sn_history_open_writer(&b, db, "zurich", "2/2", cols, 3, &e) != SN_OK;
        bad |= sn_history_open_writer(&c, db, "tel aviv", "1/2", cols, 3, &e) != SN_OK;
        bad |= sn_history_open(&d, db, true, cols, 3, &e) != SN_OK;
        sn_history_close(b);
        sn_history_close(c);
        sn_history_close(d);
        return bad;
    }
    return 2;
}

static void test_history_second_writer_refused_with_pid(void **state)
{
    (void)state;
    sn_history_t *h, *h2 = NULL, *r = NULL;
    sn_error_t err;
    assert_int_equal(sn_history_open(&h, db, true, cols, 3, &err), SN_OK);
    /* flock locks belong to the open file: a child process is a true second writer. */
    assert_int_equal(run_child("second-writer"), 0);
    /* A reader opens alongside. */
    assert_int_equal(sn_history_open(&r, db, false, cols, 3, &err), SN_OK);
    sn_history_close(r);
    sn_history_close(h);
    /* Released: the next writer gets it. */
    assert_int_equal(sn_history_open(&h2, db, true, cols, 3, &err), SN_OK);
    sn_history_close(h2);
}

static void test_history_first_schema_version_opens_and_migrates(void **state)
{
    (void)state;
    SQLITE_ONLY();
    /* The schema exactly as version 1 wrote it, with one run and one observation. */
    sqlite3 *d;
    assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
    const char *v1 =
        "CREATE TABLE schema_version(version INTEGER NOT NULL);"
        "INSERT INTO schema_version VALUES(1);"
        "CREATE TABLE runs(id INTEGER PRIMARY KEY, started INTEGER NOT NULL, finished INTEGER,"
        " status TEXT NOT NULL, command TEXT, site TEXT, vantage TEXT, inputs TEXT, plan TEXT,"
        " targets INTEGER, probed INTEGER, alive INTEGER);"
        "CREATE TABLE targets(id INTEGER PRIMARY KEY, address TEXT NOT NULL, port INTEGER NOT "
        "NULL, first_listed INTEGER NOT NULL, UNIQUE(address, port));"
        "CREATE TABLE observations(run_id INTEGER NOT NULL REFERENCES runs(id),"
        " target_id INTEGER NOT NULL REFERENCES targets(id), observed_at INTEGER NOT NULL,"
        " probed INTEGER NOT NULL, alive INTEGER NOT NULL, incomplete INTEGER NOT NULL,"
        " c_address TEXT, c_port TEXT, PRIMARY KEY(run_id, target_id));"
        "INSERT INTO runs VALUES(1, 10, 20, 'complete', 'c', '', '', '', '', 1, 1, 1);"
        "INSERT INTO targets VALUES(1, '192.0.2.1', 5000, 10);"
        "INSERT INTO observations VALUES(1, 1, 15, 1, 1, 0, '192.0.2.1', '5000');";
    assert_int_equal(sqlite3_exec(d, v1, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(d);

    sn_history_t *h;
    sn_error_t err;
    assert_int_equal(sn_history_open(&h, db, true, cols, 3, &err), SN_OK);
    assert_true(sn_history_schema_version(h) > 1);
    seen_t s = {0};
    assert_int_equal(sn_history_each_observation(h, 0, true, count_obs, &s, &err), SN_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.alive, 1);
    assert_string_equal(s.last_outcome, ""); /* the column the old file lacked, added empty */
    sn_history_run_t run = {.started = 30};
    int64_t id;
    bool resumed;
    assert_int_equal(sn_history_begin(h, &run, false, &id, &resumed, &err), SN_OK);
    assert_int_equal(id, 2);
    add_n(h, 0, 3, false);
    assert_int_equal(sn_history_end(h, false, 3, &err), SN_OK);
    sn_history_close(h);
}

static int page_size_of(const char *path)
{
    sqlite3 *d;
    sqlite3_stmt *q;
    int size = -1;
    if (sqlite3_open(path, &d) == SQLITE_OK &&
        sqlite3_prepare_v2(d, "PRAGMA page_size", -1, &q, NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            size = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
    }
    sqlite3_close(d);
    return size;
}

/* A new store gets 16 KiB pages; one that has tables keeps the size it was made with. */
static void test_history_new_file_has_large_pages_old_file_keeps_its_own(void **state)
{
    (void)state;
    SQLITE_ONLY();
    sn_history_t *h;
    sn_error_t err;
    assert_int_equal(sn_history_open(&h, db, true, cols, 3, &err), SN_OK);
    sn_history_close(h);
    assert_int_equal(page_size_of(db), 16384);

    char old[600];
    snprintf(old, sizeof old, "%s.old", db);
    sqlite3 *d;
    assert_int_equal(sqlite3_open(old, &d), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(d, "PRAGMA page_size=4096; CREATE TABLE other(x);", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(d);
    assert_int_equal(sn_history_open(&h, old, true, cols, 3, &err), SN_OK);
    assert_true(sn_history_schema_version(h) > 1);
    sn_history_run_t run = {.started = 30};
    int64_t id;
    bool resumed;
    assert_int_equal(sn_history_begin(h, &run, false, &id, &resumed, &err), SN_OK);
    add_n(h, 0, 3, false);
    assert_int_equal(sn_history_end(h, false, 3, &err), SN_OK);
    sn_history_close(h);
    assert_int_equal(page_size_of(old), 4096);
    char side[640];
    const char *suffix[] = {"", "-wal", "-shm", ".lock"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(side, sizeof side, "%s%s", old, suffix[i]);
        unlink(side);
    }
}

/* A writer killed mid-run leaves it "running"; the next writer finds it interrupted. */
static void test_history_run_of_a_dead_writer_is_resumable(void **state)
{
    (void)state;
    pid_t pid = fork();
    if (pid == 0) {
        sn_history_t *h;
        sn_error_t e;
        sn_history_run_t run = {.started = 1};
        int64_t id;
        bool resumed;
        if (sn_history_open(&h, db, true, cols, 3, &e) != SN_OK ||
            sn_history_begin(h, &run, false, &id, &resumed, &e) != SN_OK)
            _exit(1);
        add_n(h, 0, SN_HISTORY_BATCH + 10, false);  /* one batch handed to the writer */
        if (sn_history_rows(h) != SN_HISTORY_BATCH) /* waits for that commit */
            _exit(2);
        _exit(0); /* no end, no close: as kill -9, with 10 rows still buffered */
    }
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_int_equal(WEXITSTATUS(ws), 0);
    sn_history_t *h;
    sn_error_t err;
    assert_int_equal(sn_history_open(&h, db, true, cols, 3, &err), SN_OK);
    sn_history_run_t run = {.started = 2};
    int64_t id;
    bool resumed;
    assert_int_equal(sn_history_begin(h, &run, true, &id, &resumed, &err), SN_OK);
    assert_true(resumed);
    assert_int_equal(id, 1);
    assert_int_equal(sn_history_kept(h), SN_HISTORY_BATCH); /* the buffered 10 are lost */
    sn_history_close(h);
}

/* Only the last run is resumed: an older interrupted one's night is over. */
static void test_history_resume_leaves_an_older_interrupted_run(void **state)
{
    (void)state;
    sn_history_t *h;
    sn_error_t err;
    int64_t id;
    bool resumed;
    sn_history_run_t run = {.started = 1};
    assert_int_equal(sn_history_open(&h, db, true, cols, 3, &err), SN_OK);
    assert_int_equal(sn_history_begin(h, &run, false, &id, &resumed, &err), SN_OK);
    add_n(h, 0, 10, false);
    assert_int_equal(sn_history_end(h, true, 20, &err), SN_OK); /* run 1 interrupted */
    assert_int_equal(sn_history_begin(h, &run, false, &id, &resumed, &err), SN_OK);
    add_n(h, 0, 20, false);
    assert_int_equal(sn_history_end(h, false, 20, &err), SN_OK); /* run 2 complete */
    assert_int_equal(sn_history_begin(h, &run, true, &id, &resumed, &err), SN_OK);
    assert_false(resumed);
    assert_int_equal(id, 3);
    assert_int_equal(sn_history_kept(h), 0);
    sn_history_close(h);
}

static void test_history_reader_of_missing_file_fails(void **state)
{
    (void)state;
    sn_history_t *h;
    sn_error_t err;
    if (pg_uri != NULL) { /* a database that does not exist */
        char *q = strstr(db, "/snprobe?");
        assert_non_null(q);
        char missing[600];
        snprintf(missing, sizeof missing, "%.*s/nosuchdb%s", (int)(q - db), db, q + 8);
        assert_int_not_equal(sn_history_open(&h, missing, false, NULL, 0, &err), SN_OK);
        assert_null(h);
        assert_null(strstr(err.msg, "password"));
        return;
    }
    assert_int_not_equal(sn_history_open(&h, db, false, NULL, 0, &err), SN_OK);
    assert_null(h);
    assert_int_equal(access(db, F_OK), -1); /* a reader creates nothing */
}

/* A file as schema version 2 (today's release) wrote it opens at version 3, its run's night
 * the UTC date it started. */
static void test_history_version_2_file_gets_nights(void **state)
{
    (void)state;
    SQLITE_ONLY();
    sqlite3 *d;
    assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
    const char *v2 =
        "CREATE TABLE schema_version(version INTEGER NOT NULL);"
        "INSERT INTO schema_version VALUES(2);"
        "CREATE TABLE runs(id INTEGER PRIMARY KEY, started INTEGER NOT NULL, finished INTEGER,"
        " status TEXT NOT NULL, command TEXT, site TEXT, vantage TEXT, inputs TEXT, plan TEXT,"
        " targets INTEGER, probed INTEGER, alive INTEGER, shard TEXT);"
        "CREATE TABLE targets(id INTEGER PRIMARY KEY, address TEXT NOT NULL, port INTEGER NOT "
        "NULL, first_listed INTEGER NOT NULL, UNIQUE(address, port));"
        "CREATE TABLE observations(run_id INTEGER NOT NULL REFERENCES runs(id),"
        " target_id INTEGER NOT NULL REFERENCES targets(id), observed_at INTEGER NOT NULL,"
        " probed INTEGER NOT NULL, alive INTEGER NOT NULL, incomplete INTEGER NOT NULL,"
        " c_address TEXT, c_port TEXT, c_udp_outcome TEXT, PRIMARY KEY(run_id, target_id));"
        "INSERT INTO runs VALUES(1, 1700000000, 1700000100, 'complete', 'c', 'zurich', '', '',"
        " '', 1, 1, 1, NULL);";
    assert_int_equal(sqlite3_exec(d, v2, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(d);
    sn_history_t *h;
    sn_error_t err;
    assert_int_equal(sn_history_open(&h, db, false, cols, 3, &err), SN_OK);
    assert_true(sn_history_schema_version(h) >= 3);
    runs_t rs = {0};
    assert_int_equal(sn_history_each_run(h, keep_run, &rs, &err), SN_OK);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.r[0].night, "2023-11-14"); /* 1700000000 is 2023-11-14 22:13 UTC */
    assert_string_equal(rs.r[0].site, "zurich");
    assert_string_equal(rs.r[0].shard, "");
    sn_history_close(h);
}

/* Starts a run of (site, shard, night) with targets 10.1.0.from .. to-1 and ends it. */
static int64_t shard_run(const char *site, const char *shard, const char *night, int from, int to)
{
    sn_history_t *h;
    sn_error_t err;
    assert_int_equal(sn_history_open_writer(&h, db, site, shard, cols, 3, &err), SN_OK);
    sn_history_run_t run = {.started = 1000, .night = night};
    int64_t id;
    bool resumed;
    assert_int_equal(sn_history_begin(h, &run, false, &id, &resumed, &err), SN_OK);
    for (int i = from; i < to; i++) {
        char ip[32], pb[8];
        const char *cells[3];
        snprintf(ip, sizeof ip, "10.1.0.%d", i);
        sn_history_obs_t o = obs_of(ip, 4000, true, false, cells, pb);
        assert_int_equal(sn_history_add(h, &o, &err), SN_OK);
    }
    assert_int_equal(sn_history_end(h, false, to - from, &err), SN_OK);
    sn_history_close(h);
    return id;
}

static void test_history_night_of_shards_reads_as_one(void **state)
{
    (void)state;
    int64_t s1 = shard_run("a", "1/3", "n1", 0, 10);
    int64_t s2old = shard_run("a", "2/3", "n1", 10, 15);
    int64_t s3 = shard_run("a", "3/3", "n1", 20, 30);
    int64_t s2 = shard_run("a", "2/3", "n1", 10, 20); /* shard 2 again: the newer run counts */
    int64_t other_site = shard_run("b", "1/3", "n1", 0, 10);
    int64_t other_night = shard_run("a", "1/3", "n2", 0, 10);
    int64_t other_split = shard_run("a", "1/2", "n1", 0, 10);
    int64_t plain = shard_run("a", "", "n1", 0, 30);
    sn_history_t *h;
    sn_error_t err;
    assert_int_equal(sn_history_open(&h, db, false, cols, 3, &err), SN_OK);
    int64_t *ids;
    size_t n;
    assert_int_equal(sn_history_night_runs(h, s3, &ids, &n, &err), SN_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], s1);
    assert_int_equal(ids[1], s3);
    assert_int_equal(ids[2], s2);
    seen_t s = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sn_history_each_observation(h, ids[i], false, count_obs, &s, &err), SN_OK);
    assert_int_equal(s.n, 30); /* every target of the night once */
    free(ids);
    assert_int_not_equal(s2old, s2);
    assert_int_equal(sn_history_night_runs(h, plain, &ids, &n, &err), SN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], plain);
    free(ids);
    assert_int_equal(sn_history_night_runs(h, other_site, &ids, &n, &err), SN_OK);
    assert_int_equal(n, 1);
    free(ids);
    assert_int_equal(sn_history_night_runs(h, other_night, &ids, &n, &err), SN_OK);
    assert_int_equal(n, 1);
    free(ids);
    assert_int_equal(sn_history_night_runs(h, other_split, &ids, &n, &err), SN_OK);
    assert_int_equal(n, 1);
    free(ids);
    assert_int_equal(sn_history_night_runs(h, 999, &ids, &n, &err), SN_ENOTFOUND);
    sn_history_close(h);
}

/* One lock per (site, shard): other sites and shards write alongside, the same one is refused,
 * and a new writer marks only its own (site, shard)'s stale runs interrupted. */
static void test_history_lock_per_site_and_shard(void **state)
{
    (void)state;
    sn_history_t *h;
    sn_error_t err;
    assert_int_equal(sn_history_open_writer(&h, db, "zurich", "1/2", cols, 3, &err), SN_OK);
    sn_history_run_t run = {.started = 1000};
    int64_t id;
    bool resumed;
    assert_int_equal(sn_history_begin(h, &run, false, &id, &resumed, &err), SN_OK);
    assert_int_equal(run_child("site-locks"), 0);
    runs_t rs = {0};
    assert_int_equal(sn_history_each_run(h, keep_run, &rs, &err), SN_OK);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.r[0].status, "running"); /* the other writers left it alone */
    assert_string_equal(rs.r[0].site, "zurich");
    assert_string_equal(rs.r[0].shard, "1/2");
    assert_int_equal(sn_history_end(h, false, 0, &err), SN_OK);
    sn_history_close(h);
    if (pg_uri != NULL)
        return; /* a server's lock is no file */
    /* Released: no lock file is left behind. */
    char *lp = sn_history_lock_path(db, "zurich", "1/2");
    assert_non_null(lp);
    assert_int_equal(access(lp, F_OK), -1);
    free(lp);
    lp = sn_history_lock_path(db, "tel aviv", "1/2");
    assert_non_null(strstr(lp, "tel%20aviv.1-2"));
    free(lp);
}

typedef struct obs_list {
    int n;
    struct {
        int64_t run, target;
        char address[48], outcome[16];
    } o[8];
} obs_list_t;

static void list_obs(void *ud, const sn_history_obs_t *o)
{
    obs_list_t *l = ud;
    if (l->n == 8)
        return;
    l->o[l->n].run = o->run_id;
    l->o[l->n].target = o->target_id;
    snprintf(l->o[l->n].address, sizeof l->o[0].address, "%s", o->address);
    snprintf(l->o[l->n].outcome, sizeof l->o[0].outcome, "%s", o->cells ? o->cells[2] : "-");
    l->n++;
}

/* A file of version 3 (observations as rows) migrates to chunks without rewriting its rows:
 * the old run reads as it was, a new run is added as chunks, and a target in both has one
 * id. */
static void test_history_version_3_rows_read_beside_new_chunks(void **state)
{
    (void)state;
    SQLITE_ONLY();
    sqlite3 *d;
    assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
    const char *v3 =
        "CREATE TABLE schema_version(version INTEGER NOT NULL);"
        "INSERT INTO schema_version VALUES(3);"
        "CREATE TABLE runs(id INTEGER PRIMARY KEY, started INTEGER NOT NULL, finished INTEGER,"
        " status TEXT NOT NULL, command TEXT, site TEXT, vantage TEXT, inputs TEXT, plan TEXT,"
        " targets INTEGER, probed INTEGER, alive INTEGER, shard TEXT, night TEXT);"
        "CREATE TABLE targets(id INTEGER PRIMARY KEY, address TEXT NOT NULL, port INTEGER NOT "
        "NULL, first_listed INTEGER NOT NULL, UNIQUE(address, port));"
        "CREATE TABLE observations(run_id INTEGER NOT NULL REFERENCES runs(id),"
        " target_id INTEGER NOT NULL REFERENCES targets(id), observed_at INTEGER NOT NULL,"
        " probed INTEGER NOT NULL, alive INTEGER NOT NULL, incomplete INTEGER NOT NULL,"
        " c_address TEXT, c_port TEXT, c_udp_outcome TEXT, PRIMARY KEY(run_id, target_id));"
        "INSERT INTO runs VALUES(1, 10, 20, 'complete', 'c', '', '', '', '', 2, 2, 1, NULL,"
        " '1970-01-01');"
        "INSERT INTO targets VALUES(7, '192.0.2.7', 5000, 10), (3, '2001:db8::3', 5000, 10);"
        "INSERT INTO observations VALUES(1, 7, 15, 1, 1, 0, '192.0.2.7', '5000', 'alive'),"
        " (1, 3, 15, 1, 0, 0, '2001:db8::3', '5000', 'filtered');";
    assert_int_equal(sqlite3_exec(d, v3, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(d);

    sn_history_t *h;
    sn_error_t err;
    assert_int_equal(sn_history_open(&h, db, true, cols, 3, &err), SN_OK);
    assert_true(sn_history_schema_version(h) >= 4);
    sn_history_run_t run = {.started = 30};
    int64_t id;
    bool resumed;
    assert_int_equal(sn_history_begin(h, &run, false, &id, &resumed, &err), SN_OK);
    assert_int_equal(id, 2);
    const char *ips[] = {"2001:db8::3", "192.0.2.7"};
    for (int i = 0; i < 2; i++) {
        char pb[8];
        const char *cells[3];
        sn_history_obs_t o = obs_of(ips[i], 5000, i == 1, false, cells, pb);
        assert_int_equal(sn_history_add(h, &o, &err), SN_OK);
    }
    assert_int_equal(sn_history_end(h, false, 2, &err), SN_OK);
    sn_history_close(h);

    assert_int_equal(sn_history_open(&h, db, false, cols, 3, &err), SN_OK);
    obs_list_t l = {0};
    assert_int_equal(sn_history_each_observation(h, 0, true, list_obs, &l, &err), SN_OK);
    assert_int_equal(l.n, 4);
    /* The rows first, in the order written, then the chunk. */
    assert_string_equal(l.o[0].address, "192.0.2.7");
    assert_string_equal(l.o[0].outcome, "alive");
    assert_string_equal(l.o[1].address, "2001:db8::3");
    assert_string_equal(l.o[1].outcome, "filtered");
    assert_int_equal(l.o[1].run, 1);
    assert_string_equal(l.o[2].address, "2001:db8::3");
    assert_string_equal(l.o[2].outcome, "filtered");
    assert_string_equal(l.o[3].address, "192.0.2.7");
    assert_string_equal(l.o[3].outcome, "alive");
    assert_int_equal(l.o[3].run, 2);
    /* One target, one id, for IPv4 and IPv6 alike; two targets, two ids. */
    assert_int_equal(l.o[3].target, l.o[0].target);
    assert_int_equal(l.o[2].target, l.o[1].target);
    assert_true(l.o[0].target != l.o[1].target);
    runs_t rs = {0};
    assert_int_equal(sn_history_each_run(h, keep_run, &rs, &err), SN_OK);
    assert_int_equal(rs.n, 2);
    assert_int_equal(rs.r[1].probed, 2);
    assert_int_equal(rs.r[1].alive, 1);
    sn_history_close(h);
}

/* A chunk damaged in the file fails the read with the chunk and run named; the runs and the
 * other chunks stay readable. */
static void test_history_damaged_chunk_fails_read_and_names_it(void **state)
{
    (void)state;
    SQLITE_ONLY();
    sn_history_t *h;
    sn_error_t err;
    assert_int_equal(sn_history_open(&h, db, true, cols, 3, &err), SN_OK);
    sn_history_run_t run = {.started = 1};
    int64_t id;
    bool resumed;
    assert_int_equal(sn_history_begin(h, &run, false, &id, &resumed, &err), SN_OK);
    add_n(h, 0, 2500, false); /* chunks 1 and 2 of 1,000, chunk 3 of 500 */
    assert_int_equal(sn_history_end(h, false, 2500, &err), SN_OK);
    sn_history_close(h);
    sqlite3 *d;
    assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
    assert_int_equal(sqlite3_exec(d, "UPDATE chunks SET data = substr(data, 1, 300) WHERE id = 2",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(d);

    assert_int_equal(sn_history_open(&h, db, false, cols, 3, &err), SN_OK);
    seen_t s = {0};
    assert_int_equal(sn_history_each_observation(h, id, true, count_obs, &s, &err), SN_EINVAL);
    assert_non_null(strstr(err.msg, "chunk 2 of run 1"));
    assert_non_null(strstr(err.msg, "at byte"));
    assert_true(s.n >= 1000 && s.n < 2000); /* the first chunk was read whole */
    runs_t rs = {0};
    assert_int_equal(sn_history_each_run(h, keep_run, &rs, &err), SN_OK);
    assert_int_equal(rs.n, 1);
    sn_history_close(h);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2], argv[3]);
    pg_uri = getenv("SN_TEST_PG_URI");
    if (pg_uri != NULL && *pg_uri == '\0')
        pg_uri = NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_history_run_in_batches_reads_back_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_history_resume_keeps_finished_and_replaces_incomplete,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_second_writer_refused_with_pid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_history_first_schema_version_opens_and_migrates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_history_new_file_has_large_pages_old_file_keeps_its_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_run_of_a_dead_writer_is_resumable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_history_resume_leaves_an_older_interrupted_run, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_history_reader_of_missing_file_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_version_2_file_gets_nights, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_night_of_shards_reads_as_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_lock_per_site_and_shard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_version_3_rows_read_beside_new_chunks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_history_damaged_chunk_fails_read_and_names_it, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
