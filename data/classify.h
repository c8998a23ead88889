/*
 * Classifiers over what enrichment found: is a host academic ("edu"), and is
 * its address from a dynamic pool or statically assigned, judged from its
 * reverse-DNS (PTR) name and, for edu, its AS organisation.
 *
 * Each verdict says which signal decided it (edu_source, dyn_rule), so that a
 * report can be audited and a wrong rule found. Names come from the network
 * and may hold any bytes: every function reads at most the first 255 bytes
 * up to a NUL, never writes to its input, and never allocates.
 */
#ifndef SN_CLASSIFY_H
#define SN_CLASSIFY_H

#include <stdbool.h>

#include "lib/addr.h"

typedef enum sn_dyn {
    SN_DYN_UNKNOWN = 0, /* no usable PTR name, or a placeholder one */
    SN_DYN_DYNAMIC,     /* pool, dial-up, DSL, cable, mobile or residential naming */
    SN_DYN_STATIC       /* servers, hosting, business lines, named hosts */
} sn_dyn_t;

typedef struct sn_class_info {
    bool edu;               /* academic network */
    const char *edu_source; /* "ptr", "as_org", or "" when not edu (static string) */
    sn_dyn_t dyn;
    const char *dyn_rule; /* the rule that decided, a static string; see sn_classify_dyn */
    bool addr_in_name;    /* the address itself appears in the PTR name */
} sn_class_info_t;

typedef struct sn_classify sn_classify_t;

/*
 * Loads the Public Suffix List (the newer of libpsl's built-in list and the
 * system's publicsuffix package). When neither is available the academic test
 * falls back to the shape rules alone (see sn_classify_edu_name). Returns NULL
 * only when out of memory. The object is read-only afterwards and may be
 * shared between threads.
 */
sn_classify_t *sn_classify_new(void);

/* Accepts NULL. */
void sn_classify_free(sn_classify_t *cls);

/* True when the Public Suffix List was loaded. */
bool sn_classify_has_psl(const sn_classify_t *cls);

/*
 * Fills *out from the PTR name (NULL or "" when there is none), the address
 * (may be NULL; used to find the address in the name) and the AS organisation
 * (NULL or "" when unknown). cls may be NULL (shape rules only for edu).
 */
void sn_classify(const sn_classify_t *cls, const char *ptr, const sn_addr_t *addr,
                 const char *as_org, sn_class_info_t *out);

/*
 * Academic by name: the name's ICANN public suffix is "edu", or a two-label
 * academic suffix under a country code ("ac.uk", "edu.cn", "ac.jp", "edu.au",
 * "ac.kr", "edu.tw", "ac.il", ...: first label "ac" or "edu", last label a
 * two-letter country code), and at least one label stands before that suffix.
 * Look-alikes are not academic: "foo.ac" (Ascension Island), "x.education"
 * (a gTLD), "edu.example.com". Without a suffix list the suffix is taken to be
 * the last label, or the last two when they have the academic shape.
 */
bool sn_classify_edu_name(const sn_classify_t *cls, const char *name);

/*
 * Academic by AS organisation: a word starting with "universit" (university,
 * universität, université, ...), "universidad"/"universidade", "uniwersytet",
 * "college", "polytechnic"/"politecnico", "hochschule", the phrase "institute
 * of technology", "research and education" / "education and research", or the
 * name of a national research and education network (JANET, DFN, RENATER,
 * GARR, SURFnet, Internet2, CERNET, AARNet, CANARIE, RedIRIS, NORDUnet, ...).
 */
bool sn_classify_edu_org(const char *as_org);

/*
 * Dynamic or static from a PTR name; *rule (may be NULL) gets the rule that
 * decided. The rules, first match wins:
 *   "no-ptr"            no name                                  unknown
 *   "invalid-name"      bytes a host name cannot hold, or > 253  unknown
 *   "placeholder"       unknown / unassigned / no-reverse ...    unknown
 *   "static-keyword"    static, fixed, staticip ...              static
 *   "dynamic-keyword"   dyn, dynamic, dhcp, pool, dip ...        dynamic
 *   "hosting-domain"    a hosting or cloud provider's domain     static
 *   "server-keyword"    server(s), srv, colo, hosting, vps ...   static
 *   "service-name"      first label mail, mx, smtp, ns, www ...  static
 *   "business-keyword"  business, biz, corp ...                  static
 *   "business-domain"   a business-only ISP domain               static
 *   "access-keyword"    dsl, cable, dial, ppp, cust, res ...     dynamic
 *   "mac-in-name"       a run of 12 or more hex digits           dynamic
 *   "embedded-address"  the address in dotted, dashed, reversed,
 *                       concatenated decimal or hex form         dynamic
 *   "address-pattern"   four octet-valued numbers in a row       dynamic
 *   "plain-name"        none of the above                        static
 * Keywords match whole tokens: the name is split at dots, dashes, underscores
 * and letter/digit boundaries, so "resolver" does not match "res".
 */
sn_dyn_t sn_classify_dyn(const char *name, const sn_addr_t *addr, const char **rule);

/* True when addr (IPv4 or IPv6) appears in name in one of the forms above. */
bool sn_classify_name_has_addr(const char *name, const sn_addr_t *addr);

/* "unknown", "dynamic", "static". */
const char *sn_dyn_str(sn_dyn_t dyn);

#endif
