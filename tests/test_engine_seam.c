/*
 * The engine's policy against a fake transport on a fake clock: no socket, no
 * root, no waiting. The fake transports (one per transport kind) implement
 * scanner/transport.h from a table of rules (what the node on a port does:
 * answer after so many milliseconds, refuse, or stay silent), and the test
 * moves the clock itself, a millisecond per step, so timeouts, retries, the
 * TCP fallback ports and pacing are decided on fake time alone.
 *
 * tests/test_engine.c runs the same engine against the real transports and the
 * swarm on loopback; this file checks what the engine decides, that one checks
 * what the sockets do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "data/result.h"
#include "data/targets.h"
#include "probes/probe.h"
#include "scanner/engine.h"
#include "scanner/transport.h"

#define MS 1000000ull
#define MAX_ATTEMPTS 256
#define MAX_TARGETS 64
#define MAX_RULES 8

/* ---- the fake clock ---- */

static uint64_t fake_now;

static uint64_t fake_mono(void *ud)
{
    (void)ud;
    return fake_now;
}

static const sn_clock_t fake_clock = {.mono_ns = fake_mono, .real_ns = fake_mono, .ud = NULL};

/* ---- the fake transports ---- */

typedef enum { B_SILENT = 0, B_ALIVE, B_CLOSED, B_UNREACHABLE } beh_t;

/* What the node on a port does with an attempt whose seq is at least min_seq
 * (and at most max_seq); other attempts meet silence. */
typedef struct rule {
    uint16_t port;
    beh_t beh;
    uint32_t delay_ms;
    int min_seq, max_seq;
    bool other_port; /* the answer comes from port + 1 (a NAT in front) */
} rule_t;

typedef struct attempt {
    sn_attempt_t a;
    uint64_t sent_ns;
    uint64_t reply_at;   /* UINT64_MAX: no reply coming */
    uint64_t timeout_at; /* UINT64_MAX: the timeout was reported or is moot */
    beh_t beh;
    bool other_port;
} attempt_t;

typedef struct fake {
    sn_transport_env_t env;
    sn_transport_t kind;
    rule_t rules[MAX_RULES];
    size_t n_rules;
    attempt_t att[MAX_ATTEMPTS];
    size_t n_att;
    unsigned cancels;
    int fail_sends; /* this many sends fail at once (SN_SEND_FAILED) */
    /* This many accepted sends get no deadline (out of memory in sn_dlq_push)
     * and are reported as errors at the next flush, as udp.c does. */
    int lose_deadlines;
    sn_attempt_t lost[MAX_ATTEMPTS];
    size_t n_lost;
} fake_t;

static fake_t fakes[2]; /* [0] UDP, [1] TCP */

static fake_t *fake_of(sn_transport_t kind)
{
    return &fakes[kind == SN_TRANSPORT_UDP ? 0 : 1];
}

static sn_status_t fake_init(sn_transport_t kind, const sn_transport_env_t *env, void **state,
                             int *handles)
{
    fake_t *f = fake_of(kind);
    f->env = *env;
    f->kind = kind;
    *state = f;
    *handles = 0;
    return SN_OK;
}

static sn_status_t fake_init_udp(const sn_transport_env_t *env, void **state, int *handles,
                                 sn_error_t *err)
{
    (void)err;
    return fake_init(SN_TRANSPORT_UDP, env, state, handles);
}

static sn_status_t fake_init_tcp(const sn_transport_env_t *env, void **state, int *handles,
                                 sn_error_t *err)
{
    (void)err;
    return fake_init(SN_TRANSPORT_TCP, env, state, handles);
}

static const rule_t *rule_for(const fake_t *f, uint16_t port, uint8_t seq)
{
    for (size_t i = 0; i < f->n_rules; i++) {
        const rule_t *r = &f->rules[i];
        if (r->port == port && seq >= r->min_seq && seq <= r->max_seq)
            return r;
    }
    return NULL;
}

static int fake_send(void *state, const sn_attempt_t *a)
{
    fake_t *f = state;
    if (f->fail_sends > 0) {
        f->fail_sends--;
        return SN_SEND_FAILED;
    }
    assert_true(f->n_att < MAX_ATTEMPTS);
    attempt_t *t = &f->att[f->n_att++];
    memset(t, 0, sizeof *t);
    t->a = *a;
    t->sent_ns = fake_now;
    t->timeout_at = fake_now + f->env.timeout_ns;
    t->reply_at = UINT64_MAX;
    if (f->lose_deadlines > 0) {
        f->lose_deadlines--;
        t->timeout_at = UINT64_MAX; /* nothing would ever end this attempt but the flush */
        f->lost[f->n_lost++] = *a;
        return 0;
    }
    const rule_t *r = rule_for(f, a->dst.port, a->seq);
    if (r != NULL && r->beh != B_SILENT) {
        t->beh = r->beh;
        t->reply_at = fake_now + (uint64_t)r->delay_ms * MS;
        t->other_port = r->other_port;
    }
    return 0;
}

/* The most recent attempt of the same job and generation, or NULL. */
static const attempt_t *latest(const fake_t *f, const attempt_t *t)
{
    const attempt_t *l = NULL;
    for (size_t i = 0; i < f->n_att; i++)
        if (f->att[i].a.job == t->a.job && f->att[i].a.gen == t->a.gen)
            l = &f->att[i];
    return l;
}

/* Fires the earliest reply or timeout due by now, if any. */
static bool fire_one(fake_t *f, uint64_t now)
{
    attempt_t *best = NULL;
    bool is_reply = false;
    uint64_t at = UINT64_MAX;
    for (size_t i = 0; i < f->n_att; i++) {
        attempt_t *t = &f->att[i];
        if (t->reply_at <= now && t->reply_at < at) {
            best = t, is_reply = true, at = t->reply_at;
        }
        if (t->timeout_at <= now && t->timeout_at < at) {
            best = t, is_reply = false, at = t->timeout_at;
        }
    }
    if (best == NULL)
        return false;
    sn_attempt_end_t end = {.job = best->a.job, .gen = best->a.gen, .transport = f->kind};
    if (is_reply) {
        best->reply_at = UINT64_MAX;
        if (f->kind == SN_TRANSPORT_TCP)
            best->timeout_at = UINT64_MAX; /* a connection ends once */
        end.outcome = best->beh == B_ALIVE    ? SN_OUTCOME_ALIVE
                      : best->beh == B_CLOSED ? SN_OUTCOME_CLOSED
                                              : SN_OUTCOME_UNREACHABLE;
        end.rtt_us = (uint32_t)((now - best->sent_ns) / 1000);
        end.port = best->a.dst.port;
        if (best->other_port) {
            end.from = best->a.dst;
            end.from.port = (uint16_t)(best->a.dst.port + 1);
        }
    } else {
        best->timeout_at = UINT64_MAX;
        if (f->kind == SN_TRANSPORT_TCP)
            best->reply_at = UINT64_MAX;
        /* UDP: only the newest send's deadline counts (the real transport keeps one). */
        if (f->kind == SN_TRANSPORT_UDP && latest(f, best) != best)
            return true;
        end.outcome = SN_OUTCOME_FILTERED;
    }
    f->env.done(f->env.engine, &end);
    return true;
}

static void fake_expire(void *state, uint64_t now)
{
    fake_t *f = state;
    while (fire_one(f, now))
        ;
}

static uint64_t fake_next_deadline(const void *state)
{
    const fake_t *f = state;
    uint64_t at = UINT64_MAX;
    for (size_t i = 0; i < f->n_att; i++) {
        if (f->att[i].reply_at < at)
            at = f->att[i].reply_at;
        if (f->att[i].timeout_at < at)
            at = f->att[i].timeout_at;
    }
    return at;
}

static void fake_cancel(void *state, uint32_t job)
{
    fake_t *f = state;
    f->cancels++;
    for (size_t i = 0; i < f->n_att; i++) {
        if (f->att[i].a.job == job) {
            f->att[i].reply_at = UINT64_MAX;
            f->att[i].timeout_at = UINT64_MAX;
        }
    }
}

static void fake_flush(void *state)
{
    fake_t *f = state;
    while (f->n_lost > 0) {
        const sn_attempt_t *a = &f->lost[--f->n_lost];
        sn_attempt_end_t end = {
            .job = a->job, .gen = a->gen, .transport = f->kind, .outcome = SN_OUTCOME_ERROR};
        f->env.done(f->env.engine, &end);
    }
}

static void fake_close(void *state)
{
    (void)state;
}

static const sn_transport_ops_t fake_udp = {.name = "fake-udp",
                                            .transport = SN_TRANSPORT_UDP,
                                            .init = fake_init_udp,
                                            .send = fake_send,
                                            .ready = NULL,
                                            .flush = fake_flush,
                                            .expire = fake_expire,
                                            .next_deadline = fake_next_deadline,
                                            .cancel = fake_cancel,
                                            .close = fake_close};

static const sn_transport_ops_t fake_tcp = {.name = "fake-tcp",
                                            .transport = SN_TRANSPORT_TCP,
                                            .init = fake_init_tcp,
                                            .send = fake_send,
                                            .ready = NULL,
                                            .flush = fake_flush,
                                            .expire = fake_expire,
                                            .next_deadline = fake_next_deadline,
                                            .cancel = fake_cancel,
                                            .close = fake_close};

/* ---- the harness ---- */

typedef struct run {
    uv_loop_t loop;
    sn_targets_t *ts;
    size_t n;
    sn_engine_cfg_t cfg;
    sn_engine_t *eng;
    sn_result_t res[MAX_TARGETS];
    unsigned calls[MAX_TARGETS];
    size_t n_results;
    unsigned done_calls;
    size_t results_at_done;
    uint64_t stop_at_ns; /* 0: never stop */
    unsigned stops;      /* sn_engine_stop calls to make at stop_at_ns */
    uint64_t sends_at_stop;
    uint64_t stop_step;    /* the step at which the stops were made */
    uint64_t done_step;    /* the step at which done fired */
    uint64_t resume_at_ns; /* non-zero: start paused, resume then */
    uint64_t sends_at_resume;
    bool stop_before_start;
    uint32_t max_inflight_seen;
} run_t;

static void on_result(void *ud, const sn_result_t *r)
{
    run_t *s = ud;
    s->n_results++;
    sn_engine_stats_t st;
    sn_engine_get_stats(s->eng, &st);
    if (st.inflight > s->max_inflight_seen)
        s->max_inflight_seen = st.inflight;
    for (size_t i = 0; i < s->n; i++) {
        if (sn_targets_at(s->ts, i) == r->target) {
            s->calls[i]++;
            s->res[i] = *r;
            return;
        }
    }
    fail_msg("a result for a target not in the set");
}

static void on_done(void *ud)
{
    run_t *s = ud;
    s->done_calls++;
    s->results_at_done = s->n_results;
}

/* A fresh run: UDP (skype) and TCP probes on fake transports, 100 ms timeout. */
static void run_init(run_t *s)
{
    memset(s, 0, sizeof *s);
    memset(fakes, 0, sizeof fakes);
    fake_now = 1000 * MS;
    assert_int_equal(uv_loop_init(&s->loop), 0);
    s->ts = sn_targets_new();
    assert_non_null(s->ts);
    assert_true(sn_targets_begin_input(s->ts, "test") >= 0);
    s->cfg = (sn_engine_cfg_t){.udp_probe = sn_probe_find("skype"),
                               .tcp_probe = sn_probe_find("tcp"),
                               .rate = 0,
                               .max_inflight = 16,
                               .timeout_ms = 100,
                               .retries = 0,
                               .n_fallback = 0,
                               .seed = 42,
                               .on_result = on_result,
                               .ud = s,
                               .clock = &fake_clock,
                               .udp_transport = &fake_udp,
                               .tcp_transport = &fake_tcp};
    assert_non_null(s->cfg.udp_probe);
    assert_non_null(s->cfg.tcp_probe);
}

static void add_target(run_t *s, const char *ip, uint16_t port)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &a), SN_OK);
    a.port = port;
    assert_int_equal(sn_targets_add(s->ts, &a, NULL), SN_OK);
    s->n = sn_targets_count(s->ts);
}

static void add_rule(sn_transport_t kind, rule_t r)
{
    fake_t *f = fake_of(kind);
    if (r.max_seq == 0)
        r.max_seq = 255;
    f->rules[f->n_rules++] = r;
}

static uint64_t sends(sn_transport_t kind)
{
    return fake_of(kind)->n_att;
}

/* Runs the scan on fake time, a millisecond per step, until done (or 60 fake seconds). */
static void run_scan(run_t *s)
{
    sn_error_t err = {0};
    assert_int_equal(sn_engine_new(&s->loop, &s->cfg, &s->eng, &err), SN_OK);
    if (s->resume_at_ns != 0)
        sn_engine_pause(s->eng, true);
    if (s->stop_before_start)
        sn_engine_stop(s->eng);
    assert_int_equal(sn_engine_start(s->eng, s->ts, NULL, 0, on_done, &err), SN_OK);
    fake_t *pump = s->cfg.udp_probe != NULL ? fake_of(SN_TRANSPORT_UDP) : fake_of(SN_TRANSPORT_TCP);
    uint64_t start = fake_now;
    for (uint64_t step = 1; step <= 60000 && s->done_calls == 0; step++) {
        fake_now += MS;
        if (s->resume_at_ns != 0 && fake_now - start >= s->resume_at_ns) {
            s->resume_at_ns = 0;
            s->sends_at_resume = sends(SN_TRANSPORT_UDP) + sends(SN_TRANSPORT_TCP);
            sn_engine_pause(s->eng, false);
        }
        if (s->stop_at_ns != 0 && fake_now - start >= s->stop_at_ns && s->stops > 0) {
            s->sends_at_stop = sends(SN_TRANSPORT_UDP) + sends(SN_TRANSPORT_TCP);
            s->stop_step = step;
            while (s->stops > 0) {
                s->stops--;
                sn_engine_stop(s->eng);
            }
            if (s->done_calls > 0)
                s->done_step = step;
            continue;
        }
        pump->env.done(pump->env.engine, NULL); /* an I/O batch ended: the engine pumps */
        uv_run(&s->loop, UV_RUN_NOWAIT);
        if (s->done_calls > 0 && s->done_step == 0)
            s->done_step = step;
    }
    assert_int_equal(s->done_calls, 1);
    assert_int_equal(s->results_at_done, s->n_results);
    sn_engine_free(s->eng);
    s->eng = NULL;
    assert_int_equal(uv_run(&s->loop, UV_RUN_DEFAULT), 0);
}

static void run_free(run_t *s)
{
    assert_int_equal(uv_loop_close(&s->loop), 0);
    sn_targets_free(s->ts);
}

/* ---- the cases ---- */

static void test_engine_alive_over_both_transports(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    add_target(&s, "127.0.0.2", 33033);
    add_rule(SN_TRANSPORT_UDP, (rule_t){.port = 33033, .beh = B_ALIVE, .delay_ms = 5});
    add_rule(SN_TRANSPORT_TCP, (rule_t){.port = 33033, .beh = B_ALIVE, .delay_ms = 3});
    run_scan(&s);
    assert_int_equal(s.calls[0], 1);
    assert_int_equal(s.res[0].udp.outcome, SN_OUTCOME_ALIVE);
    assert_int_equal(s.res[0].udp.attempts, 1);
    assert_int_equal(s.res[0].udp.rtt_us, 5000);
    assert_int_equal(s.res[0].udp.reply_from.family, 0);
    assert_int_equal(s.res[0].tcp.outcome, SN_OUTCOME_ALIVE);
    assert_int_equal(s.res[0].tcp.attempts, 1);
    assert_int_equal(s.res[0].tcp.port, 33033);
    assert_int_equal(s.res[0].tcp.rtt_us, 3000);
    assert_int_equal(fake_of(SN_TRANSPORT_UDP)->cancels, 1); /* the reply table forgets it */
    run_free(&s);
}

static void test_engine_udp_silence_is_retried_with_the_same_token(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.tcp_probe = NULL;
    s.cfg.retries = 2;
    add_target(&s, "127.0.0.2", 33033);
    run_scan(&s);
    assert_int_equal(s.res[0].udp.outcome, SN_OUTCOME_FILTERED);
    assert_int_equal(s.res[0].udp.attempts, 3);
    const fake_t *f = fake_of(SN_TRANSPORT_UDP);
    assert_int_equal(f->n_att, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(f->att[i].a.seq, i);
        assert_true(f->att[i].a.token == f->att[0].a.token);
        if (i > 0) /* a retry goes out once the previous attempt has timed out */
            assert_true(f->att[i].sent_ns >= f->att[i - 1].sent_ns + 100 * MS);
    }
    run_free(&s);
}

static void test_engine_late_reply_to_the_first_send_counts(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.tcp_probe = NULL;
    s.cfg.retries = 1;
    add_target(&s, "127.0.0.2", 33033);
    /* Only the first send is answered, 150 ms later: after the retry left. */
    add_rule(SN_TRANSPORT_UDP,
             (rule_t){.port = 33033, .beh = B_ALIVE, .delay_ms = 150, .min_seq = 0, .max_seq = 0});
    run_scan(&s);
    assert_int_equal(s.res[0].udp.outcome, SN_OUTCOME_ALIVE);
    assert_int_equal(s.res[0].udp.attempts, 2);
    run_free(&s);
}

static void test_engine_udp_refusal_is_not_retried(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.tcp_probe = NULL;
    s.cfg.retries = 3;
    add_target(&s, "127.0.0.2", 33033);
    add_target(&s, "127.0.0.3", 33034);
    add_rule(SN_TRANSPORT_UDP, (rule_t){.port = 33033, .beh = B_CLOSED, .delay_ms = 1});
    add_rule(SN_TRANSPORT_UDP, (rule_t){.port = 33034, .beh = B_UNREACHABLE, .delay_ms = 1});
    run_scan(&s);
    assert_int_equal(s.res[0].udp.outcome, SN_OUTCOME_CLOSED);
    assert_int_equal(s.res[0].udp.attempts, 1);
    assert_int_equal(s.res[1].udp.outcome, SN_OUTCOME_UNREACHABLE);
    assert_int_equal(s.res[1].udp.attempts, 1);
    run_free(&s);
}

static void test_engine_udp_reply_from_another_port_is_recorded(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.tcp_probe = NULL;
    add_target(&s, "127.0.0.2", 33033);
    add_rule(SN_TRANSPORT_UDP,
             (rule_t){.port = 33033, .beh = B_ALIVE, .delay_ms = 2, .other_port = true});
    run_scan(&s);
    assert_int_equal(s.res[0].udp.outcome, SN_OUTCOME_ALIVE);
    assert_int_equal(s.res[0].udp.reply_from.family, s.res[0].target->addr.family);
    assert_int_equal(s.res[0].udp.reply_from.port, 33034);
    run_free(&s);
}

static void test_engine_tcp_falls_back_to_443_then_80(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.udp_probe = NULL;
    s.cfg.retries = 1;
    s.cfg.fallback_ports[0] = 443;
    s.cfg.fallback_ports[1] = 80;
    s.cfg.n_fallback = 2;
    add_target(&s, "127.0.0.2", 33033);
    /* Own port silent (tried twice), 443 refused (once: no retry after a refusal), 80 open. */
    add_rule(SN_TRANSPORT_TCP, (rule_t){.port = 443, .beh = B_CLOSED, .delay_ms = 1});
    add_rule(SN_TRANSPORT_TCP, (rule_t){.port = 80, .beh = B_ALIVE, .delay_ms = 4});
    run_scan(&s);
    assert_int_equal(s.res[0].tcp.outcome, SN_OUTCOME_ALIVE);
    assert_int_equal(s.res[0].tcp.port, 80);
    assert_int_equal(s.res[0].tcp.attempts, 4);
    const fake_t *f = fake_of(SN_TRANSPORT_TCP);
    assert_int_equal(f->n_att, 4);
    const uint16_t want[] = {33033, 33033, 443, 80};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(f->att[i].a.dst.port, want[i]);
    run_free(&s);
}

static void test_engine_tcp_keeps_the_own_port_outcome_when_fallbacks_fail(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.udp_probe = NULL;
    s.cfg.fallback_ports[0] = 443;
    s.cfg.fallback_ports[1] = 80;
    s.cfg.n_fallback = 2;
    add_target(&s, "127.0.0.2", 33033);
    add_rule(SN_TRANSPORT_TCP, (rule_t){.port = 33033, .beh = B_CLOSED, .delay_ms = 1});
    run_scan(&s);
    assert_int_equal(s.res[0].tcp.outcome, SN_OUTCOME_CLOSED);
    assert_int_equal(s.res[0].tcp.port, 33033);
    assert_int_equal(s.res[0].tcp.attempts, 3);
    run_free(&s);
}

static void test_engine_tcp_fallback_skips_the_own_port(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.udp_probe = NULL;
    s.cfg.fallback_ports[0] = 443;
    s.cfg.fallback_ports[1] = 80;
    s.cfg.n_fallback = 2;
    add_target(&s, "127.0.0.2", 443);
    run_scan(&s);
    assert_int_equal(s.res[0].tcp.outcome, SN_OUTCOME_FILTERED);
    assert_int_equal(s.res[0].tcp.port, 443);
    const fake_t *f = fake_of(SN_TRANSPORT_TCP);
    assert_int_equal(f->n_att, 2);
    assert_int_equal(f->att[0].a.dst.port, 443);
    assert_int_equal(f->att[1].a.dst.port, 80);
    run_free(&s);
}

static void test_engine_send_failure_is_an_error_without_an_attempt(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    add_target(&s, "127.0.0.2", 33033);
    fake_of(SN_TRANSPORT_UDP)->fail_sends = 1;
    fake_of(SN_TRANSPORT_TCP)->fail_sends = 1;
    run_scan(&s);
    assert_int_equal(s.calls[0], 1);
    assert_int_equal(s.res[0].udp.outcome, SN_OUTCOME_ERROR);
    assert_int_equal(s.res[0].udp.attempts, 0);
    assert_int_equal(s.res[0].tcp.outcome, SN_OUTCOME_ERROR);
    assert_int_equal(s.res[0].tcp.attempts, 0);
    run_free(&s);
}

/* A send taken without a deadline (out of memory) must end its target, never hang the scan. */
static void test_engine_attempt_without_a_deadline_ends_as_an_error(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.retries = 2;
    add_target(&s, "127.0.0.2", 33033);
    add_target(&s, "127.0.0.3", 33033);
    fake_of(SN_TRANSPORT_UDP)->lose_deadlines = 1;
    fake_of(SN_TRANSPORT_TCP)->lose_deadlines = 1;
    run_scan(&s);
    assert_int_equal(s.done_calls, 1);
    assert_int_equal(s.n_results, 2);
    assert_int_equal(s.calls[0], 1);
    assert_int_equal(s.calls[1], 1);
    /* The first target's attempts were made (counted) and not retried: an
     * error is not silence. The second target is unaffected. */
    assert_int_equal(s.res[0].udp.outcome, SN_OUTCOME_ERROR);
    assert_int_equal(s.res[0].udp.attempts, 1);
    assert_int_equal(s.res[0].tcp.outcome, SN_OUTCOME_ERROR);
    assert_int_equal(s.res[0].tcp.attempts, 1);
    assert_int_not_equal(s.res[1].udp.outcome, SN_OUTCOME_ERROR);
    assert_int_not_equal(s.res[1].tcp.outcome, SN_OUTCOME_ERROR);
    run_free(&s);
}

static void test_engine_every_target_once_under_a_small_pool(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.max_inflight = 3;
    s.cfg.retries = 1;
    char ip[32];
    for (int i = 0; i < 40; i++) {
        snprintf(ip, sizeof ip, "127.0.1.%d", i + 1);
        add_target(&s, ip, (uint16_t)(30000 + i % 4));
    }
    add_rule(SN_TRANSPORT_UDP, (rule_t){.port = 30000, .beh = B_ALIVE, .delay_ms = 7});
    add_rule(SN_TRANSPORT_UDP, (rule_t){.port = 30001, .beh = B_CLOSED, .delay_ms = 2});
    add_rule(SN_TRANSPORT_TCP, (rule_t){.port = 30002, .beh = B_ALIVE, .delay_ms = 1});
    run_scan(&s);
    assert_int_equal(s.n_results, 40);
    for (size_t i = 0; i < 40; i++) {
        assert_int_equal(s.calls[i], 1);
        uint16_t p = s.res[i].target->addr.port;
        assert_int_equal(s.res[i].udp.outcome, p == 30000   ? SN_OUTCOME_ALIVE
                                               : p == 30001 ? SN_OUTCOME_CLOSED
                                                            : SN_OUTCOME_FILTERED);
        assert_int_equal(s.res[i].tcp.outcome, p == 30002 ? SN_OUTCOME_ALIVE : SN_OUTCOME_FILTERED);
    }
    run_free(&s);
}

static void test_engine_paces_sends_on_the_injected_clock(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.tcp_probe = NULL;
    s.cfg.rate = 1000; /* a token per fake millisecond, bursts of 10 */
    s.cfg.max_inflight = 64;
    char ip[32];
    for (int i = 0; i < 60; i++) {
        snprintf(ip, sizeof ip, "127.0.2.%d", i + 1);
        add_target(&s, ip, 30000);
    }
    add_rule(SN_TRANSPORT_UDP, (rule_t){.port = 30000, .beh = B_ALIVE, .delay_ms = 1});
    run_scan(&s);
    assert_int_equal(s.n_results, 60);
    const fake_t *f = fake_of(SN_TRANSPORT_UDP);
    uint64_t t0 = f->att[0].sent_ns;
    /* By fake time t after the first send, at most burst + rate * t sends. */
    for (size_t i = 0; i < f->n_att; i++) {
        uint64_t elapsed_ms = (f->att[i].sent_ns - t0) / MS;
        assert_true(i + 1 <= 10 + elapsed_ms + 1);
    }
    assert_true((f->att[f->n_att - 1].sent_ns - t0) / MS >= 40);
    run_free(&s);
}

static void test_engine_stop_sends_nothing_more(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.max_inflight = 2;
    s.cfg.retries = 5;
    char ip[32];
    for (int i = 0; i < 10; i++) {
        snprintf(ip, sizeof ip, "127.0.3.%d", i + 1);
        add_target(&s, ip, 30000);
    }
    s.stop_at_ns = 150 * MS; /* during the first retries */
    s.stops = 1;
    run_scan(&s);
    assert_int_equal(sends(SN_TRANSPORT_UDP) + sends(SN_TRANSPORT_TCP), s.sends_at_stop);
    assert_int_equal(s.n_results, 2); /* the two started targets, no other */
    for (size_t i = 0; i < s.n; i++)
        assert_true(s.calls[i] <= 1);
    run_free(&s);
}

static void test_engine_max_inflight_caps_targets_in_flight(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.max_inflight = 4;
    char ip[32];
    for (int i = 0; i < 30; i++) {
        snprintf(ip, sizeof ip, "127.0.4.%d", i + 1);
        add_target(&s, ip, 30000);
    }
    add_rule(SN_TRANSPORT_UDP, (rule_t){.port = 30000, .beh = B_ALIVE, .delay_ms = 20});
    add_rule(SN_TRANSPORT_TCP, (rule_t){.port = 30000, .beh = B_ALIVE, .delay_ms = 30});
    run_scan(&s);
    assert_int_equal(s.n_results, 30);
    assert_true(s.max_inflight_seen <= 4);
    assert_int_equal(s.max_inflight_seen, 4); /* and the pool is used whole */
    run_free(&s);
}

static void test_engine_paused_scan_starts_nothing_until_resumed(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    add_target(&s, "127.0.0.2", 33033);
    add_target(&s, "127.0.0.3", 33033);
    add_rule(SN_TRANSPORT_UDP, (rule_t){.port = 33033, .beh = B_ALIVE, .delay_ms = 2});
    s.resume_at_ns = 500 * MS;
    run_scan(&s);
    assert_int_equal(s.sends_at_resume, 0);
    assert_int_equal(s.n_results, 2);
    assert_int_equal(s.res[0].udp.outcome, SN_OUTCOME_ALIVE);
    run_free(&s);
}

static void test_engine_second_stop_finishes_started_targets_at_once(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    s.cfg.max_inflight = 3;
    s.cfg.retries = 5;
    s.cfg.timeout_ms = 1000;
    char ip[32];
    for (int i = 0; i < 10; i++) {
        snprintf(ip, sizeof ip, "127.0.5.%d", i + 1);
        add_target(&s, ip, 30000);
    }
    s.stop_at_ns = 50 * MS; /* every started probe is waiting for its deadline */
    s.stops = 2;
    run_scan(&s);
    assert_int_equal(s.done_step, s.stop_step); /* no deadline waited for */
    assert_int_equal(s.n_results, 3);
    assert_int_equal(sends(SN_TRANSPORT_UDP) + sends(SN_TRANSPORT_TCP), s.sends_at_stop);
    run_free(&s);
}

static void test_engine_stop_before_start_calls_done_without_results(void **state)
{
    (void)state;
    run_t s;
    run_init(&s);
    add_target(&s, "127.0.0.2", 33033);
    s.stop_before_start = true;
    run_scan(&s);
    assert_int_equal(s.n_results, 0);
    assert_int_equal(sends(SN_TRANSPORT_UDP) + sends(SN_TRANSPORT_TCP), 0);
    run_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_alive_over_both_transports),
        cmocka_unit_test(test_engine_udp_silence_is_retried_with_the_same_token),
        cmocka_unit_test(test_engine_late_reply_to_the_first_send_counts),
        cmocka_unit_test(test_engine_udp_refusal_is_not_retried),
        cmocka_unit_test(test_engine_udp_reply_from_another_port_is_recorded),
        cmocka_unit_test(test_engine_tcp_falls_back_to_443_then_80),
        cmocka_unit_test(test_engine_tcp_keeps_the_own_port_outcome_when_fallbacks_fail),
        cmocka_unit_test(test_engine_tcp_fallback_skips_the_own_port),
        cmocka_unit_test(test_engine_send_failure_is_an_error_without_an_attempt),
        cmocka_unit_test(test_engine_attempt_without_a_deadline_ends_as_an_error),
        cmocka_unit_test(test_engine_every_target_once_under_a_small_pool),
        cmocka_unit_test(test_engine_paces_sends_on_the_injected_clock),
        cmocka_unit_test(test_engine_stop_sends_nothing_more),
        cmocka_unit_test(test_engine_max_inflight_caps_targets_in_flight),
        cmocka_unit_test(test_engine_paused_scan_starts_nothing_until_resumed),
        cmocka_unit_test(test_engine_second_stop_finishes_started_targets_at_once),
        cmocka_unit_test(test_engine_stop_before_start_calls_done_without_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
