/*
 * lib/ifaddr.c: loopback is ours without asking the kernel, an interface's
 * own address is ours, a documentation address (RFC 5737, RFC 3849) that no
 * interface carries is not. The interface case takes its address from
 * getifaddrs itself, so it holds on any machine (in a bare network namespace
 * only lo has one, 127.0.0.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ifaddrs.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/ifaddr.h"

static sn_addr_t ip_of(const char *s)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(s, strlen(s), &a), SN_OK);
    return a;
}

static void test_ifaddr_loopback_is_local(void **state)
{
    (void)state;
    const char *cases[] = {"127.0.0.1", "127.45.6.7", "::1"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_addr_t a = ip_of(cases[i]);
        assert_int_equal(sn_ifaddr_is_local(&a), 1);
    }
}

static void test_ifaddr_documentation_address_is_not_local(void **state)
{
    (void)state;
    const char *cases[] = {"192.0.2.77", "2001:db8::77"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_addr_t a = ip_of(cases[i]);
        assert_int_equal(sn_ifaddr_is_local(&a), 0);
    }
}

static void test_ifaddr_interface_address_is_local_whatever_the_port(void **state)
{
    (void)state;
    struct ifaddrs *list = NULL;
    assert_int_equal(getifaddrs(&list), 0);
    size_t checked = 0;
    for (const struct ifaddrs *i = list; i != NULL; i = i->ifa_next) {
        sn_addr_t a;
        if (i->ifa_addr == NULL ||
            (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6) ||
            sn_addr_from_sockaddr(i->ifa_addr, &a) != SN_OK)
            continue;
        a.port = 4242;
        assert_int_equal(sn_ifaddr_is_local(&a), 1);
        checked++;
    }
    freeifaddrs(list);
    if (checked == 0)
        skip(); /* a namespace whose lo is down has no address at all */
}

static void test_ifaddr_null_is_not_local(void **state)
{
    (void)state;
    assert_int_equal(sn_ifaddr_is_local(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ifaddr_loopback_is_local),
        cmocka_unit_test(test_ifaddr_documentation_address_is_not_local),
        cmocka_unit_test(test_ifaddr_interface_address_is_local_whatever_the_port),
        cmocka_unit_test(test_ifaddr_null_is_not_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
