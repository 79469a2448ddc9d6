"""Boots the split system in QEMU under pexpect for the integration tests.

Every test gets a fresh QEMU (a few seconds to boot), so no test depends on another's
state. Images come from build/ (make test builds them first).
"""
import json
import os
import re
import shutil
import tempfile
import time

import pexpect
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
QEMU = ["qemu-system-aarch64", "-M", "virt,virtualization=on,gic-version=2",
        "-cpu", "cortex-a76", "-smp", "4", "-m", "2G", "-nographic", "-nic", "none"]
PROMPT = "rt> "
TIMEOUT = int(os.environ.get("AIOS_TEST_TIMEOUT", "60"))   # generous: TCG on a loaded 2-core CI machine


class System:
    """One QEMU running the hypervisor; helpers to drive the RT shell."""

    def __init__(self, layout="qemu-virt", bundle=None, bare_kernel=None):
        """bare_kernel: boot that image alone at EL1 (no hypervisor, one core) instead."""
        if bare_kernel:
            files = [os.path.join(BUILD, "images", bare_kernel)]
            args = ["-M", "virt,gic-version=2", "-cpu", "cortex-a76", "-smp", "1", "-m", "2G",
                    "-nographic", "-nic", "none", "-kernel", files[0]]
        else:
            files = [os.path.join(BUILD, layout, "hyp.img"),
                     bundle or os.path.join(BUILD, layout, "bundle.img")]
            args = QEMU[1:] + ["-kernel", files[0], "-initrd", files[1]]
        for f in files:
            if not os.path.exists(f):
                raise FileNotFoundError(f"{f} is missing: run 'make' first")
        self.log = tempfile.NamedTemporaryFile(mode="w+", prefix="qemu-", suffix=".log",
                                               delete=False)
        self.child = pexpect.spawn(QEMU[0], args, encoding="utf-8", codec_errors="replace",
                                   timeout=TIMEOUT, echo=False)
        self.child.logfile_read = self.log

    def expect(self, pattern, timeout=TIMEOUT):
        """Wait for pattern (a regular expression); returns the match."""
        self.child.expect(pattern, timeout=timeout)
        return self.child.match

    def seen(self, regex, timeout=TIMEOUT):
        """Wait until regex matches the whole console output so far, whenever it came.
        Unlike expect(), this does not care what was already consumed."""
        deadline = time.time() + timeout
        while True:
            m = re.search(regex, self.output())
            if m:
                return m
            if time.time() > deadline:
                raise AssertionError(f"never saw {regex!r}; the console said:\n{self.output()}")
            try:
                self.child.expect(r"(?s).+", timeout=1)
            except pexpect.TIMEOUT:
                pass

    def expect_exact(self, text, timeout=TIMEOUT):
        self.child.expect_exact(text, timeout=timeout)

    def send(self, data):
        self.child.send(data)

    def send_raw(self, data):
        """Bytes to the console exactly as given (pexpect's send() would encode them)."""
        os.write(self.child.child_fd, data)

    def command(self, line, timeout=TIMEOUT):
        """Type a line at the RT shell; return what it printed before the next prompt."""
        self.child.send(line + "\r")
        # The shell echoes the line and ends it: only then does its answer start.
        self.child.expect(re.escape(line) + r"\r*\n", timeout=timeout)
        self.child.expect_exact(PROMPT, timeout=timeout)
        return self.child.before

    def partitions(self):
        """The `partitions` table as {name: (cores, state, restarts)}."""
        rows = {}
        for m in re.finditer(r"^\s+\d+\s+(\S+)\s+(\S+)\s+\d+ MiB\s+(\S+)\s+(\d+)",
                             self.command("partitions"), re.M):
            rows[m.group(1)] = (m.group(2), m.group(3), int(m.group(4)))
        return rows

    def perf_json(self):
        """`perf json` at the RT shell, parsed."""
        out = self.command("perf json")
        return json.loads(next(l for l in out.splitlines() if l.startswith("{")))

    def output(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def close(self):
        if self.child.isalive():
            self.child.terminate(force=True)
        self.log.close()
        os.unlink(self.log.name)


@pytest.fixture
def boot():
    """Factory: boot(layout=..., bundle=...) -> System at the RT prompt."""
    systems = []

    def start(layout="qemu-virt", bundle=None, ready=(r"rt> ", r"\[ai\] aios: cpu 1 ready"),
              bare_kernel=None):
        """ready: what must have been printed before the test starts (boot finished)."""
        s = System(layout, bundle, bare_kernel)
        systems.append(s)
        for regex in ready:
            s.seen(regex)
        return s

    yield start
    for s in systems:
        out = s.output()
        s.close()
        assert "CRASH" not in out, "the hypervisor crashed:\n" + out


@pytest.fixture
def tmpdir_path():
    d = tempfile.mkdtemp(prefix="aios-test-")
    yield d
    shutil.rmtree(d)
