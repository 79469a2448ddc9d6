#!/usr/bin/python3
"""Partition latency benchmarks, deterministic: boots the split system in QEMU with
-icount shift=0 (the PMU cycle counter then counts instructions), runs the RT shell's
benchmarks and writes bench/results/latency.json. Prints figures; never fails on speed.

usage: bench/latency.py BUILD_DIR RESULTS_DIR
"""
import json
import os
import sys

import pexpect

from benchlib import ICOUNT, boot, parse, run, write_report

BARE = ["-M", "virt,gic-version=2", "-cpu", "cortex-a76", "-smp", "1", "-m", "2G",
        "-nographic", "-nic", "none"] + ICOUNT
RUNS = {"hvc": 1000, "ring": 200, "irq": 200}


def main():
    build, results = sys.argv[1], sys.argv[2]
    layout = os.path.join(build, "qemu-virt")
    child = boot(layout)
    report = {
        "conditions": "QEMU virt, 4 x cortex-a76, -icount shift=0: cycles are instructions",
        "hypercall_round_trip": None,
        "ring_round_trip_64B": None,
        "virtual_timer_irq_latency": None,
        "virtual_timer_irq_latency_bare": None,
    }
    run(child, "perf reset")
    for name, key in (("hvc", "hypercall_round_trip"), ("ring", "ring_round_trip_64B"),
                      ("irq", "virtual_timer_irq_latency")):
        out = run(child, f"bench {name} {RUNS[name]}")
        report[key] = {"runs": RUNS[name], "instructions": parse(out, "cycles"),
                       "ns_virtual": parse(out, "ns")}
    out = run(child, "perf json")
    data = json.loads(next(l for l in out.splitlines() if l.startswith("{")))
    # The RT kernel's own (full round trips as it sees them), then the hypervisor's per
    # core (time spent at EL2, and doorbell to answering doorbell).
    report["histograms"] = data["histograms"]
    for core in data["cores"]:
        for name, hist in core["histograms"].items():
            if hist["log2_buckets"]:
                report["histograms"][f"core{core['core']}_{core['partition']}_{name}"] = hist
    report["counters_per_core"] = {f"core{c['core']}_{c['partition']}": c["counters"]
                                   for c in data["cores"]}
    child.terminate(force=True)

    # The same timer benchmark with the RT kernel alone at EL1: no hypervisor, one core.
    bare = pexpect.spawn("qemu-system-aarch64",
                         BARE + ["-kernel", os.path.join(build, "images", "rtkernel.bin")],
                         encoding="utf-8", codec_errors="replace", timeout=600)
    bare.expect_exact("rt> ")
    out = run(bare, f"bench irq {RUNS['irq']}")
    bare.terminate(force=True)
    report["virtual_timer_irq_latency_bare"] = {"runs": RUNS["irq"],
                                                "instructions": parse(out, "cycles"),
                                                "ns_virtual": parse(out, "ns")}
    # The counter ticks every 16 instructions here: a bare latency below one tick is
    # counted as one tick, so the ratio is a lower bound.
    tick = 16
    hyp_p50 = report["virtual_timer_irq_latency"]["instructions"]["p50"]
    bare_p50 = max(report["virtual_timer_irq_latency_bare"]["instructions"]["p50"], tick)
    report["virtual_timer_irq_overhead_ratio_p50"] = round(hyp_p50 / bare_p50, 2)
    write_report(results, "latency.json", report)


if __name__ == "__main__":
    main()
