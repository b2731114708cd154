"""The warm Python of a local run (local/warm_python.py): a real server process, real forks."""

from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
import time
from pathlib import Path

import pytest

from components.local_jobs import EXIT_MARKER, job_output, run_script
from local.warm_python import WarmPython

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    if len(sys.argv) > 1 and sys.argv[1] == "fail":
        raise RuntimeError("boom from the job")
    if len(sys.argv) > 1 and sys.argv[1] == "exit":
        sys.exit(int(sys.argv[2]))
    if len(sys.argv) > 1 and sys.argv[1] == "sleep":
        open(sys.argv[2], "w").write(str(os.getpid()))
        import time
        time.sleep(60)
    import helper  # next to the script: sys.path[0] is the script's folder
    print("summary: " + json.dumps({
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "marker": os.environ.get("WARM_TEST_MARKER"),
        "helper": helper.VALUE,
        "spark_imported": "pyspark.sql.connect.session" in sys.modules,
    }))
    print("to stderr", file=sys.stderr)
    """
)


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    logs = tmp_path_factory.mktemp("warm-logs")
    server = WarmPython(logs / "warm-python.log")
    server.start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def script(tmp_path) -> Path:
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    path = tmp_path / "job.py"
    path.write_text(SCRIPT)
    return path


def _run(address: str, argv: list[str], **kwargs) -> tuple[list[str], int]:
    items = list(run_script(address, argv, **kwargs))
    assert isinstance(items[-1], int) and all(isinstance(i, str) for i in items[:-1])
    return items[:-1], items[-1]


def test_a_job_runs_as_python_script_would_with_its_args_cwd_and_env(warm, script, tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = {**os.environ, "WARM_TEST_MARKER": "m-1"}
    lines, code = _run(warm.address, [str(script), "--x", "1"], cwd=str(workdir), env=env)
    assert code == 0
    summary = next(line for line in lines if line.startswith("summary: "))
    seen = json.loads(summary[len("summary: ") :])
    assert seen == {
        "argv": ["--x", "1"],
        "cwd": str(workdir),
        "marker": "m-1",
        "helper": 42,
        "spark_imported": True,  # inherited from the server, not imported by the job
    }
    assert "to stderr\n" in lines


def test_exit_codes_and_tracebacks_come_back(warm, script):
    lines, code = _run(warm.address, [str(script), "exit", "3"])
    assert code == 3
    lines, code = _run(warm.address, [str(script), "fail"])
    assert code == 1
    assert any("RuntimeError: boom from the job" in line for line in lines)


def test_jobs_do_not_share_state(warm, script):
    # each job is a fresh fork: the first job's env does not leak into the second
    _run(warm.address, [str(script)], env={**os.environ, "WARM_TEST_MARKER": "first"})
    lines, _ = _run(warm.address, [str(script)], env=dict(os.environ))
    summary = next(line for line in lines if line.startswith("summary: "))
    assert json.loads(summary[len("summary: ") :])["marker"] is None


def test_the_server_stays_single_threaded_so_forking_is_safe(warm):
    if not Path("/proc/self/task").is_dir():
        pytest.skip("thread count needs /proc")
    log = warm.log_path.read_text()
    assert "1 thread(s)" in log, log


def test_a_bad_request_gets_a_message_and_exit_2(warm):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(warm.address)
        conn.sendall(b'{"argv": [], "cwd": "/", "env": {}}\n')
        answer = conn.makefile().read()
    assert "bad request: argv" in answer and answer.endswith(f"{EXIT_MARKER} 2\n")


def test_a_client_that_goes_away_takes_its_job_with_it(warm, script, tmp_path):
    pid_file = tmp_path / "pid"
    request = {"argv": [str(script), "sleep", str(pid_file)], "cwd": str(tmp_path)}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(warm.address)
        conn.sendall(json.dumps({**request, "env": dict(os.environ)}).encode() + b"\n")
        deadline = time.monotonic() + 20
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(pid):
        assert time.monotonic() < deadline, "the job outlived its client"
        time.sleep(0.05)
    # and the server serves the next job
    assert _run(warm.address, [str(script), "exit", "0"])[1] == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_without_a_warm_python_the_job_is_a_new_process(script):
    items = list(job_output([sys.executable, str(script), "exit", "4"]))
    assert items == [4]
    items = list(job_output([sys.executable, str(script)]))
    assert items[-1] == 0
    assert any(str(i).startswith("summary: ") for i in items[:-1])


def test_nothing_listening_is_an_oserror(tmp_path):
    with pytest.raises(OSError):
        list(run_script(str(tmp_path / "no-socket"), ["x.py"]))
