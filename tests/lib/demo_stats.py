"""Recomputes the demo's statistics from its ground truth and compares them
with the summary snprobe wrote.

Usage: demo_stats.py POPULATION.csv IDENTITY.csv SUMMARY.csv [--no-ptr] [--rebuilt]
       demo_stats.py POPULATION.csv IDENTITY.csv RESULTS.csv --results [--no-ptr]

The population says how each node behaves (lab/population.h), identity.csv
who it is (seen-count, country, continent, AS, PTR name, academic, dynamic or
static). Every statistic below is computed here from those two files alone,
independently of snprobe's code, and must equal the summary's value. With
--no-ptr (no dnsmasq) the PTR-based classes are not compared; with --rebuilt
(a summary `snprobe report` made from the results file) the count of bad
input entries is not, since a results file does not hold it. Standard
library only.
"""
import csv
import math
import sys
from collections import Counter

ALIVE = {"alive", "udp-only", "tcp-only", "tcp-443-only", "tcp-80-only", "nat"}
UDP = {"alive", "udp-only", "nat"}
TCP_OWN = {"alive", "tcp-only", "nat"}
REACH = {"alive": "udp+tcp", "nat": "udp+tcp", "udp-only": "udp-only", "tcp-only": "tcp-only",
         "tcp-443-only": "tcp-443-only", "tcp-80-only": "tcp-80-only", "dead": "none",
         "closed": "none"}


def expected(pop_path, ident_path, with_ptr):
    pop = {(r["address"], r["port"]): r["behaviour"] for r in csv.DictReader(open(pop_path))}
    ident = {(r["address"], r["port"]): r for r in csv.DictReader(open(ident_path))}
    assert set(pop) == set(ident), "population and identity list different nodes"
    n = len(pop)
    alive = [k for k, b in pop.items() if b in ALIVE]
    na = len(alive)
    e = {"targets": n, "probed": n, "blocked": 0, "bad_entries": 0, "alive": na,
         "alive_udp": sum(pop[k] in UDP for k in pop),
         "alive_tcp_own": sum(pop[k] in TCP_OWN for k in pop),
         "alive_tcp_443": sum(pop[k] == "tcp-443-only" for k in pop),
         "alive_tcp_80": sum(pop[k] == "tcp-80-only" for k in pop),
         "sn_eligible": sum(pop[k] == "alive" for k in pop)}
    e["alive_tcp"] = e["alive_tcp_own"] + e["alive_tcp_443"] + e["alive_tcp_80"]
    for cls, c in Counter(REACH[b] for b in pop.values()).items():
        e[f"reach_class.{cls}"] = c
        e[f"reach_class.{cls}.share"] = c / n
    for key in ("alive", "alive_udp", "alive_tcp", "sn_eligible"):
        e[key + ".share"] = e[key] / n

    # Over the alive nodes.
    if with_ptr:
        edu = sum(ident[k]["edu"] == "1" for k in alive)
        e["edu"] = e["edu.ptr"] = edu
        e["edu.share"] = e["edu.ptr.share"] = edu / na
        kinds = Counter(ident[k]["addr_kind"] for k in alive)
        for kind in ("dynamic", "static"):
            e[f"addr_kind.{kind}"] = kinds[kind]
            e[f"addr_kind.{kind}.share"] = kinds[kind] / na
    for field, prefix in (("country", "country"), ("continent", "continent")):
        c = Counter(ident[k][field] for k in alive)
        for key, v in c.items():
            e[f"{prefix}.{key}"] = v
            e[f"{prefix}.{key}.share"] = v / na
    e["countries"] = len({ident[k]["country"] for k in alive})
    asn = Counter(ident[k]["asn"] for k in alive)
    e["asns"] = len(asn)
    e["asn.known"] = na
    e["as_top1.share"] = max(asn.values()) / na
    e["as_hhi"] = sum((100.0 * v / na) ** 2 for v in asn.values())
    ports = Counter(k[1] for k in alive)
    e["ports"] = len(ports)
    e["port_top.share"] = max(ports.values()) / na

    # Seen-counts over every listed target.
    seen = sorted((int(r["seen_count"]) for r in ident.values()), reverse=True)
    total = sum(seen)
    e["listings"] = total
    e["seen.max"] = seen[0]
    e["seen.top20.share"] = sum(seen[:20]) / total
    e["seen.top100.share"] = sum(seen[:100]) / total
    e["seen.top10pct.share"] = sum(seen[:math.ceil(n / 10)]) / total
    for v, c in Counter(seen).items():
        e[f"seen_count.{v}"] = c
    return e


def check_nodes(ident_path, results_path, with_ptr):
    """Every node's facts in the results equal its identity: country, continent,
    AS and organisation for every node, and for the alive ones (whose PTR names
    were looked up) the PTR name, academic flag and dynamic/static kind."""
    ident = {(r["address"], r["port"]): r for r in csv.DictReader(open(ident_path))}
    bad = n = 0
    for r in csv.DictReader(open(results_path)):
        i = ident[(r["address"], r["port"])]
        want = {"country": i["country"], "continent": i["continent"], "asn": i["asn"],
                "as_org": i["as_org"]}
        alive = r["udp_outcome"] == "alive" or r["tcp_outcome"] == "alive"
        if with_ptr and alive:
            want.update({"rdns_status": "ok", "ptr": i["ptr"], "ptr_valid": "1",
                         "edu": i["edu"], "addr_kind": i["addr_kind"]})
        n += 1
        for k, v in want.items():
            if r[k] != v:
                if bad < 10:
                    print(f"  {r['address']}:{r['port']}: {k} is {r[k]!r}, the identity says {v!r}")
                bad += 1
    print(f"{n} nodes' facts checked, {bad} wrong")
    return bad


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    with_ptr = "--no-ptr" not in sys.argv
    if "--results" in sys.argv:
        sys.exit(1 if check_nodes(args[1], args[2], with_ptr) else 0)
    want = expected(args[0], args[1], with_ptr)
    if "--rebuilt" in sys.argv:
        del want["bad_entries"]
    got = {}
    for r in csv.DictReader(open(args[2])):
        got[r["metric"]] = r["value"]
    bad = 0
    for key, v in sorted(want.items()):
        if key not in got:
            print(f"  {key}: missing from the summary (expected {v})")
            bad += 1
            continue
        try:
            g = float(got[key])
        except ValueError:
            print(f"  {key}: {got[key]!r} is not a number (expected {v})")
            bad += 1
            continue
        tol = 0.01 if key == "as_hhi" else (5e-7 if isinstance(v, float) else 0)
        if abs(g - v) > tol:
            print(f"  {key}: summary says {got[key]}, the population says {v}")
            bad += 1
    print(f"{len(want) - bad} of {len(want)} statistics equal the population's")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
