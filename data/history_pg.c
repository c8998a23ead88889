/*
 * The PostgreSQL backend of the history store (history.h), for several
 * scanners writing one history: the shards of a night and the sites scanning
 * the same list (issue 13). Same schema, same versions and the same answers
 * as the SQLite backend; what differs is only what a shared server needs:
 *
 * - Targets are shared rows: a batch inserts its targets with ON CONFLICT DO
 *   NOTHING, sorted by (address, port) so that two writers inserting the same
 *   new targets always take their row locks in the same order and never
 *   deadlock, then its observations in one INSERT ... SELECT from unnest()
 *   of array parameters (one round trip per batch, not per row).
 * - Observations keep a seq column (BIGSERIAL) for "the order they were
 *   written", which SQLite's rowid gives; a replaced observation takes a new
 *   seq, as INSERT OR REPLACE takes a new rowid.
 * - The writer's lock is a session advisory lock per (site, shard), not a
 *   file: the writers are on other machines. Migrations run under a
 *   transaction advisory lock of their own.
 * - A lost connection does not stop the scan: a batch that cannot be written
 *   goes to a spool file on disk (its statement parameters, length-prefixed),
 *   bounded by SN_HISTORY_SPOOL_MAX; every later commit first reconnects
 *   (at most every two seconds), retakes the lock and writes the spool in
 *   order, then the batch. The run ends only once the spool is written.
 *
 * The connection string is a postgresql:// URI or empty for libpq's PG*
 * environment variables. It is never printed: messages name the server as
 * the URI with any password replaced by "***" (sn_history_pg_redact).
 */
#include "data/history.h"
#include "data/history_sql.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* drain(): the server is still away (never returned to callers). */
#define SN_EAGAIN_PG ((sn_status_t)-100)

/* The SET item of an UPDATE of runs that counts each updated run's probed and alive
 * observations, in one pass over them. */
#define SET_COUNTS                                                                                 \
    "(probed, alive) = (SELECT count(*) FILTER (WHERE o.probed <> 0),"                             \
    " count(*) FILTER (WHERE o.alive <> 0) FROM observations o WHERE o.run_id = runs.id)"

/* Keys of the advisory locks (first half of the two-int form). */
#define LOCK_WRITER 0x736e7077 /* "snpw": (site, shard) writer */
#define LOCK_SCHEMA 0x736e7073 /* "snps": migrations and columns */

typedef struct be {
    PGconn *db;
    char *conninfo, *name; /* name: redacted, for messages */
    bool writer, locked;
    bool broken;        /* a statement failed for want of a connection: reconnect first */
    char *site, *shard; /* the writer's lock */
    size_t n_columns;
    char **columns;
    int *present;
    char *obs_sql; /* the observation insert */
    /* the spool */
    char *spool_path;
    FILE *spool;
    uint64_t spooled_batches, spooled_rows, spool_bytes;
    uint64_t total_spooled_rows; /* over the whole run, for the summary */
    int64_t last_try;
} be_t;

static const char *const migrations[] = {
    /* 0 -> 1: the first schema (the SQLite one's, with seq for the write order). */
    "CREATE TABLE schema_version(version INTEGER NOT NULL);"
    "INSERT INTO schema_version VALUES(0);"
    "CREATE TABLE runs(id BIGSERIAL PRIMARY KEY, started BIGINT NOT NULL, finished BIGINT,"
    " status TEXT NOT NULL, command TEXT, site TEXT, vantage TEXT, inputs TEXT, plan TEXT,"
    " targets BIGINT, probed BIGINT, alive BIGINT);"
    "CREATE TABLE targets(id BIGSERIAL PRIMARY KEY, address TEXT NOT NULL, port INTEGER NOT NULL,"
    " first_listed BIGINT NOT NULL, UNIQUE(address, port));"
    "CREATE TABLE observations(seq BIGSERIAL NOT NULL, run_id BIGINT NOT NULL REFERENCES runs(id),"
    " target_id BIGINT NOT NULL REFERENCES targets(id), observed_at BIGINT NOT NULL,"
    " probed INTEGER NOT NULL, alive INTEGER NOT NULL, incomplete INTEGER NOT NULL,"
    " PRIMARY KEY(run_id, target_id));"
    "CREATE INDEX observations_order ON observations(run_id, seq);",
    /* 1 -> 2: the shard of a run. */
    "ALTER TABLE runs ADD COLUMN shard TEXT;",
    /* 2 -> 3: the night a run belongs to. */
    ("ALTER TABLE runs ADD COLUMN night TEXT;"
     "UPDATE runs SET night = to_char(to_timestamp(started) AT TIME ZONE 'UTC', 'YYYY-MM-DD');"),
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

char *sn_history_pg_redact(const char *uri)
{
    /* postgresql://user:password@host/... -> postgresql://user:***@host/...; also
     * password=... in a query string or a key=value string. */
    size_t n = strlen(uri);
    char *out = malloc(n + 8);
    if (out == NULL)
        return NULL;
    const char *scheme = strstr(uri, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
    const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
    if (at != NULL && (slash == NULL || at < slash) && colon != NULL && colon < at) {
        size_t head = (size_t)(colon - uri) + 1;
        memcpy(out, uri, head);
        snprintf(out + head, n + 8 - head, "***%s", at);
    } else {
        memcpy(out, uri, n + 1);
    }
    char *pw = strstr(out, "password=");
    if (pw != NULL) {
        char *end = pw + strlen("password=");
        size_t rest = strcspn(end, "& ");
        memmove(end + 3, end + rest, strlen(end + rest) + 1);
        memcpy(end, "***", 3);
    }
    return out;
}

/* Whether a failure means the connection is gone (reconnect and retry) rather than the
 * statement being refused: no SQLSTATE (libpq's own error), class 08 (connection exception)
 * or 57P (the server shutting down), or libpq already knows the connection bad. */
static bool connection_lost(be_t *b, const PGresult *r)
{
    if (PQstatus(b->db) != CONNECTION_OK)
        return true;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return state == NULL || strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0;
}

static sn_status_t pg_fail(be_t *b, sn_error_t *err, const char *what, const PGresult *r)
{
    b->broken |= connection_lost(b, r);
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (m == NULL || *m == '\0')
        m = PQerrorMessage(b->db);
    char msg[400];
    snprintf(msg, sizeof msg, "%s", m ? m : "unknown error");
    msg[strcspn(msg, "\n")] = '\0';
    return sn_error_set(err, SN_EIO, "history %s %s: %s", b->name, what, msg);
}

static sn_status_t exec(void *vb, const char *sql, sn_error_t *err)
{
    be_t *b = vb;
    PGresult *r = PQexec(b->db, sql);
    ExecStatusType s = PQresultStatus(r);
    sn_status_t st =
        s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? SN_OK : pg_fail(b, err, "statement", r);
    PQclear(r);
    return st;
}

/* A one-value query's text (malloc'd), or NULL on an error (err set). */
static char *query1(be_t *b, const char *sql, int n, const char *const *params, sn_error_t *err)
{
    PGresult *r = PQexecParams(b->db, sql, n, NULL, params, NULL, NULL, 0);
    char *v = NULL;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        pg_fail(b, err, "query", r);
    else if ((v = strdup(PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0))) == NULL)
        sn_error_set(err, SN_ENOMEM, "out of memory");
    PQclear(r);
    return v;
}

/* The schema version, 0 for a new database; -1 with err set when it cannot be read. */
static int read_version(void *vb, sn_error_t *err)
{
    be_t *b = vb;
    char *t = query1(b, "SELECT to_regclass('schema_version') IS NOT NULL", 0, NULL, NULL);
    char *v = t != NULL && strcmp(t, "t") == 0
                  ? query1(b, "SELECT version FROM schema_version", 0, NULL, NULL)
                  : NULL;
    int n = t == NULL ? -1 : strcmp(t, "t") != 0 ? 0 : v != NULL ? atoi(v) : -1;
    free(t);
    free(v);
    if (n < 0)
        pg_fail(b, err, "reading the schema version", NULL);
    return n;
}

/* Migrations run under a transaction advisory lock of their own. */
static sn_status_t migrate(be_t *b, sn_error_t *err)
{
    char begin[96];
    snprintf(begin, sizeof begin, "BEGIN; SELECT pg_advisory_xact_lock(%d, 0)", LOCK_SCHEMA);
    return sn_history_migrate(b, exec, read_version, begin, migrations, SCHEMA_VERSION, err);
}

static sn_status_t sync_columns(be_t *b, sn_error_t *err)
{
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%d, 0)", LOCK_SCHEMA);
    if (b->writer && (exec(b, "BEGIN", err) != SN_OK || exec(b, lock, err) != SN_OK))
        return SN_EIO;
    PGresult *r = PQexec(b->db, "SELECT column_name FROM information_schema.columns"
                                " WHERE table_name = 'observations'"
                                " AND table_schema = current_schema()");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        sn_status_t st = pg_fail(b, err, "reading columns", r);
        PQclear(r);
        if (b->writer)
            exec(b, "ROLLBACK", NULL);
        return st;
    }
    for (int k = 0; k < PQntuples(r); k++) {
        const char *name = PQgetvalue(r, k, 0);
        for (size_t i = 0; i < b->n_columns; i++)
            if (strncmp(name, "c_", 2) == 0 && strcmp(name + 2, b->columns[i]) == 0)
                b->present[i] = 1;
    }
    PQclear(r);
    for (size_t i = 0; b->writer && i < b->n_columns; i++) {
        if (b->present[i])
            continue;
        char sql[256];
        snprintf(sql, sizeof sql, "ALTER TABLE observations ADD COLUMN IF NOT EXISTS \"c_%s\" TEXT",
                 b->columns[i]);
        if (exec(b, sql, err) != SN_OK) {
            exec(b, "ROLLBACK", NULL);
            return SN_EIO;
        }
        b->present[i] = 1;
    }
    return b->writer ? exec(b, "COMMIT", err) : SN_OK;
}

/* The observation insert: arrays $1.. (address, port, observed_at, probed, alive, incomplete,
 * one per column), $N the run. */
static sn_status_t make_obs_sql(be_t *b, sn_error_t *err)
{
    size_t cap = 1024 + b->n_columns * 160;
    char *sql = malloc(cap);
    if (sql == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    size_t len = (size_t)snprintf(sql, cap,
                                  "INSERT INTO observations(run_id, target_id, observed_at, probed,"
                                  " alive, incomplete");
    for (size_t i = 0; i < b->n_columns; i++)
        len += (size_t)snprintf(sql + len, cap - len, ", \"c_%s\"", b->columns[i]);
    len +=
        (size_t)snprintf(sql + len, cap - len,
                         ") SELECT $%zu::bigint, t.id, u.o, u.pr, u.al, u.inc", b->n_columns + 7);
    for (size_t i = 0; i < b->n_columns; i++)
        len += (size_t)snprintf(sql + len, cap - len, ", u.c%zu", i);
    len += (size_t)snprintf(sql + len, cap - len,
                            " FROM unnest($1::text[], $2::int[], $3::bigint[], $4::int[],"
                            " $5::int[], $6::int[]");
    for (size_t i = 0; i < b->n_columns; i++)
        len += (size_t)snprintf(sql + len, cap - len, ", $%zu::text[]", i + 7);
    len += (size_t)snprintf(sql + len, cap - len, ") WITH ORDINALITY AS u(a, p, o, pr, al, inc");
    for (size_t i = 0; i < b->n_columns; i++)
        len += (size_t)snprintf(sql + len, cap - len, ", c%zu", i);
    len += (size_t)snprintf(sql + len, cap - len,
                            ", ord) JOIN targets t ON t.address = u.a AND t.port = u.p"
                            " ORDER BY u.ord ON CONFLICT (run_id, target_id) DO UPDATE SET"
                            " seq = nextval(pg_get_serial_sequence('observations', 'seq')),"
                            " observed_at = excluded.observed_at, probed = excluded.probed,"
                            " alive = excluded.alive, incomplete = excluded.incomplete");
    for (size_t i = 0; i < b->n_columns; i++)
        len += (size_t)snprintf(sql + len, cap - len, ", \"c_%s\" = excluded.\"c_%s\"",
                                b->columns[i], b->columns[i]);
    b->obs_sql = sql;
    return SN_OK;
}

static void pg_close(void *vb)
{
    be_t *b = vb;
    if (b == NULL)
        return;
    if (b->db)
        PQfinish(b->db); /* ends the session: the advisory lock goes with it */
    if (b->spool) {
        fclose(b->spool);
        if (b->spooled_batches == 0)
            unlink(b->spool_path);
    }
    free(b->spool_path);
    free(b->conninfo);
    free(b->name);
    free(b->site);
    free(b->shard);
    free(b->obs_sql);
    for (size_t i = 0; i < b->n_columns; i++)
        free(b->columns[i]);
    free(b->columns);
    free(b->present);
    free(b);
}

static sn_status_t connect_db(be_t *b, sn_error_t *err)
{
    if (b->db != NULL)
        PQfinish(b->db);
    b->db = PQconnectdb(b->conninfo);
    if (b->db == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory connecting to %s", b->name);
    if (PQstatus(b->db) != CONNECTION_OK)
        return pg_fail(b, err, "connecting", NULL);
    char set[96];
    snprintf(set, sizeof set,
             "SET client_min_messages = warning; SET application_name = "
             "'snprobe pid %ld'",
             (long)getpid());
    PGresult *r = PQexec(b->db, set);
    PQclear(r);
    return SN_OK;
}

static sn_status_t pg_open(const char *where, bool writer, const char *const *columns,
                           size_t n_columns, void **out, sn_error_t *err)
{
    *out = NULL;
    be_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    b->writer = writer;
    b->columns = calloc(n_columns ? n_columns : 1, sizeof *b->columns);
    b->present = calloc(n_columns ? n_columns : 1, sizeof *b->present);
    /* "postgresql:" alone: every parameter from libpq's PG* environment variables. */
    b->conninfo = strdup(strcmp(where, "postgresql:") == 0 ? "" : where);
    b->name = sn_history_pg_redact(where);
    if (b->columns == NULL || b->present == NULL || b->conninfo == NULL || b->name == NULL) {
        pg_close(b);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_columns; i++) {
        if (!sn_history_plain_name(columns[i])) {
            pg_close(b);
            return sn_error_set(err, SN_EINVAL, "history: column name '%s' is not plain",
                                columns[i]);
        }
        if ((b->columns[i] = strdup(columns[i])) == NULL) {
            pg_close(b);
            return sn_error_set(err, SN_ENOMEM, "out of memory");
        }
        b->n_columns = i + 1;
    }
    sn_status_t st = connect_db(b, err);
    if (st == SN_OK)
        st = migrate(b, err);
    if (st == SN_OK)
        st = sync_columns(b, err);
    if (st == SN_OK && writer)
        st = make_obs_sql(b, err);
    if (st != SN_OK) {
        pg_close(b);
        return st;
    }
    *out = b;
    return SN_OK;
}

static int pg_schema_version(void *vb)
{
    return read_version(vb, NULL);
}

/* The writer's advisory lock of (site, shard): hashtext of "site\nshard" as its second key. */
static sn_status_t lock_writer(be_t *b, sn_error_t *err)
{
    size_t n = strlen(b->site) + strlen(b->shard) + 2;
    char *key = malloc(n);
    if (key == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    snprintf(key, n, "%s\n%s", b->site, b->shard);
    char k1[16];
    snprintf(k1, sizeof k1, "%d", LOCK_WRITER);
    const char *p[2] = {k1, key};
    char *got = query1(b, "SELECT pg_try_advisory_lock($1::int, hashtext($2))", 2, p, err);
    free(key);
    if (got == NULL)
        return SN_EIO;
    bool ok = strcmp(got, "t") == 0;
    free(got);
    if (!ok) {
        const char *q[2] = {b->site, b->shard};
        /* The holder named itself in application_name at connect ("snprobe pid N"). */
        char *pid = query1(b,
                           "SELECT coalesce((SELECT substr(a.application_name, 13) FROM pg_locks l"
                           " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory'"
                           " AND l.classid = 1936617591 AND l.objid::bigint ="
                           " (hashtext($1 || chr(10) || $2)::bigint + 4294967296) % 4294967296"
                           " AND l.granted AND a.application_name LIKE 'snprobe pid %' LIMIT 1),"
                           " 'unknown')",
                           2, q, NULL);
        sn_status_t st =
            sn_error_set(err, SN_EBUSY,
                         "history %s (site '%s', shard %s) is being written by another snprobe "
                         "(pid %s, advisory lock)",
                         b->name, b->site, *b->shard ? b->shard : "none", pid ? pid : "unknown");
        free(pid);
        return st;
    }
    b->locked = true;
    return SN_OK;
}

static sn_status_t pg_take_lock(void *vb, const char *site, const char *shard, sn_error_t *err)
{
    be_t *b = vb;
    free(b->site);
    free(b->shard);
    b->site = strdup(site ? site : "");
    b->shard = strdup(shard ? shard : "");
    if (b->site == NULL || b->shard == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    return lock_writer(b, err);
}

static sn_status_t pg_set_spool(void *vb, const char *path, sn_error_t *err)
{
    be_t *b = vb;
    free(b->spool_path);
    if ((b->spool_path = strdup(path)) == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    return SN_OK;
}

static sn_status_t pg_interrupt_stale(void *vb, const char *site, const char *shard,
                                      sn_error_t *err)
{
    be_t *b = vb;
    const char *p[2] = {site ? site : "", shard ? shard : ""};
    static const char sql[] = "UPDATE runs SET status = 'interrupted', " SET_COUNTS
                              " WHERE status = 'running' AND coalesce(site, '') = $1"
                              " AND coalesce(shard, '') = $2";
    PGresult *r = PQexecParams(b->db, sql, 2, NULL, p, NULL, NULL, 0);
    sn_status_t st =
        PQresultStatus(r) == PGRES_COMMAND_OK ? SN_OK : pg_fail(b, err, "marking stale runs", r);
    PQclear(r);
    return st;
}

static sn_status_t pg_begin_run(void *vb, const sn_history_run_t *r, int64_t *id, sn_error_t *err)
{
    be_t *b = vb;
    char started[32], targets[32];
    snprintf(started, sizeof started, "%lld", (long long)r->started);
    snprintf(targets, sizeof targets, "%lld", (long long)r->targets);
    const char *p[9] = {started,
                        r->command ? r->command : "",
                        r->site ? r->site : "",
                        r->vantage ? r->vantage : "",
                        r->inputs ? r->inputs : "",
                        r->plan ? r->plan : "",
                        targets,
                        r->shard ? r->shard : "",
                        r->night ? r->night : ""};
    char *v = query1(b,
                     "INSERT INTO runs(started, finished, status, command, site, vantage, inputs,"
                     " plan, targets, probed, alive, shard, night) VALUES($1, 0, 'running', $2,"
                     " $3, $4, $5, $6, $7, 0, 0, $8, $9) RETURNING id",
                     9, p, err);
    if (v == NULL)
        return SN_EIO;
    *id = strtoll(v, NULL, 10);
    free(v);
    return SN_OK;
}

static sn_status_t pg_newest_run(void *vb, const char *status, const char *site, const char *shard,
                                 int64_t *id, sn_error_t *err)
{
    be_t *b = vb;
    *id = 0;
    const char *p[3] = {status, site, shard};
    char *v = query1(b,
                     "SELECT max(id) FROM runs WHERE ($1::text IS NULL OR status = $1)"
                     " AND ($2::text IS NULL OR coalesce(site, '') = $2)"
                     " AND ($3::text IS NULL OR coalesce(shard, '') = $3)",
                     3, p, err);
    if (v == NULL)
        return SN_EIO;
    *id = *v ? strtoll(v, NULL, 10) : 0;
    free(v);
    return SN_OK;
}

static sn_status_t pg_reopen_run(void *vb, int64_t id, sn_error_t *err)
{
    be_t *b = vb;
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE runs SET status='running' WHERE id=%lld", (long long)id);
    return exec(b, sql, err);
}

/* ---- arrays ---- */

typedef struct buf {
    char *s;
    size_t len, cap;
    bool oom;
} buf_t;

static void put(buf_t *a, const char *s, size_t n)
{
    if (a->oom)
        return;
    if (a->cap - a->len < n + 1) {
        size_t nc = a->cap ? a->cap : 4096;
        while (nc - a->len < n + 1)
            nc *= 2;
        char *ns = realloc(a->s, nc);
        if (ns == NULL) {
            a->oom = true;
            return;
        }
        a->s = ns;
        a->cap = nc;
    }
    memcpy(a->s + a->len, s, n);
    a->len += n;
    a->s[a->len] = '\0';
}

/* One array element: NULL for an empty text, else double-quoted with \ and " escaped. */
static void put_elem(buf_t *a, const char *s, bool first)
{
    if (!first)
        put(a, ",", 1);
    if (s == NULL || *s == '\0') {
        put(a, "NULL", 4);
        return;
    }
    put(a, "\"", 1);
    for (const char *p = s; *p; p++) {
        size_t run = strcspn(p, "\"\\");
        put(a, p, run);
        p += run;
        if (*p == '\0')
            break;
        put(a, "\\", 1);
        put(a, p, 1);
    }
    put(a, "\"", 1);
}

/* A batch's statement parameters, 6 + n_columns arrays then the run id. */
typedef struct params {
    size_t n;
    buf_t *v;
} params_t;

static void params_free(params_t *p)
{
    for (size_t i = 0; p->v && i < p->n; i++)
        free(p->v[i].s);
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

static sn_status_t make_params(be_t *b, int64_t run, const sn_history_obs_t *obs, size_t n,
                               params_t *p, sn_error_t *err)
{
    p->n = 7 + b->n_columns;
    p->v = calloc(p->n, sizeof *p->v);
    if (p->v == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    for (size_t i = 0; i + 1 < p->n; i++)
        put(&p->v[i], "{", 1);
    for (size_t k = 0; k < n; k++) {
        const sn_history_obs_t *o = &obs[k];
        char num[4][32];
        snprintf(num[0], sizeof num[0], "%u", (unsigned)o->port);
        snprintf(num[1], sizeof num[1], "%lld", (long long)o->observed_at);
        snprintf(num[2], sizeof num[2], "%d", o->probed ? 1 : 0);
        snprintf(num[3], sizeof num[3], "%d", o->alive ? 1 : 0);
        put_elem(&p->v[0], o->address, k == 0);
        for (int i = 0; i < 4; i++)
            put_elem(&p->v[1 + i], num[i], k == 0);
        put_elem(&p->v[5], o->incomplete ? "1" : "0", k == 0);
        for (size_t i = 0; i < b->n_columns; i++)
            put_elem(&p->v[6 + i], o->cells ? o->cells[i] : NULL, k == 0);
    }
    bool oom = false;
    for (size_t i = 0; i + 1 < p->n; i++) {
        put(&p->v[i], "}", 1);
        oom |= p->v[i].oom;
    }
    char r[32];
    int rl = snprintf(r, sizeof r, "%lld", (long long)run);
    put(&p->v[p->n - 1], r, (size_t)rl);
    if (oom || p->v[p->n - 1].oom) {
        params_free(p);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    return SN_OK;
}

/* Writes one batch in one transaction; *lost: the connection is gone (spool and retry). */
static sn_status_t write_params(be_t *b, const params_t *p, bool *lost, sn_error_t *err)
{
    *lost = false;
    b->broken = false;
    const char **vals = calloc(p->n, sizeof *vals);
    if (vals == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n; i++)
        vals[i] = p->v[i].s;
    sn_status_t st = exec(b, "BEGIN", err);
    if (st == SN_OK) {
        const char *tv[3] = {vals[0], vals[1], vals[2]};
        PGresult *r = PQexecParams(b->db,
                                   "INSERT INTO targets(address, port, first_listed)"
                                   " SELECT a, p, min(o) FROM unnest($1::text[], $2::int[],"
                                   " $3::bigint[]) AS u(a, p, o) GROUP BY a, p ORDER BY a, p"
                                   " ON CONFLICT (address, port) DO NOTHING",
                                   3, NULL, tv, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            st = pg_fail(b, err, "writing targets", r);
        PQclear(r);
    }
    if (st == SN_OK) {
        PGresult *r = PQexecParams(b->db, b->obs_sql, (int)p->n, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            st = pg_fail(b, err, "writing observations", r);
        PQclear(r);
    }
    if (st == SN_OK)
        st = exec(b, "COMMIT", err);
    if (st != SN_OK) {
        *lost = b->broken;
        if (!*lost)
            exec(b, "ROLLBACK", NULL);
    }
    free(vals);
    return st;
}

/* ---- the spool ---- */

static sn_status_t spool_batch(be_t *b, const params_t *p, size_t rows, sn_error_t *err)
{
    if (b->spool_path == NULL)
        return sn_error_set(err, SN_EIO, "history %s: connection lost and no spool file set",
                            b->name);
    if (b->spool == NULL && (b->spool = fopen(b->spool_path, "w+b")) == NULL)
        return sn_error_set(err, SN_EIO, "history %s: cannot open the spool %s", b->name,
                            b->spool_path);
    uint64_t bytes = 0;
    for (size_t i = 0; i < p->n; i++)
        bytes += p->v[i].len + 8;
    if (b->spool_bytes + bytes > SN_HISTORY_SPOOL_MAX)
        return sn_error_set(err, SN_ELIMIT,
                            "history %s: the server is unreachable and the spool %s is full "
                            "(%llu rows, %llu bytes); the results file has every row",
                            b->name, b->spool_path, (unsigned long long)b->spooled_rows,
                            (unsigned long long)b->spool_bytes);
    uint64_t hdr[2] = {p->n, rows};
    bool ok = fseek(b->spool, 0, SEEK_END) == 0 && fwrite(hdr, sizeof hdr, 1, b->spool) == 1;
    for (size_t i = 0; ok && i < p->n; i++) {
        uint64_t len = p->v[i].len;
        ok = fwrite(&len, sizeof len, 1, b->spool) == 1 &&
             fwrite(p->v[i].s, 1, p->v[i].len, b->spool) == p->v[i].len;
    }
    if (!ok || fflush(b->spool) != 0)
        return sn_error_set(err, SN_EIO, "history %s: cannot write the spool %s", b->name,
                            b->spool_path);
    b->spool_bytes += bytes + sizeof hdr;
    b->spooled_batches++;
    b->spooled_rows += rows;
    b->total_spooled_rows += rows;
    return SN_OK;
}

/* Reconnects (at most every 2 s), retakes the lock, writes the spool in order. */
static sn_status_t drain(be_t *b, bool force, sn_error_t *err)
{
    if (b->broken || PQstatus(b->db) != CONNECTION_OK || b->spooled_batches > 0) {
        int64_t now = (int64_t)time(NULL);
        if (b->broken || PQstatus(b->db) != CONNECTION_OK) {
            if (!force && now - b->last_try < 2)
                return SN_EAGAIN_PG;
            b->last_try = now;
            if (connect_db(b, err) != SN_OK)
                return SN_EAGAIN_PG;
            b->broken = false;
            b->locked = false;
            if (b->site != NULL && lock_writer(b, err) != SN_OK)
                return SN_EBUSY;
        }
    }
    if (b->spooled_batches == 0)
        return SN_OK;
    if (fseek(b->spool, 0, SEEK_SET) != 0)
        return sn_error_set(err, SN_EIO, "history %s: cannot read the spool", b->name);
    for (uint64_t k = 0; k < b->spooled_batches; k++) {
        uint64_t hdr[2];
        if (fread(hdr, sizeof hdr, 1, b->spool) != 1 || hdr[0] != 7 + b->n_columns)
            return sn_error_set(err, SN_EIO, "history %s: the spool %s is damaged", b->name,
                                b->spool_path);
        params_t p = {.n = hdr[0], .v = calloc(hdr[0], sizeof(buf_t))};
        bool ok = p.v != NULL;
        for (size_t i = 0; ok && i < p.n; i++) {
            uint64_t len;
            ok = fread(&len, sizeof len, 1, b->spool) == 1 && len < SN_HISTORY_SPOOL_MAX &&
                 (p.v[i].s = malloc(len + 1)) != NULL && fread(p.v[i].s, 1, len, b->spool) == len;
            if (ok) {
                p.v[i].s[len] = '\0';
                p.v[i].len = len;
            }
        }
        if (!ok) {
            params_free(&p);
            return sn_error_set(err, SN_EIO, "history %s: the spool %s is damaged", b->name,
                                b->spool_path);
        }
        /* A batch written before a reconnect failed mid-spool is written again: its
         * observations replace themselves (ON CONFLICT ... DO UPDATE), so nothing doubles. */
        bool lost;
        sn_status_t st = write_params(b, &p, &lost, err);
        params_free(&p);
        if (st != SN_OK)
            return lost ? SN_EAGAIN_PG : st;
    }
    /* All written: empty the spool. */
    fclose(b->spool);
    b->spool = fopen(b->spool_path, "w+b");
    b->spooled_batches = b->spooled_rows = b->spool_bytes = 0;
    if (b->spool == NULL)
        return sn_error_set(err, SN_EIO, "history %s: cannot reopen the spool %s", b->name,
                            b->spool_path);
    return SN_OK;
}

static sn_status_t pg_add(void *vb, int64_t run, const sn_history_obs_t *obs, size_t n,
                          sn_error_t *err)
{
    be_t *b = vb;
    if (n == 0)
        return SN_OK;
    params_t p = {0};
    sn_status_t st = make_params(b, run, obs, n, &p, err);
    if (st != SN_OK)
        return st;
    st = drain(b, false, err);
    bool lost = st == SN_EAGAIN_PG;
    if (st == SN_OK)
        st = write_params(b, &p, &lost, err);
    if (st != SN_OK && lost) {
        if (b->spooled_batches == 0)
            fprintf(stderr, "snprobe: history %s: connection lost; spooling to %s and retrying\n",
                    b->name, b->spool_path ? b->spool_path : "(none)");
        st = spool_batch(b, &p, n, err);
    }
    params_free(&p);
    return st;
}

static sn_status_t pg_end_run(void *vb, int64_t run, const char *status, int64_t finished,
                              int64_t targets, sn_error_t *err)
{
    be_t *b = vb;
    /* Nothing is lost: the run ends only once its spool is written (up to two minutes). */
    sn_status_t st;
    for (int tries = 0; (st = drain(b, true, err)) == SN_EAGAIN_PG && tries < 120; tries++)
        sleep(1);
    if (st == SN_EAGAIN_PG)
        return sn_error_set(err, SN_EIO,
                            "history %s: the server stayed unreachable; %llu rows wait in %s "
                            "(and in the results file)",
                            b->name, (unsigned long long)b->spooled_rows, b->spool_path);
    if (st != SN_OK)
        return st;
    if (b->total_spooled_rows > 0)
        fprintf(stderr,
                "snprobe: history %s: %llu rows spooled while the server was away, "
                "all written\n",
                b->name, (unsigned long long)b->total_spooled_rows);
    char a[4][32];
    snprintf(a[0], sizeof a[0], "%lld", (long long)finished);
    snprintf(a[1], sizeof a[1], "%lld", (long long)targets);
    snprintf(a[2], sizeof a[2], "%lld", (long long)run);
    const char *p[4] = {status, a[0], a[1], a[2]};
    static const char sql[] = "UPDATE runs SET status = $1, finished = $2::bigint,"
                              " targets = greatest(coalesce(targets, 0), $3::bigint), " SET_COUNTS
                              " WHERE id = $4::bigint";
    PGresult *r = PQexecParams(b->db, sql, 4, NULL, p, NULL, NULL, 0);
    st = PQresultStatus(r) == PGRES_COMMAND_OK ? SN_OK : pg_fail(b, err, "ending a run", r);
    PQclear(r);
    return st;
}

static const char *val(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

static sn_status_t pg_each_run(void *vb, sn_history_run_fn fn, void *ud, sn_error_t *err)
{
    be_t *b = vb;
    PGresult *r = PQexec(b->db, "SELECT id, started, coalesce(finished, 0), status, command, site,"
                                " vantage, inputs, plan, coalesce(targets, 0),"
                                " coalesce(probed, 0), coalesce(alive, 0), shard, night"
                                " FROM runs ORDER BY id");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        sn_status_t st = pg_fail(b, err, "reading runs", r);
        PQclear(r);
        return st;
    }
    for (int k = 0; k < PQntuples(r); k++) {
        sn_history_run_t run = {.id = strtoll(val(r, k, 0), NULL, 10),
                                .started = strtoll(val(r, k, 1), NULL, 10),
                                .finished = strtoll(val(r, k, 2), NULL, 10),
                                .status = val(r, k, 3),
                                .command = val(r, k, 4),
                                .site = val(r, k, 5),
                                .vantage = val(r, k, 6),
                                .inputs = val(r, k, 7),
                                .plan = val(r, k, 8),
                                .targets = strtoll(val(r, k, 9), NULL, 10),
                                .probed = strtoll(val(r, k, 10), NULL, 10),
                                .alive = strtoll(val(r, k, 11), NULL, 10),
                                .shard = val(r, k, 12),
                                .night = val(r, k, 13)};
        fn(ud, &run);
    }
    PQclear(r);
    return SN_OK;
}

static sn_status_t pg_each_obs(void *vb, int64_t run, bool cells, sn_history_obs_fn fn, void *ud,
                               sn_error_t *err)
{
    be_t *b = vb;
    char *sql =
        sn_history_obs_select((const char *const *)b->columns, b->present, b->n_columns, cells,
                              run > 0 ? " WHERE o.run_id = $1::bigint" : "", "o.run_id, o.seq");
    const char **cv = calloc(b->n_columns ? b->n_columns : 1, sizeof *cv);
    if (sql == NULL || cv == NULL) {
        free(sql);
        free(cv);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    char rs[32];
    snprintf(rs, sizeof rs, "%lld", (long long)run);
    const char *p[1] = {rs};
    int sent = PQsendQueryParams(b->db, sql, run > 0 ? 1 : 0, NULL, p, NULL, NULL, 0);
    free(sql);
    sn_status_t st = SN_OK;
    if (!sent || !PQsetSingleRowMode(b->db)) {
        free(cv);
        return pg_fail(b, err, "reading observations", NULL);
    }
    PGresult *r;
    while ((r = PQgetResult(b->db)) != NULL) {
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_SINGLE_TUPLE && st == SN_OK) {
            for (size_t i = 0; cells && i < b->n_columns; i++)
                cv[i] = val(r, 0, (int)(8 + i));
            sn_history_obs_t o = {.run_id = strtoll(val(r, 0, 0), NULL, 10),
                                  .target_id = strtoll(val(r, 0, 1), NULL, 10),
                                  .address = val(r, 0, 2),
                                  .port = (uint16_t)atoi(val(r, 0, 3)),
                                  .observed_at = strtoll(val(r, 0, 4), NULL, 10),
                                  .probed = atoi(val(r, 0, 5)) != 0,
                                  .alive = atoi(val(r, 0, 6)) != 0,
                                  .incomplete = atoi(val(r, 0, 7)) != 0,
                                  .cells = cells ? cv : NULL};
            fn(ud, &o);
        } else if (s != PGRES_TUPLES_OK && s != PGRES_SINGLE_TUPLE && st == SN_OK) {
            st = pg_fail(b, err, "reading observations", r);
        }
        PQclear(r);
    }
    free(cv);
    return st;
}

const sn_history_ops_t sn_history_pg = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .take_lock = pg_take_lock,
    .set_spool = pg_set_spool,
    .begin_run = pg_begin_run,
    .newest_run = pg_newest_run,
    .interrupt_stale = pg_interrupt_stale,
    .reopen_run = pg_reopen_run,
    .add_observations = pg_add,
    .end_run = pg_end_run,
    .each_run = pg_each_run,
    .each_observation = pg_each_obs,
};
