/*
 * `snprobe bootstrap`: the liveness of the bundled bootstrap super nodes (or
 * of a --list), as a table and a Nagios status: 0 every node alive (UDP or
 * TCP), 1 some dead, 2 all dead or the check could not run. The probing is
 * the scan's run (cmd_scan.c); this file keeps a copy of each row, since the
 * scan frees its targets, and prints them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "data/bootstrap.h"

/* A row of the bootstrap table: copies, since the scan frees its targets. */
typedef struct boot_row {
    sn_addr_t addr;
    bool blocked;
    sn_probe_result_t udp, tcp;
} boot_row_t;

typedef struct boot_table {
    boot_row_t *rows;
    size_t n, cap;
    bool quiet, dry_run;
} boot_table_t;

static void boot_collect(void *ud, const sn_result_t *r)
{
    boot_table_t *t = ud;
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        boot_row_t *nr = realloc(t->rows, nc * sizeof *nr);
        if (nr == NULL)
            return;
        t->rows = nr;
        t->cap = nc;
    }
    t->rows[t->n++] = (boot_row_t){
        .addr = r->target->addr, .blocked = r->blocked != NULL, .udp = r->udp, .tcp = r->tcp};
}

/* Which bundled lists hold a node ("2004+1.4"), or "list" for a node only --list gave. */
static void boot_sets(const sn_addr_t *a, char *buf, size_t cap)
{
    const sn_bootstrap_node_t *n = sn_bootstrap_find(a);
    if (n != NULL)
        sn_bootstrap_sets_str(n->sets, buf, cap);
    else
        snprintf(buf, cap, "list");
}

static void boot_print(void *ud)
{
    const boot_table_t *t = ud;
    if (t->quiet)
        return;
    printf("%-24s %-10s %10s %-10s %10s %-6s %s\n", "node", "udp", "udp_rtt_ms", "tcp",
           "tcp_rtt_ms", "port", "sets");
    for (size_t i = 0; i < t->n; i++) {
        const boot_row_t *r = &t->rows[i];
        char a[SN_ADDR_STRLEN];
        sn_addr_format(&r->addr, a, sizeof a, true);
        char ur[16] = "-", tr[16] = "-", tp[8] = "-";
        if (r->udp.outcome == SN_OUTCOME_ALIVE)
            snprintf(ur, sizeof ur, "%.3f", r->udp.rtt_us / 1000.0);
        if (r->tcp.outcome == SN_OUTCOME_ALIVE) {
            snprintf(tr, sizeof tr, "%.3f", r->tcp.rtt_us / 1000.0);
            snprintf(tp, sizeof tp, "%u", r->tcp.port);
        }
        char sets[32];
        boot_sets(&r->addr, sets, sizeof sets);
        printf("%-24s %-10s %10s %-10s %10s %-6s %s\n", a,
               r->blocked ? "blocked" : sn_outcome_name(r->udp.outcome), ur,
               r->blocked ? "blocked" : sn_outcome_name(r->tcp.outcome), tr, tp, sets);
    }
}

/* Nagios-style: 0 every node alive, 1 some dead, 2 all dead (or none checked). */
static int boot_status(void *ud, const sn_scan_summary_t *sum)
{
    const boot_table_t *t = ud;
    if (t->dry_run) /* --dry-run --list: the targets were written, nothing was checked */
        return sum->interrupted ? SN_EXIT_INTERRUPTED : SN_EXIT_OK;
    size_t alive = 0;
    for (size_t i = 0; i < t->n; i++)
        alive += !t->rows[i].blocked && (t->rows[i].udp.outcome == SN_OUTCOME_ALIVE ||
                                         t->rows[i].tcp.outcome == SN_OUTCOME_ALIVE);
    return t->n == 0 || alive == 0 ? 2 : alive == t->n ? 0 : 1;
}

/* bootstrap --dry-run on the bundled lists: what would be probed, and what the sources say. */
static void boot_print_bundled(unsigned mask)
{
    size_t n, ns;
    const sn_bootstrap_node_t *nodes = sn_bootstrap_nodes(&n);
    const sn_bootstrap_set_t *sets = sn_bootstrap_sets(&ns);
    for (size_t i = 0; i < ns; i++)
        if (mask & sets[i].bit)
            printf("# set %s: %s; %s\n", sets[i].name, sets[i].client, sets[i].source);
    printf("%-24s %-9s %s\n", "node", "sets", "reverse_name (as the source gives it)");
    for (size_t i = 0; i < n; i++) {
        if (!(nodes[i].sets & mask))
            continue;
        char node[SN_ADDR_STRLEN], in[32];
        snprintf(node, sizeof node, "%s:%u", nodes[i].ip, nodes[i].port);
        sn_bootstrap_sets_str(nodes[i].sets, in, sizeof in);
        printf("%-24s %-9s %s\n", node, in, nodes[i].ptr[0] ? nodes[i].ptr : "-");
    }
}

int sn_cmd_bootstrap(const sn_config_t *cfg)
{
    char boot_text[1024];
    if (cfg->list == NULL) {
        if (cfg->dry_run) { /* nothing is sent: the bundled lists as the sources give them */
            if (!cfg->quiet)
                boot_print_bundled(cfg->boot_set);
            return 0;
        }
        if (sn_bootstrap_list_text(cfg->boot_set, boot_text, sizeof boot_text) == 0) {
            sn_error_t err = {{0}};
            sn_error_set(&err, SN_ENOMEM, "the bundled bootstrap list does not fit");
            sn_cli_fail(&err);
            return 2;
        }
    }
    boot_table_t table = {.quiet = cfg->quiet, .dry_run = cfg->dry_run};
    sn_cli_scan_run_t run = {
        .inputs = cfg->list ? &cfg->list : NULL,
        .n_inputs = cfg->list ? 1 : 0,
        .inline_name = "bundled bootstrap list",
        .inline_text = cfg->list == NULL ? boot_text : NULL,
        .output = strcmp(cfg->output, "-") == 0 ? NULL : cfg->output,
        .on_result = boot_collect,
        .after_scan = boot_print,
        .exit_code = boot_status,
        .ud = &table,
        .nagios = true,
    };
    int rc = sn_cli_run_scan(cfg, &run);
    free(table.rows);
    return rc;
}
