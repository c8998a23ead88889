#!/usr/bin/env python3
"""Checks the report's --by-site section against the lab's expectations.

Usage: sites.py REPORT.html EXPECT.tsv SITE=CASE...
  For each SITE (a --site name) scanned as lab CASE (a case of expect.tsv),
  the section's per-site row must give the alive count and the count of every
  reachability class that expect.tsv gives for that case; with two sites, the
  Jaccard index of their alive sets, the counts alive from every site and from
  only one, and the class agreement must be those expect.tsv implies.
  Prints one line per check; exits 1 on any failure.
"""
import html
import re
import sys

CLASSES = ["udp+tcp", "udp+tcp-443", "udp+tcp-80", "udp-only", "tcp-only",
           "tcp-443-only", "tcp-80-only", "none", "incomplete"]


def table(page, tid):
    m = re.search(r'<table id="%s">(.*?)</table>' % tid, page, re.S)
    if not m:
        return []
    rows = re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)
    return [[html.unescape(re.sub("<[^>]*>", "", c)) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)]
            for r in rows]


def main():
    page = open(sys.argv[1]).read()
    expect = {}
    for line in open(sys.argv[2]):
        if line.startswith("#") or not line.strip():
            continue
        case, node, reach = line.split("\t")[:3]
        expect.setdefault(case, {})[node] = reach
    sites = dict(a.split("=", 1) for a in sys.argv[3:])
    bad = 0

    def check(what, got, want):
        nonlocal bad
        ok = got == want
        bad += not ok
        print(("ok   - " if ok else "FAIL - ") + f"{what}: {got}" + ("" if ok else f" (expected {want})"))

    views = {r[0]: r for r in table(page, "sites-views")[1:]}
    head = table(page, "sites-views")[0] if table(page, "sites-views") else []
    for site, case in sites.items():
        row = views.get(site)
        if row is None:
            check(f"site {site} has a row", False, True)
            continue
        alive = {n for n, r in expect[case].items() if r != "none"}
        check(f"{site}: alive", int(row[head.index("alive")]), len(alive))
        for c in CLASSES:
            want = sum(1 for r in expect[case].values() if r == c)
            check(f"{site}: {c}", int(row[head.index(c)]), want)
        print(f"       {site}: vantage verdict {row[1]}")
    if len(sites) == 2:
        (s1, c1), (s2, c2) = sites.items()
        a1 = {n for n, r in expect[c1].items() if r != "none"}
        a2 = {n for n, r in expect[c2].items() if r != "none"}
        jac = table(page, "sites-jaccard")[1:]
        got = float(jac[0][2]) if jac else -1
        check("Jaccard index", f"{got:.3f}", f"{len(a1 & a2) / len(a1 | a2):.3f}")
        m = re.search(r'<p id="sites-overlap">(.*?)</p>', page, re.S)
        nums = [int(x) for x in re.findall(r"\d+", m.group(1))] if m else []
        agree = sum(1 for n in expect[c1] if expect[c1][n] == expect[c2].get(n))
        check("alive any/every/one, probed by both, same class", nums,
              [len(a1 | a2), len(a1 & a2), len(a1 ^ a2), len(expect[c1]), agree])
    check("the headline says how similar the views are",
          "How similar is the view from every location" in page, True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
