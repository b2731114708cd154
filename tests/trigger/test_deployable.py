"""trigger/ works as a folder on its own: pinned requirements, no repository imports, no SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib

import trigger_harness as h

PROBE = """
import json, sys
import main, gcp_clients, contract
gcp_clients.import_pipeline_service()
print(json.dumps({"modules": sorted(sys.modules), "contract": contract.__file__}))
"""


def test_requirements_are_pinned_to_the_lock_file():
    lock = tomllib.loads((h.REPO / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}
    lines = (h.TRIGGER_DIR / "requirements.txt").read_text().splitlines()
    pins = dict(
        line.split("==") for line in (ln.strip() for ln in lines) if line and line[0] != "#"
    )

    assert {"functions-framework", "google-cloud-aiplatform", "google-cloud-storage"} <= set(pins)
    assert {name: locked.get(name) for name in pins} == pins


def test_the_folder_imports_nothing_from_the_repository_and_not_the_sdk():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=h.TRIGGER_DIR,
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
    # the shared rules come from the folder's own copy (tests/contract checks it is current)
    assert probe["contract"] == str(h.TRIGGER_DIR / "contract" / "__init__.py")
    assert "google.cloud.aiplatform" not in modules
    # only the PipelineService of aiplatform_v1, not the whole API surface
    assert "google.cloud.aiplatform_v1.services.pipeline_service.client" in modules
    assert "google.cloud.aiplatform_v1.services.endpoint_service" not in modules
