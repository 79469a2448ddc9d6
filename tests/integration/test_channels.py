"""Channels between partitions: the rt-ai rings, driven from the RT shell."""
import re


def test_ping_ai_answers(boot):
    s = boot()
    out = s.command("ping ai")
    m = re.search(r"pong from ai: request 1, round trip (\d+) us", out)
    assert m, out


def test_ping_many_all_answered(boot):
    s = boot()
    out = s.command("ping ai 200")
    assert re.search(r"200 of 200 answered; round trip min \d+ us, avg \d+ us, max \d+ us", out), out


def test_ping_survives_an_ai_restart(boot):
    s = boot()
    assert "restarting ai" in s.command("restart ai")
    s.expect(r"\[ai\] aios: cpu 1 ready")
    out = s.command("ping ai 20")
    assert "20 of 20 answered" in out, out


def test_ping_usage_and_unknown_peer(boot):
    s = boot()
    assert "no channel to 'linux'" in s.command("ping linux")
    for bad in ("ping", "ping ai 0", "ping ai -3", "ping ai lots", "ping ai 10001"):
        assert "usage: ping <partition> [count 1-10000]" in s.command(bad), bad


def test_ping_a_failed_partition_times_out_with_its_state(boot):
    s = boot(layout="test-ai-fault", ready=(r"rt> ",))
    s.seen(r"restart limit 2 reached, stopped for good")
    out = s.command("ping ai")
    assert "no answer from ai within 1000 ms (ai is failed)" in out, out


def test_isolation_test_every_attempt_refused_and_ai_comes_back(boot):
    # The layout with a third partition: rt has a channel (rt-spare) that ai is not
    # part of, so that is tried too.
    s = boot(layout="test-three-partitions")
    out = s.command("isolation-test ai", timeout=300)
    for what in ("rt memory", "hypervisor memory", "GIC distributor", "channel rt-spare"):
        for access in ("read", "write"):
            assert re.search(rf"{access}\s+{what}\s+0x[0-9a-f]+\s+refused: stage-2 fault at 0x[0-9a-f]+, "
                             rf"ESR 0x[0-9a-f]+ \(data abort from a lower EL, {access}", out), (what, access, out)
    assert re.search(r"channel rt-spare\s+0x0054010000", out), out
    assert "isolation-test ai: 8 of 8 attempts refused" in out
    assert "NOT REFUSED" not in out
    # Each attempt was logged by the hypervisor, and the partition is back.
    assert len(re.findall(r"\[hyp\] partition ai: stage-2 fault", s.output())) == 8
    rows = s.partitions()
    assert rows["ai"][1] == "running"
    assert "pong from ai: request" in s.command("ping ai")
    assert "usage: isolation-test <partition>" in s.command("isolation-test")
    assert "no channel to a partition 'rt'" in s.command("isolation-test rt")


def test_doorbells_wake_the_ai_server_and_never_disturb_rt(boot):
    s = boot()
    s.command("perf reset")
    out = s.command("ping ai 50")
    assert "50 of 50 answered" in out, out
    cores = s.perf_json()["cores"]
    # The AI server (vCPU 1, core 2) was woken by the doorbells: interrupts at EL2.
    assert cores[2]["counters"]["irqs"] >= 1
    # The RT core rang once per ping: the ring messages it announced.
    assert cores[0]["counters"]["doorbells"] == 50
    # Nothing landed on the RT core because of the AI partition.
    assert cores[0]["counters"]["foreign"] == 0
    assert cores[0]["counters"]["irqs"] == 0
