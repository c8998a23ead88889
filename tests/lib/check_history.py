#!/usr/bin/env python3
"""Checks `snprobe history` tables against a demo's schedule (the ground truth).

  check_history.py SCHEDULE.csv DIR

SCHEDULE.csv is the demo's schedule.csv (night,address,port,behaviour,present,
alive: one row per night and listed target). DIR holds runs.csv, nodes.csv,
churn.csv, staleness.csv and survival.csv written by `snprobe history` from
the demo's history, whose runs 1..N are nights 1..N. Every table must equal,
cell for cell, what the schedule implies under the definitions of
data/history_stats.c, recomputed here independently. Exit 1 on any mismatch.

Standard library only.
"""
import csv
import sys


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def ratio(num, den):
    return "" if den == 0 else f"{num / den:.4f}"


def main():
    sched, d = sys.argv[1], sys.argv[2]
    listed, alive = {}, {}
    nights = 0
    for r in rows(sched):
        n = int(r["night"])
        nights = max(nights, n)
        key = (r["address"], r["port"])
        listed.setdefault(n, set()).add(key)
        if r["alive"] == "1":
            alive.setdefault(n, set()).add(key)
    A = [alive.get(n, set()) for n in range(1, nights + 1)]
    L = [listed.get(n, set()) for n in range(1, nights + 1)]
    bad = 0

    def compare(name, want, got):
        nonlocal bad
        if want == got:
            print(f"ok   - history {name}: {len(got)} rows as the schedule says")
            return
        bad += 1
        print(f"FAIL - history {name} differs from the schedule")
        ws, gs = set(map(tuple, want)), set(map(tuple, got))
        for x in sorted(ws - gs)[:10]:
            print("  want", x)
        for x in sorted(gs - ws)[:10]:
            print("  got ", x)

    runs = rows(f"{d}/runs.csv")
    compare("runs", [(str(i + 1), "complete", str(len(L[i])), str(len(L[i])), str(len(A[i])))
                     for i in range(nights)],
            [(r["run_id"], r["status"], r["targets"], r["probed"], r["alive"]) for r in runs])

    # nodes
    want = []
    for key in set().union(*L):
        probed = sum(key in l for l in L)
        al = [i for i in range(nights) if key in A[i]]
        streak = best = 0
        for i in range(nights):
            streak = streak + 1 if key in A[i] else 0
            best = max(best, streak)
        want.append((key[0], key[1], str(probed), str(len(al)), ratio(len(al), probed),
                     str(al[0] + 1) if al else "", str(al[-1] + 1) if al else "", str(best)))
    got = [(r["address"], r["port"], r["runs_probed"], r["runs_alive"], r["availability"],
            r["first_alive"], r["last_alive"], r["longest_streak"]) for r in rows(f"{d}/nodes.csv")]
    compare("nodes", sorted(want), sorted(got))

    # churn
    want = []
    for i in range(nights):
        before = set().union(*A[:i - 1]) if i >= 2 else set()
        prev = A[i - 1] if i > 0 else set()
        new = sum(1 for k in A[i] if k not in prev and k not in before)
        ret = sum(1 for k in A[i] if k not in prev and k in before)
        gone = len(prev - A[i])
        want.append((str(i + 1), str(len(A[i])), str(new), str(ret), str(gone)))
    got = [(r["run_id"], r["alive"], r["new"], r["returning"], r["gone"])
           for r in rows(f"{d}/churn.csv")]
    compare("churn", want, got)

    # staleness
    want = []
    for k in range(1, nights):
        vals = [len(A[i] & A[i + k]) / len(A[i + k]) for i in range(nights - k) if A[i + k]]
        want.append((str(k), str(len(vals)), f"{sum(vals) / len(vals):.4f}" if vals else ""))
    got = [(r["age"], r["pairs"], r["coverage"]) for r in rows(f"{d}/staleness.csv")]
    compare("staleness", want, got)

    # survival, every node
    want = []
    for k in range(1, nights):
        den = sum(len(A[i]) for i in range(nights - k))
        num = sum(len(A[i] & A[i + k]) for i in range(nights - k))
        want.append((str(k), str(den), str(num), ratio(num, den)))
    got = [(r["age"], r["pairs"], r["survivors"], r["survival"])
           for r in rows(f"{d}/survival.csv") if r["addr_kind"] == "all"]
    compare("survival", want, got)
    sys.exit(1 if bad else 0)


main()
