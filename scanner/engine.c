/*
 * Engine core: the job pool, the pump that turns tokens into sends, the one
 * retry and fallback policy, and the end of a target. The transports (udp.c,
 * tcp.c, behind scanner/transport.h) report every attempt's end through one
 * upcall, attempt_done; they never touch a job.
 *
 * Flow of one target: a free job slot is taken, the job's UDP and TCP probes
 * are put on the ready rings, the pump sends them as tokens allow, the
 * transports report outcomes (a reply, an error, or a deadline passed), the
 * policy queues a retry or a fallback port or settles the probe, and when no
 * transport is pending the result goes to the caller and the slot is freed.
 * Nothing is allocated per probe.
 */
#include "scanner/engine_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static uint64_t system_mono(void *ud)
{
    (void)ud;
    return uv_hrtime();
}

static uint64_t system_real(void *ud)
{
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const sn_clock_t sn_clock_system = {.mono_ns = system_mono, .real_ns = system_real, .ud = NULL};

/* ---- small containers ---- */

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

sn_status_t sn_engine_check_fds(sn_error_t *err)
{
    rlim_t nofile = raise_nofile();
    if (nofile < SN_ENGINE_MIN_NOFILE)
        return sn_error_set(err, SN_ELIMIT,
                            "the open-file limit is %llu; a scan needs at least %d (raise it: "
                            "ulimit -n %d)",
                            (unsigned long long)nofile, SN_ENGINE_MIN_NOFILE, SN_ENGINE_MIN_NOFILE);
    return SN_OK;
}

static void on_timer(uv_timer_t *t);
static void on_idle(uv_idle_t *h);
static void attempt_done(void *engine, const sn_attempt_end_t *end);
static void prefetch_job(void *engine, uint32_t j, int stage);
static void sn_engine_pump(sn_engine_t *e);
static void transport_closed(void *engine);
static void engine_handle_closed(sn_engine_t *e);

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
    e->clock = cfg->clock != NULL ? cfg->clock : &sn_clock_system;
    e->rng = sn_rng_seeded(cfg->seed);
    /* Handles first: from here on every failure path is sn_engine_free. */
    uv_timer_init(loop, &e->timer);
    uv_idle_init(loop, &e->idle);
    e->timer.data = e->idle.data = e;
    e->handles_open = 2;

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
    /* The field values have a side array, only when a probe of the plan declares
     * fields: the product's probes declare none, and 256 bytes a job would double
     * the pool's memory. */
    bool fields = (cfg->udp_probe != NULL && cfg->udp_probe->n_fields > 0) ||
                  (cfg->tcp_probe != NULL && cfg->tcp_probe->n_fields > 0);
    if (fields && (e->values = calloc(2 * (size_t)n_jobs, sizeof *e->values)) == NULL) {
        sn_engine_free(e);
        return sn_error_set(err, SN_ENOMEM, "out of memory for %u jobs", n_jobs);
    }
    for (uint32_t i = 0; i < n_jobs; i++)
        e->jobs[i].next_free = i + 1 < n_jobs ? i + 1 : SN_NO_INDEX;
    e->free_job = 0;

    rlim_t nofile = raise_nofile();
    /* What is left once the loop, UDP, DNS and the output files have theirs. */
    uint32_t n_conns = nofile > 512                     ? (uint32_t)(nofile - 256)
                       : nofile >= SN_ENGINE_MIN_NOFILE ? (uint32_t)(nofile - 48)
                                                        : 1;
    if (n_conns > n_jobs)
        n_conns = n_jobs;
    e->st.tcp_cap = cfg->tcp_probe != NULL ? n_conns : 0;

    sn_status_t st = SN_OK;
    const sn_probe_t *probe[T_COUNT] = {cfg->udp_probe, cfg->tcp_probe};
    const sn_transport_ops_t *ops[T_COUNT] = {
        cfg->udp_transport != NULL ? cfg->udp_transport : &sn_transport_udp,
        cfg->tcp_transport != NULL ? cfg->tcp_transport : &sn_transport_tcp};
    for (int t = 0; t < T_COUNT && st == SN_OK; t++) {
        if (probe[t] == NULL)
            continue;
        sn_transport_env_t env = {.loop = loop,
                                  .probe = probe[t],
                                  .clock = e->clock,
                                  .n_jobs = n_jobs,
                                  .idx_bits = e->idx_bits,
                                  .timeout_ns = (uint64_t)cfg->timeout_ms * 1000000ull,
                                  .fixed_timeout = cfg->fixed_timeout,
                                  .max_conns = n_conns,
                                  .st = &e->st,
                                  .done = attempt_done,
                                  .prefetch = prefetch_job,
                                  .engine = e,
                                  .closed = transport_closed};
        int handles = 0;
        st = ops[t]->init(&env, &e->tp[t].state, &handles, err);
        if (e->tp[t].state != NULL) {
            e->tp[t].ops = ops[t]; /* from here on, close() frees what init made */
            e->handles_open += handles;
        }
    }
    if (st != SN_OK) {
        sn_engine_free(e);
        return st;
    }
    *out = e;
    return SN_OK;
}

/* The last handle closed (engine timer, idle, or a transport's) frees the memory. */
static void engine_handle_closed(sn_engine_t *e)
{
    if (--e->handles_open > 0)
        return;
    free(e->jobs);
    free(e->values);
    free(e->udp_ready.v);
    free(e->tcp_ready.v);
    free(e);
}

static void on_handle_closed(uv_handle_t *h)
{
    engine_handle_closed(h->data);
}

static void transport_closed(void *engine)
{
    engine_handle_closed(engine);
}

void sn_engine_free(sn_engine_t *e)
{
    if (e == NULL || e->closing)
        return;
    e->closing = 1;
    for (int t = 0; t < T_COUNT; t++)
        if (e->tp[t].ops != NULL)
            e->tp[t].ops->close(e->tp[t].state);
    /* Close callbacks run on the loop's next turn; the last one frees the memory. */
    uv_close((uv_handle_t *)&e->timer, on_handle_closed);
    uv_close((uv_handle_t *)&e->idle, on_handle_closed);
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
    if (e->done != NULL && e->st.inflight == 0 && (e->stopping || e->next_target == e->n_targets)) {
        void (*done)(void *) = e->done;
        e->done = NULL;
        done(e->cfg.ud);
    }
}

static void sn_engine_job_udp_done(sn_engine_t *e, uint32_t j)
{
    job_t *job = &e->jobs[j];
    if (job->udp_seq > 0)
        e->tp[T_UDP].ops->cancel(e->tp[T_UDP].state, j);
    if (--job->pending == 0)
        finish_job(e, j);
}

static void sn_engine_job_tcp_done(sn_engine_t *e, uint32_t j)
{
    job_t *job = &e->jobs[j];
    if (--job->pending == 0)
        finish_job(e, j);
}

static void sn_engine_requeue_udp(sn_engine_t *e, uint32_t j)
{
    if (jring_push(&e->udp_ready, e->jobs, j) != 0) {
        e->jobs[j].res.udp.outcome = SN_OUTCOME_ERROR; /* out of memory */
        sn_engine_job_udp_done(e, j);
    }
}

/*
 * The one retry and fallback policy, for both transports: what follows a
 * failed attempt is a retry on the same port (after a timeout, while retries
 * remain), else the next fallback port (TCP), else the end of the probe with
 * the outcome on the own port. Stopping ends the probe with what it has.
 */
static void attempt_failed(sn_engine_t *e, uint32_t j, int t, sn_outcome_t o)
{
    job_t *job = &e->jobs[j];
    sn_probe_result_t *r = t == T_UDP ? &job->res.udp : &job->res.tcp;
    uint8_t *tries = t == T_UDP ? &job->udp_seq : &job->tcp_tries;
    uint8_t *first = t == T_UDP ? &job->udp_first : &job->tcp_first;
    unsigned n_fallback = t == T_TCP ? e->cfg.n_fallback : 0;
    uint8_t udp_port_idx = 0;
    uint8_t *port_idx = t == T_UDP ? &udp_port_idx : &job->tcp_port_idx;
    void (*probe_done)(sn_engine_t *, uint32_t) =
        t == T_UDP ? sn_engine_job_udp_done : sn_engine_job_tcp_done;
    /* UDP keeps its port: only TCP writes the own port back when it settles. */
    uint16_t own = job->res.target->addr.port;
    uint16_t settled_port = t == T_TCP ? own : r->port;

    if (*port_idx == 0)
        *first = (uint8_t)o;
    /* An attempt cut before its timeout (SN_OUTCOME_INCOMPLETE) said nothing:
     * it is treated as still due, so the probe ends `incomplete` below. */
    bool retry =
        (o == SN_OUTCOME_FILTERED && *tries <= e->cfg.retries) || o == SN_OUTCOME_INCOMPLETE;
    if (!retry) {
        /* Next fallback port that differs from the own port. */
        do {
            (*port_idx)++;
        } while (*port_idx <= n_fallback && e->cfg.fallback_ports[*port_idx - 1] == own);
        if (t == T_TCP)
            job->tcp_tries = 0;
        if (*port_idx > n_fallback) {
            r->outcome = *first;
            r->port = settled_port;
            probe_done(e, j);
            return;
        }
    }
    if (e->stopping || o == SN_OUTCOME_INCOMPLETE) {
        /* A retry or a fallback port is still due but will not be tried: what
         * the probe would have found is unknown, never `filtered`. */
        r->outcome = SN_OUTCOME_INCOMPLETE;
        r->port = settled_port;
        probe_done(e, j);
        return;
    }
    if (t == T_UDP) {
        /* Retry with the same token: a late reply to the first send still counts. */
        sn_engine_requeue_udp(e, j);
    } else if (jring_push(&e->tcp_ready, e->jobs, j) != 0) {
        r->outcome = SN_OUTCOME_ERROR; /* out of memory */
        sn_engine_job_tcp_done(e, j);
    }
}

/* Starts loading every cache line of job j, to be written. */
static void prefetch_job_lines(const sn_engine_t *e, uint32_t j)
{
    for (size_t off = 0; off < sizeof *e->jobs; off += 64)
        __builtin_prefetch((const char *)&e->jobs[j] + off, 1);
}

/* The transport's hint (sn_transport_env_t.prefetch): job j is about to end. */
static void prefetch_job(void *engine, uint32_t j, int stage)
{
    const sn_engine_t *e = engine;
    if (j >= e->n_jobs)
        return;
    if (stage == 0)
        prefetch_job_lines(e, j);
    else if (e->jobs[j].res.target != NULL)
        __builtin_prefetch(e->jobs[j].res.target);
}

/* The transports' upcall: an attempt ended (end), or an I/O batch did (NULL). */
static void attempt_done(void *engine, const sn_attempt_end_t *end)
{
    sn_engine_t *e = engine;
    if (end == NULL) {
        if (!e->closing)
            sn_engine_pump(e);
        return;
    }
    if (end->job >= e->n_jobs)
        return;
    job_t *job = &e->jobs[end->job];
    int t = end->transport == SN_TRANSPORT_UDP ? T_UDP : T_TCP;
    sn_probe_result_t *r = t == T_UDP ? &job->res.udp : &job->res.tcp;
    if (!job->active || job->gen != end->gen || r->outcome != SN_OUTCOME_NONE)
        return; /* the probe ended meanwhile: a late word */
    if (end->outcome != SN_OUTCOME_ALIVE) {
        attempt_failed(e, end->job, t, end->outcome);
        return;
    }
    r->outcome = SN_OUTCOME_ALIVE;
    r->rtt_us = end->rtt_us;
    if (end->values != NULL && e->values != NULL) {
        sn_field_values_t *v = &e->values[2 * (size_t)end->job + (size_t)t];
        *v = *end->values;
        *(t == T_UDP ? &job->res.udp_values : &job->res.tcp_values) = v;
    }
    if (t == T_UDP) {
        r->observed = end->observed;
        if (end->from.family != 0)
            r->reply_from = end->from;
    } else {
        r->port = end->port;
    }
    e->st.replies++;
    if (t == T_UDP)
        sn_engine_job_udp_done(e, end->job);
    else
        sn_engine_job_tcp_done(e, end->job);
}

static uint16_t tcp_current_port(const sn_engine_t *e, const job_t *job)
{
    if (job->tcp_port_idx == 0)
        return e->cfg.tcp_probe->default_port ? e->cfg.tcp_probe->default_port
                                              : job->res.target->addr.port;
    return e->cfg.fallback_ports[job->tcp_port_idx - 1];
}

/* The attempt job j's next send on transport t is. */
static sn_attempt_t attempt_of(const sn_engine_t *e, uint32_t j, int t)
{
    const job_t *job = &e->jobs[j];
    sn_attempt_t a = {.job = j, .gen = job->gen, .token = job->token, .dst = job->res.target->addr};
    if (t == T_UDP) {
        a.dst.port = job->udp_port;
        a.seq = job->udp_seq;
    } else {
        a.dst.port = tcp_current_port(e, job);
        a.seq = job->tcp_tries;
    }
    return a;
}

/*
 * Sends job j's next attempt on transport t. The attempt is counted before the
 * transport sees it (an attempt that fails at once is then reported as made),
 * and uncounted when the transport did not take it. Returns send's answer.
 */
static int send_attempt(sn_engine_t *e, uint32_t j, int t)
{
    job_t *job = &e->jobs[j];
    sn_attempt_t a = attempt_of(e, j, t);
    sn_probe_result_t *r = t == T_UDP ? &job->res.udp : &job->res.tcp;
    uint8_t *tries = t == T_UDP ? &job->udp_seq : &job->tcp_tries;
    (*tries)++;
    r->attempts++;
    int rc = e->tp[t].ops->send(e->tp[t].state, &a);
    if (rc == 0)
        return 0;
    (*tries)--;
    r->attempts--;
    if (rc < 0) {
        r->outcome = SN_OUTCOME_ERROR;
        if (t == T_UDP)
            sn_engine_job_udp_done(e, j);
        else
            sn_engine_job_tcp_done(e, j);
    }
    return rc;
}

static bool tport_ready(const sn_engine_t *e, int t, const sn_addr_t *dst)
{
    const tport_t *tp = &e->tp[t];
    return tp->ops->ready == NULL || tp->ops->ready(tp->state, dst);
}

/* Is the UDP ring's head waiting on a full socket? */
static bool udp_blocked(const sn_engine_t *e, uint32_t j)
{
    return !tport_ready(e, T_UDP, &e->jobs[j].res.target->addr);
}

/* The order's target at `ahead` starts from now. */
static const sn_target_t *target_ahead(const sn_engine_t *e, size_t ahead)
{
    size_t k = e->next_target + ahead;
    if (k >= e->n_targets)
        return NULL;
    return sn_targets_at(e->ts, e->order != NULL ? e->order[k] : k);
}

/*
 * What the next starts will touch is cold (the order is shuffled, the pool and the
 * transports' tables large): the target PREFETCH_AHEAD starts ahead, the job the next start
 * takes (ours and the transports'), and, for the target half as far ahead (whose record was
 * asked for then), the transports' slots for its address. Their loads start now, so that
 * those starts do not stall on them one by one.
 */
static void prefetch_starts(const sn_engine_t *e)
{
    const sn_target_t *far = target_ahead(e, PREFETCH_AHEAD);
    if (far != NULL)
        __builtin_prefetch(far);
    const sn_target_t *near = target_ahead(e, PREFETCH_AHEAD / 2);
    uint32_t j = e->free_job;
    if (j != SN_NO_INDEX)
        prefetch_job_lines(e, j);
    for (int t = 0; t < T_COUNT; t++) {
        const tport_t *tp = &e->tp[t];
        if (tp->ops == NULL || tp->ops->prefetch == NULL)
            continue;
        if (j != SN_NO_INDEX)
            tp->ops->prefetch(tp->state, j, NULL);
        if (near != NULL)
            tp->ops->prefetch(tp->state, UINT32_MAX, &near->addr);
    }
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
    prefetch_starts(e);

    uint32_t gen = job->gen;
    memset(job, 0, sizeof *job);
    job->gen = gen;
    job->active = 1;
    job->res.target = sn_targets_at(e->ts, ti);
    job->res.udp.probe = e->cfg.udp_probe;
    job->res.tcp.probe = e->cfg.tcp_probe;
    /* The token's random bits only need to be unpredictable to off-path spoofers. */
    job->token = ((uint64_t)j | (sn_rng_next(&e->rng) << e->idx_bits));
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
    for (int t = 0; t < T_COUNT; t++) {
        if (e->tp[t].ops == NULL)
            continue;
        uint64_t d = e->tp[t].ops->next_deadline(e->tp[t].state);
        if (d < next)
            next = d;
    }
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

static void sn_engine_pump(sn_engine_t *e)
{
    if (e->closing || !e->started)
        return;
    uint64_t now = sn_clock_mono(e->clock);
    for (int t = 0; t < T_COUNT; t++)
        if (e->tp[t].ops != NULL)
            e->tp[t].ops->expire(e->tp[t].state, now);

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
            } else if (!udp_blocked(e, en.job)) {
                jring_pop(&e->udp_ready);
                int rc = send_attempt(e, en.job, T_UDP);
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
            int rc = -1;
            if (live_tcp(e, en))
                rc = tport_ready(e, T_TCP, NULL) ? send_attempt(e, en.job, T_TCP) : SN_SEND_LATER;
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
    for (int t = 0; t < T_COUNT; t++)
        if (e->tp[t].ops != NULL && e->tp[t].ops->flush != NULL)
            e->tp[t].ops->flush(e->tp[t].state);
    if (e->closing)
        return; /* a result callback ended the scan */

    /* The loop ended on the token budget, with something still sendable? Then
     * either the batch cap was hit (come back after the loop has polled) or
     * the bucket is empty (come back when a token is due). */
    bool sendable =
        (e->udp_ready.len > 0 && !udp_blocked(e, e->udp_ready.v[e->udp_ready.head].job)) ||
        (e->tcp_ready.len > 0 && !tcp_full && tport_ready(e, T_TCP, NULL)) ||
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

sn_status_t sn_engine_start(sn_engine_t *e, const sn_targets_t *ts, const uint32_t *order, size_t n,
                            void (*done)(void *ud), sn_error_t *err)
{
    if (e->started)
        return sn_error_set(err, SN_EINVAL, "the engine was started already");
    e->ts = ts;
    e->order = order;
    e->n_targets = order != NULL ? n : sn_targets_count(ts);
    e->done = done;
    e->started = 1;
    e->st.targets_total = e->n_targets;
    sn_pace_init(&e->pace, e->cfg.rate, 0, sn_clock_mono(e->clock));
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
    /* Probes not sent yet will not be: an attempt, retry or fallback port
     * that is never made leaves the probe `incomplete`, whatever the earlier
     * attempts said. */
    while (e->udp_ready.len > 0) {
        jentry_t en = jring_pop(&e->udp_ready);
        if (!live_udp(e, en))
            continue;
        e->jobs[en.job].res.udp.outcome = SN_OUTCOME_INCOMPLETE;
        sn_engine_job_udp_done(e, en.job);
    }
    while (e->tcp_ready.len > 0) {
        jentry_t en = jring_pop(&e->tcp_ready);
        if (!live_tcp(e, en))
            continue;
        job_t *job = &e->jobs[en.job];
        job->res.tcp.outcome = SN_OUTCOME_INCOMPLETE;
        job->res.tcp.port = job->res.target->addr.port;
        sn_engine_job_tcp_done(e, en.job);
    }
    if (e->stopping >= 2) {
        /* Second signal: every probe in flight ends now. Deadlines already
         * passed are settled first (their silence had its whole timeout and
         * is filtered); every attempt still running is then cut before its
         * timeout and reported by its transport as `incomplete`. */
        uint64_t now = sn_clock_mono(e->clock);
        for (int t = 0; t < T_COUNT; t++)
            if (e->tp[t].ops != NULL)
                e->tp[t].ops->expire(e->tp[t].state, now);
        uint64_t far = UINT64_MAX / 2;
        for (int t = 0; t < T_COUNT; t++)
            if (e->tp[t].ops != NULL)
                e->tp[t].ops->expire(e->tp[t].state, far);
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
