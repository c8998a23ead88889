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
 * later one. Since version 4 a run's observations are kept as chunks: each
 * batch the writer commits is one row of `chunks` holding the packed
 * observations (history_chunk.h) and the set of cell columns they carry
 * (`cellsets`, one row per distinct column list), so a column appended to the
 * result table needs no migration. Files of earlier versions keep the
 * observations they have as rows (`observations`, columns "c_" + the
 * caller's, joined to `targets`); they are read as they are, and new runs add
 * chunks. A reader numbers targets itself (the same address and port, the
 * same id, within one open store): a chunk holds addresses, not ids, so that
 * the writer looks nothing up per observation.
 *
 * A resumed run (reopen_run) adds new observations of the targets it had left
 * incomplete; its rows are read with the later observation of a target
 * replacing the earlier one, and it is flagged `reopened` so that only such
 * runs pay for the second pass this takes.
 */
#include "data/history.h"
#include "data/history_chunk.h"
#include "data/history_sql.h"
#include "lib/hashmap.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A column set of the file, as the caller's columns: map[i] is the chunk cell that holds
 * the caller's column i, or -1. */
typedef struct cellset {
    int64_t id;
    size_t n_cells; /* cells per observation in its chunks */
    int *map;
} cellset_t;

typedef struct be {
    sqlite3 *db;
    bool writer;
    size_t n_columns;
    char **columns;             /* the caller's names */
    int *present;               /* per caller column: 1 if the file's observation rows have it */
    sqlite3_stmt *chunk_insert; /* the writer's */
    int64_t cellset;            /* the writer's column set */
    bool in_write;              /* between begin_write and end_write */
    /* The reader's own: target ids (address -> id, 1, 2, ...; IPv4 keyed by address and port
     * in one integer, 16 bytes a slot against an address key's 28) and the column sets seen. */
    sn_u64map_t ids4;
    sn_addrmap_t ids6;
    uint64_t n_ids;
    cellset_t *sets;
    size_t n_sets;
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
    /* 3 -> 4: observations as chunks, one row per committed batch. No
     * foreign key to cellsets: a chunk's set is looked up once per chunk when read, and the
     * writer inserts its set before its first chunk. */
    ("CREATE TABLE cellsets(id INTEGER PRIMARY KEY, columns TEXT NOT NULL UNIQUE);"
     "CREATE TABLE chunks(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),"
     " cellset INTEGER NOT NULL, n INTEGER NOT NULL, probed INTEGER NOT NULL,"
     " alive INTEGER NOT NULL, data BLOB NOT NULL);"
     "CREATE INDEX chunks_run ON chunks(run_id);"
     "ALTER TABLE runs ADD COLUMN reopened INTEGER NOT NULL DEFAULT 0;"),
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

/* Notes which of the caller's columns the file's observation rows (before version 4) have. */
static sn_status_t read_columns(be_t *b, sn_error_t *err)
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
    return SN_OK;
}

/* The caller's column names joined by ',' (plain names hold none), malloc'd; NULL: OOM. */
static char *column_list(const be_t *b)
{
    size_t cap = 1;
    for (size_t i = 0; i < b->n_columns; i++)
        cap += strlen(b->columns[i]) + 1;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    size_t len = 0;
    for (size_t i = 0; i < b->n_columns; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? "," : "", b->columns[i]);
    s[len] = '\0';
    return s;
}

/* The writer's column set (inserted when the file lacks it) and its chunk insert. */
static sn_status_t prepare_writer(be_t *b, sn_error_t *err)
{
    char *list = column_list(b);
    if (list == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    sqlite3_stmt *q = NULL;
    sn_status_t st =
        prepare(b, "INSERT OR IGNORE INTO cellsets(columns) VALUES(?1)", &q, "adding columns", err);
    if (st == SN_OK) {
        sqlite3_bind_text(q, 1, list, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            st = db_fail(b, err, "adding columns");
        sqlite3_finalize(q);
    }
    if (st == SN_OK)
        st = prepare(b, "SELECT id FROM cellsets WHERE columns = ?1", &q, "reading columns", err);
    if (st == SN_OK) {
        sqlite3_bind_text(q, 1, list, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW)
            b->cellset = sqlite3_column_int64(q, 0);
        else
            st = db_fail(b, err, "reading columns");
        sqlite3_finalize(q);
    }
    free(list);
    if (st == SN_OK)
        st = prepare(b,
                     "INSERT INTO chunks(run_id, cellset, n, probed, alive, data)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                     &b->chunk_insert, "preparing the chunk insert", err);
    return st;
}

static void sq_close(void *vb)
{
    be_t *b = vb;
    if (b == NULL)
        return;
    sqlite3_finalize(b->chunk_insert);
    sqlite3_close(b->db);
    for (size_t i = 0; i < b->n_columns; i++)
        free(b->columns[i]);
    free(b->columns);
    free(b->present);
    sn_u64map_free(&b->ids4);
    sn_addrmap_free(&b->ids6);
    for (size_t i = 0; i < b->n_sets; i++)
        free(b->sets[i].map);
    free(b->sets);
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
     * its own (SQLite ignores the setting then), so nothing migrates. A chunk of 1,000
     * observations (60-75 KB) spans a quarter as many overflow pages, each found, read and
     * written to the write-ahead log once per commit. */
    sn_status_t st = exec(b, "PRAGMA page_size=16384", err);
    if (st == SN_OK)
        st = exec(b,
                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                  "PRAGMA foreign_keys=ON;",
                  err);
    if (st == SN_OK)
        st = migrate(b, err);
    if (st == SN_OK)
        st = read_columns(b, err);
    if (st == SN_OK && writer)
        st = prepare_writer(b, err);
    if (st != SN_OK) {
        sq_close(b);
        return st;
    }
    *out = b;
    return SN_OK;
}

/* Steps q (prepared, bound) to its end and finalizes it; its rows' first column, the ids, in a
 * malloc'd array at *ids (NULL when there are none). */
static sn_status_t select_ids(be_t *b, sqlite3_stmt *q, int64_t **ids, size_t *n, const char *what,
                              sn_error_t *err)
{
    *ids = NULL;
    *n = 0;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            int64_t *ni = realloc(*ids, (cap = cap ? 2 * cap : 64) * sizeof *ni);
            if (ni == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            *ids = ni;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_DONE)
        return SN_OK;
    free(*ids);
    *ids = NULL;
    *n = 0;
    return rc == SQLITE_NOMEM ? sn_error_set(err, SN_ENOMEM, "out of memory")
                              : db_fail(b, err, what);
}

static sn_status_t run_counts(be_t *b, int64_t run, int64_t *probed, int64_t *alive,
                              sn_error_t *err);

/* Sets a run's status (and finished time, unless finished is NULL) with its counts of probed
 * and alive observations; targets (when >= 0) raises its count of listed targets. */
static sn_status_t close_run(be_t *b, int64_t run, const char *status, const int64_t *finished,
                             int64_t targets, sn_error_t *err)
{
    int64_t probed, alive;
    if (run_counts(b, run, &probed, &alive, err) != SN_OK)
        return SN_EIO;
    sqlite3_stmt *q = NULL;
    if (prepare(b,
                "UPDATE runs SET status = ?1, finished = iif(?7, ?2, finished),"
                " targets = iif(?3 >= 0, max(coalesce(targets, 0), ?3), targets),"
                " probed = ?4, alive = ?5 WHERE id = ?6",
                &q, "ending a run", err) != SN_OK)
        return SN_EIO;
    sqlite3_bind_text(q, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, finished ? *finished : 0);
    sqlite3_bind_int(q, 7, finished != NULL);
    sqlite3_bind_int64(q, 3, targets);
    sqlite3_bind_int64(q, 4, probed);
    sqlite3_bind_int64(q, 5, alive);
    sqlite3_bind_int64(q, 6, run);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? SN_OK : db_fail(b, err, "ending a run");
}

/* Holding the lock of (site, shard): their runs still "running" lost their writer. */
static sn_status_t sq_interrupt_stale(void *vb, const char *site, const char *shard,
                                      sn_error_t *err)
{
    be_t *b = vb;
    sqlite3_stmt *q = NULL;
    if (prepare(b,
                "SELECT id FROM runs WHERE status = 'running' AND coalesce(site, '') = ?1"
                " AND coalesce(shard, '') = ?2",
                &q, "marking stale runs", err) != SN_OK)
        return SN_EIO;
    sqlite3_bind_text(q, 1, site ? site : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, shard ? shard : "", -1, SQLITE_STATIC);
    int64_t *ids;
    size_t n;
    sn_status_t st = select_ids(b, q, &ids, &n, "marking stale runs", err);
    for (size_t i = 0; st == SN_OK && i < n; i++)
        st = close_run(b, ids[i], "interrupted", NULL, -1, err);
    free(ids);
    return st;
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
    snprintf(sql, sizeof sql, "UPDATE runs SET status='running', reopened=1 WHERE id=%lld",
             (long long)id);
    return exec(b, sql, err);
}

static sn_status_t sq_add(void *vb, int64_t run, const sn_history_obs_t *obs, size_t n,
                          sn_error_t *err)
{
    be_t *b = vb;
    if (n == 0)
        return SN_OK;
    uint8_t *blob;
    size_t len;
    if (sn_hchunk_encode(obs, n, b->n_columns, &blob, &len, err) != SN_OK)
        return SN_EINVAL;
    int64_t probed = 0, alive = 0;
    for (size_t k = 0; k < n; k++) {
        probed += obs[k].probed;
        alive += obs[k].alive;
    }
    bool own = !b->in_write; /* a transaction of its own, else part of begin_write's */
    if (own && exec(b, "BEGIN IMMEDIATE", err) != SN_OK) {
        free(blob);
        return SN_EIO;
    }
    sqlite3_stmt *q = b->chunk_insert;
    sqlite3_bind_int64(q, 1, run);
    sqlite3_bind_int64(q, 2, b->cellset);
    sqlite3_bind_int64(q, 3, (int64_t)n);
    sqlite3_bind_int64(q, 4, probed);
    sqlite3_bind_int64(q, 5, alive);
    sqlite3_bind_blob64(q, 6, blob, len, free);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q); /* frees the blob */
    if (rc == SQLITE_DONE)
        return own ? exec(b, "COMMIT", err) : SN_OK;
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
    return close_run(vb, run, status, &finished, targets, err);
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

/*
 * Reading. A run's observations come as one stream (stream_run): its rows of before version
 * 4 in the order written, then its chunks in the order written. Every observation gets the
 * reader's id of its target (target_of) before it goes to the stream's consumer.
 */
typedef struct stream {
    be_t *b;
    int64_t run;
    const cellset_t *set; /* the chunk being read's column set */
    const char **cv;      /* the caller's cells of one observation */
    bool cells;
    void (*fn)(struct stream *s, sn_history_obs_t *o);   /* the consumer */
    void (*sink)(struct stream *s, sn_history_obs_t *o); /* last_only's own consumer */
    sn_history_obs_fn user;                              /* and what it calls */
    void *ud;
    uint64_t seq;     /* observations streamed so far */
    sn_u64map_t last; /* target id -> 1 + seq of its last observation (the replacing pass) */
    int64_t probed, alive;
    sn_status_t st; /* the first failure in a consumer */
    sn_error_t *err;
} stream_t;

/* The reader's id of address:port (1, 2, ... in the order first read); 0 with s->st set when
 * the address is not an IP or memory runs out. */
static uint64_t target_of(stream_t *s, const char *address, uint16_t port)
{
    sn_addr_t a;
    if (sn_addr_parse_ip(address, strlen(address), &a) != SN_OK) {
        s->st = sn_error_set(s->err, SN_EINVAL, "history: run %lld holds address '%.64s'",
                             (long long)s->run, address);
        return 0;
    }
    a.port = port;
    uint64_t *v = a.family == AF_INET
                      ? sn_u64map_get(&s->b->ids4, (uint64_t)sn_addr_v4(&a) << 16 | port, true)
                      : sn_addrmap_get(&s->b->ids6, &a, true);
    if (v == NULL) {
        s->st = sn_error_set(s->err, SN_ENOMEM, "out of memory");
        return 0;
    }
    if (*v == 0)
        *v = ++s->b->n_ids;
    return *v;
}

/* One observation of the stream (its cells in the caller's order, or NULL). */
static void streamed(stream_t *s, sn_history_obs_t *o)
{
    if (s->st != SN_OK || (o->target_id = (int64_t)target_of(s, o->address, o->port)) == 0)
        return;
    o->run_id = s->run;
    s->fn(s, o);
    s->seq++;
}

/* The decoder's callback: the chunk's cells put in the caller's order. */
static void from_chunk(void *ud, const sn_history_obs_t *c)
{
    stream_t *s = ud;
    sn_history_obs_t o = *c;
    if (s->cells) {
        for (size_t i = 0; i < s->b->n_columns; i++)
            s->cv[i] = s->set->map[i] >= 0 ? c->cells[s->set->map[i]] : "";
        o.cells = s->cv;
    } else {
        o.cells = NULL;
    }
    streamed(s, &o);
}

/* The column set id, as the caller's columns (read from the file the first time). */
static const cellset_t *cellset_of(be_t *b, int64_t id, sn_error_t *err)
{
    for (size_t i = 0; i < b->n_sets; i++)
        if (b->sets[i].id == id)
            return &b->sets[i];
    sqlite3_stmt *q = NULL;
    if (prepare(b, "SELECT columns FROM cellsets WHERE id = ?1", &q, "reading columns", err) !=
        SN_OK)
        return NULL;
    sqlite3_bind_int64(q, 1, id);
    char *list = NULL;
    if (sqlite3_step(q) == SQLITE_ROW)
        list = strdup(col_text(q, 0));
    sqlite3_finalize(q);
    cellset_t *ns = realloc(b->sets, (b->n_sets + 1) * sizeof *ns);
    int *map = malloc((b->n_columns ? b->n_columns : 1) * sizeof *map);
    if (ns != NULL)
        b->sets = ns;
    if (list == NULL || ns == NULL || map == NULL) {
        free(list);
        free(map);
        if (list == NULL && ns != NULL && map != NULL)
            sn_error_set(err, SN_EINVAL, "history: chunk names column set %lld, which is missing",
                         (long long)id);
        else
            sn_error_set(err, SN_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < b->n_columns; i++)
        map[i] = -1;
    size_t n = 0;
    for (char *name = list, *end; *list && name != NULL; name = end, n++) {
        if ((end = strchr(name, ',')) != NULL)
            *end++ = '\0';
        for (size_t i = 0; i < b->n_columns; i++)
            if (map[i] < 0 && strcmp(name, b->columns[i]) == 0)
                map[i] = (int)n;
    }
    free(list);
    cellset_t *c = &b->sets[b->n_sets++];
    *c = (cellset_t){.id = id, .n_cells = n, .map = map};
    return c;
}

/* The run's rows of before version 4, then its chunks, through streamed(). */
static sn_status_t stream_run(stream_t *s)
{
    be_t *b = s->b;
    sn_error_t *err = s->err;
    char *sql = sn_history_obs_select((const char *const *)b->columns, b->present, b->n_columns,
                                      s->cells, " WHERE o.run_id = ?", "o.rowid");
    if (sql == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    sqlite3_stmt *q;
    sn_status_t st = prepare(b, sql, &q, "reading observations", err);
    free(sql);
    if (st != SN_OK)
        return st;
    sqlite3_bind_int64(q, 1, s->run);
    int rc = SQLITE_DONE;
    while (s->st == SN_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        for (size_t i = 0; s->cells && i < b->n_columns; i++)
            s->cv[i] = col_text(q, (int)(8 + i));
        sn_history_obs_t o = {.address = col_text(q, 2),
                              .port = (uint16_t)sqlite3_column_int(q, 3),
                              .observed_at = sqlite3_column_int64(q, 4),
                              .probed = sqlite3_column_int(q, 5) != 0,
                              .alive = sqlite3_column_int(q, 6) != 0,
                              .incomplete = sqlite3_column_int(q, 7) != 0,
                              .cells = s->cells ? s->cv : NULL};
        streamed(s, &o);
    }
    sqlite3_finalize(q);
    if (s->st != SN_OK)
        return s->st;
    if (rc != SQLITE_DONE)
        return db_fail(b, err, "reading observations");

    if (prepare(b, "SELECT id, cellset, data FROM chunks WHERE run_id = ?1 ORDER BY id", &q,
                "reading observations", err) != SN_OK)
        return SN_EIO;
    sqlite3_bind_int64(q, 1, s->run);
    while (st == SN_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const uint8_t *blob = sqlite3_column_blob(q, 2);
        size_t len = (size_t)sqlite3_column_bytes(q, 2);
        uint64_t n, n_cells;
        if ((s->set = cellset_of(b, sqlite3_column_int64(q, 1), err)) == NULL)
            st = SN_EINVAL;
        else if ((st = sn_hchunk_header(blob, len, &n, &n_cells, err)) == SN_OK &&
                 n_cells != s->set->n_cells)
            st = sn_error_set(err, SN_EINVAL, "history chunk: %llu cells, its column set names %zu",
                              (unsigned long long)n_cells, s->set->n_cells);
        if (st == SN_OK)
            st = sn_hchunk_decode(blob, len, from_chunk, s, err);
        if (st == SN_OK)
            st = s->st;
        if (st != SN_OK && st != SN_ENOMEM && s->st == SN_OK) { /* a damaged chunk: say which */
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            st = sn_error_set(err, SN_EINVAL, "%s (chunk %lld of run %lld)", why,
                              (long long)sqlite3_column_int64(q, 0), (long long)s->run);
        }
    }
    sqlite3_finalize(q);
    if (st == SN_OK && rc != SQLITE_DONE)
        st = db_fail(b, err, "reading observations");
    return st;
}

/* Consumers: hand on; note each target's last observation; hand on only the last; count. */
static void to_user(stream_t *s, sn_history_obs_t *o)
{
    s->user(s->ud, o);
}

static void note_last(stream_t *s, sn_history_obs_t *o)
{
    uint64_t *v = sn_u64map_get(&s->last, (uint64_t)o->target_id, true);
    if (v == NULL)
        s->st = sn_error_set(s->err, SN_ENOMEM, "out of memory");
    else
        *v = s->seq + 1;
}

static void last_only(stream_t *s, sn_history_obs_t *o)
{
    uint64_t *v = sn_u64map_get(&s->last, (uint64_t)o->target_id, false);
    if (v != NULL && *v == s->seq + 1)
        s->sink(s, o);
}

static void count(stream_t *s, sn_history_obs_t *o)
{
    s->probed += o->probed;
    s->alive += o->alive;
}

/* Whether a run was resumed (its later observations replace earlier ones); false if absent. */
static bool reopened(be_t *b, int64_t run)
{
    sqlite3_stmt *q = NULL;
    bool r = false;
    if (sqlite3_prepare_v2(b->db, "SELECT reopened FROM runs WHERE id = ?1", -1, &q, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(q, 1, run);
        r = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) != 0;
    }
    sqlite3_finalize(q);
    return r;
}

/* Streams one run to sink, a resumed run in two passes: the first notes where each target's
 * last observation is, the second hands on only those. */
static sn_status_t read_run(stream_t *s, void (*sink)(stream_t *, sn_history_obs_t *))
{
    sn_status_t st;
    if (!reopened(s->b, s->run)) {
        s->fn = sink;
        return stream_run(s);
    }
    bool cells = s->cells;
    s->cells = false;
    s->fn = note_last;
    s->seq = 0;
    st = stream_run(s);
    s->cells = cells;
    s->fn = last_only;
    s->sink = sink;
    s->seq = 0;
    if (st == SN_OK)
        st = stream_run(s);
    sn_u64map_free(&s->last);
    return st;
}

/* A run's probed and alive observations: the chunks' own counts, unless it was resumed. */
static sn_status_t run_counts(be_t *b, int64_t run, int64_t *probed, int64_t *alive,
                              sn_error_t *err)
{
    *probed = *alive = 0;
    if (reopened(b, run)) {
        stream_t s = {.b = b, .run = run, .err = err};
        sn_status_t st = read_run(&s, count);
        *probed = s.probed;
        *alive = s.alive;
        return st;
    }
    sqlite3_stmt *q = NULL;
    if (prepare(b,
                "SELECT (SELECT count(*) FILTER (WHERE probed <> 0) FROM observations"
                " WHERE run_id = ?1) + (SELECT coalesce(sum(probed), 0) FROM chunks"
                " WHERE run_id = ?1), (SELECT count(*) FILTER (WHERE alive <> 0)"
                " FROM observations WHERE run_id = ?1) + (SELECT coalesce(sum(alive), 0)"
                " FROM chunks WHERE run_id = ?1)",
                &q, "counting observations", err) != SN_OK)
        return SN_EIO;
    sqlite3_bind_int64(q, 1, run);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *probed = sqlite3_column_int64(q, 0);
        *alive = sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? SN_OK : db_fail(b, err, "counting observations");
}

static sn_status_t sq_each_obs(void *vb, int64_t run, bool cells, sn_history_obs_fn fn, void *ud,
                               sn_error_t *err)
{
    be_t *b = vb;
    int64_t *all = NULL, *ids = &run;
    size_t n = 1;
    sqlite3_stmt *q = NULL;
    if (run <= 0) { /* every run */
        sn_status_t st = prepare(b, "SELECT id FROM runs ORDER BY id", &q, "reading runs", err);
        if (st == SN_OK)
            st = select_ids(b, q, &all, &n, "reading runs", err);
        if (st != SN_OK)
            return st;
        ids = all;
    }
    stream_t s = {.b = b, .cells = cells, .user = fn, .ud = ud, .err = err};
    s.cv = calloc(b->n_columns ? b->n_columns : 1, sizeof *s.cv);
    sn_status_t st = s.cv ? SN_OK : sn_error_set(err, SN_ENOMEM, "out of memory");
    for (size_t i = 0; st == SN_OK && i < n; i++) {
        s.run = ids[i];
        st = read_run(&s, to_user);
    }
    free(all);
    free(s.cv);
    return st;
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
