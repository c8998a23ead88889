/*
 * Engine internals shared by engine.c (jobs, pacing, deadlines) and the two
 * transports (udp.c, tcp.c). Not a public interface.
 */
#ifndef SN_ENGINE_INT_H
#define SN_ENGINE_INT_H

#include <sys/socket.h>

#include "scanner/engine.h"
#include "scanner/pace.h"

#define UDP_BATCH 256      /* datagrams per sendmmsg / recvmmsg */
#define UDP_MSG_MAX 1500   /* largest request or reply handled */
#define PUMP_MAX 1024      /* sends per wake-up before the loop polls again */

/* One target being probed. Slots live in a pool allocated once. */
typedef struct job {
    sn_result_t res;
    uint64_t token;        /* this target's probe token, kept across retries */
    uint64_t udp_sent_ns;  /* CLOCK_REALTIME of the last UDP send (kernel stamps are realtime) */
    uint32_t gen;          /* bumped whenever the slot is freed, to spot stale deadlines */
    uint32_t next_free;
    uint16_t udp_port;     /* where the UDP request goes */
    uint8_t active;
    uint8_t pending;       /* transports not finished */
    uint8_t udp_seq;       /* sends made; a deadline carries the value it was pushed with */
    uint8_t tcp_port_idx;  /* 0: own port; i: fallback_ports[i-1] */
    uint8_t tcp_tries;     /* attempts on the current TCP port */
    uint8_t tcp_first;     /* outcome on the own port, kept when fallbacks fail too */
} job_t;

/* A deadline: the id of what may time out, the generation it had, and when. */
typedef struct deadline {
    uint32_t id;
    uint32_t gen;
    uint64_t at_ns;
} deadline_t;

/* A growable FIFO of deadlines; pushes come in time order. */
typedef struct dlq {
    deadline_t *v;
    size_t cap, head, len;
} dlq_t;

/*
 * A ring of jobs waiting for a token to send, each entry with the job's
 * generation: a job can finish while its retry waits here (a late reply), and
 * its slot can be reused before the entry comes up, so a stale entry is
 * skipped rather than sent. Stale entries make the length unbounded: it grows.
 */
typedef struct jentry {
    uint32_t job;
    uint32_t gen;
} jentry_t;

typedef struct jring {
    jentry_t *v;
    size_t cap, head, len;
} jring_t;

typedef struct udp_sock {
    int fd;
    int family;
    uv_poll_t poll;
    int poll_events;
    unsigned nbatch;   /* datagrams built and not yet sent */
    bool flushing;     /* a send is under way: a result callback inside it must not send again */
    uint32_t job[UDP_BATCH];
    uint32_t job_gen[UDP_BATCH]; /* the job's generation when its datagram was built */
    struct mmsghdr msg[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct sockaddr_storage dst[UDP_BATCH];
    uint8_t buf[UDP_BATCH][UDP_MSG_MAX];
} udp_sock_t;

/* A slot of the UDP reply table: the job (+1; 0 = empty) and its key's hash. */
typedef struct udp_slot {
    uint32_t job1;
    uint32_t hash;
} udp_slot_t;

typedef struct tcp_conn {
    int fd;
    uint32_t job;
    uint32_t gen;
    uint32_t next_free;
    uint16_t port;
    uint64_t start_ns;  /* monotonic, at connect() */
} tcp_conn_t;

struct sn_engine {
    uv_loop_t *loop;
    sn_engine_cfg_t cfg;
    const sn_targets_t *ts;
    const uint32_t *order;
    size_t n_targets, next_target;
    void (*done)(void *ud);
    int stopping;       /* 0 running, 1 draining, 2 finishing now */
    bool paused;        /* no new targets for now (back-pressure from later stages) */
    int started;
    int closing;
    int handles_open;
    sn_engine_stats_t st;

    /* jobs */
    job_t *jobs;
    uint32_t n_jobs, free_job, idx_bits;
    jring_t udp_ready, tcp_ready;

    /* pacing and timing */
    sn_pace_t pace;
    uv_timer_t timer;
    uv_idle_t idle;
    int idle_on;
    uint64_t timeout_ns;

    /* UDP */
    udp_sock_t *udp4, *udp6;
    udp_slot_t *udp_table; /* (ip, port) -> job; open addressing, linear probing */
    uint32_t udp_mask;
    uint64_t token_mask;
    dlq_t udp_dl;
    uint8_t *rx_buf;      /* UDP_BATCH * UDP_MSG_MAX */

    /* TCP */
    int epfd;
    uv_poll_t tcp_poll;
    tcp_conn_t *conns;
    uint32_t n_conns, free_conn, tcp_inflight;
    dlq_t tcp_dl;
};

/* engine.c */
uint64_t sn_now_ns(void);       /* monotonic */
uint64_t sn_realtime_ns(void);  /* CLOCK_REALTIME, comparable with kernel stamps */
int sn_dlq_push(dlq_t *q, uint32_t id, uint32_t gen, uint64_t at_ns);
void sn_engine_job_udp_done(sn_engine_t *e, uint32_t j);
void sn_engine_job_tcp_done(sn_engine_t *e, uint32_t j);
void sn_engine_pump(sn_engine_t *e);
void sn_engine_requeue_udp(sn_engine_t *e, uint32_t j);
void sn_engine_handle_closed(uv_handle_t *h); /* close callback of every engine handle */

/* udp.c */
sn_status_t sn_udp_init(sn_engine_t *e, sn_error_t *err);
/* Builds j's datagram into the batch (sending a full batch first). 0: queued;
 * >0: the kernel takes no more now, try again; <0: the probe ended (error). */
int sn_udp_queue(sn_engine_t *e, uint32_t j);
void sn_udp_flush(sn_engine_t *e);
bool sn_udp_blocked(const sn_engine_t *e, uint32_t j);
void sn_udp_expire(sn_engine_t *e, uint64_t now);
void sn_udp_forget(sn_engine_t *e, uint32_t j);  /* drop the job from the reply table */
void sn_udp_close(sn_engine_t *e);

/* tcp.c */
sn_status_t sn_tcp_init(sn_engine_t *e, sn_error_t *err);
int sn_tcp_connect(sn_engine_t *e, uint32_t j); /* 0 sent; >0 back-pressure, try later */
void sn_tcp_expire(sn_engine_t *e, uint64_t now);
void sn_tcp_abort_all(sn_engine_t *e);
void sn_tcp_close(sn_engine_t *e);

/* engine.c, for tcp.c: the port an attempt goes to, and what follows a failed one. */
uint16_t sn_tcp_current_port(const sn_engine_t *e, const job_t *job);
void sn_engine_tcp_attempt_failed(sn_engine_t *e, uint32_t j, sn_outcome_t o);

#endif
