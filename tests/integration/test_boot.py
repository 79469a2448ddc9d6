"""The split system boots: hypervisor, partitions, consoles, RT shell."""
import os
import random

import pexpect

from conftest import BUILD, PROMPT


def test_boots_to_rt_shell(boot):
    s = boot()
    out = s.output()
    assert "aios hypervisor" in out
    assert "partition rt: image rtkernel verified" in out
    assert "partition ai: image aios verified" in out
    assert "RT shell ready" in out


def test_ai_partition_reports_ready_on_both_cores(boot):
    s = boot()
    s.seen(r"\[ai\] aios: cpu 0 ready")
    s.seen(r"\[ai\] aios: cpu 1 ready")


def test_partitions_lists_rt_and_ai_running(boot):
    s = boot()
    rows = s.partitions()
    assert rows["rt"] == ("0", "running", 0)
    assert rows["ai"] == ("1-2", "running", 0)


def test_help_and_version(boot):
    s = boot()
    out = s.command("help")
    for cmd in ("help", "version", "partitions", "restart", "echo"):
        assert cmd in out
    assert "hypervisor 0.1" in s.command("version")


def test_focus_switch_to_ai_console_and_back(boot):
    s = boot()
    s.send("\x1d1")
    s.expect(r"\[hyp\] console: ai \(partition 1\) has the keyboard")
    s.expect_exact("ai> ")
    s.send("cpus\r")
    s.expect(r"cpu 0: ready")
    s.expect(r"cpu 1: ready")
    s.send("\x1d0")
    s.expect(r"\[hyp\] console: rt \(partition 0\) has the keyboard")
    assert "back here" in s.command("echo back here")


def test_unfocused_output_is_prefixed(boot):
    s = boot()
    s.command("restart ai")
    # While rt has the keyboard, the AI partition's lines carry its name.
    s.expect(r"\[ai\] aios: cpu 0 ready")


def test_restart_ai_from_the_shell(boot):
    s = boot()
    assert "restarting ai" in s.command("restart ai")
    s.expect(r"\[hyp\] partition ai: image aios verified")
    s.expect(r"\[ai\] aios: cpu 1 ready")
    assert s.partitions()["ai"] == ("1-2", "running", 1)


def test_restart_not_granted_is_refused(boot):
    s = boot()
    out = s.command("restart rt")
    assert "cannot be restarted" in out
    s.seen(r"\[hyp\] partition rt asked to restart rt: not granted by the layout, refused")
    assert "no partition 'nosuch'" in s.command("restart nosuch")
    assert "usage: restart <partition>" in s.command("restart")


def test_tampered_ai_image_refuses_only_ai(boot, tmpdir_path):
    layout = os.path.join(BUILD, "qemu-virt")
    with open(os.path.join(layout, "bundle.img"), "rb") as f:
        bundle = bytearray(f.read())
    with open(os.path.join(BUILD, "images", "aios.bin"), "rb") as f:
        aios = f.read()
    at = bundle.find(aios)
    assert at > 0, "the AI image is not in the bundle"
    bundle[at + len(aios) // 2] ^= 0xff
    bad = os.path.join(tmpdir_path, "bundle.img")
    with open(bad, "wb") as f:
        f.write(bundle)
    s = boot(bundle=bad, ready=(r"rt> ",))
    out = s.output()
    assert "partition ai refused: SHA-256 of image 'aios'" in out
    assert "partition rt: image rtkernel verified" in out
    rows = s.partitions()
    assert rows["ai"][1] == "refused"
    assert rows["rt"][1] == "running"
    assert "still here" in s.command("echo still here")


def test_ai_fault_is_contained_and_restarted_up_to_the_limit(boot):
    s = boot(layout="test-ai-fault", ready=())
    s.expect(r"\[ai\] fault-test: unknown hypercall returned -1")
    s.expect(r"\[ai\] fault-test: perf reset returned -4")   # not granted
    m = s.expect(r"\[hyp\] partition ai: stage-2 fault: write to (0x[0-9a-f]+), not its memory, "
                 r"ESR (0x[0-9a-f]+) \(data abort from a lower EL, write")
    assert int(m.group(1), 16) == 0x50000000   # the RT partition's RAM
    s.expect(r"restarting \(1 of 2\)")
    s.expect(r"restarting \(2 of 2\)")
    s.expect(r"\[hyp\] partition ai: stage-2 fault.*restart limit 2 reached, stopped for good")
    assert "fault-test: the write went through" not in s.output()
    # The RT partition never noticed.
    s.send("\r")
    s.expect_exact(PROMPT)
    assert "alive" in s.command("echo alive")
    rows = s.partitions()
    assert rows["ai"] == ("1-2", "failed", 2)
    assert rows["rt"] == ("0", "running", 0)


def test_shell_survives_garbage_control_characters_and_long_lines(boot):
    s = boot()
    rng = random.Random(1234)
    # Every byte value but the two escapes that belong to the console, not the shell:
    # Ctrl-A (QEMU's monitor) and Ctrl-] (the hypervisor's focus switch).
    junk = bytes(b for b in (rng.randrange(256) for _ in range(2000)) if b not in (0x01, 0x1d))
    s.send_raw(junk)
    s.send("\x03")
    assert "ok1" in s.command("echo ok1")
    # Not a command: the AI partition is asked, and says it does not understand.
    assert "Not sure what you mean" in s.command("frobnicate zorbl")
    s.send("x" * 10240 + "\r")
    s.expect(r"error: line too long \(at most 255 characters\); ignored")
    s.expect_exact(PROMPT)
    s.send("echo typo\x7f\x7f\x7f\x7fok2\r")
    s.expect_exact("ok2")
    s.expect_exact(PROMPT)
    assert "ok3" in s.command("echo ok3")


def test_layout_giving_a_core_twice_is_refused_with_the_reason(boot):
    s = boot(layout="test-core-twice", ready=())
    s.seen(r"\[hyp\] halted: partition layout refused: core 1 is given to both rt and ai")
    assert "rt> " not in s.output()


def test_qemu_escape_still_works(boot):
    s = boot()
    s.send("\x01x")   # Ctrl-A x: QEMU's own "quit"
    s.child.expect(pexpect.EOF)
