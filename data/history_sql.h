/*
 * What the two SQL backends of the history store (history_sqlite.c,
 * history_pg.c) share, below both of them and below the store's front
 * (history.c), which calls the backends: the one SELECT of observations (all
 * of PostgreSQL's, and SQLite's rows of before its chunks), the column-name
 * check and the migration loop.
 */
#ifndef SN_HISTORY_SQL_H
#define SN_HISTORY_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/status.h"

/*
 * For the backends: the one SELECT of observations, in both SQL dialects. Its columns are
 * run_id, target_id, address, port, observed_at, probed, alive, incomplete, then (with cells)
 * each of the n caller columns, NULL where present[i] is 0; in the order of order_by (the
 * backend's insertion order), restricted by where ("" for every run). malloc'd; NULL: OOM.
 */
char *sn_history_obs_select(const char *const *columns, const int *present, size_t n, bool cells,
                            const char *where, const char *order_by);

/*
 * For the backends: whether a result column's name may be written into SQL as part of a
 * table column's name ("c_" + name, in both dialects): 1 to 64 bytes of [a-z0-9_], which
 * needs no escaping and means the same to SQLite and PostgreSQL.
 */
bool sn_history_plain_name(const char *s);

/* For the backends: runs one SQL text (one statement or several, ';'-separated) on be. */
typedef sn_status_t (*sn_history_exec_fn)(void *be, const char *sql, sn_error_t *err);

/* For the backends: the store's schema version, 0 for a new store; < 0 with err set when it
 * cannot be read. */
typedef int (*sn_history_version_fn)(void *be, sn_error_t *err);

/*
 * For the backends: brings the store to version n_migrations, migrations[k] taking it from
 * version k to k + 1, each step in a transaction of its own opened by begin (which also takes
 * the backend's lock over migrations, so that writers opening one new store at once migrate it
 * once). A store newer than n_migrations is refused (SN_EINVAL). SN_OK or err set.
 */
sn_status_t sn_history_migrate(void *be, sn_history_exec_fn exec, sn_history_version_fn version,
                               const char *begin, const char *const *migrations, int n_migrations,
                               sn_error_t *err);

#endif
