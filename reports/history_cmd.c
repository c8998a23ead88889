/*
 * The history command (see history_cmd.h). It reads the store as a reader
 * (no lock: a nightly scan may be writing meanwhile; the write-ahead log
 * shows this command the last committed state), loads the complete runs'
 * observations into the state matrix of data/history_stats.h, and writes one
 * CSV table. Each statistic's definition lives in history_stats.c, not here.
 */
#include "reports/history_cmd.h"
#include "reports/output.h"
#include "lib/outfile.h"
#include "lib/text.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/history.h"
#include "data/history_stats.h"
#include "reports/html.h"
#include "reports/output.h"

const char sn_history_cmd_names[] =
    "runs, results, nodes, churn, staleness, survival, population, definitions; import FILE.db";

#define MAX_KINDS 32

typedef struct load {
    /* complete runs */
    int64_t *run_id;
    size_t n_runs;
    int64_t *run_index; /* by run id: index + 1, 0 for a run not considered */
    int64_t max_run;
    /* targets seen in those runs */
    int64_t *tindex; /* by target id: index + 1 */
    size_t tindex_cap;
    char **addr;
    uint16_t *port;
    uint8_t *kind;
    uint8_t *state;
    size_t n_targets, cap;
    char *kinds[MAX_KINDS];
    size_t n_kinds;
    int kind_col; /* index of addr_kind in the cells, or -1 */
    sn_status_t st;
} load_t;

static void load_free(load_t *l)
{
    free(l->run_id);
    free(l->run_index);
    free(l->tindex);
    for (size_t i = 0; i < l->n_targets; i++)
        free(l->addr[i]);
    free(l->addr);
    free(l->port);
    free(l->kind);
    free(l->state);
    for (size_t i = 0; i < l->n_kinds; i++)
        free(l->kinds[i]);
}

static void count_run(void *ud, const sn_history_run_t *r)
{
    load_t *l = ud;
    if (r->id > l->max_run)
        l->max_run = r->id;
}

static void take_run(void *ud, const sn_history_run_t *r)
{
    load_t *l = ud;
    if (strcmp(r->status, "complete") != 0)
        return;
    l->run_index[r->id] = (int64_t)l->n_runs + 1;
    l->run_id[l->n_runs++] = r->id;
}

static int kind_of(load_t *l, const char *name)
{
    if (name == NULL || *name == '\0')
        return -1;
    for (size_t i = 0; i < l->n_kinds; i++)
        if (strcmp(l->kinds[i], name) == 0)
            return (int)i;
    if (l->n_kinds == MAX_KINDS || (l->kinds[l->n_kinds] = strdup(name)) == NULL)
        return -1;
    return (int)l->n_kinds++;
}

static size_t target_index(load_t *l, const sn_history_obs_t *o)
{
    size_t id = (size_t)o->target_id;
    if (id >= l->tindex_cap) {
        size_t nc = l->tindex_cap ? l->tindex_cap : 1024;
        while (nc <= id)
            nc *= 2;
        int64_t *nt = realloc(l->tindex, nc * sizeof *nt);
        if (nt == NULL)
            return SIZE_MAX;
        memset(nt + l->tindex_cap, 0, (nc - l->tindex_cap) * sizeof *nt);
        l->tindex = nt;
        l->tindex_cap = nc;
    }
    if (l->tindex[id] > 0)
        return (size_t)(l->tindex[id] - 1);
    if (l->n_targets == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 1024;
        char **na = realloc(l->addr, nc * sizeof *na);
        if (na != NULL)
            l->addr = na;
        uint16_t *np = realloc(l->port, nc * sizeof *np);
        if (np != NULL)
            l->port = np;
        uint8_t *nk = realloc(l->kind, nc);
        if (nk != NULL)
            l->kind = nk;
        uint8_t *ns = realloc(l->state, nc * (l->n_runs ? l->n_runs : 1));
        if (ns != NULL)
            l->state = ns;
        if (na == NULL || np == NULL || nk == NULL || ns == NULL)
            return SIZE_MAX;
        l->cap = nc;
    }
    size_t t = l->n_targets;
    if ((l->addr[t] = strdup(o->address)) == NULL)
        return SIZE_MAX;
    l->port[t] = o->port;
    l->kind[t] = 0xff;
    memset(l->state + t * l->n_runs, SN_HS_NONE, l->n_runs);
    l->n_targets++;
    l->tindex[id] = (int64_t)t + 1;
    return t;
}

static void take_obs(void *ud, const sn_history_obs_t *o)
{
    load_t *l = ud;
    if (l->st != SN_OK || o->run_id > l->max_run || l->run_index[o->run_id] == 0)
        return;
    size_t d = (size_t)(l->run_index[o->run_id] - 1);
    size_t t = target_index(l, o);
    if (t == SIZE_MAX) {
        l->st = SN_ENOMEM;
        return;
    }
    uint8_t s = o->alive ? SN_HS_ALIVE : o->probed ? SN_HS_PROBED : SN_HS_NONE;
    l->state[t * l->n_runs + d] = s;
    if (o->cells != NULL && l->kind_col >= 0) {
        int k = kind_of(l, o->cells[l->kind_col]);
        if (k >= 0)
            l->kind[t] = (uint8_t)k; /* the newest run's classification wins */
    }
}

static sn_status_t load(sn_history_t *h, bool cells, load_t *l, sn_error_t *err)
{
    *l = (load_t){.kind_col = -1};
    for (size_t i = 0; i < sn_field_count; i++)
        if (strcmp(sn_fields[i].name, "addr_kind") == 0)
            l->kind_col = (int)i;
    sn_status_t st = sn_history_each_run(h, count_run, l, err);
    if (st != SN_OK)
        return st;
    l->run_id = calloc((size_t)l->max_run + 1, sizeof *l->run_id);
    l->run_index = calloc((size_t)l->max_run + 1, sizeof *l->run_index);
    if (l->run_id == NULL || l->run_index == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    if ((st = sn_history_each_run(h, take_run, l, err)) != SN_OK ||
        (st = sn_history_each_observation(h, 0, cells, take_obs, l, err)) != SN_OK)
        return st;
    if (l->st != SN_OK)
        return sn_error_set(err, l->st, "out of memory loading the history");
    return SN_OK;
}

static sn_hs_input_t input_of(const load_t *l)
{
    return (sn_hs_input_t){.n_runs = l->n_runs,
                           .run_id = l->run_id,
                           .n_targets = l->n_targets,
                           .state = l->state,
                           .kind = l->kind};
}

static void put_ratio(FILE *f, double v, const char *fmt)
{
    if (isnan(v))
        return;
    fprintf(f, fmt, v);
}

static void put_time(FILE *f, int64_t t)
{
    if (t <= 0)
        return;
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fputs(buf, f);
}

/* A text cell of the history's own tables (a run's site, a definition's text). */
static void put_cell(FILE *f, const char *s)
{
    sn_csv_fput_cell(f, s, true); /* a user's --site such as "=cmd" is never evaluated */
}

static void print_run(void *ud, const sn_history_run_t *r)
{
    FILE *f = ud;
    fprintf(f, "%lld,", (long long)r->id);
    put_time(f, r->started);
    fputc(',', f);
    put_time(f, r->finished);
    fprintf(f, ",%s,", r->status);
    put_cell(f, r->site);
    fprintf(f, ",%lld,%lld,%lld,", (long long)r->targets, (long long)r->probed,
            (long long)r->alive);
    put_cell(f, r->shard);
    fputc(',', f);
    put_cell(f, r->night);
    fputc('\n', f);
}

static void write_nodes(FILE *f, const load_t *l)
{
    sn_hs_input_t in = input_of(l);
    fprintf(f, "address,port,runs_probed,runs_alive,availability,first_alive,last_alive,"
               "longest_streak\n");
    for (size_t t = 0; t < l->n_targets; t++) {
        sn_hs_node_t n;
        sn_hs_node(&in, t, &n);
        fprintf(f, "%s,%u,%u,%u,", l->addr[t], l->port[t], n.runs_probed, n.runs_alive);
        put_ratio(f, n.availability, "%.4f");
        fputc(',', f);
        if (n.first_alive)
            fprintf(f, "%lld", (long long)n.first_alive);
        fputc(',', f);
        if (n.last_alive)
            fprintf(f, "%lld", (long long)n.last_alive);
        fprintf(f, ",%u\n", n.longest_streak);
    }
}

typedef struct started {
    int64_t *at;
    int64_t max;
} started_t;

static void keep_started(void *ud, const sn_history_run_t *r)
{
    started_t *s = ud;
    if (r->id <= s->max)
        s->at[r->id] = r->started;
}

static void write_churn(FILE *f, const load_t *l, sn_history_t *h)
{
    sn_hs_input_t in = input_of(l);
    started_t s = {.at = calloc((size_t)l->max_run + 1, sizeof *s.at), .max = l->max_run};
    if (s.at != NULL)
        sn_history_each_run(h, keep_started, &s, NULL);
    fprintf(f, "run_id,started,alive,new,returning,gone\n");
    for (size_t d = 0; d < l->n_runs; d++) {
        sn_hs_churn_t c;
        sn_hs_churn(&in, d, &c);
        fprintf(f, "%lld,", (long long)l->run_id[d]);
        if (s.at != NULL)
            put_time(f, s.at[l->run_id[d]]);
        fprintf(f, ",%llu,%llu,%llu,%llu\n", (unsigned long long)c.alive,
                (unsigned long long)c.new_, (unsigned long long)c.returning,
                (unsigned long long)c.gone);
    }
    free(s.at);
}

static void write_staleness(FILE *f, const load_t *l)
{
    sn_hs_input_t in = input_of(l);
    fprintf(f, "age,pairs,coverage\n");
    for (size_t k = 1; k < l->n_runs; k++) {
        sn_hs_age_t a;
        sn_hs_staleness(&in, k, &a);
        fprintf(f, "%zu,%llu,", k, (unsigned long long)a.pairs);
        put_ratio(f, a.value, "%.4f");
        fputc('\n', f);
    }
}

static void write_survival(FILE *f, const load_t *l)
{
    sn_hs_input_t in = input_of(l);
    fprintf(f, "addr_kind,age,pairs,survivors,survival\n");
    for (int kind = -1; kind < (int)l->n_kinds; kind++)
        for (size_t k = 1; k < l->n_runs; k++) {
            sn_hs_age_t a;
            sn_hs_survival(&in, k, kind, &a);
            fprintf(f, "%s,%zu,%llu,%llu,", kind < 0 ? "all" : l->kinds[kind], k,
                    (unsigned long long)a.pairs, (unsigned long long)a.num);
            put_ratio(f, a.value, "%.4f");
            fputc('\n', f);
        }
}

static sn_status_t write_population(FILE *f, const load_t *l, sn_error_t *err)
{
    sn_hs_input_t in = input_of(l);
    sn_hs_pop_t *p = calloc(l->n_runs ? l->n_runs : 1, sizeof *p);
    if (p == NULL || sn_hs_population(&in, p) != 0) {
        free(p);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    fprintf(f, "run_id,alive,cumulative,f1,f2,chao1,lincoln_petersen,schnabel\n");
    for (size_t d = 0; d < l->n_runs; d++) {
        fprintf(f, "%lld,%llu,%llu,%llu,%llu,", (long long)l->run_id[d],
                (unsigned long long)p[d].alive, (unsigned long long)p[d].cumulative,
                (unsigned long long)p[d].f1, (unsigned long long)p[d].f2);
        put_ratio(f, p[d].chao1, "%.1f");
        fputc(',', f);
        put_ratio(f, p[d].lincoln_petersen, "%.1f");
        fputc(',', f);
        put_ratio(f, p[d].schnabel, "%.1f");
        fputc('\n', f);
    }
    free(p);
    return SN_OK;
}

typedef struct results {
    sn_output_t *out;
    sn_status_t st;
    sn_error_t err;
} results_t;

static void write_result(void *ud, const sn_history_obs_t *o)
{
    results_t *r = ud;
    if (r->st == SN_OK)
        r->st = sn_output_write_cells(r->out, o->cells, &r->err);
}

static sn_status_t write_results(const sn_history_cmd_t *cmd, sn_history_t *h, sn_error_t *err)
{
    int64_t run = cmd->run;
    sn_status_t st = SN_OK;
    if (run == 0 && (st = sn_history_newest(h, NULL, &run, err)) != SN_OK)
        return st;
    if (run == 0)
        return sn_error_set(err, SN_ENOTFOUND, "history %s holds no run", cmd->path);
    /* A shard's run stands for its night: the union of every shard's run. */
    int64_t *ids = NULL;
    size_t n_ids = 0;
    if ((st = sn_history_night_runs(h, run, &ids, &n_ids, err)) != SN_OK)
        return st;
    results_t r = {0};
    if ((st = sn_output_open(&r.out, SN_OUTPUT_CSV, cmd->output, NULL, err)) != SN_OK) {
        free(ids);
        return st;
    }
    for (size_t i = 0; i < n_ids && st == SN_OK && r.st == SN_OK; i++)
        st = sn_history_each_observation(h, ids[i], true, write_result, &r, err);
    free(ids);
    if (st == SN_OK && r.st != SN_OK) {
        st = r.st;
        *err = r.err;
    }
    sn_error_t cerr;
    sn_status_t cst = sn_output_close(r.out, &cerr);
    if (st == SN_OK && cst != SN_OK) {
        st = cst;
        *err = cerr;
    }
    return st;
}

typedef struct text {
    FILE *f;
    int64_t since;   /* 0: every row */
    int64_t *latest; /* by target id: the observation time kept, when since > 0 */
    char **rows;     /* by target id: the row kept, when since > 0 */
    size_t cap;
    bool oom;
} text_t;

static char *row_text(const sn_history_obs_t *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (m == NULL)
        return NULL;
    for (size_t i = 0; i < sn_field_count; i++) {
        if (i > 0)
            fputc(',', m);
        sn_csv_fput_cell(m, o->cells[i], false); /* stored cells: neutralised already */
    }
    fputc('\n', m);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void text_row(void *ud, const sn_history_obs_t *o)
{
    text_t *t = ud;
    if (t->oom)
        return;
    if (t->since == 0) {
        char *r = row_text(o);
        if (r == NULL) {
            t->oom = true;
            return;
        }
        fputs(r, t->f);
        free(r);
        return;
    }
    if (!o->alive || o->observed_at < t->since)
        return;
    size_t id = (size_t)o->target_id;
    if (id >= t->cap) {
        size_t nc = t->cap ? t->cap : 1024;
        while (nc <= id)
            nc *= 2;
        int64_t *nl = realloc(t->latest, nc * sizeof *nl);
        if (nl != NULL)
            t->latest = nl;
        char **nr = realloc(t->rows, nc * sizeof *nr);
        if (nr != NULL)
            t->rows = nr;
        if (nl == NULL || nr == NULL) {
            t->oom = true;
            return;
        }
        memset(t->latest + t->cap, 0, (nc - t->cap) * sizeof *t->latest);
        memset(t->rows + t->cap, 0, (nc - t->cap) * sizeof *t->rows);
        t->cap = nc;
    }
    if (t->rows[id] != NULL && t->latest[id] > o->observed_at)
        return;
    char *r = row_text(o);
    if (r == NULL) {
        t->oom = true;
        return;
    }
    free(t->rows[id]);
    t->rows[id] = r;
    t->latest[id] = o->observed_at;
}

sn_status_t sn_history_results_text(const char *path, int64_t run, double alive_within_days,
                                    char **data, size_t *len, sn_error_t *err)
{
    *data = NULL;
    *len = 0;
    const char **names = calloc(sn_field_count, sizeof *names);
    if (names == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    for (size_t i = 0; i < sn_field_count; i++)
        names[i] = sn_fields[i].name;
    sn_history_t *h = NULL;
    sn_status_t st = sn_history_open(&h, path, false, names, sn_field_count, err);
    free(names);
    if (st != SN_OK)
        return st;
    text_t t = {.since = alive_within_days > 0
                             ? (int64_t)time(NULL) - (int64_t)(alive_within_days * 86400.0)
                             : 0};
    if (t.since == 0 && run == 0 && (st = sn_history_newest(h, NULL, &run, err)) == SN_OK &&
        run == 0)
        st = sn_error_set(err, SN_ENOTFOUND, "history %s holds no run", path);
    if (st == SN_OK && (t.f = open_memstream(data, len)) == NULL)
        st = sn_error_set(err, SN_ENOMEM, "out of memory");
    if (st == SN_OK) {
        for (size_t i = 0; i < sn_field_count; i++)
            fprintf(t.f, "%s%s", i ? "," : "", sn_fields[i].name);
        fputc('\n', t.f);
        int64_t *ids = NULL, all = 0;
        size_t n_ids = 1;
        if (t.since == 0)
            st = sn_history_night_runs(h, run, &ids, &n_ids, err);
        for (size_t i = 0; st == SN_OK && i < n_ids; i++)
            st = sn_history_each_observation(h, ids ? ids[i] : all, true, text_row, &t, err);
        free(ids);
        for (size_t id = 0; id < t.cap; id++)
            if (t.rows[id] != NULL) {
                if (st == SN_OK)
                    fputs(t.rows[id], t.f);
                free(t.rows[id]);
            }
        if (fclose(t.f) != 0 || t.oom)
            st = st != SN_OK ? st : sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    free(t.latest);
    free(t.rows);
    sn_history_close(h);
    if (st != SN_OK) {
        free(*data);
        *data = NULL;
        *len = 0;
    }
    return st;
}

typedef struct where {
    const int64_t *ids;
    size_t n;
    char *buf;
    size_t cap, len;
    bool first;
} where_t;

static void where_run(void *ud, const sn_history_run_t *r)
{
    where_t *w = ud;
    bool mine = false;
    for (size_t i = 0; i < w->n; i++)
        mine |= w->ids[i] == r->id;
    if (!mine || w->len >= w->cap)
        return;
    if (w->first) {
        w->first = false;
        if (r->site[0] != '\0')
            w->len += (size_t)snprintf(w->buf + w->len, w->cap - w->len, "site %s", r->site);
        if (r->shard[0] != '\0' && w->len < w->cap)
            w->len += (size_t)snprintf(w->buf + w->len, w->cap - w->len, "%snight %s, shards %s",
                                       w->len ? "; " : "", r->night, r->shard);
        return;
    }
    if (r->shard[0] != '\0')
        w->len += (size_t)snprintf(w->buf + w->len, w->cap - w->len, " %s", r->shard);
}

sn_status_t sn_history_where(const char *path, int64_t run, char *buf, size_t cap, sn_error_t *err)
{
    buf[0] = '\0';
    sn_history_t *h = NULL;
    sn_status_t st = sn_history_open(&h, path, false, NULL, 0, err);
    if (st == SN_OK && run == 0)
        st = sn_history_newest(h, NULL, &run, err);
    int64_t *ids = NULL;
    size_t n = 0;
    if (st == SN_OK && run > 0)
        st = sn_history_night_runs(h, run, &ids, &n, err);
    where_t w = {.ids = ids, .n = n, .buf = buf, .cap = cap, .first = true};
    if (st == SN_OK && n > 0)
        st = sn_history_each_run(h, where_run, &w, err);
    free(ids);
    sn_history_close(h);
    if (w.len >= cap && cap > 0)
        buf[cap - 1] = '\0';
    return st;
}

typedef struct import_runs {
    sn_history_run_t *v;
    char **strings; /* owned copies, 9 per run */
    size_t n, cap;
    bool oom;
} import_runs_t;

static void keep_import_run(void *ud, const sn_history_run_t *r)
{
    import_runs_t *ir = ud;
    if (ir->oom || strcmp(r->status, "running") == 0)
        return;
    if (ir->n == ir->cap) {
        size_t nc = ir->cap ? 2 * ir->cap : 16;
        sn_history_run_t *nv = realloc(ir->v, nc * sizeof *nv);
        char **ns = realloc(ir->strings, nc * 9 * sizeof *ns);
        if (nv)
            ir->v = nv;
        if (ns)
            ir->strings = ns;
        if (!nv || !ns) {
            ir->oom = true;
            return;
        }
        ir->cap = nc;
    }
    sn_history_run_t *c = &ir->v[ir->n];
    *c = *r;
    const char *src[9] = {r->status, r->command, r->site,  r->vantage, r->inputs,
                          r->plan,   r->shard,   r->night, ""};
    const char **dst[9] = {&c->status, &c->command, &c->site,  &c->vantage, &c->inputs,
                           &c->plan,   &c->shard,   &c->night, NULL};
    for (int i = 0; i < 9; i++) {
        char *d = strdup(src[i] ? src[i] : "");
        ir->strings[ir->n * 9 + (size_t)i] = d;
        ir->oom |= d == NULL;
        if (dst[i] != NULL)
            *dst[i] = d;
    }
    ir->n++;
}

typedef struct import_obs {
    sn_history_t *to;
    sn_status_t st;
    sn_error_t err;
    uint64_t rows;
} import_obs_t;

static void copy_obs(void *ud, const sn_history_obs_t *o)
{
    import_obs_t *io = ud;
    if (io->st == SN_OK && (io->st = sn_history_add(io->to, o, &io->err)) == SN_OK)
        io->rows++;
}

sn_status_t sn_history_import(const char *from, const char *to, sn_error_t *err)
{
    if (sn_history_is_server(from))
        return sn_error_set(err, SN_EINVAL, "history import: FILE is a SQLite history, not %s",
                            "a server");
    const char **names = calloc(sn_field_count, sizeof *names);
    if (names == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    for (size_t i = 0; i < sn_field_count; i++)
        names[i] = sn_fields[i].name;
    sn_history_t *src = NULL;
    import_runs_t ir = {0};
    sn_status_t st = sn_history_open(&src, from, false, names, sn_field_count, err);
    if (st == SN_OK)
        st = sn_history_each_run(src, keep_import_run, &ir, err);
    if (st == SN_OK && ir.oom)
        st = sn_error_set(err, SN_ENOMEM, "out of memory");
    uint64_t rows = 0;
    for (size_t i = 0; st == SN_OK && i < ir.n; i++) {
        const sn_history_run_t *r = &ir.v[i];
        sn_history_t *dst = NULL;
        st = sn_history_open_writer(&dst, to, r->site, r->shard, names, sn_field_count, err);
        int64_t id;
        bool resumed;
        if (st == SN_OK)
            st = sn_history_begin(dst, r, false, &id, &resumed, err);
        import_obs_t io = {.to = dst};
        if (st == SN_OK)
            st = sn_history_each_observation(src, r->id, true, copy_obs, &io, err);
        if (st == SN_OK && io.st != SN_OK) {
            st = io.st;
            *err = io.err;
        }
        if (st == SN_OK)
            st = sn_history_end_at(dst, strcmp(r->status, "complete") != 0, r->targets, r->finished,
                                   err);
        sn_history_close(dst);
        rows += io.rows;
    }
    if (st == SN_OK)
        fprintf(stderr, "snprobe: imported %zu runs and %llu observations from %s\n", ir.n,
                (unsigned long long)rows, from);
    for (size_t i = 0; i < ir.n * 9; i++)
        free(ir.strings[i]);
    free(ir.strings);
    free(ir.v);
    free(names);
    sn_history_close(src);
    return st;
}

sn_status_t sn_history_cmd_run(const sn_history_cmd_t *cmd, sn_error_t *err)
{
    static const char *const whats[] = {"runs",      "results",  "nodes",      "churn",
                                        "staleness", "survival", "population", "definitions"};
    size_t w = 0;
    while (w < sizeof whats / sizeof whats[0] && strcmp(cmd->what, whats[w]) != 0)
        w++;
    if (w == sizeof whats / sizeof whats[0])
        return sn_error_set(err, SN_EINVAL, "history: no subcommand '%s' (%s)", cmd->what,
                            sn_history_cmd_names);
    if (w == 7) {
        sn_outfile_t *of;
        FILE *f;
        sn_status_t ost = sn_outfile_open_stream(cmd->output, &of, &f, err);
        if (ost != SN_OK)
            return ost;
        fprintf(f, "statistic,formula,denominator\n");
        for (size_t i = 0; i < sn_hs_def_count; i++) {
            put_cell(f, sn_hs_defs[i].name);
            fputc(',', f);
            put_cell(f, sn_hs_defs[i].formula);
            fputc(',', f);
            put_cell(f, sn_hs_defs[i].denominator);
            fputc('\n', f);
        }
        return sn_outfile_commit(of, err);
    }
    const char **names = calloc(sn_field_count, sizeof *names);
    if (names == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    for (size_t i = 0; i < sn_field_count; i++)
        names[i] = sn_fields[i].name;
    sn_history_t *h = NULL;
    sn_status_t st = sn_history_open(&h, cmd->path, false, names, sn_field_count, err);
    free(names);
    if (st != SN_OK)
        return st;
    if (w == 1) {
        st = write_results(cmd, h, err);
        sn_history_close(h);
        return st;
    }
    sn_outfile_t *of;
    FILE *f;
    if ((st = sn_outfile_open_stream(cmd->output, &of, &f, err)) != SN_OK) {
        sn_history_close(h);
        return st;
    }
    load_t l = {0};
    if (w == 0) {
        fprintf(f, "run_id,started,finished,status,site,targets,probed,alive,shard,night\n");
        st = sn_history_each_run(h, print_run, f, err);
    } else if ((st = load(h, w == 5, &l, err)) == SN_OK) {
        switch (w) {
        case 2: write_nodes(f, &l); break;
        case 3: write_churn(f, &l, h); break;
        case 4: write_staleness(f, &l); break;
        case 5: write_survival(f, &l); break;
        default: st = write_population(f, &l, err); break;
        }
    }
    load_free(&l);
    sn_history_close(h);
    return sn_outfile_finish(of, st, err);
}

/* ---- the report's history section ---- */

struct sn_history_section {
    load_t l;
};

sn_status_t sn_history_section_new(sn_history_section_t **out, const char *path, sn_error_t *err)
{
    *out = NULL;
    sn_history_section_t *sec = calloc(1, sizeof *sec);
    const char **names = calloc(sn_field_count, sizeof *names);
    if (sec == NULL || names == NULL) {
        free(sec);
        free(names);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < sn_field_count; i++)
        names[i] = sn_fields[i].name;
    sn_history_t *h = NULL;
    sn_status_t st = sn_history_open(&h, path, false, names, sn_field_count, err);
    free(names);
    if (st == SN_OK)
        st = load(h, true, &sec->l, err);
    sn_history_close(h);
    if (st != SN_OK) {
        sn_history_section_free(sec);
        return st;
    }
    *out = sec;
    return SN_OK;
}

void sn_history_section_free(sn_history_section_t *sec)
{
    if (sec == NULL)
        return;
    load_free(&sec->l);
    free(sec);
}

static const char *const COLORS[] = {"#3b6ea5", "#d08c2c", "#5a9e4b", "#b5485d", "#7a5ca8"};

/*
 * One chart of n x positions and m series (values[s * n + x], NaN for none),
 * as bars grouped per x or as lines, y from 0 to ymax (0: the largest value),
 * then the table of the same numbers. Labels are static text or numbers.
 */
static void hchart(FILE *f, const char *id, const char *title, const char *xtitle,
                   const char *const *xlab, size_t n, const char *const *series, size_t m,
                   const double *values, bool bars, double ymax, bool pct, const char *note)
{
    if (ymax <= 0) {
        for (size_t i = 0; i < n * m; i++)
            if (!isnan(values[i]) && values[i] > ymax)
                ymax = values[i];
        if (ymax <= 0)
            ymax = 1;
    }
    const double W = 640, H = 260, L = 56, R = 12, T = 14, B = 40;
    double pw = W - L - R, ph = H - T - B, step = n > 0 ? pw / (double)n : pw;
    fprintf(f,
            "<figure class=\"fig\" id=\"fig-%s\"><figcaption>%s</figcaption><div class=\"pair\">\n"
            "<svg class=\"chart\" data-chart=\"%s\" data-series=\"%zu\" data-points=\"%zu\" "
            "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">\n",
            id, title, id, m, n, W, H, title);
    for (int k = 0; k <= 4; k++) {
        double y = T + ph - ph * k / 4.0, v = ymax * k / 4.0;
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", L, y,
                W - R, y);
        if (pct)
            fprintf(
                f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f%%</text>\n",
                L - 6, y + 4, v * 100);
        else
            fprintf(f,
                    "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
                    L - 6, y + 4, v);
    }
    size_t every = n > 16 ? (n + 15) / 16 : 1;
    for (size_t x = 0; x < n; x += every)
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                L + step * ((double)x + 0.5), H - B + 16, xlab[x]);
    for (size_t s = 0; s < m; s++) {
        const char *c = COLORS[s % (sizeof COLORS / sizeof COLORS[0])];
        if (bars) {
            double bw = step * 0.8 / (double)m;
            for (size_t x = 0; x < n; x++) {
                double v = values[s * n + x];
                if (isnan(v))
                    continue;
                double h = ph * v / ymax;
                fprintf(f,
                        "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"%s\"/>",
                        L + step * (double)x + step * 0.1 + bw * (double)s, T + ph - h, bw, h, c);
            }
        } else {
            fprintf(f, "<polyline class=\"curve\" fill=\"none\" stroke=\"%s\" points=\"", c);
            for (size_t x = 0; x < n; x++) {
                double v = values[s * n + x];
                if (!isnan(v))
                    fprintf(f, "%.1f,%.1f ", L + step * ((double)x + 0.5), T + ph - ph * v / ymax);
            }
            fputs("\"/>\n", f);
        }
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"4\" fill=\"%s\"/>"
                "<text class=\"leg\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                L + pw - 150, T + 8 + 16 * (double)s, c, L + pw - 132, T + 13 + 16 * (double)s,
                series[s]);
    }
    fprintf(f,
            "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n"
            "<text class=\"axt\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n</svg>\n",
            L, T, pw, ph, L + pw / 2, H - 8, xtitle);
    fprintf(f, "<div class=\"tbl scroll\"><table><thead><tr><th>%s</th>", xtitle);
    for (size_t s = 0; s < m; s++)
        fprintf(f, "<th class=\"n\">%s</th>", series[s]);
    fputs("</tr></thead><tbody>\n", f);
    for (size_t x = 0; x < n; x++) {
        fprintf(f, "<tr><td>%s</td>", xlab[x]);
        for (size_t s = 0; s < m; s++) {
            double v = values[s * n + x];
            if (isnan(v))
                fputs("<td class=\"n\"></td>", f);
            else if (pct)
                fprintf(f, "<td class=\"n\">%.1f%%</td>", v * 100);
            else
                fprintf(f, "<td class=\"n\">%.0f</td>", v);
        }
        fputs("</tr>\n", f);
    }
    fprintf(f, "</tbody></table></div></div><p class=\"note\">%s</p></figure>\n", note);
}

void sn_history_section_write(FILE *f, void *ud)
{
    const sn_history_section_t *sec = ud;
    const load_t *l = &sec->l;
    sn_hs_input_t in = input_of(l);
    size_t R = l->n_runs;
    fprintf(f,
            "<section id=\"history\"><h2>History</h2>\n<p>%zu complete run%s in the history, "
            "%zu targets observed in them. A node is alive in a run when it answered over UDP "
            "or TCP; the definitions are those of <code>snprobe history definitions</code>."
            "</p>\n",
            R, R == 1 ? "" : "s", l->n_targets);
    if (R == 0) {
        fputs("<p>No complete run yet.</p></section>\n", f);
        return;
    }
    size_t cap = R + 11;
    char(*lab)[24] = calloc(cap, sizeof *lab);
    const char **labp = calloc(cap, sizeof *labp);
    double *v = calloc(5 * cap, sizeof *v);
    sn_hs_pop_t *pop = calloc(R, sizeof *pop);
    if (lab == NULL || labp == NULL || v == NULL || pop == NULL ||
        sn_hs_population(&in, pop) != 0) {
        fputs("<p>Out of memory drawing the history.</p></section>\n", f);
        goto out;
    }
    for (size_t d = 0; d < R; d++) {
        snprintf(lab[d], sizeof lab[d], "%lld", (long long)l->run_id[d]);
        labp[d] = lab[d];
        v[d] = (double)pop[d].alive;
        v[R + d] = (double)pop[d].cumulative;
    }
    static const char *const alive_s[] = {"alive", "discovered so far"};
    hchart(
        f, "history-alive", "Alive nodes per run, and the discovery curve", "run", labp, R, alive_s,
        2, v, false, 0, false,
        "Alive: |A(d)|. Discovered: |A(1) &#8746; &#8230; &#8746; A(d)|, distinct nodes alive in "
        "any run so far.");
    for (size_t d = 0; d < R; d++) {
        sn_hs_churn_t c;
        sn_hs_churn(&in, d, &c);
        v[d] = (double)c.new_;
        v[R + d] = (double)c.returning;
        v[2 * R + d] = (double)c.gone;
    }
    static const char *const churn_s[] = {"new", "returning", "gone"};
    hchart(f, "history-churn", "Churn: new, returning and gone nodes per run", "run", labp, R,
           churn_s, 3, v, true, 0, false,
           "New: alive now, never before. Returning: alive now, not in the previous run, alive in "
           "an earlier one. Gone: alive in the previous run and not now.");
    if (R > 1) {
        size_t K = R - 1;
        for (size_t k = 1; k <= K; k++) {
            snprintf(lab[k - 1], sizeof lab[k - 1], "%zu", k);
            labp[k - 1] = lab[k - 1];
            sn_hs_age_t a;
            sn_hs_staleness(&in, k, &a);
            v[k - 1] = a.value;
            sn_hs_survival(&in, k, -1, &a);
            v[K + k - 1] = a.value;
        }
        static const char *const age_s[] = {"staleness coverage", "survival"};
        hchart(
            f, "history-age", "A list k runs old: coverage of tonight, and survival",
            "age k (runs)", labp, K, age_s, 2, v, false, 1, true,
            "Coverage(k): mean over runs d of |A(d) &#8745; A(d+k)| / |A(d+k)|, how much of a "
            "later run a list made k runs earlier still covers. Survival(k): "
            "&#931;|A(d) &#8745; A(d+k)| / &#931;|A(d)|, the share of nodes alive in a run still "
            "alive k runs later.");
    }
    /* availability histogram: ten bins of runs_alive / runs_probed, nodes probed at least once */
    for (size_t b = 0; b < 10; b++) {
        snprintf(lab[b], sizeof lab[b], "%zu-%zu%%", b * 10, b * 10 + 10);
        labp[b] = lab[b];
        v[b] = 0;
    }
    for (size_t t = 0; t < l->n_targets; t++) {
        sn_hs_node_t nd;
        sn_hs_node(&in, t, &nd);
        if (isnan(nd.availability) || nd.runs_alive == 0)
            continue;
        size_t b = (size_t)(nd.availability * 10);
        v[b > 9 ? 9 : b] += 1;
    }
    static const char *const av_s[] = {"nodes"};
    hchart(f, "history-availability", "Availability of the nodes alive at least once",
           "availability", labp, 10, av_s, 1, v, true, 0, false,
           "Availability = runs alive / runs probed, per node alive in at least one run; the last "
           "bin holds 100%.");
    fputs("</section>\n", f);
out:
    free(lab);
    free(labp);
    free(v);
    free(pop);
}
