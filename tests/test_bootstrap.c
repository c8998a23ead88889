/*
 * Tests for data/bootstrap.c: both bundled lists hold the seven nodes their
 * sources give, "all" is their union with each node once, every node says
 * which lists hold it, and --set accepts only the lists' names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "data/bootstrap.h"

static size_t count_lines_with(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_bootstrap_each_list_has_its_seven_nodes(void **state)
{
    (void)state;
    static const char *const y2004[] = {"66.235.180.9", "66.235.181.9", "80.161.91.25",
                                        "80.160.91.12", "64.246.49.60", "64.246.49.61",
                                        "64.246.48.23"};
    static const char *const v14[] = {"66.235.180.9",  "66.235.181.9", "212.72.49.143",
                                      "195.215.8.145", "64.246.49.60", "64.246.49.61",
                                      "64.246.48.23"};
    char buf[1024];
    assert_true(sn_bootstrap_list_text(SN_BOOT_2004, buf, sizeof buf) > 0);
    assert_int_equal(count_lines_with(buf, ":33033\n"), 7);
    for (size_t i = 0; i < 7; i++) {
        char want[40];
        snprintf(want, sizeof want, "\n%s:33033\n", y2004[i]);
        assert_non_null(strstr(buf, want));
    }
    assert_null(strstr(buf, "212.72.49.143"));
    assert_true(sn_bootstrap_list_text(SN_BOOT_14, buf, sizeof buf) > 0);
    assert_int_equal(count_lines_with(buf, ":33033\n"), 7);
    for (size_t i = 0; i < 7; i++) {
        char want[40];
        snprintf(want, sizeof want, "\n%s:33033\n", v14[i]);
        assert_non_null(strstr(buf, want));
    }
    assert_null(strstr(buf, "80.161.91.25"));
}

static void test_bootstrap_all_is_the_union_once_each(void **state)
{
    (void)state;
    char buf[1024];
    assert_true(sn_bootstrap_list_text(SN_BOOT_ALL, buf, sizeof buf) > 0);
    assert_int_equal(count_lines_with(buf, ":33033\n"), 9);
    assert_int_equal(count_lines_with(buf, "66.235.180.9:"), 1);
    assert_int_equal(count_lines_with(buf, "\n# "), 1); /* two comment lines, first at 0 */
    assert_true(buf[0] == '#');
    /* Too small a buffer or an empty mask gives nothing, never a cut list. */
    assert_int_equal(sn_bootstrap_list_text(SN_BOOT_ALL, buf, 40), 0);
    assert_int_equal(sn_bootstrap_list_text(0, buf, sizeof buf), 0);
}

static void test_bootstrap_nodes_say_which_lists_hold_them(void **state)
{
    (void)state;
    sn_addr_t a;
    char sets[32];
    assert_int_equal(sn_addr_parse_ip("66.235.180.9", 12, &a), SN_OK);
    a.port = 33033;
    const sn_bootstrap_node_t *n = sn_bootstrap_find(&a);
    assert_non_null(n);
    sn_bootstrap_sets_str(n->sets, sets, sizeof sets);
    assert_string_equal(sets, "2004+1.4");
    assert_string_equal(n->ptr, "sls-cb10p6.dca2.superb.net");
    assert_int_equal(sn_addr_parse_ip("195.215.8.145", 13, &a), SN_OK);
    a.port = 33033;
    n = sn_bootstrap_find(&a);
    assert_non_null(n);
    sn_bootstrap_sets_str(n->sets, sets, sizeof sets);
    assert_string_equal(sets, "1.4");
    a.port = 33034; /* another port is another node */
    assert_null(sn_bootstrap_find(&a));
    assert_null(sn_bootstrap_find(NULL));
    size_t ns;
    const sn_bootstrap_set_t *s = sn_bootstrap_sets(&ns);
    assert_int_equal(ns, 2);
    for (size_t i = 0; i < ns; i++) {
        assert_true(strlen(s[i].client) > 0);
        assert_true(strlen(s[i].source) > 0);
    }
    size_t nn;
    const sn_bootstrap_node_t *all = sn_bootstrap_nodes(&nn);
    assert_int_equal(nn, 9);
    for (size_t i = 0; i < nn; i++)
        assert_true(all[i].sets != 0 && all[i].port == 33033);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bootstrap_each_list_has_its_seven_nodes),
        cmocka_unit_test(test_bootstrap_all_is_the_union_once_each),
        cmocka_unit_test(test_bootstrap_nodes_say_which_lists_hold_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
