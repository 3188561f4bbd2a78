#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Merge the bench's parts into one result: markdown table, JSON and a PNG.

  report.py OUTDIR LIVE_JSON CPS_JSON PROG_COST_JSON [--docs docs/performance.md]

Writes OUTDIR/bench.md, OUTDIR/bench.json and OUTDIR/bench.png (gnuplot,
when installed); with --docs, also puts the tables into that document
between its "results begin/end" markers. Missing inputs are reported as missing, never invented.
Ratios compare xdpsbc with the tool an operator would otherwise use; the
design goals are reported (met or missed), not asserted.
"""
import json
import os
import platform
import shutil
import subprocess
import sys
import time


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def by_case(live):
    return {r["case"]: r for r in (live or []) if "case" in r}


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return round(a / b, 2)


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return "%.2f%s" % (v, unit)
    return "%s%s" % (v, unit)


def goal_text(r, goal):
    if r is None:
        return "not measured"
    return "%s (goal >= %gx)" % ("met" if r >= goal else "MISSED", goal)


def cps_summary(cps):
    edges = {}
    for r in cps or []:
        e = edges.setdefault(r["edge"], {"steps": [], "na": r.get("na")})
        if "rate" in r:
            e["steps"].append(r)
    out = {}
    for name, e in edges.items():
        clean = [s for s in e["steps"] if s.get("clean")]
        best = max(clean, key=lambda s: s["rate"]) if clean else None
        out[name] = {
            "na": e["na"],
            "max_clean_rate": best["rate"] if best else None,
            "cpu_ms_per_call_at_max": best["cpu_ms_per_call"] if best else None,
            "steps": e["steps"],
        }
    return out


def main():
    outdir, live_p, cps_p, pc_p = sys.argv[1:5]
    live, cps, pc = load(live_p), load(cps_p), load(pc_p)
    # CPU per packet from the raw times of the run: generator + competitor
    # task times (a task's stime already holds the softirq run in its context).
    for r in live or []:
        if "na" not in r and r.get("delivered"):
            r["cpu_s"] = round(r["generator_cpu_s"] + r["process_cpu_s"], 3)
            r["cpu_ns_per_pkt"] = int(r["cpu_s"] * 1e9 / r["delivered"])
    lc = by_case(live)
    cs = cps_summary(cps)

    def pps(name):
        return lc.get(name, {}).get("delivered_pps")

    def nspp(name):
        return lc.get(name, {}).get("cpu_ns_per_pkt")

    sigd = cs.get("xdpsbc-sigd", {})
    kam = cs.get("kamailio+rtpengine", {})
    # CPU per call compared at the highest rate both edges completed cleanly.
    common = None
    if sigd.get("steps") and kam.get("steps"):
        rs = {s["rate"] for s in sigd["steps"] if s.get("clean")}
        rk = {s["rate"] for s in kam["steps"] if s.get("clean")}
        both = rs & rk
        common = max(both) if both else None

    def cpu_at(edge, rate):
        for s in edge.get("steps", []):
            if s["rate"] == rate:
                return s.get("cpu_ms_per_call")
        return None

    ratios = {
        "relay_pps_xdp_vs_rtpengine": ratio(pps("relay-xdp-native"), pps("relay-rtpengine")),
        "relay_cpu_rtpengine_vs_xdp": ratio(nspp("relay-rtpengine"), nspp("relay-xdp-native")),
        "drop_pps_xdp_vs_nft": ratio(pps("drop-xdp"), pps("drop-nft")),
        "drop_cpu_nft_vs_xdp": ratio(nspp("drop-nft"), nspp("drop-xdp")),
        "cps_sigd_vs_kamailio": ratio(sigd.get("max_clean_rate"), kam.get("max_clean_rate")),
        "cpu_per_call_kamailio_vs_sigd": ratio(cpu_at(kam, common), cpu_at(sigd, common))
        if common else None,
        "cpu_per_call_compared_at_rate": common,
    }
    goals = {
        "relay_pps_xdp_vs_rtpengine": 10,
        "drop_pps_xdp_vs_nft": 5,
        "cps_sigd_vs_kamailio": 1.5,
        "cpu_per_call_kamailio_vs_sigd": 1.5,
    }
    result = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "live": live,
        "cps": cs,
        "prog_cost": pc,
        "ratios": ratios,
        "goals": {k: {"goal": g, "ratio": ratios[k],
                      "met": None if ratios[k] is None else ratios[k] >= g}
                  for k, g in goals.items()},
    }
    with open(os.path.join(outdir, "bench.json"), "w") as f:
        json.dump(result, f, indent=1)

    md = []
    md.append("# xdpsbc bench: live packets, signalling, scaling\n")
    md.append("Run %s, kernel %s, %d CPUs; `make bench` (method: docs/performance.md). "
              "Every number below was measured in this run.\n"
              % (result["time"], result["kernel"], result["cpus"]))
    md.append("## Ratios against the usual tools\n")
    md.append("| comparison | xdpsbc | other | ratio | goal |")
    md.append("|---|---:|---:|---:|---|")
    md.append("| relay pps: XDP native vs rtpengine (userspace) | %s | %s | %s | %s |" % (
        fmt(pps("relay-xdp-native")), fmt(pps("relay-rtpengine")),
        fmt(ratios["relay_pps_xdp_vs_rtpengine"], "x"),
        goal_text(ratios["relay_pps_xdp_vs_rtpengine"], 10)))
    md.append("| relay CPU ns/packet: rtpengine / XDP native | %s | %s | %s | - |" % (
        fmt(nspp("relay-xdp-native")), fmt(nspp("relay-rtpengine")),
        fmt(ratios["relay_cpu_rtpengine_vs_xdp"], "x")))
    md.append("| blocklist drop pps: XDP vs nftables set | %s | %s | %s | %s |" % (
        fmt(pps("drop-xdp")), fmt(pps("drop-nft")), fmt(ratios["drop_pps_xdp_vs_nft"], "x"),
        goal_text(ratios["drop_pps_xdp_vs_nft"], 5)))
    md.append("| drop CPU ns/packet: nftables / XDP | %s | %s | %s | - |" % (
        fmt(nspp("drop-xdp")), fmt(nspp("drop-nft")), fmt(ratios["drop_cpu_nft_vs_xdp"], "x")))
    md.append("| calls/s, no failed call: sigd vs Kamailio+rtpengine | %s | %s | %s | %s |" % (
        fmt(sigd.get("max_clean_rate")), fmt(kam.get("max_clean_rate")),
        fmt(ratios["cps_sigd_vs_kamailio"], "x"),
        goal_text(ratios["cps_sigd_vs_kamailio"], 1.5)))
    md.append("| edge CPU ms/call at %s calls/s: Kamailio+rtpengine / sigd | %s | %s | %s | %s |" % (
        fmt(common), fmt(cpu_at(sigd, common)), fmt(cpu_at(kam, common)),
        fmt(ratios["cpu_per_call_kamailio_vs_sigd"], "x"),
        goal_text(ratios["cpu_per_call_kamailio_vs_sigd"], 1.5)))
    for case, what in (("relay-rtpengine", "rtpengine"), ("drop-nft", "nftables")):
        if lc.get(case, {}).get("saturated") is False:
            md.append("\nCaution: %s was not saturated in this run (it delivered what the "
                      "generator could send), so its pps is a lower bound and the pps ratio "
                      "against it an upper bound; the CPU ns/packet ratio still holds." % what)
    md.append("")
    md.append("## Datapaths, as ratios to the UDP path\n")
    md.append("Relayed pps of calls set up through xdpsbc-sigd on each datapath, same run. "
              "Two-armed: caller and callee behind different edge interfaces; one-armed: "
              "both behind the interface the media arrives on.\n")
    md.append("| datapath | two-armed pps | vs udp | one-armed pps | vs udp |")
    md.append("|---|---:|---:|---:|---:|")
    for dp in ("sigd-xdp", "afxdp", "udp"):
        two, one = pps("relay-" + dp), pps("relay-" + dp + "-1arm")
        md.append("| %s | %s | %s | %s | %s |" % (
            dp.replace("sigd-", ""), fmt(two), fmt(ratio(two, pps("relay-udp")), "x"),
            fmt(one), fmt(ratio(one, pps("relay-udp-1arm")), "x")))
    md.append("")
    md.append("## Live packets per second (200-byte IPv4/UDP, veth between namespaces)\n")
    md.append("Delivered: packets that reached the sink (relays) or that the filter dropped "
              "(drops), per second of sending. Saturated: the edge lost packets (delivered < "
              "98% of sent), so the edge set the rate; 'no' means the generator did and the "
              "edge could do more. CPU: the generator's and the competitor's process time "
              "(utime+stime, which holds the softirq work, XDP included, run in their "
              "context), per delivered packet; busy: the whole machine's "
              "busy time per packet; background: the machine's busy share just before the "
              "case (other work on the host).\n")
    md.append("| case | flows | sent pps | delivered pps | saturated | gen s | softirq s | "
              "process s | CPU ns/pkt | busy ns/pkt | background |")
    md.append("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in live or []:
        if "na" in r:
            md.append("| %s | | | n/a: %s | | | | | | | |" % (r["case"], r["na"]))
            continue
        sat = r.get("saturated")
        md.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["case"], r["flows"], r["sent_pps"], r["delivered_pps"],
            "n/a" if sat is None else ("yes" if sat else "no"), r["generator_cpu_s"],
            r["cpu_softirq_s"], r["process_cpu_s"], fmt(r["cpu_ns_per_pkt"]),
            fmt(r.get("busy_ns_per_pkt")), r["background_busy"]))
    md.append("")
    md.append("## Signalling: calls per second, stepped\n")
    md.append("| edge | rate | calls | completed | failed | edge CPU s | CPU ms/call | clean |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, e in cs.items():
        if e.get("na"):
            md.append("| %s | | | | | | | n/a: %s |" % (name, e["na"]))
        for s in e["steps"]:
            md.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                name, s["rate"], s["calls"], s["completed"], s["failed"], s["edge_cpu_s"],
                fmt(s["cpu_ms_per_call"]), "yes" if s["clean"] else "no"))
    md.append("")
    md.append("## Scaling: concurrent flows\n")
    scale = [r for r in live or [] if r.get("case", "").startswith("scale-") and "na" not in r]
    if scale:
        md.append("Live: the native XDP relay with N flows in the table (traffic over "
                  "min(N, 15000) of them); kernel memory from the map's memlock.\n")
        md.append("| flows in table | delivered pps | CPU ns/pkt | xs_flows memlock | bytes/flow |")
        md.append("|---:|---:|---:|---:|---:|")
        for r in scale:
            md.append("| %s | %s | %s | %s | %s |" % (
                r["flows"], r["delivered_pps"], fmt(r["cpu_ns_per_pkt"]),
                r.get("flows_memlock"), r.get("bytes_per_flow")))
        md.append("")
    if pc:
        md.append("Program cost (BPF_PROG_TEST_RUN, bench/results/prog_cost.md), relay path:\n")
        md.append("| entries | relay ns/pkt | xdp_tx baseline ns/pkt |")
        md.append("|---:|---:|---:|")
        for r in pc.get("results", []):
            if r.get("verdict") == "relay-tx":
                md.append("| %s | %s | %s |" % (r["entries"], r["ns"], r["baseline_ns"]))
        for m in pc.get("memory", []):
            md.append("\n%s: %s bytes per entry at %s entries (memlock)." % (
                m["map"], m["bytes_per_entry"], m["entries"]))
        md.append("")
    with open(os.path.join(outdir, "bench.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    if len(sys.argv) > 6 and sys.argv[5] == "--docs":
        update_docs(sys.argv[6], md)

    plot(outdir, live, cs)


def update_docs(path, md):
    """Put this run's tables between the results markers of docs/performance.md."""
    begin, end = "<!-- results begin -->", "<!-- results end -->"
    try:
        with open(path) as f:
            doc = f.read()
    except OSError:
        return
    if begin not in doc or end not in doc:
        return
    body = "\n".join(l.replace("## ", "### ", 1) if l.startswith("## ") else l
                     for l in md if not l.startswith("# "))
    head, rest = doc.split(begin, 1)
    tail = rest.split(end, 1)[1]
    with open(path, "w") as f:
        f.write(head + begin + "\n" + body + "\n![bench plot](../bench/results/bench.png)\n"
                + end + tail)


def plot(outdir, live, cs):
    """Two panels: delivered Mpps per live case; CPU ms per call per step."""
    if not shutil.which("gnuplot"):
        print("report: gnuplot not installed, no PNG (make bench-deps)", file=sys.stderr)
        return
    dat = os.path.join(outdir, ".bench-live.dat")
    with open(dat, "w") as f:
        for r in live or []:
            if "na" not in r:
                f.write('"%s" %.4f\n' % (r["case"], r["delivered_pps"] / 1e6))
    cdat = os.path.join(outdir, ".bench-cps.dat")
    with open(cdat, "w") as f:
        for name, e in cs.items():
            f.write("# %s\n" % name)
            for s in e["steps"]:
                if s.get("cpu_ms_per_call") is not None:
                    f.write("%s %s %d\n" % (s["rate"], s["cpu_ms_per_call"], 1 if s["clean"] else 0))
            f.write("\n\n")
    names = list(cs.keys())
    cps_plot = ", ".join("'%s' index %d using 1:2 with linespoints lw 2 title '%s'" % (cdat, i, n)
                         for i, n in enumerate(names)) or "NaN notitle"
    script = """
set terminal pngcairo size 1400,600 font ',10'
set output '%s'
set multiplot layout 1,2
set title 'Live delivered packets per second (200-byte UDP, veth)'
set style data histograms
set style fill solid 0.8
set boxwidth 0.8
set ylabel 'Mpps'
set xtics rotate by -30
set grid ytics
plot '%s' using 2:xtic(1) notitle lc rgb '#3070b0'
unset style
set title 'Signalling: edge CPU per completed call'
set xlabel 'calls per second offered'
set ylabel 'CPU ms per call'
set xtics norotate
set key top left
plot %s
unset multiplot
""" % (os.path.join(outdir, "bench.png"), dat, cps_plot)
    r = subprocess.run(["gnuplot"], input=script.encode(), capture_output=True)
    if r.returncode:
        print("report: gnuplot failed: %s" % r.stderr.decode()[-300:], file=sys.stderr)
    for p in (dat, cdat):
        os.unlink(p)


if __name__ == "__main__":
    main()
