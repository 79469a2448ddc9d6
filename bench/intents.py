#!/usr/bin/python3
"""Intent benchmarks, figures only (never fails on speed or accuracy): writes
bench/results/intents.json with

- clinc150: the sentence encoder trained on CLINC150's train split (two of its members
  pretrained on Debian's GCIDE and WordNet, build/pretrain/text.txt) and its in-scope
  accuracy / out-of-scope recall on the test split, by nearest examples, the
  out-of-scope threshold chosen on calibration sentences outside the test split (val,
  oos_val, oos_train) (when ../shared/datasets/clinc150/data_full.json exists; else a
  "skipped" entry);
- hnsw: recall@10 against queries per second, sweeping efSearch, beside brute force, on
  a clustered synthetic set and on Fashion-MNIST (Debian's dataset-fashion-mnist, when
  installed);
- instructions_per_intent: `bench intent` at rt> in QEMU with -icount shift=0 (the cycle
  counter then counts instructions), sentence sent to checked answer.

usage: bench/intents.py BUILD_DIR RESULTS_DIR
"""
import json
import os
import subprocess
import sys

from benchlib import boot, parse, run, write_report

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CLINC = os.path.join(ROOT, "..", "shared", "datasets", "clinc150", "data_full.json")
FMNIST = "/usr/share/datasets/fashion-mnist"


def clinc(build, results):
    if not os.path.exists(CLINC):
        return {"skipped": f"{CLINC} not found"}
    weights = os.path.join(results, "clinc150-encoder.bin")
    text = os.path.join(build, "pretrain", "text.txt")   # made by `make bench`
    # 10 members, 15 epochs at learning rate 0.5, word dropout 0.3, the last 2 with tables
    # pretrained on GCIDE and WordNet (5 epochs): chosen on CLINC150's val split and
    # calibration sentences (docs/encoder.md). The two tables take about 4 minutes (two
    # threads), then about 20 s a member.
    print("bench/intents.py: training the encoder on CLINC150 (10 members, 2 pretrained on "
          f"{text}; about 8 minutes)", flush=True)
    subprocess.run([os.path.join(build, "host", "aios-train-encoder"), "--clinc", CLINC,
                    "--members", "10", "--epochs", "15", "--lr", "0.5", "--aug-drop", "0.3",
                    "--pretrain-text", text, "--pretrained", "2", "--pretrain-epochs", "5",
                    "--quiet", "--out-int8", weights], check=True)
    out = subprocess.run([os.path.join(build, "host", "aios-encoder-eval"), "--weights", weights,
                          "--clinc", CLINC], check=True, capture_output=True, text=True).stdout
    os.unlink(weights)
    figures = json.loads(out.strip().splitlines()[-1])
    figures["published"] = {"FastText": [89.0, 9.7], "SVM": [91.0, 14.5], "Rasa": [91.5, 45.3],
                            "MLP on USE": [93.5, 47.4], "BERT": [96.9, 40.3],
                            "target": [93.5, 50.0], "unit": "in-scope accuracy %, oos recall %"}
    return figures


def hnsw(build):
    args = [os.path.join(build, "host", "aios-hnsw-bench"), "--queries", "500"]
    if not os.path.isdir(FMNIST):
        args.append("--no-fmnist")
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if not os.path.isdir(FMNIST):
        rows.append({"dataset": "fashion-mnist",
                     "skipped": f"{FMNIST} not found (Debian package dataset-fashion-mnist)"})
    return rows


def instructions_per_intent(build, runs=48):
    child = boot(os.path.join(build, "qemu-virt"))
    out = run(child, f"bench intent {runs}")
    child.terminate(force=True)
    return {"runs": runs, "instructions": parse(out, "cycles")}


def main():
    build, results = sys.argv[1], sys.argv[2]
    os.makedirs(results, exist_ok=True)
    report = {
        "conditions": "host: one core of this machine; partition: QEMU virt, 4 x cortex-a76, "
                      "-icount shift=0 (cycles are instructions, the whole system's)",
        "clinc150": clinc(build, results),
        "hnsw": hnsw(build),
        "instructions_per_intent": instructions_per_intent(build),
    }
    write_report(results, "intents.json", report)


if __name__ == "__main__":
    main()
