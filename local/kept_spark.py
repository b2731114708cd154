"""The local Spark server kept warm between local runs: what `run.py` uses by default.

A cold Spark JVM costs a local run more than its start (about 6 s on 2 cores): the first
queries and the first model fits run in an unwarmed JIT, so preprocess takes 7 s instead of 1
and train 12 instead of 5. A data scientist runs the pipeline again and again, so, like a build
tool's daemon, the Spark Connect server a run starts stays up after it for the next run, and
stops by itself after `idle_minutes` without a run (15 by default, CHURN_SPARK_IDLE_MINUTES).

Everything lives in `<runs dir>/.spark-server/`:

- `state.json`: the server's pid, port, start time and *fingerprint*: a hash of what decides how
  the server runs (the Python and pyspark it runs on, the Java home, the environment variables
  the local Spark settings read, and the source of local/spark_server.py and
  spark/churn/session.py). A run reuses a server only when its fingerprint is the run's own; a
  changed setting starts a new server. The jobs' own code runs in the run's processes (Spark
  Connect clients), never in the server, so editing spark/ needs no restart.
- `leases/<port>.<pid>`: one per run using the server (the run's pid); a run that died leaves a
  lease whose pid is gone, which counts for nothing.
- `lock`: taken (flock) while a run picks or starts a server and while the server decides to
  exit, so a run never picks a server that is leaving.
- `server.log`: the server's output.

Between runs (no lease held) the server drops the DataFrames the finished runs cached; it keeps
nothing else of theirs that matters (each job is its own Spark Connect session).

    python -m local.kept_spark status [--runs-dir runs]
    python -m local.kept_spark stop [--runs-dir runs]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import hashlib
import importlib.metadata
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from local.spark_server import LocalSparkServer, ServerError

ROOT = Path(__file__).resolve().parents[1]
DIR_NAME = ".spark-server"
STATE_FILE = "state.json"
LOG_FILE = "server.log"
DEFAULT_IDLE_MINUTES = 15.0
IDLE_ENV = "CHURN_SPARK_IDLE_MINUTES"
#: What decides how the server runs, besides the source files below.
FINGERPRINT_ENV = (
    "JAVA_HOME",
    "CHURN_LOCAL_JVM_OPTIONS",
    "SPARK_DRIVER_MEMORY",
    "SPARK_LOCAL_IP",
    "SPARK_LOG_LEVEL",
    "SPARK_HOME",
)
FINGERPRINT_SOURCES = ("local/spark_server.py", "spark/churn/session.py")
#: How often the server looks at its leases.
POLL_SECONDS = 2.0


class KeptServerError(RuntimeError):
    """A kept server's files are unusable; the message says which and what to do."""


def idle_minutes_from_env() -> float:
    """CHURN_SPARK_IDLE_MINUTES (a positive number of minutes), or the default."""
    text = os.environ.get(IDLE_ENV, "").strip()
    if not text:
        return DEFAULT_IDLE_MINUTES
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise KeptServerError(f"{IDLE_ENV}={text!r}: give a positive number of minutes")
    return value


def fingerprint() -> str:
    """A hash of everything that decides how a local Spark server runs (see the module doc)."""
    parts = {
        "python": sys.executable,
        # the installed version, read without importing pyspark (half a second in run.py)
        "pyspark": importlib.metadata.version("pyspark"),
        "env": {name: os.environ.get(name) for name in FINGERPRINT_ENV},
        "sources": {
            name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest()
            for name in FINGERPRINT_SOURCES
        },
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class State:
    pid: int
    port: int
    fingerprint: str
    started: float
    idle_minutes: float

    @property
    def remote(self) -> str:
        return f"sc://127.0.0.1:{self.port}"


def pid_alive(pid: int) -> bool:
    """True while process `pid` runs (a child of ours that exited is collected: not alive)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class KeptDir:
    """The `.spark-server` folder of one runs directory (state, leases, lock, log)."""

    def __init__(self, runs_dir: Path) -> None:
        self.path = runs_dir.resolve() / DIR_NAME
        self.leases = self.path / "leases"
        self.state_path = self.path / STATE_FILE
        self.log_path = self.path / LOG_FILE

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock (blocks while another run or the server holds it)."""
        self.leases.mkdir(parents=True, exist_ok=True)
        with open(self.path / "lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read_state(self) -> State | None:
        """The recorded server, or None (no file). A file that is not ours is an error."""
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            return State(**data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as err:
            raise KeptServerError(
                f"{self.state_path}: not a kept Spark server's state ({err}); "
                "stop it with `python -m local.kept_spark stop` or delete the file"
            ) from err

    def write_state(self, state: State) -> None:
        """Replace state.json in one rename (a reader sees the old or the new, never half)."""
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(state)) + "\n", encoding="utf-8")
        os.replace(tmp, self.state_path)

    def clear_state(self, pid: int) -> None:
        """Remove state.json if it still names `pid`."""
        with contextlib.suppress(KeptServerError):
            state = self.read_state()
            if state is not None and state.pid == pid:
                self.state_path.unlink()

    def lease(self, port: int, pid: int) -> Path:
        path = self.leases / f"{port}.{pid}"
        path.touch()
        return path

    def live_leases(self, port: int) -> list[int]:
        """The pids holding a lease on the server at `port`; leases of dead runs are removed."""
        pids = []
        for path in self.leases.glob(f"{port}.*"):
            try:
                pid = int(path.suffix.lstrip("."))
            except ValueError:
                continue
            if pid_alive(pid):
                pids.append(pid)
            else:
                path.unlink(missing_ok=True)
        return sorted(pids)

    def last_used(self, port: int) -> float:
        """When a run last took or released a lease on the server at `port` (epoch seconds)."""
        try:
            return (self.path / f"used.{port}").stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def mark_used(self, port: int) -> None:
        (self.path / f"used.{port}").touch()


def usable(state: State | None, wanted: str) -> bool:
    """A recorded server this run can use: same fingerprint, alive, listening."""
    return (
        state is not None
        and state.fingerprint == wanted
        and pid_alive(state.pid)
        and port_open(state.port)
    )


def serve_until_idle(
    kept: KeptDir,
    port: int,
    idle_seconds: float,
    between_runs: Callable[[], None],
    poll_seconds: float = POLL_SECONDS,
) -> str:
    """The kept server's loop: return (why) when no run has used it for `idle_seconds`, or when
    another server replaced it and no run holds it any more. `between_runs` runs once each time
    the last lease goes."""
    pid = os.getpid()
    busy = False
    while True:
        time.sleep(poll_seconds)
        with kept.locked():
            leases = kept.live_leases(port)
            state = kept.read_state()
            replaced = state is None or state.pid != pid
            if leases:
                busy = True
                continue
            if replaced:
                return "replaced by another server"
            if busy:
                busy = False
                between_runs()
            idle = time.time() - max(kept.last_used(port), state.started)
            if idle >= idle_seconds:
                kept.clear_state(pid)
                return f"idle for {idle / 60:.1f} min"


class KeptSparkServer:
    """The Spark server of a local run when kept between runs: `start()` picks the recorded
    server when it is usable, or launches a new one (detached) and records it, and leases it
    for this run; `stop()` only gives the lease back. Same interface as LocalSparkServer."""

    def __init__(self, runs_dir: Path, idle_minutes: float | None = None) -> None:
        self.kept = KeptDir(runs_dir)
        self.idle_minutes = idle_minutes_from_env() if idle_minutes is None else idle_minutes
        self.state: State | None = None
        self.reused = False
        self._launched: LocalSparkServer | None = None
        self._lease: Path | None = None

    @property
    def remote(self) -> str:
        assert self.state is not None, "start() first"
        return self.state.remote

    @property
    def label(self) -> str:
        return "spark (kept warm)" if self.reused else "spark (started, kept)"

    @property
    def detail(self) -> str:
        return f"{self.remote}, stops after {self.idle_minutes:g} min unused"

    @property
    def log_path(self) -> Path:
        return self.kept.log_path

    def start(self) -> None:
        """Lease the usable recorded server, or launch one; returns at once."""
        wanted = fingerprint()
        with self.kept.locked():
            state = self.kept.read_state()
            self.reused = usable(state, wanted)
            if not self.reused:
                if (
                    state is not None
                    and pid_alive(state.pid)
                    and not self.kept.live_leases(state.port)
                ):
                    # outdated (or not answering) and no run uses it: it goes now
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(state.pid, signal.SIGTERM)
                state = self._launch(wanted)
            assert state is not None
            self.state = state
            self._lease = self.kept.lease(state.port, os.getpid())
            self.kept.mark_used(state.port)

    def _launch(self, wanted: str) -> State:
        server = LocalSparkServer(self.kept.log_path, self.kept.path, self.idle_minutes)
        server.start()
        assert server.process is not None
        state = State(
            pid=server.process.pid,
            port=server.port,
            fingerprint=wanted,
            started=time.time(),
            idle_minutes=self.idle_minutes,
        )
        self.kept.write_state(state)
        self._launched = server
        return state

    def wait_ready(self) -> None:
        """Block until a newly launched server answers (a reused one answers already)."""
        if self._launched is None:
            return
        try:
            self._launched.wait_ready()
        except ServerError:
            self.stop()
            with self.kept.locked():
                self.kept.clear_state(self._launched.process.pid)  # type: ignore[union-attr]
            self._launched.stop()
            raise

    def stop(self) -> None:
        """Give this run's lease back; the server stays for the next run."""
        if self._lease is None or self.state is None:
            return
        with self.kept.locked():
            self._lease.unlink(missing_ok=True)
            self.kept.mark_used(self.state.port)
        self._lease = None


def stop(runs_dir: Path, timeout: float = 20.0) -> State | None:
    """Stop the kept server of `runs_dir` (runs using it fail); the state it had, or None."""
    kept = KeptDir(runs_dir)
    if not kept.path.exists():
        return None
    with kept.locked():
        state = kept.read_state()
        if state is None:
            return None
        kept.clear_state(state.pid)
    if pid_alive(state.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(state.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(state.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.pid, signal.SIGKILL)
    return state


def status_lines(runs_dir: Path) -> list[str]:
    """What `status` prints: the server, its age and idle time, the runs holding it."""
    kept = KeptDir(runs_dir)
    if not kept.path.exists():
        return [f"no kept Spark server for {runs_dir}"]
    with kept.locked():
        state = kept.read_state()
        if state is None or not pid_alive(state.pid):
            return [f"no kept Spark server for {runs_dir}"]
        leases = kept.live_leases(state.port)
        last = max(kept.last_used(state.port), state.started)
    now = time.time()
    current = "current" if state.fingerprint == fingerprint() else "outdated (settings changed)"
    return [
        f"kept Spark server {state.remote} (pid {state.pid}), {current}",
        f"  up {(now - state.started) / 60:.1f} min, last used {(now - last) / 60:.1f} min ago, "
        f"stops after {state.idle_minutes:g} min idle",
        f"  runs using it: {', '.join(map(str, leases)) if leases else 'none'}",
        f"  log: {kept.log_path}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.kept_spark",
        description="The local Spark server run.py keeps warm between runs: status or stop.",
    )
    parser.add_argument("command", choices=["status", "stop"])
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"))
    args = parser.parse_args(argv)
    try:
        if args.command == "status":
            print("\n".join(status_lines(args.runs_dir)))
            return 0
        stopped = stop(args.runs_dir)
    except KeptServerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if stopped is None:
        print(f"no kept Spark server for {args.runs_dir}")
    else:
        print(f"stopped the kept Spark server {stopped.remote} (pid {stopped.pid})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
