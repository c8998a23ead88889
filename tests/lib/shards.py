#!/usr/bin/env python3
"""Compares the union of shard results with an unsharded scan, target by target.

Usage: shards.py union WHOLE.csv SHARD.csv...
  Every target of WHOLE is in exactly one shard file, no shard file has a target
  WHOLE lacks, and each target's blocked, udp_outcome, tcp_outcome, tcp_port and
  reach_class agree. Prints one line per problem (at most 20) and exits 1 on any.
Usage: shards.py same A.csv B.csv
  The two files hold the same targets with the same outcomes (order free).
"""
import csv
import sys

KEYS = ("blocked", "udp_outcome", "tcp_outcome", "tcp_port", "reach_class")


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def index(path, out, problems, origin):
    for r in rows(path):
        key = (r["address"], r["port"])
        if key in out:
            problems.append(f"{key[0]}:{key[1]} in {out[key][0]} and in {origin}")
            continue
        out[key] = (origin, {k: r.get(k, "") for k in KEYS})


def compare(whole, union, problems):
    for key, (_, w) in whole.items():
        if key not in union:
            problems.append(f"{key[0]}:{key[1]} is in no shard")
        elif union[key][1] != w:
            problems.append(f"{key[0]}:{key[1]}: whole {w} but {union[key][0]} {union[key][1]}")
    for key, (origin, _) in union.items():
        if key not in whole:
            problems.append(f"{key[0]}:{key[1]} in {origin} but not in the unsharded scan")


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("union", "same"):
        print(__doc__, file=sys.stderr)
        return 2
    problems = []
    whole, union = {}, {}
    index(sys.argv[2], whole, problems, sys.argv[2])
    for p in sys.argv[3:]:
        index(p, union, problems, p)
    compare(whole, union, problems)
    for p in problems[:20]:
        print(p)
    if not problems:
        print(f"{len(whole)} targets, each in exactly one of {len(sys.argv) - 3} file(s), agreeing")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
