"""One local Spark JVM for a whole local run: a Spark Connect server the Spark steps connect to.

Every Spark step of a local run is its own process (kfp.local runs each task as a subprocess),
and each used to start its own JVM (~6 s on an idle 2-core machine, more on a busy one). A
Spark Connect server started once per run, before the first step, lets every job connect
instead (`SPARK_REMOTE`, which `churn.session.get_session` honours); the JVM also stays warm
(JIT, class loading) from one step to the next.

    python -m local.spark_server --port 15002     # serves until killed

`LocalSparkServer` starts that process on a free port and stops it again.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

from local.background import BackgroundProcess

SPARK_DIR = Path(__file__).resolve().parents[1] / "spark"
READY = "spark connect server ready"
#: Every step of a run shares this JVM, so it gets more heap than one job's default 1g.
SERVER_DRIVER_MEMORY = "2g"
#: A job's own JVM lives seconds and runs best on the quick C1 JIT alone (churn.session); this
#: one serves the whole run, so the optimising C2 compiler pays back: tune 15% faster, the run
#: about 2 s shorter on 2 cores. CHURN_LOCAL_JVM_OPTIONS still overrides it.
SERVER_JVM_OPTIONS = "-XX:+UseSerialGC"


class ServerError(RuntimeError):
    """The local Spark Connect server did not come up; the message points at its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Spark Connect 4.0 keeps fitted models in a cache of *soft* references (MLCache: Guava
#: softValues). The JVM clears a soft reference once it has gone unused for this many ms per MB
#: of free heap (default 1000): on a busy machine with a small heap, a model fitted a few seconds
#: earlier vanished before its transform ran (CONNECT_ML.CACHE_INVALID). An hour per MB keeps
#: them for a local run's lifetime; the JVM still clears them all before running out of memory.
SOFT_REFERENCE_POLICY = "-XX:SoftRefLRUPolicyMSPerMB=3600000"


def server_settings(port: int, base: dict[str, str]) -> dict[str, str]:
    """The Spark settings of the local Connect server: `base` plus the plugin, its port and a
    soft-reference policy that keeps the ML cache's models alive."""
    options = " ".join(
        o for o in (base.get("spark.driver.defaultJavaOptions", ""), SOFT_REFERENCE_POLICY) if o
    )
    return {
        **base,
        "spark.driver.defaultJavaOptions": options,
        "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.log.level": os.environ.get("SPARK_LOG_LEVEL", "ERROR"),
    }


def serve(port: int, keep_dir: Path | None = None, idle_minutes: float = 0.0) -> None:
    """Start a local Spark session with the Connect plugin on `port`; serve until killed or,
    kept between runs (`keep_dir`, local/kept_spark.py), until idle for `idle_minutes`."""
    if str(SPARK_DIR) not in sys.path:
        sys.path.insert(0, str(SPARK_DIR))
    os.environ.pop("SPARK_REMOTE", None)
    os.environ.setdefault("SPARK_DRIVER_MEMORY", SERVER_DRIVER_MEMORY)
    os.environ.setdefault("CHURN_LOCAL_JVM_OPTIONS", SERVER_JVM_OPTIONS)
    from churn.session import local_settings
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[*]").appName("churn-local-run")
    for key, value in server_settings(port, local_settings()).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    print(f"{READY} on sc://127.0.0.1:{port}", flush=True)
    if keep_dir is None:
        signal.pause()
        return
    from local.kept_spark import KeptDir, serve_until_idle

    def between_runs() -> None:
        spark.catalog.clearCache()
        print("no run holds the server: cached data dropped", flush=True)

    why = serve_until_idle(KeptDir(keep_dir.parent), port, idle_minutes * 60, between_runs)
    print(f"stopping: {why}", flush=True)


class LocalSparkServer(BackgroundProcess):
    """A `python -m local.spark_server` process: `start()` returns at once, `wait_ready()`
    blocks until it listens (so its JVM start overlaps the run's other preparations)."""

    what = "the local Spark Connect server"
    error = ServerError

    #: What the run's console calls it.
    label = "spark (one JVM per run)"

    def __init__(
        self, log_path: Path, keep_dir: Path | None = None, idle_minutes: float = 0.0
    ) -> None:
        super().__init__(log_path, READY, poll_seconds=0.2)
        self.port = free_port()
        #: Kept between runs (local/kept_spark.py): outlives this process, stops when idle.
        self.keep_dir = keep_dir
        self.idle_minutes = idle_minutes

    @property
    def remote(self) -> str:
        """The `SPARK_REMOTE` value clients use."""
        return f"sc://127.0.0.1:{self.port}"

    @property
    def detail(self) -> str:
        """What the run's console shows once it is ready."""
        return self.remote

    def start(self) -> None:
        """Launch the server process (output to the log file)."""
        env = {k: v for k, v in os.environ.items() if k != "SPARK_REMOTE"}
        args = ["--port", str(self.port)]
        if self.keep_dir is not None:
            args += ["--keep-dir", str(self.keep_dir), "--idle-minutes", str(self.idle_minutes)]
        self.launch("local.spark_server", args, env, detached=self.keep_dir is not None)


@contextlib.contextmanager
def scoped_env(values: dict[str, str]):
    """The environment variables `values` set for the duration (previous values restored)."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main(argv: list[str] | None = None) -> int:
    """`--port N [--keep-dir D --idle-minutes M]`: serve until SIGTERM / SIGINT (or idle)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keep-dir", type=Path, help="kept between runs: its .spark-server dir")
    parser.add_argument("--idle-minutes", type=float, default=0.0)
    args = parser.parse_args(argv)
    # Exit cleanly on SIGTERM: the JVM (pyspark's gateway) ends when this process's pipe closes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(args.port, args.keep_dir, args.idle_minutes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
