/*
 * The scan's recorder into the history store (see history_rec.h).
 *
 * An observation keeps every result column as the results file writes it
 * (the cells come from the same field table and formatters), so that
 * `history results` gives back exactly what `scan -o` wrote that night. The
 * three flags stored beside the cells (probed, alive, incomplete) are what
 * the longitudinal queries and --resume read, so they never parse cells.
 */
#include "reports/history_rec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/sha256.h"
#include "reports/output.h"
#include "reports/stats.h"

struct sn_hrec {
    sn_history_t *h;
    sn_hrec_cfg_t cfg;
    int64_t run;
    char **cells; /* sn_field_count buffers */
    const char **cellv;
};

#define CELL_CAP 16384u

/* "SHA256  PATH" per input, as sha256sum prints them ("-" for stdin: no digest). */
static char *input_digests(const sn_hrec_cfg_t *cfg)
{
    size_t cap = 1, len = 0;
    for (size_t i = 0; i < cfg->n_inputs; i++)
        cap += strlen(cfg->inputs[i]) + 68;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < cfg->n_inputs; i++) {
        char hex[65] = "-";
        FILE *f = strcmp(cfg->inputs[i], "-") == 0 ? NULL : fopen(cfg->inputs[i], "rb");
        if (f != NULL) {
            sn_sha256_t c;
            sn_sha256_init(&c);
            unsigned char buf[65536];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                sn_sha256_update(&c, buf, n);
            uint8_t d[32];
            sn_sha256_final(&c, d);
            for (size_t k = 0; k < 32; k++)
                snprintf(hex + 2 * k, 3, "%02x", d[k]);
            fclose(f);
        }
        len += (size_t)snprintf(s + len, cap - len, "%s  %s\n", hex, cfg->inputs[i]);
    }
    return s;
}

static void rec_free(sn_hrec_t *rec)
{
    if (rec == NULL)
        return;
    sn_history_close(rec->h);
    for (size_t i = 0; rec->cells && i < sn_field_count; i++)
        free(rec->cells[i]);
    free(rec->cells);
    free(rec->cellv);
    free(rec);
}

sn_status_t sn_hrec_open(sn_hrec_t **out, const sn_hrec_cfg_t *cfg, sn_error_t *err)
{
    *out = NULL;
    sn_hrec_t *rec = calloc(1, sizeof *rec);
    const char **names = calloc(sn_field_count, sizeof *names);
    if (rec == NULL || names == NULL) {
        free(rec);
        free(names);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    rec->cfg = *cfg;
    rec->cells = calloc(sn_field_count, sizeof *rec->cells);
    rec->cellv = calloc(sn_field_count, sizeof *rec->cellv);
    bool oom = rec->cells == NULL || rec->cellv == NULL;
    for (size_t i = 0; i < sn_field_count && !oom; i++) {
        names[i] = sn_fields[i].name;
        oom = (rec->cells[i] = malloc(CELL_CAP)) == NULL;
    }
    if (oom) {
        free(names);
        rec_free(rec);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    sn_status_t st = sn_history_open_writer(&rec->h, cfg->path, cfg->site, cfg->shard, names,
                                            sn_field_count, err);
    free(names);
    if (st == SN_OK && cfg->spool != NULL)
        st = sn_history_set_spool(rec->h, cfg->spool, err);
    char *digests = st == SN_OK ? input_digests(cfg) : NULL;
    if (st == SN_OK && digests == NULL)
        st = sn_error_set(err, SN_ENOMEM, "out of memory");
    if (st == SN_OK) {
        sn_history_run_t run = {.started = (int64_t)time(NULL),
                                .command = cfg->command,
                                .site = cfg->site,
                                .shard = cfg->shard,
                                .night = cfg->night,
                                .vantage = cfg->vantage,
                                .inputs = digests,
                                .plan = cfg->plan};
        bool resumed = false;
        st = sn_history_begin(rec->h, &run, cfg->resume, &rec->run, &resumed, err);
        if (st == SN_OK && cfg->resume && !cfg->quiet) {
            if (resumed)
                fprintf(stderr, "snprobe: resuming run %lld of %s: %zu targets already measured\n",
                        (long long)rec->run, cfg->path, sn_history_kept(rec->h));
            else
                fprintf(stderr, "snprobe: no interrupted run in %s to resume; run %lld starts\n",
                        cfg->path, (long long)rec->run);
        }
    }
    free(digests);
    if (st != SN_OK) {
        rec_free(rec);
        return st;
    }
    *out = rec;
    return SN_OK;
}

typedef struct revisit {
    sn_targets_t *ts;
    int64_t since;
    sn_status_t st;
} revisit_t;

static void add_revisit(void *ud, const sn_history_obs_t *o)
{
    revisit_t *rv = ud;
    if (!o->alive || o->observed_at < rv->since || rv->st != SN_OK)
        return;
    sn_addr_t a;
    if (sn_addr_parse_ip(o->address, strlen(o->address), &a) != SN_OK)
        return;
    a.port = o->port;
    sn_listing_t l = {.count = 1, .source = "history"};
    /* Listed by tonight's inputs already: leave its seen-count alone. */
    if (sn_targets_find(rv->ts, &a) == NULL)
        rv->st = sn_targets_add(rv->ts, &a, &l);
}

sn_status_t sn_hrec_add_revisits(sn_hrec_t *rec, sn_targets_t *ts, sn_error_t *err)
{
    if (rec == NULL || rec->cfg.revisit_days <= 0)
        return SN_OK;
    if (sn_targets_begin_input(ts, "history") < 0)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    revisit_t rv = {.ts = ts,
                    .since = (int64_t)time(NULL) - (int64_t)(rec->cfg.revisit_days * 86400.0)};
    sn_status_t st = sn_history_each_observation(rec->h, 0, false, add_revisit, &rv, err);
    if (st == SN_OK && rv.st != SN_OK)
        st = sn_error_set(err, rv.st, "out of memory adding the history's targets");
    return st;
}

bool sn_hrec_skip(const sn_hrec_t *rec, const sn_target_t *t)
{
    if (rec == NULL || sn_history_kept(rec->h) == 0)
        return false;
    char ip[SN_ADDR_STRLEN];
    sn_addr_format(&t->addr, ip, sizeof ip, false);
    return sn_history_has(rec->h, ip, t->addr.port);
}

static bool ran(const sn_probe_result_t *p)
{
    return p->probe != NULL && p->outcome != SN_OUTCOME_NONE;
}

sn_status_t sn_hrec_add(sn_hrec_t *rec, const sn_targets_t *ts, const char *vantage,
                        const sn_result_t *r, sn_error_t *err)
{
    if (rec == NULL)
        return SN_OK;
    sn_field_ctx_t ctx = {.targets = ts, .vantage = vantage};
    for (size_t i = 0; i < sn_field_count; i++) {
        rec->cells[i][0] = '\0';
        sn_fields[i].format(&ctx, r, rec->cells[i], CELL_CAP);
        rec->cellv[i] = rec->cells[i];
    }
    sn_history_obs_t o = {.address = rec->cells[SN_COL_ADDRESS], /* formatted once, above */
                          .port = r->target->addr.port,
                          .observed_at = (int64_t)time(NULL),
                          .probed = r->blocked == NULL && (ran(&r->udp) || ran(&r->tcp)),
                          .alive = r->udp.outcome == SN_OUTCOME_ALIVE ||
                                   r->tcp.outcome == SN_OUTCOME_ALIVE,
                          .incomplete = r->udp.outcome == SN_OUTCOME_INCOMPLETE ||
                                        r->tcp.outcome == SN_OUTCOME_INCOMPLETE,
                          .cells = rec->cellv};
    return sn_history_add(rec->h, &o, err);
}

sn_status_t sn_hrec_flush(sn_hrec_t *rec, sn_error_t *err)
{
    return rec ? sn_history_flush(rec->h, err) : SN_OK;
}

int64_t sn_hrec_run_id(const sn_hrec_t *rec)
{
    return rec ? rec->run : 0;
}

size_t sn_hrec_kept(const sn_hrec_t *rec)
{
    return rec ? sn_history_kept(rec->h) : 0;
}

uint64_t sn_hrec_rows(const sn_hrec_t *rec)
{
    return rec ? sn_history_rows(rec->h) : 0;
}

sn_status_t sn_hrec_close(sn_hrec_t *rec, bool interrupted, uint64_t targets, sn_error_t *err)
{
    if (rec == NULL)
        return SN_OK;
    sn_status_t st = sn_history_end(rec->h, interrupted, (int64_t)targets, err);
    rec_free(rec);
    return st;
}
