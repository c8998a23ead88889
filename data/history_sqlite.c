/*
 * The SQLite backend of the history store (history.h), the embedded default.
 *
 * Write-ahead log with synchronous=NORMAL: a committed batch survives the
 * process being killed (only a power loss may take the last commits), and
 * readers see the last commit without ever blocking the writer.
 *
 * Schema: schema_version holds one row, the version the file is at. The
 * migrations below bring a file from any earlier version to the current one,
 * each in its own transaction, so a file written by any release opens in a
 * later one. Observation columns are named after the caller's columns with a
 * "c_" prefix (so that no result field can clash with the store's own
 * columns) and are added by ALTER TABLE when the caller names one the file
 * lacks: a column appended to the result table needs no migration.
 */
#include "data/history.h"
#include "data/history_sql.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct be {
    sqlite3 *db;
    bool writer;
    size_t n_columns;
    char **columns; /* the caller's names */
    int *present;   /* per caller column: 1 if the file has it */
    sqlite3_stmt *target_find, *target_insert, *obs_insert, *obs_delete; /* the writer's */
    int known;                                                           /* see target_id */
    bool in_write; /* between begin_write and end_write */
} be_t;

/* Migration k brings the file from version k to k + 1. */
static const char *const migrations[] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE schema_version(version INTEGER NOT NULL);"
    "INSERT INTO schema_version VALUES(0);"
    "CREATE TABLE runs(id INTEGER PRIMARY KEY, started INTEGER NOT NULL, finished INTEGER,"
    " status TEXT NOT NULL, command TEXT, site TEXT, vantage TEXT, inputs TEXT, plan TEXT,"
    " targets INTEGER, probed INTEGER, alive INTEGER);"
    "CREATE TABLE targets(id INTEGER PRIMARY KEY, address TEXT NOT NULL, port INTEGER NOT NULL,"
    " first_listed INTEGER NOT NULL, UNIQUE(address, port));"
    "CREATE TABLE observations(run_id INTEGER NOT NULL REFERENCES runs(id),"
    " target_id INTEGER NOT NULL REFERENCES targets(id), observed_at INTEGER NOT NULL,"
    " probed INTEGER NOT NULL, alive INTEGER NOT NULL, incomplete INTEGER NOT NULL,"
    " PRIMARY KEY(run_id, target_id));",
    /* 1 -> 2: the shard of a run (for --shard K/N). No index on observations(target_id):
     * it would cost the writer a fifth B-tree per row, and every query reads whole runs. */
    "ALTER TABLE runs ADD COLUMN shard TEXT;",
    /* 2 -> 3: the night a run belongs to, so that the shards of one night read as one result
     * set; the runs before it get the UTC date they started. */
    ("ALTER TABLE runs ADD COLUMN night TEXT;"
     "UPDATE runs SET night = strftime('%Y-%m-%d', started, 'unixepoch');"),
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static sn_status_t db_fail(be_t *b, sn_error_t *err, const char *what)
{
    return sn_error_set(err, SN_EIO, "history %s: %s", what, sqlite3_errmsg(b->db));
}

/* Prepares sql into *q; on failure err says what could not be done. */
static sn_status_t prepare(be_t *b, const char *sql, sqlite3_stmt **q, const char *what,
                           sn_error_t *err)
{
    *q = NULL;
    return sqlite3_prepare_v2(b->db, sql, -1, q, NULL) == SQLITE_OK ? SN_OK : db_fail(b, err, what);
}

static sn_status_t exec(void *vb, const char *sql, sn_error_t *err)
{
    be_t *b = vb;
    char *msg = NULL;
    if (sqlite3_exec(b->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sn_status_t st = sn_error_set(err, SN_EIO, "history: %s (in: %.60s)",
                                      msg ? msg : sqlite3_errmsg(b->db), sql);
        sqlite3_free(msg);
        return st;
    }
    return SN_OK;
}

/* The file's schema version, 0 for a new file (it cannot fail: err is unused). */
static int read_version(void *vb, sn_error_t *err)
{
    (void)err;
    be_t *b = vb;
    sqlite3_stmt *q = NULL;
    int v = 0;
    if (sqlite3_prepare_v2(b->db, "SELECT count(*) FROM sqlite_master WHERE name='schema_version'",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1) {
        sqlite3_finalize(q);
        q = NULL;
        if (sqlite3_prepare_v2(b->db, "SELECT version FROM schema_version", -1, &q, NULL) ==
                SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            v = sqlite3_column_int(q, 0);
    }
    sqlite3_finalize(q);
    return v;
}

static sn_status_t migrate(be_t *b, sn_error_t *err)
{
    return sn_history_migrate(b, exec, read_version, "BEGIN IMMEDIATE", migrations, SCHEMA_VERSION,
                              err);
}

/* Adds the caller's columns the file lacks (writer), or notes which exist (reader). */
static sn_status_t read_and_add_columns(be_t *b, sn_error_t *err)
{
    sqlite3_stmt *q = NULL;
    if (prepare(b, "SELECT name FROM pragma_table_info('observations')", &q, "reading columns",
                err) != SN_OK)
        return SN_EIO;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        for (size_t i = 0; name && i < b->n_columns; i++)
            if (strncmp(name, "c_", 2) == 0 && strcmp(name + 2, b->columns[i]) == 0)
                b->present[i] = 1;
    }
    sqlite3_finalize(q);
    for (size_t i = 0; b->writer && i < b->n_columns; i++) {
        if (b->present[i])
            continue;
        char sql[256];
        snprintf(sql, sizeof sql, "ALTER TABLE observations ADD COLUMN \"c_%s\" TEXT",
                 b->columns[i]);
        if (exec(b, sql, err) != SN_OK)
            return SN_EIO;
        b->present[i] = 1;
    }
    return SN_OK;
}

/* A writer reads and adds under the database's write lock: several writers (sites, shards)
 * open one new file at once, and each would otherwise add the same column. */
static sn_status_t sync_columns(be_t *b, sn_error_t *err)
{
    if (!b->writer)
        return read_and_add_columns(b, err);
    if (exec(b, "BEGIN IMMEDIATE", err) != SN_OK)
        return SN_EIO;
    if (read_and_add_columns(b, err) != SN_OK) {
        exec(b, "ROLLBACK", NULL);
        return SN_EIO;
    }
    return exec(b, "COMMIT", err);
}

static sn_status_t prepare_writer(be_t *b, sn_error_t *err)
{
    /* A lookup and an insert of their own, not one upsert: an upsert with RETURNING fills and
     * empties a temporary table for every row (a third of the writer's time), and its DO
     * UPDATE rewrites a known target's row every night. */
    if (prepare(b, "SELECT id FROM targets WHERE address = ?1 AND port = ?2", &b->target_find,
                "preparing the target lookup", err) != SN_OK ||
        prepare(b, "INSERT OR IGNORE INTO targets(address, port, first_listed) VALUES(?1, ?2, ?3)",
                &b->target_insert, "preparing the target insert", err) != SN_OK)
        return SN_EIO;
    size_t cap = 256 + b->n_columns * 80;
    char *sql = malloc(cap);
    if (sql == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    /* A plain INSERT: OR REPLACE, with the foreign keys, made every row open and release a
     * statement journal (a tenth of the writer's time); the rare observation that replaces one
     * (a resumed run's incomplete target) deletes the old row first (sq_add). */
    size_t len = (size_t)snprintf(sql, cap,
                                  "INSERT INTO observations(run_id, target_id, "
                                  "observed_at, probed, alive, incomplete");
    for (size_t i = 0; i < b->n_columns; i++)
        len += (size_t)snprintf(sql + len, cap - len, ", \"c_%s\"", b->columns[i]);
    len += (size_t)snprintf(sql + len, cap - len, ") VALUES(?, ?, ?, ?, ?, ?");
    for (size_t i = 0; i < b->n_columns; i++)
        len += (size_t)snprintf(sql + len, cap - len, ", ?");
    snprintf(sql + len, cap - len, ")");
    sn_status_t st = prepare(b, sql, &b->obs_insert, "preparing the observation insert", err);
    free(sql);
    if (st == SN_OK)
        st = prepare(b, "DELETE FROM observations WHERE run_id = ?1 AND target_id = ?2",
                     &b->obs_delete, "preparing the observation delete", err);
    return st;
}

static void sq_close(void *vb)
{
    be_t *b = vb;
    if (b == NULL)
        return;
    sqlite3_finalize(b->target_find);
    sqlite3_finalize(b->target_insert);
    sqlite3_finalize(b->obs_insert);
    sqlite3_finalize(b->obs_delete);
    sqlite3_close(b->db);
    for (size_t i = 0; i < b->n_columns; i++)
        free(b->columns[i]);
    free(b->columns);
    free(b->present);
    free(b);
}

/* SQLite's memory statistics off, before its first use in the process (SQLite refuses the
 * setting once it runs): keeping them took a global mutex on every allocation, about a tenth of
 * the writer's time at 1,000,000 rows, and nothing here reads them. */
static pthread_once_t tuned = PTHREAD_ONCE_INIT;

static void tune_sqlite(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static sn_status_t sq_open(const char *where, bool writer, const char *const *columns,
                           size_t n_columns, void **out, sn_error_t *err)
{
    *out = NULL;
    pthread_once(&tuned, tune_sqlite);
    be_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    b->writer = writer;
    b->columns = calloc(n_columns ? n_columns : 1, sizeof *b->columns);
    b->present = calloc(n_columns ? n_columns : 1, sizeof *b->present);
    if (b->columns == NULL || b->present == NULL) {
        sq_close(b);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_columns; i++) {
        if (!sn_history_plain_name(columns[i])) {
            sq_close(b);
            return sn_error_set(err, SN_EINVAL, "history: column name '%s' is not plain",
                                columns[i]);
        }
        if ((b->columns[i] = strdup(columns[i])) == NULL) {
            sq_close(b);
            return sn_error_set(err, SN_ENOMEM, "out of memory");
        }
        b->n_columns = i + 1;
    }
    /* Readers open read-write too: an older file is migrated by whoever opens it first. No
     * mutex: the front end never lets two threads use one connection at once, and SQLite's
     * own locking of every call cost the writer a tenth of its time. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(where, &b->db, flags, NULL) != SQLITE_OK) {
        sn_status_t st = sn_error_set(err, writer ? SN_EIO : SN_ENOTFOUND, "history %s: %s", where,
                                      b->db ? sqlite3_errmsg(b->db) : "cannot open");
        sq_close(b);
        return st;
    }
    sqlite3_busy_timeout(b->db, 10000);
    /* A new file gets 16 KiB pages (SQLite's default is 4 KiB); a file that has tables keeps
     * its own (SQLite ignores the setting then), so nothing migrates. A scan's targets enter
     * the (address, port) index at random places, and larger pages mean fewer pages found,
     * read and written to the write-ahead log per commit. Measured with history_bench at
     * 1,000,000 rows, alternating: system time 1.2-1.4 s -> 0.8-0.9 s (32 KiB: 0.6-0.7 s, but
     * every small read then copies twice as much); the user time stayed within this shared
     * machine's noise (9-12 s either way). */
    sn_status_t st = exec(b, "PRAGMA page_size=16384", err);
    if (st == SN_OK)
        st = exec(b,
                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                  "PRAGMA foreign_keys=ON;",
                  err);
    /* A writer's page cache holds the targets' (address, port) index, which every new target
     * enters at a random place (a scan finishes its targets in shuffled order): about 30 MB at
     * 1,000,000 targets. With SQLite's 2 MB the writer read and spilled a page per row; 32 MB
     * wrote 1,000,000 rows as fast as 64 MB, 16 MB read pages again. The cache takes memory
     * only as pages are used. */
    if (st == SN_OK && writer)
        st = exec(b, "PRAGMA cache_size=-32768", err);
    if (st == SN_OK)
        st = migrate(b, err);
    if (st == SN_OK)
        st = sync_columns(b, err);
    if (st == SN_OK && writer)
        st = prepare_writer(b, err);
    if (st != SN_OK) {
        sq_close(b);
        return st;
    }
    *out = b;
    return SN_OK;
}

/* Holding the lock of (site, shard): their runs still "running" lost their writer. */
static sn_status_t sq_interrupt_stale(void *vb, const char *site, const char *shard,
                                      sn_error_t *err)
{
    be_t *b = vb;
    static const char sql[] = "UPDATE runs SET status = 'interrupted', " SN_HISTORY_SET_COUNTS
                              " WHERE status = 'running' AND coalesce(site, '') = ?1"
                              " AND coalesce(shard, '') = ?2";
    sqlite3_stmt *q = NULL;
    if (prepare(b, sql, &q, "marking stale runs", err) != SN_OK)
        return SN_EIO;
    sqlite3_bind_text(q, 1, site ? site : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, shard ? shard : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? SN_OK : db_fail(b, err, "marking stale runs");
}

static int sq_schema_version(void *vb)
{
    return read_version(vb, NULL);
}

static void bind_text(sqlite3_stmt *q, int i, const char *s)
{
    sqlite3_bind_text(q, i, s ? s : "", -1, SQLITE_STATIC);
}

static sn_status_t sq_begin_run(void *vb, const sn_history_run_t *r, int64_t *id, sn_error_t *err)
{
    be_t *b = vb;
    sqlite3_stmt *q = NULL;
    if (prepare(b,
                "INSERT INTO runs(started, finished, status, command, site, vantage,"
                " inputs, plan, targets, probed, alive, shard, night)"
                " VALUES(?, 0, 'running', ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)",
                &q, "starting a run", err) != SN_OK)
        return SN_EIO;
    sqlite3_bind_int64(q, 1, r->started);
    bind_text(q, 2, r->command);
    bind_text(q, 3, r->site);
    bind_text(q, 4, r->vantage);
    bind_text(q, 5, r->inputs);
    bind_text(q, 6, r->plan);
    sqlite3_bind_int64(q, 7, r->targets);
    bind_text(q, 8, r->shard);
    bind_text(q, 9, r->night);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return db_fail(b, err, "starting a run");
    *id = sqlite3_last_insert_rowid(b->db);
    return SN_OK;
}

static sn_status_t sq_newest_run(void *vb, const char *status, const char *site, const char *shard,
                                 int64_t *id, sn_error_t *err)
{
    be_t *b = vb;
    sqlite3_stmt *q = NULL;
    *id = 0;
    if (prepare(b,
                "SELECT max(id) FROM runs WHERE (?1 IS NULL OR status = ?1)"
                " AND (?2 IS NULL OR coalesce(site, '') = ?2)"
                " AND (?3 IS NULL OR coalesce(shard, '') = ?3)",
                &q, "finding a run", err) != SN_OK)
        return SN_EIO;
    const char *v[3] = {status, site, shard};
    for (int i = 0; i < 3; i++)
        if (v[i] != NULL)
            bind_text(q, i + 1, v[i]);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        *id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return SN_OK;
}

static sn_status_t sq_reopen_run(void *vb, int64_t id, sn_error_t *err)
{
    be_t *b = vb;
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE runs SET status='running' WHERE id=%lld", (long long)id);
    return exec(b, sql, err);
}

static int64_t find_target(be_t *b, const char *address, uint16_t port)
{
    sqlite3_stmt *q = b->target_find;
    bind_text(q, 1, address);
    sqlite3_bind_int(q, 2, port);
    int rc = sqlite3_step(q);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : rc == SQLITE_DONE ? 0 : -1;
    sqlite3_reset(q);
    return id;
}

/* Inserts the target unless the file has it; its id, 0 when it was there, -1 on an error. */
static int64_t insert_target(be_t *b, const char *address, uint16_t port, int64_t at)
{
    sqlite3_stmt *q = b->target_insert;
    bind_text(q, 1, address);
    sqlite3_bind_int(q, 2, port);
    sqlite3_bind_int64(q, 3, at);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return -1;
    return sqlite3_changes(b->db) == 1 ? sqlite3_last_insert_rowid(b->db) : 0;
}

/*
 * The id of target (address, port), inserted (first listed at) when the file lacks it; -1 on
 * an error. Either statement alone answers most rows with one search of the (address, port)
 * index: a first night's targets are all new (the insert finds no conflict and adds the row),
 * a later night's are nearly all known (the lookup finds them). So the one that answered
 * more of the recent rows goes first, and the other only when it must: b->known is a
 * saturating count that rises with every known target and falls with every new one.
 */
static int64_t target_id(be_t *b, const char *address, uint16_t port, int64_t at)
{
    bool look_first = b->known > 0;
    int64_t id = look_first ? find_target(b, address, port) : insert_target(b, address, port, at);
    bool known = look_first == (id != 0);
    if (id == 0)
        id = look_first ? insert_target(b, address, port, at) : find_target(b, address, port);
    if (known && b->known < 8)
        b->known++;
    else if (!known && b->known > -8)
        b->known--;
    return id == 0 ? -1 : id; /* neither found nor inserted: only on an error */
}

static sn_status_t sq_add(void *vb, int64_t run, const sn_history_obs_t *obs, size_t n,
                          sn_error_t *err)
{
    be_t *b = vb;
    if (n == 0)
        return SN_OK;
    bool own = !b->in_write; /* a transaction of its own, else part of begin_write's */
    if (own && exec(b, "BEGIN IMMEDIATE", err) != SN_OK)
        return SN_EIO;
    for (size_t k = 0; k < n; k++) {
        const sn_history_obs_t *o = &obs[k];
        int64_t tid = target_id(b, o->address, o->port, o->observed_at);
        if (tid < 0)
            goto fail;
        sqlite3_stmt *q = b->obs_insert;
        sqlite3_bind_int64(q, 1, run);
        sqlite3_bind_int64(q, 2, tid);
        sqlite3_bind_int64(q, 3, o->observed_at);
        sqlite3_bind_int(q, 4, o->probed);
        sqlite3_bind_int(q, 5, o->alive);
        sqlite3_bind_int(q, 6, o->incomplete);
        for (size_t i = 0; i < b->n_columns; i++) {
            const char *c = o->cells ? o->cells[i] : NULL;
            if (c == NULL || *c == '\0')
                sqlite3_bind_null(q, (int)(7 + i));
            else
                bind_text(q, (int)(7 + i), c);
        }
        int rc = sqlite3_step(q);
        bool again = rc == SQLITE_CONSTRAINT &&
                     sqlite3_extended_errcode(b->db) == SQLITE_CONSTRAINT_PRIMARYKEY;
        sqlite3_reset(q);
        if (again) { /* the run has this target: the new observation replaces it (new rowid) */
            sqlite3_stmt *d = b->obs_delete;
            sqlite3_bind_int64(d, 1, run);
            sqlite3_bind_int64(d, 2, tid);
            rc = sqlite3_step(d);
            sqlite3_reset(d);
            if (rc == SQLITE_DONE)
                rc = sqlite3_step(q); /* its bindings are kept */
            sqlite3_reset(q);
        }
        if (rc != SQLITE_DONE)
            goto fail;
    }
    return own ? exec(b, "COMMIT", err) : SN_OK;
fail:;
    sn_status_t st = db_fail(b, err, "writing observations");
    if (own)
        exec(b, "ROLLBACK", NULL);
    return st;
}

static sn_status_t sq_begin_write(void *vb, sn_error_t *err)
{
    be_t *b = vb;
    sn_status_t st = exec(b, "BEGIN IMMEDIATE", err);
    b->in_write = st == SN_OK;
    return st;
}

static sn_status_t sq_end_write(void *vb, bool commit, sn_error_t *err)
{
    be_t *b = vb;
    b->in_write = false;
    if (commit && exec(b, "COMMIT", err) == SN_OK)
        return SN_OK;
    exec(b, "ROLLBACK", NULL);
    return commit ? SN_EIO : SN_OK;
}

static sn_status_t sq_end_run(void *vb, int64_t run, const char *status, int64_t finished,
                              int64_t targets, sn_error_t *err)
{
    be_t *b = vb;
    static const char sql[] =
        "UPDATE runs SET status = ?1, finished = ?2,"
        " targets = max(coalesce(targets, 0), ?3), " SN_HISTORY_SET_COUNTS " WHERE id = ?4";
    sqlite3_stmt *q = NULL;
    if (prepare(b, sql, &q, "ending a run", err) != SN_OK)
        return SN_EIO;
    bind_text(q, 1, status);
    sqlite3_bind_int64(q, 2, finished);
    sqlite3_bind_int64(q, 3, targets);
    sqlite3_bind_int64(q, 4, run);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? SN_OK : db_fail(b, err, "ending a run");
}

static const char *col_text(sqlite3_stmt *q, int i)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    return s ? s : "";
}

static sn_status_t sq_each_run(void *vb, sn_history_run_fn fn, void *ud, sn_error_t *err)
{
    be_t *b = vb;
    sqlite3_stmt *q = NULL;
    if (prepare(b,
                "SELECT id, started, coalesce(finished, 0), status, command, site,"
                " vantage, inputs, plan, coalesce(targets, 0), coalesce(probed, 0),"
                " coalesce(alive, 0), shard, night FROM runs ORDER BY id",
                &q, "reading runs", err) != SN_OK)
        return SN_EIO;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        sn_history_run_t r = {.id = sqlite3_column_int64(q, 0),
                              .started = sqlite3_column_int64(q, 1),
                              .finished = sqlite3_column_int64(q, 2),
                              .status = col_text(q, 3),
                              .command = col_text(q, 4),
                              .site = col_text(q, 5),
                              .vantage = col_text(q, 6),
                              .inputs = col_text(q, 7),
                              .plan = col_text(q, 8),
                              .targets = sqlite3_column_int64(q, 9),
                              .probed = sqlite3_column_int64(q, 10),
                              .alive = sqlite3_column_int64(q, 11),
                              .shard = col_text(q, 12),
                              .night = col_text(q, 13)};
        fn(ud, &r);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? SN_OK : db_fail(b, err, "reading runs");
}

static sn_status_t sq_each_obs(void *vb, int64_t run, bool cells, sn_history_obs_fn fn, void *ud,
                               sn_error_t *err)
{
    be_t *b = vb;
    char *sql =
        sn_history_obs_select((const char *const *)b->columns, b->present, b->n_columns, cells,
                              run > 0 ? " WHERE o.run_id = ?" : "", "o.run_id, o.rowid");
    const char **cv = calloc(b->n_columns ? b->n_columns : 1, sizeof *cv);
    if (sql == NULL || cv == NULL) {
        free(sql);
        free(cv);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    sqlite3_stmt *q;
    sn_status_t st = prepare(b, sql, &q, "reading observations", err);
    free(sql);
    if (st != SN_OK) {
        free(cv);
        return st;
    }
    int rc;
    if (run > 0)
        sqlite3_bind_int64(q, 1, run);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        for (size_t i = 0; cells && i < b->n_columns; i++)
            cv[i] = col_text(q, (int)(8 + i));
        sn_history_obs_t o = {.run_id = sqlite3_column_int64(q, 0),
                              .target_id = sqlite3_column_int64(q, 1),
                              .address = col_text(q, 2),
                              .port = (uint16_t)sqlite3_column_int(q, 3),
                              .observed_at = sqlite3_column_int64(q, 4),
                              .probed = sqlite3_column_int(q, 5) != 0,
                              .alive = sqlite3_column_int(q, 6) != 0,
                              .incomplete = sqlite3_column_int(q, 7) != 0,
                              .cells = cells ? cv : NULL};
        fn(ud, &o);
    }
    sqlite3_finalize(q);
    free(cv);
    return rc == SQLITE_DONE ? SN_OK : db_fail(b, err, "reading observations");
}

const sn_history_ops_t sn_history_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .begin_run = sq_begin_run,
    .newest_run = sq_newest_run,
    .interrupt_stale = sq_interrupt_stale,
    .reopen_run = sq_reopen_run,
    .add_observations = sq_add,
    .begin_write = sq_begin_write,
    .end_write = sq_end_write,
    .end_run = sq_end_run,
    .each_run = sq_each_run,
    .each_observation = sq_each_obs,
};
