"""`ask` at rt>: the AI partition runs the model module the hypervisor loaded and streams
tokens back over the ring; the same model on the host (aios-run) gives the same tokens."""
import os
import re
import subprocess

from conftest import BUILD

PROMPT_TEXT = "Once upon a time there was a robot"


def host_ids(prompt, n):
    """Greedy token ids from the host CLI for the model and tokenizer in the boot bundle:
    the prompt's, then the n generated ones."""
    out = subprocess.run([os.path.join(BUILD, "host", "aios-run"),
                          os.path.join(BUILD, "images", "model.bin"),
                          "-z", os.path.join(BUILD, "images", "tokenizer.bin"),
                          "-i", prompt, "-n", str(n), "-t", "0", "--ids"],
                         check=True, capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_ask_gives_the_host_clis_greedy_tokens(boot):
    s = boot()
    assert re.search(r"\[ai\] aios: model int8: dim 96, 4 layers, 4 heads \(2 kv\), vocab 512, "
                     r"context 128; tokenizer 512 tokens", s.output())
    out = s.command(f"ask -i -n 32 {PROMPT_TEXT}", timeout=120)
    done = re.search(r"\[32 tokens \(prompt (\d+)\), \d+\.\d\d tokens/s", out)
    assert done, out
    ids = host_ids(PROMPT_TEXT, 32)
    n_prompt = int(done.group(1))
    assert len(ids) == n_prompt + 32
    got = [int(x) for x in out[:done.start()].split()]
    assert got == ids[n_prompt:], (got, ids)
    # As text, the same answer; twice in a row (the model restarts at position 0).
    text = s.command(f"ask -n 32 {PROMPT_TEXT}", timeout=120)
    assert "[32 tokens (prompt" in text
    assert s.command(f"ask -n 32 {PROMPT_TEXT}", timeout=120).split("[")[0] == text.split("[")[0]


def test_ask_in_one_core_and_two_is_the_same(boot):
    s = boot()
    one = s.command(f"ask -i -j 1 -n 20 {PROMPT_TEXT}", timeout=120)
    two = s.command(f"ask -i -j 2 -n 20 {PROMPT_TEXT}", timeout=120)
    # The cores taking turns on each job (what measures the critical path under -icount).
    turns = s.command(f"ask -i -j 2 -m -n 20 {PROMPT_TEXT}", timeout=120)
    assert one.split("[")[0] == two.split("[")[0] == turns.split("[")[0]
    assert "[20 tokens" in one and "[20 tokens" in two and "[20 tokens" in turns


def test_ask_stops_at_the_context_and_refuses_a_prompt_too_long(boot):
    s = boot()
    out = s.command(f"ask -n 500 {PROMPT_TEXT}", timeout=120)
    assert "stopped at the model's context of 128 tokens]" in out, out
    # Punctuation the tokenizer does not merge: a token a character, more than 128.
    long_prompt = "{|}" * 60
    out = s.command(f"ask {long_prompt}", timeout=120)
    assert re.search(r"ask: the prompt does not fit: the prompt is \d+ tokens, the model's "
                     r"context 128", out), out


def test_ctrl_c_stops_a_generation(boot):
    s = boot()
    s.send("ask -n 120 -t 1 " + PROMPT_TEXT + "\r")
    s.send_raw(b"\x03")
    m = s.expect(r"\[stopped after (\d+) tokens \(prompt \d+\)", timeout=120)
    assert int(m.group(1)) < 120
    s.expect_exact("rt> ")
    # The AI partition serves the next request as usual.
    assert "[5 tokens" in s.command(f"ask -n 5 {PROMPT_TEXT}", timeout=120)


def test_ask_usage(boot):
    s = boot()
    for bad in ("ask", "ask -n", "ask -n 0 hi", "ask -t x hi", "ask -j 99 hi", "ask -q 1 hi"):
        assert "usage: ask" in s.command(bad), bad


def test_ask_when_the_ai_partition_is_not_running(boot):
    s = boot(layout="test-ai-fault", ready=(r"rt> ",))
    s.seen(r"restart limit 2 reached, stopped for good")
    assert "ask: the AI partition is failed; ask again when it is running" in s.command("ask hi")
