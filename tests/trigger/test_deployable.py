"""trigger/ works as a folder on its own once the deploy command has vendored the contract into it:
pinned requirements, no repository imports, no SDK, and every place that shows the deploy
command vendors first."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib

from infra.envfile import load
from infra.todo import left_to_do
from tests.trigger import trigger_harness as h

PROBE = """
import json, sys
import main, gcp_clients, contract
gcp_clients.import_pipeline_service()
print(json.dumps({"modules": sorted(sys.modules), "contract": contract.__file__}))
"""
VENDOR = "python -m contract.vendor trigger/"
#: Where the repository shows or runs the trigger's deploy command.
DEPLOY_TEXTS = (
    "README.md",
    "trigger/README.md",
    "infra/README.md",
    "ci/README.md",
    ".github/workflows/deploy.yml",
    ".github/workflows/pull-request.yml",
    "cloudbuild/deploy.yaml",
    "cloudbuild/pull-request.yaml",
    "cloudbuild/plan-comment.yaml",
)


def test_requirements_are_pinned_to_the_lock_file():
    lock = tomllib.loads((h.REPO / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}
    lines = (h.TRIGGER_DIR / "requirements.txt").read_text().splitlines()
    pins = dict(
        line.split("==") for line in (ln.strip() for ln in lines) if line and line[0] != "#"
    )

    assert {"functions-framework", "google-cloud-aiplatform", "google-cloud-storage"} <= set(pins)
    assert {name: locked.get(name) for name in pins} == pins


def test_the_vendored_folder_imports_nothing_from_the_repository_and_not_the_sdk():
    folder = h.deployed_folder()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # the last line: main logs its misconfiguration (no settings here) before it
    probe = json.loads(done.stdout.splitlines()[-1])
    modules = set(probe["modules"])

    repository = {"fakes", "tests", "scheduling", "tooling", "pipelines", "components", "trigger"}
    assert not {m.split(".")[0] for m in modules} & repository
    # the shared rules come from the copy the vendoring wrote into the folder
    assert probe["contract"] == str(folder / "contract" / "__init__.py")
    assert "google.cloud.aiplatform" not in modules
    # only the PipelineService of aiplatform_v1, not the whole API surface
    assert "google.cloud.aiplatform_v1.services.pipeline_service.client" in modules
    assert "google.cloud.aiplatform_v1.services.endpoint_service" not in modules


def test_the_repository_holds_no_copy_of_the_contract():
    tracked = subprocess.run(
        ["git", "ls-files", "trigger/contract"],
        cwd=h.REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert tracked == ""
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "trigger/contract/naming.py"],
        cwd=h.REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ignored.returncode == 0, "trigger/contract/ must be ignored by git"


def test_the_upload_keeps_the_vendored_contract():
    # gcloud uploads what the folder's .gcloudignore does not name (gcloud topic gcloudignore);
    # without one it would make its own, so the folder carries one that leaves contract/ in.
    rules = [
        line.strip()
        for line in (h.TRIGGER_DIR / ".gcloudignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not [rule for rule in rules if "contract" in rule or rule in ("*", "/*", "**")]
    assert not [rule for rule in rules if rule.startswith("#!include")]
    assert not (h.TRIGGER_DIR / ".gitignore").exists()


def _deploy_commands(text: str) -> list[str]:
    """Each shell command line (continuations joined) that runs `gcloud functions deploy`."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines() if "gcloud functions deploy" in line]


def test_every_deploy_command_the_repository_shows_vendors_the_contract_first():
    found = {}
    for name in DEPLOY_TEXTS:
        for line in _deploy_commands((h.REPO / name).read_text(encoding="utf-8")):
            found.setdefault(name, []).append(line)
    todo = left_to_do(load(h.REPO / "schedules" / "environments", "dev"), trigger_deployed=False)
    found["infra/todo.py"] = _deploy_commands("\n".join(todo))
    # The READMEs show it and the setup prints it; neither CI flow deploys the trigger (it is
    # deployed by hand, with the command the setup prints).
    assert {"README.md", "trigger/README.md"} <= set(found) and found["infra/todo.py"]
    for name, lines in found.items():
        for line in lines:
            before = line.split("gcloud functions deploy", 1)[0]
            assert VENDOR + " && " in before, f"{name}: {line}"


def test_the_vendoring_of_the_deploy_command_makes_a_deployable_folder(tmp_path):
    # A fresh checkout has contract/ and trigger/ but no trigger/contract/: the first half of
    # the deploy command, run as printed from the checkout's root, makes the folder the second
    # half uploads.
    for folder in ("contract", "trigger"):
        (tmp_path / folder).mkdir()
        for path in (h.REPO / folder).glob("*.py"):
            (tmp_path / folder / path.name).write_bytes(path.read_bytes())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    argv = shlex.split(VENDOR)
    assert argv[:3] == ["python", "-m", "contract.vendor"]
    done = subprocess.run(
        [sys.executable, *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    probe = subprocess.run(
        [sys.executable, "-c", "import main, contract; print(contract.__file__)"],
        cwd=tmp_path / "trigger",
        env=env,
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines()[-1] == str(tmp_path / "trigger" / "contract" / "__init__.py")
