/*
 * The history store's front end (see history.h): chooses the backend, holds
 * the writer's lock, batches observations, and remembers which targets a
 * resumed run already has.
 *
 * The lock is lib/lockfile.h's (the output files' too) on a file next to
 * the database rather than on the database itself, since SQLite takes its
 * own POSIX locks on the database and a second kind on the same file would be
 * released by SQLite's closes. There is one lock per (site, shard): the
 * shards of a night and the sites scanning one list write the store at once
 * (SQLite serialises their commits), while one site's shard never runs twice.
 *
 * Batching: rows are copied into a batch's arena, and a batch is handed to
 * a writer thread of the store's own every SN_HISTORY_BATCH rows and on every
 * sn_history_flush (once a second). The caller does not wait for the
 * database: it queues the batch and fills the next one while the writer
 * commits what it took before. The writer commits everything queued in one
 * transaction (when the backend can span several calls), and at most once
 * every COMMIT_NS, so a kill -9 loses at most about the last second of
 * finished targets, which a resume probes again. Commits are that far apart
 * because each one rewrites every index page it touched, and a scan's new
 * targets enter the (address, port) index at random places: one commit per
 * 1,000 rows wrote about a 4 KiB page per row to the write-ahead log at
 * 1,000,000 targets. Whoever waits for the writer (sn_history_rows, the end
 * of a run, every read) has it commit at once; so do MAX_QUEUED waiting
 * batches, and only beyond them does the caller wait. Every other operation
 * waits until the writer is idle first, so the backend is only ever used by
 * one thread at a time.
 */
#include "data/history.h"
#include "lib/fnv.h"

#include "lib/lockfile.h"
#include "lib/text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Backends by the prefix of the store's name; the last entry is the default. */
static const struct {
    const char *prefix;
    const sn_history_ops_t *ops;
} backends[] = {
    {"postgresql:", &sn_history_pg},
    {"postgres:", &sn_history_pg},
    {"", &sn_history_sqlite},
};

typedef struct row {
    sn_history_obs_t obs; /* address and cells point into the arena by offset until flush */
    size_t addr_off, cells_off;
} row_t;

/* A set of "address port" keys (open addressing, keys owned). */
typedef struct keyset {
    char **slots;
    size_t cap, n;
} keyset_t;

typedef struct batch {
    row_t *rows; /* SN_HISTORY_BATCH */
    size_t n_rows;
    char *arena;
    size_t arena_len, arena_cap;
    struct batch *next;
} batch_t;

/* Batches waiting in the queue, at most (32,000 rows, a third of a second of the fastest scans,
 * about 10 MB; as many again may be in the commit under way): the writer commits at once when
 * they wait, and beyond, the caller waits, so that a store that cannot keep up slows the scan
 * rather than filling memory. The caller fills the queue while the writer commits what it took
 * before, so that neither waits for the other while the store keeps up. */
#define MAX_QUEUED 32

/* The writer's commits are at least this far apart unless someone waits for it. */
#define COMMIT_NS 1000000000LL

struct sn_history {
    const sn_history_ops_t *ops;
    void *be;
    sn_lockfile_t *lock;
    char *site, *shard; /* the writer's */
    size_t n_columns;
    int64_t run;
    batch_t *fill; /* the caller's */
    uint64_t committed;
    keyset_t kept;
    /* the writer thread; the fields below are under mu */
    pthread_t writer;
    bool started, quit;
    batch_t *queue, **queue_end; /* handed to the writer, oldest first */
    size_t queued;               /* batches in the queue */
    bool writing;                /* the writer is committing what it took from the queue */
    batch_t *spare;              /* committed batches, for reuse */
    unsigned waiting;            /* callers waiting for the writer to be idle */
    struct timespec last_commit; /* when the last commit began, CLOCK_MONOTONIC */
    /* the writer's own: one batch laid out for the backend */
    sn_history_obs_t *obsv;
    const char **cellv;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sn_status_t write_st; /* first commit error, reported by the next flush or end */
    sn_error_t write_err;
};

static uint64_t key_hash(const char *s)
{
    return sn_fnv1a64(SN_FNV64_OFFSET, s, strlen(s));
}

static void key_fmt(char *buf, size_t cap, const char *address, uint16_t port)
{
    snprintf(buf, cap, "%s %u", address, (unsigned)port);
}

static bool keyset_has(const keyset_t *k, const char *key)
{
    if (k->cap == 0)
        return false;
    for (size_t i = key_hash(key) & (k->cap - 1);; i = (i + 1) & (k->cap - 1)) {
        if (k->slots[i] == NULL)
            return false;
        if (strcmp(k->slots[i], key) == 0)
            return true;
    }
}

static sn_status_t keyset_add(keyset_t *k, const char *key)
{
    if (keyset_has(k, key))
        return SN_OK;
    if (2 * (k->n + 1) > k->cap) {
        size_t nc = k->cap ? 2 * k->cap : 1024;
        char **ns = calloc(nc, sizeof *ns);
        if (ns == NULL)
            return SN_ENOMEM;
        for (size_t i = 0; i < k->cap; i++) {
            if (k->slots[i] == NULL)
                continue;
            size_t j = key_hash(k->slots[i]) & (nc - 1);
            while (ns[j] != NULL)
                j = (j + 1) & (nc - 1);
            ns[j] = k->slots[i];
        }
        free(k->slots);
        k->slots = ns;
        k->cap = nc;
    }
    size_t j = key_hash(key) & (k->cap - 1);
    while (k->slots[j] != NULL)
        j = (j + 1) & (k->cap - 1);
    if ((k->slots[j] = strdup(key)) == NULL)
        return SN_ENOMEM;
    k->n++;
    return SN_OK;
}

static void keyset_free(keyset_t *k)
{
    for (size_t i = 0; i < k->cap; i++)
        free(k->slots[i]);
    free(k->slots);
    *k = (keyset_t){0};
}

/* A site name as a lock file's name part: [A-Za-z0-9_-] kept, every other byte as %XX. */
static void name_part(char *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (sn_is_alnum(c) || c == '_' || c == '-') {
            *out++ = (char)c;
        } else if (c == '/') {
            *out++ = '-'; /* the shard's K/N */
        } else {
            *out++ = '%';
            *out++ = hex[c >> 4];
            *out++ = hex[c & 15];
        }
    }
    *out = '\0';
}

char *sn_history_lock_path(const char *path, const char *site, const char *shard)
{
    site = site ? site : "";
    shard = shard ? shard : "";
    size_t cap = strlen(path) + 3 * (strlen(site) + strlen(shard)) + 16;
    char *lp = malloc(cap);
    if (lp == NULL)
        return NULL;
    if (*site == '\0' && *shard == '\0') {
        snprintf(lp, cap, "%s.lock", path);
        return lp;
    }
    size_t n = (size_t)snprintf(lp, cap, "%s.lock.", path);
    name_part(lp + n, site);
    n = strlen(lp);
    lp[n++] = '.';
    name_part(lp + n, *shard ? shard : "all");
    return lp;
}

/* Takes the lock of the writer of (site, shard), or says who holds it. */
static sn_status_t take_lock(sn_history_t *h, const char *path, const char *site, const char *shard,
                             sn_error_t *err)
{
    char *lp = sn_history_lock_path(path, site, shard);
    size_t wcap = strlen(path) + strlen(site) + strlen(shard) + 32;
    char *what = malloc(wcap);
    if (lp == NULL || what == NULL) {
        free(lp);
        free(what);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    if (*site || *shard)
        snprintf(what, wcap, "history %s (site '%s', shard %s)", path, site,
                 *shard ? shard : "none");
    else
        snprintf(what, wcap, "history %s", path);
    sn_status_t st = sn_lockfile_take(lp, what, "", &h->lock, err);
    free(lp);
    free(what);
    return st;
}

static void batch_free(batch_t *b)
{
    if (b == NULL)
        return;
    free(b->rows);
    free(b->arena);
    free(b);
}

static batch_t *batch_new(void)
{
    batch_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->rows = calloc(SN_HISTORY_BATCH, sizeof *b->rows);
    b->arena_cap = 1 << 18;
    b->arena = malloc(b->arena_cap);
    if (b->rows == NULL || b->arena == NULL) {
        batch_free(b);
        return NULL;
    }
    return b;
}

static void batch_list_free(batch_t *b)
{
    while (b != NULL) {
        batch_t *next = b->next;
        batch_free(b);
        b = next;
    }
}

/* Lays out batch b's rows as observations for the backend, in h->obsv and h->cellv (the
 * writer thread). */
static void lay_out(sn_history_t *h, const batch_t *b)
{
    for (size_t k = 0; k < b->n_rows; k++) {
        const row_t *r = &b->rows[k];
        sn_history_obs_t *o = &h->obsv[k];
        *o = r->obs;
        o->address = b->arena + r->addr_off;
        const char **cv = h->cellv + k * h->n_columns;
        const char *p = b->arena + r->cells_off;
        for (size_t i = 0; i < h->n_columns; i++) {
            cv[i] = p;
            p += strlen(p) + 1;
        }
        o->cells = cv;
    }
}

/* Writes the batches of list (the writer thread): in one transaction when the backend can,
 * else one each. Returns the rows written; *st and *e hold the first error. */
static uint64_t write_list(sn_history_t *h, const batch_t *list, sn_status_t *st, sn_error_t *e)
{
    const sn_history_ops_t *ops = h->ops;
    uint64_t rows = 0;
    if (ops->begin_write != NULL && (*st = ops->begin_write(h->be, e)) != SN_OK)
        return 0;
    *st = SN_OK;
    for (const batch_t *b = list; b != NULL && *st == SN_OK; b = b->next) {
        lay_out(h, b);
        if ((*st = ops->add_observations(h->be, h->run, h->obsv, b->n_rows, e)) == SN_OK)
            rows += b->n_rows;
    }
    if (ops->begin_write == NULL)
        return rows; /* each batch committed on its own */
    sn_error_t e2;
    sn_status_t cst = ops->end_write(h->be, *st == SN_OK, *st == SN_OK ? e : &e2);
    if (*st == SN_OK)
        *st = cst;
    return *st == SN_OK ? rows : 0;
}

static int64_t ns_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - t->tv_sec) * 1000000000LL + (now.tv_nsec - t->tv_nsec);
}

/* The writer thread: commits what it was handed, at most once every COMMIT_NS unless it is
 * waited for, quits, or MAX_QUEUED batches wait. */
static void *writer_main(void *arg)
{
    sn_history_t *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->queue == NULL && !h->quit)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->queue == NULL)
            break;
        int64_t wait_ns;
        while (!h->quit && h->waiting == 0 && h->queued < MAX_QUEUED &&
               (wait_ns = COMMIT_NS - ns_since(&h->last_commit)) > 0) {
            struct timespec due;
            clock_gettime(CLOCK_MONOTONIC, &due);
            due.tv_sec += (time_t)(wait_ns / 1000000000LL);
            due.tv_nsec += (long)(wait_ns % 1000000000LL);
            if (due.tv_nsec >= 1000000000L) {
                due.tv_sec++;
                due.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&h->cv, &h->mu, &due);
        }
        batch_t *list = h->queue;
        h->queue = NULL;
        h->queue_end = &h->queue;
        h->queued = 0;
        h->writing = true;
        clock_gettime(CLOCK_MONOTONIC, &h->last_commit);
        pthread_cond_broadcast(&h->cv); /* a caller waiting for room has it */
        pthread_mutex_unlock(&h->mu);

        sn_status_t st;
        sn_error_t e;
        uint64_t rows = write_list(h, list, &st, &e);

        pthread_mutex_lock(&h->mu);
        h->writing = false;
        h->committed += rows;
        if (st != SN_OK && h->write_st == SN_OK) {
            h->write_st = st;
            h->write_err = e;
        }
        while (list != NULL) {
            batch_t *b = list;
            list = b->next;
            b->n_rows = 0;
            b->arena_len = 0;
            b->next = h->spare;
            h->spare = b;
        }
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Waits until the writer has committed what it was given; returns its first error. */
static sn_status_t wait_idle(sn_history_t *h, sn_error_t *err)
{
    pthread_mutex_lock(&h->mu);
    h->waiting++;
    pthread_cond_broadcast(&h->cv); /* a writer holding back its commit commits now */
    while (h->queue != NULL || h->writing)
        pthread_cond_wait(&h->cv, &h->mu);
    h->waiting--;
    sn_status_t st = h->write_st;
    if (st != SN_OK && err != NULL)
        *err = h->write_err;
    pthread_mutex_unlock(&h->mu);
    return st;
}

static sn_status_t open_store(sn_history_t **out, const char *path, bool writer, const char *site,
                              const char *shard, const char *const *columns, size_t n_columns,
                              sn_error_t *err)
{
    *out = NULL;
    if (path == NULL || *path == '\0')
        return sn_error_set(err, SN_EINVAL, "no history path given");
    if (sn_history_is_server(path)) {
        char *red = sn_history_pg_redact(path);
        bool secret = red != NULL && strcmp(red, path) != 0;
        sn_status_t st = red == NULL ? sn_error_set(err, SN_ENOMEM, "out of memory")
                         : secret    ? sn_error_set(err, SN_EINVAL,
                                                    "history %s: no password in the URI (it "
                                                       "would show in ps and the shell's history): "
                                                       "use ~/.pgpass, PGPASSFILE or PGPASSWORD",
                                                    red)
                                     : SN_OK;
        free(red);
        if (st != SN_OK)
            return st;
    }
    sn_history_t *h = calloc(1, sizeof *h);
    if (h == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    h->n_columns = n_columns;
    h->site = strdup(site ? site : "");
    h->shard = strdup(shard ? shard : "");
    h->queue_end = &h->queue;
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the commit interval ignores clock steps */
    pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (strncmp(path, backends[i].prefix, strlen(backends[i].prefix)) == 0) {
            h->ops = backends[i].ops;
            break;
        }
    sn_status_t st = SN_OK;
    if (h->site == NULL || h->shard == NULL)
        st = sn_error_set(err, SN_ENOMEM, "out of memory");
    if (st == SN_OK && writer && h->ops->take_lock == NULL)
        st = take_lock(h, path, h->site, h->shard, err);
    if (st == SN_OK)
        st = h->ops->open(path, writer, columns, n_columns, &h->be, err);
    if (st == SN_OK && writer && h->ops->take_lock != NULL)
        st = h->ops->take_lock(h->be, h->site, h->shard, err);
    /* Holding the lock of its site and shard, the writer knows that a run of theirs still
     * "running" lost its writer (kill -9, a crash, a reboot). */
    if (st == SN_OK && writer)
        st = h->ops->interrupt_stale(h->be, h->site, h->shard, err);
    if (st == SN_OK && writer) {
        h->obsv = calloc(SN_HISTORY_BATCH, sizeof *h->obsv);
        h->cellv = calloc(SN_HISTORY_BATCH * (n_columns ? n_columns : 1), sizeof *h->cellv);
        if ((h->fill = batch_new()) == NULL || h->obsv == NULL || h->cellv == NULL)
            st = sn_error_set(err, SN_ENOMEM, "out of memory");
        else if (pthread_create(&h->writer, NULL, writer_main, h) != 0)
            st = sn_error_set(err, SN_ESYS, "cannot start the history writer thread");
        else
            h->started = true;
    }
    if (st != SN_OK) {
        sn_history_close(h);
        return st;
    }
    *out = h;
    return SN_OK;
}

sn_status_t sn_history_open(sn_history_t **out, const char *path, bool writer,
                            const char *const *columns, size_t n_columns, sn_error_t *err)
{
    return open_store(out, path, writer, "", "", columns, n_columns, err);
}

sn_status_t sn_history_open_writer(sn_history_t **out, const char *path, const char *site,
                                   const char *shard, const char *const *columns, size_t n_columns,
                                   sn_error_t *err)
{
    return open_store(out, path, true, site, shard, columns, n_columns, err);
}

bool sn_history_is_server(const char *where)
{
    return where != NULL &&
           (strncmp(where, "postgresql:", 11) == 0 || strncmp(where, "postgres:", 9) == 0);
}

sn_status_t sn_history_set_spool(sn_history_t *h, const char *path, sn_error_t *err)
{
    if (h == NULL || h->ops->set_spool == NULL)
        return SN_OK;
    wait_idle(h, NULL);
    return h->ops->set_spool(h->be, path, err);
}

void sn_history_close(sn_history_t *h)
{
    if (h == NULL)
        return;
    if (h->be != NULL)
        sn_history_flush(h, NULL);
    if (h->started) {
        pthread_mutex_lock(&h->mu);
        h->quit = true;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->writer, NULL);
    }
    if (h->be != NULL)
        h->ops->close(h->be);
    sn_lockfile_release(h->lock);
    free(h->site);
    free(h->shard);
    keyset_free(&h->kept);
    batch_free(h->fill);
    batch_list_free(h->queue); /* nothing is queued once the writer has quit: for safety */
    batch_list_free(h->spare);
    free(h->obsv);
    free(h->cellv);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}

int sn_history_schema_version(const sn_history_t *h)
{
    if (h == NULL)
        return 0;
    wait_idle((sn_history_t *)h, NULL);
    return h->ops->schema_version(h->be);
}

static void keep_done(void *ud, const sn_history_obs_t *o)
{
    sn_history_t *h = ud;
    if (o->incomplete)
        return;
    char key[128];
    key_fmt(key, sizeof key, o->address, o->port);
    keyset_add(&h->kept, key);
}

sn_status_t sn_history_begin(sn_history_t *h, const sn_history_run_t *run, bool resume, int64_t *id,
                             bool *resumed, sn_error_t *err)
{
    *resumed = false;
    sn_status_t wst = wait_idle(h, err);
    if (wst != SN_OK)
        return wst;
    if (resume) {
        int64_t old = 0, newest = 0;
        sn_status_t st = h->ops->newest_run(h->be, "interrupted", h->site, h->shard, &old, err);
        if (st == SN_OK)
            st = h->ops->newest_run(h->be, NULL, h->site, h->shard, &newest, err);
        if (st != SN_OK)
            return st;
        /* Only the last run is continued: an older interrupted run stays as it was, since
         * tonight's observations would not belong to its night. */
        if (old > 0 && old == newest) {
            if ((st = h->ops->each_observation(h->be, old, false, keep_done, h, err)) != SN_OK ||
                (st = h->ops->reopen_run(h->be, old, err)) != SN_OK)
                return st;
            h->run = *id = old;
            *resumed = true;
            return SN_OK;
        }
    }
    sn_history_run_t r = *run;
    char night[16];
    if (r.night == NULL || r.night[0] == '\0') {
        time_t t = (time_t)r.started;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(night, sizeof night, "%Y-%m-%d", &tm);
        r.night = night;
    }
    /* The run is the writer's: its site and shard are the lock's. */
    r.site = h->site;
    r.shard = h->shard;
    sn_status_t st = h->ops->begin_run(h->be, &r, &h->run, err);
    *id = h->run;
    return st;
}

bool sn_history_has(const sn_history_t *h, const char *address, uint16_t port)
{
    if (h == NULL || h->kept.n == 0)
        return false;
    char key[128];
    key_fmt(key, sizeof key, address, port);
    return keyset_has(&h->kept, key);
}

size_t sn_history_kept(const sn_history_t *h)
{
    return h ? h->kept.n : 0;
}

/* Copies s into the arena; returns its offset, or SIZE_MAX when out of memory. */
static size_t arena_put(batch_t *h, const char *s)
{
    /* Half of a scan's cells are empty: no call for them. */
    size_t n = s == NULL || s[0] == '\0' ? 1 : strlen(s) + 1;
    if (h->arena_cap - h->arena_len < n) {
        size_t nc = h->arena_cap;
        while (nc - h->arena_len < n)
            nc *= 2;
        char *na = realloc(h->arena, nc);
        if (na == NULL)
            return SIZE_MAX;
        h->arena = na;
        h->arena_cap = nc;
    }
    if (n == 1)
        h->arena[h->arena_len] = '\0';
    else
        memcpy(h->arena + h->arena_len, s, n);
    h->arena_len += n;
    return h->arena_len - n;
}

sn_status_t sn_history_add(sn_history_t *h, const sn_history_obs_t *obs, sn_error_t *err)
{
    if (h == NULL || !h->started || h->run == 0)
        return sn_error_set(err, SN_EINVAL, "history: no run to add to");
    if (h->fill == NULL && (h->fill = batch_new()) == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory buffering observations");
    batch_t *b = h->fill;
    size_t mark = b->arena_len;
    row_t *r = &b->rows[b->n_rows];
    r->obs = *obs;
    r->addr_off = arena_put(b, obs->address);
    r->cells_off = b->arena_len;
    bool oom = r->addr_off == SIZE_MAX;
    for (size_t i = 0; i < h->n_columns && !oom; i++)
        oom = arena_put(b, obs->cells ? obs->cells[i] : "") == SIZE_MAX;
    if (oom) {
        b->arena_len = mark;
        return sn_error_set(err, SN_ENOMEM, "out of memory buffering observations");
    }
    b->n_rows++;
    if (b->n_rows == SN_HISTORY_BATCH)
        return sn_history_flush(h, err);
    return SN_OK;
}

sn_status_t sn_history_flush(sn_history_t *h, sn_error_t *err)
{
    if (h == NULL || !h->started)
        return SN_OK;
    pthread_mutex_lock(&h->mu);
    if (h->fill != NULL && h->fill->n_rows > 0) {
        while (h->queued >= MAX_QUEUED)
            pthread_cond_wait(&h->cv, &h->mu);
        *h->queue_end = h->fill;
        h->queue_end = &h->fill->next;
        h->fill->next = NULL;
        h->queued++;
        h->fill = h->spare;
        if (h->fill != NULL)
            h->spare = h->fill->next;
        pthread_cond_broadcast(&h->cv);
    }
    sn_status_t st = h->write_st;
    if (st != SN_OK && err != NULL)
        *err = h->write_err;
    pthread_mutex_unlock(&h->mu);
    return st; /* with no spare batch, the next add makes one */
}

uint64_t sn_history_rows(const sn_history_t *h)
{
    if (h == NULL)
        return 0;
    wait_idle((sn_history_t *)h, NULL);
    return h->committed;
}

sn_status_t sn_history_end(sn_history_t *h, bool interrupted, int64_t targets, sn_error_t *err)
{
    return sn_history_end_at(h, interrupted, targets, (int64_t)time(NULL), err);
}

sn_status_t sn_history_end_at(sn_history_t *h, bool interrupted, int64_t targets, int64_t finished,
                              sn_error_t *err)
{
    if (h == NULL || h->run == 0)
        return SN_OK;
    sn_status_t st = sn_history_flush(h, err);
    if (st == SN_OK)
        st = wait_idle(h, err);
    sn_error_t e2;
    sn_status_t st2 = h->ops->end_run(h->be, h->run, interrupted ? "interrupted" : "complete",
                                      finished, targets, st == SN_OK ? err : &e2);
    return st != SN_OK ? st : st2;
}

sn_status_t sn_history_each_run(sn_history_t *h, sn_history_run_fn fn, void *ud, sn_error_t *err)
{
    wait_idle(h, NULL);
    return h->ops->each_run(h->be, fn, ud, err);
}

sn_status_t sn_history_each_observation(sn_history_t *h, int64_t run, bool cells,
                                        sn_history_obs_fn fn, void *ud, sn_error_t *err)
{
    wait_idle(h, NULL);
    return h->ops->each_observation(h->be, run, cells, fn, ud, err);
}

sn_status_t sn_history_newest(sn_history_t *h, const char *status, int64_t *id, sn_error_t *err)
{
    wait_idle(h, NULL);
    return h->ops->newest_run(h->be, status, NULL, NULL, id, err);
}

typedef struct night {
    int64_t run;
    bool found;
    char *night, *site, *shard; /* of run */
    unsigned n;                 /* its shard's N; 0 when not a shard */
    int64_t *newest;            /* [K - 1]: newest run of shard K/N of that night and site */
    bool oom;
} night_t;

/* "K/N" into k and n; false when s is not one. */
static bool shard_parts(const char *s, unsigned *k, unsigned *n)
{
    char tail;
    return s != NULL && sscanf(s, "%u/%u%c", k, n, &tail) == 2 && *k >= 1 && *k <= *n;
}

static void find_run(void *ud, const sn_history_run_t *r)
{
    night_t *nt = ud;
    if (r->id != nt->run || nt->oom)
        return;
    nt->found = true;
    nt->night = strdup(r->night ? r->night : "");
    nt->site = strdup(r->site ? r->site : "");
    nt->shard = strdup(r->shard ? r->shard : "");
    nt->oom = nt->night == NULL || nt->site == NULL || nt->shard == NULL;
}

static void match_run(void *ud, const sn_history_run_t *r)
{
    night_t *nt = ud;
    unsigned k, n;
    if (!shard_parts(r->shard, &k, &n) || n != nt->n ||
        strcmp(r->night ? r->night : "", nt->night) || strcmp(r->site ? r->site : "", nt->site))
        return;
    if (r->id > nt->newest[k - 1])
        nt->newest[k - 1] = r->id;
}

sn_status_t sn_history_night_runs(sn_history_t *h, int64_t run, int64_t **ids, size_t *n,
                                  sn_error_t *err)
{
    *ids = NULL;
    *n = 0;
    wait_idle(h, NULL);
    night_t nt = {.run = run};
    sn_status_t st = h->ops->each_run(h->be, find_run, &nt, err);
    unsigned k = 0;
    if (st == SN_OK && nt.oom)
        st = sn_error_set(err, SN_ENOMEM, "out of memory");
    if (st == SN_OK && !nt.found)
        st = sn_error_set(err, SN_ENOTFOUND, "the history holds no run %lld", (long long)run);
    if (st == SN_OK && shard_parts(nt.shard, &k, &nt.n)) {
        if ((nt.newest = calloc(nt.n, sizeof *nt.newest)) == NULL)
            st = sn_error_set(err, SN_ENOMEM, "out of memory");
        else
            st = h->ops->each_run(h->be, match_run, &nt, err);
    }
    if (st == SN_OK) {
        size_t cap = nt.n ? nt.n : 1;
        if ((*ids = malloc(cap * sizeof **ids)) == NULL)
            st = sn_error_set(err, SN_ENOMEM, "out of memory");
        else if (nt.n == 0)
            (*ids)[(*n)++] = run;
        else
            for (unsigned i = 0; i < nt.n; i++)
                if (nt.newest[i] > 0)
                    (*ids)[(*n)++] = nt.newest[i];
    }
    /* Ascending, so that the union reads in the order the runs were written. */
    for (size_t i = 1; st == SN_OK && i < *n; i++)
        for (size_t j = i; j > 0 && (*ids)[j - 1] > (*ids)[j]; j--) {
            int64_t t = (*ids)[j];
            (*ids)[j] = (*ids)[j - 1];
            (*ids)[j - 1] = t;
        }
    free(nt.night);
    free(nt.site);
    free(nt.shard);
    free(nt.newest);
    if (st != SN_OK) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return st;
}
