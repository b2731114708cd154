"""The compiled templates (build/) wire the registry: typed artifacts, parameters, outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def template(target: str, name: str) -> dict:
    return yaml.safe_load((ROOT / "build" / target / f"{name}.yaml").read_text())


def artifact_types(tpl: dict, component: str) -> dict[str, str]:
    outputs = tpl["components"][component].get("outputDefinitions", {}).get("artifacts", {})
    return {name: spec["artifactType"]["schemaTitle"] for name, spec in outputs.items()}


def images(tpl: dict) -> set[str]:
    return {
        e["container"]["image"]
        for name, e in tpl["deploymentSpec"]["executors"].items()
        if "register" in name or "promote" in name or "resolve" in name
    }


@pytest.mark.parametrize("target", ["vertex", "local"])
def test_training_declares_model_and_metrics_artifacts_and_the_margin(target):
    tpl = template(target, "churn-training")
    assert artifact_types(tpl, "comp-register-model") == {"model": "system.Model"}
    assert artifact_types(tpl, "comp-promote-if-better") == {"comparison": "system.Metrics"}
    params = tpl["root"]["inputDefinitions"]["parameters"]
    assert params["promotion_margin"]["defaultValue"] == 0.0
    assert "promote_to_uri" not in params
    # the run's results are the last step's outputs (no pipeline outputs inside an exit handler)
    outputs = set(tpl["components"]["comp-training-summary"]["outputDefinitions"]["parameters"])
    assert {
        "model_version",
        "promoted",
        "decision",
        "challenger_value",
        "champion_value",
        "champion_version",
    } <= outputs
    assert "comp-promote-model" not in tpl["components"]  # no more folder renames over FUSE


def test_the_champion_is_scored_by_the_published_spark_job_on_vertex():
    text = (ROOT / "build/vertex/churn-training.yaml").read_text()
    assert "/evaluate_champion.py" in text
    assert (ROOT / "spark/evaluate_champion.py").is_file()


@pytest.mark.parametrize("target", ["vertex", "local"])
def test_scoring_resolves_its_model_once_and_reports_the_version(target):
    tpl = template(target, "churn-scoring")
    params = tpl["root"]["inputDefinitions"]["parameters"]
    assert params["model"]["defaultValue"] == "churn@champion"
    assert "model_uri" not in params and "model_name" not in params
    assert artifact_types(tpl, "comp-resolve-model") == {"scoring_model": "system.Model"}
    summary = tpl["components"]["comp-scoring-summary"]["outputDefinitions"]["parameters"]
    assert {"model_version", "model_uri"} <= set(summary)
    executors = tpl["deploymentSpec"]["executors"]
    assert sum("resolve-model" in name for name in executors) == 1


def test_registry_steps_run_in_the_components_image_without_installs():
    for name in ("churn-training", "churn-scoring"):
        tpl = template("vertex", name)
        assert images(tpl) == {"churn-components:unpublished"}
        for name, executor in tpl["deploymentSpec"]["executors"].items():
            command = " ".join(executor.get("container", {}).get("command", []))
            assert "pip install" not in command, name
