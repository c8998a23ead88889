/*
 * The history store: every night's run, the targets it listed and one
 * observation per target and run, so that churn, uptime and list age can be
 * measured across nights (issue 12).
 *
 * Callers see sn_history_t only. Behind it sits a backend, one `const` table
 * of operations (sn_history_ops_t): SQLite today (history_sqlite.c); a
 * PostgreSQL backend is one more file and one more line in the backend list
 * of history.c, and no caller changes. The front end owns what every backend
 * shares: the writer's lock, the batching of observations, the set of
 * targets a resumed run already has.
 *
 * The store knows no result struct: an observation is its address, port,
 * three flags and one text cell per column, the columns being named by the
 * caller at open (the scan passes the result field table, so the history
 * keeps exactly the columns of `scan`'s results and new columns appear by
 * themselves when the table grows).
 */
#ifndef SN_HISTORY_H
#define SN_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/status.h"

/* Rows buffered before they are handed to the writer thread, which commits what it was handed
 * about once a second (history.c). */
#define SN_HISTORY_BATCH 1000

/* Bytes a PostgreSQL writer spools on disk while its server is unreachable (about 1.5 million
 * rows of the scan's columns); beyond, the scan stops with an error (the results file has every
 * row). */
#define SN_HISTORY_SPOOL_MAX (1024ull * 1024 * 1024)

/* One run (a night's scan of one site). Strings are owned by the callee's caller. */
typedef struct sn_history_run {
    int64_t id;
    int64_t started, finished;      /* Unix seconds; finished 0 while running */
    const char *status;             /* "running", "complete", "interrupted" */
    const char *command;            /* the command line */
    const char *site;               /* the vantage's name, or "" */
    const char *shard;              /* "K/N" for a run of shard K of N, or "" */
    const char *night;              /* the night it belongs to (begin: "" = UTC date started) */
    const char *vantage;            /* compact vantage, or "" */
    const char *inputs;             /* one "SHA256  PATH" line per input file */
    const char *plan;               /* probe plan, e.g. "udp=skype tcp=tcp fallback=443,80" */
    int64_t targets, probed, alive; /* distinct targets listed; observed probed; alive */
} sn_history_run_t;

/* One observation: what one run found on one target. */
typedef struct sn_history_obs {
    int64_t run_id, target_id; /* set by the store when read back */
    const char *address;       /* IP text */
    uint16_t port;
    int64_t observed_at;      /* Unix seconds */
    bool probed;              /* probed (not blocked, not a dry run) */
    bool alive;               /* UDP or TCP answered */
    bool incomplete;          /* the scan stopped before this target's probes were all made */
    const char *const *cells; /* one per column named at open; NULL when not asked for */
} sn_history_obs_t;

typedef void (*sn_history_run_fn)(void *ud, const sn_history_run_t *run);
typedef void (*sn_history_obs_fn)(void *ud, const sn_history_obs_t *obs);

/*
 * A backend. Every function returns SN_OK or a negative status with err set.
 * `where` is the store's name (a path for SQLite). Observations are read back
 * ordered by run id, then in the order they were written.
 */
typedef struct sn_history_ops {
    const char *name;
    sn_status_t (*open)(const char *where, bool writer, const char *const *columns,
                        size_t n_columns, void **be, sn_error_t *err);
    void (*close)(void *be);
    int (*schema_version)(void *be);
    /* A writer's lock of (site, shard) held by the backend itself (a server's lock); NULL: the
     * front end takes a lock file next to the store. */
    sn_status_t (*take_lock)(void *be, const char *site, const char *shard, sn_error_t *err);
    /* Where a writer spools what it cannot write now (a server away); NULL: never spools. */
    sn_status_t (*set_spool)(void *be, const char *path, sn_error_t *err);
    sn_status_t (*begin_run)(void *be, const sn_history_run_t *run, int64_t *id, sn_error_t *err);
    /* The newest run with the given status (NULL: any), of site and shard unless they are
     * NULL; 0 when there is none. */
    sn_status_t (*newest_run)(void *be, const char *status, const char *site, const char *shard,
                              int64_t *id, sn_error_t *err);
    /* Marks the runs of site and shard still "running" interrupted (their writer is gone). */
    sn_status_t (*interrupt_stale)(void *be, const char *site, const char *shard, sn_error_t *err);
    sn_status_t (*reopen_run)(void *be, int64_t id, sn_error_t *err);
    /* One transaction (or part of the one begin_write opened); an observation of a target the
     * run already has replaces it. */
    sn_status_t (*add_observations)(void *be, int64_t run, const sn_history_obs_t *obs, size_t n,
                                    sn_error_t *err);
    /* Optional: one transaction around the add_observations calls until end_write, which
     * commits it (commit true) or rolls it back. NULL: every call is its own transaction. */
    sn_status_t (*begin_write)(void *be, sn_error_t *err);
    sn_status_t (*end_write)(void *be, bool commit, sn_error_t *err);
    sn_status_t (*end_run)(void *be, int64_t run, const char *status, int64_t finished,
                           int64_t targets, sn_error_t *err);
    sn_status_t (*each_run)(void *be, sn_history_run_fn fn, void *ud, sn_error_t *err);
    /* run 0: every run. cells: also read every column's text. */
    sn_status_t (*each_observation)(void *be, int64_t run, bool cells, sn_history_obs_fn fn,
                                    void *ud, sn_error_t *err);
} sn_history_ops_t;

extern const sn_history_ops_t sn_history_sqlite;
extern const sn_history_ops_t sn_history_pg; /* "postgresql://..." or "postgres://..." */

/* A store's name fit for messages: a URI's password replaced by "***" (malloc'd; NULL: OOM). */
char *sn_history_pg_redact(const char *uri);

/* Whether a store's name is a PostgreSQL one (no lock file, no local path). */
bool sn_history_is_server(const char *where);

typedef struct sn_history sn_history_t;

/*
 * Opens the store at path. A writer first takes the lock of its (site,
 * shard) (lib/lockfile.h on PATH.lock, or PATH.lock.SITE.K-N for a named
 * site or a shard; the file holds the writer's pid): when another process
 * holds it, returns SN_EBUSY at once with its pid in the message. Different
 * sites and shards write the same store at once; one site and shard never
 * runs twice. Readers take no lock and, with the write-ahead log, never block
 * the writer nor wait for it. columns (copied) name the observation cells; a
 * reader may pass none. A writer marks every run of its site and shard still
 * "running" as interrupted: holding that lock, it knows that run's writer is
 * gone (killed, crashed, rebooted). sn_history_open is the writer of site ""
 * and no shard.
 */
sn_status_t sn_history_open(sn_history_t **h, const char *path, bool writer,
                            const char *const *columns, size_t n_columns, sn_error_t *err);
sn_status_t sn_history_open_writer(sn_history_t **h, const char *path, const char *site,
                                   const char *shard, const char *const *columns, size_t n_columns,
                                   sn_error_t *err);

/*
 * Sets where a server's writer spools the batches it cannot write while its
 * server is away (the scan passes a file next to its output); a no-op for
 * SQLite.
 */
sn_status_t sn_history_set_spool(sn_history_t *h, const char *path, sn_error_t *err);

/* The lock file's path of a writer of (site, shard) on path (malloc'd; NULL: out of memory). */
char *sn_history_lock_path(const char *path, const char *site, const char *shard);

/* Flushes what is buffered, closes, releases the lock. Accepts NULL. */
void sn_history_close(sn_history_t *h);

int sn_history_schema_version(const sn_history_t *h);

/*
 * Starts a run. With resume, continues the last run instead when it is
 * interrupted (its id in *id; *resumed tells whether it did, else a new run
 * starts): its targets observed with no incomplete outcome are remembered,
 * and sn_history_has tells the scan to skip them. An interrupted run that is
 * not the last one is never continued: its night is over.
 */
sn_status_t sn_history_begin(sn_history_t *h, const sn_history_run_t *run, bool resume, int64_t *id,
                             bool *resumed, sn_error_t *err);

/* Whether the current (resumed) run already holds a finished observation of address:port. */
bool sn_history_has(const sn_history_t *h, const char *address, uint16_t port);

/* Targets the resumed run already had when it was reopened. */
size_t sn_history_kept(const sn_history_t *h);

/* Buffers one observation (copied); hands the batch to the writer when SN_HISTORY_BATCH rows
 * wait. */
sn_status_t sn_history_add(sn_history_t *h, const sn_history_obs_t *obs, sn_error_t *err);

/* Hands the buffered rows to the writer, to be committed within a second (the scan calls it
 * once a second); returns the first error of an earlier commit. */
sn_status_t sn_history_flush(sn_history_t *h, sn_error_t *err);

/* Rows committed by this process (waits until what was handed is committed). */
uint64_t sn_history_rows(const sn_history_t *h);

/* Flushes and marks the run complete or interrupted, with its count of listed targets. */
sn_status_t sn_history_end(sn_history_t *h, bool interrupted, int64_t targets, sn_error_t *err);

/* The same with the time it finished given (history import keeps the original's). */
sn_status_t sn_history_end_at(sn_history_t *h, bool interrupted, int64_t targets, int64_t finished,
                              sn_error_t *err);

sn_status_t sn_history_each_run(sn_history_t *h, sn_history_run_fn fn, void *ud, sn_error_t *err);
sn_status_t sn_history_each_observation(sn_history_t *h, int64_t run, bool cells,
                                        sn_history_obs_fn fn, void *ud, sn_error_t *err);

/* The newest run of a status ("complete", ...) or of any status (NULL); 0 if none. */
sn_status_t sn_history_newest(sn_history_t *h, const char *status, int64_t *id, sn_error_t *err);

/*
 * The runs that make up run's night as one result set (malloc'd ids in
 * ascending order): run itself when it is not a shard; for a run of shard
 * K/N, the newest run of every shard of N of the same night and site.
 * SN_ENOTFOUND when the store has no such run.
 */
sn_status_t sn_history_night_runs(sn_history_t *h, int64_t run, int64_t **ids, size_t *n,
                                  sn_error_t *err);

#endif
