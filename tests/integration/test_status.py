"""What the RT shell tells and does on its own authority: status, calc, timers."""
import re


def test_status_reports_every_subject(boot):
    s = boot()
    out = s.command("status")
    assert re.search(r"^  1  ai\s+1-2\s+1024 MiB\s+running", out, re.M), out
    assert re.search(r"^cpu \(busy over 200 ms\): rt \d+%, ai \d+%\r*$", out, re.M), out
    assert "memory: rt 64 MiB, ai 1024 MiB" in out
    assert re.search(r"^uptime: \d+:\d\d:\d\d ", out, re.M)
    assert "storage: not available" in out
    assert "temperature: no temperature sensor on this board" in out
    assert "temperature: no temperature sensor" in s.command("status temperature")
    assert "usage: status" in s.command("status frob")
    # A stopped partition shows its state instead of a load.
    s.command("restart ai")
    assert re.search(r"^cpu \(busy over 200 ms\): rt \d+%, ai (\d+%|restarting)\r*$",
                     s.command("status cpu"), re.M)


def test_calc(boot):
    s = boot()
    assert "what is 12 times 3 = 36" in s.command("calc what is 12 times 3")
    assert "(2 + 3) * 4 = 20" in s.command("calc (2 + 3) * 4")
    assert "1/3 = 0.333333" in s.command("calc 1/3")
    assert "calc: division by zero" in s.command("calc 1/0")
    assert "calc: unexpected character or word" in s.command("calc 2 + banana")
    assert "usage: calc" in s.command("calc")


def test_timer_fires_and_the_line_being_typed_survives(boot):
    s = boot()
    assert "timer 1 set: 2 seconds" in s.command("timer 2")
    assert re.search(r"timer 1: 2 s, [12] s left", s.command("timer"))
    s.send("echo half")   # typed, not yet entered, when the timer fires
    s.expect(r"\[timer 1\] 2 seconds are up\r*\n")
    s.expect_exact("rt> echo half")   # the prompt and the line are drawn again
    assert "half-typed" in s.command("-typed")
    assert "no timers running" in s.command("timer")
    for bad in ("timer 0", "timer -1", "timer 9999999"):
        assert "usage: timer" in s.command(bad), bad
