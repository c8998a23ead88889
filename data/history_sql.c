/*
 * The history backends' shared SQL (data/history_sql.h).
 */
#include "data/history_sql.h"
#include "lib/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sn_history_obs_select(const char *const *columns, const int *present, size_t n, bool cells,
                            const char *where, const char *order_by)
{
    size_t cap = 512 + strlen(where) + strlen(order_by);
    for (size_t i = 0; cells && i < n; i++)
        cap += strlen(columns[i]) + 8;
    char *sql = malloc(cap);
    if (sql == NULL)
        return NULL;
    size_t len = (size_t)snprintf(sql, cap,
                                  "SELECT o.run_id, o.target_id, t.address, t.port, "
                                  "o.observed_at, o.probed, o.alive, o.incomplete");
    for (size_t i = 0; cells && i < n; i++)
        len += (size_t)snprintf(sql + len, cap - len, present[i] ? ", o.\"c_%s\"" : ", NULL",
                                columns[i]);
    snprintf(sql + len, cap - len,
             " FROM observations o JOIN targets t ON t.id = o.target_id%s ORDER BY %s", where,
             order_by);
    return sql;
}

bool sn_history_plain_name(const char *s)
{
    if (*s == '\0' || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!(sn_is_lower(*s) || sn_is_digit(*s) || *s == '_'))
            return false;
    return true;
}

sn_status_t sn_history_migrate(void *be, sn_history_exec_fn exec, sn_history_version_fn version,
                               const char *begin, const char *const *migrations, int n_migrations,
                               sn_error_t *err)
{
    for (;;) {
        if (exec(be, begin, err) != SN_OK)
            return SN_EIO;
        int v = version(be, err);
        if (v < 0) {
            exec(be, "ROLLBACK", NULL);
            return SN_EIO;
        }
        if (v >= n_migrations) {
            exec(be, "COMMIT", NULL);
            if (v > n_migrations)
                return sn_error_set(err, SN_EINVAL,
                                    "history is at schema version %d; this snprobe knows up to %d",
                                    v, n_migrations);
            return SN_OK;
        }
        char bump[64];
        snprintf(bump, sizeof bump, "UPDATE schema_version SET version=%d", v + 1);
        if (exec(be, migrations[v], err) != SN_OK || exec(be, bump, err) != SN_OK ||
            exec(be, "COMMIT", err) != SN_OK) {
            exec(be, "ROLLBACK", NULL);
            return SN_EIO;
        }
    }
}
