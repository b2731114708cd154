"""A warm Python for the local Spark jobs: modules imported once per run, one fork per job.

Every Spark step of a local run starts `python spark/<job>.py`, and that process spends about
2 s of a 2-core machine importing the Spark Connect client (pandas, pyarrow, grpc) before it
sends its first query. This process imports them once, when the run starts (while the Spark
server's JVM starts), and then forks one child per job: the child is the job's process, with
the job's arguments, working directory and environment, and a fresh module state for the
project's own code (`churn` is imported by the child, never here).

    python -m local.warm_python --socket PATH     # serves until killed

Protocol, one job per connection on a Unix socket: the client sends one JSON line
`{"argv": [script, *args], "cwd": ..., "env": {...}}`; it then receives the job's stdout and
stderr as they come, and a last line `EXIT_MARKER <code>` (the exit status `python script`
would have had; -N for a signal). Closing the connection early kills the job.

Why not multiprocessing's forkserver: it belongs to the process that starts it, and each step
is a separate process started by KFP's local runner; this one is shared by the run's steps.
Fork is safe here because the server stays single-threaded: no Spark session, no gRPC channel
is created before the fork, and the two native thread pools the imports start (OpenBLAS, the
jemalloc background thread of pyarrow) are turned off by the environment `WarmPython` sets.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import runpy
import select
import signal
import socket
import sys
import tempfile
import traceback
from pathlib import Path

from components.local_jobs import EXIT_MARKER
from local.background import BackgroundProcess

READY = "warm python ready"
#: Imported once in the server: what every Spark job's client imports before its first query.
PRELOAD = (
    "pyspark.sql.connect.session",
    "pyspark.sql.connect.functions",
    "pyspark.ml.classification",
    "pyspark.ml.evaluation",
    "pyspark.ml.feature",
    "pyspark.ml.functions",
)
#: Keeps the server single-threaded after the imports (checked by tests/local).
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "JE_ARROW_MALLOC_CONF": "background_thread:false"}
#: A request line is a few KB (the environment); anything far larger is not a client of ours.
MAX_REQUEST = 1 << 20


class WarmPythonError(RuntimeError):
    """The warm Python did not start; the message points at its log."""


def os_threads() -> int:
    """Threads of this process as the OS sees them (Linux), or 1 where that is not known."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def _read_request(conn: socket.socket) -> dict:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("connection closed before a whole request line")
        data += chunk
        if len(data) > MAX_REQUEST:
            raise ValueError("request line too long")
    request = json.loads(data)
    argv, cwd, env = request.get("argv"), request.get("cwd"), request.get("env")
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        raise ValueError("argv: expected a non-empty list of strings")
    if not isinstance(cwd, str) or not isinstance(env, dict):
        raise ValueError("cwd: expected a string, env: expected an object")
    return request


def _child(listener: socket.socket, conn: socket.socket, request: dict) -> None:
    """In the forked child: become `python <argv...>` with its output on `conn`; never returns."""
    code = 1
    try:
        listener.close()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(conn.fileno(), 1)
        os.dup2(conn.fileno(), 2)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in request["env"].items()})
        script = os.path.abspath(request["argv"][0])
        sys.argv = [script, *request["argv"][1:]]
        sys.path[0] = os.path.dirname(script)
        # what `python script` gets on a pipe with PYTHONUNBUFFERED: lines out as they come
        sys.stdout.reconfigure(line_buffering=True)
        code = _run_main(script)
        atexit._run_exitfuncs()  # as a normal interpreter exit would (Spark session release)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _run_main(script: str) -> int:
    """Run `script` as __main__; its exit status as `python script` would report it."""
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _wait(conn: socket.socket, pid: int) -> int:
    """Wait for the job; kill it if the client goes away. Its exit code (-N for signal N)."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        readable, _, _ = select.select([conn], [], [], 0.1)
        if readable and not conn.recv(1, socket.MSG_PEEK):
            os.kill(pid, signal.SIGKILL)


def _serve_one(listener: socket.socket, conn: socket.socket) -> None:
    with conn:
        try:
            request = _read_request(conn)
        except (ValueError, OSError) as err:
            conn.sendall(f"warm python: bad request: {err}\n{EXIT_MARKER} 2\n".encode())
            return
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(listener, conn, request)
        try:
            code = _wait(conn, pid)
        except BaseException:  # stopped (SIGTERM) while a job runs: the job goes too
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        with contextlib.suppress(OSError):
            conn.sendall(f"\n{EXIT_MARKER} {code}\n".encode())


def serve(socket_path: str) -> None:
    """Import PRELOAD, then run one forked job per connection, one at a time, until killed."""
    for name in PRELOAD:
        __import__(name)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(socket_path)
        os.chmod(socket_path, 0o600)
        listener.listen(8)
        print(f"{READY}: {len(PRELOAD)} modules, {os_threads()} thread(s)", flush=True)
        while True:
            conn, _ = listener.accept()
            _serve_one(listener, conn)


class WarmPython(BackgroundProcess):
    """A `python -m local.warm_python` process for one run (socket in a private temp dir)."""

    what = "the warm Python"
    error = WarmPythonError
    ready_timeout = 60.0

    def __init__(self, log_path: Path) -> None:
        super().__init__(log_path, READY, poll_seconds=0.05)
        self._dir = tempfile.mkdtemp(prefix="churn-warm-")
        self.address = os.path.join(self._dir, "socket")

    def start(self) -> None:
        """Launch the process (output to the log file); returns at once."""
        env = {**os.environ, **SINGLE_THREADED}
        self.launch("local.warm_python", ["--socket", self.address], env)

    def stop(self) -> None:
        """Stop the process (and a job it runs) and remove its socket."""
        super().stop()
        with contextlib.suppress(OSError):
            os.unlink(self.address)
        with contextlib.suppress(OSError):
            os.rmdir(self._dir)


def main(argv: list[str] | None = None) -> int:
    """`--socket PATH`: serve until SIGTERM / SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.socket)
    return 0


if __name__ == "__main__":
    sys.exit(main())
