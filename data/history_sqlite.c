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
    sqlite3_stmt *target_upsert, *obs_insert;
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

static sn_status_t exec(be_t *b, const char *sql, sn_error_t *err)
{
    char *msg = NULL;
    if (sqlite3_exec(b->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sn_status_t st = sn_error_set(err, SN_EIO, "history: %s (in: %.60s)",
                                      msg ? msg : sqlite3_errmsg(b->db), sql);
        sqlite3_free(msg);
        return st;
    }
    return SN_OK;
}

static int read_version(be_t *b)
{
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
    for (;;) {
        if (exec(b, "BEGIN IMMEDIATE", err) != SN_OK)
            return SN_EIO;
        int v = read_version(b);
        if (v >= SCHEMA_VERSION) {
            exec(b, "COMMIT", NULL);
            if (v > SCHEMA_VERSION)
                return sn_error_set(err, SN_EINVAL,
                                    "history is at schema version %d; this snprobe knows up to %d",
                                    v, SCHEMA_VERSION);
            return SN_OK;
        }
        char bump[64];
        snprintf(bump, sizeof bump, "UPDATE schema_version SET version=%d", v + 1);
        if (exec(b, migrations[v], err) != SN_OK || exec(b, bump, err) != SN_OK ||
            exec(b, "COMMIT", err) != SN_OK) {
            exec(b, "ROLLBACK", NULL);
            return SN_EIO;
        }
    }
}

/* Adds the caller's columns the file lacks (writer), or notes which exist (reader). */
static sn_status_t read_and_add_columns(be_t *b, sn_error_t *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(b->db, "SELECT name FROM pragma_table_info('observations')", -1, &q,
                           NULL) != SQLITE_OK)
        return db_fail(b, err, "reading columns");
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
    if (sqlite3_prepare_v2(b->db,
                           "INSERT INTO targets(address, port, first_listed) VALUES(?1, ?2, ?3) "
                           "ON CONFLICT(address, port) DO UPDATE SET port = excluded.port "
                           "RETURNING id",
                           -1, &b->target_upsert, NULL) != SQLITE_OK)
        return db_fail(b, err, "preparing the target insert");
    size_t cap = 256 + b->n_columns * 80;
    char *sql = malloc(cap);
    if (sql == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    size_t len = (size_t)snprintf(sql, cap,
                                  "INSERT OR REPLACE INTO observations(run_id, target_id, "
                                  "observed_at, probed, alive, incomplete");
    for (size_t i = 0; i < b->n_columns; i++)
        len += (size_t)snprintf(sql + len, cap - len, ", \"c_%s\"", b->columns[i]);
    len += (size_t)snprintf(sql + len, cap - len, ") VALUES(?, ?, ?, ?, ?, ?");
    for (size_t i = 0; i < b->n_columns; i++)
        len += (size_t)snprintf(sql + len, cap - len, ", ?");
    snprintf(sql + len, cap - len, ")");
    int rc = sqlite3_prepare_v2(b->db, sql, -1, &b->obs_insert, NULL);
    free(sql);
    return rc == SQLITE_OK ? SN_OK : db_fail(b, err, "preparing the observation insert");
}

static void sq_close(void *vb)
{
    be_t *b = vb;
    if (b == NULL)
        return;
    sqlite3_finalize(b->target_upsert);
    sqlite3_finalize(b->obs_insert);
    sqlite3_close(b->db);
    for (size_t i = 0; i < b->n_columns; i++)
        free(b->columns[i]);
    free(b->columns);
    free(b->present);
    free(b);
}

static sn_status_t sq_open(const char *where, bool writer, const char *const *columns,
                           size_t n_columns, void **out, sn_error_t *err)
{
    *out = NULL;
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
    /* Readers open read-write too: an older file is migrated by whoever opens it first. */
    int flags = SQLITE_OPEN_READWRITE | (writer ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(where, &b->db, flags, NULL) != SQLITE_OK) {
        sn_status_t st = sn_error_set(err, writer ? SN_EIO : SN_ENOTFOUND, "history %s: %s", where,
                                      b->db ? sqlite3_errmsg(b->db) : "cannot open");
        sq_close(b);
        return st;
    }
    sqlite3_busy_timeout(b->db, 10000);
    sn_status_t st = exec(b,
                          "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                          "PRAGMA foreign_keys=ON;",
                          err);
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
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(b->db,
                           "UPDATE runs SET status = 'interrupted',"
                           " probed = (SELECT count(*) FROM observations o WHERE o.run_id = runs.id"
                           " AND o.probed),"
                           " alive = (SELECT count(*) FROM observations o WHERE o.run_id = runs.id"
                           " AND o.alive)"
                           " WHERE status = 'running' AND coalesce(site, '') = ?1"
                           " AND coalesce(shard, '') = ?2",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(b, err, "marking stale runs");
    sqlite3_bind_text(q, 1, site ? site : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, shard ? shard : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? SN_OK : db_fail(b, err, "marking stale runs");
}

static int sq_schema_version(void *vb)
{
    return read_version(vb);
}

static void bind_text(sqlite3_stmt *q, int i, const char *s)
{
    sqlite3_bind_text(q, i, s ? s : "", -1, SQLITE_STATIC);
}

static sn_status_t sq_begin_run(void *vb, const sn_history_run_t *r, int64_t *id, sn_error_t *err)
{
    be_t *b = vb;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(b->db,
                           "INSERT INTO runs(started, finished, status, command, site, vantage,"
                           " inputs, plan, targets, probed, alive, shard, night)"
                           " VALUES(?, 0, 'running', ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(b, err, "starting a run");
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
    if (sqlite3_prepare_v2(b->db,
                           "SELECT max(id) FROM runs WHERE (?1 IS NULL OR status = ?1)"
                           " AND (?2 IS NULL OR coalesce(site, '') = ?2)"
                           " AND (?3 IS NULL OR coalesce(shard, '') = ?3)",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(b, err, "finding a run");
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

static sn_status_t sq_add(void *vb, int64_t run, const sn_history_obs_t *obs, size_t n,
                          sn_error_t *err)
{
    be_t *b = vb;
    if (n == 0)
        return SN_OK;
    if (exec(b, "BEGIN IMMEDIATE", err) != SN_OK)
        return SN_EIO;
    for (size_t k = 0; k < n; k++) {
        const sn_history_obs_t *o = &obs[k];
        sqlite3_stmt *t = b->target_upsert;
        bind_text(t, 1, o->address);
        sqlite3_bind_int(t, 2, o->port);
        sqlite3_bind_int64(t, 3, o->observed_at);
        int64_t tid = -1;
        if (sqlite3_step(t) == SQLITE_ROW)
            tid = sqlite3_column_int64(t, 0);
        sqlite3_reset(t);
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
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            goto fail;
    }
    return exec(b, "COMMIT", err);
fail:;
    sn_status_t st = db_fail(b, err, "writing observations");
    exec(b, "ROLLBACK", NULL);
    return st;
}

static sn_status_t sq_end_run(void *vb, int64_t run, const char *status, int64_t finished,
                              int64_t targets, sn_error_t *err)
{
    be_t *b = vb;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(
            b->db,
            "UPDATE runs SET status = ?1, finished = ?2, targets = max(coalesce(targets, 0), ?3),"
            " probed = (SELECT count(*) FROM observations WHERE run_id = ?4 AND probed),"
            " alive = (SELECT count(*) FROM observations WHERE run_id = ?4 AND alive)"
            " WHERE id = ?4",
            -1, &q, NULL) != SQLITE_OK)
        return db_fail(b, err, "ending a run");
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
    if (sqlite3_prepare_v2(b->db,
                           "SELECT id, started, coalesce(finished, 0), status, command, site,"
                           " vantage, inputs, plan, coalesce(targets, 0), coalesce(probed, 0),"
                           " coalesce(alive, 0), shard, night FROM runs ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(b, err, "reading runs");
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
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(b->db, sql, -1, &q, NULL);
    free(sql);
    if (rc != SQLITE_OK) {
        free(cv);
        return db_fail(b, err, "reading observations");
    }
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
    .end_run = sq_end_run,
    .each_run = sq_each_run,
    .each_observation = sq_each_obs,
};
