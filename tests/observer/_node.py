"""``orrery run`` in a subprocess, and ``orrery ps / tree / inspect`` against it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

APPS = Path(__file__).parent / "apps"


def orrery(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Runs one orrery command to its end."""
    return subprocess.run(
        [sys.executable, "-m", "orrery", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


class RunningNode:
    """``orrery run`` in the background; a thread collects its stderr lines as they come."""

    def __init__(self, cwd: Path, state_dir: Path, *args: str) -> None:
        self.state_dir = state_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orrery", "run", *args, "--state-dir", str(state_dir)],
            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, *texts: str, timeout: float = 30) -> None:
        """Waits until every text appeared in some stderr line."""

        def seen() -> bool:
            return all(any(t in line for line in self.lines) for t in texts)

        with self.changed:
            found = self.changed.wait_for(seen, timeout=timeout)
        if not found:
            self.stop()
            raise AssertionError(f"{texts!r} did not appear on stderr:\n{''.join(self.lines)}")

    def observe(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs ``orrery ARGS --state-dir <this node's state dir>``."""
        return orrery(*args, "--state-dir", str(self.state_dir), cwd=self.state_dir.parent)

    def stop(self) -> int:
        """SIGINT, then waits for the exit; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(timeout=5)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode
