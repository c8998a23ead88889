#!/usr/bin/env python3
"""Collects the benchmark's measurements and renders the results table.

  table.py header RAW.csv                      start an empty raw file
  table.py add RAW.csv --case C --row R ...    append one repetition
  table.py attach RAW.csv STATS.json           add figures to the last repetition
  table.py render RAW.csv --md OUT.md --csv OUT.csv [--fail-on PREFIXES] ...

The raw file has one line per repetition; render groups them by (case, row)
in the order they ran and reports, per row: targets/s (targets over the median
wall time of the whole command), median CPU seconds (user+sys) and peak RSS,
and the worst correctness over the repetitions. Ratios are computed within
one case: an snprobe row against the floor and nmap rows of the same case
(the default plan against the sum of the UDP and TCP rows' wall times).

Standard library only (CI runs Debian's python3).
"""
import argparse
import csv
import json
import os
import statistics
import sys

RAW_FIELDS = ["case", "row", "check", "rep", "targets", "wall_s", "cpu_s", "rss_kb", "exit",
              "udp_live_found", "udp_live_expected", "tcp_live_found", "tcp_live_expected",
              "dead_alive", "dead_total", "wrong", "missing", "extra"]


def read_raw(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_raw(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, RAW_FIELDS)
        w.writeheader()
        w.writerows(rows)


def cmd_add(a):
    r = dict.fromkeys(RAW_FIELDS, "")
    r.update(case=a.case, row=a.row, check=a.check, rep=a.rep, targets=a.targets,
             wall_s=f"{a.wall_ns / 1e9:.3f}", exit=a.exit)
    try:
        with open(a.time_file) as f:  # GNU time: "U S M", after a status line on failure
            u, s, m = f.read().split("\n")[-2].split()
        r.update(cpu_s=f"{float(u) + float(s):.2f}", rss_kb=m)
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(a.score) as f:
            sc = json.load(f)
        for k in RAW_FIELDS:
            if k in sc and k != "targets":
                r[k] = sc[k]
    except (OSError, ValueError):
        r.update(wrong=a.targets, missing=a.targets, extra="no results")
    with open(a.raw, "a", newline="") as f:
        csv.DictWriter(f, RAW_FIELDS).writerow(r)
    return 0


def cmd_attach(a):
    rows = read_raw(a.raw)
    with open(a.stats) as f:
        st = json.load(f)
    rows[-1]["extra"] = ";".join(f"{k}={v}" for k, v in st.items())
    write_raw(a.raw, rows)
    return 0


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarise(raw):
    groups = {}
    for r in raw:
        groups.setdefault((r["case"], r["row"]), []).append(r)
    out = []
    for (case, row), reps in groups.items():
        def worst(field, fn):
            vals = [int(r[field]) for r in reps if r[field] != ""]
            return fn(vals) if vals else None
        s = {"case": case, "row": row, "check": reps[0]["check"], "targets": int(reps[0]["targets"]),
             "reps": len(reps), "wall_s": med(num(r["wall_s"]) for r in reps),
             "cpu_s": med(num(r["cpu_s"]) for r in reps),
             "rss_kb": med(num(r["rss_kb"]) for r in reps),
             "exit": max(int(r["exit"]) for r in reps)}
        for f in ("udp_live_found", "tcp_live_found"):
            s[f] = worst(f, min)
        for f in ("udp_live_expected", "tcp_live_expected", "dead_total", "dead_alive", "wrong",
                  "missing"):
            s[f] = worst(f, max)
        extras = [dict(kv.split("=", 1) for kv in r["extra"].split(";") if "=" in kv) for r in reps]
        for k in ("err_median_us", "err_p99_us", "undelayed_median_us", "samples"):
            s[k] = med(num(e.get(k)) for e in extras)
        s["tps"] = s["targets"] / s["wall_s"] if s["wall_s"] else None
        out.append(s)
    return out


def add_ratios(rows):
    by = {(r["case"], r["row"]): r for r in rows}

    def tps_of(case, names):
        refs = [by.get((case, n)) for n in names]
        if not all(refs) or not all(r["wall_s"] for r in refs):
            return None
        return refs[0]["targets"] / sum(r["wall_s"] for r in refs)

    for r in rows:
        r["x_floor"] = r["x_nmap"] = None
        if not r["row"].startswith("snprobe-") or not r["tps"]:
            continue
        plan = r["row"].split("-", 1)[1]
        floor = {"skype": ["floor-udp"], "tcp": ["floor-tcp"],
                 "default": ["floor-udp", "floor-tcp"]}.get(plan, [])
        for timing in ("tuned", "default"):
            nmap = {"skype": [f"nmap-udp-{timing}"], "tcp": [f"nmap-tcp-{timing}"],
                    "default": [f"nmap-udp-{timing}", f"nmap-tcp-{timing}"]}.get(plan, [])
            t = tps_of(r["case"], nmap) if nmap else None
            if t and r["x_nmap"] is None:
                r["x_nmap"] = r["tps"] / t
                r["nmap_timing"] = timing
        t = tps_of(r["case"], floor) if floor else None
        if t:
            r["x_floor"] = r["tps"] / t


def fmt(v, spec):
    return "" if v is None else format(v, spec)


def live_text(r):
    parts = []
    for t in ("udp", "tcp"):
        if r[t + "_live_expected"] is not None and r["check"] in (t, "both"):
            parts.append(f"{t} {r[t + '_live_found']}/{r[t + '_live_expected']}")
    return ", ".join(parts)


def cmd_render(a):
    rows = summarise(read_raw(a.raw))
    add_ratios(rows)
    md = [f"# {a.title}", ""]
    for m in a.meta:
        k, _, v = m.partition("=")
        md.append(f"- {k}: {v}")
    md += ["", "## Throughput and correctness", "",
           "| case | row | targets | targets/s | wall s | CPU s | peak RSS MiB | live found "
           "| dead reported alive | wrong | x floor | x nmap |",
           "|---|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|"]
    for r in rows:
        if r["case"] in ("rtt", "scale"):
            continue
        flag = f" (exit {r['exit']})" if r["exit"] else ""
        xn = fmt(r["x_nmap"], ".2f") + (f" ({r['nmap_timing']})" if r["x_nmap"] else "")
        md.append(f"| {r['case']} | {r['row']}{flag} | {r['targets']} | {fmt(r['tps'], ',.0f')} "
                  f"| {fmt(r['wall_s'], '.2f')} | {fmt(r['cpu_s'], '.2f')} "
                  f"| {fmt(r['rss_kb'] and r['rss_kb'] / 1024, '.1f')} | {live_text(r)} "
                  f"| {r['dead_alive']}/{r['dead_total']} | {r['wrong']} "
                  f"| {fmt(r['x_floor'], '.2f')} | {xn} |")

    by = {(r["case"], r["row"]): r for r in rows}
    scale = [r for r in rows if r["case"] == "scale"]
    for r in scale:
        base = by.get((a.scale_base, r["row"]))
        r["linear_wall_s"] = r["per_target_b"] = None
        if base and base["wall_s"] and r["targets"] > base["targets"]:
            r["linear_wall_s"] = base["wall_s"] * r["targets"] / base["targets"]
            if r["rss_kb"] and base["rss_kb"]:
                r["per_target_b"] = ((r["rss_kb"] - base["rss_kb"]) * 1024
                                     / (r["targets"] - base["targets"]))
            r["base_targets"] = base["targets"]
    if scale:
        md += ["", "## Scale", "",
               "| row | targets | wall s | linear from the base case, s | wall / linear "
               "| peak RSS MiB | bytes per extra target | live found | dead reported alive | wrong |",
               "|---|--:|--:|--:|--:|--:|--:|---|--:|--:|"]
        for r in scale:
            lin = r["linear_wall_s"]
            md.append(f"| {r['row']} | {r['targets']} | {fmt(r['wall_s'], '.2f')} "
                      f"| {fmt(lin, '.2f')} | {fmt(lin and r['wall_s'] / lin, '.2f')} "
                      f"| {fmt(r['rss_kb'] and r['rss_kb'] / 1024, '.1f')} "
                      f"| {fmt(r['per_target_b'], '.0f')} | {live_text(r)} "
                      f"| {r['dead_alive']}/{r['dead_total']} | {r['wrong']} |")
        md += ["", f"Linear = the {a.scale_base} case's wall time scaled by the target ratio "
               f"({scale[0]['targets']} / {scale[0].get('base_targets', '?')}); bytes per extra "
               "target = (peak RSS difference) / (target difference)."]
    rtt = [r for r in rows if r["case"] == "rtt"]
    if rtt:
        md += ["", "## RTT accuracy", "",
               "| row | targets | replies | error median us | error p99 us | undelayed median us "
               "| live found | wrong |", "|---|--:|--:|--:|--:|--:|---|--:|"]
        for r in rtt:
            md.append(f"| {r['row']} | {r['targets']} | {fmt(r['samples'], '.0f')} "
                      f"| {fmt(r['err_median_us'], '.0f')} | {fmt(r['err_p99_us'], '.0f')} "
                      f"| {fmt(r['undelayed_median_us'], '.0f')} | {live_text(r)} | {r['wrong']} |")
        md += ["", "Error = measured udp_rtt_us - the delay - the median RTT of the undelayed "
               "scan (for the 0 ms row: its own median, so its error is the jitter); both scans "
               "paced as the commands below show; median over the repetitions of each "
               "repetition's median and p99."]
    md += ["", "## Notes", "",
           "- targets/s = targets / median wall time of the whole command (start-up, the 1 s "
           "timeout after the last send and writing the results included); CPU = user + sys; "
           "peak RSS from GNU time. Correctness is the worst repetition.",
           "- live found = targets found alive / targets the population says answer; wrong = "
           "targets whose outcome differs from the population's (data/population.h).",
           "- x floor, x nmap: targets/s of the snprobe row over that of floor / nmap in the same "
           "case; the default plan is compared with the UDP and TCP rows run back to back.",
           "- nmap cannot take ip:port pairs, so it runs on the one-port population only; with "
           "default timing it runs on the `subset` case (the first targets of one-port) to keep "
           "the run short.",
           "- Enrichment rows: not measured yet (hook: enrichment_rows in bench/run.sh)."]
    if a.commands and os.path.exists(a.commands):
        with open(a.commands) as f:
            md += ["", "## Commands", "", "```"] + [l.rstrip() for l in f] + ["```"]
    with open(a.md, "w") as f:
        f.write("\n".join(md) + "\n")

    cols = ["case", "row", "targets", "reps", "tps", "wall_s", "cpu_s", "rss_kb", "exit",
            "udp_live_found", "udp_live_expected", "tcp_live_found", "tcp_live_expected",
            "dead_alive", "dead_total", "wrong", "missing", "x_floor", "x_nmap",
            "linear_wall_s", "per_target_b", "err_median_us", "err_p99_us", "undelayed_median_us"]
    with open(a.csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["targets_per_s" if c == "tps" else c for c in cols])
        for r in rows:
            w.writerow(["" if r.get(c) is None else
                        (f"{r[c]:.3f}" if isinstance(r[c], float) else r[c]) for c in cols])

    status = 0
    for prefix in filter(None, (a.fail_on or "").split(",")):
        for r in rows:
            if r["row"].startswith(prefix) and (r["wrong"] or r["exit"]):
                print(f"FAIL: {r['case']} {r['row']}: {r['wrong']} targets misclassified, "
                      f"exit status {r['exit']}", file=sys.stderr)
                status = 1
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("header")
    h.add_argument("raw")
    d = sub.add_parser("add")
    d.add_argument("raw")
    for opt in ("--case", "--row", "--check", "--time-file", "--score"):
        d.add_argument(opt, required=True)
    for opt in ("--rep", "--targets", "--wall-ns", "--exit"):
        d.add_argument(opt, type=int, required=True)
    t = sub.add_parser("attach")
    t.add_argument("raw")
    t.add_argument("stats")
    r = sub.add_parser("render")
    r.add_argument("raw")
    r.add_argument("--md", required=True)
    r.add_argument("--csv", required=True)
    r.add_argument("--commands")
    r.add_argument("--title", default="snprobe benchmark")
    r.add_argument("--meta", action="append", default=[])
    r.add_argument("--scale-base", default="ip:port")
    r.add_argument("--fail-on", help="comma-separated row prefixes that must be all correct")
    a = ap.parse_args()
    if a.cmd == "header":
        write_raw(a.raw, [])
        return 0
    return {"add": cmd_add, "attach": cmd_attach, "render": cmd_render}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
