/*
 * The HTML report (see html.h). Everything is written with stdio into one
 * file: a short inline style sheet, then sections of figures, each an inline
 * SVG chart and the table of its numbers side by side (stacked on a narrow
 * screen). SVGs use a viewBox and scale to the page width, text stays
 * selectable, and no element loads anything.
 *
 * Numbers shown come from the statistics' rows (sn_stats_find) or their
 * series, never recomputed here, so the page and the summary files cannot
 * disagree. The headline labels below are presentation only; the meaning of
 * each statistic is the metric table's (printed at the end of the page).
 */
#include "reports/html.h"
#include "lib/text.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CDF_POINTS 2048

static const char *const PALETTE[] = {"#3b6ea5", "#d9822b", "#2e8b57", "#a23b72",
                                      "#6c757d", "#8c6d1f", "#1f9eb0", "#c0392b"};
#define N_PALETTE (sizeof PALETTE / sizeof PALETTE[0])

typedef struct page {
    FILE *f;
    sn_stats_t *st;
    const sn_stats_view_t *v;
} page_t;

/* ---- escaping and formatting -------------------------------------------- */

/* Writes at most max_chars characters of s, escaped; "…" when cut. */
static void escape_n(FILE *f, const char *s, size_t max_chars)
{
    if (s == NULL)
        return;
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, chars = 0;
    while (i < n) {
        if (chars == max_chars) {
            fputs("\u2026", f);
            return;
        }
        unsigned char c = u[i];
        size_t k = sn_utf8_len(u + i, n - i);
        chars++;
        if (k == 0 || c < 0x20 || c == 0x7f) {
            fputs("\uFFFD", f);
            i += k == 0 ? 1 : k;
            continue;
        }
        /* C1 controls (U+0080..U+009F) render as nothing useful either */
        if (k == 2 && c == 0xC2 && u[i + 1] < 0xA0) {
            fputs("\uFFFD", f);
            i += 2;
            continue;
        }
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fwrite(u + i, 1, k, f); break;
        }
        i += k;
    }
}

/* Characters escape_n would show of s, at most max (with the ellipsis). */
static size_t utf8_chars(const char *s, size_t max)
{
    size_t n = 0;
    for (const unsigned char *u = (const unsigned char *)s; *u != '\0'; u++)
        n += (*u & 0xC0) != 0x80;
    return n > max ? max + 1 : n;
}

void sn_html_escape(FILE *f, const char *s)
{
    escape_n(f, s, SIZE_MAX);
}

static void fmt_count(char *buf, size_t cap, double v)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%.0f", v);
    size_t n = strlen(raw), o = 0;
    size_t lead = raw[0] == '-' ? 1 : 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i > lead && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
}

static void fmt_pct(char *buf, size_t cap, double share)
{
    double p = share * 100.0;
    if (p > 0 && p < 1)
        snprintf(buf, cap, "%.2f%%", p);
    else
        snprintf(buf, cap, "%.1f%%", p);
}

/* A row's value as a reader wants it: 1,234 / 81.2% / 0.123 ms. */
static void fmt_row(char *buf, size_t cap, const sn_stats_row_t *r)
{
    if (r != NULL && !r->known && r->has_unknown) {
        char n[32];
        fmt_count(n, sizeof n, (double)r->unknown);
        /* "n/a (12 unknown)", cut to fit like every other value */
        const char *parts[3] = {"n/a (", n, " unknown)"};
        size_t o = 0;
        for (size_t k = 0; k < 3; k++)
            for (const char *c = parts[k]; *c != '\0' && o + 1 < cap; c++)
                buf[o++] = *c;
        if (cap > 0)
            buf[o] = '\0';
        return;
    }
    if (r == NULL || !r->known) {
        snprintf(buf, cap, "n/a");
        return;
    }
    switch (r->unit) {
    case SN_UNIT_COUNT: fmt_count(buf, cap, r->value); break;
    case SN_UNIT_SHARE: fmt_pct(buf, cap, r->value); break;
    case SN_UNIT_MS: snprintf(buf, cap, "%.3f ms", r->value); break;
    case SN_UNIT_NUMBER: snprintf(buf, cap, r->value >= 100 ? "%.0f" : "%.3f", r->value); break;
    case SN_UNIT_TEXT: snprintf(buf, cap, "%s", r->text != NULL ? r->text : ""); break;
    }
}

static const sn_stats_row_t *row(const page_t *p, const char *name)
{
    return sn_stats_find(p->st, name);
}

static double row_value(const page_t *p, const char *name)
{
    const sn_stats_row_t *r = row(p, name);
    return r != NULL && r->known ? r->value : 0;
}

/* Static text of this file; never a string from outside (use esc). */
static void out(const page_t *p, const char *s)
{
    fputs(s, p->f);
}

static void esc(const page_t *p, const char *s)
{
    sn_html_escape(p->f, s);
}

/* ---- headline ----------------------------------------------------------- */

static const struct {
    const char *metric, *label;
} LABELS[] = {
    {"listings", "Listings read"},
    {"targets", "Distinct targets"},
    {"probed", "Probed"},
    {"alive", "Alive"},
    {"alive.share", "Alive"},
    {"alive_udp.share", "Answered UDP"},
    {"alive_tcp_own.share", "TCP on own port"},
    {"sn_eligible", "Super-node eligible"},
    {"sn_eligible.share", "Super-node eligible"},
    {"population.chao1", "Estimated population (Chao1)"},
    {"edu.share", "Academic hosts"},
    {"edu.institutions", "Academic institutions"},
    {"country.US.share", "In the United States"},
    {"continent.AS.share", "In Asia"},
    {"continent.EU.share", "In Europe"},
    {"addr_kind.dynamic.share", "Dynamic addresses"},
    {"asns", "Distinct ASes"},
    {"as_top1.share", "Largest AS"},
    {"as_hhi", "AS concentration (HHI)"},
    {"port_top.share", "Most common port"},
    {"seen.top20.share", "Listings held by the top 20"},
    {"seen.top100.share", "Listings held by the top 100"},
    {"seen.top10pct.share", "Listings held by the top 10%"},
    {"rtt.udp.p50_ms", "Median UDP round trip"},
    {"rtt.tcp.p50_ms", "Median TCP handshake"},
};

static const char *label_of(const char *metric)
{
    for (size_t i = 0; i < sizeof LABELS / sizeof LABELS[0]; i++)
        if (strcmp(LABELS[i].metric, metric) == 0)
            return LABELS[i].label;
    return metric;
}

/* "of 1,000 probed", "over 812 samples" */
static void denominator_text(const page_t *p, const sn_stats_row_t *r)
{
    if (r->denominator[0] == '\0')
        return;
    const sn_stats_row_t *d = row(p, r->denominator);
    char num[48];
    fmt_row(num, sizeof num, d);
    if (r->unit == SN_UNIT_MS) {
        fprintf(p->f, "over %s samples", num);
        return;
    }
    if (r->unit == SN_UNIT_NUMBER) {
        fprintf(p->f, "over %s ", num);
        esc(p, strcmp(r->denominator, "asn.known") == 0 ? "nodes with a known AS" : r->denominator);
        return;
    }
    if (r->unit == SN_UNIT_SHARE) {
        /* "730 of 1,000 probed" when the numerator is a row of its own */
        char base[sizeof r->name];
        size_t bl = strlen(r->name);
        if (bl > 6 && strcmp(r->name + bl - 6, ".share") == 0) {
            memcpy(base, r->name, bl - 6);
            base[bl - 6] = '\0';
            const sn_stats_row_t *c = row(p, base);
            if (c != NULL && c->unit == SN_UNIT_COUNT && c->known) {
                char cnt[48];
                fmt_row(cnt, sizeof cnt, c);
                fprintf(p->f, "%s ", cnt);
            }
        }
    }
    fprintf(p->f, "of %s ", num);
    const char *den = r->denominator;
    if (strcmp(den, "asn.known") == 0)
        den = "nodes with a known AS";
    else if (strcmp(den, "targets") == 0)
        den = "targets";
    esc(p, den);
}

static void headline_extra(const page_t *p, const sn_stats_row_t *r)
{
    const sn_stats_view_t *v = p->v;
    if (strcmp(r->name, "port_top.share") == 0 && v->ports.n > 0) {
        out(p, " &middot; port ");
        esc(p, v->ports.v[0].key);
    } else if (strcmp(r->name, "population.chao1") == 0 && r->known) {
        char f1[32], f2[32];
        fmt_count(f1, sizeof f1, row_value(p, "population.f1"));
        fmt_count(f2, sizeof f2, row_value(p, "population.f2"));
        fprintf(p->f,
                " <span class=\"x\">S<sub>obs</sub> + f1(f1&minus;1)/(2(f2+1)), f1 = %s listed "
                "once, f2 = %s twice</span>",
                f1, f2);
    } else if (strcmp(r->name, "as_top1.share") == 0 && v->asns.n > 0) {
        out(p, " &middot; AS");
        esc(p, v->asns.v[0].key);
        if (v->asns.v[0].label != NULL) {
            out(p, " <span class=\"x\">");
            escape_n(p->f, v->asns.v[0].label, 32);
            out(p, "</span>");
        }
    }
}

static void write_headline(const page_t *p)
{
    const sn_stats_view_t *v = p->v;
    out(p, "<section id=\"headline\"><h2>Headline</h2>\n<div class=\"cards\">\n");
    for (size_t i = 0; i < v->n_rows; i++) {
        const sn_stats_row_t *r = &v->rows[i];
        if (!r->headline)
            continue;
        char raw[64], shown[64];
        sn_stats_format_value(r, raw, sizeof raw);
        fmt_row(shown, sizeof shown, r);
        fprintf(p->f, "<div class=\"card%s\" data-metric=\"", r->study ? " cmp" : "");
        esc(p, r->name);
        out(p, "\" data-value=\"");
        esc(p, raw);
        out(p, "\"><div class=\"k\">");
        esc(p, label_of(r->name));
        out(p, "</div><div class=\"v\">");
        esc(p, shown);
        out(p, "</div><div class=\"d\">");
        denominator_text(p, r);
        headline_extra(p, r);
        out(p, "</div>");
        if (r->study != NULL) {
            out(p, "<div class=\"s\">the studies: ");
            esc(p, r->study);
            out(p, "</div>");
        }
        out(p, "</div>\n");
    }
    out(p, "</div>\n");

    out(p, "<h3>Compared with the studies' figures</h3>\n"
           "<p class=\"note\">Where a statistic is defined as in the earlier measurement studies "
           "of Skype super nodes, their published figure stands beside this scan's. The "
           "studies' figures are quoted, not recomputed.</p>\n"
           "<div class=\"tbl\"><table class=\"studies\"><thead><tr><th>Statistic</th>"
           "<th class=\"n\">This scan</th><th>Denominator</th><th class=\"n\">The studies</th>"
           "</tr></thead><tbody>\n");
    for (size_t i = 0; i < v->n_rows; i++) {
        const sn_stats_row_t *r = &v->rows[i];
        if (r->study == NULL)
            continue;
        char shown[64];
        fmt_row(shown, sizeof shown, r);
        out(p, "<tr><td>");
        esc(p, label_of(r->name));
        out(p, " <code>");
        esc(p, r->name);
        out(p, "</code></td><td class=\"n\">");
        esc(p, shown);
        out(p, "</td><td>");
        denominator_text(p, r);
        out(p, "</td><td class=\"n\">");
        esc(p, r->study);
        out(p, "</td></tr>\n");
    }
    out(p, "</tbody></table></div>\n</section>\n");
}

/* ---- charts ------------------------------------------------------------- */

static void nice_axis(double max, double *step, double *top)
{
    if (max <= 0) {
        *step = 1;
        *top = 1;
        return;
    }
    double raw = max / 5.0, mag = pow(10, floor(log10(raw))), f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    *step = nice * mag;
    *top = ceil(max / *step) * *step;
}

/* A figure: chart and table side by side, or one above the other (stacked). */
static void figure_open_as(const page_t *p, const char *id, const char *title, bool stacked)
{
    out(p, "<figure class=\"fig\" id=\"fig-");
    esc(p, id);
    out(p, "\"><figcaption>");
    esc(p, title);
    out(p,
        stacked ? "</figcaption><div class=\"stack\">\n" : "</figcaption><div class=\"pair\">\n");
}

static void figure_open(const page_t *p, const char *id, const char *title)
{
    figure_open_as(p, id, title, false);
}

static void figure_close(const page_t *p, const char *note)
{
    out(p, "</div>");
    if (note != NULL) {
        out(p, "<p class=\"note\">");
        out(p, note); /* static text of this file only */
        out(p, "</p>");
    }
    out(p, "</figure>\n");
}

/*
 * A horizontal bar chart of n bars and its table. Bars show key (or key and
 * label), count and share of total.
 */
static void hbar(const page_t *p, const char *id, const char *title, const sn_stats_bar_t *bars,
                 size_t n, uint64_t total, const char *key_head, const char *label_head,
                 const char *key_prefix, const char *note)
{
    /* the continents' names say it all; an AS needs its number and its name */
    bool label_only = key_prefix == NULL && label_head != NULL;
    figure_open(p, id, title);
    /* the label column fits the longest label (about 7 px a character at 12 px) */
    size_t longest = 4;
    for (size_t i = 0; i < n; i++) {
        size_t chars = 0;
        if (label_only && bars[i].label != NULL) {
            chars = utf8_chars(bars[i].label, 26);
        } else {
            chars = strlen(bars[i].key) + (key_prefix != NULL ? strlen(key_prefix) : 0);
            if (bars[i].label != NULL)
                chars += 1 + utf8_chars(bars[i].label, 18);
        }
        longest = chars > longest ? chars : longest;
    }
    const double W = 640, R = 130, row_h = 24, bar_h = 16, top = 6;
    double L = 7.0 * (double)longest + 14;
    L = L < 60 ? 60 : L > 300 ? 300 : L;
    double H = top * 2 + row_h * (double)(n > 0 ? n : 1);
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++)
        max = bars[i].count > max ? bars[i].count : max;
    fprintf(p->f,
            "<svg class=\"chart\" data-chart=\"%s\" data-bars=\"%zu\" viewBox=\"0 0 %.0f %.0f\" "
            "style=\"max-width:%.0fpx\" role=\"img\" aria-label=\"",
            id, n, W, H, W);
    esc(p, title);
    out(p, "\">\n");
    if (n == 0)
        fprintf(p->f, "<text x=\"%.0f\" y=\"%.0f\" class=\"empty\">no data</text>\n", W / 2,
                H / 2 + 4);
    for (size_t i = 0; i < n; i++) {
        const sn_stats_bar_t *b = &bars[i];
        double y = top + row_h * (double)i;
        double w = max > 0 ? (W - L - R) * (double)b->count / (double)max : 0;
        char cnt[32], pct[32];
        fmt_count(cnt, sizeof cnt, (double)b->count);
        fmt_pct(pct, sizeof pct, total > 0 ? (double)b->count / (double)total : 0);
        fprintf(p->f, "<text x=\"%.0f\" y=\"%.1f\" class=\"lab\">", L - 6, y + row_h / 2 + 4);
        if (label_only && b->label != NULL) {
            escape_n(p->f, b->label, 26);
        } else {
            if (key_prefix != NULL)
                esc(p, key_prefix);
            esc(p, b->key);
            if (b->label != NULL) {
                out(p, " ");
                escape_n(p->f, b->label, 18);
            }
        }
        fprintf(p->f,
                "</text><rect class=\"bar\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" "
                "fill=\"%s\"><title>",
                L, y + (row_h - bar_h) / 2, w, bar_h, PALETTE[0]);
        esc(p, b->key);
        if (b->label != NULL) {
            out(p, " ");
            esc(p, b->label);
        }
        fprintf(p->f, ": %s (%s)</title></rect>", cnt, pct);
        fprintf(p->f, "<text x=\"%.1f\" y=\"%.1f\" class=\"val\">%s &middot; %s</text>\n",
                L + w + 6, y + row_h / 2 + 4, cnt, pct);
    }
    out(p, "</svg>\n<div class=\"tbl\"><table><thead><tr><th>");
    esc(p, key_head);
    out(p, "</th>");
    if (label_head != NULL) {
        out(p, "<th>");
        esc(p, label_head);
        out(p, "</th>");
    }
    out(p, "<th class=\"n\">Nodes</th><th class=\"n\">Share</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        char cnt[32], pct[32];
        fmt_count(cnt, sizeof cnt, (double)bars[i].count);
        fmt_pct(pct, sizeof pct, total > 0 ? (double)bars[i].count / (double)total : 0);
        out(p, "<tr><td>");
        if (key_prefix != NULL)
            esc(p, key_prefix);
        esc(p, bars[i].key);
        out(p, "</td>");
        if (label_head != NULL) {
            out(p, "<td class=\"x\">");
            esc(p, bars[i].label);
            out(p, "</td>");
        }
        fprintf(p->f, "<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n", cnt, pct);
    }
    char tot[32];
    fmt_count(tot, sizeof tot, (double)total);
    fprintf(p->f,
            "</tbody><tfoot><tr><td%s>Denominator</td><td class=\"n\">%s</td><td></td></tr>"
            "</tfoot></table></div>\n",
            label_head != NULL ? " colspan=\"2\"" : "", tot);
    figure_close(p, note);
}

/* Plot frame: margins and the mapping of data to SVG coordinates. */
typedef struct plot {
    double W, H, l, r, t, b;
    double x0, x1, y0, y1;
    bool logx;
} plot_t;

static double px(const plot_t *pl, double x)
{
    double a = pl->logx ? log10(x) : x, lo = pl->logx ? log10(pl->x0) : pl->x0,
           hi = pl->logx ? log10(pl->x1) : pl->x1;
    if (hi <= lo)
        hi = lo + 1;
    return pl->l + (pl->W - pl->l - pl->r) * (a - lo) / (hi - lo);
}

static double py(const plot_t *pl, double y)
{
    double span = pl->y1 - pl->y0 > 0 ? pl->y1 - pl->y0 : 1;
    return pl->H - pl->b - (pl->H - pl->t - pl->b) * (y - pl->y0) / span;
}

static void svg_open(const page_t *p, const plot_t *pl, const char *id, size_t series,
                     const char *title)
{
    fprintf(p->f,
            "<svg class=\"chart\" data-chart=\"%s\" data-series=\"%zu\" viewBox=\"0 0 %.0f %.0f\" "
            "style=\"max-width:%.0fpx\" role=\"img\" aria-label=\"",
            id, series, pl->W, pl->H, pl->W);
    esc(p, title);
    out(p, "\">\n");
}

/* Grid, ticks and axis titles; y ticks as percentages when pct. */
static void axes(const page_t *p, const plot_t *pl, double xstep, double ystep, bool xpct,
                 bool ypct, const char *xtitle, const char *ytitle)
{
    FILE *f = p->f;
    for (double y = pl->y0; y <= pl->y1 + ystep / 1000; y += ystep) {
        double yy = py(pl, y);
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", pl->l,
                yy, pl->W - pl->r, yy);
        char lab[32];
        if (ypct)
            snprintf(lab, sizeof lab, "%.0f%%", y * 100);
        else
            fmt_count(lab, sizeof lab, y);
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                pl->l - 6, yy + 4, lab);
    }
    if (pl->logx) {
        for (double x = pl->x0; x <= pl->x1 * 1.0001; x *= 10) {
            double xx = px(pl, x);
            fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", xx,
                    pl->t, xx, pl->H - pl->b);
            fprintf(f,
                    "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                    xx, pl->H - pl->b + 16, x / 1000.0);
        }
    } else {
        for (double x = pl->x0; x <= pl->x1 + xstep / 1000; x += xstep) {
            double xx = px(pl, x);
            fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", xx,
                    pl->t, xx, pl->H - pl->b);
            char lab[32];
            if (xpct)
                snprintf(lab, sizeof lab, "%.0f%%", x * 100);
            else
                fmt_count(lab, sizeof lab, x);
            fprintf(f,
                    "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                    xx, pl->H - pl->b + 16, lab);
        }
    }
    fprintf(f, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
            pl->l, pl->t, pl->W - pl->l - pl->r, pl->H - pl->t - pl->b);
    fprintf(f, "<text class=\"axt\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
            pl->l + (pl->W - pl->l - pl->r) / 2, pl->H - 8, xtitle);
    fprintf(f,
            "<text class=\"axt\" transform=\"translate(14 %.1f) rotate(-90)\" "
            "text-anchor=\"middle\">%s</text>\n",
            pl->t + (pl->H - pl->t - pl->b) / 2, ytitle);
}

static void legend(const page_t *p, const plot_t *pl, size_t i, const char *name, const char *color)
{
    double x = pl->l + 10, y = pl->t + 10 + 16 * (double)i;
    fprintf(p->f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"4\" fill=\"%s\"/>"
            "<text class=\"leg\" x=\"%.1f\" y=\"%.1f\">",
            x, y + 2, color, x + 18, y + 7);
    esc(p, name);
    out(p, "</text>\n");
}

/* ---- sections ----------------------------------------------------------- */

/* One row of the NAT table: label (static HTML), the metric's value
 * (data-value exactly the summary's; shown overrides how it reads), and
 * "PRE N POST" with N its denominator's value (PRE NULL: POST alone). */
static void observed_row(const page_t *p, const char *label, const char *metric, const char *shown,
                         const char *pre, const char *post)
{
    const sn_stats_row_t *r = row(p, metric);
    char raw[128], val[128], den[48] = "";
    sn_stats_format_value(r, raw, sizeof raw);
    if (shown == NULL) {
        fmt_row(val, sizeof val, r);
        shown = val;
    }
    if (r != NULL && r->denominator[0] != '\0')
        fmt_row(den, sizeof den, row(p, r->denominator));
    out(p, "<tr><td>");
    out(p, label);
    out(p, "</td><td class=\"n\" data-metric=\"");
    esc(p, metric);
    out(p, "\" data-value=\"");
    esc(p, raw);
    out(p, "\">");
    esc(p, shown);
    out(p, "</td><td>");
    if (pre != NULL) {
        esc(p, pre);
        out(p, " ");
        esc(p, den);
        out(p, " ");
    }
    esc(p, post);
    out(p, "</td></tr>\n");
}

/*
 * What the nodes said our address is, and where their replies came from:
 * whether we are NATed, how our NAT maps, and which nodes sit behind one.
 */
static void write_observed(const page_t *p)
{
    out(p, "<h3 id=\"observed\">Our address as the nodes saw it</h3>\n"
           "<p>A node answering the Skype probe says which IP address our request came from; a "
           "STUN node says the address and the port. An address that is not one of this "
           "machine's own means a NAT in front of us; the same address and port for every node "
           "means our NAT's mapping is endpoint-independent. A UDP reply from another address "
           "or port than the one probed means a NAT or relay in front of the node: such a node "
           "is not super-node eligible.</p>\n"
           "<div class=\"tbl\"><table class=\"observed\"><thead><tr><th>Signal</th>"
           "<th class=\"n\">Value</th><th>Over</th></tr></thead><tbody>\n");
    observed_row(p, "Nodes that said our address", "observed.known", NULL, "of", "alive");
    observed_row(p, "&hellip; with our port too (STUN)", "observed.with_port", NULL, "of",
                 "observations");
    observed_row(p, "Distinct IP addresses seen", "observed.distinct_ip", NULL, "over",
                 "observations");
    observed_row(p, "Distinct IP:port pairs seen", "observed.distinct_ip_port", NULL, "over",
                 "observations with a port");
    const sn_stats_row_t *top = row(p, "observed.top");
    observed_row(p, "Most common address", "observed.top",
                 top != NULL && top->known ? top->text : "none", NULL, NULL);
    char share[48];
    fmt_row(share, sizeof share, row(p, "observed.top.share"));
    char post[80];
    snprintf(post, sizeof post, "observations (%s)", share);
    observed_row(p, "&hellip; nodes that saw us there", "observed.top.n", NULL, "of", post);
    const sn_stats_row_t *loc = row(p, "observed.local");
    bool read_back = loc != NULL && !loc->known && row_value(p, "observed.known") > 0;
    observed_row(p, "One of this machine's addresses?", "observed.local",
                 loc != NULL && loc->known ? (loc->value > 0 ? "yes: not NATed" : "no: NATed")
                                           : "unknown",
                 NULL,
                 read_back ? "read back from a results file: this machine may not be the one "
                             "that scanned"
                           : NULL);
    observed_row(p, "Our NAT's mapping", "observed.mapping", NULL, "over",
                 "observations with a port");
    fmt_row(share, sizeof share, row(p, "udp_reply_other.share"));
    snprintf(post, sizeof post, "that answered UDP (%s)", share);
    observed_row(p, "UDP replies from another address or port", "udp_reply_other", NULL, "of",
                 post);
    out(p, "</tbody></table></div>\n");
}

static void write_reach(const page_t *p)
{
    const sn_stats_view_t *v = p->v;
    out(p, "<section id=\"reach\"><h2>Reachability</h2>\n");
    char probed[32], alive[32];
    fmt_count(probed, sizeof probed, row_value(p, "probed"));
    fmt_count(alive, sizeof alive, row_value(p, "alive"));
    fprintf(p->f,
            "<p>%s targets were probed and %s answered over UDP or TCP. A class says which of "
            "UDP, TCP on the node's own port, TCP 443 and TCP 80 answered; <em>super-node "
            "eligible</em> means UDP and TCP on the own port both answered from the probed "
            "address itself.</p>\n",
            probed, alive);
    hbar(p, "reach", "Reachability classes of the probed targets", v->reach.v, v->reach.n,
         v->reach.total, "Class", NULL, NULL, NULL);
    out(p, "<div class=\"tbl\"><table><thead><tr><th>Answered</th><th class=\"n\">Nodes</th>"
           "<th class=\"n\">Share of probed</th></tr></thead><tbody>\n");
    static const char *const rows[][2] = {
        {"alive", "UDP or TCP (alive)"},
        {"alive_udp", "UDP"},
        {"alive_tcp_own", "TCP on the own port"},
        {"alive_tcp_443", "TCP on the fallback port 443 (not the own port)"},
        {"alive_tcp_80", "TCP on the fallback port 80 (not the own port or 443)"},
        {"sn_eligible", "super-node eligible"},
        {"blocked", "not probed: blocklist"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char name[64], cnt[32], pct[32] = "";
        snprintf(name, sizeof name, "%s.share", rows[i][0]);
        fmt_count(cnt, sizeof cnt, row_value(p, rows[i][0]));
        if (row(p, name) != NULL)
            fmt_row(pct, sizeof pct, row(p, name));
        fprintf(p->f,
                "<tr><td>%s</td><td class=\"n\" data-metric=\"%s\">%s</td><td "
                "class=\"n\">%s</td></tr>\n",
                rows[i][1], rows[i][0], cnt, pct);
    }
    out(p, "</tbody></table></div>\n");
    write_observed(p);
    out(p, "</section>\n");
}

static void write_geo(const page_t *p)
{
    const sn_stats_view_t *v = p->v;
    out(p, "<section id=\"geo\"><h2>Where the nodes are</h2>\n");
    char n[32];
    fmt_count(n, sizeof n, (double)v->population_n);
    fprintf(p->f, "<p>Over the %s %s nodes%s. Unknown: no database knew the address.</p>\n", n,
            strcmp(v->population, "alive") == 0 ? "alive" : "listed",
            strcmp(v->population, "alive") == 0 ? "" : " (nothing was probed)");
    hbar(p, "continents", "Continents", v->continents.v, v->continents.n, v->continents.total,
         "Code", "Continent", NULL, NULL);
    /* the 15 largest countries, then "unknown" (the series keeps it last) */
    sn_stats_bar_t top[16];
    size_t nc = 0, known = 0;
    for (size_t i = 0; i < v->countries.n; i++) {
        bool unknown = strcmp(v->countries.v[i].key, "unknown") == 0;
        known += !unknown;
        if (unknown || nc < 15)
            top[nc++] = v->countries.v[i];
    }
    hbar(p, "countries", "Top countries", top, nc, v->countries.total, "Country", NULL, NULL,
         known > 15 ? "The 15 largest countries; every country is in the summary file "
                      "(country.*)."
                    : NULL);
    out(p, "</section>\n");
}

static void write_as(const page_t *p)
{
    const sn_stats_view_t *v = p->v;
    out(p, "<section id=\"asn\"><h2>Autonomous systems</h2>\n");
    char asns[32], known[32], hhi[32], top[32];
    fmt_count(asns, sizeof asns, row_value(p, "asns"));
    fmt_count(known, sizeof known, row_value(p, "asn.known"));
    fmt_row(hhi, sizeof hhi, row(p, "as_hhi"));
    fmt_row(top, sizeof top, row(p, "as_top1.share"));
    double h = row_value(p, "as_hhi");
    fprintf(
        p->f,
        "<p>%s distinct ASes among the %s nodes with a known AS. The largest holds %s of "
        "them; the Herfindahl-Hirschman index of the shares is <span "
        "data-metric=\"as_hhi\">%s</span> "
        "(0&ndash;10,000; below 1,500 unconcentrated, above 2,500 highly concentrated): %s.</p>\n",
        asns, known, top, hhi,
        row(p, "as_hhi") == NULL || !row(p, "as_hhi")->known ? "no AS data"
        : h > 2500                                           ? "a dominant AS or a few"
        : h > 1500                                           ? "moderately concentrated"
                                                             : "no dominant AS");
    hbar(p, "asns", "Top 10 autonomous systems", v->asns.v, v->asns.n, v->asns.total, "AS",
         "Organisation", "AS", NULL);
    out(p, "</section>\n");
}

static void write_ports(const page_t *p)
{
    const sn_stats_view_t *v = p->v;
    out(p, "<section id=\"ports\"><h2>Ports</h2>\n");
    char ports[32], s33033[32], top[32];
    fmt_count(ports, sizeof ports, row_value(p, "ports"));
    fmt_row(s33033, sizeof s33033, row(p, "port.33033.share"));
    fmt_row(top, sizeof top, row(p, "port_top.share"));
    fprintf(p->f,
            "<p>%s distinct ports among the nodes; the most common holds %s of them, and %s "
            "use port 33033.</p>\n",
            ports, top, s33033);
    hbar(p, "ports", "Top 10 ports", v->ports.v, v->ports.n, v->ports.total, "Port", NULL, NULL,
         NULL);
    out(p, "</section>\n");
}

static void write_lorenz(const page_t *p)
{
    const sn_stats_view_t *v = p->v;
    out(p, "<section id=\"seen\"><h2>How often the harvests listed each node</h2>\n");
    char t20[32], t100[32], t10[32], gini[32];
    fmt_row(t20, sizeof t20, row(p, "seen.top20.share"));
    fmt_row(t100, sizeof t100, row(p, "seen.top100.share"));
    fmt_row(t10, sizeof t10, row(p, "seen.top10pct.share"));
    fmt_row(gini, sizeof gini, row(p, "seen.gini"));
    fprintf(p->f,
            "<p>The 20 most-listed targets hold %s of all listings, the top 100 %s, the "
            "most-listed tenth %s (Gini coefficient %s). The Lorenz curve orders the targets "
            "from the least to the most listed.</p>\n",
            t20, t100, t10, gini);
    figure_open(p, "lorenz", "Lorenz curve of seen-counts");
    plot_t pl = {
        .W = 460, .H = 420, .l = 60, .r = 16, .t = 12, .b = 48, .x0 = 0, .x1 = 1, .y0 = 0, .y1 = 1};
    svg_open(p, &pl, "lorenz", 1, "Lorenz curve of seen-counts");
    axes(p, &pl, 0.25, 0.25, true, true, "share of targets (least listed first)",
         "share of listings");
    fprintf(p->f, "<line class=\"eq\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            px(&pl, 0), py(&pl, 0), px(&pl, 1), py(&pl, 1));
    /* one vertex per distinct seen-count; thinned to what a screen can show */
    out(p, "<polyline class=\"curve\" fill=\"none\" stroke=\"");
    out(p, PALETTE[0]);
    out(p, "\" points=\"");
    double lastx = -1;
    for (size_t i = 0; i < v->n_lorenz; i++) {
        bool keep = i == 0 || i + 1 == v->n_lorenz || v->lorenz_x[i] - lastx >= 0.001;
        if (!keep)
            continue;
        lastx = v->lorenz_x[i];
        fprintf(p->f, "%.1f,%.1f ", px(&pl, v->lorenz_x[i]), py(&pl, v->lorenz_y[i]));
    }
    out(p, "\"/>\n");
    legend(p, &pl, 0, "seen-counts", PALETTE[0]);
    fprintf(p->f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
            "stroke-dasharray=\"4 3\"/>"
            "<text class=\"leg\" x=\"%.1f\" y=\"%.1f\">equality</text>\n",
            pl.l + 10, pl.t + 30.0, pl.l + 22, pl.t + 30.0, pl.l + 28, pl.t + 33.0);
    out(p, "</svg>\n<div class=\"tbl\"><table><thead><tr><th>Least-listed targets</th>"
           "<th class=\"n\">Their share of listings</th></tr></thead><tbody>\n");
    for (unsigned pc = 10; pc <= 100; pc += 10) {
        char name[32], val[32];
        snprintf(name, sizeof name, "lorenz.p%02u", pc);
        fmt_row(val, sizeof val, row(p, name));
        fprintf(p->f, "<tr><td>%u%%</td><td class=\"n\">%s</td></tr>\n", pc, val);
    }
    fprintf(p->f,
            "</tbody></table>\n<table><thead><tr><th>Most-listed targets</th>"
            "<th class=\"n\">Their share</th></tr></thead><tbody>"
            "<tr><td>top 20</td><td class=\"n\">%s</td></tr>"
            "<tr><td>top 100</td><td class=\"n\">%s</td></tr>"
            "<tr><td>top 10%%</td><td class=\"n\">%s</td></tr></tbody></table></div>\n",
            t20, t100, t10);
    figure_close(p, NULL);
    out(p, "</section>\n");
}

static void write_discovery(const page_t *p)
{
    const sn_stats_view_t *v = p->v;
    out(p, "<section id=\"discovery\"><h2>Discovery curve</h2>\n"
           "<p>Distinct targets after each input, in the order the inputs were given (read back "
           "from a results file, the order follows the sources column). A curve still rising "
           "at the end means more harvesting would have found more nodes.</p>\n");
    figure_open_as(p, "discovery", "Cumulative distinct targets after each input", true);
    bool alive = p->v->population != NULL && strcmp(p->v->population, "alive") == 0;
    size_t n = v->n_inputs;
    double ymax = n > 0 ? (double)v->inputs[n - 1].cum_targets : 0, ystep, ytop, xstep, xtop;
    nice_axis(ymax, &ystep, &ytop);
    nice_axis((double)(n > 0 ? n : 1), &xstep, &xtop);
    if (xstep < 1)
        xstep = 1;
    xtop = (double)(n > 0 ? n : 1);
    plot_t pl = {.W = 640,
                 .H = 360,
                 .l = 70,
                 .r = 16,
                 .t = 12,
                 .b = 48,
                 .x0 = 0,
                 .x1 = xtop,
                 .y0 = 0,
                 .y1 = ytop};
    svg_open(p, &pl, "discovery", alive ? 2 : 1, "discovery curve");
    axes(p, &pl, xstep, ystep, false, false, "inputs read", "distinct targets");
    for (int s = 0; s < (alive ? 2 : 1); s++) {
        fprintf(p->f, "<polyline class=\"curve\" fill=\"none\" stroke=\"%s\" points=\"%.1f,%.1f ",
                PALETTE[s == 0 ? 0 : 2], px(&pl, 0), py(&pl, 0));
        for (size_t i = 0; i < n; i++)
            fprintf(p->f, "%.1f,%.1f ", px(&pl, (double)(i + 1)),
                    py(&pl, (double)(s == 0 ? v->inputs[i].cum_targets : v->inputs[i].cum_alive)));
        out(p, "\"/>\n");
        if (n <= 60)
            for (size_t i = 0; i < n; i++)
                fprintf(
                    p->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>",
                    px(&pl, (double)(i + 1)),
                    py(&pl, (double)(s == 0 ? v->inputs[i].cum_targets : v->inputs[i].cum_alive)),
                    PALETTE[s == 0 ? 0 : 2]);
        legend(p, &pl, (size_t)s, s == 0 ? "all targets" : "alive targets",
               PALETTE[s == 0 ? 0 : 2]);
    }
    out(p, n > 40 ? "</svg>\n<div class=\"tbl scroll\">" : "</svg>\n<div class=\"tbl\">");
    out(p, "<table><thead><tr><th>#</th><th>Input</th>"
           "<th class=\"n\">Listings</th><th class=\"n\">New</th><th class=\"n\">Cumulative</th>");
    if (alive)
        out(p, "<th class=\"n\">New alive</th><th class=\"n\">Cumulative alive</th>");
    out(p, "</tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        const sn_stats_input_t *in = &v->inputs[i];
        char l[32] = "", nw[32], cum[32];
        if (in->listings_known)
            fmt_count(l, sizeof l, (double)in->listings);
        fmt_count(nw, sizeof nw, (double)in->new_targets);
        fmt_count(cum, sizeof cum, (double)in->cum_targets);
        fprintf(p->f, "<tr><td>%zu</td><td class=\"x path\">", i + 1);
        esc(p, in->name);
        fprintf(p->f, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>",
                l, nw, cum);
        if (alive) {
            fmt_count(nw, sizeof nw, (double)in->new_alive);
            fmt_count(cum, sizeof cum, (double)in->cum_alive);
            fprintf(p->f, "<td class=\"n\">%s</td><td class=\"n\">%s</td>", nw, cum);
        }
        out(p, "</tr>\n");
    }
    out(p, "</tbody></table></div>\n");
    figure_close(p, n == 0 ? "No inputs are known for these results." : NULL);
    out(p, "</section>\n");
}

/* A CDF chart of the given histograms (kind, continent) with a legend. */
typedef struct cdf_line {
    int kind;
    const char *continent; /* NULL: all */
    const char *name;
} cdf_line_t;

static void cdf_chart(const page_t *p, const char *id, const char *title, const cdf_line_t *lines,
                      size_t n)
{
    double *x = malloc(CDF_POINTS * sizeof *x), *y = malloc(CDF_POINTS * sizeof *y);
    if (x == NULL || y == NULL) {
        free(x);
        free(y);
        return;
    }
    double lo = 0, hi = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = sn_stats_rtt_cdf(p->st, lines[i].kind, lines[i].continent, x, y, CDF_POINTS);
        if (k > CDF_POINTS)
            k = CDF_POINTS;
        for (size_t j = 0; j < k; j++) {
            double v = x[j] < 1 ? 1 : x[j];
            if (lo == 0 || v < lo)
                lo = v;
            if (v > hi)
                hi = v;
        }
    }
    plot_t pl = {
        .W = 640, .H = 360, .l = 60, .r = 16, .t = 12, .b = 48, .y0 = 0, .y1 = 1, .logx = true};
    pl.x0 = lo > 0 ? pow(10, floor(log10(lo))) : 1;
    pl.x1 = hi > 0 ? pow(10, ceil(log10(hi))) : 1000;
    if (pl.x1 <= pl.x0)
        pl.x1 = pl.x0 * 10;
    svg_open(p, &pl, id, n, title);
    axes(p, &pl, 0, 0.25, false, true, "milliseconds (log scale)", "share of nodes at or below");
    size_t drawn = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = sn_stats_rtt_cdf(p->st, lines[i].kind, lines[i].continent, x, y, CDF_POINTS);
        if (k > CDF_POINTS)
            k = CDF_POINTS;
        if (k == 0)
            continue;
        const char *color = PALETTE[i % N_PALETTE];
        fprintf(p->f, "<polyline class=\"curve\" fill=\"none\" stroke=\"%s\" points=\"", color);
        double prev_y = 0;
        for (size_t j = 0; j < k; j++) {
            double xv = x[j] < 1 ? 1 : x[j];
            fprintf(p->f, "%.1f,%.1f %.1f,%.1f ", px(&pl, xv), py(&pl, prev_y), px(&pl, xv),
                    py(&pl, y[j]));
            prev_y = y[j];
        }
        out(p, "\"/>\n");
        legend(p, &pl, drawn++, lines[i].name, color);
    }
    if (drawn == 0)
        fprintf(p->f, "<text x=\"%.0f\" y=\"%.0f\" class=\"empty\">no samples</text>\n", pl.W / 2,
                pl.H / 2);
    out(p, "</svg>\n");
    free(x);
    free(y);
}

static void rtt_table_row(const page_t *p, const char *label, const char *label2, int kind,
                          const char *continent)
{
    uint64_t n = sn_stats_rtt_count(p->st, kind, continent);
    char cnt[32];
    fmt_count(cnt, sizeof cnt, (double)n);
    out(p, "<tr><td>");
    esc(p, label);
    if (label2 != NULL) {
        out(p, "</td><td>");
        esc(p, label2);
    }
    fprintf(p->f, "</td><td class=\"n\">%s</td>", cnt);
    static const unsigned q[] = {500, 900, 990};
    for (size_t i = 0; i < 3; i++) {
        uint32_t us;
        if (sn_stats_rtt_quantile(p->st, kind, continent, q[i], &us))
            fprintf(p->f, "<td class=\"n\">%.3f</td>", us / 1000.0);
        else
            out(p, "<td class=\"n\">n/a</td>");
    }
    out(p, "</tr>\n");
}

static void write_rtt(const page_t *p)
{
    out(p, "<section id=\"rtt\"><h2>Round-trip times</h2>\n"
           "<p>UDP: from the request to the node's reply. TCP: the handshake (SYN to SYN-ACK). "
           "Quantiles by nearest rank; exact below 0.128 ms, within 0.8% above.</p>\n");
    figure_open(p, "rtt", "Distribution of round-trip times (CDF)");
    cdf_line_t kinds[] = {{SN_RTT_UDP, NULL, "UDP"}, {SN_RTT_TCP, NULL, "TCP handshake"}};
    cdf_chart(p, "rtt", "RTT distribution", kinds, 2);
    out(p, "<div class=\"tbl\"><table><thead><tr><th>Probe</th><th class=\"n\">Samples</th>"
           "<th class=\"n\">Median ms</th><th class=\"n\">p90 ms</th><th class=\"n\">p99 ms</th>"
           "</tr></thead><tbody>\n");
    rtt_table_row(p, "UDP", NULL, SN_RTT_UDP, NULL);
    rtt_table_row(p, "TCP handshake", NULL, SN_RTT_TCP, NULL);
    out(p, "</tbody></table></div>\n");
    figure_close(p, NULL);

    int kind = sn_stats_rtt_count(p->st, SN_RTT_UDP, NULL) > 0 ? SN_RTT_UDP : SN_RTT_TCP;
    figure_open(p, "rtt-continents",
                kind == SN_RTT_UDP ? "UDP round-trip times by continent (CDF)"
                                   : "TCP handshake times by continent (CDF)");
    cdf_line_t lines[SN_STATS_CONTINENTS];
    size_t nl = 0;
    for (size_t c = 0; c < SN_STATS_CONTINENTS; c++) {
        const char *code = sn_stats_continent_code(c);
        if (sn_stats_rtt_count(p->st, kind, code) == 0)
            continue;
        lines[nl++] = (cdf_line_t){kind, code, sn_stats_continent_name(code)};
    }
    cdf_chart(p, "rtt-continents", "RTT distribution by continent", lines, nl);
    out(p, "<div class=\"tbl\"><table><thead><tr><th>Continent</th><th>Probe</th>"
           "<th class=\"n\">Samples</th><th class=\"n\">Median ms</th><th class=\"n\">p90 ms</th>"
           "<th class=\"n\">p99 ms</th></tr></thead><tbody>\n");
    for (size_t c = 0; c < SN_STATS_CONTINENTS; c++) {
        const char *code = sn_stats_continent_code(c);
        for (int k = SN_RTT_UDP; k <= SN_RTT_TCP; k++) {
            if (sn_stats_rtt_count(p->st, k, code) == 0)
                continue;
            rtt_table_row(p, sn_stats_continent_name(code), k == SN_RTT_UDP ? "UDP" : "TCP", k,
                          code);
        }
    }
    out(p, "</tbody></table></div>\n");
    figure_close(p, NULL);
    out(p, "</section>\n");
}

/* The academic institutions with the most nodes: names as received, escaped. */
static void write_institutions(const page_t *p)
{
    const sn_stats_series_t *in = &p->v->institutions;
    char n[48];
    fmt_row(n, sizeof n, row(p, "edu.institutions"));
    fprintf(p->f,
            "<h3 id=\"institutions\">Academic institutions: %s</h3>\n"
            "<p class=\"note\">Distinct registrable domains of the academic PTR names (Public "
            "Suffix List), and the AS organisations of academic nodes whose name is missing or "
            "not academic.</p>\n",
            n);
    if (in->n == 0)
        return;
    out(p, "<div class=\"tbl\"><table class=\"institutions\"><thead><tr><th>Institution</th>"
           "<th class=\"n\">Nodes</th><th class=\"n\">Share of academic</th></tr></thead>"
           "<tbody>\n");
    for (size_t i = 0; i < in->n; i++) {
        char cnt[32], pct[32];
        fmt_count(cnt, sizeof cnt, (double)in->v[i].count);
        fmt_pct(pct, sizeof pct, in->total ? (double)in->v[i].count / (double)in->total : 0);
        out(p, "<tr><td>");
        escape_n(p->f, in->v[i].label != NULL ? in->v[i].label : in->v[i].key, 80);
        fprintf(p->f, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n", cnt, pct);
    }
    out(p, "</tbody></table></div>\n");
}

static void write_classes(const page_t *p)
{
    const sn_stats_view_t *v = p->v;
    out(p, "<section id=\"classes\"><h2>Academic hosts and address kinds</h2>\n"
           "<p>Academic: the PTR name's public suffix is edu or ac./edu. under a country code, or "
           "the AS organisation is a university or research network. Dynamic or static: judged "
           "from the PTR name by the classifier's rules (pool, dsl, dial-up, embedded address "
           "... against static, server, hosting ...).</p>\n");
    sn_stats_bar_t kinds[3];
    static const char *const names[3] = {"dynamic", "static", "unknown"};
    for (size_t i = 0; i < 3; i++) {
        char m[48];
        snprintf(kinds[i].key, sizeof kinds[i].key, "%s", names[i]);
        kinds[i].label = NULL;
        snprintf(m, sizeof m, "addr_kind.%s", names[i]);
        kinds[i].count = (uint64_t)row_value(p, m);
    }
    hbar(p, "addr-kind", "Dynamic and static addresses", kinds, 3, v->population_n, "Kind", NULL,
         NULL, NULL);
    out(p, "<div class=\"tbl\"><table><thead><tr><th>Academic, by signal</th>"
           "<th class=\"n\">Nodes</th><th class=\"n\">Share</th></tr></thead><tbody>\n");
    static const char *const rows[][2] = {{"edu", "academic (any signal)"},
                                          {"edu.ptr", "by PTR name"},
                                          {"edu.as_org", "by AS organisation only"}};
    for (size_t i = 0; i < 3; i++) {
        char name[48], cnt[32], pct[32];
        snprintf(name, sizeof name, "%s.share", rows[i][0]);
        fmt_count(cnt, sizeof cnt, row_value(p, rows[i][0]));
        fmt_row(pct, sizeof pct, row(p, name));
        fprintf(p->f, "<tr><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
                rows[i][1], cnt, pct);
    }
    char known[32];
    fmt_count(known, sizeof known, row_value(p, "class_known"));
    fprintf(p->f,
            "<tr><td>with a PTR name or AS organisation to judge</td><td class=\"n\">%s</td>"
            "<td></td></tr></tbody></table></div>\n",
            known);
    write_institutions(p);
    out(p, "</section>\n");
}

static void write_nodes(const page_t *p)
{
    const sn_stats_view_t *v = p->v;
    out(p, "<section id=\"nodes\"><h2>The most-listed nodes</h2>\n"
           "<p>PTR names and AS organisations are shown as received; they come from the network "
           "and are not trusted.</p>\n<div class=\"tbl\"><table class=\"nodes\"><thead>"
           "<tr><th>Node</th><th class=\"n\">Listings</th><th>Reachability</th><th>PTR name</th>"
           "<th>Country</th><th>AS</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < v->n_top_nodes; i++) {
        const sn_stats_node_t *nd = &v->top_nodes[i];
        char a[SN_ADDR_STRLEN], cnt[32];
        sn_addr_format(&nd->addr, a, sizeof a, true);
        fmt_count(cnt, sizeof cnt, (double)nd->seen_count);
        out(p, "<tr><td><code>");
        esc(p, a);
        fprintf(p->f, "</code></td><td class=\"n\">%s</td><td>", cnt);
        esc(p, nd->reach);
        out(p, "</td><td class=\"x ptr\">");
        esc(p, nd->ptr);
        out(p, "</td><td>");
        esc(p, nd->country);
        out(p, "</td><td class=\"x\">");
        if (nd->asn != 0)
            fprintf(p->f, "AS%u ", (unsigned)nd->asn);
        esc(p, nd->as_org);
        out(p, "</td></tr>\n");
    }
    out(p, "</tbody></table></div>\n</section>\n");
}

static void meta_row(const page_t *p, const char *key, const char *value)
{
    out(p, "<tr><th>");
    out(p, key);
    out(p, "</th><td class=\"x\">");
    esc(p, value != NULL && value[0] != '\0' ? value : "not recorded");
    out(p, "</td></tr>\n");
}

static void write_meta(const page_t *p)
{
    const sn_stats_view_t *v = p->v;
    out(p, "<section id=\"meta\"><h2>The scan</h2>\n<div class=\"tbl\"><table class=\"meta\">"
           "<tbody>\n");
    const sn_stats_row_t *st = row(p, "meta.started"), *fi = row(p, "meta.finished");
    meta_row(p, "Started (UTC)", st != NULL && st->known ? st->text : NULL);
    meta_row(p, "Finished (UTC)", fi != NULL && fi->known ? fi->text : NULL);
    meta_row(p, "Vantage", v->text[SN_STATS_VANTAGE]);
    if (v->vantage_mixed)
        meta_row(p, "Vantage note", "the rows carry more than one vantage; the first is shown");
    meta_row(p, "Where", v->text[SN_STATS_WHERE]);
    meta_row(p, "Command", v->text[SN_STATS_COMMAND]);
    meta_row(p, "snprobe version", v->text[SN_STATS_VERSION]);
    meta_row(p, "Interrupted", v->interrupted ? "yes: targets not yet started are missing" : "no");
    meta_row(p, "Enrichment", v->enriched ? "yes" : "no enrichment in these results");
    char bad[32];
    const sn_stats_row_t *b = row(p, "bad_entries");
    if (b != NULL && b->known)
        fmt_count(bad, sizeof bad, b->value);
    meta_row(p, "Bad input entries skipped",
             b != NULL && b->known ? bad : "unknown (read back from results)");
    out(p, "</tbody></table></div>\n<h3>Files read</h3>\n<div class=\"tbl\"><table><thead><tr>"
           "<th>Role</th><th>File</th><th "
           "class=\"n\">Bytes</th><th>SHA-256</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < v->n_files; i++) {
        const sn_stats_file_t *f = &v->files[i];
        char bytes[32] = "";
        if (f->sha256[0] != '\0')
            fmt_count(bytes, sizeof bytes, (double)f->bytes);
        out(p, "<tr><td>");
        esc(p, f->role);
        out(p, "</td><td class=\"x path\">");
        esc(p, f->name);
        fprintf(p->f, "</td><td class=\"n\">%s</td><td><code class=\"hash\">", bytes);
        esc(p, f->sha256[0] ? f->sha256 : "(standard input: no digest)");
        out(p, "</code></td></tr>\n");
    }
    if (v->n_files == 0)
        out(p, "<tr><td colspan=\"4\">none recorded</td></tr>\n");
    out(p, "</tbody></table></div>\n<h3>Data sources</h3>\n<ul>\n");
    for (size_t i = 0; i < v->n_data_sources; i++) {
        out(p, "<li class=\"x\">");
        esc(p, v->data_sources[i]);
        out(p, "</li>\n");
    }
    if (v->n_data_sources == 0)
        out(p, "<li>none recorded</li>\n");
    out(p, "</ul>\n</section>\n");
}

static void def_row(void *ud, const char *name, sn_stats_unit_t unit, const char *den,
                    const char *help)
{
    const page_t *p = ud;
    out(p, "<tr><td><code>");
    esc(p, name);
    out(p, "</code></td><td>");
    esc(p, sn_stats_unit_name(unit));
    out(p, "</td><td><code>");
    esc(p, den);
    out(p, "</code></td><td>");
    esc(p, help);
    out(p, "</td></tr>\n");
}

static void write_definitions(const page_t *p)
{
    out(p, "<section id=\"definitions\"><h2>Definitions</h2>\n<p class=\"note\">Every "
           "statistic of this report and of the summary file, as defined in snprobe's metric "
           "table. <code>*</code> stands for a key (a country code, an AS number, a port, an "
           "input number); <code>@pop</code> for the population: the alive nodes, or every "
           "listed target when nothing was probed. <em>probed</em>: at least one probe ran; "
           "<em>alive</em>: answered UDP, or TCP on any port tried.</p>\n<div class=\"tbl\">"
           "<table class=\"defs\"><thead><tr><th>Metric</th><th>Unit</th><th>Denominator</th>"
           "<th>Meaning</th></tr></thead><tbody>\n");
    sn_stats_definitions(def_row, (void *)p);
    out(p, "</tbody></table></div>\n</section>\n");
}

static const char STYLE[] =
    ":root{--fg:#1d2330;--mute:#5b6475;--line:#d8dde6;--bg:#fff;--accent:#3b6ea5;"
    "--study:#8a4b00;--studybg:#fff4e0}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}\n"
    "main{max-width:1120px;margin:0 auto;padding:16px}\n"
    "header h1{font-size:1.6em;margin:.2em 0}\n"
    ".sub{color:var(--mute);margin:0;overflow-wrap:anywhere}\n"
    "nav{margin:10px 0 4px;font-size:.9em}nav "
    "a{color:var(--accent);margin-right:.8em;display:inline-block;"
    "text-decoration:none}\n"
    "h2{font-size:1.25em;border-bottom:2px solid var(--line);padding-bottom:4px;margin-top:1.8em}\n"
    "h3{font-size:1.05em;margin-top:1.4em}\n"
    ".banner{background:#fdecea;border:1px solid #e0a19a;padding:8px 12px;border-radius:6px}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(155px,1fr));gap:10px}\n"
    ".card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:#fafbfd}\n"
    ".card.cmp{border-color:#e7c48f}\n"
    ".card .k{font-size:.85em;color:var(--mute)}\n"
    ".card .v{font-size:1.6em;font-weight:600;font-variant-numeric:tabular-nums}\n"
    ".card .d{font-size:.8em;color:var(--mute)}\n"
    ".card .s{display:inline-block;margin-top:4px;font-size:.8em;color:var(--study);"
    "background:var(--studybg);border-radius:4px;padding:1px 6px}\n"
    ".fig{margin:14px 0 22px}\n"
    "figcaption{font-weight:600;margin-bottom:6px}\n"
    ".pair{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px;"
    "align-items:start}\n"
    "@media (max-width:760px){.pair{grid-template-columns:1fr}}\n"
    "svg.chart{width:100%;height:auto;max-width:100%;display:block}\n"
    "svg text{font-size:12px;fill:var(--fg)}\n"
    "svg .lab{text-anchor:end}svg .val{fill:var(--mute)}svg "
    ".tick{fill:var(--mute);font-size:11px}\n"
    "svg .axt{fill:var(--mute);font-size:12px}svg .leg{font-size:12px}\n"
    "svg .empty{text-anchor:middle;fill:var(--mute)}\n"
    "svg .grid{stroke:#eceff4;stroke-width:1}svg .frame{fill:none;stroke:#b8c0cc}\n"
    "svg .eq{stroke:#999;stroke-dasharray:4 3}svg .curve{stroke-width:2}\n"
    ".tbl{overflow-x:auto}.tbl.scroll{max-height:420px;overflow-y:auto}\n"
    "table{border-collapse:collapse;width:100%;font-size:.88em;margin-bottom:8px}\n"
    "th,td{border-bottom:1px solid var(--line);padding:3px "
    "6px;text-align:left;vertical-align:top}\n"
    "thead th{background:#f1f3f7;position:sticky;top:0}\n"
    "tbody tr:nth-child(even){background:#fafbfc}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tfoot td{color:var(--mute)}\n"
    ".x{unicode-bidi:isolate;overflow-wrap:anywhere}\n"
    ".hash{word-break:break-all}\n"
    ".stack svg.chart{margin-bottom:10px}\n"
    "table.meta th{width:14em;background:none}\n"
    "code{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.92em}\n"
    ".note{color:var(--mute);font-size:.88em}\n"
    "footer{color:var(--mute);font-size:.8em;margin:2em 0 1em}\n"
    "@media print{body{font-size:11px}.tbl.scroll{max-height:none;overflow:visible}"
    "nav{display:none}.fig,table{break-inside:avoid}thead th{position:static}}\n";

sn_status_t sn_report_write_html(sn_stats_t *st, const char *path, sn_error_t *err)
{
    return sn_report_write_html_with(st, path, NULL, NULL, err);
}

sn_status_t sn_report_write_html_with(sn_stats_t *st, const char *path,
                                      void (*section)(FILE *f, void *ud), void *ud, sn_error_t *err)
{
    if (st == NULL)
        return sn_error_set(err, SN_EINVAL, "no statistics");
    sn_status_t s = sn_stats_finish(st, err);
    if (s != SN_OK)
        return s;
    sn_outfile_t *of = NULL;
    if ((s = sn_outfile_open(path, &of, err)) != SN_OK)
        return s;
    FILE *f = sn_outfile_stream(of);
    if (f == NULL) {
        sn_outfile_abort(of, false);
        return sn_error_set(err, SN_ENOMEM, "out of memory writing %s", path);
    }
    page_t pg = {.f = f, .st = st, .v = sn_stats_view(st)};
    const page_t *p = &pg;
    const sn_stats_view_t *v = pg.v;

    out(p, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
           "style-src 'unsafe-inline'\">\n"
           "<meta name=\"referrer\" content=\"no-referrer\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<meta name=\"generator\" content=\"snprobe\">\n"
           "<title>snprobe report: super-node scan</title>\n<style>\n");
    out(p, STYLE);
    out(p, "</style>\n</head>\n<body>\n<main>\n<header><h1>Super-node scan report</h1>\n"
           "<p class=\"sub\">");
    const sn_stats_row_t *started = row(p, "meta.started");
    char n[32];
    fmt_count(n, sizeof n, row_value(p, "targets"));
    fprintf(f, "%s distinct targets", n);
    if (started != NULL && started->known) {
        out(p, " &middot; ");
        esc(p, started->text);
    }
    if (v->text[SN_STATS_VANTAGE][0] != '\0') {
        out(p, " &middot; vantage ");
        esc(p, v->text[SN_STATS_VANTAGE]);
    }
    if (v->text[SN_STATS_VERSION][0] != '\0') {
        out(p, " &middot; snprobe ");
        esc(p, v->text[SN_STATS_VERSION]);
    }
    out(p, "</p></header>\n<nav><a href=\"#headline\">Headline</a><a href=\"#reach\">"
           "Reachability</a><a href=\"#geo\">Geography</a><a href=\"#asn\">ASes</a>"
           "<a href=\"#ports\">Ports</a><a href=\"#seen\">Seen-counts</a><a href=\"#discovery\">"
           "Discovery</a><a href=\"#rtt\">RTT</a><a href=\"#classes\">Classes</a>"
           "<a href=\"#nodes\">Nodes</a>");
    if (section != NULL)
        out(p, "<a href=\"#history\">History</a>");
    out(p, "<a href=\"#meta\">The scan</a><a href=\"#definitions\">Definitions</a></nav>\n");
    if (v->interrupted)
        out(p, "<p class=\"banner\">The scan was interrupted: targets not yet started are not "
               "in these results.</p>\n");
    if (strcmp(v->population, "alive") != 0)
        out(p, "<p class=\"banner\">Nothing was probed: the statistics about who the nodes are "
               "count every listed target.</p>\n");
    write_headline(p);
    write_reach(p);
    write_geo(p);
    write_as(p);
    write_ports(p);
    write_lorenz(p);
    write_discovery(p);
    write_rtt(p);
    write_classes(p);
    write_nodes(p);
    if (section != NULL)
        section(f, ud);
    write_meta(p);
    write_definitions(p);
    out(p, "<footer>Written by snprobe. This page loads nothing: no scripts, fonts or images; "
           "the charts are inline SVG.</footer>\n</main>\n</body>\n</html>\n");
    return sn_outfile_commit(of, err);
}
