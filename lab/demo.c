/*
 * The demo: everything local. It writes a generated population and the
 * harvests a measurement study would have collected from it, starts
 * `snprobe swarm` as a child process to play the nodes on loopback, scans the
 * harvests with the loopback range explicitly allowed (the default blocklist
 * holds it), and stops the swarm. The scan goes through sn_scan_run like any
 * user's scan, so the demo exercises the real path end to end.
 */
#include "lab/demo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
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

#include "data/geo.h"
#include "lib/rng.h"
#include "lib/outfile.h"
#include "lab/schedule.h"
#include "reports/history_cmd.h"
#include "reports/history_rec.h"
#include "reports/report.h"
#include "reports/sinks.h"
#include "scanner/scan.h"

extern char **environ;

void sn_demo_default_mix(sn_popgen_t *gen)
{
    gen->dead_share = 0.25;     /* about a quarter of a harvest is gone by scan time */
    gen->tcp_only_share = 0.08; /* UDP filtered on the way */
    gen->udp_only_share = 0.04;
    gen->tcp443_share = 0.03; /* only the Skype fallback ports pass */
    gen->tcp80_share = 0.02;
    gen->closed_share = 0.02;
    gen->nat_share = 0.03; /* a NAT or relay in front: not super-node eligible */
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
               !(strlen(keys[k].name) == (size_t)(eq - p) &&
                 strncmp(keys[k].name, p, (size_t)(eq - p)) == 0))
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

/* ---- the population's identity ---- */

/*
 * Who the demo's nodes are, drawn from the studies' figures so that every
 * statistic of the report means something offline: the continent split (US
 * 83.7%, Asia 8.9%, Europe 7.1%), 35% academic hosts, 58% dynamic addresses,
 * no dominant AS (documentation AS numbers, RFC 5398), and a seen-count
 * distribution whose top 20 nodes hold about 44% of all listings.
 */
typedef struct org {
    const char *cc; /* country */
    bool academic;
    uint32_t asn;
    const char *name;   /* AS organisation */
    const char *domain; /* where its hosts' PTR names live */
} org_t;

static const org_t orgs[] = {
    {"US", true, 64496, "Lakeside University", "lakeside.edu"},
    {"US", true, 64497, "Northfield Institute of Technology", "northfield-tech.edu"},
    {"US", true, 64498, "Riverton State University", "riverton.edu"},
    {"US", true, 64499, "Hillcrest College", "hillcrest.edu"},
    {"US", true, 64500, "Bayview University", "bayview.edu"},
    {"US", false, 64501, "CableLink Communications", "cablelink.example.net"},
    {"US", false, 64502, "FastWave Broadband", "fastwave.example.com"},
    {"US", false, 64503, "Prairie Telephone", "prairietel.example.net"},
    {"US", false, 64504, "Summit Internet", "summit-isp.example.net"},
    {"US", false, 64505, "Coastal Fiber", "coastalfiber.example.com"},
    {"US", false, 64506, "Metro Online", "metro-online.example.net"},
    {"GB", true, 64507, "University of Avonford", "avonford.ac.uk"},
    {"GB", false, 64508, "Albion Telecom", "albiontel.example.co.uk"},
    {"JP", true, 64509, "Kitayama University", "kitayama-u.ac.jp"},
    {"JP", false, 64510, "Sakura Net", "sakura-net.example.jp"},
    {"CN", true, 64511, "Huaxi University", "huaxi.edu.cn"},
    {"CN", false, 65536, "Dragon Telecom", "dragontel.example.cn"},
    {"KR", true, 65537, "Hanbit University", "hanbit.ac.kr"},
    {"KR", false, 65538, "Hangang Broadband", "hangang-bb.example.kr"},
    {"TW", true, 65539, "Formosa Tech University", "formosa-tech.edu.tw"},
    {"TW", false, 65540, "Island Net", "islandnet.example.tw"},
    {"SG", false, 65541, "Lion City Networks", "lioncity.example.sg"},
    {"IN", false, 65542, "Ganga Telecom", "gangatel.example.in"},
    {"DE", false, 65543, "Rheinnetz", "rheinnetz.example.de"},
    {"FR", false, 65544, "Reseau Lumiere", "lumiere.example.fr"},
    {"NL", false, 65545, "Polder Internet", "polder.example.nl"},
    {"SE", false, 65546, "Nordljus Bredband", "nordljus.example.se"},
    {"AU", true, 65547, "University of Wattle Creek", "wattlecreek.edu.au"},
    {"AU", false, 65548, "Outback Online", "outback.example.au"},
    {"BR", false, 65549, "Rede Tropical", "tropical.example.br"},
};
#define N_ORGS (sizeof orgs / sizeof orgs[0])

/* Country shares in per-mille of nodes: US 83.7%, Asia 8.9%, Europe 7.1%, rest 0.3%. */
static const struct {
    const char *cc;
    unsigned permille;
} countries[] = {
    {"US", 837}, {"CN", 30}, {"JP", 20}, {"KR", 15}, {"TW", 10}, {"SG", 7}, {"IN", 7},
    {"DE", 20},  {"GB", 18}, {"FR", 12}, {"NL", 10}, {"SE", 11}, {"AU", 2}, {"BR", 1},
};

static const char *draw_country(sn_rng_t *x)
{
    unsigned r = (unsigned)(sn_rng_next(x) % 1000), acc = 0;
    for (size_t i = 0; i < sizeof countries / sizeof countries[0]; i++) {
        acc += countries[i].permille;
        if (r < acc)
            return countries[i].cc;
    }
    return "US";
}

/* A random organisation of country cc that is (or is not) academic; NULL if none. */
static const org_t *draw_org(sn_rng_t *x, const char *cc, bool academic)
{
    size_t n = 0;
    for (size_t i = 0; i < N_ORGS; i++)
        n += strcmp(orgs[i].cc, cc) == 0 && orgs[i].academic == academic;
    if (n == 0)
        return NULL;
    size_t k = (size_t)(sn_rng_next(x) % n);
    for (size_t i = 0; i < N_ORGS; i++)
        if (strcmp(orgs[i].cc, cc) == 0 && orgs[i].academic == academic && k-- == 0)
            return &orgs[i];
    return NULL;
}

typedef struct ident {
    uint32_t seen;
    const org_t *org;
    bool dynamic;
    char ptr[96];
} ident_t;

/* Seen-counts: a flat head and a steep tail (top 20 about 44% of listings for a few
 * thousand nodes, as in the studies), over a random ranking of the nodes. */
static void draw_seen_counts(ident_t *id, size_t n, sn_rng_t *x)
{
    uint32_t *rank = malloc((n ? n : 1) * sizeof *rank);
    if (rank == NULL) {
        for (size_t i = 0; i < n; i++)
            id[i].seen = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = (size_t)(sn_rng_next(x) % (i + 1));
        rank[i] = rank[j];
        rank[j] = (uint32_t)i;
    }
    for (size_t r = 0; r < n; r++) {
        double v = r < 100 ? 20000.0 * pow((double)r + 1, -0.9)
                           : 20000.0 * pow(100, -0.9) * pow(((double)r + 1) / 100.0, -1.5);
        id[rank[r]].seen = v < 1 ? 1 : (uint32_t)v;
    }
    free(rank);
}

static void draw_identity(const sn_population_t *pop, uint64_t seed, ident_t *id)
{
    sn_rng_t x = sn_rng_seeded(seed);
    draw_seen_counts(id, pop->count, &x);
    /* Academic share among the nodes of countries that have academic suffixes,
     * chosen so that 35% of all nodes are academic. */
    const double edu_share = 0.35 / 0.9315;
    for (size_t i = 0; i < pop->count; i++) {
        const char *cc = draw_country(&x);
        const org_t *o = NULL;
        if (sn_rng_unit(&x) < edu_share)
            o = draw_org(&x, cc, true);
        if (o == NULL)
            o = draw_org(&x, cc, false);
        id[i].org = o;
        id[i].dynamic = sn_rng_unit(&x) < 0.58;
        unsigned k = (unsigned)i + 1;
        if (o->academic)
            snprintf(id[i].ptr, sizeof id[i].ptr,
                     id[i].dynamic ? "dhcp-%u.resnet.%s" : "srv-%u.cs.%s", k, o->domain);
        else
            snprintf(id[i].ptr, sizeof id[i].ptr,
                     id[i].dynamic ? "dyn-%u.pool.%s" : "static-%u.biz.%s", k, o->domain);
    }
}

static int by_addr(const void *a, const void *b)
{
    const sn_node_t *x = *(const sn_node_t *const *)a, *y = *(const sn_node_t *const *)b;
    return memcmp(x->addr.ip, y->addr.ip, 16);
}

/* Opens DIR/NAME through the one output-file helper (lib/outfile.h); NULL
 * with err set on failure. */
static FILE *demo_open(const char *dir, const char *name, sn_outfile_t **of, sn_error_t *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (sn_outfile_open(path, of, err) != SN_OK)
        return NULL;
    FILE *f = sn_outfile_stream(*of);
    if (f == NULL) {
        sn_outfile_abort(*of, false);
        *of = NULL;
        sn_error_set(err, SN_ENOMEM, "out of memory writing %s", path);
    }
    return f;
}

/* Commits of when all went well (st), else drops it; returns the first error. */
static sn_status_t demo_close(sn_outfile_t *of, sn_status_t st, sn_error_t *err)
{
    if (st != SN_OK) {
        sn_outfile_abort(of, false);
        return st;
    }
    return sn_outfile_commit(of, err);
}

/*
 * Writes the identity and the files that serve it: identity.csv (the ground
 * truth), geo-country.csv and geo-asn.csv (ip-location-db range tables for
 * the nodes' addresses) and dnsmasq.conf (PTR records; a configuration file,
 * because dnsmasq reads it before it drops its privileges).
 */
static sn_status_t write_identity(const sn_population_t *pop, const ident_t *id, const char *dir,
                                  sn_error_t *err)
{
    FILE *f[4] = {NULL};
    sn_outfile_t *of[4] = {NULL};
    static const char *const names[4] = {"identity.csv", "geo-country.csv", "geo-asn.csv",
                                         "dnsmasq.conf"};
    sn_status_t st = SN_OK;
    const sn_node_t **byaddr = malloc((pop->count ? pop->count : 1) * sizeof *byaddr);
    if (byaddr == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    for (int k = 0; k < 4 && st == SN_OK; k++)
        if ((f[k] = demo_open(dir, names[k], &of[k], err)) == NULL)
            st = SN_EIO;
    if (st == SN_OK) {
        fprintf(f[0], "address,port,seen_count,country,continent,asn,as_org,ptr,edu,addr_kind\n");
        for (size_t i = 0; i < pop->count; i++) {
            char a[SN_ADDR_STRLEN];
            sn_addr_format(&pop->nodes[i].addr, a, sizeof a, false);
            const org_t *o = id[i].org;
            fprintf(f[0], "%s,%u,%u,%s,%s,%u,%s,%s,%d,%s\n", a, pop->nodes[i].addr.port, id[i].seen,
                    o->cc, sn_continent_of(o->cc), o->asn, o->name, id[i].ptr, o->academic,
                    id[i].dynamic ? "dynamic" : "static");
            const uint8_t *ip = pop->nodes[i].addr.ip;
            fprintf(f[3], "ptr-record=%u.%u.%u.%u.in-addr.arpa,%s\n", ip[3], ip[2], ip[1], ip[0],
                    id[i].ptr);
            byaddr[i] = &pop->nodes[i];
        }
        /* Range tables are sorted by address, one /32 per node. */
        qsort(byaddr, pop->count, sizeof *byaddr, by_addr);
        for (size_t i = 0; i < pop->count; i++) {
            size_t n = (size_t)(byaddr[i] - pop->nodes);
            char a[SN_ADDR_STRLEN];
            sn_addr_format(&byaddr[i]->addr, a, sizeof a, false);
            if (i > 0 && memcmp(byaddr[i]->addr.ip, byaddr[i - 1]->addr.ip, 16) == 0)
                continue; /* two nodes on one address: one range */
            fprintf(f[1], "%s,%s,%s\n", a, a, id[n].org->cc);
            fprintf(f[2], "%s,%s,%u,%s\n", a, a, id[n].org->asn, id[n].org->name);
        }
    }
    for (int k = 0; k < 4; k++)
        if (of[k] != NULL)
            st = demo_close(of[k], st, err);
    free(byaddr);
    return st;
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

/*
 * harvest-1.txt lists every node once; harvest-2.csv carries the rest of each
 * node's seen-count in its count column, split over seven harvesters'
 * labels; shared.xml is a Skype 1.x host cache of the 200 most-listed nodes
 * (a listing of its own). Summed, a node's seen_count is 1 + (count - 1) + (1
 * if in the host cache): identity.csv's seen_count is written to match.
 */
static sn_status_t write_harvests(const sn_population_t *pop, ident_t *id, const char *dir,
                                  sn_error_t *err)
{
    ranked_t *rk = malloc((pop->count ? pop->count : 1) * sizeof *rk);
    if (rk == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    for (size_t i = 0; i < pop->count; i++)
        rk[i] = (ranked_t){(uint32_t)i, id[i].seen};
    qsort(rk, pop->count, sizeof *rk, by_count_desc);

    sn_outfile_t *otxt = NULL, *ocsv = NULL, *oxml = NULL;
    FILE *txt = demo_open(dir, "harvest-1.txt", &otxt, err);
    FILE *csv = txt ? demo_open(dir, "harvest-2.csv", &ocsv, err) : NULL;
    FILE *xml = csv ? demo_open(dir, "shared.xml", &oxml, err) : NULL;
    sn_status_t st = SN_OK;
    if (xml == NULL) {
        st = SN_EIO;
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
        uint32_t rest = rk[r].count - 1 - (r < 200 && rk[r].count > 1);
        if (rest > 0)
            fprintf(csv, "%s,%u,%u,harvester-%zu\n", a, addr->port, rest, r % 7 + 1);
        if (r < 200 && rk[r].count > 1)
            fprintf(xml, "        <_%zu>%s</_%zu>\n", r + 1, ap, r + 1);
    }
    fprintf(xml, "      </HostCache>\n    </Connection>\n  </Lib>\n</config>\n");
    if (ferror(txt) || ferror(csv) || ferror(xml))
        st = sn_error_set(err, SN_EIO, "%s: write error", dir);
out:
    if (otxt != NULL)
        st = demo_close(otxt, st, err);
    if (ocsv != NULL)
        st = demo_close(ocsv, st, err);
    if (oxml != NULL)
        st = demo_close(oxml, st, err);
    free(rk);
    return st;
}

/*
 * Writes what the demo scans and what it knows: identity.csv, the range tables
 * and dnsmasq.conf that serve it, and the harvests whose listings add up to
 * each node's seen-count. Deterministic for a seed.
 */
static sn_status_t write_inputs(const sn_population_t *pop, const char *dir, uint64_t seed,
                                bool *dynamic, sn_error_t *err)
{
    ident_t *id = calloc(pop->count ? pop->count : 1, sizeof *id);
    if (id == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    draw_identity(pop, seed, id);
    for (size_t i = 0; dynamic != NULL && i < pop->count; i++)
        dynamic[i] = id[i].dynamic; /* the nights move these nodes (data/schedule.h) */
    sn_status_t st = write_identity(pop, id, dir, err);
    if (st == SN_OK)
        st = write_harvests(pop, id, dir, err);
    free(id);
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

static void stop_child(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* ---- dnsmasq, serving the nodes' PTR names ---- */

static const char *find_dnsmasq(void)
{
    static const char *const where[] = {"/usr/sbin/dnsmasq", "/usr/bin/dnsmasq",
                                        "/usr/local/sbin/dnsmasq"};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++)
        if (access(where[i], X_OK) == 0)
            return where[i];
    return NULL;
}

/* Binds 127.0.0.1:port over UDP: 0 if it is free, -1 if taken or on error. */
static int try_bind(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(*port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    if (rc == 0 && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        *port = ntohs(sa.sin_port);
    close(fd);
    return rc;
}

/*
 * Starts dnsmasq on a free loopback port, answering PTR queries from the
 * configuration file only (nothing is forwarded anywhere). Returns its pid, or 0 when
 * dnsmasq is not installed or did not come up (the demo goes on without PTR).
 */
static pid_t start_dnsmasq(const char *conf, uint16_t *port)
{
    const char *exe = find_dnsmasq();
    *port = 0;
    if (exe == NULL || try_bind(port) != 0)
        return 0;
    /* Absolute paths: dnsmasq changes to / before it opens its log, so a relative
     * --out-dir (the README's demo uses out/demo) would leave it without one and it
     * would not start. */
    char abs[PATH_MAX];
    if (realpath(conf, abs) == NULL)
        return 0;
    char port_opt[32], conf_opt[PATH_MAX + 16], log_opt[PATH_MAX + 24];
    snprintf(port_opt, sizeof port_opt, "--port=%u", *port);
    snprintf(conf_opt, sizeof conf_opt, "--conf-file=%s", abs);
    /* Its log goes to a file of ours: dnsmasq hands its log file to the user
     * it drops to, so a shared path such as /dev/null must never be named. */
    snprintf(log_opt, sizeof log_opt, "--log-facility=%s.log", abs);
    char *argv[] = {(char *)exe,
                    port_opt,
                    conf_opt,
                    "--listen-address=127.0.0.1",
                    "--bind-interfaces",
                    "--no-resolv",
                    "--no-hosts",
                    "--keep-in-foreground",
                    "--pid-file=",
                    log_opt,
                    "--local=/127.in-addr.arpa/",
                    NULL};
    pid_t pid;
    if (posix_spawn(&pid, exe, NULL, NULL, argv, environ) != 0)
        return 0;
    for (int i = 0; i < 100; i++) { /* up when its port is taken, within 5 s */
        uint16_t p = *port;
        if (try_bind(&p) != 0)
            return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        usleep(50000);
    }
    stop_child(pid);
    return 0;
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

/* ---- nights: the history ---- */

/*
 * After a night's scan: a population with nodes that answer, of which none did,
 * means the probes never reached the swarm (a network namespace whose loopback
 * is down sends nothing anywhere), not a measurement; the demo fails and says so.
 * The night's results stay written.
 */
static sn_status_t check_answered(const sn_population_t *pop, const sn_scan_summary_t *sum,
                                  size_t night, sn_error_t *err)
{
    size_t answering = 0;
    for (size_t i = 0; i < pop->count; i++)
        answering +=
            pop->nodes[i].behaviour != SN_BEH_DEAD && pop->nodes[i].behaviour != SN_BEH_CLOSED;
    if (sum->interrupted || answering == 0 || sum->udp_alive + sum->tcp_alive > 0)
        return SN_OK;
    return sn_error_set(err, SN_EIO,
                        "night %zu: none of the %zu nodes that answer did: the probes did not "
                        "reach the swarm on loopback (is the loopback interface up? ip link set "
                        "lo up)",
                        night, answering);
}

/* Opens the demo's history for night n (a fresh file on night 1) as the scan's sink. */
static sn_status_t start_history(const sn_demo_cfg_t *cfg, const char *path, unsigned night,
                                 const char *const *inputs, size_t n_inputs, sn_sink_t *sink,
                                 sn_error_t *err)
{
    if (night == 1) {
        static const char *const tails[] = {"", "-wal", "-shm"};
        for (size_t i = 0; i < 3; i++) {
            char p[4200];
            snprintf(p, sizeof p, "%s%s", path, tails[i]);
            unlink(p);
        }
    }
    char command[64];
    snprintf(command, sizeof command, "snprobe demo (night %u)", night);
    sn_hrec_cfg_t hc = {.path = path,
                        .command = command,
                        .site = "demo",
                        .vantage = "",
                        .plan = cfg->plan,
                        .inputs = inputs,
                        .n_inputs = n_inputs,
                        .quiet = true};
    return sn_sink_create("history", &(sn_sink_cfg_t){.history = &hc}, sink, err);
}

/* Writes night d's population and list (the harvest), then scans it into the history. */
static sn_status_t scan_night(const sn_demo_cfg_t *cfg, const sn_schedule_t *sch, size_t d,
                              const sn_scan_cfg_t *first, const char *history, sn_error_t *err)
{
    char pop_path[4096], list[4096], results[4096];
    snprintf(pop_path, sizeof pop_path, "%s/population-night-%zu.csv", cfg->out_dir, d + 1);
    snprintf(list, sizeof list, "%s/harvest-night-%zu.txt", cfg->out_dir, d + 1);
    snprintf(results, sizeof results, "%s/results-night-%zu.csv", cfg->out_dir, d + 1);
    sn_status_t st = sn_population_write(&sch->present[d], pop_path, err);
    if (st != SN_OK)
        return st;
    sn_outfile_t *of;
    FILE *f;
    if ((st = sn_outfile_open_stream(list, &of, &f, err)) != SN_OK)
        return st;
    for (size_t k = 0; k < sch->n_listed[d]; k++) {
        char a[SN_ADDR_STRLEN];
        sn_addr_format(&sch->listed[d][k], a, sizeof a, true);
        fprintf(f, "%s\n", a);
    }
    if ((st = sn_outfile_commit(of, err)) != SN_OK)
        return st;
    pid_t swarm;
    if ((st = start_swarm(cfg->self_exe, pop_path, &swarm, err)) != SN_OK)
        return st;
    const char *inputs[] = {list};
    sn_scan_cfg_t sc = {.inputs = inputs,
                        .n_inputs = 1,
                        .allow = first->allow,
                        .n_allow = first->n_allow,
                        .quiet = true,
                        .command_text = "snprobe demo",
                        .engine = first->engine};
    sn_sink_t sinks[2];
    size_t n_sinks = 0;
    st = start_history(cfg, history, (unsigned)d + 1, inputs, 1, &sinks[n_sinks++], err);
    if (st == SN_OK)
        st = sn_sink_create("csv", &(sn_sink_cfg_t){.path = results}, &sinks[n_sinks++], err);
    sn_scan_summary_t sum = {0};
    sc.sinks = sinks;
    sc.n_sinks = n_sinks;
    if (st == SN_OK)
        st = sn_scan_run(&sc, &sum, err); /* closes the sinks (the history's run ends) */
    else
        sn_sinks_close(sinks, n_sinks, &(sn_sink_end_t){.failed = true}, &st, err);
    stop_child(swarm);
    if (st == SN_OK && !cfg->quiet)
        fprintf(stderr,
                "snprobe demo: night %zu: %zu nodes present, %llu targets listed; "
                "alive: UDP %llu, TCP %llu\n",
                d + 1, sch->present[d].count, (unsigned long long)sum.distinct,
                (unsigned long long)sum.udp_alive, (unsigned long long)sum.tcp_alive);
    if (st == SN_OK && sum.interrupted)
        st = sn_error_set(err, SN_EINVAL, "interrupted on night %zu", d + 1);
    if (st == SN_OK)
        st = check_answered(&sch->present[d], &sum, d + 1, err);
    return st;
}

/*
 * Nights 2..N: the population changes as the schedule says (data/schedule.h),
 * each night is scanned into the history, and schedule.csv keeps the truth.
 */
static sn_status_t later_nights(const sn_demo_cfg_t *cfg, const sn_population_t *pop,
                                const bool *dynamic, uint64_t seed, const sn_scan_cfg_t *first,
                                const char *history, sn_error_t *err)
{
    size_t nights = cfg->nights ? cfg->nights : 1;
    sn_schedule_t sch;
    sn_status_t st = sn_schedule_make(pop, dynamic, nights, seed, &sch, err);
    char path[4096];
    snprintf(path, sizeof path, "%s/schedule.csv", cfg->out_dir);
    if (st == SN_OK)
        st = sn_schedule_write(&sch, path, err);
    for (size_t d = 1; d < nights && st == SN_OK; d++)
        st = scan_night(cfg, &sch, d, first, history, err);
    sn_schedule_free(&sch);
    /* The newest night's report with the history section (report --history). */
    char hreport[4096], *text = NULL;
    size_t len = 0;
    snprintf(hreport, sizeof hreport, "%s/report-history.html", cfg->out_dir);
    sn_history_section_t *sec = NULL;
    if (st == SN_OK)
        st = sn_history_results_text(history, 0, 0, &text, &len, err);
    if (st == SN_OK)
        st = sn_history_section_new(&sec, history, err);
    if (st == SN_OK)
        st = sn_report_run_buf(history, text, len, hreport, NULL, "snprobe demo", NULL,
                               sn_history_section_write, sec, err);
    sn_history_section_free(sec);
    free(text);
    if (st == SN_OK && !cfg->quiet)
        fprintf(stderr,
                "snprobe demo: %zu night%s in %s (snprobe history churn --history %s), "
                "the report with their history in %s; the schedule's truth in %s\n",
                nights, nights == 1 ? "" : "s", history, history, hreport, path);
    return st;
}

sn_status_t sn_demo_run(const sn_demo_cfg_t *cfg, sn_error_t *err)
{
    char pop_path[4096], results[4096], in1[4096], in2[4096], in3[4096], html[4096], summary[4096];
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
    snprintf(html, sizeof html, "%s/report.html", cfg->out_dir);
    snprintf(summary, sizeof summary, "%s/summary.csv", cfg->out_dir);
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
    bool *dynamic = st == SN_OK ? calloc(pop.count ? pop.count : 1, sizeof *dynamic) : NULL;
    if (st == SN_OK && dynamic == NULL)
        st = sn_error_set(err, SN_ENOMEM, "out of memory");
    if (st == SN_OK)
        st = write_inputs(&pop, cfg->out_dir, gen.seed, dynamic, err);
    if (st != SN_OK) {
        free(dynamic);
        sn_population_free(&pop);
        return st;
    }

    pid_t swarm;
    if ((st = start_swarm(cfg->self_exe, pop_path, &swarm, err)) != SN_OK) {
        free(dynamic);
        sn_population_free(&pop);
        return st;
    }
    char dns_conf[4096], geo_cc[4096], geo_as[4096], dns[32];
    snprintf(dns_conf, sizeof dns_conf, "%s/dnsmasq.conf", cfg->out_dir);
    snprintf(geo_cc, sizeof geo_cc, "%s/geo-country.csv", cfg->out_dir);
    snprintf(geo_as, sizeof geo_as, "%s/geo-asn.csv", cfg->out_dir);
    uint16_t dns_port;
    pid_t dnsmasq = start_dnsmasq(dns_conf, &dns_port);
    snprintf(dns, sizeof dns, "127.0.0.1:%u", dns_port);
    if (!cfg->quiet) {
        fprintf(stderr, "snprobe demo: %u nodes on loopback, population in %s\n", cfg->count,
                pop_path);
        /* Said every time, so that nobody takes the demo's report for a measurement. */
        fprintf(stderr, "snprobe demo: the population is emulated, drawn from the studies' "
                        "figures: where the report matches them, it is by construction, not "
                        "a measurement\n");
        if (dnsmasq > 0)
            fprintf(stderr, "snprobe demo: PTR names served by dnsmasq on %s\n", dns);
        else
            fprintf(stderr, "snprobe demo: dnsmasq is not installed (or did not start): "
                            "no PTR names, so no academic or dynamic/static classes\n");
    }

    const char *inputs[] = {in1, in2, in3};
    const char *allow[] = {"127.0.0.0/8"};
    const char *geo_files[] = {geo_cc, geo_as};
    const char *dns_servers[] = {dns};
    sn_scan_cfg_t sc = {
        .inputs = inputs,
        .n_inputs = 3,
        .allow = allow,
        .n_allow = 1,
        .progress = cfg->progress,
        .quiet = cfg->quiet,
        .command_text = "snprobe demo",
        .where = "the demo: an emulated population on loopback, drawn from the studies' "
                 "figures; where it matches them, that is by construction, not a measurement",
        .enrich_on = true,
        /* The demo's own pace, not the polite default: everything is on loopback. */
        .enrich = {.rdns = dnsmasq > 0 ? SN_RDNS_ALIVE : SN_RDNS_NONE,
                   .dns_servers = dns_servers,
                   .n_dns_servers = 1,
                   .dns_timeout_ms = cfg->dns_timeout_ms,
                   .dns_tries = 2,
                   .dns_inflight = cfg->dns_inflight,
                   .geo_files = geo_files,
                   .n_geo_files = 2,
                   .max_parked = 1000},
        .engine = {.rate = 50000,
                   .max_inflight = 20000,
                   .timeout_ms = cfg->timeout_ms,
                   .retries = cfg->retries,
                   .seed = gen.seed},
    };
    st = sn_scan_parse_plan(cfg->probes, &sc.engine, err);
    if (st == SN_OK)
        st = sn_scan_parse_ports(cfg->fallback_ports, &sc.engine, err);
    char history[4096];
    snprintf(history, sizeof history, "%s/history.db", cfg->out_dir);
    sn_sink_t sinks[3];
    size_t n_sinks = 0;
    if (st == SN_OK)
        st = start_history(cfg, history, 1, inputs, 3, &sinks[n_sinks++], err);
    if (st == SN_OK)
        st = sn_sink_create("report", &(sn_sink_cfg_t){.path = html, .summary = summary},
                            &sinks[n_sinks++], err);
    if (st == SN_OK)
        st = sn_sink_create("csv", &(sn_sink_cfg_t){.path = results}, &sinks[n_sinks++], err);
    sc.sinks = sinks;
    sc.n_sinks = n_sinks;
    sn_scan_summary_t sum = {0};
    if (st == SN_OK)
        st = sn_scan_run(&sc, &sum, err); /* closes the sinks (the history's run ends) */
    else
        sn_sinks_close(sinks, n_sinks, &(sn_sink_end_t){.failed = true}, &st, err);
    stop_child(swarm);
    stop_child(dnsmasq);
    if (st == SN_OK) {
        sn_scan_print_summary(stderr, &sum, results);
        if (!cfg->quiet)
            fprintf(stderr, "snprobe demo: report %s, statistics %s\n", html, summary);
    }
    if (st == SN_OK)
        st = check_answered(&pop, &sum, 1, err);
    if (st == SN_OK && !sum.interrupted)
        st = later_nights(cfg, &pop, dynamic, gen.seed, &sc, history, err);
    free(dynamic);
    sn_population_free(&pop);
    return st;
}
