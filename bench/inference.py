#!/usr/bin/python3
"""Inference speed figures, into bench/results/inference.json. Prints them; never fails on
speed (only on a broken build or a run that does not answer).

For a stories15M-shaped model with random weights (dim 288, hidden 768, 6 layers, 6 heads,
6 KV heads, vocab 32000, context 256; fp32 and int8 with group size 32):
  - host: tokens/s of build/host/aios-run, one thread, against build/host/aios-baseline
    (bench/baseline.c: the plain textbook forward pass, -Ofast -march=native) on the same
    files, best of several interleaved runs, and a check that the baseline computes the
    same model (logits and greedy tokens);
  - AI partition, deterministic: instructions per token under QEMU -icount shift=0 with
    one core (`ask -j 1`), and the two-core critical path per token (`ask -j 2 -m`: the
    driver's serial work plus each job's longest part), whose ratio is the two-core speedup;
  - AI partition, wall clock, as corroboration: tokens/s with one core and with two
    (`ask -j 1` and `-j 2`) under QEMU's multi-threaded TCG, several alternating runs, and
    their ratio.

The partition's images with this model are built into BUILD_DIR/bench (make B=...), so
BUILD_DIR/images keeps the default model.

usage: bench/inference.py BUILD_DIR RESULTS_DIR
"""
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

from benchlib import boot, write_report

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPE = ["--dim", "288", "--hidden", "768", "--layers", "6", "--heads", "6", "--kv-heads", "6",
         "--vocab", "32000", "--seq", "256", "--seed", "42"]
VOCAB = 32000
HOST_RUNS = 5          # per program and model, interleaved; the best counts
HOST_POSITIONS = 255   # from BOS to the end of the context
PROMPT = "Once upon a time"
ICOUNT_TOKENS = 20      # and LONG_TOKENS: the context filled (attention grows with it)
LONG_TOKENS = 250
WALL_TOKENS = 64
WALL_PAIRS = 6         # alternating -j 1 / -j 2 runs per model
QUIET = 0.25           # host cores others may keep busy in a "quiet" run (this script: ~0.1)
TOK_S = re.compile(r"([0-9.]+) tok/s")


def sh(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=REPO, **kw)
    if r.returncode != 0:
        raise SystemExit(f"bench: {' '.join(map(str, cmd))} exited {r.returncode}:\n"
                         f"{r.stdout}{r.stderr}")
    return r


def tokens_per_s(cmd):
    r = sh(cmd)
    m = TOK_S.search(r.stderr)
    if not m:
        raise SystemExit(f"bench: no tok/s from {cmd[0]}:\n{r.stderr}")
    return float(m.group(1))


# ---------------------------------------------------------------- host

def host_speed(build, models):
    run, base = os.path.join(build, "host", "aios-run"), os.path.join(build, "host", "aios-baseline")
    out = {}
    for kind, path in models.items():
        ours, theirs = [], []
        for _ in range(HOST_RUNS):
            ours.append(tokens_per_s([run, path, "--tokens", "1", "-n", HOST_POSITIONS, "-t", "0",
                                      "--ids"]))
            theirs.append(tokens_per_s([base, path, "--tokens", "1", "-n", HOST_POSITIONS]))
        out[kind] = {"aios_tok_s": max(ours), "baseline_tok_s": max(theirs),
                     "ratio": round(max(ours) / max(theirs), 2),
                     "aios_runs": ours, "baseline_runs": theirs}
        print(f"bench: host {kind}: aios {max(ours):.1f} tok/s, baseline {max(theirs):.1f} "
              f"tok/s, ratio {max(ours) / max(theirs):.2f}")
    return out


def baseline_check(build, models, tmp):
    """Does the yardstick compute the same model? Logits of a fixed sequence, and greedy
    continuations of a few prompts (near-ties may resolve differently under -Ofast)."""
    run, base = os.path.join(build, "host", "aios-run"), os.path.join(build, "host", "aios-baseline")
    rng = np.random.default_rng(7)
    seq = ",".join(str(t) for t in [1] + [int(x) for x in rng.integers(2, VOCAB, 15)])
    prompts = ["1", "1,500,9000", "1,31999,77,4242,12"]
    out = {}
    for kind, path in models.items():
        a, b = os.path.join(tmp, "aios.logits"), os.path.join(tmp, "baseline.logits")
        sh([run, path, "--tokens", seq, "-n", "0", "--logits", a])
        sh([base, path, "--tokens", seq, "-n", "0", "--logits", b])
        la = np.fromfile(a, dtype="<f4").reshape(-1, VOCAB).astype(np.float64)
        lb = np.fromfile(b, dtype="<f4").reshape(-1, VOCAB).astype(np.float64)
        greedy = []
        for p in prompts:
            ids_a = sh([run, path, "--tokens", p, "-n", "16", "-t", "0", "--ids"]).stdout.split()
            ids_b = sh([base, path, "--tokens", p, "-n", "16"]).stdout.split()
            same = next((i for i, (x, y) in enumerate(zip(ids_a, ids_b)) if x != y),
                        min(len(ids_a), len(ids_b)))
            greedy.append({"prompt": p, "tokens": len(ids_a), "identical_prefix": same})
        out[kind] = {"positions": la.shape[0],
                     "max_abs_logit_difference": float(np.abs(la - lb).max()),
                     "logit_std": float(la.std()),
                     "argmax_agrees": int((la.argmax(1) == lb.argmax(1)).sum()),
                     "greedy": greedy}
        print(f"bench: baseline check {kind}: max |logit difference| "
              f"{out[kind]['max_abs_logit_difference']:.2e} (std {out[kind]['logit_std']:.2f}), "
              f"argmax agrees at {out[kind]['argmax_agrees']}/{la.shape[0]} positions, greedy "
              + ", ".join(f"{g['identical_prefix']}/{g['tokens']}" for g in greedy))
    return out


# ---------------------------------------------------------------- partition

def build_images(build, model, tokenizer):
    bench = os.path.join(build, "bench")
    sh(["make", "--no-print-directory", f"B={bench}", f"DEPS={os.path.join(build, 'deps', 'arm64')}",
        f"MODEL={model}", f"TOKENIZER={tokenizer}",
        os.path.join(bench, "qemu-virt", "hyp.img"), os.path.join(bench, "qemu-virt", "bundle.img")])
    return os.path.join(bench, "qemu-virt")


def cpu_seconds(pid):
    """CPU time used by process pid (all its threads), and by the whole machine."""
    hz = os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    with open("/proc/stat") as f:
        total = [int(v) for v in f.readline().split()[1:9]]
    busy = sum(total) - total[3] - total[4]   # all but idle and iowait
    return (int(fields[11]) + int(fields[12])) / hz, busy / hz


def ask(child, n, cores, turns=False):
    """One ask; also how many host cores QEMU and everything else kept busy meanwhile.
    turns: the cores take turns (-m), for the critical path under -icount."""
    command = f"ask -i -n {n} -j {cores}{' -m' if turns else ''} {PROMPT}"
    (qemu0, all0), wall0 = cpu_seconds(child.pid), time.monotonic()
    child.send(command + "\r")
    child.expect(re.escape(command) + r"\r*\n")
    child.expect_exact("rt> ")
    (qemu1, all1), wall = cpu_seconds(child.pid), time.monotonic() - wall0
    m = re.search(r"\[(\d+) tokens \(prompt (\d+)\), ([0-9.]+) tokens/s"
                  r"(?:, (\d+) instructions/token)?"
                  r"(?: on the critical path of \d+ cores \(serial (\d+), work (\d+)\))?",
                  child.before)
    if not m:
        raise SystemExit(f"bench: no answer to `{command}`:\n{child.before}")
    return {"generated": int(m.group(1)), "prompt": int(m.group(2)),
            "tok_s": float(m.group(3)), "qemu_cores": round((qemu1 - qemu0) / wall, 2),
            "other_cores": round(max(0.0, (all1 - all0) - (qemu1 - qemu0)) / wall, 2),
            "instructions_per_token": int(m.group(4)) if m.group(4) else None,
            "serial": int(m.group(5)) if m.group(5) else None,
            "work": int(m.group(6)) if m.group(6) else None}


def critical_path(one, two):
    """The two-core figures of an `ask -j 2 -m` (two) against the one-core count (one)."""
    return {"one_core": one["instructions_per_token"],
            "critical_path": two["instructions_per_token"],
            "serial": two["serial"], "work": two["work"],
            "speedup": round(one["instructions_per_token"] / two["instructions_per_token"], 3)}


def partition(build, models, tokenizer):
    out = {"instructions_per_token": {}, "instructions_per_token_full_context": {},
           "two_cores_critical_path": {}, "two_cores_critical_path_full_context": {},
           "two_cores_wall_clock": {}}
    for kind, path in models.items():
        layout = build_images(build, path, tokenizer)
        child = boot(layout, icount=True)
        r, r2 = ask(child, ICOUNT_TOKENS, 1), ask(child, ICOUNT_TOKENS, 2, turns=True)
        long, long2 = ask(child, LONG_TOKENS, 1), ask(child, LONG_TOKENS, 2, turns=True)
        child.terminate(force=True)
        out["instructions_per_token"][kind] = r["instructions_per_token"]
        out["instructions_per_token_full_context"][kind] = long["instructions_per_token"]
        out["two_cores_critical_path"][kind] = c = critical_path(r, r2)
        out["two_cores_critical_path_full_context"][kind] = cl = critical_path(long, long2)
        out["prompt_tokens"] = r["prompt"]
        print(f"bench: partition {kind}: {r['instructions_per_token']} instructions/token "
              f"({long['instructions_per_token']} over {r['prompt'] + LONG_TOKENS} positions)")
        print(f"bench: partition {kind}: two cores' critical path {c['critical_path']} "
              f"instructions/token (serial {c['serial']}): {c['speedup']:.3f}x; over "
              f"{r['prompt'] + LONG_TOKENS} positions {cl['critical_path']}: {cl['speedup']:.3f}x")

        child = boot(layout, icount=False)
        ask(child, 8, 2)   # warm-up: QEMU translates the code on first use
        runs = {1: [], 2: []}
        load = os.getloadavg()[0]
        for _ in range(WALL_PAIRS):
            for cores in (1, 2):
                runs[cores].append(ask(child, WALL_TOKENS, cores))
        child.terminate(force=True)
        one, two = [r["tok_s"] for r in runs[1]], [r["tok_s"] for r in runs[2]]
        # Runs during which other processes kept the host busy say little about the guest.
        quiet = {c: [r["tok_s"] for r in runs[c] if r["other_cores"] < QUIET]
                 for c in (1, 2)}
        out["two_cores_wall_clock"][kind] = {
            "j1_tok_s": one, "j2_tok_s": two,
            "speedup_best": round(max(two) / max(one), 2),
            "speedup_median": round(statistics.median(two) / statistics.median(one), 2),
            "speedup_quiet": (round(max(quiet[2]) / max(quiet[1]), 2)
                              if quiet[1] and quiet[2] else None),
            "qemu_cores_j1": [r["qemu_cores"] for r in runs[1]],
            "qemu_cores_j2": [r["qemu_cores"] for r in runs[2]],
            "other_cores_j1": [r["other_cores"] for r in runs[1]],
            "other_cores_j2": [r["other_cores"] for r in runs[2]],
            "load_average": [round(load, 2), round(os.getloadavg()[0], 2)]}
        t = out["two_cores_wall_clock"][kind]
        print(f"bench: partition {kind}: wall clock -j 1 {max(one):.1f} tok/s, -j 2 {max(two):.1f} tok/s "
              f"(best of {WALL_PAIRS}): {t['speedup_best']:.2f}x; medians "
              f"{t['speedup_median']:.2f}x; runs with the host to itself: "
              f"{t['speedup_quiet'] if t['speedup_quiet'] else 'none'}")
    return out


def main():
    build, results = sys.argv[1], sys.argv[2]
    tmp = os.path.join(build, "bench")
    os.makedirs(tmp, exist_ok=True)
    models = {"int8": os.path.join(tmp, "s15-int8.bin"), "fp32": os.path.join(tmp, "s15-fp32.bin")}
    sh([os.path.join(build, "host", "aios-genmodel"), *SHAPE, "-o", models["fp32"]])
    sh([os.path.join(build, "host", "aios-genmodel"), "--int8", *SHAPE, "-o", models["int8"]])
    tokenizer = os.path.join(os.path.dirname(REPO), "shared", "models", "tokenizer.bin")
    if os.path.exists(tokenizer):
        tokenizer_note = "../shared/models/tokenizer.bin (the Llama 2 vocabulary)"
    else:
        tokenizer = os.path.join(tmp, "tokenizer-32000.bin")
        sh([os.path.join(build, "host", "aios-gentok"), VOCAB, tokenizer])
        tokenizer_note = "generated by aios-gentok 32000 (../shared/models/tokenizer.bin absent)"

    load = os.getloadavg()
    report = {
        "conditions": {
            "model": "random weights, stories15M's shape: dim 288, hidden 768, 6 layers, 6 "
                     "heads, 6 KV heads, vocab 32000, context 256; fp32 (aios-genmodel) and "
                     "int8 Q8_0 with group size 32 (aios-genmodel --int8); tokenizer: "
                     + tokenizer_note,
            "host": f"tokens/s over {HOST_POSITIONS} positions from BOS, greedy, one thread "
                    f"(aios-run --tokens 1 -n {HOST_POSITIONS} -t 0), best of {HOST_RUNS} "
                    "runs interleaved with the baseline's; wall clock on a shared machine, "
                    "so the runs vary",
            "baseline": "bench/baseline.c: a textbook forward pass in plain loops, libm, no "
                        "intrinsics, no threads, built with gcc -Ofast -march=native; ratio = "
                        "aios tokens/s / baseline tokens/s (both best of their runs)",
            "baseline_check": "aios-run and the baseline on the same file: logits of 16 fixed "
                              "positions (max abs difference, argmax agreement) and greedy "
                              "continuations of 3 prompts (how many leading ids agree)",
            "instructions_per_token": f"AI partition, QEMU virt cortex-a76 -icount shift=0, "
                                      f"`ask -n {ICOUNT_TOKENS} -j 1 {PROMPT}`: instructions "
                                      "retired at EL1/EL0 from the first forward pass to the "
                                      "end (prompt and generated tokens, sampling and "
                                      "streaming included) divided by the forward passes; "
                                      "deterministic. _full_context: the same with -n "
                                      f"{LONG_TOKENS}, the context filled (attention's share "
                                      "grows with the position)",
            "two_cores_critical_path": f"AI partition, QEMU -icount shift=0 as above: the "
                                       f"two-core speedup in instructions. one_core: "
                                       f"`ask -n {ICOUNT_TOKENS} -j 1` (instructions_per_token "
                                       f"above); critical_path: `ask -n {ICOUNT_TOKENS} -j 2 "
                                       "-m`, per forward pass, the driving core's serial work "
                                       "(everything outside the jobs' parts, handing out and "
                                       "joining each job included) plus, for each job, the "
                                       "longer of the two cores' parts; waiting left out. "
                                       "serial: that serial work; work: both cores' "
                                       "instructions, waiting left out; speedup = one_core / "
                                       "critical_path, what two cores of equal instructions "
                                       "per cycle would give. -m makes the cores take turns on "
                                       "each job, because under -icount QEMU's instruction "
                                       "counter is shared by all vCPUs (docs/inference.md). "
                                       f"_full_context: the same with -n {LONG_TOKENS}",
            "two_cores_wall_clock": f"corroboration, noisy: AI partition, QEMU virt without "
                         "-icount (multi-threaded TCG: each "
                         f"vCPU a host thread), `ask -n {WALL_TOKENS} -j 1` and `-j 2` "
                         f"alternately, {WALL_PAIRS} runs each; tokens/s from the first "
                         "generated token to the last (the partition's counter); speedup = "
                         "-j 2 / -j 1 of the best runs (and of the medians). QEMU's speed, not "
                         "a Cortex-A76's, and it needs two idle host cores: other load on the "
                         "machine lowers it. qemu_cores: the QEMU process's CPU time / wall "
                         "time per run (its spinning vCPUs keep it near 2 with -j 2 even when "
                         "they wait for each other); other_cores: CPU time of everything else on the host / wall "
                         "time; speedup_quiet: the best runs among those where other_cores "
                         f"stayed below {QUIET} (null if none did); load_average: the host's "
                         "1-minute load before and after",
            "machine": f"{os.cpu_count()} host cores, load average {load[0]:.2f} at the start",
        },
    }
    report["host"] = host_speed(build, models)
    report["baseline_check"] = baseline_check(build, models, tmp)
    report["partition"] = partition(build, models, tokenizer)
    write_report(results, "inference.json", report)


if __name__ == "__main__":
    main()
