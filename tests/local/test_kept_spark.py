"""The Spark server kept warm between local runs (local/kept_spark.py).

The bookkeeping (state, leases, idle exit) is tested on its own, quickly; one test then runs a
real kept server through its life: started, used by a Spark Connect client, released, reused by
the next run, replaced when its settings change, and gone by itself once idle.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from local import kept_spark
from local.kept_spark import KeptDir, KeptServerError, KeptSparkServer, State


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_state_round_trip_and_a_foreign_file_is_named(tmp_path):
    kept = KeptDir(tmp_path)
    assert kept.read_state() is None
    kept.leases.mkdir(parents=True)
    state = State(pid=123, port=4567, fingerprint="abc", started=1.5, idle_minutes=15.0)
    kept.write_state(state)
    assert kept.read_state() == state and state.remote == "sc://127.0.0.1:4567"
    kept.clear_state(999)  # names another server: stays
    assert kept.read_state() == state
    kept.clear_state(123)
    assert kept.read_state() is None
    kept.state_path.write_text("{not json", encoding="utf-8")
    with pytest.raises(KeptServerError, match=r"state\.json: not a kept Spark server's state"):
        kept.read_state()


def test_leases_of_dead_runs_count_for_nothing_and_are_removed(tmp_path):
    kept = KeptDir(tmp_path)
    kept.leases.mkdir(parents=True)
    mine = kept.lease(4567, os.getpid())
    gone = kept.lease(4567, dead_pid())
    other_server = kept.lease(9999, os.getpid())
    assert kept.live_leases(4567) == [os.getpid()]
    assert mine.exists() and not gone.exists() and other_server.exists()


def test_idle_minutes_come_from_the_environment_and_are_checked(monkeypatch):
    monkeypatch.delenv(kept_spark.IDLE_ENV, raising=False)
    assert kept_spark.idle_minutes_from_env() == kept_spark.DEFAULT_IDLE_MINUTES
    monkeypatch.setenv(kept_spark.IDLE_ENV, "2.5")
    assert kept_spark.idle_minutes_from_env() == 2.5
    for bad in ("0", "-3", "soon"):
        monkeypatch.setenv(kept_spark.IDLE_ENV, bad)
        with pytest.raises(KeptServerError, match=r"CHURN_SPARK_IDLE_MINUTES=.*positive number"):
            kept_spark.idle_minutes_from_env()


def test_the_fingerprint_follows_the_settings_that_shape_the_server(monkeypatch):
    monkeypatch.delenv("CHURN_LOCAL_JVM_OPTIONS", raising=False)
    first = kept_spark.fingerprint()
    assert kept_spark.fingerprint() == first
    monkeypatch.setenv("CHURN_LOCAL_JVM_OPTIONS", "-XX:+UseParallelGC")
    assert kept_spark.fingerprint() != first
    monkeypatch.delenv("CHURN_LOCAL_JVM_OPTIONS")
    monkeypatch.setenv("SPARK_DRIVER_MEMORY", "3g")
    assert kept_spark.fingerprint() != first


class Loop:
    """serve_until_idle in a thread, as the server process runs it."""

    def __init__(self, kept: KeptDir, port: int, idle_seconds: float) -> None:
        self.cleared = 0
        self.result: str | None = None
        self.thread = threading.Thread(
            target=self._run, args=(kept, port, idle_seconds), daemon=True
        )
        self.thread.start()

    def _run(self, kept: KeptDir, port: int, idle_seconds: float) -> None:
        def between_runs() -> None:
            self.cleared += 1

        self.result = kept_spark.serve_until_idle(
            kept, port, idle_seconds, between_runs, poll_seconds=0.02
        )


def test_the_server_stays_while_a_run_holds_it_then_clears_and_leaves_when_idle(tmp_path):
    kept = KeptDir(tmp_path)
    kept.leases.mkdir(parents=True)
    kept.write_state(State(os.getpid(), 4567, "abc", time.time(), 0.01))
    lease = kept.lease(4567, os.getpid())
    loop = Loop(kept, 4567, idle_seconds=0.5)
    time.sleep(1.0)  # twice the idle time, but a run holds it
    assert loop.thread.is_alive() and loop.cleared == 0
    lease.unlink()
    kept.mark_used(4567)
    loop.thread.join(timeout=10)
    assert not loop.thread.is_alive()
    assert loop.result is not None and loop.result.startswith("idle for")
    assert loop.cleared == 1  # the finished runs' cached data dropped once
    assert kept.read_state() is None  # no run can pick a server that is leaving


def test_a_replaced_server_leaves_once_its_last_run_is_done(tmp_path):
    kept = KeptDir(tmp_path)
    kept.leases.mkdir(parents=True)
    kept.write_state(State(os.getpid() + 100000, 1111, "new", time.time(), 15.0))
    lease = kept.lease(4567, os.getpid())
    loop = Loop(kept, 4567, idle_seconds=3600)
    time.sleep(0.3)
    assert loop.thread.is_alive()
    lease.unlink()
    loop.thread.join(timeout=10)
    assert loop.result == "replaced by another server"
    assert kept.read_state() is not None and kept.read_state().port == 1111  # not its to remove


def spark_query(remote: str) -> int:
    """A Spark Connect client in its own process, as a job is; the count it got."""
    code = (
        "from pyspark.sql import SparkSession; import sys; "
        "s = SparkSession.builder.remote(sys.argv[1]).getOrCreate(); "
        "print(s.range(5).filter('id > 1').count())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, remote], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not kept_spark.pid_alive(pid):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.spark
def test_a_kept_server_serves_run_after_run_and_goes_when_unused(tmp_path, monkeypatch):
    monkeypatch.delenv("CHURN_LOCAL_JVM_OPTIONS", raising=False)
    runs = tmp_path / "runs"
    first = KeptSparkServer(runs, idle_minutes=0.05)  # 3 s
    try:
        first.start()
        first.wait_ready()
        assert not first.reused and first.label == "spark (started, kept)"
        assert spark_query(first.remote) == 3
        pid = first.state.pid
        assert KeptDir(runs).live_leases(first.state.port) == [os.getpid()]
        first.stop()
        assert KeptDir(runs).live_leases(first.state.port) == []

        second = KeptSparkServer(runs, idle_minutes=0.05)
        second.start()
        second.wait_ready()
        assert second.reused and second.state.pid == pid and second.label == "spark (kept warm)"
        time.sleep(5)  # longer than its idle time: a run holds it, so it stays
        assert spark_query(second.remote) == 3
        second.stop()

        # changed settings: a new server; the old one, unused, is stopped at once
        monkeypatch.setenv("CHURN_LOCAL_JVM_OPTIONS", "-XX:+UseSerialGC")
        third = KeptSparkServer(runs, idle_minutes=0.05)
        third.start()
        third.wait_ready()
        assert not third.reused and third.state.pid != pid
        assert wait_gone(pid, 30)
        assert spark_query(third.remote) == 3
        third.stop()
        # unused for longer than its idle time: it stops by itself and says why
        assert wait_gone(third.state.pid, 60)
        assert KeptDir(runs).read_state() is None
        assert "stopping: idle for" in KeptDir(runs).log_path.read_text()
    finally:
        kept_spark.stop(runs)


def test_status_and_stop_say_what_there_is(tmp_path):
    status = subprocess.run(
        [sys.executable, "-m", "local.kept_spark", "status", f"--runs-dir={tmp_path}"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert status.returncode == 0 and "no kept Spark server" in status.stdout
    kept = KeptDir(tmp_path)
    kept.leases.mkdir(parents=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        kept.write_state(State(sleeper.pid, 4567, "abc", time.time(), 15.0))
        lines = kept_spark.status_lines(tmp_path)
        assert f"(pid {sleeper.pid}), outdated" in lines[0]
        assert "stops after 15 min idle" in lines[1] and "none" in lines[2]
        stopped = kept_spark.stop(tmp_path)
        assert stopped is not None and stopped.pid == sleeper.pid
        sleeper.wait(timeout=5)  # it has ended (TimeoutExpired otherwise)
        assert kept.read_state() is None
    finally:
        sleeper.kill()
