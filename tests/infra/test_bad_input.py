"""A bad environment file fails before any command; a refused look stops the setup."""

from __future__ import annotations

import shutil
import textwrap

from tests.infra.conftest import ENVIRONMENTS

GOOD = (ENVIRONMENTS / "dev.yaml").read_text()


def _envs(tmp_path, **files: str):
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(textwrap.dedent(text))
    return tmp_path


def test_bad_fields_are_named_with_file_and_line_and_nothing_runs(cloud, tmp_path):
    text = GOOD.replace("project: acme-churn-dev", "project: Acme_Churn")
    text = text.replace(
        "trigger: churn-trigger@acme-churn-dev.iam", "trigger: churn-trigger@acme-churn-prod.iam"
    )
    text = text.replace("  subnetwork: churn-dataproc", "  subnetwork: churn-dataproc\n  zone: x")
    envs = _envs(tmp_path, dev=text)
    code, out, err = cloud.bootstrap("--env", "dev", environments=envs)
    assert code == 2
    assert cloud.log() == [], "no gcloud command may run for a bad environment file"
    assert out == ""
    lines = text.splitlines()
    path = envs / "dev.yaml"
    project_line = lines.index("project: Acme_Churn") + 1
    assert f"{path}:{project_line}: project: 'Acme_Churn' is not a Google Cloud project id" in err
    zone_line = lines.index("  zone: x") + 1
    assert f"{path}:{zone_line}: dataproc.zone: unknown key 'zone'" in err
    assert "service_accounts.trigger" in err
    assert "Nothing was run." in err


def test_an_account_of_another_project_is_refused(cloud, tmp_path):
    text = GOOD.replace(
        "pipelines: churn-pipelines@acme-churn-dev", "pipelines: churn-pipelines@acme-churn-prod"
    )
    envs = _envs(tmp_path, dev=text)
    code, _, err = cloud.bootstrap("--env", "dev", environments=envs)
    assert code == 2
    line = text.splitlines().index(
        "  pipelines: churn-pipelines@acme-churn-prod.iam.gserviceaccount.com"
    )
    assert f"dev.yaml:{line + 1}: service_accounts.pipelines:" in err
    assert "belongs to project 'acme-churn-prod'" in err
    assert cloud.log() == []


def test_a_bucket_shared_with_another_environment_is_refused(cloud, tmp_path):
    shutil.copy(ENVIRONMENTS / "prod.yaml", tmp_path / "prod.yaml")
    text = GOOD.replace("models: gs://acme-churn-dev-models", "models: gs://acme-churn-prod-models")
    envs = _envs(tmp_path, dev=text)
    code, _, err = cloud.bootstrap("--env", "dev", environments=envs)
    assert code == 2
    line = text.splitlines().index("  models: gs://acme-churn-prod-models") + 1
    assert f"dev.yaml:{line}: locations.models: bucket 'acme-churn-prod-models'" in err
    assert "environment 'prod'" in err
    assert cloud.log() == []


def test_missing_sections_invalid_yaml_and_unknown_environment(cloud, tmp_path):
    envs = _envs(tmp_path, broken="project: [unclosed\n", empty="project: acme-churn-dev\n")
    code, _, err = cloud.bootstrap("--env", "broken", environments=envs)
    assert code == 2 and "broken.yaml:2: invalid YAML" in err
    code, _, err = cloud.bootstrap("--env", "empty", environments=envs)
    assert code == 2
    for field in ("region", "template_base", "pipeline_root", "service_accounts", "locations"):
        assert f"empty.yaml:1: {field}:" in err, field
    code, _, err = cloud.bootstrap("--env", "nope", environments=envs)
    assert code == 2 and "nope.yaml: no such environment file (known: broken, empty)" in err
    assert cloud.log() == []


def test_a_forbidden_look_stops_instead_of_creating(cloud):
    # Someone else's project owns the models bucket name: describe answers 403, not 404.
    cloud.edit(
        lambda s: s["buckets"].update(
            {
                "acme-churn-dev-models": {
                    "project": "someone-else",
                    "location": "US",
                    "uniform_bucket_level_access": False,
                    "public_access_prevention": "inherited",
                    "policy": {"bindings": []},
                }
            }
        )
    )
    code, out, err = cloud.bootstrap("--env", "dev")
    assert code == 1
    assert "created  service account churn-pipelines@" in out, "steps before it did run"
    assert "gcloud storage buckets describe gs://acme-churn-dev-models --format=json" in err
    assert "HTTPError 403" in err
    assert not any(
        argv[:3] == ["storage", "buckets", "create"] and argv[3] == "gs://acme-churn-dev-models"
        for argv in cloud.changes()
    )
    assert "run again after fixing it" in err


def test_missing_gcloud_is_reported(cloud, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    code, _, err = cloud.bootstrap("--env", "dev")
    assert code == 1 and "bq and gcloud not on PATH" in err
