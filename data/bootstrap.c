/*
 * The two bundled bootstrap lists (see bootstrap.h). Both are facts quoted
 * from their sources; the table keeps every distinct node once with the bits
 * of the lists that hold it, so that "all" is de-duplicated by construction
 * and each row can say where it comes from.
 *
 * Sources:
 *  - 2004: S. A. Baset and H. Schulzrinne, "An Analysis of the Skype
 *    Peer-to-Peer Internet Telephony Protocol", Columbia University technical
 *    report CUCS-039-04, September 2004: the host cache of a freshly installed
 *    client was always initialised with these seven nodes on port 33033; the
 *    report gives their reverse names. Guha, Daswani and Jain (IPTPS 2006)
 *    start from the same nodes.
 *  - 1.4: the revised version of the same analysis (Baset and Schulzrinne,
 *    IEEE INFOCOM 2006), made with the Skype 1.4 client, lists seven nodes on
 *    33033: five of the 2004 list and two others. It gives no reverse names
 *    for the two new ones, so none is bundled.
 */
#include "data/bootstrap.h"

#include <stdio.h>
#include <string.h>

static const sn_bootstrap_set_t SETS[] = {
    {.bit = SN_BOOT_2004,
     .name = "2004",
     .client = "Skype 1.x (2004)",
     .source = "Baset and Schulzrinne, CUCS-039-04, September 2004"},
    {.bit = SN_BOOT_14,
     .name = "1.4",
     .client = "Skype 1.4",
     .source = "Baset and Schulzrinne, IEEE INFOCOM 2006"},
};

static const sn_bootstrap_node_t NODES[] = {
    {.ip = "66.235.180.9",
     .port = 33033,
     .ptr = "sls-cb10p6.dca2.superb.net",
     .sets = SN_BOOT_2004 | SN_BOOT_14},
    {.ip = "66.235.181.9",
     .port = 33033,
     .ptr = "ip9.181.susc.suscom.net",
     .sets = SN_BOOT_2004 | SN_BOOT_14},
    {.ip = "80.161.91.25",
     .port = 33033,
     .ptr = "0x50a15b19.boanxx15.adsl-dhcp.tele.dk",
     .sets = SN_BOOT_2004},
    {.ip = "80.160.91.12",
     .port = 33033,
     .ptr = "0x50a15b0c.albnxx9.adsl-dhcp.tele.dk",
     .sets = SN_BOOT_2004},
    {.ip = "212.72.49.143", .port = 33033, .ptr = "", .sets = SN_BOOT_14},
    {.ip = "195.215.8.145", .port = 33033, .ptr = "", .sets = SN_BOOT_14},
    {.ip = "64.246.49.60",
     .port = 33033,
     .ptr = "rs-64-246-49-60.ev1.net",
     .sets = SN_BOOT_2004 | SN_BOOT_14},
    {.ip = "64.246.49.61",
     .port = 33033,
     .ptr = "rs-64-246-49-61.ev1.net",
     .sets = SN_BOOT_2004 | SN_BOOT_14},
    {.ip = "64.246.48.23", .port = 33033, .ptr = "ns2.ev1.net", .sets = SN_BOOT_2004 | SN_BOOT_14},
};

#define N_SETS (sizeof SETS / sizeof SETS[0])
#define N_NODES (sizeof NODES / sizeof NODES[0])

const sn_bootstrap_set_t *sn_bootstrap_sets(size_t *n)
{
    *n = N_SETS;
    return SETS;
}

const sn_bootstrap_node_t *sn_bootstrap_nodes(size_t *n)
{
    *n = N_NODES;
    return NODES;
}

size_t sn_bootstrap_list_text(unsigned mask, char *buf, size_t cap)
{
    size_t len = 0;
    bool any = false;
    for (size_t i = 0; i < N_SETS; i++) {
        if (!(mask & SETS[i].bit))
            continue;
        int w = snprintf(buf + len, cap - len, "# %s bootstrap super nodes (%s)\n", SETS[i].client,
                         SETS[i].source);
        if (w < 0 || (size_t)w >= cap - len)
            return 0;
        len += (size_t)w;
    }
    for (size_t i = 0; i < N_NODES; i++) {
        if (!(NODES[i].sets & mask))
            continue;
        int w = snprintf(buf + len, cap - len, "%s:%u\n", NODES[i].ip, NODES[i].port);
        if (w < 0 || (size_t)w >= cap - len)
            return 0;
        len += (size_t)w;
        any = true;
    }
    return any ? len : 0;
}

const sn_bootstrap_node_t *sn_bootstrap_find(const sn_addr_t *addr)
{
    if (addr == NULL)
        return NULL;
    for (size_t i = 0; i < N_NODES; i++) {
        sn_addr_t a;
        if (sn_addr_parse_ip(NODES[i].ip, strlen(NODES[i].ip), &a) != SN_OK)
            continue;
        a.port = (uint16_t)NODES[i].port;
        if (sn_addr_equal(&a, addr))
            return &NODES[i];
    }
    return NULL;
}

void sn_bootstrap_sets_str(unsigned sets, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < N_SETS; i++) {
        if (!(sets & SETS[i].bit))
            continue;
        int w = snprintf(buf + len, cap - len, "%s%s", len ? "+" : "", SETS[i].name);
        if (w < 0 || (size_t)w >= cap - len)
            return;
        len += (size_t)w;
    }
}
