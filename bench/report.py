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


def met(v, op, goal):
    if v is None:
        return None
    return v >= goal if op == ">=" else v <= goal


def ladder_rows(cps):
    return [r for r in cps or [] if r.get("ladder")]


def cps_summary(cps):
    edges = {}
    for r in cps or []:
        if r.get("ladder"):
            continue
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
    # Net of the generator: the gen-only case is the generator plus a bare
    # XDP_DROP, so a case's CPU per packet minus gen-only's is what its path
    # costs beyond the cheapest possible verdict on the same packets.
    gen_ns = lc.get("gen-only", {}).get("cpu_ns_per_pkt")
    for r in live or []:
        if "na" not in r and r.get("cpu_ns_per_pkt") is not None and gen_ns is not None:
            r["net_ns_per_pkt"] = max(r["cpu_ns_per_pkt"] - gen_ns, 0)
    cs = cps_summary(cps)
    lad_rows = ladder_rows(cps)

    def pps(name):
        return lc.get(name, {}).get("delivered_pps")

    def nspp(name):
        return lc.get(name, {}).get("cpu_ns_per_pkt")

    def net(name):
        return lc.get(name, {}).get("net_ns_per_pkt")

    def lad(edge, n, key="cpu_ms_per_call"):
        for r in lad_rows:
            if r["edge"] == edge and r["concurrent"] == n:
                return r.get(key)
        return None

    drop_big = sorted((r for r in live or [] if r.get("case", "").startswith("drop-xdp-")
                       and "na" not in r), key=lambda r: r.get("entries", 0))
    drop_big = drop_big[-1]["case"] if drop_big else None
    scale_big = sorted((r for r in live or [] if r.get("case", "").startswith("scale-")
                        and "na" not in r), key=lambda r: r.get("flows", 0))
    scale_big = scale_big[-1] if scale_big else {}
    attack = lc.get("attack", {})
    pc_res = (pc or {}).get("results", [])

    # The IPv4 relay row is the goal's (the IPv6 and translation rows, and the
    # single-shot rows that carry the test run's setup, are reported by prog_cost).
    def pc_max(verdicts, entries, path=None):
        v = [r["ns"] for r in pc_res if r.get("verdict") in verdicts and r["entries"] == entries
             and (path is None or r.get("path") == path)]
        return max(v) if v else None
    pc_sizes = sorted({r["entries"] for r in pc_res})
    drops = ("drop-blocklist", "drop-flood", "drop-pinhole", "drop-v6-media")

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
        "relay_net_cpu_rtpengine_vs_xdp": ratio(net("relay-rtpengine"), net("relay-xdp-native")),
        "drop_pps_xdp_vs_nft": ratio(pps("drop-xdp"), pps("drop-nft")),
        "drop_cpu_nft_vs_xdp": ratio(nspp("drop-nft"), nspp("drop-xdp")),
        "drop_net_cpu_nft_vs_xdp": ratio(net("drop-nft"), net("drop-xdp")),
        "relay_vs_limit_2arm": ratio(pps("relay-xdp-native"), pps("limit-fwd-2arm")),
        "relay_vs_limit_1arm": ratio(pps("relay-xdp-native-1arm"), pps("limit-fwd-1arm")),
        "relay6_vs_relay4": ratio(pps("relay6-xdp-native"), pps("relay-xdp-native-csum")),
        "xlat46_vs_relay4": ratio(pps("xlat46-xdp-native"), pps("relay-xdp-native-csum")),
        "xlat64_vs_relay4": ratio(pps("xlat64-xdp-native"), pps("relay-xdp-native-csum")),
        "relay_vs_limit_2arm_big": ratio(scale_big.get("delivered_pps"), pps("limit-fwd-2arm")),
        "drop_vs_limit": ratio(pps("drop-xdp"), pps("gen-only")),
        "drop_vs_limit_big": ratio(pps(drop_big), pps("gen-only")) if drop_big else None,
        "attack_relayed_kept": attack.get("relayed_kept"),
        "cps_sigd_vs_kamailio": ratio(sigd.get("max_clean_rate"), kam.get("max_clean_rate")),
        "cpu_per_call_kamailio_vs_sigd": ratio(cpu_at(kam, common), cpu_at(sigd, common))
        if common else None,
        "cpu_per_call_compared_at_rate": common,
    }
    # One row per goal: (key, what, value, op, goal). Every value is of this run.
    s2, s4 = lad("xdpsbc-sigd", 100), lad("xdpsbc-sigd", 10000)
    s5 = lad("xdpsbc-sigd", 50000)
    k2, k4 = lad("kamailio+rtpengine", 100), lad("kamailio+rtpengine", 10000)
    up5 = lad("xdpsbc-sigd", 50000, "calls_up_at_end")
    rows = [
        ("relay_pps_xdp_vs_rtpengine", "relay pps: XDP native / rtpengine (userspace)",
         ratios["relay_pps_xdp_vs_rtpengine"], ">=", 10),
        ("drop_pps_xdp_vs_nft", "blocklist drop pps: XDP / nftables set",
         ratios["drop_pps_xdp_vs_nft"], ">=", 5),
        ("relay_vs_limit_2arm", "relay pps / minimal forwarder pps, two-armed (REDIRECT), "
         "%s flows" % fmt(lc.get("relay-xdp-native", {}).get("flows")),
         ratios["relay_vs_limit_2arm"], ">=", 0.85),
        ("relay_vs_limit_1arm", "relay pps / minimal forwarder pps, one-armed (TX), %s flows"
         % fmt(lc.get("relay-xdp-native-1arm", {}).get("flows")),
         ratios["relay_vs_limit_1arm"], ">=", 0.85),
        ("relay_vs_limit_2arm_big", "relay pps / minimal forwarder pps, two-armed, %s flows "
         "in the table" % fmt(scale_big.get("flows")), ratios["relay_vs_limit_2arm_big"],
         ">=", 0.85),
        ("drop_vs_limit", "blocklist drop pps / XDP_DROP pps, %s entries"
         % fmt(lc.get("drop-xdp", {}).get("entries", "1001")), ratios["drop_vs_limit"],
         ">=", 0.9),
        ("drop_vs_limit_big", "blocklist drop pps / XDP_DROP pps, %s entries"
         % fmt(lc.get(drop_big, {}).get("entries") if drop_big else None),
         ratios["drop_vs_limit_big"], ">=", 0.9),
        ("attack_relayed_kept", "relayed packets kept during a blocklisted + spoofed SIP flood",
         ratios["attack_relayed_kept"], ">=", 0.99),
        ("cps_sigd_vs_kamailio", "clean calls/s: sigd / Kamailio+rtpengine",
         ratios["cps_sigd_vs_kamailio"], ">=", 3),
        ("cpu_per_call_kamailio_vs_sigd", "CPU per call at %s calls/s: Kamailio+rtpengine / sigd"
         % fmt(common), ratios["cpu_per_call_kamailio_vs_sigd"], ">=", 4),
        ("sigd_cpu_1e2", "sigd CPU ms per call, 10^2 calls up", s2, "<=", 0.5),
        ("sigd_cpu_1e4", "sigd CPU ms per call, 10^4 calls up", s4, "<=", 0.5),
        ("sigd_flat_1e4", "sigd CPU per call, 10^4 / 10^2 calls up", ratio(s4, s2), "<=", 1.2),
        ("sigd_flat_5e4", "sigd CPU per call, 5*10^4 / 10^2 calls up", ratio(s5, s2), "<=", 1.2),
        ("sigd_vs_kam_1e2", "CPU per call at 10^2 up: Kamailio+rtpengine / sigd", ratio(k2, s2),
         ">=", 4),
        ("sigd_vs_kam_1e4", "CPU per call at 10^4 up: Kamailio+rtpengine / sigd", ratio(k4, s4),
         ">=", 4),
        ("sigd_5e4_up", "calls up at once through sigd (ladder rung 5*10^4)", up5, ">=", 50000),
    ]
    for n in pc_sizes:
        rows.append(("pc_relay_%d" % n, "BPF_PROG_TEST_RUN relay ns/packet, %d entries" % n,
                     pc_max(("relay-tx",), n, "relay rewrite + XDP_TX"), "<=", 100))
        rows.append(("pc_drop_%d" % n, "BPF_PROG_TEST_RUN slowest drop ns/packet, %d entries" % n,
                     pc_max(drops, n), "<=", 80))
    result = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "live": live,
        "cps": cs,
        "prog_cost": pc,
        "ratios": ratios,
        "ladder": lad_rows,
        "goals": {k: {"what": w, "value": v, "op": op, "goal": g, "met": met(v, op, g)}
                  for k, w, v, op, g in rows},
    }
    with open(os.path.join(outdir, "bench.json"), "w") as f:
        json.dump(result, f, indent=1)

    md = []
    md.append("# xdpsbc bench: live packets, signalling, scaling\n")
    md.append("Run %s, kernel %s, %d CPUs; `make bench` (method: docs/performance.md). "
              "Every number below was measured in this run.\n"
              % (result["time"], result["kernel"], result["cpus"]))
    md.append("## Goals: every ratio of this run\n")
    md.append("Pps ratios: delivered packets per second of one case over another, both "
              "measured in this run (with the generator on the same CPU as the edge, a pps "
              "ratio is the ratio of the whole chain's cost, generator included). Limit "
              "ratios divide by a limit program in the same topology: the minimal forwarder "
              "(bench/bpf/limit.bpf.c) for the relay, the two-instruction XDP_DROP (gen-only) "
              "for drops. CPU ratios use ms per call or ns per packet of this run.\n")
    md.append("| goal | value | target | result |")
    md.append("|---|---:|---:|---|")
    for k, w, v, op, g in rows:
        m = met(v, op, g)
        md.append("| %s | %s | %s %g | %s |" % (
            w, fmt(v), op, g, "not measured" if m is None else ("met" if m else "MISSED")))
    md.append("")
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
    md.append("| relay CPU ns/packet net of the generator: rtpengine / XDP | %s | %s | %s | - |" % (
        fmt(net("relay-xdp-native")), fmt(net("relay-rtpengine")),
        fmt(ratios["relay_net_cpu_rtpengine_vs_xdp"], "x")))
    md.append("| drop CPU ns/packet net of the generator: nftables / XDP | %s | %s | %s | - |" % (
        fmt(net("drop-xdp")), fmt(net("drop-nft")), fmt(ratios["drop_net_cpu_nft_vs_xdp"], "x")))
    md.append("\nRaw CPU per packet includes the generator's own cost (gen-only: %s ns), the "
              "same for every case, so raw ratios understate the difference between the "
              "paths; net = raw - gen-only is the path's cost beyond a bare XDP_DROP of the "
              "same packets, and net ratios compare the edges alone." % fmt(gen_ns))
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
    md.append("## IPv6 relay and IPv4/IPv6 translation, as ratios to the IPv4 relay\n")
    md.append("The native XDP relay over the same flows, same run: IPv4 to IPv4 with and "
              "without UDP checksums, IPv6 to IPv6, and translated (IPv4 in, IPv6 out and "
              "the reverse). The IPv6 and translated cases carry UDP checksums (IPv6 "
              "requires them), so they compare with the IPv4 relay with checksums; IPv6 "
              "packets are 220 bytes, the same RTP behind a 40-byte header. Where neither "
              "case is saturated, the ratio compares what the generator reached, not the "
              "relay's limits.\n")
    md.append("| path | pps | saturated | CPU ns/pkt | vs IPv4 (checksums) | vs IPv4 (no checksum) |")
    md.append("|---|---:|---|---:|---:|---:|")
    for case, what in (("relay-xdp-native", "IPv4 -> IPv4, UDP checksum 0"),
                       ("relay-xdp-native-csum", "IPv4 -> IPv4"),
                       ("relay6-xdp-native", "IPv6 -> IPv6"),
                       ("xlat46-xdp-native", "IPv4 -> IPv6 (translated)"),
                       ("xlat64-xdp-native", "IPv6 -> IPv4 (translated)")):
        r = lc.get(case, {})
        if "na" in r:
            md.append("| %s | n/a: %s | | | | |" % (what, r["na"]))
            continue
        sat = r.get("saturated")
        md.append("| %s | %s | %s | %s | %s | %s |" % (
            what, fmt(pps(case)), "n/a" if sat is None else ("yes" if sat else "no"),
            fmt(nspp(case)), fmt(ratio(pps(case), pps("relay-xdp-native-csum")), "x"),
            fmt(ratio(pps(case), pps("relay-xdp-native")), "x")))
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
              "process s | CPU ns/pkt | net ns/pkt | busy ns/pkt | background |")
    md.append("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in live or []:
        if "na" in r:
            md.append("| %s | | | n/a: %s | | | | | | | | |" % (r["case"], r["na"]))
            continue
        if r.get("case") == "attack":
            continue
        sat = r.get("saturated")
        md.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["case"], r["flows"], r["sent_pps"], r["delivered_pps"],
            "n/a" if sat is None else ("yes" if sat else "no"), r["generator_cpu_s"],
            r["cpu_softirq_s"], r["process_cpu_s"], fmt(r["cpu_ns_per_pkt"]),
            fmt(r.get("net_ns_per_pkt")), fmt(r.get("busy_ns_per_pkt")), r["background_busy"]))
    md.append("")
    if attack:
        md.append("## Under attack: relayed flows during a SIP flood\n")
        md.append("%s relayed flows at 50 packets/s each (one generator, paced) while a second "
                  "generator floods port 5060 at its maximum (%s pps) from 112 sources: half "
                  "blocklisted (203.0.113.128/25), half spoofed and not blocklisted (the flood "
                  "limit's work). Per class: packets sent and what became of them.\n"
                  % (fmt(attack.get("flows")), fmt(attack.get("flood_pps"))))
        md.append("| class | sent | relayed / dropped by its stage | share | goal |")
        md.append("|---|---:|---:|---:|---|")
        md.append("| relayed media | %s | %s relayed (%s by the program, %s dropped by a stage) "
                  "| %s | >= 0.99 kept |" % (
                      fmt(attack.get("relayed_sent")), fmt(attack.get("relayed_delivered")),
                      fmt(attack.get("relayed_by_program")),
                      fmt(attack.get("media_dropped_by_a_stage")),
                      fmt(attack.get("relayed_kept"))))
        md.append("| blocklisted SIP | %s | %s dropped (drop-blocklist) | %s | - |" % (
            fmt(attack.get("blocklisted_sent")), fmt(attack.get("blocklisted_dropped")),
            fmt(attack.get("blocklisted_drop_share"))))
        md.append("| spoofed SIP | %s | %s dropped (drop-flood) | %s | - |" % (
            fmt(attack.get("spoofed_sent")), fmt(attack.get("spoofed_dropped")),
            fmt(attack.get("spoofed_drop_share"))))
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
    red = cs.get("xdpsbc-sigd+redis", {})
    for s in red.get("steps", []):
        plain = cpu_at(sigd, s["rate"])
        md.append("Replicated calls: at %s calls/s sigd used %s ms of CPU per call writing "
                  "every call to Redis, %s ms without (%s); the failover gap is measured by "
                  "tests/e2e/test_cluster_failover.sh (docs/operations.md, cluster).\n" % (
                      s["rate"], fmt(s["cpu_ms_per_call"]), fmt(plain),
                      fmt(ratio(s["cpu_ms_per_call"], plain), "x")))
    if red.get("na"):
        md.append("Replicated calls: n/a: %s\n" % red["na"])
    if lad_rows:
        md.append("## Concurrency ladder: calls up at a fixed call rate\n")
        md.append("Each rung: a fresh edge, calls placed at %s calls/s and held N / rate seconds, "
                  "so N are up in steady state; CPU per call over the steady window (edge "
                  "CPU / calls completed in it), resident memory of the edge's processes, then "
                  "kill -9 with the calls up and the restart timed (exec to SIP listening) with "
                  "the calls the restarted edge knows (sigd: `xdpsbc calls`; Kamailio here keeps "
                  "no dialog state and rtpengine none without redis: 0). Relay ports per media "
                  "address: the rung's range; sigd spreads calls over its `media-ip` addresses, "
                  "rtpengine is given the edge address.\n"
                  % fmt(lad_rows[0].get("rate")))
        md.append("| edge | media addresses | calls up (target) | calls up (measured) | failed | "
                  "CPU ms/call | RSS MiB | restart s | calls known after restart |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in lad_rows:
            if r.get("na"):
                md.append("| %s | | %s | n/a: %s | | | | | |" % (r["edge"], r["concurrent"],
                                                                 r["na"]))
                continue
            md.append("| %s | %s | %s | %s | %s | %s | %.1f | %s | %s |" % (
                r["edge"], r.get("media_addresses", 1), r["concurrent"], r["calls_up_at_end"],
                r["failed_total"],
                fmt(r["cpu_ms_per_call"]), r["rss_kb"] / 1024.0, r["restart_s"],
                r["calls_known_after_restart"]))
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
            if r.get("path") == "relay rewrite + XDP_TX":
                md.append("| %s | %s | %s |" % (r["entries"], r["ns"], r["baseline_ns"]))
        for m in pc.get("memory", []):
            md.append("\n%s: %s bytes per entry at %s entries (memlock)." % (
                m["map"], m["bytes_per_entry"], m["entries"]))
        md.append("")
    with open(os.path.join(outdir, "bench.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    if len(sys.argv) > 6 and sys.argv[5] == "--docs":
        update_docs(sys.argv[6], md)

    plot(outdir, live, cs, lad_rows)


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


def plot(outdir, live, cs, lad_rows=()):
    """Three panels: delivered Mpps per live case; CPU ms per call per step; CPU ms
    per call against concurrent calls (the ladder)."""
    if not shutil.which("gnuplot"):
        print("report: gnuplot not installed, no PNG (make bench-deps)", file=sys.stderr)
        return
    dat = os.path.join(outdir, ".bench-live.dat")
    with open(dat, "w") as f:
        for r in live or []:
            if "na" not in r and "delivered_pps" in r:
                f.write('"%s" %.4f\n' % (r["case"], r["delivered_pps"] / 1e6))
    cdat = os.path.join(outdir, ".bench-cps.dat")
    with open(cdat, "w") as f:
        for name, e in cs.items():
            f.write("# %s\n" % name)
            for s in e["steps"]:
                if s.get("cpu_ms_per_call") is not None:
                    f.write("%s %s %d\n" % (s["rate"], s["cpu_ms_per_call"], 1 if s["clean"] else 0))
            f.write("\n\n")
    ldat = os.path.join(outdir, ".bench-ladder.dat")
    lnames = []
    with open(ldat, "w") as f:
        for r in lad_rows:
            if r["edge"] not in lnames:
                lnames.append(r["edge"])
        for n in lnames:
            f.write("# %s\n" % n)
            for r in lad_rows:
                if r["edge"] == n and r.get("cpu_ms_per_call") is not None:
                    f.write("%s %s\n" % (r["concurrent"], r["cpu_ms_per_call"]))
            f.write("\n\n")
    lad_plot = ", ".join("'%s' index %d using 1:2 with linespoints lw 2 title '%s'" % (ldat, i, n)
                         for i, n in enumerate(lnames)) or "NaN notitle"
    names = list(cs.keys())
    cps_plot = ", ".join("'%s' index %d using 1:2 with linespoints lw 2 title '%s'" % (cdat, i, n)
                         for i, n in enumerate(names)) or "NaN notitle"
    script = """
set terminal pngcairo size 2000,600 font ',10'
set output '%s'
set multiplot layout 1,3
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
set title 'Signalling: edge CPU per call against calls up (fixed call rate)'
set xlabel 'concurrent calls'
set logscale x
set yrange [0:*]
plot %s
unset multiplot
""" % (os.path.join(outdir, "bench.png"), dat, cps_plot, lad_plot)
    r = subprocess.run(["gnuplot"], input=script.encode(), capture_output=True)
    if r.returncode:
        print("report: gnuplot failed: %s" % r.stderr.decode()[-300:], file=sys.stderr)
    for p in (dat, cdat, ldat):
        os.unlink(p)


if __name__ == "__main__":
    main()
