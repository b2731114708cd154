"""The compiled templates: they load, they are valid Vertex AI PipelineJobs, the DAG is right."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from google.cloud import aiplatform_v1
from kfp.components import load_component_from_file

from tooling import compiling
from contract.params import check_parameters, declared_parameters

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
PIPELINES = ("churn-training", "churn-scoring")
SAMPLE_VALUES = {
    "churn-training": {"raw_data_uri": "gs://acme-churn/raw/latest.csv", "gate_threshold": 0.6},
    "churn-scoring": {
        "customers_uri": "gs://acme-churn/raw/new.csv",
        "model_uri": "gs://acme-churn/root/123/churn-training-x/prepare-run/workspace/train",
    },
}


def template(target: str, name: str) -> dict:
    return yaml.safe_load((BUILD / target / f"{name}.yaml").read_text())


def all_tasks(spec: dict) -> dict[str, dict]:
    """Every task in the root DAG and in nested (condition) DAGs, by task key."""
    tasks = dict(spec["root"]["dag"]["tasks"])
    for component in spec["components"].values():
        tasks.update((component.get("dag") or {}).get("tasks") or {})
    return tasks


def executor_image(spec: dict, task: dict) -> str:
    component = spec["components"][task["componentRef"]["name"]]
    executor = spec["deploymentSpec"]["executors"][component["executorLabel"]]
    return executor["container"]["image"]


@pytest.mark.parametrize("target", ["vertex", "local"])
@pytest.mark.parametrize("name", PIPELINES)
def test_template_loads_back_as_a_component(target, name):
    component = load_component_from_file(str(BUILD / target / f"{name}.yaml"))
    assert component.name == name
    assert set(component.component_spec.inputs) == set(declared_parameters(template(target, name)))


@pytest.mark.parametrize("name", PIPELINES)
def test_both_targets_declare_the_same_parameters(name):
    vertex = declared_parameters(template("vertex", name))
    local = declared_parameters(template("local", name))
    assert vertex == local


@pytest.mark.parametrize("name", PIPELINES)
def test_vertex_template_makes_a_valid_pipeline_job_message(name):
    spec = template("vertex", name)
    typed, errors = check_parameters(declared_parameters(spec), SAMPLE_VALUES[name])
    assert errors == []
    job = aiplatform_v1.PipelineJob(
        display_name=name,
        pipeline_spec=spec,
        labels={"schedule": "weekly"},
        runtime_config=aiplatform_v1.PipelineJob.RuntimeConfig(
            gcs_output_directory="gs://acme-churn/root", parameter_values=typed
        ),
        service_account="pipelines@acme.iam.gserviceaccount.com",
    )
    request = aiplatform_v1.CreatePipelineJobRequest(
        parent="projects/acme/locations/europe-west4", pipeline_job=job, pipeline_job_id="x-1"
    )
    wire = aiplatform_v1.CreatePipelineJobRequest.serialize(request)
    back = aiplatform_v1.CreatePipelineJobRequest.deserialize(wire)
    assert back.pipeline_job.pipeline_spec["pipelineInfo"]["name"] == name
    assert dict(back.pipeline_job.runtime_config.parameter_values) == typed


def test_vertex_spark_steps_are_dataproc_batches_with_the_jobs_arguments():
    spec = template("vertex", "churn-training")
    tasks = all_tasks(spec)
    spark = {
        t["taskInfo"]["name"]: t for t in tasks.values() if "batch_id" in t["inputs"]["parameters"]
    }
    assert set(spark) == {"preprocess", "train", "tune"}
    for job, task in spark.items():
        image = executor_image(spec, task)
        assert "google-cloud-pipeline-components" in image
        command = spec["deploymentSpec"]["executors"][
            spec["components"][task["componentRef"]["name"]]["executorLabel"]
        ]["container"]["command"]
        assert (
            "google_cloud_pipeline_components.container.v1.dataproc.create_pyspark_batch.launcher"
            in command
        )
        params = task["inputs"]["parameters"]
        main = params["main_python_file_uri"]["runtimeValue"]["constant"]
        assert main.endswith(f"/{job}.py") and "prepare-run-code_uri" in main
        assert params["python_file_uris"]["runtimeValue"]["constant"][0].endswith("/churn.zip")
        labels = params["labels"]["runtimeValue"]["constant"]
        assert labels["spark-job"] == job and "prepare-run-job_label" in labels["kfp-pipeline-job"]
        assert params["batch_id"]["runtimeValue"]["constant"] == ""  # fresh id per attempt
        assert (
            params["location"]["runtimeValue"]["constant"] == "{{$.pipeline_google_cloud_location}}"
        )
        assert params["runtime_config_version"]["componentInputParameter"].endswith(
            "runtime_version"
        )
        args = params["args"]["runtimeValue"]["constant"]
        assert args[args.index("--output") + 1].endswith(f"/{job}")
        assert "prepare-run-work_uri" in args[args.index("--output") + 1]
    train_args = spark["train"]["inputs"]["parameters"]["args"]["runtimeValue"]["constant"]
    assert "--classifier" in train_args


def test_gate_is_a_real_condition_and_tuning_lives_under_it():
    spec = template("vertex", "churn-training")
    root_tasks = spec["root"]["dag"]["tasks"]
    branches = spec["components"]["comp-condition-branches-1"]["dag"]["tasks"]
    conditions = {name: task["triggerPolicy"]["condition"] for name, task in branches.items()}
    assert any("evaluate-Output" in c or "passed" in c for c in conditions.values())
    assert any(c.startswith("!(") for c in conditions.values())  # the else branch
    assert "tune" not in {t["taskInfo"]["name"] for t in root_tasks.values()}
    gated = next(
        n for n in branches if "passed" in conditions[n] and not conditions[n].startswith("!(")
    )
    gated_tasks = spec["components"][branches[gated]["componentRef"]["name"]]["dag"]["tasks"]
    assert {t["taskInfo"]["name"] for t in gated_tasks.values()} >= {"tune", "evaluate-tuned"}


def test_nothing_from_the_compiling_machine_is_baked_in():
    for target in ("vertex", "local"):
        for name in PIPELINES:
            text = (BUILD / target / f"{name}.yaml").read_text()
            assert str(ROOT) not in text
            assert "/home/" not in text and "/root/" not in text
            assert declared_parameters(yaml.safe_load(text))["spark_code_uri"].default == ""


def test_compiling_is_deterministic_in_process_and_across_processes(tmp_path):
    first = {r.relative_path: r.text for r in compiling.compile_all()}
    second = {r.relative_path: r.text for r in compiling.compile_all()}
    assert first == second
    # a fresh process with another hash seed, time zone and working directory
    out = tmp_path / "build"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONHASHSEED": "123",
        "TZ": "Pacific/Auckland",
        "HOME": str(tmp_path),
    }
    subprocess.run(
        [sys.executable, str(ROOT / "compile.py"), "--build-dir", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    for relative, text in first.items():
        assert (out / relative).read_bytes() == text.encode()
        assert (BUILD / relative).read_bytes() == text.encode(), f"build/{relative} is stale"
