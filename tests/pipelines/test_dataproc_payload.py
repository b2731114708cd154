"""Every Dataproc task of the published vertex templates, as GCPC's launcher will send it.

For each Dataproc task this test does what Vertex AI and GCPC's launcher do at run time. It
resolves the task's inputs from the pipeline parameters (the environment's published defaults
plus a schedule's values) and from prepare-run's real outputs (the component's own Python
function is run). It then expands the launcher's `--payload` Concat placeholder and passes the
result through GCPC's own `insert_system_labels_into_payload` and `recursive_remove_empty`.
The batch request must then parse strictly into `google.cloud.dataproc_v1.Batch`, and it must
meet the Dataproc API's rules for labels, args and ids.

Vertex substitutes a placeholder that is a whole value with the parameter's own type, and a
placeholder inside a string as text. Both renderings of numbers are tried ("42" and "42.0"), and
so is a typed whole-value substitution, so a bare number slipped into `args` fails here first.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.cloud import dataproc_v1
from google.protobuf import json_format
from google_cloud_pipeline_components.container.v1.dataproc.utils import dataproc_util
from google_cloud_pipeline_components.container.v1.gcp_launcher.utils import json_util
from kfp import dsl

from components.run_layout import prepare_run
from contract.naming import job_id
from tooling import publishing

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{\{\$\.inputs\.parameters\['([^']+)'\]\}\}")
# Dataproc: label keys [a-z][a-z0-9_-]{0,62}, values [a-z0-9_-]{0,63}, at most 32 labels.
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
# Dataproc batch ids: 4-63 characters of [a-z0-9-], starting and ending with a letter or digit.
BATCH_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,61}[a-z0-9]$")
IMAGE = "europe-west4-docker.pkg.dev/acme-churn-prod/churn/components@sha256:" + "cd" * 32
SCHEDULE_VALUES = {
    "churn-training": {"raw_data_path": "raw/2026-11-30/customers.csv", "gate_threshold": 0.6},
    "churn-scoring": {"customers_path": "customers/latest.csv"},
}
LONG_SCHEDULE = "churn-training-weekly-for-the-benelux-enterprise-segment-with-a-long-name"


def published(name: str) -> dict:
    deployment = publishing.load_deployment("prod", ROOT / "schedules/environments")
    text = (ROOT / "build/vertex" / f"{name}.yaml").read_text()
    code_uri = f"{deployment.template_base}/v1/spark"
    return yaml.safe_load(publishing.for_environment(text, code_uri, deployment, IMAGE))


def pipeline_values(spec: dict, name: str) -> dict[str, Any]:
    declared = spec["root"]["inputDefinitions"]["parameters"]
    values = {k: d["defaultValue"] for k, d in declared.items() if "defaultValue" in d}
    values.update(SCHEDULE_VALUES[name])
    for key, decl in declared.items():  # the IR stores integers as doubles
        if decl["parameterType"] == "NUMBER_INTEGER":
            values[key] = int(values[key])
    return values


def prepare_run_outputs(values: dict[str, Any], job_name: str) -> dict[str, Any]:
    workspace = dsl.Artifact(uri=f"gs://acme-churn-prod-pipelines/runs/1234/{job_name}/ws")
    result = prepare_run.python_func(
        pipeline_job=job_name,
        environment=values["environment"],
        spark_code_uri=values["spark_code_uri"],
        data_uri=values["data_uri"],
        data_path=values.get("raw_data_path") or values["customers_path"],
        workspace=workspace,
        raw_data=dsl.Dataset(uri="unset"),
        results_base_uri=values.get("predictions_uri", ""),
    )
    return result._asdict()


def is_dataproc_batch(spec: dict, component: dict) -> bool:
    executor = spec["deploymentSpec"]["executors"].get(component.get("executorLabel"), {})
    return "create_pyspark_batch.launcher" in " ".join(
        executor.get("container", {}).get("command", [])
    )


def dataproc_tasks(
    spec: dict, values: dict[str, Any], prepared: dict[str, Any], mode: str
) -> list[tuple[str, dict, dict[str, Any]]]:
    """Each Dataproc task (display name, task, its resolved inputs), from every DAG.

    Resolved DAG by DAG as Vertex does: a task's inputs come from the inputs of its own DAG
    (the pipeline's parameters at the root; the task's inputs for a condition or sub-pipeline
    DAG it runs) or from a task of the same DAG; `prepared` are prepare-run's outputs.
    """
    found: list[tuple[str, dict, dict[str, Any]]] = []

    def walk(dag: dict, scope: dict[str, Any]) -> None:
        for task in dag["tasks"].values():
            component = spec["components"][task["componentRef"]["name"]]
            if "dag" in component:
                declared = component.get("inputDefinitions", {}).get("parameters", {})
                defaults = {
                    k: d["defaultValue"] for k, d in declared.items() if "defaultValue" in d
                }
                walk(component["dag"], defaults | task_inputs(task, dag, scope, prepared, mode))
            elif is_dataproc_batch(spec, component):
                inputs = task_inputs(task, dag, scope, prepared, mode)
                found.append((task["taskInfo"]["name"], task, inputs))

    walk(spec["root"]["dag"], values)
    return found


def task_output(dag: dict, source: dict, prepared: dict[str, Any]) -> Any:
    """prepare-run's real output; string outputs of other steps get a stand-in URI."""
    producer = dag["tasks"][source["producerTask"]]["taskInfo"]["name"]
    key = source["outputParameterKey"]
    if producer == "prepare-run":
        return prepared[key]
    return f"gs://acme-churn-prod-models/churn/{producer}-{key}"


def render(value: Any, channels: dict[str, Any], mode: str) -> Any:
    """Substitute placeholders as Vertex does: whole values typed, inner ones as text."""
    if isinstance(value, list):
        return [render(v, channels, mode) for v in value]
    if isinstance(value, dict):
        return {k: render(v, channels, mode) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    whole = PLACEHOLDER.fullmatch(value)
    if whole and mode == "typed":
        return channels[whole.group(1)]

    def text(match: re.Match) -> str:
        item = channels[match.group(1)]
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int) and mode == "float-text":
            return f"{float(item)}"
        return item if isinstance(item, str) else json.dumps(item)

    return PLACEHOLDER.sub(text, value)


def task_inputs(
    task: dict, dag: dict, scope: dict[str, Any], prepared: dict[str, Any], mode: str
) -> dict[str, Any]:
    """The task's inputs: from its DAG's inputs (`scope`) or a step of its DAG, then constants
    with placeholders of the task's own inputs substituted."""
    resolved = {}
    constants = {}
    for key, source in task["inputs"]["parameters"].items():
        if "runtimeValue" in source:
            constants[key] = source["runtimeValue"]["constant"]
        elif "componentInputParameter" in source:
            resolved[key] = scope[source["componentInputParameter"]]
        else:
            resolved[key] = task_output(dag, source["taskOutputParameter"], prepared)
    return resolved | {key: render(value, resolved, mode) for key, value in constants.items()}


def batch_request(spec: dict, task: dict, inputs: dict[str, Any]) -> tuple[dict, list[str]]:
    component = spec["components"][task["componentRef"]["name"]]
    declared = component["inputDefinitions"]["parameters"]
    values = {k: d["defaultValue"] for k, d in declared.items() if "defaultValue" in d}
    values.update(inputs)
    executor = spec["deploymentSpec"]["executors"][component["executorLabel"]]
    args = executor["container"]["args"]
    concat = json.loads(args[args.index("--payload") + 1])["Concat"]
    pieces = []
    for piece in concat:
        whole = PLACEHOLDER.fullmatch(piece)
        if whole:
            item = values[whole.group(1)]
            pieces.append(item if isinstance(item, str) else json.dumps(item))
        else:
            pieces.append(piece)
    payload = dataproc_util.insert_system_labels_into_payload("".join(pieces))
    request = json_util.recursive_remove_empty(json.loads(payload, strict=False))
    return request, args


@pytest.mark.parametrize("mode", ["text", "float-text", "typed"])
@pytest.mark.parametrize("name", ["churn-training", "churn-scoring"])
def test_every_dataproc_batch_parses_strictly_and_meets_the_api_rules(name, mode, monkeypatch):
    # what the Vertex backend gives GCPC's launcher (billing labels of the run)
    monkeypatch.setenv(
        "VERTEX_AI_PIPELINES_RUN_LABELS",
        json.dumps({"vertex-ai-pipelines-run-billing-id": "1234567890123456789"}),
    )
    spec = published(name)
    values = pipeline_values(spec, name)
    job_name = job_id("prod", LONG_SCHEDULE, datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    outputs = prepare_run_outputs(values, job_name)

    tasks = dataproc_tasks(spec, values, outputs, mode)
    assert sorted(t for t, _, _ in tasks) == (
        ["evaluate_champion", "preprocess", "train", "tune"]
        if name == "churn-training"
        else ["score"]
    )
    for step, task, inputs in tasks:
        assert task.get("cachingOptions", {}).get("enableCache") is not True, step
        request, launcher_args = batch_request(spec, task, inputs)
        batch = dataproc_v1.Batch()
        json_format.ParseDict(request, dataproc_v1.Batch.pb(batch))  # strict: no unknown fields

        pyspark = batch.pyspark_batch
        assert pyspark.main_python_file_uri == f"{values['spark_code_uri']}/{step}.py"
        assert list(pyspark.python_file_uris) == [f"{values['spark_code_uri']}/churn.zip"]
        assert all(isinstance(a, str) and a.startswith("--") for a in pyspark.args), step
        assert any(a.startswith("--output=gs://acme-churn-prod-") for a in pyspark.args)
        if step == "train":
            assert "--seed=42" in pyspark.args or "--seed=42.0" in pyspark.args
        labels = dict(batch.labels)
        assert len(labels) <= 32
        for key, value in labels.items():
            assert LABEL_KEY.match(key) and LABEL_VALUE.match(value), (key, value)
        assert labels["environment"] == "prod"
        assert labels["kfp-pipeline-job"] == outputs["job_label"]
        execution = batch.environment_config.execution_config
        assert (
            execution.service_account == "churn-pipelines@acme-churn-prod.iam.gserviceaccount.com"
        )
        assert execution.subnetwork_uri.endswith("/regions/europe-west4/subnetworks/churn-dataproc")
        assert batch.runtime_config.version == "3.0"

        # the id GCPC's launcher makes when batch_id is empty (dataproc_util.create_batch)
        assert launcher_args[launcher_args.index("--batch_id") + 1] == (
            "{{$.inputs.parameters['batch_id']}}"
        )
        assert task["inputs"]["parameters"]["batch_id"]["runtimeValue"]["constant"] == ""
        generated = "-".join(["dataprocpysparkbatch", "20261130020000", "0123abcd"])
        assert BATCH_ID.match(generated)


def test_a_long_job_name_gives_a_distinct_label_within_63_characters():
    fire = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    spec = published("churn-training")
    values = pipeline_values(spec, "churn-training")
    labels = {
        prepare_run_outputs(values, job_id("prod", LONG_SCHEDULE + suffix, fire))["job_label"]
        for suffix in ("", "-a", "-b")
    }
    assert len(labels) == 3
    assert all(len(label) <= 63 and LABEL_VALUE.match(label) for label in labels)


def test_a_schedule_path_cannot_leave_the_environments_data_location():
    spec = published("churn-training")
    values = pipeline_values(spec, "churn-training")
    for bad in ("../prod-data/raw.csv", "gs://attacker/raw.csv", "/etc/passwd", "raw//x.csv"):
        with pytest.raises(ValueError, match="path"):
            prepare_run_outputs({**values, "raw_data_path": bad}, "job-1")
