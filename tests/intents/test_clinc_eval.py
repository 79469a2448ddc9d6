"""The CLINC150 evaluation path of the encoder tools (the one bench/intents.py runs on the
real data set, which a fresh machine does not have) on a small data set in CLINC150's
format: training on its train split, the out-of-scope threshold chosen on calibration
sentences outside the test split, and the figures it prints."""
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "..", "..", "build", "host")

TRAIN = {
    "timer": ["set a timer for five minutes", "start a countdown of ten seconds",
              "wake me in an hour", "timer for three minutes please",
              "count down twenty seconds", "alarm in ten minutes"],
    "weather": ["what is the weather today", "will it rain tomorrow",
                "is it sunny outside", "weather forecast for the weekend",
                "how cold is it outside", "do i need an umbrella"],
    "music": ["play some music", "put on a song", "play my playlist",
              "start the radio", "play jazz", "i want to hear a song"],
}
VAL = [("set a timer for two minutes", "timer"), ("is it going to rain", "weather"),
       ("play a song", "music"), ("countdown ten minutes", "timer"),
       ("forecast for tomorrow", "weather"), ("put on some jazz", "music")]
TEST = [("timer for one minute", "timer"), ("will it be sunny tomorrow", "weather"),
        ("play the radio", "music"), ("wake me in ten minutes", "timer"),
        ("weather this weekend", "weather"), ("play some jazz music", "music"),
        ("start a timer", "timer"), ("is it cold today", "weather")]
OOS = {
    "oos_train": ["what is my bank balance", "book a flight to paris", "who wrote hamlet"],
    "oos_val": ["order a pizza", "translate hello into french"],
    "oos_test": ["what is the capital of peru", "call my mother", "reset my password",
                 "how tall is everest"],
}


def dataset(path):
    data = {"train": [[s, i] for i, ss in TRAIN.items() for s in ss],
            "val": [[s, i] for s, i in VAL], "test": [[s, i] for s, i in TEST]}
    for split, ss in OOS.items():
        data[split] = [[s, "oos"] for s in ss]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f)


def evaluate(tmp_path, *oos_class):
    data, weights = tmp_path / "data.json", tmp_path / "enc.bin"
    dataset(data)
    subprocess.run([os.path.join(BUILD, "aios-train-encoder"), "--clinc", str(data), *oos_class,
                    "--no-wordnet", "--members", "2", "--epochs", "20", "--buckets", "4096",
                    "--quiet", "--out-int8", str(weights)], check=True, capture_output=True)
    out = subprocess.run([os.path.join(BUILD, "aios-encoder-eval"), "--weights", str(weights),
                          "--clinc", str(data), *oos_class],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_threshold_from_calibration_sentences(tmp_path):
    r = evaluate(tmp_path)
    # Calibration: val's in-scope sentences; oos_val and oos_train (training did not see
    # them) as out-of-scope ones. The test split is only measured.
    assert r["calibration_sentences"] == {"in_scope": len(VAL), "oos": 5,
                                          "oos_from": "oos_val, oos_train"}
    assert r["test_sentences"] == {"in_scope": len(TEST), "oos": len(OOS["oos_test"])}
    assert r["train_sentences"] == sum(len(s) for s in TRAIN.values())
    floor, weighted = r["oos_recall_floor"], r["weighted_accuracy"]
    # The headline is the target's operating point: calibration recall at least 50%
    # (3 of 5), at the highest calibration in-scope accuracy.
    assert floor["calibration_oos_recall"] >= 50.0
    assert (r["in_scope_accuracy"], r["oos_recall"]) == (floor["in_scope_accuracy"],
                                                         floor["oos_recall"])
    # Test figures are whole sentences of 8 and 4.
    for point in (floor, weighted):
        assert round(point["in_scope_accuracy"] * len(TEST) / 100, 6).is_integer()
        assert point["oos_recall"] in (0.0, 25.0, 50.0, 75.0, 100.0)
    # A threshold only rejects: in-scope accuracy never exceeds the unthresholded one.
    assert floor["in_scope_accuracy"] <= r["in_scope_accuracy_no_threshold"]
    assert r["in_scope_accuracy_no_threshold"] >= 75.0


def test_oos_as_class_calibrates_on_oos_val_only(tmp_path):
    r = evaluate(tmp_path, "--clinc-oos")
    assert r["oos_class"] is True
    assert r["train_sentences"] == sum(len(s) for s in TRAIN.values()) + len(OOS["oos_train"])
    assert r["calibration_sentences"] == {"in_scope": len(VAL), "oos": len(OOS["oos_val"]),
                                          "oos_from": "oos_val"}


def train(tmp_path, *extra):
    data, weights = tmp_path / "data.json", tmp_path / "enc.bin"
    dataset(data)
    return subprocess.run([os.path.join(BUILD, "aios-train-encoder"), "--clinc", str(data),
                           "--no-wordnet", "--members", "3", "--epochs", "20", "--buckets",
                           "4096", "--quiet", "--out-f32", str(weights), *extra],
                          capture_output=True, text=True), data, weights


def test_pretrained_members(tmp_path):
    # A text in which every training word occurs five times (the pretrainer's minimum).
    text = tmp_path / "text.txt"
    text.write_text("\n".join(s for ss in TRAIN.values() for s in ss for _ in range(5)) + "\n")
    args = ["--pretrain-text", str(text), "--pretrained", "2", "--pretrain-epochs", "2"]
    run, data, weights = train(tmp_path, *args)
    assert run.returncode == 0, run.stderr
    first = weights.read_bytes()
    # Version 3; 3 members, the last two bigram-free (bits 1 and 2).
    assert [int.from_bytes(first[o:o + 4], "little") for o in (4, 88, 92)] == [3, 3, 0b110]
    # Deterministic, threads and all.
    assert train(tmp_path, *args)[0].returncode == 0
    assert weights.read_bytes() == first
    out = subprocess.run([os.path.join(BUILD, "aios-encoder-eval"), "--weights", str(weights),
                          "--clinc", str(data)], check=True, capture_output=True,
                         text=True).stdout
    assert json.loads(out)["in_scope_accuracy_no_threshold"] >= 75.0


def test_pretraining_refusals(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("too few words to predict anything\n")
    run = train(tmp_path, "--pretrain-text", str(text), "--pretrained", "4")[0]
    assert run.returncode == 1 and "--pretrained 4: between 1 and the members (3)" in run.stderr
    run = train(tmp_path, "--pretrain-text", str(text), "--pretrain-epochs", "0")[0]
    assert run.returncode == 1 and "--pretrain-epochs: at least 1" in run.stderr
    run = train(tmp_path, "--pretrain-text", str(text))[0]
    assert run.returncode == 1 and "no word occurs 5 times" in run.stderr
    run = train(tmp_path, "--pretrain-text", str(tmp_path / "missing.txt"))[0]
    assert run.returncode == 1 and "cannot read" in run.stderr
    run = train(tmp_path, "--pretrained", "1")[0]
    assert run.returncode == 1 and "need --pretrain-text" in run.stderr
    # The shape is checked before minutes of pretraining.
    run = train(tmp_path, "--pretrain-text", str(text), "--members", "17")[0]
    assert run.returncode == 1 and "17 members out of range" in run.stderr
