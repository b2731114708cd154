"""Fake `gcloud` and `bq` on PATH, their state in a temp folder; helpers to run the setup."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from fakes.gcloud import COMMANDS, new_project
from infra.cli import main

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENTS = REPO / "schedules" / "environments"
FAKE = REPO / "fakes" / "gcloud.py"
FAKE_BQ = REPO / "fakes" / "bq_cli.py"
#: The fake projects and their numbers (the shipped trigger_urls use them).
PROJECT_NUMBERS = {
    "acme-churn-dev": "123456789012",
    "acme-churn-prod": "210987654321",
    "acme-churn-test": "333333333333",
    "acme-churn-other": "444444444444",
}
#: Commands that only read (the fake's table says which); bq's only look is `show`.
LOOKS = {path for path, (_, reads, _) in COMMANDS.items() if reads}


class Cloud:
    """The fake cloud: its state, the log of gcloud calls, and a way to run the setup."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def state(self) -> dict[str, Any]:
        return json.loads((self.root / "state.json").read_text())

    def write_state(self, state: dict[str, Any]) -> None:
        (self.root / "state.json").write_text(json.dumps(state))

    def edit(self, change) -> None:
        """Apply `change(state)` to the stored state (what a person did in the console)."""
        state = self.state
        change(state)
        self.write_state(state)

    def log(self) -> list[dict[str, Any]]:
        path = self.root / "log.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def clear_log(self) -> None:
        (self.root / "log.jsonl").unlink(missing_ok=True)

    def changes(self) -> list[list[str]]:
        """Calls that were not looks (create, add, update, enable): a gcloud call as its
        arguments, a bq call as its arguments after "bq"."""
        return [command(e) for e in self.log() if not is_look(e["argv"], program(e))]

    def deploy_trigger(
        self,
        project: str,
        region: str,
        env: dict[str, str],
        service_account: str = "",
        name: str = "churn-trigger",
        custom_audiences: tuple[str, ...] = (),
    ) -> None:
        """What deploying the trigger by hand leaves: a 2nd gen function (its variables and
        identity; no account = the default compute account) and the Cloud Run service behind it
        (with the custom audiences someone added to it)."""

        def deploy(state: dict[str, Any]) -> None:
            found = state["projects"][project]
            found["functions"][f"{region}/{name}"] = {
                "env": dict(env),
                "service_account": service_account,
            }
            service = found["run_services"].setdefault(
                f"{region}/{name}", {"policy": {"bindings": []}}
            )
            service["custom_audiences"] = list(custom_audiences)

        self.edit(deploy)

    def bootstrap(self, *argv: str, environments: Path = ENVIRONMENTS) -> tuple[int, str, str]:
        """Run infra/bootstrap.py's main in-process; (exit code, stdout, stderr)."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*argv, "--environments-dir", str(environments)])
        return code, out.getvalue(), err.getvalue()


def program(entry: dict[str, Any]) -> str:
    """Which CLI a logged call ran."""
    return entry.get("program", "gcloud")


def command(entry: dict[str, Any]) -> list[str]:
    """A logged call as `changes()` lists it (bq calls start with "bq")."""
    return ["bq", *entry["argv"]] if program(entry) == "bq" else entry["argv"]


def is_look(argv: list[str], tool: str = "gcloud") -> bool:
    """Whether a logged call only reads."""
    if tool == "bq":
        return "show" in argv
    return any(tuple(argv[: len(path)]) == path for path in LOOKS)


def start_cloud(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Cloud:
    """Fresh projects for every repository environment in `folder`; `gcloud` and `bq` on PATH
    are the fakes (for as long as `monkeypatch` holds)."""
    root = folder / "cloud"
    root.mkdir()
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "gcloud"
    # -S: the fakes need only the standard library; skipping site makes each call faster.
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "{FAKE}" "$@"\n')
    wrapper.chmod(0o755)
    bq_wrapper = bin_dir / "bq"
    bq_wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "{FAKE_BQ}" "$@"\n')
    bq_wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_GCLOUD_STATE", str(root))
    state = {"projects": {p: new_project(n) for p, n in PROJECT_NUMBERS.items()}, "buckets": {}}
    fake = Cloud(root)
    fake.write_state(state)
    assert shutil.which("gcloud") == str(wrapper)
    assert shutil.which("bq") == str(bq_wrapper)
    return fake


@pytest.fixture
def cloud(tmp_path, monkeypatch) -> Cloud:
    """Fresh projects for every repository environment; `gcloud` on PATH is the fake."""
    return start_cloud(tmp_path, monkeypatch)
