/*
 * Country to continent: ISO 3166-1 alpha-2 to the seven continent codes that
 * MaxMind databases use (AF AN AS EU NA OC SA), for databases that give only a
 * country (the ip-location-db and DB-IP Lite files).
 *
 * The assignments follow GeoNames, which MaxMind's own data follows, so a
 * continent filled from this table agrees with one read from a GeoIP2 database:
 * Russia is Europe; Turkey, Armenia, Azerbaijan and Georgia are Asia; Cyprus is
 * Europe; Egypt is Africa; Panama and the Caribbean are North America;
 * Antarctica and the southern islands (BV GS HM TF) are Antarctica. Kosovo (XK)
 * and the legacy GeoIP pseudo-countries EU and AP are added because older
 * databases still emit them.
 *
 * A static sorted array searched by bisection: no start-up work, no allocation.
 */
#include "data/geo.h"

#include <string.h>

typedef struct continent_entry {
    char cc[3];
    char continent[3];
} continent_entry_t;

/* Sorted by country code; the binary search below depends on it. */
static const continent_entry_t TABLE[] = {
    {"AD", "EU"}, {"AE", "AS"}, {"AF", "AS"}, {"AG", "NA"}, {"AI", "NA"}, {"AL", "EU"},
    {"AM", "AS"}, {"AO", "AF"}, {"AP", "AS"}, {"AQ", "AN"}, {"AR", "SA"}, {"AS", "OC"},
    {"AT", "EU"}, {"AU", "OC"}, {"AW", "NA"}, {"AX", "EU"}, {"AZ", "AS"}, {"BA", "EU"},
    {"BB", "NA"}, {"BD", "AS"}, {"BE", "EU"}, {"BF", "AF"}, {"BG", "EU"}, {"BH", "AS"},
    {"BI", "AF"}, {"BJ", "AF"}, {"BL", "NA"}, {"BM", "NA"}, {"BN", "AS"}, {"BO", "SA"},
    {"BQ", "NA"}, {"BR", "SA"}, {"BS", "NA"}, {"BT", "AS"}, {"BV", "AN"}, {"BW", "AF"},
    {"BY", "EU"}, {"BZ", "NA"}, {"CA", "NA"}, {"CC", "AS"}, {"CD", "AF"}, {"CF", "AF"},
    {"CG", "AF"}, {"CH", "EU"}, {"CI", "AF"}, {"CK", "OC"}, {"CL", "SA"}, {"CM", "AF"},
    {"CN", "AS"}, {"CO", "SA"}, {"CR", "NA"}, {"CU", "NA"}, {"CV", "AF"}, {"CW", "NA"},
    {"CX", "OC"}, {"CY", "EU"}, {"CZ", "EU"}, {"DE", "EU"}, {"DJ", "AF"}, {"DK", "EU"},
    {"DM", "NA"}, {"DO", "NA"}, {"DZ", "AF"}, {"EC", "SA"}, {"EE", "EU"}, {"EG", "AF"},
    {"EH", "AF"}, {"ER", "AF"}, {"ES", "EU"}, {"ET", "AF"}, {"EU", "EU"}, {"FI", "EU"},
    {"FJ", "OC"}, {"FK", "SA"}, {"FM", "OC"}, {"FO", "EU"}, {"FR", "EU"}, {"GA", "AF"},
    {"GB", "EU"}, {"GD", "NA"}, {"GE", "AS"}, {"GF", "SA"}, {"GG", "EU"}, {"GH", "AF"},
    {"GI", "EU"}, {"GL", "NA"}, {"GM", "AF"}, {"GN", "AF"}, {"GP", "NA"}, {"GQ", "AF"},
    {"GR", "EU"}, {"GS", "AN"}, {"GT", "NA"}, {"GU", "OC"}, {"GW", "AF"}, {"GY", "SA"},
    {"HK", "AS"}, {"HM", "AN"}, {"HN", "NA"}, {"HR", "EU"}, {"HT", "NA"}, {"HU", "EU"},
    {"ID", "AS"}, {"IE", "EU"}, {"IL", "AS"}, {"IM", "EU"}, {"IN", "AS"}, {"IO", "AS"},
    {"IQ", "AS"}, {"IR", "AS"}, {"IS", "EU"}, {"IT", "EU"}, {"JE", "EU"}, {"JM", "NA"},
    {"JO", "AS"}, {"JP", "AS"}, {"KE", "AF"}, {"KG", "AS"}, {"KH", "AS"}, {"KI", "OC"},
    {"KM", "AF"}, {"KN", "NA"}, {"KP", "AS"}, {"KR", "AS"}, {"KW", "AS"}, {"KY", "NA"},
    {"KZ", "AS"}, {"LA", "AS"}, {"LB", "AS"}, {"LC", "NA"}, {"LI", "EU"}, {"LK", "AS"},
    {"LR", "AF"}, {"LS", "AF"}, {"LT", "EU"}, {"LU", "EU"}, {"LV", "EU"}, {"LY", "AF"},
    {"MA", "AF"}, {"MC", "EU"}, {"MD", "EU"}, {"ME", "EU"}, {"MF", "NA"}, {"MG", "AF"},
    {"MH", "OC"}, {"MK", "EU"}, {"ML", "AF"}, {"MM", "AS"}, {"MN", "AS"}, {"MO", "AS"},
    {"MP", "OC"}, {"MQ", "NA"}, {"MR", "AF"}, {"MS", "NA"}, {"MT", "EU"}, {"MU", "AF"},
    {"MV", "AS"}, {"MW", "AF"}, {"MX", "NA"}, {"MY", "AS"}, {"MZ", "AF"}, {"NA", "AF"},
    {"NC", "OC"}, {"NE", "AF"}, {"NF", "OC"}, {"NG", "AF"}, {"NI", "NA"}, {"NL", "EU"},
    {"NO", "EU"}, {"NP", "AS"}, {"NR", "OC"}, {"NU", "OC"}, {"NZ", "OC"}, {"OM", "AS"},
    {"PA", "NA"}, {"PE", "SA"}, {"PF", "OC"}, {"PG", "OC"}, {"PH", "AS"}, {"PK", "AS"},
    {"PL", "EU"}, {"PM", "NA"}, {"PN", "OC"}, {"PR", "NA"}, {"PS", "AS"}, {"PT", "EU"},
    {"PW", "OC"}, {"PY", "SA"}, {"QA", "AS"}, {"RE", "AF"}, {"RO", "EU"}, {"RS", "EU"},
    {"RU", "EU"}, {"RW", "AF"}, {"SA", "AS"}, {"SB", "OC"}, {"SC", "AF"}, {"SD", "AF"},
    {"SE", "EU"}, {"SG", "AS"}, {"SH", "AF"}, {"SI", "EU"}, {"SJ", "EU"}, {"SK", "EU"},
    {"SL", "AF"}, {"SM", "EU"}, {"SN", "AF"}, {"SO", "AF"}, {"SR", "SA"}, {"SS", "AF"},
    {"ST", "AF"}, {"SV", "NA"}, {"SX", "NA"}, {"SY", "AS"}, {"SZ", "AF"}, {"TC", "NA"},
    {"TD", "AF"}, {"TF", "AN"}, {"TG", "AF"}, {"TH", "AS"}, {"TJ", "AS"}, {"TK", "OC"},
    {"TL", "OC"}, {"TM", "AS"}, {"TN", "AF"}, {"TO", "OC"}, {"TR", "AS"}, {"TT", "NA"},
    {"TV", "OC"}, {"TW", "AS"}, {"TZ", "AF"}, {"UA", "EU"}, {"UG", "AF"}, {"UM", "OC"},
    {"US", "NA"}, {"UY", "SA"}, {"UZ", "AS"}, {"VA", "EU"}, {"VC", "NA"}, {"VE", "SA"},
    {"VG", "NA"}, {"VI", "NA"}, {"VN", "AS"}, {"VU", "OC"}, {"WF", "OC"}, {"WS", "OC"},
    {"XK", "EU"}, {"YE", "AS"}, {"YT", "AF"}, {"ZA", "AF"}, {"ZM", "AF"}, {"ZW", "AF"},
};

const char *sn_continent_of(const char *cc)
{
    if (cc == NULL || cc[0] == '\0' || cc[1] == '\0' || cc[2] != '\0')
        return NULL;
    char key[2];
    for (int i = 0; i < 2; i++) {
        char c = cc[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            return NULL;
        key[i] = c;
    }
    size_t lo = 0, hi = sizeof TABLE / sizeof TABLE[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = memcmp(key, TABLE[mid].cc, 2);
        if (d == 0)
            return TABLE[mid].continent;
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
