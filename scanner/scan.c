/*
 * The scan job (see scan.h). It owns the loop for the duration of a scan:
 * engine, signal handlers, the progress line and the periodic flush of the
 * results file all live on it, so SIGINT stops sending, lets in-flight probes
 * time out, and the results written so far end up complete on disk.
 *
 * Stopping (SIGINT, SIGTERM, SIGHUP alike): the first signal stops sending;
 * probes in flight get their timeout; reverse lookups still pending after
 * DNS_GRACE_MS are cancelled (rdns_status "cancelled"), so that DNS cannot
 * hold the scan. The second signal ends probes and lookups at once. Either
 * way every measured row is written, a probe cut short says `incomplete`,
 * and the summary says interrupted (main exits 3).
 */
#include "scanner/scan.h"

#include <errno.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/blocklist.h"
#include "data/geo.h"
#include "data/input.h"
#include "lib/rng.h"

#define BAD_ENTRY_LINES 50 /* printed before the rest are only counted */
#define DNS_GRACE_MS 2000  /* after a first signal, lookups get this long to finish */

typedef struct scan {
    const sn_scan_cfg_t *cfg;
    sn_scan_summary_t *sum;
    sn_targets_t *ts;
    sn_blocklist_t *bl;
    sn_engine_t *engine;
    sn_enricher_t *enricher;
    bool *sink_failed; /* per sink of cfg: its add or flush failed, it gets no more */
    size_t n_begun;    /* sinks [0, n_begun) were begun: they get results */
    uv_loop_t loop;
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t grace;  /* after the first signal: then DNS is cancelled */
    uv_timer_t tick;   /* once a second: flush, progress */
    uv_timer_t finish; /* ends the loop outside of any callback chain */
    uv_idle_t feeder;  /* annotate: hands targets to the enricher as it has room */
    const uint32_t *order;
    size_t n_order, fed;
    bool engine_done, feeding, finished;
    uint64_t start_ns, last_sent, last_ns;
    bool tty, progress_shown;
    sn_status_t write_status;
    sn_error_t write_err;
    sn_engine_stats_t final; /* the engine's counters, kept when it is freed */
    int64_t started_at;      /* wall clock, for the report */
} scan_t;

static void on_bad(void *ud, const char *where, const char *reason)
{
    scan_t *s = ud;
    if (s->cfg->quiet)
        return;
    if (s->sum->bad < BAD_ENTRY_LINES)
        fprintf(stderr, "snprobe: skipped %s: %s\n", where, reason);
    else if (s->sum->bad == BAD_ENTRY_LINES)
        fprintf(stderr, "snprobe: further bad entries are counted, not shown\n");
}

sn_status_t sn_scan_parse_plan(const char *plan, sn_engine_cfg_t *ecfg, sn_error_t *err)
{
    ecfg->udp_probe = ecfg->tcp_probe = NULL;
    char buf[256];
    if (plan == NULL || strlen(plan) >= sizeof buf)
        return sn_error_set(err, SN_EINVAL, "--probes: give a list such as skype,tcp");
    strcpy(buf, plan);
    char *save = NULL;
    for (char *name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        const sn_probe_t *p = sn_probe_find(name);
        if (p == NULL)
            return sn_error_set(err, SN_EINVAL, "--probes: no probe named '%s' (see --list-probes)",
                                name);
        const sn_probe_t **slot =
            p->transport == SN_TRANSPORT_UDP ? &ecfg->udp_probe : &ecfg->tcp_probe;
        if (*slot != NULL && *slot != p)
            return sn_error_set(
                err, SN_EINVAL, "--probes: %s and %s are both %s probes; a plan has at most one",
                (*slot)->name, p->name, p->transport == SN_TRANSPORT_UDP ? "UDP" : "TCP");
        *slot = p;
    }
    if (ecfg->udp_probe == NULL && ecfg->tcp_probe == NULL)
        return sn_error_set(err, SN_EINVAL, "--probes: the plan is empty");
    return SN_OK;
}

sn_status_t sn_scan_parse_ports(const char *list, sn_engine_cfg_t *ecfg, sn_error_t *err)
{
    ecfg->n_fallback = 0;
    if (list == NULL || strcmp(list, "none") == 0 || *list == '\0')
        return SN_OK;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        uint16_t port;
        const char *why = NULL;
        if (sn_addr_parse_port(p, len, &port, &why) != SN_OK)
            return sn_error_set(err, SN_EINVAL, "--fallback-ports: '%.*s': %s", (int)len, p,
                                why ? why : "bad port");
        if (ecfg->n_fallback == SN_MAX_FALLBACK_PORTS)
            return sn_error_set(err, SN_EINVAL, "--fallback-ports: at most %d ports",
                                SN_MAX_FALLBACK_PORTS);
        ecfg->fallback_ports[ecfg->n_fallback++] = port;
        p += len;
        if (*p == ',')
            p++;
    }
    return SN_OK;
}

/* ---- results ---- */

static void count_result(sn_scan_summary_t *sum, const sn_result_t *r)
{
    if (r->blocked != NULL)
        return;
    sum->incomplete += strcmp(sn_result_reach_class(r, &(sn_reach_buf_t){0}), "incomplete") == 0;
    if (r->udp.outcome == SN_OUTCOME_ALIVE) {
        sum->udp_alive++;
        if (r->udp.reply_from.family != 0)
            sum->reply_other++;
    }
    if (r->tcp.outcome == SN_OUTCOME_ALIVE) {
        sum->tcp_alive++;
        if (r->tcp.port == r->target->addr.port)
            sum->tcp_alive_own++;
        else
            sum->tcp_alive_fallback++;
    }
    if (sn_result_sn_eligible(r))
        sum->eligible++;
}

static void check_finish(scan_t *s);
static void on_feed(uv_idle_t *h);

/* Whether a sink holds t back (a resumed history run measured it). */
static bool sink_skips(const scan_t *s, const sn_target_t *t)
{
    for (size_t i = 0; i < s->cfg->n_sinks; i++) {
        const sn_sink_t *k = &s->cfg->sinks[i];
        if (k->ops->skip != NULL && k->ops->skip(k->state, t))
            return true;
    }
    return false;
}

/* The sinks' checks (before any file exists), then their additions to the target set. */
static sn_status_t check_sinks(const scan_t *s, sn_error_t *err)
{
    for (size_t i = 0; i < s->cfg->n_sinks; i++) {
        const sn_sink_t *k = &s->cfg->sinks[i];
        sn_status_t st = k->ops->check != NULL ? k->ops->check(k->state, err) : SN_OK;
        if (st != SN_OK)
            return st;
    }
    return SN_OK;
}

static sn_status_t extend_targets(scan_t *s, sn_error_t *err)
{
    for (size_t i = 0; i < s->cfg->n_sinks; i++) {
        const sn_sink_t *k = &s->cfg->sinks[i];
        sn_status_t st = k->ops->extend != NULL ? k->ops->extend(k->state, s->ts, err) : SN_OK;
        if (st != SN_OK)
            return st;
    }
    return SN_OK;
}

/* A sink cannot take results: it gets no more, and with nowhere to put them the
 * scan stops probing. The first error is the scan's. */
static void sink_failed(scan_t *s, size_t i, sn_status_t st, const sn_error_t *e)
{
    s->sink_failed[i] = true;
    if (s->write_status == SN_OK) {
        s->write_status = st;
        s->write_err = *e;
    }
    sn_engine_stop(s->engine);
    s->feeding = false;
}

/* A result leaves the pipeline: counted, shown to the caller, written. */
static void emit_final(void *ud, const sn_result_t *r)
{
    scan_t *s = ud;
    count_result(s->sum, r);
    if (r->enrich != NULL) {
        s->sum->rdns_ok += strcmp(r->enrich->rdns_status, "ok") == 0;
        s->sum->geo_known += r->enrich->geo.country[0] != '\0';
    }
    if (s->cfg->on_result != NULL)
        s->cfg->on_result(s->cfg->ud, r);
    for (size_t i = 0; i < s->cfg->n_sinks; i++) {
        const sn_sink_t *k = &s->cfg->sinks[i];
        if (i >= s->n_begun || s->sink_failed[i])
            continue;
        sn_error_t e;
        sn_status_t st = k->ops->add(k->state, r, &e);
        if (st != SN_OK)
            sink_failed(s, i, st, &e);
    }
    /* Back-pressure from DNS: resume once half the parked results are out. */
    size_t parked = sn_enricher_parked(s->enricher);
    if (s->engine != NULL && parked < s->cfg->enrich.max_parked / 2)
        sn_engine_pause(s->engine, false);
    if (s->feeding && parked < s->cfg->enrich.max_parked / 2)
        uv_idle_start(&s->feeder, on_feed);
}

/* A result enters enrichment (or goes straight out without it). */
static void emit(scan_t *s, const sn_result_t *r)
{
    if (s->enricher == NULL) {
        emit_final(s, r);
        return;
    }
    sn_enricher_submit(s->enricher, r);
    if (s->engine != NULL && sn_enricher_parked(s->enricher) >= s->cfg->enrich.max_parked)
        sn_engine_pause(s->engine, true);
}

static void on_result(void *ud, const sn_result_t *r)
{
    emit(ud, r);
}

/* ---- progress, signals ---- */

static void fmt_dur(char *buf, size_t cap, double sec)
{
    if (sec < 0 || sec > 359999)
        snprintf(buf, cap, "--:--");
    else if (sec >= 3600)
        snprintf(buf, cap, "%d:%02d:%02d", (int)sec / 3600, (int)sec / 60 % 60, (int)sec % 60);
    else
        snprintf(buf, cap, "%02d:%02d", (int)sec / 60, (int)sec % 60);
}

static void print_progress(scan_t *s, bool final)
{
    sn_engine_stats_t st;
    sn_engine_get_stats(s->engine, &st);
    uint64_t now = uv_hrtime();
    double el = (double)(now - s->start_ns) / 1e9;
    double dt = (double)(now - s->last_ns) / 1e9;
    double rate = dt > 0 ? (double)(st.sent - s->last_sent) / dt : 0;
    s->last_ns = now;
    s->last_sent = st.sent;
    double pct =
        st.targets_total ? 100.0 * (double)st.targets_done / (double)st.targets_total : 100;
    double tps = el > 0 ? (double)st.targets_done / el : 0;
    double eta = tps > 0 ? (double)(st.targets_total - st.targets_done) / tps : -1;
    char e1[16], e2[16];
    fmt_dur(e1, sizeof e1, el);
    fmt_dur(e2, sizeof e2, eta);
    fprintf(stderr, "%s%s %5.1f%% done, %llu sent, %llu replies, %.0f probes/s, ETA %s%s",
            s->tty ? "\r" : "", e1, pct, (unsigned long long)st.sent,
            (unsigned long long)st.replies, rate, e2, s->tty && !final ? "\033[K" : "\n");
    if (s->tty && final)
        fputc('\n', stderr);
    s->progress_shown = true;
}

static void on_tick(uv_timer_t *t)
{
    scan_t *s = t->data;
    for (size_t i = 0; i < s->cfg->n_sinks && s->write_status == SN_OK; i++) {
        const sn_sink_t *k = &s->cfg->sinks[i];
        if (i >= s->n_begun || s->sink_failed[i] || k->ops->flush == NULL)
            continue;
        sn_error_t e;
        sn_status_t st = k->ops->flush(k->state, &e);
        if (st != SN_OK)
            sink_failed(s, i, st, &e);
    }
    if (s->cfg->progress && !s->cfg->quiet && s->engine != NULL)
        print_progress(s, false);
}

/* The grace after the first signal is over: pending lookups end now. */
static void on_grace(uv_timer_t *t)
{
    scan_t *s = t->data;
    sn_enricher_cancel(s->enricher);
    check_finish(s);
}

static void on_signal(uv_signal_t *h, int signum)
{
    scan_t *s = h->data;
    if (!s->cfg->quiet)
        fprintf(stderr, "%ssnprobe: %s: %s\n", s->tty && s->progress_shown ? "\n" : "",
                signum == SIGINT   ? "interrupted"
                : signum == SIGHUP ? "hung up"
                                   : "terminated",
                s->sum->interrupted ? "stopping now; probes in flight are written incomplete"
                                    : "no new probes; waiting for those in flight (again to "
                                      "stop now)");
    bool again = s->sum->interrupted;
    s->sum->interrupted = true;
    if (again)
        sn_enricher_cancel(s->enricher); /* may emit rows: before the engine stops */
    else if (s->enricher != NULL)
        uv_timer_start(&s->grace, on_grace, DNS_GRACE_MS, 0);
    if (s->feeding) {
        s->feeding = false;
        uv_idle_stop(&s->feeder);
    }
    sn_engine_stop(s->engine);
    check_finish(s);
}

/* The engine has reported every target it started. */
static void on_done(void *ud)
{
    scan_t *s = ud;
    sn_engine_get_stats(s->engine, &s->final);
    s->engine_done = true;
    check_finish(s);
}

static void on_enricher_idle(void *ud)
{
    check_finish(ud);
}

/* Annotate: hand targets to the enricher while it has room. */
static void on_feed(uv_idle_t *h)
{
    scan_t *s = h->data;
    while (s->feeding && s->fed < s->n_order &&
           sn_enricher_parked(s->enricher) < s->cfg->enrich.max_parked) {
        sn_result_t r = {.target = sn_targets_at(s->ts, s->order[s->fed++])};
        emit(s, &r);
    }
    if (!s->feeding || s->fed == s->n_order || s->write_status != SN_OK) {
        s->feeding = false;
        uv_idle_stop(h);
        check_finish(s);
    } else if (sn_enricher_parked(s->enricher) >= s->cfg->enrich.max_parked) {
        uv_idle_stop(h); /* emit_final restarts it */
    }
}

static void on_finish(uv_timer_t *t)
{
    scan_t *s = t->data;
    if (s->cfg->progress && !s->cfg->quiet && s->engine != NULL)
        print_progress(s, true);
    uv_timer_stop(&s->tick);
    uv_timer_stop(&s->grace);
    uv_signal_stop(&s->sigint);
    uv_signal_stop(&s->sigterm);
    uv_signal_stop(&s->sighup);
    sn_engine_free(s->engine);
    s->engine = NULL;
    sn_enricher_free(s->enricher);
    s->enricher = NULL;
}

/* Done when the engine and the feeder are done and no result waits for DNS. */
static void check_finish(scan_t *s)
{
    if (s->finished || !s->engine_done || s->feeding || sn_enricher_parked(s->enricher) > 0)
        return;
    s->finished = true;
    uv_timer_start(&s->finish, on_finish, 0, 0); /* out of the current callback chain */
}

/* ---- the job ---- */

/*
 * Fisher-Yates over the tree's one seeded generator: the same seed gives the same probe
 * order. The seed is first mixed with a constant of the order's own, as the shards' is
 * (data/shard.c), so that the order draws no numbers in common with what else takes the
 * same --seed (a population, the demo's identities). n is at most the target set's
 * limit, below 2^32, as sn_rng_below requires.
 */
#define ORDER_DOMAIN UINT64_C(0x4f52444552534e50) /* "ORDERSNP" */

static void shuffle(uint32_t *v, size_t n, uint64_t seed)
{
    sn_rng_t r = sn_rng_seeded(seed ^ ORDER_DOMAIN);
    for (size_t i = n; i > 1; i--) {
        size_t j = sn_rng_below(&r, i);
        uint32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

static sn_status_t read_inputs(scan_t *s, sn_error_t *err)
{
    const sn_scan_cfg_t *cfg = s->cfg;
    sn_read_opts_t ro = {.format = (sn_input_format_t)cfg->input_format,
                         .strict = cfg->strict,
                         .on_bad = on_bad,
                         .ud = s};
    sn_read_stats_t rs = {0};
    sn_status_t first = SN_OK;
    for (size_t i = 0; i < cfg->n_inputs; i++) {
        sn_error_t why;
        sn_status_t st = sn_input_read(s->ts, cfg->inputs[i], &ro, &rs, &why);
        s->sum->bad = rs.bad;
        if (st == SN_OK)
            continue;
        /* An input that cannot be read (missing, binary, malformed host cache) is an
         * error for that input alone, unless --strict: reported, counted, and the run
         * goes on with the others (entries read before a fault in it are kept). */
        if (cfg->strict || st == SN_ENOMEM) {
            *err = why;
            return st;
        }
        if (first == SN_OK) {
            first = st;
            *err = why;
        }
        s->sum->input_errors++;
        if (!cfg->quiet)
            fprintf(stderr, "snprobe: input refused: %s\n", why.msg);
    }
    if (first != SN_OK && s->sum->input_errors == cfg->n_inputs && cfg->inline_text == NULL)
        return first; /* nothing could be read at all */
    if (cfg->inline_text != NULL) {
        sn_status_t st = sn_input_read_buf(s->ts, cfg->inline_name, cfg->inline_text,
                                           strlen(cfg->inline_text), &ro, &rs, err);
        if (st != SN_OK)
            return st;
    }
    s->sum->bad = rs.bad;
    s->sum->entries = sn_targets_listings(s->ts);
    for (size_t i = 0; i < sn_targets_count(s->ts); i++)
        s->sum->listings += sn_targets_at(s->ts, i)->seen_count;
    s->sum->distinct = sn_targets_count(s->ts);
    s->sum->inputs = sn_targets_input_count(s->ts);
    return SN_OK;
}

static sn_status_t make_blocklist(scan_t *s, sn_error_t *err)
{
    s->bl = sn_blocklist_new();
    if (s->bl == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->cfg->n_allow; i++) {
        sn_status_t st = sn_blocklist_allow(s->bl, s->cfg->allow[i], err);
        if (st != SN_OK)
            return st;
        sn_blocklist_explain_allow(s->cfg->allow[i], stderr);
    }
    for (size_t i = 0; i < s->cfg->n_exclude_files; i++) {
        sn_status_t st = sn_blocklist_load(s->bl, s->cfg->exclude_files[i], err);
        if (st != SN_OK)
            return st;
    }
    return SN_OK;
}

/*
 * A dry run looks nothing up, but the --geo/--asn files it was given are opened all the
 * same (and closed): a file libmaxminddb refuses or a CSV without the expected columns is
 * the same error, naming the file, as in the real run.
 */
static sn_status_t check_geo_files(const sn_enrich_cfg_t *ecfg, sn_error_t *err)
{
    if (ecfg->n_geo_files == 0)
        return SN_OK;
    sn_geo_t *g = sn_geo_new();
    if (g == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    sn_status_t st = SN_OK;
    for (size_t i = 0; i < ecfg->n_geo_files && st == SN_OK; i++)
        st = sn_geo_add_file(g, ecfg->geo_files[i], err);
    sn_geo_free(g);
    return st;
}

/* Splits this shard's targets into blocked ones (written at once) and an order to probe. */
static sn_status_t plan_targets(scan_t *s, uint32_t **order, size_t *n_order, sn_error_t *err)
{
    size_t n = sn_targets_count(s->ts), k = 0;
    uint32_t *v = malloc((n ? n : 1) * sizeof *v);
    if (v == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory for %zu targets", n);
    for (size_t i = 0; i < n; i++) {
        const sn_target_t *t = sn_targets_at(s->ts, i);
        const char *why = NULL;
        if (!sn_shard_has(&s->cfg->shard, &t->addr)) {
            s->sum->other_shards++; /* another scanner's: neither probed nor written */
            continue;
        }
        if (sink_skips(s, t))
            continue; /* --resume: measured before the interruption */
        if (!s->cfg->annotate && sn_blocklist_blocked(s->bl, &t->addr, &why)) {
            sn_result_t r = {.target = t, .blocked = why ? why : "blocked"};
            s->sum->blocked++;
            emit(s, &r);
        } else {
            v[k++] = (uint32_t)i;
        }
    }
    *order = v;
    *n_order = k;
    return SN_OK;
}

/* The target set is final: every sink opens what it writes, in order. */
static sn_status_t begin_sinks(scan_t *s, sn_error_t *err)
{
    const sn_scan_cfg_t *cfg = s->cfg;
    const char *src[16];
    size_t n_src = s->enricher != NULL ? sn_enricher_sources(s->enricher, src, 16) : 0;
    sn_sink_scan_t scan = {.targets = s->ts,
                           .bad = s->sum->bad,
                           .inputs = cfg->inputs,
                           .n_inputs = cfg->n_inputs,
                           .vantage = cfg->vantage,
                           .command = cfg->command_text,
                           .where = cfg->where,
                           .data_sources = src,
                           .n_data_sources = n_src < 16 ? n_src : 16,
                           .started_at = s->started_at};
    for (size_t i = 0; i < cfg->n_sinks; i++) {
        const sn_sink_t *k = &cfg->sinks[i];
        sn_status_t st = k->ops->begin != NULL ? k->ops->begin(k->state, &scan, err) : SN_OK;
        if (st != SN_OK)
            return st;
        s->n_begun = i + 1;
    }
    return SN_OK;
}

static sn_status_t start_engine(scan_t *s, uint64_t seed, sn_error_t *err)
{
    sn_engine_cfg_t ecfg = s->cfg->engine;
    ecfg.seed = seed;
    ecfg.on_result = on_result;
    ecfg.ud = s;
    sn_status_t st = sn_engine_new(&s->loop, &ecfg, &s->engine, err);
    if (st == SN_OK)
        st = sn_engine_start(s->engine, s->ts, s->order, s->n_order, on_done, err);
    return st;
}

sn_status_t sn_scan_run(const sn_scan_cfg_t *cfg, sn_scan_summary_t *sum, sn_error_t *err)
{
    memset(sum, 0, sizeof *sum);
    scan_t s = {
        .cfg = cfg, .sum = sum, .tty = isatty(STDERR_FILENO), .started_at = (int64_t)time(NULL)};
    uint32_t *order = NULL;
    sn_status_t st = SN_OK;

    uv_loop_init(&s.loop);
    uv_signal_init(&s.loop, &s.sigint);
    uv_signal_init(&s.loop, &s.sigterm);
    uv_signal_init(&s.loop, &s.sighup);
    uv_timer_init(&s.loop, &s.grace);
    uv_timer_init(&s.loop, &s.tick);
    uv_timer_init(&s.loop, &s.finish);
    uv_idle_init(&s.loop, &s.feeder);
    s.sigint.data = s.sigterm.data = s.sighup.data = s.grace.data = &s;
    s.tick.data = s.finish.data = s.feeder.data = &s;

    s.ts = sn_targets_new();
    s.sink_failed = calloc(cfg->n_sinks + 1, sizeof *s.sink_failed);
    if (s.ts == NULL || s.sink_failed == NULL) {
        st = sn_error_set(err, SN_ENOMEM, "out of memory");
        goto out;
    }
    if ((st = read_inputs(&s, err)) != SN_OK || (st = extend_targets(&s, err)) != SN_OK ||
        (st = make_blocklist(&s, err)) != SN_OK)
        goto out;
    if (sum->distinct == 0)
        goto out; /* nothing to do; main says so and exits SN_EXIT_NO_TARGETS */
    /* Everything that can be refused is, before any file exists. */
    if ((cfg->enrich_on && cfg->dry_run && (st = check_geo_files(&cfg->enrich, err)) != SN_OK) ||
        (!cfg->dry_run && !cfg->annotate && (st = sn_engine_check_fds(err)) != SN_OK) ||
        (st = check_sinks(&s, err)) != SN_OK)
        goto out;
    if (cfg->enrich_on && !cfg->dry_run) {
        if ((st = sn_enricher_new(&s.loop, &cfg->enrich, emit_final, &s, &s.enricher, err)) !=
            SN_OK)
            goto out;
        sn_enricher_on_idle(s.enricher, on_enricher_idle, &s);
    }
    if ((st = begin_sinks(&s, err)) != SN_OK)
        goto out;

    if ((st = plan_targets(&s, &order, &s.n_order, err)) != SN_OK)
        goto out;
    s.order = order;
    uint64_t seed = cfg->engine.seed ? cfg->engine.seed : uv_hrtime();
    shuffle(order, s.n_order, seed);

    s.start_ns = s.last_ns = uv_hrtime();
    s.engine_done = true;
    /* Before the first result: starting the engine already sends, and a send can
     * end an attempt at once (a refused datagram, an ICMP error read with the
     * transmit stamps right after sendmmsg), so rows and a signal may come
     * before uv_run. The callbacks run inside uv_run either way. */
    uv_signal_start(&s.sigint, on_signal, SIGINT);
    uv_signal_start(&s.sigterm, on_signal, SIGTERM);
    uv_signal_start(&s.sighup, on_signal, SIGHUP);
    if (cfg->dry_run) {
        for (size_t i = 0; i < s.n_order; i++) {
            sn_result_t r = {.target = sn_targets_at(s.ts, order[i])};
            emit(&s, &r);
        }
    } else if (cfg->annotate) {
        s.feeding = s.n_order > 0;
        if (s.feeding)
            uv_idle_start(&s.feeder, on_feed);
    } else if (s.n_order > 0) {
        s.engine_done = false;
        if ((st = start_engine(&s, seed, err)) != SN_OK)
            s.engine_done = true;
    }
    if (st == SN_OK) {
        uv_timer_start(&s.tick, on_tick, 1000, 1000);
        check_finish(&s);
        uv_run(&s.loop, UV_RUN_DEFAULT);
    }
    if (s.engine != NULL && !s.engine_done)
        sn_engine_get_stats(s.engine, &s.final);
    sum->sent = s.final.sent;
    sum->replies = s.final.replies;
    sum->tcp_timeout_ms = s.final.tcp_timeout_ms;
    sum->timeout_ms = cfg->engine.timeout_ms;
    sum->probed = cfg->dry_run || cfg->annotate ? 0 : s.final.targets_done;
    sum->seconds = (double)(uv_hrtime() - s.start_ns) / 1e9;
    if (st == SN_OK && s.write_status != SN_OK) {
        st = s.write_status;
        *err = s.write_err;
    }

out:
    /* Whatever failed, the loop's handles close and what was measured is written. */
    sn_engine_free(s.engine);
    sn_enricher_free(s.enricher);
    uv_close((uv_handle_t *)&s.sigint, NULL);
    uv_close((uv_handle_t *)&s.sigterm, NULL);
    uv_close((uv_handle_t *)&s.sighup, NULL);
    uv_close((uv_handle_t *)&s.grace, NULL);
    uv_close((uv_handle_t *)&s.tick, NULL);
    uv_close((uv_handle_t *)&s.finish, NULL);
    uv_close((uv_handle_t *)&s.feeder, NULL);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    uv_loop_close(&s.loop);
    /* Every sink ends, once, in reverse order: the files are committed (an
     * interrupted scan's too: its report says so), the history's run is ended. */
    sn_sink_end_t end = {.interrupted = sum->interrupted,
                         .targets = sum->distinct - sum->other_shards,
                         .started_at = s.started_at,
                         .ended_at = (int64_t)time(NULL)};
    sn_sinks_close(cfg->sinks + s.n_begun, cfg->n_sinks - s.n_begun, &end, &st, err);
    end.begun = true;
    sn_sinks_close(cfg->sinks, s.n_begun, &end, &st, err);
    free(s.sink_failed);
    free(order);
    sn_blocklist_free(s.bl);
    sn_targets_free(s.ts);
    return st;
}

void sn_scan_print_summary(FILE *f, const sn_scan_summary_t *s, const char *output)
{
    double tps = s->seconds > 0 ? (double)s->probed / s->seconds : 0;
    char refused[64] = "";
    if (s->input_errors > 0)
        snprintf(refused, sizeof refused, " Inputs refused: %llu (see above).",
                 (unsigned long long)s->input_errors);
    char shard[96] = "";
    if (s->other_shards > 0)
        snprintf(shard, sizeof shard, " Left to the other shards: %llu of the distinct targets.",
                 (unsigned long long)s->other_shards);
    char tcp_to[128] = "";
    if (s->tcp_timeout_ms > 0 && s->tcp_timeout_ms < s->timeout_ms)
        snprintf(
            tcp_to, sizeof tcp_to,
            " TCP handshakes waited %u ms at the end (learned from the answers; --timeout %u).",
            s->tcp_timeout_ms, s->timeout_ms);
    char incomplete[96];
    snprintf(incomplete, sizeof incomplete,
             "; %llu cut short are written incomplete (exit status 3).",
             (unsigned long long)s->incomplete);
    fprintf(
        f,
        "snprobe: %llu distinct targets from %llu input%s (%llu entries standing for %llu "
        "listings, %llu bad entries skipped, %llu blocked); probed %llu in %.2f s (%.0f targets/s, "
        "%llu probes sent). "
        "Alive: UDP %llu, TCP %llu (%llu on their own port, %llu on a fallback port); "
        "super-node eligible %llu; UDP replies from another address or port %llu; "
        "PTR names for %llu, country for %llu.%s%s%s%s%s%s%s\n",
        (unsigned long long)s->distinct, (unsigned long long)s->inputs, s->inputs == 1 ? "" : "s",
        (unsigned long long)s->entries, (unsigned long long)s->listings, (unsigned long long)s->bad,
        (unsigned long long)s->blocked, (unsigned long long)s->probed, s->seconds, tps,
        (unsigned long long)s->sent, (unsigned long long)s->udp_alive,
        (unsigned long long)s->tcp_alive, (unsigned long long)s->tcp_alive_own,
        (unsigned long long)s->tcp_alive_fallback, (unsigned long long)s->eligible,
        (unsigned long long)s->reply_other, (unsigned long long)s->rdns_ok,
        (unsigned long long)s->geo_known, tcp_to, shard, refused,
        s->interrupted ? " Interrupted: targets not yet started are not in the results" : "",
        s->interrupted ? incomplete : "", output && strcmp(output, "-") != 0 ? " Results: " : "",
        output && strcmp(output, "-") != 0 ? output : "");
}
