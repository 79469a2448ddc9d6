"""The intent engine on paraphrases it never saw and on multi-turn conversations, through
the host CLI (build/host/aios-intent --json) with the encoder and corpus the AI partition
boots with. Accuracy is printed; the test fails below 90%."""
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CLI = os.path.join(ROOT, "build", "host", "aios-intent")


def understand(blocks):
    """Each block is a conversation (a list of sentences): the engine's results, per block."""
    text = "\n\n".join("\n".join(b) for b in blocks) + "\n"
    if not os.path.exists(CLI):
        raise FileNotFoundError(f"{CLI} is missing: run make first")
    out = subprocess.run([CLI, "--json"], input=text, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    results, i = [], 0
    for b in blocks:
        results.append([json.loads(line) for line in out[i:i + len(b)]])
        i += len(b)
    assert i == len(out), "one line of JSON per sentence"
    return results


def load(path):
    """Blocks of (intent, sentence, {slot: value})."""
    blocks, block = [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#"):
            continue
        if not line.strip():
            if block:
                blocks.append(block)
            block = []
            continue
        fields = line.split("\t")
        slots = dict(kv.split("=", 1) for kv in fields[2].split(";")) if len(fields) > 2 else {}
        block.append((fields[0], fields[1], slots))
    if block:
        blocks.append(block)
    return blocks


def score(blocks, name):
    results = understand([[s for _, s, _ in b] for b in blocks])
    right, total, wrong = 0, 0, []
    for b, rs in zip(blocks, results):
        for (intent, sentence, slots), r in zip(b, rs):
            ok = r["intent"] == intent and all(r["slots"].get(k) == v for k, v in slots.items())
            right += ok
            total += 1
            if not ok:
                wrong.append(f"  {sentence!r}: want {intent} {slots}, got {r['intent']} {r['slots']}")
    accuracy = right / total
    print(f"\n{name}: {right} of {total} right, accuracy {accuracy:.1%}")
    print("\n".join(wrong))
    return accuracy


def examples():
    """Every example sentence of the corpus (aios/intents/*.txt), lower case."""
    corpus = os.path.join(ROOT, "aios", "intents")
    return {line.strip().lower() for name in os.listdir(corpus) if name.endswith(".txt")
            for line in open(os.path.join(corpus, name), encoding="utf-8")
            if line.strip() and not line.startswith("#")}


def test_paraphrases_never_seen():
    """Single sentences, each its own conversation; none of them is an example."""
    blocks = [[(i, s, {})] for b in load(os.path.join(HERE, "paraphrases.txt")) for i, s, _ in b]
    seen = examples() & {s.strip().lower() for ((_, s, _),) in blocks}
    assert not seen, f"paraphrases that are examples: {sorted(seen)}"
    assert score(blocks, "paraphrases") >= 0.90


def test_conversations_with_context():
    assert score(load(os.path.join(HERE, "conversations.txt")), "conversations") >= 0.90


def test_json_shape_and_clarify():
    (r,), (c,) = understand([["set a timer for 3 seconds"], ["zzqx vlorp"]])
    assert r == {"intent": "timer.set", "slots": {"seconds": "3"},
                 "confidence": r["confidence"]} and 0 < r["confidence"] <= 1
    assert c["intent"] == "clarify" and isinstance(c["slots"]["candidates"], list)


def test_context_is_the_last_ten_turns():
    """"it" is the last file named within the last 10 turns, and nothing older."""
    calcs = [f"what is {n} plus 1" for n in range(10)]
    (*_, near), (*_, far) = understand([["create notes.txt"] + calcs[:9] + ["delete it"],
                                        ["create notes.txt"] + calcs + ["delete it"]])
    assert near["intent"] == "file.delete" and near["slots"] == {"name": "notes.txt"}
    assert far["intent"] == "file.delete" and far["slots"] == {}


def test_memory_says_what_it_did_not_store():
    """A fact with nothing in it is a question back; a fact beyond the 256 the memory holds
    is refused with a reason, not dropped in silence; numbers must match to recall."""
    (empty,), = understand([["remember that"]])
    assert empty["intent"] == "clarify"
    assert empty["slots"]["candidates"] == ["memory.remember (what to remember?)"]
    facts = [f"remember that locker {n} holds box number {n * 7}" for n in range(257)]
    rs, = understand([facts + ["what does locker 12 hold", "what does locker 256 hold"]])
    assert all(r["intent"] == "memory.remember" and "error" not in r for r in rs[:256])
    assert rs[256]["slots"]["fact"] == "locker 256 holds box number 1792"
    assert rs[256]["error"] == "memory is full (256 facts); this one is not stored"
    assert rs[257]["intent"] == "memory.recall"
    assert rs[257]["slots"]["answer"] == "locker 12 holds box number 84"
    assert rs[258]["intent"] == "memory.recall" and rs[258]["slots"]["answer"] == ""
