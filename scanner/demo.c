/*
 * The demo: everything local. It writes a generated population and the
 * harvests a measurement study would have collected from it, starts
 * `snprobe swarm` as a child process to play the nodes on loopback, scans the
 * harvests with the loopback range explicitly allowed (the default blocklist
 * holds it), and stops the swarm. The scan goes through sn_scan_run like any
 * user's scan, so the demo exercises the real path end to end.
 */
#include "demo.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scan.h"

extern char **environ;

void sn_demo_default_mix(sn_popgen_t *gen)
{
    gen->dead_share = 0.25;     /* about a quarter of a harvest is gone by scan time */
    gen->tcp_only_share = 0.08; /* UDP filtered on the way */
    gen->udp_only_share = 0.04;
    gen->tcp443_share = 0.03;   /* only the Skype fallback ports pass */
    gen->tcp80_share = 0.02;
    gen->closed_share = 0.02;
    gen->nat_share = 0.03;      /* a NAT or relay in front: not super-node eligible */
}

sn_status_t sn_demo_parse_mix(const char *mix, sn_popgen_t *gen, sn_error_t *err)
{
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
        {"dead", offsetof(sn_popgen_t, dead_share)},
        {"tcp-only", offsetof(sn_popgen_t, tcp_only_share)},
        {"udp-only", offsetof(sn_popgen_t, udp_only_share)},
        {"tcp-443-only", offsetof(sn_popgen_t, tcp443_share)},
        {"tcp-80-only", offsetof(sn_popgen_t, tcp80_share)},
        {"closed", offsetof(sn_popgen_t, closed_share)},
        {"nat", offsetof(sn_popgen_t, nat_share)},
    };
    gen->dead_share = gen->tcp_only_share = gen->udp_only_share = 0;
    gen->tcp443_share = gen->tcp80_share = gen->closed_share = gen->nat_share = 0;
    const char *p = mix;
    double total = 0;
    while (*p) {
        const char *eq = strchr(p, '=');
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        if (eq == NULL || eq > end)
            return sn_error_set(err, SN_EINVAL, "--mix: '%.*s' is not BEHAVIOUR=SHARE",
                                (int)(end - p), p);
        size_t k = 0;
        while (k < sizeof keys / sizeof keys[0] &&
               !(strlen(keys[k].name) == (size_t)(eq - p) && strncmp(keys[k].name, p, (size_t)(eq - p)) == 0))
            k++;
        if (k == sizeof keys / sizeof keys[0])
            return sn_error_set(err, SN_EINVAL,
                                "--mix: unknown behaviour '%.*s' (dead, tcp-only, udp-only, "
                                "tcp-443-only, tcp-80-only, closed, nat; the rest is alive)",
                                (int)(eq - p), p);
        char num[32];
        size_t nl = (size_t)(end - eq - 1);
        if (nl == 0 || nl >= sizeof num)
            return sn_error_set(err, SN_EINVAL, "--mix: '%.*s' needs a share", (int)(end - p), p);
        memcpy(num, eq + 1, nl);
        num[nl] = '\0';
        char *e;
        double v = strtod(num, &e);
        if (*e != '\0' || !(v >= 0 && v <= 1) || strspn(num, "0123456789.") != nl)
            return sn_error_set(err, SN_EINVAL, "--mix: share '%s' is not a number in 0..1", num);
        *(double *)((char *)gen + keys[k].off) = v;
        total += v;
        p = *end ? end + 1 : end;
    }
    if (total > 1.0 + 1e-9)
        return sn_error_set(err, SN_EINVAL, "--mix: the shares add up to %.3f, more than 1", total);
    return SN_OK;
}

/* ---- harvests ---- */

typedef struct ranked {
    uint32_t node;
    uint32_t count;
} ranked_t;

static int by_count_desc(const void *a, const void *b)
{
    const ranked_t *x = a, *y = b;
    return x->count != y->count ? (x->count < y->count ? 1 : -1) : (x->node < y->node ? -1 : 1);
}

sn_status_t sn_demo_write_harvests(const sn_population_t *pop, const char *dir, uint64_t seed,
                                   sn_error_t *err)
{
    char path[4096];
    ranked_t *rk = malloc((pop->count ? pop->count : 1) * sizeof *rk);
    if (rk == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    /* Seen-counts follow a Zipf law over a random ranking of the nodes: a few
     * nodes (long-lived, well-connected) are in nearly every harvest. */
    uint64_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < pop->count; i++) {
        rk[i].node = (uint32_t)i;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t j = (size_t)(x % (i + 1));
        rk[i] = rk[j];
        rk[j].node = (uint32_t)i;
    }
    for (size_t r = 0; r < pop->count; r++)
        rk[r].count = (uint32_t)fmax(1.0, floor(4000.0 / pow((double)r + 1, 1.2)));
    qsort(rk, pop->count, sizeof *rk, by_count_desc);

    FILE *txt = NULL, *csv = NULL, *xml = NULL;
    snprintf(path, sizeof path, "%s/harvest-1.txt", dir);
    txt = fopen(path, "w");
    snprintf(path, sizeof path, "%s/harvest-2.csv", dir);
    csv = txt ? fopen(path, "w") : NULL;
    snprintf(path, sizeof path, "%s/shared.xml", dir);
    xml = csv ? fopen(path, "w") : NULL;
    sn_status_t st = SN_OK;
    if (xml == NULL) {
        st = sn_error_set(err, SN_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    fprintf(txt, "# demo harvest 1: every node once, as ip:port\n");
    fprintf(csv, "ip,port,count,source\n");
    fprintf(xml, "<?xml version=\"1.0\"?>\n<config version=\"1.0\" serial=\"1\">\n  <Lib>\n"
                 "    <Connection>\n      <HostCache>\n");
    for (size_t r = 0; r < pop->count; r++) {
        char a[SN_ADDR_STRLEN], ap[SN_ADDR_STRLEN];
        const sn_addr_t *addr = &pop->nodes[rk[r].node].addr;
        sn_addr_format(addr, a, sizeof a, false);
        sn_addr_format(addr, ap, sizeof ap, true);
        fprintf(txt, "%s\n", ap);
        /* harvest 1 already lists every node once */
        if (rk[r].count > 1)
            fprintf(csv, "%s,%u,%u,harvester-%zu\n", a, addr->port, rk[r].count - 1, r % 7 + 1);
        if (r < 200)
            fprintf(xml, "        <_%zu>%s</_%zu>\n", r + 1, ap, r + 1);
    }
    fprintf(xml, "      </HostCache>\n    </Connection>\n  </Lib>\n</config>\n");
    if (ferror(txt) || ferror(csv) || ferror(xml))
        st = sn_error_set(err, SN_EIO, "%s: write error", dir);
out:
    if (txt && fclose(txt) != 0 && st == SN_OK)
        st = sn_error_set(err, SN_EIO, "%s: write error", dir);
    if (csv && fclose(csv) != 0 && st == SN_OK)
        st = sn_error_set(err, SN_EIO, "%s: write error", dir);
    if (xml && fclose(xml) != 0 && st == SN_OK)
        st = sn_error_set(err, SN_EIO, "%s: write error", dir);
    free(rk);
    return st;
}

/* ---- the swarm child ---- */

static sn_status_t start_swarm(const char *exe, const char *pop_path, pid_t *pid, sn_error_t *err)
{
    int fds[2];
    if (pipe(fds) != 0)
        return sn_error_set(err, SN_ESYS, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = {(char *)exe, "swarm", "--population", (char *)pop_path, NULL};
    int rc = posix_spawn(pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return sn_error_set(err, SN_ESYS, "cannot start the swarm (%s): %s", exe, strerror(rc));
    }
    /* Wait for its "swarm: ready" line; the swarm binds every socket first. */
    char line[512];
    size_t len = 0;
    for (;;) {
        struct pollfd p = {fds[0], POLLIN, 0};
        if (poll(&p, 1, 60000) <= 0)
            break;
        ssize_t n = read(fds[0], line + len, sizeof line - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        line[len] = '\0';
        if (strstr(line, "ready") != NULL) {
            close(fds[0]);
            return SN_OK;
        }
        if (len == sizeof line - 1)
            break;
    }
    close(fds[0]);
    kill(*pid, SIGTERM);
    waitpid(*pid, NULL, 0);
    return sn_error_set(err, SN_ESYS, "the swarm did not become ready (see its message above)");
}

static void stop_swarm(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* Ports below 1024 need root or a lowered ip_unprivileged_port_start. */
static bool can_bind_low_ports(void)
{
    if (geteuid() == 0)
        return true;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
    int start = 1024;
    if (f != NULL) {
        if (fscanf(f, "%d", &start) != 1)
            start = 1024;
        fclose(f);
    }
    return start <= 80;
}

sn_status_t sn_demo_run(const sn_demo_cfg_t *cfg, sn_error_t *err)
{
    char pop_path[4096], results[4096], in1[4096], in2[4096], in3[4096];
    if (mkdir(cfg->out_dir, 0777) != 0 && errno != EEXIST) {
        /* one level of parents, enough for the default out/demo */
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", cfg->out_dir);
        char *slash = strrchr(parent, '/');
        if (slash != NULL) {
            *slash = '\0';
            mkdir(parent, 0777);
        }
        if (mkdir(cfg->out_dir, 0777) != 0 && errno != EEXIST)
            return sn_error_set(err, SN_EIO, "%s: %s", cfg->out_dir, strerror(errno));
    }
    snprintf(pop_path, sizeof pop_path, "%s/population.csv", cfg->out_dir);
    snprintf(results, sizeof results, "%s/results.csv", cfg->out_dir);
    snprintf(in1, sizeof in1, "%s/harvest-1.txt", cfg->out_dir);
    snprintf(in2, sizeof in2, "%s/harvest-2.csv", cfg->out_dir);
    snprintf(in3, sizeof in3, "%s/shared.xml", cfg->out_dir);

    sn_popgen_t gen = {.count = cfg->count, .seed = cfg->seed ? cfg->seed : 1};
    sn_demo_default_mix(&gen);
    if (!can_bind_low_ports()) {
        gen.tcp443_share = gen.tcp80_share = 0;
        if (!cfg->quiet)
            fprintf(stderr, "snprobe demo: not root, so no node answers on 443/80 "
                            "(the swarm cannot bind them)\n");
    }
    sn_population_t pop = {0};
    sn_status_t st = sn_population_generate(&gen, &pop, err);
    if (st == SN_OK)
        st = sn_population_write(&pop, pop_path, err);
    if (st == SN_OK)
        st = sn_demo_write_harvests(&pop, cfg->out_dir, gen.seed, err);
    sn_population_free(&pop);
    if (st != SN_OK)
        return st;

    pid_t swarm;
    if ((st = start_swarm(cfg->self_exe, pop_path, &swarm, err)) != SN_OK)
        return st;
    if (!cfg->quiet)
        fprintf(stderr, "snprobe demo: %u nodes on loopback, population in %s\n", cfg->count,
                pop_path);

    const char *inputs[] = {in1, in2, in3};
    const char *allow[] = {"127.0.0.0/8"};
    sn_scan_cfg_t sc = {
        .inputs = inputs, .n_inputs = 3, .allow = allow, .n_allow = 1, .output = results,
        .output_format = SN_OUTPUT_CSV, .progress = cfg->progress, .quiet = cfg->quiet,
        .enrich_on = true,
        .enrich = {.rdns = SN_RDNS_NONE, .geo_defaults = true, .max_parked = 50000},
        .engine = {.rate = 50000, .max_inflight = 20000, .timeout_ms = 1000, .retries = 1,
                   .fallback_ports = {443, 80}, .n_fallback = 2, .seed = gen.seed},
    };
    st = sn_scan_parse_plan("skype,tcp", &sc.engine, err);
    sn_scan_summary_t sum;
    if (st == SN_OK)
        st = sn_scan_run(&sc, &sum, err);
    stop_swarm(swarm);
    if (st == SN_OK)
        sn_scan_print_summary(stderr, &sum, results);
    return st;
}
