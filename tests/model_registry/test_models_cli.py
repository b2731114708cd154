"""models.py as people run it (a subprocess), on a local folder and on gs:// (GCS emulator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def models(backend, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "models.py", *args, "--registry", backend.root],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.fixture
def three(backend) -> list[str]:
    registry = backend.registry()
    out = []
    for i, auc in enumerate((0.61, 0.64, 0.66)):
        info = registry.register(
            "churn",
            backend.trained(f"job-{i}", auc),
            pipeline_job=f"job-{i}",
            now=T0 + timedelta(days=7 * i),
        )
        out.append(info.version)
    return out


def test_list_shows_versions_metrics_and_aliases(backend, three):
    backend.registry().promote("churn", three[1])
    done = models(backend, "list", "--json")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [v["version"] for v in listed["versions"]] == three
    assert listed["versions"][1]["aliases"] == ["champion"]
    assert listed["versions"][2]["metrics"]["auc_pr"] == 0.66
    text = models(backend, "list")
    assert text.returncode == 0 and f"{three[1]}" in text.stdout and "[champion]" in text.stdout


def test_promote_show_and_rollback(backend, three):
    for version in three:
        assert models(backend, "promote", version).returncode == 0
    shown = models(backend, "show", "churn@champion", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["version"] == three[2]
    back = models(backend, "rollback", "--reason", "bad predictions")
    assert back.returncode == 0, back.stderr
    assert f"rolled back to {three[1]}" in back.stdout
    assert backend.registry().resolve("churn@champion").version == three[1]
    history = json.loads(models(backend, "history", "--json").stdout)
    assert [m["version"] for m in history] == [*three, three[1]]
    assert history[-1]["reason"] == "bad predictions"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["promote", "v20990101t000000z-00000000"], "no such version"),
        (["promote", "latest"], "is not a version id"),
        (["show", "churn@staging"], "alias 'staging' is not set"),
        (["rollback"], "not set: nothing to roll back"),
        (["list", "--model", "Bad Name"], "is not a model name"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(backend, three, args, message):
    before = backend.names()
    done = models(backend, *args)
    assert done.returncode == 2
    assert message in done.stderr and done.stdout == ""
    assert backend.names() == before


def test_a_malformed_pointer_is_reported_with_its_location(backend, three):
    backend.put("churn/aliases/champion.json", b'{"model": "churn"')
    done = models(backend, "show", "churn@champion")
    assert done.returncode == 2
    assert "churn/aliases/champion.json: not valid JSON" in done.stderr


def test_without_registry_the_local_default_is_used(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import model_registry as m; print(m.default_local_registry())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == (ROOT / "runs" / "models").as_uri()
