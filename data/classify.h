/*
 * Classifiers over what enrichment found: is a host academic ("edu"), and is
 * its address from a dynamic pool or statically assigned, judged from its
 * reverse-DNS (PTR) name and, for edu, its AS organisation.
 *
 * Each verdict says which signal decided it (edu_source, dyn_rule), so that a
 * report can be audited and a wrong rule found. Names come from the network
 * and may hold any bytes: every function reads at most the first 255 bytes
 * up to a NUL, never writes to its input, and never allocates (but for the
 * per-scan cluster table, sn_cluster_*).
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

/*
 * The registrable domain of name (the public suffix and one label before it:
 * "cs.ucl.ac.uk" gives "ucl.ac.uk"), lower-cased, into out. Without a suffix
 * list, the last two labels, or three when the last two have the academic or
 * a country's second-level shape. Returns false (out "") for no name, an
 * invalid one, a bare suffix, or a result that does not fit.
 */
bool sn_classify_registrable(const sn_classify_t *cls, const char *name, char *out, size_t cap);

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
 *   "dynamic-dns-domain" under a dynamic-DNS service's domain    dynamic
 *   "access-in-token"   an access marker run into a longer token
 *                       ("mbcdhcp38", "PPPa33", "modemcable090")  dynamic
 *   "embedded-address"  the address looked up, in dotted, dashed,
 *                       reversed, zero-padded, concatenated decimal
 *                       or hex form, also split across labels    dynamic
 *   "mac-in-name"       a run of 12 or more hex digits           dynamic
 *   "address-pattern"   four octet-valued numbers in a row, no
 *                       address given                            dynamic
 *   "other-address"     four octet-valued numbers (7+ digits) that
 *                       are not the address looked up (a PTR kept
 *                       from an older assignment)                dynamic
 *   "partial-address"   three octets in the first label, or the
 *                       looked-up address's last two             dynamic
 *   "numeric-label"     a first label of numbers only            dynamic
 *   "counter-template"  a run of 5+ digits in the first label    dynamic
 *   "plain-name"        none of the above                        static
 * (and, across a scan, "template-cluster": see sn_cluster_apply).
 * Keywords match whole tokens: the name is split at dots, dashes, underscores
 * and letter/digit boundaries, so "resolver" does not match "res".
 */
sn_dyn_t sn_classify_dyn(const char *name, const sn_addr_t *addr, const char **rule);

/* True when addr (IPv4 or IPv6) appears in name in one of the forms above. */
bool sn_classify_name_has_addr(const char *name, const sn_addr_t *addr);

/*
 * Template clustering across one scan. A pool's names differ only in their
 * counters: "a151145.upc-a.chello.nl", "a96134.upc-a.chello.nl". The template
 * of a name is the name with every digit run replaced by one mark; when a
 * template whose first label holds a counter (three digits or more) has been seen with
 * SN_CLUSTER_MIN distinct counters, the names that share it are a pool.
 *
 * The scan's results stream out as they finish, so the table learns online:
 * the first names of a pool are judged alone, and from the SN_CLUSTER_MIN-th
 * distinct counter on the template decides. Memory grows with the distinct
 * templates (one small entry each), never with the names.
 */
#define SN_CLUSTER_MIN 3

typedef struct sn_cluster sn_cluster_t;

/* NULL when out of memory. */
sn_cluster_t *sn_cluster_new(void);

/* Accepts NULL. */
void sn_cluster_free(sn_cluster_t *cl);

/*
 * Records name in its template and returns true when the template is now a
 * pool (SN_CLUSTER_MIN or more distinct counters seen, this name's included).
 * Names with fewer than three digits in their first label (servers are
 * numbered in ones and tens: "sj-core-5"), invalid names and NULL are not
 * recorded and return false. Out of memory: returns false (the name is
 * judged alone).
 */
bool sn_cluster_observe(sn_cluster_t *cl, const char *name);

/*
 * Applies the cluster table to a verdict of sn_classify: a name the rules could
 * only call "plain-name" static becomes dynamic with rule "template-cluster"
 * when its template is a pool. Every named result should pass through here
 * once, so that the table sees the whole scan. cl NULL: no change.
 */
void sn_cluster_apply(sn_cluster_t *cl, const char *ptr, sn_class_info_t *info);

/* "unknown", "dynamic", "static". */
const char *sn_dyn_str(sn_dyn_t dyn);

#endif
