"""Shared pieces of the trigger tests and the benchmark: publish templates, serve the function.

The function is served as it is deployed: from a copy of `trigger/` into which `contract.vendor`
wrote the contract modules, the step the deploy command runs before `gcloud functions deploy`
(`trigger/contract/` is not in the repository).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import requests
import yaml

from contract import vendor
from fakes.scheduler import oidc_token

REPO = Path(__file__).resolve().parents[2]
TRIGGER_DIR = REPO / "trigger"
PROJECT = "test-project"
REGION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{REGION}"
BUCKET = "acme-templates"
BASE = f"gs://{BUCKET}/pipelines"
PIPELINE = "churn-training"
ENV = "test"
PIPELINE_ROOT = "gs://acme-runs/pipeline-root"
LEASE_ROOT = f"gs://{BUCKET}/trigger-leases"
RUNNER = f"pipelines@{PROJECT}.iam.gserviceaccount.com"
INVOKER = f"scheduler-invoker@{PROJECT}.iam.gserviceaccount.com"
COMPONENTS_IMAGE = f"us-central1-docker.pkg.dev/{PROJECT}/churn/components:test"
#: The environment file `compile.py --publish --env test` publishes with.
ENVIRONMENT = {
    "project": PROJECT,
    "region": REGION,
    "template_base": BASE,
    "pipeline_root": PIPELINE_ROOT,
    "job_prefix": f"{ENV}-",
    "service_accounts": {
        "pipelines": RUNNER,
        "invoker": INVOKER,
        "trigger": f"churn-trigger@{PROJECT}.iam.gserviceaccount.com",
    },
    "locations": {
        "data": "gs://acme-test-data",
        "predictions": "gs://acme-test-results/predictions",
        "models": "gs://acme-test-models",
    },
}


def deployable_copy(destination: Path) -> Path:
    """`destination/trigger`: the function's folder as the deploy uploads it, made the way the
    deploy command makes it (its files, then `contract.vendor.write`, what `python -m
    contract.vendor trigger/` runs); a `trigger/contract/` left in the checkout is not taken."""
    folder = destination / "trigger"
    shutil.copytree(
        TRIGGER_DIR, folder, ignore=shutil.ignore_patterns("contract", "__pycache__", "*.pyc")
    )
    vendor.write(folder)
    return folder


@functools.cache
def deployed_folder() -> Path:
    """One deployable copy of the function for this process (removed when it exits)."""
    scratch = Path(tempfile.mkdtemp(prefix="trigger-deploy-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    return deployable_copy(scratch)


def free_port() -> int:
    """A TCP port on localhost nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def publish_templates(versions: tuple[str, ...], latest: str) -> None:
    """Publish each version for environment ENV with the real `compile.py --publish`, then
    point latest (the templates carry ENV's deployment values as defaults, as in production).

    Compiled into a scratch build folder first: publishing refuses a build/ that lags the code,
    a guard for CI that would make these tests depend on whether build/ is committed yet.
    """
    with tempfile.TemporaryDirectory() as scratch:
        build, environments = Path(scratch) / "build", Path(scratch) / "environments"
        environments.mkdir()
        (environments / f"{ENV}.yaml").write_text(yaml.safe_dump(ENVIRONMENT))
        _compile(["--build-dir", str(build)])
        for version in versions:
            _compile(
                ["--publish", "--env", ENV, "--version", version, "--force",
                 "--components-image", COMPONENTS_IMAGE, "--environments-dir", str(environments),
                 "--build-dir", str(build)]
            )  # fmt: skip
    upload("pipelines/latest.json", json.dumps({"version": latest}).encode())


def _compile(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "compile.py", *args],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"compile.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


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
        ENVIRONMENT=ENV,
        PIPELINE_ROOT=PIPELINE_ROOT,
        PIPELINE_SERVICE_ACCOUNT=RUNNER,
        SCHEDULER_INVOKER=INVOKER,
        LEASE_ROOT=LEASE_ROOT,
        AIPLATFORM_EMULATOR_HOST=vertex_address,
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


@contextlib.contextmanager
def serve_function(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Run the deployable copy of the function under functions-framework on a free port; yields
    its URL."""
    port = free_port()
    ff = Path(sys.executable).with_name("functions-framework")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(ff), "--source", "main.py", "--target", "trigger", "--port", str(port)],
            cwd=deployed_folder(),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        try:
            wait_until_serving(url, proc)
        except RuntimeError as err:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{err}; its output ends with:\n{tail}") from None
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until_serving(url: str, proc: subprocess.Popen, timeout: float = 180.0) -> None:
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


def bearer(email: str) -> str:
    """An Authorization header value carrying an OIDC token for `email` (as the platform
    passes it on after checking the signature)."""
    return f"Bearer {oidc_token(email, 'https://trigger.example', datetime.now(UTC))}"


def verified_bearer(email: str) -> str:
    """A bearer token for `email` as Cloud Run hands on a token it verified: the signature is
    replaced by SIGNATURE_REMOVED_BY_GOOGLE (Cloud Run troubleshooting, "signature-removed")."""
    header, payload, _ = oidc_token(email, "https://trigger.example", datetime.now(UTC)).split(".")
    return f"Bearer {header}.{payload}.SIGNATURE_REMOVED_BY_GOOGLE"


def scheduler_headers(job: str, schedule_time: str, caller: str = INVOKER) -> dict[str, str]:
    """The headers Cloud Scheduler sends with an HTTP target call, signed in as `caller`."""
    return {
        "Content-Type": "application/json",
        "X-CloudScheduler": "true",
        "X-CloudScheduler-JobName": job,
        "X-CloudScheduler-ScheduleTime": schedule_time,
        "Authorization": bearer(caller),
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
