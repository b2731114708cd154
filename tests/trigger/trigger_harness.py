"""Shared pieces of the trigger tests and the benchmark: publish templates, serve the function."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
TRIGGER_DIR = REPO / "trigger"
PROJECT = "test-project"
REGION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{REGION}"
BUCKET = "acme-templates"
BASE = f"gs://{BUCKET}/pipelines"
PIPELINE = "churn-training"


def free_port() -> int:
    """A TCP port on localhost nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def publish_templates(versions: tuple[str, ...], latest: str) -> None:
    """Publish each version under BASE with the real `compile.py --publish`, then point latest."""
    for version in versions:
        done = subprocess.run(
            [sys.executable, "compile.py", "--publish", BASE, "--version", version, "--force"],
            cwd=REPO,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"compile.py --publish failed:\n{done.stdout}\n{done.stderr}")
    upload("pipelines/latest.json", json.dumps({"version": latest}).encode())


def upload(path: str, data: bytes, bucket: str = BUCKET) -> None:
    """Put one object into the emulator."""
    from google.cloud import storage

    storage.Client(project=PROJECT).bucket(bucket).blob(path).upload_from_string(data)


def read_object(path: str, bucket: str = BUCKET) -> bytes:
    """One object's bytes from the emulator."""
    from google.cloud import storage

    return storage.Client(project=PROJECT).bucket(bucket).blob(path).download_as_bytes()


def function_env(vertex_address: str, **overrides: str) -> dict[str, str]:
    """The environment the function process gets (emulators + configuration)."""
    env = dict(os.environ)
    env.update(
        PROJECT=PROJECT,
        REGION=REGION,
        TEMPLATE_BASE=BASE,
        PIPELINE_ROOT="gs://acme-runs/pipeline-root",
        PIPELINE_SERVICE_ACCOUNT=f"pipelines@{PROJECT}.iam.gserviceaccount.com",
        AIPLATFORM_EMULATOR_HOST=vertex_address,
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


@contextlib.contextmanager
def serve_function(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Run the function under functions-framework on a free port; yields its URL."""
    port = free_port()
    ff = Path(sys.executable).with_name("functions-framework")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(ff), "--source", "main.py", "--target", "trigger", "--port", str(port)],
            cwd=TRIGGER_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until_serving(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Block until `url` answers anything at all (raises if the process dies first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"function process exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"function did not start serving {url} within {timeout} s")


def scheduler_headers(job: str, schedule_time: str) -> dict[str, str]:
    """The headers Cloud Scheduler sends with an HTTP target call."""
    return {
        "Content-Type": "application/json",
        "X-CloudScheduler": "true",
        "X-CloudScheduler-JobName": job,
        "X-CloudScheduler-ScheduleTime": schedule_time,
        "Authorization": "Bearer header.payload.signature",
        "User-Agent": "Google-Cloud-Scheduler",
    }


def log_lines(log_path: Path) -> list[dict]:
    """The structured JSON lines the function has written so far."""
    out = []
    for line in log_path.read_text().splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
    return out
