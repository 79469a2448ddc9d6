"""Intents at rt>: the AI partition understands, the RT partition checks the layout's
grants and acts (the issue's QEMU acceptance points)."""
import math
import os
import re
import struct
import subprocess

from conftest import BUILD


def test_intent_show_partitions(boot):
    s = boot()
    out = s.command("intent show partitions")
    assert re.search(r"intent: status\.show \(confidence [01]\.\d\d\) subject=\"partitions\"", out), out
    assert re.search(r"^  1  ai\s+1-2\s+1024 MiB\s+running", out, re.M), out


def test_an_intent_the_layout_does_not_grant_is_refused_and_logged(boot):
    s = boot()
    out = s.command("restart the ai partition please")
    assert 'intent: partition.restart' in out and 'partition="ai"' in out, out
    assert "refused: the layout does not let ai request partition.restart" in out
    assert "[rt] log: refused partition.restart requested by ai" in out
    # Nothing was restarted.
    assert s.partitions()["ai"][1] == "running"
    assert "restarting ai" not in s.output()


def test_a_timer_set_in_words_fires(boot):
    s = boot()
    out = s.command("set a timer for 3 seconds")
    assert 'intent: timer.set' in out and 'seconds="3"' in out, out
    assert "timer 1 set: 3 seconds" in out
    s.expect(r"\[timer 1\] 3 seconds are up", timeout=60)


def test_memory_remembers_and_recalls(boot):
    s = boot()
    out = s.command("remember that the router is in the attic")
    assert "remembered: the router is in the attic" in out, out
    out = s.command("remember that")
    assert "Not sure what you mean; perhaps: memory.remember (what to remember?)" in out, out
    out = s.command("where is the router")
    assert "intent: memory.recall" in out, out
    assert out.rstrip().endswith("the router is in the attic"), out
    assert "I know nothing about that." in s.command("when is my birthday")


def test_each_granted_action_is_carried_out(boot):
    s = boot()
    out = s.command("show me the perf counters")
    assert "intent: perf.report" in out and re.search(r"^core 0 \(rt\): hypercalls \d+", out, re.M), out
    out = s.command("what can you do")
    assert "intent: help" in out and "Ask me in your own words" in out, out
    assert "usage:" not in out and "calc" in out.split("The commands are:")[1]
    out = s.command("how long have you been up")
    assert 'subject="uptime"' in out and re.search(r"^uptime: \d+:\d\d:\d\d ", out, re.M), out
    out = s.command("how much memory is free")
    assert 'subject="memory"' in out and "memory: rt 64 MiB, ai 1024 MiB" in out, out
    # chat: the sentence goes to the model as an ask, its answer streamed back.
    out = s.command("tell me a joke", timeout=120)
    assert "intent: chat" in out and re.search(r"\[\d+ tokens \(prompt \d+\)", out), out


def test_the_layout_decides_what_ai_may_have_done(boot):
    # This layout grants ai partition.restart and memory.recall, not memory.remember.
    s = boot(layout="test-three-partitions")
    out = s.command("remember that the spare key is under the mat")
    assert 'intent: memory.remember' in out and 'fact="the spare key is under the mat"' in out
    assert "refused: the layout does not let ai request memory.remember" in out, out
    assert "[rt] log: refused memory.remember requested by ai" in out
    # Refused, so never stored: the AI partition stores a fact only when rt says so.
    out = s.command("where is the spare key")
    assert "intent: memory.recall" in out and "I know nothing about that." in out, out
    # "now the ai one too" after a restart (of a partition this layout does not have).
    out = s.command("restart the linux partition")
    assert 'partition="linux"' in out and "there is no partition 'linux' in this layout" in out
    out = s.command("now the ai one too")
    assert 'intent: partition.restart' in out and 'partition="ai"' in out, out
    assert "restarting ai" in out
    s.expect(r"\[ai\] aios: cpu 1 ready")
    assert s.partitions()["ai"] == ("1-2", "running", 1)


def test_context_calc_and_clarify(boot):
    s = boot()
    assert "temperature: no temperature sensor on this board" in s.command("how hot is it")
    out = s.command("what about the cpu")
    assert 'subject="cpu"' in out and "cpu (busy over 200 ms)" in out, out
    assert "12 times 3 = 36" in s.command("what is 12 times 3")
    out = s.command("zzqx vlorp")
    assert "intent: clarify (confidence 0.00)" in out and "Not sure what you mean" in out
    assert "storage is not available" in s.command("wipe ideas.txt")


def test_learn_corrects_the_engine(boot):
    s = boot()
    before = s.command("paint the fence blue")
    assert "intent: timer.set" not in before
    out = s.command('learn "paint the fence blue" timer.set')
    assert 'learned: "paint the fence blue" is timer.set' in out, out
    assert "intent: timer.set" in s.command("paint the fence blue")
    assert "not an intent of the schema" in s.command('learn "hello" frob.nicate')
    assert "usage: learn" in s.command("learn hello chat")


def floats(hex_words):
    return [struct.unpack("<f", bytes.fromhex(h)[::-1])[0] for h in hex_words.split()]


def host_embedding(text, weights):
    out = subprocess.run([os.path.join(BUILD, "host", "aios-intent"), "--embed", "-e", weights],
                         input=text + "\n", capture_output=True, text=True, check=True).stdout
    return floats(out.split(":")[1])


def test_partition_embedding_matches_the_host(boot):
    """The partition's int8 encoder gives the host's int8 embedding bit for bit, and the
    host's fp32 one within int8 tolerance."""
    s = boot()
    s.send("\x1d1")
    s.expect_exact("ai> ")
    text = "how hot is it in the server room"
    s.send(f"embed {text}\r")
    m = s.expect(r"embedding (\d+):((?: [0-9a-f]{8})+)\r*\n")
    part = floats(m.group(2))
    assert len(part) == int(m.group(1)) == 384   # 3 members of 128
    assert part == host_embedding(text, os.path.join(BUILD, "images", "encoder.bin"))
    f32 = host_embedding(text, os.path.join(BUILD, "host", "encoder-f32.bin"))
    cosine = sum(a * b for a, b in zip(part, f32)) / math.sqrt(sum(a * a for a in part) *
                                                                 sum(b * b for b in f32))
    print(f"int8 partition vs fp32 host: cosine {cosine:.5f}")
    assert cosine > 0.99
