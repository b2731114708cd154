"""Fake `gcloud` and `bq` on PATH, their state in a temp folder; helpers to run the setup.

Each run of the setup makes about seventy `gcloud` processes, so the runs tests only read (a
first run on fresh projects, the run after it, per environment file) are made once per session
(`runs`); a test that changes the cloud afterwards starts its own from the state such a run left
(`set_up`). The fake is deterministic, so that state is the one the test would have made.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fakes.gcloud import COMMANDS, new_project
from infra.apply import Report, run
from infra.cli import main
from infra.envfile import load
from infra.gcloud import Runner
from infra.plan import steps_for

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
        return changes(self.log())

    def start_from(self, run: Run) -> Cloud:
        """This cloud as `run` left it, with an empty log."""
        self.write_state(run.state)
        self.clear_log()
        return self

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


@dataclass(frozen=True)
class Run:
    """A finished run of the setup: exit code, what it printed, its calls, the state it left
    (kept as JSON: every reader gets a copy of its own)."""

    code: int
    out: str
    err: str
    calls: str
    left: str

    @property
    def log(self) -> list[dict[str, Any]]:
        return json.loads(self.calls)

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.left)

    def changes(self) -> list[list[str]]:
        """The run's calls that were not looks (as `Cloud.changes`)."""
        return changes(self.log)


def run_on(cloud: Cloud, *argv: str, environments: Path = ENVIRONMENTS) -> Run:
    """Run the setup on `cloud` from an empty log; what it did."""
    cloud.clear_log()
    code, out, err = cloud.bootstrap(*argv, environments=environments)
    return Run(code, out, err, json.dumps(cloud.log()), json.dumps(cloud.state))


class Runs:
    """Runs of the setup made once per session, by environment and the files of its folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: dict[tuple[str, ...], Run] = {}

    def first(self, env: str = "dev", environments: Path = ENVIRONMENTS) -> Run:
        """The first run of `env` on fresh projects."""
        return self._made(("first", env, *_texts(environments)), None, env, environments)

    def second(self, env: str = "dev", environments: Path = ENVIRONMENTS) -> Run:
        """The run right after `first(env, environments)`."""
        first = self.first(env, environments)
        return self._made(("second", env, *_texts(environments)), first, env, environments)

    def _made(self, key: tuple[str, ...], after: Run | None, env: str, environments: Path) -> Run:
        if key not in self.made:
            folder = self.folder / str(len(self.made))
            folder.mkdir()
            with pytest.MonkeyPatch.context() as monkeypatch:
                cloud = start_cloud(folder, monkeypatch)
                if after is not None:
                    cloud.start_from(after)
                run = run_on(cloud, "--env", env, environments=environments)
            assert run.code == 0, run.err
            self.made[key] = run
        return self.made[key]


def _texts(environments: Path) -> tuple[str, ...]:
    return tuple(f"{p.name}\n{p.read_text()}" for p in sorted(environments.glob("*.yaml")))


def changes(log: list[dict[str, Any]]) -> list[list[str]]:
    """The calls of `log` that were not looks (see `Cloud.changes`)."""
    return [command(e) for e in log if not is_look(e["argv"], program(e))]


def fake_gcloud(*argv: str) -> subprocess.CompletedProcess[str]:
    """One call of the fake gcloud (on the cloud `FAKE_GCLOUD_STATE` names)."""
    return subprocess.run(
        [sys.executable, "-S", str(FAKE), *argv],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
    )


def run_steps(cloud: Cloud, *titles: str) -> tuple[Report, str]:
    """Run only dev's steps whose title starts with one of `titles` on `cloud`, through the
    setup's runner and the fake CLIs; the report and the lines a run prints for them.

    For a test about those steps on a set-up cloud: that every other step then changes nothing
    is what test_second_run_changes_nothing shows, so running them too would only repeat it.
    """
    assert cloud.root.exists()
    steps = [step for step in steps_for(load(ENVIRONMENTS, "dev")) if step.title.startswith(titles)]
    assert steps, f"no step of dev starts with {titles}"
    lines: list[str] = []
    report = run(steps, Runner(), lines.append)
    return report, "\n".join(lines)


def dry_run_lines(cloud: Cloud, environments: Path = ENVIRONMENTS) -> list[str]:
    """What `--dry-run` of dev prints, once it is checked that it ran nothing."""
    code, out, _ = cloud.bootstrap("--env", "dev", "--dry-run", environments=environments)
    assert code == 0
    assert cloud.log() == []
    return out.splitlines()


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


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> Runs:
    """The runs of the setup that tests only read, each made once (see the module docstring)."""
    return Runs(tmp_path_factory.mktemp("runs"))


@pytest.fixture
def set_up(cloud, runs) -> Cloud:
    """`cloud` as dev's first run on fresh projects left it."""
    return cloud.start_from(runs.first())
