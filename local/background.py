"""A helper process a local run starts and stops: output to a log, ready when a line says so.

The Spark Connect server (local/spark_server.py) and the warm Python (local/warm_python.py)
are both started this way: `start()` returns at once, `wait_ready()` blocks until the process
prints its ready line (or exits, or times out) and `stop()` ends it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class BackgroundProcess:
    """`python -m <module> <args...>` run from the repository root, output in `log_path`."""

    #: What the messages call it, and the exception they raise.
    what = "the helper process"
    error: type[Exception] = RuntimeError
    #: How long `wait_ready()` waits by default.
    ready_timeout = 180.0

    def __init__(self, log_path: Path, ready: str, poll_seconds: float) -> None:
        self.log_path = log_path
        self.ready = ready
        self.poll_seconds = poll_seconds
        self.process: subprocess.Popen | None = None

    def launch(
        self, module: str, args: list[str], env: dict[str, str], detached: bool = False
    ) -> None:
        """Start the process (returns at once); `detached`: in a session of its own, so it
        outlives this process and a Ctrl-C in its terminal."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # A new file, not the old one truncated: a process that wrote it may still be running.
        self.log_path.unlink(missing_ok=True)
        with open(self.log_path, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=detached,
            )

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the ready line is in the log, or raise `self.error`."""
        timeout = self.ready_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise self.error(f"{self.what} exited before it was ready; see {self.log_path}")
            if self.ready in self.log_path.read_text(encoding="utf-8", errors="replace"):
                return
            time.sleep(self.poll_seconds)
        raise self.error(f"{self.what} was not ready after {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
