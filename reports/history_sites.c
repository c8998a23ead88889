/*
 * The cross-vantage comparison of `report --history ... --by-site` (issue
 * 13): how similar the view of the same night is from every site, the
 * studies' claim ("a similar view from all geographical locations") made a
 * measurement. See history_sites.h for what it computes.
 *
 * The night compared is the newest run's; each site's view is its newest run
 * of that night together with the other shards of it (sn_history_night_runs),
 * so a site scanned in shards counts as one view. A node is alive from a site
 * when that site's observation of it says alive; its class is the
 * observation's reach_class cell, as the results file has it.
 */
#include "reports/history_sites.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/output.h"

#define MAX_SITES 16

static const char *const continents[] = {"AF", "AN", "AS", "EU", "NA", "OC", "SA", ""};
#define N_CONT (sizeof continents / sizeof continents[0])
static const char *const classes[] = {"udp+tcp",     "udp+tcp-443", "udp+tcp-80",
                                      "udp-only",    "tcp-only",    "tcp-443-only",
                                      "tcp-80-only", "none",        "incomplete"};
#define N_CLASS (sizeof classes / sizeof classes[0])

typedef struct view {
    char name[128], vantage[256];
    int64_t newest;
    uint8_t *cls;   /* by target id: class index + 1; 0 not observed (or not probed) */
    uint8_t *alive; /* by target id */
    double *rtt;    /* by target id: ms, NAN when none */
    uint8_t *cont;  /* by target id: continent index */
    size_t cap;
    size_t n_alive, n_probed, by_class[N_CLASS];
    bool oom;
} view_t;

struct sn_sites {
    char night[64];
    view_t v[MAX_SITES];
    size_t n;
    size_t max_id;
    int f_class, f_udp_rtt, f_tcp_rtt, f_cont;
};

static int field(const char *name)
{
    for (size_t i = 0; i < sn_field_count; i++)
        if (strcmp(sn_fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

typedef struct scan_runs {
    sn_sites_t *s;
    int64_t newest;
    char night[64];
} scan_runs_t;

static void find_newest(void *ud, const sn_history_run_t *r)
{
    scan_runs_t *sr = ud;
    if (strcmp(r->status, "running") == 0 || r->id < sr->newest)
        return;
    sr->newest = r->id;
    snprintf(sr->night, sizeof sr->night, "%s", r->night);
}

static void find_sites(void *ud, const sn_history_run_t *r)
{
    scan_runs_t *sr = ud;
    sn_sites_t *s = sr->s;
    if (strcmp(r->night, s->night) != 0 || strcmp(r->status, "running") == 0)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, r->site) == 0) {
            if (r->id > s->v[i].newest) {
                s->v[i].newest = r->id;
                snprintf(s->v[i].vantage, sizeof s->v[i].vantage, "%s", r->vantage);
            }
            return;
        }
    if (s->n == MAX_SITES)
        return;
    view_t *v = &s->v[s->n++];
    snprintf(v->name, sizeof v->name, "%s", r->site);
    snprintf(v->vantage, sizeof v->vantage, "%s", r->vantage);
    v->newest = r->id;
}

typedef struct fill {
    sn_sites_t *s;
    view_t *v;
} fill_t;

static bool grow(view_t *v, size_t id)
{
    if (id < v->cap)
        return true;
    size_t nc = v->cap ? v->cap : 1024;
    while (nc <= id)
        nc *= 2;
    uint8_t *c = realloc(v->cls, nc), *a = realloc(v->alive, nc), *k = realloc(v->cont, nc);
    double *r = realloc(v->rtt, nc * sizeof *r);
    if (c)
        v->cls = c;
    if (a)
        v->alive = a;
    if (k)
        v->cont = k;
    if (r)
        v->rtt = r;
    if (!c || !a || !k || !r)
        return false;
    memset(v->cls + v->cap, 0, nc - v->cap);
    memset(v->alive + v->cap, 0, nc - v->cap);
    memset(v->cont + v->cap, N_CONT - 1, nc - v->cap);
    for (size_t i = v->cap; i < nc; i++)
        v->rtt[i] = NAN;
    v->cap = nc;
    return true;
}

static void fill_obs(void *ud, const sn_history_obs_t *o)
{
    fill_t *fl = ud;
    view_t *v = fl->v;
    sn_sites_t *s = fl->s;
    size_t id = (size_t)o->target_id;
    if (v->oom || !grow(v, id)) {
        v->oom = true;
        return;
    }
    if (id > s->max_id)
        s->max_id = id;
    if (!o->probed)
        return;
    const char *cls = s->f_class >= 0 ? o->cells[s->f_class] : "";
    uint8_t ci = 0;
    for (size_t i = 0; i < N_CLASS; i++)
        if (strcmp(cls, classes[i]) == 0)
            ci = (uint8_t)(i + 1);
    if (v->cls[id] == 0)
        v->n_probed++;
    v->cls[id] = ci ? ci : (uint8_t)N_CLASS; /* an unknown class reads as none */
    v->alive[id] = o->alive;
    const char *cont = s->f_cont >= 0 ? o->cells[s->f_cont] : "";
    for (size_t i = 0; i < N_CONT; i++)
        if (strcmp(cont, continents[i]) == 0)
            v->cont[id] = (uint8_t)i;
    const char *u = s->f_udp_rtt >= 0 ? o->cells[s->f_udp_rtt] : "";
    const char *t = s->f_tcp_rtt >= 0 ? o->cells[s->f_tcp_rtt] : "";
    v->rtt[id] = *u ? atof(u) / 1000.0 : *t ? atof(t) / 1000.0 : NAN;
}

sn_status_t sn_sites_load(sn_sites_t **out, const char *path, sn_error_t *err)
{
    *out = NULL;
    sn_sites_t *s = calloc(1, sizeof *s);
    const char **names = calloc(sn_field_count, sizeof *names);
    if (s == NULL || names == NULL) {
        free(s);
        free(names);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < sn_field_count; i++)
        names[i] = sn_fields[i].name;
    s->f_class = field("reach_class");
    s->f_udp_rtt = field("udp_rtt_us");
    s->f_tcp_rtt = field("tcp_rtt_us");
    s->f_cont = field("continent");
    sn_history_t *h = NULL;
    sn_status_t st = sn_history_open(&h, path, false, names, sn_field_count, err);
    free(names);
    scan_runs_t sr = {.s = s};
    if (st == SN_OK)
        st = sn_history_each_run(h, find_newest, &sr, err);
    if (st == SN_OK) {
        snprintf(s->night, sizeof s->night, "%s", sr.night);
        st = sn_history_each_run(h, find_sites, &sr, err);
    }
    for (size_t i = 0; st == SN_OK && i < s->n; i++) {
        int64_t *ids = NULL;
        size_t n = 0;
        st = sn_history_night_runs(h, s->v[i].newest, &ids, &n, err);
        fill_t fl = {.s = s, .v = &s->v[i]};
        for (size_t k = 0; st == SN_OK && k < n; k++)
            st = sn_history_each_observation(h, ids[k], true, fill_obs, &fl, err);
        free(ids);
        if (st == SN_OK && s->v[i].oom)
            st = sn_error_set(err, SN_ENOMEM, "out of memory reading site %s", s->v[i].name);
    }
    sn_history_close(h);
    if (st != SN_OK) {
        sn_sites_free(s);
        return st;
    }
    /* Every view as wide as the widest, so that absent targets read as not observed. */
    for (size_t i = 0; i < s->n; i++) {
        view_t *v = &s->v[i];
        if (!grow(v, s->max_id)) {
            sn_sites_free(s);
            return sn_error_set(err, SN_ENOMEM, "out of memory");
        }
        for (size_t id = 0; id <= s->max_id; id++) {
            v->n_alive += v->alive[id];
            if (v->cls[id] > 0)
                v->by_class[v->cls[id] - 1]++;
        }
    }
    *out = s;
    return SN_OK;
}

void sn_sites_free(sn_sites_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].cls);
        free(s->v[i].alive);
        free(s->v[i].rtt);
        free(s->v[i].cont);
    }
    free(s);
}

size_t sn_sites_count(const sn_sites_t *s)
{
    return s ? s->n : 0;
}

double sn_sites_jaccard(const sn_sites_t *s, size_t a, size_t b)
{
    size_t both = 0, either = 0;
    for (size_t id = 0; id <= s->max_id; id++) {
        both += s->v[a].alive[id] && s->v[b].alive[id];
        either += s->v[a].alive[id] || s->v[b].alive[id];
    }
    return either ? (double)both / (double)either : 1.0;
}

void sn_sites_overlap(const sn_sites_t *s, sn_sites_overlap_t *o)
{
    memset(o, 0, sizeof *o);
    for (size_t id = 0; id <= s->max_id && s->n > 0; id++) {
        size_t alive = 0, observed = 0;
        uint8_t first = 0;
        bool same = true;
        for (size_t i = 0; i < s->n; i++) {
            alive += s->v[i].alive[id];
            if (s->v[i].cls[id] > 0) {
                observed++;
                if (first == 0)
                    first = s->v[i].cls[id];
                same &= s->v[i].cls[id] == first;
            }
        }
        if (alive > 0) {
            o->alive_any++;
            o->alive_all += alive == s->n;
            o->alive_one += alive == 1;
        }
        if (observed == s->n) {
            o->observed_all++;
            o->class_agree += same;
        }
    }
}

static double median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    for (size_t i = 1; i < n; i++) /* small n per cell: insertion sort */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void site_name(FILE *f, const view_t *v)
{
    if (v->name[0])
        esc(f, v->name);
    else
        fputs("(no site)", f);
}

void sn_sites_write_html(FILE *f, void *ud)
{
    const sn_sites_t *s = ud;
    fputs("<section id=\"sites\"><h2>The view from every site</h2>\n", f);
    if (s == NULL || s->n == 0) {
        fputs("<p>No finished run in the history.</p></section>\n", f);
        return;
    }
    sn_sites_overlap_t o;
    sn_sites_overlap(s, &o);
    double jsum = 0;
    size_t pairs = 0;
    for (size_t a = 0; a < s->n; a++)
        for (size_t b = a + 1; b < s->n; b++, pairs++)
            jsum += sn_sites_jaccard(s, a, b);
    fprintf(f, "<p class=\"headline\">How similar is the view from every location: ");
    if (s->n < 2)
        fprintf(f, "one site only (");
    else
        fprintf(f,
                "mean Jaccard index of the alive sets %.3f over %zu pair%s of %zu sites; %.1f%% "
                "of the nodes alive from any site were alive from every site, %.1f%% from only "
                "one; the reachability class agreed for %.1f%% of the nodes every site probed (",
                jsum / (double)pairs, pairs, pairs == 1 ? "" : "s", s->n,
                o.alive_any ? 100.0 * (double)o.alive_all / (double)o.alive_any : 0,
                o.alive_any ? 100.0 * (double)o.alive_one / (double)o.alive_any : 0,
                o.observed_all ? 100.0 * (double)o.class_agree / (double)o.observed_all : 0);
    fputs("night ", f);
    esc(f, s->night);
    fputs(").</p>\n", f);

    fputs("<table id=\"sites-views\"><thead><tr><th>site</th><th>vantage verdict</th>"
          "<th>probed</th><th>alive</th>",
          f);
    for (size_t c = 0; c < N_CLASS; c++)
        fprintf(f, "<th>%s</th>", classes[c]);
    fputs("</tr></thead><tbody>\n", f);
    for (size_t i = 0; i < s->n; i++) {
        const view_t *v = &s->v[i];
        fputs("<tr><td class=\"x\">", f);
        site_name(f, v);
        fputs("</td><td class=\"x\">", f);
        esc(f, v->vantage[0] ? v->vantage : "not recorded");
        fprintf(f, "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td>", v->n_probed,
                v->n_alive);
        for (size_t c = 0; c < N_CLASS; c++)
            fprintf(f, "<td class=\"n\">%zu</td>", v->by_class[c]);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);

    if (s->n >= 2) {
        fputs("<table id=\"sites-jaccard\"><thead><tr><th>site</th><th>site</th>"
              "<th>Jaccard index of the alive sets</th></tr></thead><tbody>\n",
              f);
        for (size_t a = 0; a < s->n; a++)
            for (size_t b = a + 1; b < s->n; b++) {
                fputs("<tr><td class=\"x\">", f);
                site_name(f, &s->v[a]);
                fputs("</td><td class=\"x\">", f);
                site_name(f, &s->v[b]);
                fprintf(f, "</td><td class=\"n\">%.3f</td></tr>\n", sn_sites_jaccard(s, a, b));
            }
        fputs("</tbody></table>\n", f);
        fprintf(f,
                "<p id=\"sites-overlap\">Alive from any site: %zu; from every site: %zu; from "
                "only one: %zu. Probed by every site: %zu, of which the same reachability "
                "class from every site: %zu.</p>\n",
                o.alive_any, o.alive_all, o.alive_one, o.observed_all, o.class_agree);
    }

    fputs("<table id=\"sites-rtt\"><thead><tr><th>site</th>", f);
    for (size_t c = 0; c < N_CONT; c++)
        fprintf(f, "<th>%s</th>", continents[c][0] ? continents[c] : "unknown");
    fputs("</tr></thead><tbody>\n", f);
    double *buf = malloc((s->max_id + 1) * sizeof *buf);
    for (size_t i = 0; buf && i < s->n; i++) {
        const view_t *v = &s->v[i];
        fputs("<tr><td class=\"x\">", f);
        site_name(f, v);
        fputs("</td>", f);
        for (size_t c = 0; c < N_CONT; c++) {
            size_t n = 0;
            for (size_t id = 0; id <= s->max_id; id++)
                if (v->alive[id] && v->cont[id] == c && !isnan(v->rtt[id]))
                    buf[n++] = v->rtt[id];
            double m = median(buf, n);
            if (isnan(m))
                fputs("<td class=\"n\"></td>", f);
            else
                fprintf(f, "<td class=\"n\">%.2f ms (%zu)</td>", m, n);
        }
        fputs("</tr>\n", f);
    }
    free(buf);
    fputs("</tbody></table>\n<p>RTT: median over the nodes alive from that site of the UDP "
          "round trip (else the TCP handshake), by the node's continent; in brackets the nodes "
          "it is over.</p></section>\n",
          f);
}
