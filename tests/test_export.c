/*
 * Firewall export (reports/export.c): golden files compared whole, then
 * parsed back by the tools that will load them: `nft -c -f` (check mode,
 * nothing is changed; inside a fresh network namespace when we may create one)
 * and `ipset restore` inside a fresh network namespace only, since it does
 * create sets. Each tool check is skipped when the tool or the privilege is
 * missing. The plain list is parsed back with the project's own strict parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/export.h"

static const sn_probe_t fake_udp = {.name = "skype", .transport = SN_TRANSPORT_UDP};
static const sn_probe_t fake_tcp = {.name = "tcp", .transport = SN_TRANSPORT_TCP};

static sn_addr_t addr_of(const char *ip, uint16_t port)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &a), SN_OK);
    a.port = port;
    return a;
}

/* Nodes: eligible, UDP-only, silent, blocked, eligible IPv6, NAT'd, and a second port. */
#define N 7
static sn_target_t tg[N];
static sn_result_t rs[N];

static void make_results(void)
{
    static const struct {
        const char *ip;
        uint16_t port;
        int udp, tcp; /* 1 alive, 0 filtered */
        bool blocked, nat;
    } spec[N] = {
        {"198.51.100.20", 33033, 1, 1, false, false}, {"198.51.100.3", 1000, 1, 0, false, false},
        {"198.51.100.4", 1000, 0, 0, false, false},   {"192.0.2.1", 80, 1, 1, true, false},
        {"2001:db8::1", 443, 1, 1, false, false},     {"198.51.100.3", 2000, 1, 1, false, true},
        {"2001:db8::1", 444, 0, 1, false, false},
    };
    memset(tg, 0, sizeof tg);
    memset(rs, 0, sizeof rs);
    for (int i = 0; i < N; i++) {
        tg[i].addr = addr_of(spec[i].ip, spec[i].port);
        tg[i].seen_count = 1;
        rs[i].target = &tg[i];
        if (spec[i].blocked) {
            rs[i].blocked = "documentation";
            continue;
        }
        rs[i].udp =
            (sn_probe_result_t){.probe = &fake_udp,
                                .port = spec[i].port,
                                .outcome = spec[i].udp ? SN_OUTCOME_ALIVE : SN_OUTCOME_FILTERED};
        if (spec[i].nat)
            rs[i].udp.reply_from = addr_of("198.51.100.99", 1);
        rs[i].tcp =
            (sn_probe_result_t){.probe = &fake_tcp,
                                .port = spec[i].port,
                                .outcome = spec[i].tcp ? SN_OUTCOME_ALIVE : SN_OUTCOME_FILTERED};
    }
}

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sn_export_XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/out", dir);
    make_results();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static char *slurp(const char *p)
{
    static char buf[1 << 16];
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Exports all nodes twice over (duplicates must vanish) with opts; returns the file text. */
static char *export_all(sn_export_opts_t opts, size_t *written)
{
    sn_export_t *ex;
    sn_error_t err;
    assert_int_equal(sn_export_new(&ex, &opts, path, &err), SN_OK);
    for (int rep = 0; rep < 2; rep++)
        for (int i = N - 1; i >= 0; i--)
            assert_int_equal(sn_export_add(ex, &rs[i]), SN_OK);
    assert_int_equal(sn_export_close(ex, written, &err), SN_OK);
    return slurp(path);
}

static bool have(const char *tool)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

static bool can_unshare(void)
{
    return system("unshare -n true >/dev/null 2>&1") == 0;
}

/* `nft -c -f FILE`: 1 accepted, 0 refused, -1 cannot check here. */
static int nft_check_q(const char *file, bool quiet)
{
    if (!have("nft"))
        return -1;
    const char *ns = can_unshare() ? "unshare -n " : "";
    char cmd[512];
    /* a file known to be good first: tells a refusal from a missing privilege */
    snprintf(cmd, sizeof cmd, "%s/good.nft", dir);
    FILE *g = fopen(cmd, "w");
    assert_non_null(g);
    fputs("table inet snprobe_probe {\n\tset s {\n\t\ttype ipv4_addr\n\t}\n}\n", g);
    fclose(g);
    snprintf(cmd, sizeof cmd, "%snft -c -f %s/good.nft >/dev/null 2>&1", ns, dir);
    int ok = system(cmd) == 0;
    snprintf(cmd, sizeof cmd, "%s/good.nft", dir);
    unlink(cmd);
    if (!ok)
        return -1;
    snprintf(cmd, sizeof cmd, "%snft -c -f %s%s", ns, file, quiet ? " >/dev/null 2>&1" : "");
    return system(cmd) == 0 ? 1 : 0;
}

static int nft_check(const char *file)
{
    return nft_check_q(file, false);
}

static const char golden_nft[] =
    "#!/usr/sbin/nft -f\n"
    "# Written by snprobe: 5 alive nodes (3 IPv4, 2 IPv6), address . port.\n"
    "# Load with `nft -f FILE`; loading again replaces the elements. Match them from a\n"
    "# chain in this table, for example:\n"
    "#   nft add chain inet snprobe out '{ type filter hook output priority 0; }'\n"
    "#   nft add rule inet snprobe out ip daddr . th dport @supernodes_v4 drop\n"
    "table inet snprobe {\n"
    "\tset supernodes_v4 {\n\t\ttype ipv4_addr . inet_service\n\t}\n"
    "\tset supernodes_v6 {\n\t\ttype ipv6_addr . inet_service\n\t}\n"
    "}\n"
    "flush set inet snprobe supernodes_v4\n"
    "flush set inet snprobe supernodes_v6\n"
    "add element inet snprobe supernodes_v4 {\n"
    "\t198.51.100.3 . 1000,\n"
    "\t198.51.100.3 . 2000,\n"
    "\t198.51.100.20 . 33033\n"
    "}\n"
    "add element inet snprobe supernodes_v6 {\n"
    "\t2001:db8::1 . 443,\n"
    "\t2001:db8::1 . 444\n"
    "}\n";

static void test_nft_set_of_alive_nodes_golden_and_accepted_by_nft(void **state)
{
    (void)state;
    size_t n = 0;
    const char *t = export_all((sn_export_opts_t){.format = SN_EXPORT_NFT}, &n);
    assert_int_equal(n, 5);
    assert_string_equal(t, golden_nft);
    int ok = nft_check(path);
    if (ok < 0)
        skip();
    assert_int_equal(ok, 1);
}

static void test_nft_addresses_only_eligible_deduplicated_and_accepted(void **state)
{
    (void)state;
    size_t n = 0;
    const char *t = export_all((sn_export_opts_t){.format = SN_EXPORT_NFT,
                                                  .eligible_only = true,
                                                  .addr_only = true,
                                                  .name = "blocklist_1"},
                               &n);
    assert_int_equal(n, 2);
    assert_non_null(
        strstr(t, "table inet blocklist_1 {\n\tset supernodes_v4 {\n\t\ttype ipv4_addr\n"));
    assert_non_null(
        strstr(t, "add element inet blocklist_1 supernodes_v4 {\n\t198.51.100.20\n}\n"));
    assert_non_null(strstr(t, "add element inet blocklist_1 supernodes_v6 {\n\t2001:db8::1\n}\n"));
    assert_null(strstr(t, "198.51.100.3"));
    int ok = nft_check(path);
    if (ok < 0)
        skip();
    assert_int_equal(ok, 1);
}

static void test_nft_check_refuses_a_broken_file(void **state)
{
    (void)state;
    /* the tool check can fail: a port where the set holds addresses only */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("table inet x {\n\tset s {\n\t\ttype ipv4_addr\n\t}\n}\n"
          "add element inet x s {\n\t198.51.100.1 . 80\n}\n",
          f);
    fclose(f);
    int ok = nft_check_q(path, true);
    if (ok < 0)
        skip();
    assert_int_equal(ok, 0);
}

static void test_nft_empty_export_declares_empty_sets(void **state)
{
    (void)state;
    sn_export_t *ex;
    sn_error_t err;
    sn_export_opts_t o = {.format = SN_EXPORT_NFT};
    assert_int_equal(sn_export_new(&ex, &o, path, &err), SN_OK);
    assert_int_equal(sn_export_add(ex, &rs[2]), SN_OK); /* silent: not kept */
    assert_int_equal(sn_export_count(ex), 0);
    size_t n = 99;
    assert_int_equal(sn_export_close(ex, &n, &err), SN_OK);
    assert_int_equal(n, 0);
    const char *t = slurp(path);
    assert_null(strstr(t, "add element"));
    assert_non_null(strstr(t, "flush set inet snprobe supernodes_v6\n"));
    int ok = nft_check(path);
    if (ok < 0)
        skip();
    assert_int_equal(ok, 1);
}

static const char golden_ipset[] =
    "# Written by snprobe: 5 alive nodes (3 IPv4, 2 IPv6). Load with `ipset restore < FILE`.\n"
    "create snprobe_v4 hash:ip,port family inet maxelem 65536 -exist\n"
    "flush snprobe_v4\n"
    "add snprobe_v4 198.51.100.3,udp:1000\n"
    "add snprobe_v4 198.51.100.3,tcp:1000\n"
    "add snprobe_v4 198.51.100.3,udp:2000\n"
    "add snprobe_v4 198.51.100.3,tcp:2000\n"
    "add snprobe_v4 198.51.100.20,udp:33033\n"
    "add snprobe_v4 198.51.100.20,tcp:33033\n"
    "create snprobe_v6 hash:ip,port family inet6 maxelem 65536 -exist\n"
    "flush snprobe_v6\n"
    "add snprobe_v6 2001:db8::1,udp:443\n"
    "add snprobe_v6 2001:db8::1,tcp:443\n"
    "add snprobe_v6 2001:db8::1,udp:444\n"
    "add snprobe_v6 2001:db8::1,tcp:444\n";

/* Entries of the set after `ipset restore` in a fresh namespace; -1 when not possible. */
static long ipset_entries(const char *set)
{
    if (!have("ipset") || !can_unshare())
        return -1;
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "unshare -n sh -c 'ipset restore < %s && ipset list %s' 2>/dev/null | "
             "sed -n 's/^Number of entries: //p'",
             path, set);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    long n = -1;
    if (fscanf(p, "%ld", &n) != 1)
        n = -1;
    pclose(p);
    return n;
}

static void test_ipset_restore_file_golden_and_loaded_in_a_namespace(void **state)
{
    (void)state;
    size_t n = 0;
    const char *t = export_all((sn_export_opts_t){.format = SN_EXPORT_IPSET}, &n);
    assert_int_equal(n, 5);
    assert_string_equal(t, golden_ipset);
    long v4 = ipset_entries("snprobe_v4"), v6 = ipset_entries("snprobe_v6");
    if (v4 < 0 || v6 < 0)
        skip();
    assert_int_equal(v4, 6);
    assert_int_equal(v6, 4);
}

static void test_ipset_addresses_only(void **state)
{
    (void)state;
    size_t n = 0;
    const char *t =
        export_all((sn_export_opts_t){.format = SN_EXPORT_IPSET, .addr_only = true}, &n);
    assert_int_equal(n, 3);
    assert_non_null(strstr(t, "create snprobe_v4 hash:ip family inet maxelem 65536 -exist\n"));
    assert_non_null(strstr(t, "add snprobe_v4 198.51.100.3\nadd snprobe_v4 198.51.100.20\n"));
    assert_non_null(strstr(t, "add snprobe_v6 2001:db8::1\n"));
    long v4 = ipset_entries("snprobe_v4");
    if (v4 < 0)
        skip();
    assert_int_equal(v4, 2);
}

static void test_plain_list_parses_back(void **state)
{
    (void)state;
    size_t n = 0;
    char *t = export_all((sn_export_opts_t){.format = SN_EXPORT_PLAIN}, &n);
    assert_string_equal(t, "198.51.100.3:1000\n198.51.100.3:2000\n198.51.100.20:33033\n"
                           "[2001:db8::1]:443\n[2001:db8::1]:444\n");
    size_t lines = 0;
    for (char *save = NULL, *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        sn_addr_t a;
        const char *why = NULL;
        assert_int_equal(sn_addr_parse_endpoint(l, strlen(l), &a, &why), SN_OK);
        lines++;
    }
    assert_int_equal(lines, n);
    t = export_all(
        (sn_export_opts_t){.format = SN_EXPORT_PLAIN, .addr_only = true, .eligible_only = true},
        &n);
    assert_string_equal(t, "198.51.100.20\n2001:db8::1\n");
}

static void test_bad_names_and_paths_are_refused(void **state)
{
    (void)state;
    sn_export_t *ex = NULL;
    sn_error_t err;
    static const char *const bad[] = {"", "has space", "semi;colon", "x}",
                                      "abcdefghijklmnopqrstuvwxy"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sn_export_opts_t o = {.format = SN_EXPORT_NFT, .name = bad[i]};
        assert_int_equal(sn_export_new(&ex, &o, path, &err), SN_EINVAL);
        assert_null(ex);
    }
    sn_export_opts_t o = {.format = SN_EXPORT_PLAIN};
    assert_int_equal(sn_export_new(&ex, &o, "/nonexistent/dir/x.txt", &err), SN_OK);
    assert_int_equal(sn_export_add(ex, &rs[0]), SN_OK);
    assert_int_equal(sn_export_close(ex, NULL, &err), SN_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/x.txt"));
    assert_int_equal(sn_export_close(NULL, NULL, &err), SN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nft_set_of_alive_nodes_golden_and_accepted_by_nft,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_nft_addresses_only_eligible_deduplicated_and_accepted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_nft_check_refuses_a_broken_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nft_empty_export_declares_empty_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipset_restore_file_golden_and_loaded_in_a_namespace,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipset_addresses_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_list_parses_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_names_and_paths_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
