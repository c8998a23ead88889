/*
 * `snprobe swarm --population FILE`: plays the population on loopback until
 * SIGINT or SIGTERM, then prints what it served.
 */
#include <signal.h>
#include <stdio.h>

#include "cli/commands.h"
#include "lab/population.h"
#include "lab/swarm.h"

/* What the signal handler hands back to the loop's owner. */
typedef struct swarm_run {
    sn_swarm_t *sw;
    int signalled;
    sn_swarm_stats_t final;
} swarm_run_t;

/* Copies the counters first: the swarm frees itself once stopped. */
static void on_swarm_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    swarm_run_t *run = h->data;
    if (run->signalled)
        return;
    sn_swarm_get_stats(run->sw, &run->final);
    sn_swarm_stop(run->sw);
    run->signalled = 1;
}

int sn_cmd_swarm(const sn_config_t *cfg)
{
    sn_error_t err = {{0}};
    if (cfg->population == NULL) {
        sn_error_set(&err, SN_EINVAL, "swarm needs --population FILE");
        return sn_cli_usage(&err);
    }
    sn_population_t pop = {0};
    if (sn_population_load(cfg->population, &pop, &err) != SN_OK)
        return sn_cli_fail(&err);
    uv_loop_t loop;
    uv_loop_init(&loop);
    swarm_run_t run = {0};
    sn_status_t st = sn_swarm_start(&loop, &pop, NULL, &run.sw, &err);
    size_t n_nodes = pop.count;
    sn_population_free(&pop);
    if (st != SN_OK) {
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        return sn_cli_fail(&err);
    }
    sn_swarm_stats_t ss;
    sn_swarm_get_stats(run.sw, &ss);
    printf("swarm: ready, %zu nodes on %zu ports\n", n_nodes, ss.ports);
    fflush(stdout);
    uv_signal_t sigint, sigterm;
    uv_signal_init(&loop, &sigint);
    uv_signal_init(&loop, &sigterm);
    sigint.data = sigterm.data = &run;
    uv_signal_start(&sigint, on_swarm_signal, SIGINT);
    uv_signal_start(&sigterm, on_swarm_signal, SIGTERM);
    while (!run.signalled)
        uv_run(&loop, UV_RUN_ONCE);
    ss = run.final;
    uv_close((uv_handle_t *)&sigint, NULL);
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (!cfg->quiet)
        fprintf(stderr,
                "swarm: %llu UDP requests, %llu replies (%llu delayed, %llu lost on purpose), "
                "%llu TCP connections accepted\n",
                (unsigned long long)ss.udp_requests, (unsigned long long)ss.udp_replies,
                (unsigned long long)ss.udp_delayed, (unsigned long long)ss.udp_lost,
                (unsigned long long)ss.tcp_accepted);
    return SN_EXIT_OK;
}
