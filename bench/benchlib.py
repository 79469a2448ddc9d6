"""What the benchmark scripts share: the split system in QEMU (boot it to `rt> `, run RT
shell commands, read the five figures, min p50 p90 p99 max, a `bench` command prints),
and writing a report into bench/results."""
import json
import os
import re

import pexpect

QEMU = ["-M", "virt,virtualization=on,gic-version=2", "-cpu", "cortex-a76", "-smp", "4",
        "-m", "2G", "-nographic", "-nic", "none"]
ICOUNT = ["-icount", "shift=0"]   # the PMU cycle counter then counts instructions
FIGURES = ("min", "p50", "p90", "p99", "max")


def boot(layout, icount=True, cwd=None):
    """QEMU running layout's hyp.img and bundle.img, at the RT prompt with ai up."""
    child = pexpect.spawn("qemu-system-aarch64",
                          QEMU + (ICOUNT if icount else []) +
                          ["-kernel", os.path.join(layout, "hyp.img"),
                           "-initrd", os.path.join(layout, "bundle.img")],
                          cwd=cwd, encoding="utf-8", codec_errors="replace", timeout=900)
    child.expect(r"\[ai\] aios: cpu 1 ready")
    child.send("\r")
    child.expect_exact("rt> ")
    return child


def run(child, command):
    """Run one command at rt>; its output."""
    child.send(command + "\r")
    child.expect(re.escape(command) + r"\r*\n")
    child.expect_exact("rt> ")
    return child.before


def parse(out, unit):
    """The five figures of unit ("cycles" or "ns") in a bench command's output."""
    m = re.search(unit + r":\s+" + r"\s+".join(f"{f} (\\d+)" for f in FIGURES), out)
    if not m:
        raise SystemExit(f"bench: no {unit} figures in:\n{out}")
    return dict(zip(FIGURES, map(int, m.groups())))


def write_report(results, name, report):
    """results/name as indented JSON; also printed."""
    os.makedirs(results, exist_ok=True)
    path = os.path.join(results, name)
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(json.dumps(report, indent=2))
    print(f"bench: wrote {path}")
