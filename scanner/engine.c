/*
 * Engine core: the job pool, the pump that turns tokens into sends, the
 * deadline FIFOs and the end of a target. The transports (udp.c, tcp.c) call
 * back into sn_engine_job_*_done when a probe of theirs has an outcome.
 *
 * Flow of one target: a free job slot is taken, the job's UDP and TCP probes
 * are put on the ready rings, the pump sends them as tokens allow, the
 * transports record outcomes (or the deadline FIFOs time them out and queue a
 * retry or a fallback port), and when no transport is pending the result goes
 * to the caller and the slot is freed. Nothing is allocated per probe.
 */
#include "scanner/engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

uint64_t sn_now_ns(void)
{
    return uv_hrtime();
}

uint64_t sn_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- small containers ---- */

int sn_dlq_push(dlq_t *q, uint32_t id, uint32_t gen, uint64_t at_ns)
{
    if (q->len == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 4096;
        deadline_t *nv = malloc(ncap * sizeof *nv);
        if (nv == NULL)
            return -1;
        for (size_t i = 0; i < q->len; i++)
            nv[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = nv;
        q->cap = ncap;
        q->head = 0;
    }
    q->v[(q->head + q->len) % q->cap] = (deadline_t){id, gen, at_ns};
    q->len++;
    return 0;
}

static int jring_init(jring_t *r, size_t cap)
{
    r->v = malloc(cap * sizeof *r->v);
    r->cap = cap;
    r->head = r->len = 0;
    return r->v != NULL ? 0 : -1;
}

static int jring_grow(jring_t *r)
{
    size_t ncap = r->cap * 2;
    jentry_t *nv = malloc(ncap * sizeof *nv);
    if (nv == NULL)
        return -1;
    for (size_t i = 0; i < r->len; i++)
        nv[i] = r->v[(r->head + i) % r->cap];
    free(r->v);
    r->v = nv;
    r->cap = ncap;
    r->head = 0;
    return 0;
}

/* Appends job j as it is now. Out of memory: the entry is lost and the caller told. */
static int jring_push(jring_t *r, const job_t *jobs, uint32_t j)
{
    if (r->len == r->cap && jring_grow(r) != 0)
        return -1;
    r->v[(r->head + r->len) % r->cap] = (jentry_t){j, jobs[j].gen};
    r->len++;
    return 0;
}

/* Puts an entry back at the head (a send that has to wait for back-pressure). */
static void jring_unpop(jring_t *r, jentry_t en)
{
    if (r->len == r->cap && jring_grow(r) != 0)
        return; /* cannot happen: the entry was just popped */
    r->head = (r->head + r->cap - 1) % r->cap;
    r->v[r->head] = en;
    r->len++;
}

static jentry_t jring_pop(jring_t *r)
{
    jentry_t en = r->v[r->head];
    r->head = (r->head + 1) % r->cap;
    r->len--;
    return en;
}

/* Is a ring entry still wanted: same job, its transport not finished meanwhile? */
static bool live_udp(const sn_engine_t *e, jentry_t en)
{
    const job_t *job = &e->jobs[en.job];
    return job->active && job->gen == en.gen && job->res.udp.outcome == SN_OUTCOME_NONE;
}

static bool live_tcp(const sn_engine_t *e, jentry_t en)
{
    const job_t *job = &e->jobs[en.job];
    return job->active && job->gen == en.gen && job->res.tcp.outcome == SN_OUTCOME_NONE;
}

/* xorshift64*: tokens need to be unpredictable to off-path spoofers, not cryptographic. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

/* ---- lifecycle ---- */

static unsigned bits_for(uint32_t n)
{
    unsigned b = 0;
    while ((1ull << b) < n)
        b++;
    return b;
}

/* Raises the soft open-file limit to the hard one; returns the new soft limit. */
static rlim_t raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur;
}

static void on_timer(uv_timer_t *t);
static void on_idle(uv_idle_t *h);

sn_status_t sn_engine_new(uv_loop_t *loop, const sn_engine_cfg_t *cfg, sn_engine_t **out,
                          sn_error_t *err)
{
    *out = NULL;
    if (cfg->udp_probe == NULL && cfg->tcp_probe == NULL)
        return sn_error_set(err, SN_EINVAL, "the probe plan is empty");
    if (cfg->udp_probe != NULL && cfg->udp_probe->transport != SN_TRANSPORT_UDP)
        return sn_error_set(err, SN_EINVAL, "probe %s is not a UDP probe", cfg->udp_probe->name);
    if (cfg->tcp_probe != NULL && cfg->tcp_probe->transport != SN_TRANSPORT_TCP)
        return sn_error_set(err, SN_EINVAL, "probe %s is not a TCP probe", cfg->tcp_probe->name);
    if (cfg->timeout_ms == 0)
        return sn_error_set(err, SN_EINVAL, "the timeout must be at least 1 ms");
    if (cfg->retries > 20)
        return sn_error_set(err, SN_EINVAL, "at most 20 retries");

    sn_engine_t *e = calloc(1, sizeof *e);
    if (e == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    e->loop = loop;
    e->cfg = *cfg;
    e->epfd = -1;
    /* Handles first: from here on every failure path is sn_engine_free. */
    uv_timer_init(loop, &e->timer);
    uv_idle_init(loop, &e->idle);
    e->timer.data = e->idle.data = e;
    e->handles_open = 2;
    e->timeout_ns = (uint64_t)cfg->timeout_ms * 1000000ull;

    /* Job pool: the token carries the job index, so a UDP probe with a short
     * token bounds how many targets can be in flight at once. */
    uint32_t n_jobs = cfg->max_inflight ? cfg->max_inflight : 1;
    if (n_jobs > (1u << 22))
        n_jobs = 1u << 22;
    if (cfg->udp_probe != NULL && cfg->udp_probe->token_bits < 22 &&
        n_jobs > (1u << cfg->udp_probe->token_bits))
        n_jobs = 1u << cfg->udp_probe->token_bits;
    e->n_jobs = n_jobs;
    e->idx_bits = bits_for(n_jobs);
    e->jobs = calloc(n_jobs, sizeof *e->jobs);
    if (e->jobs == NULL || jring_init(&e->udp_ready, n_jobs) || jring_init(&e->tcp_ready, n_jobs)) {
        sn_engine_free(e);
        return sn_error_set(err, SN_ENOMEM, "out of memory for %u jobs", n_jobs);
    }
    for (uint32_t i = 0; i < n_jobs; i++)
        e->jobs[i].next_free = i + 1 < n_jobs ? i + 1 : SN_NO_INDEX;
    e->free_job = 0;
    if (cfg->udp_probe != NULL) {
        unsigned b = cfg->udp_probe->token_bits;
        e->token_mask = b >= 64 ? UINT64_MAX : (1ull << b) - 1;
    }

    rlim_t nofile = raise_nofile();
    e->n_conns = nofile > 512 ? (uint32_t)(nofile - 256) : 64;
    if (e->n_conns > n_jobs)
        e->n_conns = n_jobs;
    e->st.tcp_cap = cfg->tcp_probe != NULL ? e->n_conns : 0;

    sn_status_t st = SN_OK;
    if (cfg->udp_probe != NULL)
        st = sn_udp_init(e, err);
    if (st == SN_OK && cfg->tcp_probe != NULL)
        st = sn_tcp_init(e, err);
    if (st != SN_OK) {
        sn_engine_free(e);
        return st;
    }
    *out = e;
    return SN_OK;
}

void sn_engine_handle_closed(uv_handle_t *h)
{
    sn_engine_t *e = h->data;
    if (--e->handles_open > 0)
        return;
    free(e->jobs);
    free(e->udp_ready.v);
    free(e->tcp_ready.v);
    free(e->udp_dl.v);
    free(e->tcp_dl.v);
    free(e->udp_table);
    free(e->rx_buf);
    free(e->udp4);
    free(e->udp6);
    free(e->conns);
    free(e);
}

void sn_engine_free(sn_engine_t *e)
{
    if (e == NULL || e->closing)
        return;
    e->closing = 1;
    sn_udp_close(e);
    sn_tcp_close(e);
    /* Close callbacks run on the loop's next turn; the last one frees the memory. */
    uv_close((uv_handle_t *)&e->timer, sn_engine_handle_closed);
    uv_close((uv_handle_t *)&e->idle, sn_engine_handle_closed);
}

/* ---- targets and jobs ---- */

static void finish_job(sn_engine_t *e, uint32_t j)
{
    job_t *job = &e->jobs[j];
    if (e->cfg.on_result != NULL)
        e->cfg.on_result(e->cfg.ud, &job->res);
    job->active = 0;
    job->gen++;
    job->next_free = e->free_job;
    e->free_job = j;
    e->st.inflight--;
    e->st.targets_done++;
    if (e->done != NULL && e->st.inflight == 0 &&
        (e->stopping || e->next_target == e->n_targets)) {
        void (*done)(void *) = e->done;
        e->done = NULL;
        done(e->cfg.ud);
    }
}

void sn_engine_job_udp_done(sn_engine_t *e, uint32_t j)
{
    job_t *job = &e->jobs[j];
    sn_udp_forget(e, j);
    if (--job->pending == 0)
        finish_job(e, j);
}

void sn_engine_job_tcp_done(sn_engine_t *e, uint32_t j)
{
    job_t *job = &e->jobs[j];
    if (--job->pending == 0)
        finish_job(e, j);
}

/* Decides what follows a failed TCP attempt: a retry, the next fallback port, or the end. */
void sn_engine_tcp_attempt_failed(sn_engine_t *e, uint32_t j, sn_outcome_t o)
{
    job_t *job = &e->jobs[j];
    sn_probe_result_t *r = &job->res.tcp;
    if (job->tcp_port_idx == 0)
        job->tcp_first = (uint8_t)o;
    bool retry = o == SN_OUTCOME_FILTERED && job->tcp_tries <= e->cfg.retries;
    if (!retry) {
        /* Next fallback port that differs from the own port. */
        uint16_t own = job->res.target->addr.port;
        do {
            job->tcp_port_idx++;
        } while (job->tcp_port_idx <= e->cfg.n_fallback &&
                 e->cfg.fallback_ports[job->tcp_port_idx - 1] == own);
        job->tcp_tries = 0;
        if (job->tcp_port_idx > e->cfg.n_fallback) {
            r->outcome = job->tcp_first;
            r->port = own;
            sn_engine_job_tcp_done(e, j);
            return;
        }
    }
    if (e->stopping) {
        r->outcome = job->tcp_first;
        r->port = job->res.target->addr.port;
        sn_engine_job_tcp_done(e, j);
        return;
    }
    if (jring_push(&e->tcp_ready, e->jobs, j) != 0) {
        r->outcome = SN_OUTCOME_ERROR; /* out of memory */
        sn_engine_job_tcp_done(e, j);
    }
}

void sn_engine_requeue_udp(sn_engine_t *e, uint32_t j)
{
    if (jring_push(&e->udp_ready, e->jobs, j) != 0) {
        e->jobs[j].res.udp.outcome = SN_OUTCOME_ERROR; /* out of memory */
        sn_engine_job_udp_done(e, j);
    }
}

uint16_t sn_tcp_current_port(const sn_engine_t *e, const job_t *job)
{
    if (job->tcp_port_idx == 0)
        return e->cfg.tcp_probe->default_port ? e->cfg.tcp_probe->default_port
                                              : job->res.target->addr.port;
    return e->cfg.fallback_ports[job->tcp_port_idx - 1];
}

static bool start_target(sn_engine_t *e)
{
    if (e->stopping || e->paused || e->next_target >= e->n_targets || e->free_job == SN_NO_INDEX)
        return false;
    size_t ti = e->order != NULL ? e->order[e->next_target] : e->next_target;
    e->next_target++;
    uint32_t j = e->free_job;
    job_t *job = &e->jobs[j];
    e->free_job = job->next_free;

    uint32_t gen = job->gen;
    memset(job, 0, sizeof *job);
    job->gen = gen;
    job->active = 1;
    job->res.target = sn_targets_at(e->ts, ti);
    job->res.udp.probe = e->cfg.udp_probe;
    job->res.tcp.probe = e->cfg.tcp_probe;
    job->token = ((uint64_t)j | (next_random(&e->cfg.seed) << e->idx_bits));
    e->st.inflight++;
    e->st.targets_started++;
    if (e->cfg.udp_probe != NULL) {
        job->pending++;
        job->udp_port = e->cfg.udp_probe->default_port ? e->cfg.udp_probe->default_port
                                                       : job->res.target->addr.port;
        job->res.udp.port = job->udp_port;
    }
    if (e->cfg.tcp_probe != NULL) {
        job->pending++;
        job->res.tcp.port = job->res.target->addr.port;
    }
    /* Queued after both are counted, so that a failure cannot finish the job early. */
    if (e->cfg.udp_probe != NULL)
        sn_engine_requeue_udp(e, j);
    if (e->cfg.tcp_probe != NULL && job->active && job->gen == gen &&
        jring_push(&e->tcp_ready, e->jobs, j) != 0) {
        job->res.tcp.outcome = SN_OUTCOME_ERROR;
        sn_engine_job_tcp_done(e, j);
    }
    return true;
}

/* ---- the pump ---- */

/*
 * One timer serves both waits: the earliest deadline, and (when the pump
 * stopped for want of tokens, not of capacity) the next token. Waiting for
 * capacity needs no timer: a completion pumps again.
 */
static void arm_timer(sn_engine_t *e, uint64_t now, bool token_limited)
{
    uint64_t next = UINT64_MAX;
    if (e->udp_dl.len > 0)
        next = e->udp_dl.v[e->udp_dl.head].at_ns;
    if (e->tcp_dl.len > 0 && e->tcp_dl.v[e->tcp_dl.head].at_ns < next)
        next = e->tcp_dl.v[e->tcp_dl.head].at_ns;
    if (token_limited && !e->idle_on) {
        uint64_t w = now + sn_pace_wait_ns(&e->pace, now);
        if (w < next)
            next = w;
    }
    if (next == UINT64_MAX) {
        uv_timer_stop(&e->timer);
        return;
    }
    uint64_t ms = next > now ? (next - now + 999999) / 1000000 : 0;
    uv_timer_start(&e->timer, on_timer, ms, 0);
}

static void set_idle(sn_engine_t *e, bool on)
{
    if (on && !e->idle_on)
        uv_idle_start(&e->idle, on_idle);
    else if (!on && e->idle_on)
        uv_idle_stop(&e->idle);
    e->idle_on = on;
}

void sn_engine_pump(sn_engine_t *e)
{
    if (e->closing || !e->started)
        return;
    uint64_t now = sn_now_ns();
    if (e->cfg.udp_probe != NULL)
        sn_udp_expire(e, now);
    if (e->cfg.tcp_probe != NULL)
        sn_tcp_expire(e, now);

    uint64_t avail = e->stopping ? 0 : sn_pace_available(&e->pace, now, PUMP_MAX);
    uint64_t sent = 0;
    bool tcp_full = false;
    while (sent < avail) {
        bool progress = false;
        if (e->udp_ready.len > 0) {
            jentry_t en = e->udp_ready.v[e->udp_ready.head];
            if (!live_udp(e, en)) {
                jring_pop(&e->udp_ready); /* answered while its retry waited */
                progress = true;
            } else if (!sn_udp_blocked(e, en.job)) {
                jring_pop(&e->udp_ready);
                int rc = sn_udp_queue(e, en.job);
                if (rc > 0)
                    jring_unpop(&e->udp_ready, en); /* the socket is full: it says when */
                else
                    progress = true;
                if (rc == 0)
                    sent++;
            }
        }
        if (sent < avail && e->tcp_ready.len > 0 && !tcp_full) {
            jentry_t en = jring_pop(&e->tcp_ready);
            int rc = live_tcp(e, en) ? sn_tcp_connect(e, en.job) : -1;
            if (rc > 0) {
                jring_unpop(&e->tcp_ready, en);
                tcp_full = true; /* back-pressure: wait for a connection to end */
            } else {
                if (rc == 0)
                    sent++;
                progress = true;
            }
        }
        if (!progress && !start_target(e))
            break;
    }
    sn_pace_consume(&e->pace, sent);
    e->st.sent += sent;
    if (e->cfg.udp_probe != NULL)
        sn_udp_flush(e);
    if (e->closing)
        return; /* a result callback ended the scan */

    /* The loop ended on the token budget, with something still sendable? Then
     * either the batch cap was hit (come back after the loop has polled) or
     * the bucket is empty (come back when a token is due). */
    bool sendable = (e->udp_ready.len > 0 && !sn_udp_blocked(e, e->udp_ready.v[e->udp_ready.head].job)) ||
                    (e->tcp_ready.len > 0 && !tcp_full && e->tcp_inflight < e->st.tcp_cap) ||
                    (!e->paused && e->next_target < e->n_targets && e->free_job != SN_NO_INDEX);
    bool token_limited = !e->stopping && sent == avail && sendable;
    set_idle(e, token_limited && avail == PUMP_MAX);
    arm_timer(e, now, token_limited);
}

static void on_timer(uv_timer_t *t)
{
    sn_engine_pump(t->data);
}

static void on_idle(uv_idle_t *h)
{
    sn_engine_pump(h->data);
}

sn_status_t sn_engine_start(sn_engine_t *e, const sn_targets_t *ts, const uint32_t *order,
                            size_t n, void (*done)(void *ud), sn_error_t *err)
{
    if (e->started)
        return sn_error_set(err, SN_EINVAL, "the engine was started already");
    e->ts = ts;
    e->order = order;
    e->n_targets = order != NULL ? n : sn_targets_count(ts);
    e->done = done;
    e->started = 1;
    e->st.targets_total = e->n_targets;
    sn_pace_init(&e->pace, e->cfg.rate, 0, sn_now_ns());
    if (e->n_targets == 0 || e->stopping) { /* nothing to do, or stopped before starting */
        if (done != NULL) {
            e->done = NULL;
            done(e->cfg.ud);
        }
        return SN_OK;
    }
    sn_engine_pump(e);
    return SN_OK;
}

void sn_engine_stop(sn_engine_t *e)
{
    if (e == NULL || e->closing)
        return;
    e->stopping++;
    /* Probes not sent yet will not be: their transports end with what they have. */
    while (e->udp_ready.len > 0) {
        jentry_t en = jring_pop(&e->udp_ready);
        if (!live_udp(e, en))
            continue;
        job_t *job = &e->jobs[en.job];
        if (job->res.udp.attempts > 0)
            job->res.udp.outcome = SN_OUTCOME_FILTERED;
        sn_engine_job_udp_done(e, en.job);
    }
    while (e->tcp_ready.len > 0) {
        jentry_t en = jring_pop(&e->tcp_ready);
        if (!live_tcp(e, en))
            continue;
        job_t *job = &e->jobs[en.job];
        job->res.tcp.outcome = job->res.tcp.attempts > 0 ? job->tcp_first : SN_OUTCOME_NONE;
        sn_engine_job_tcp_done(e, en.job);
    }
    if (e->stopping >= 2) {
        /* Second signal: every probe in flight ends now, as timed out. */
        uint64_t far = UINT64_MAX / 2;
        sn_udp_expire(e, far);
        sn_tcp_abort_all(e);
    }
    if (e->done != NULL && e->st.inflight == 0) {
        void (*done)(void *) = e->done;
        e->done = NULL;
        done(e->cfg.ud);
        return;
    }
    sn_engine_pump(e);
}

void sn_engine_pause(sn_engine_t *e, bool paused)
{
    if (e == NULL || e->paused == paused)
        return;
    e->paused = paused;
    if (!paused)
        sn_engine_pump(e);
}

void sn_engine_get_stats(const sn_engine_t *e, sn_engine_stats_t *st)
{
    *st = e->st;
}
