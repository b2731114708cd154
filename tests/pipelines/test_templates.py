"""The compiled templates: they load, they are valid Vertex AI PipelineJobs, the DAG is right."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from google.cloud import aiplatform_v1
from kfp.components import load_component_from_file

from contract.params import check_parameters, declared_parameters
from tooling import compiling

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
PIPELINES = ("churn-training", "churn-scoring")
SAMPLE_VALUES = {
    "churn-training": {"raw_data_path": "raw/latest.csv", "gate_threshold": 0.6},
    "churn-scoring": {"customers_path": "customers/latest.csv", "model": "churn@champion"},
}
PLACEHOLDER = re.compile(r"\{\{\$\.inputs\.parameters\['([^']+)'\]\}\}")


def template(target: str, name: str) -> dict:
    return yaml.safe_load((BUILD / target / f"{name}.yaml").read_text())


def dags(spec: dict) -> dict[str, dict]:
    """Every DAG of a template by its component name ("root" for the pipeline's own)."""
    found = {"root": spec["root"]["dag"]}
    found.update((name, c["dag"]) for name, c in spec["components"].items() if "dag" in c)
    return found


def all_tasks(spec: dict) -> dict[tuple[str, str], dict]:
    """Every task of every DAG (exit handler, conditions, sub-pipelines) by (DAG, task key):
    a key can repeat in another DAG (the tuning sub-pipeline's `evaluate` beside the outer one)."""
    return {
        (name, key): task for name, dag in dags(spec).items() for key, task in dag["tasks"].items()
    }


def caller(spec: dict, dag: str) -> tuple[str, dict]:
    """The DAG and the task that run the DAG component `dag` (here each runs from one task)."""
    found = [(d, t) for (d, _), t in all_tasks(spec).items() if t["componentRef"]["name"] == dag]
    assert len(found) == 1, (dag, found)
    return found[0]


def origin(spec: dict, dag: str, source: dict) -> str:
    """Where a task input of `dag` comes from, followed up through the DAGs around it:
    `prepare-run.code_uri` (a step's output, by display name) or `param:seed` (a parameter)."""
    while "componentInputParameter" in source:
        name = source["componentInputParameter"]
        if dag == "root":
            return f"param:{name}"
        dag, task = caller(spec, dag)
        source = task["inputs"]["parameters"][name]
    if "taskOutputParameter" not in source:
        return f"constant:{json.dumps(source)}"
    out = source["taskOutputParameter"]
    producer = dags(spec)[dag]["tasks"][out["producerTask"]]
    return f"{producer['taskInfo']['name']}.{out['outputParameterKey']}"


def with_origins(spec: dict, dag: str, task: dict, text: str) -> str:
    """`text` (a constant input of `task`) with each placeholder replaced by `<its origin>`."""
    params = task["inputs"]["parameters"]
    return PLACEHOLDER.sub(lambda m: f"<{origin(spec, dag, params[m.group(1)])}>", text)


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
    spark = {
        t["taskInfo"]["name"]: (dag, t)
        for (dag, _), t in all_tasks(spec).items()
        if "batch_id" in t["inputs"]["parameters"]
    }
    assert set(spark) == {"preprocess", "train", "tune", "evaluate_champion"}
    for job, (dag, task) in spark.items():
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
        assert with_origins(spec, dag, task, main) == f"<prepare-run.code_uri>/{job}.py"
        # whole list / mapping values come from prepare-run (passed down through the condition
        # and sub-pipeline DAGs around a step), not placeholders nested inside them
        for field, key in (("python_file_uris", "python_file_uris"), ("labels", "batch_labels")):
            assert origin(spec, dag, params[field]) == f"prepare-run.{key}", (job, field)
        assert params["batch_id"]["runtimeValue"]["constant"] == ""  # fresh id per attempt
        assert (
            params["location"]["runtimeValue"]["constant"] == "{{$.pipeline_google_cloud_location}}"
        )
        assert origin(spec, dag, params["runtime_config_version"]) == "param:runtime_version"
        args = params["args"]["runtimeValue"]["constant"]
        assert all(isinstance(a, str) and a.startswith("--") and "=" in a for a in args), args
        output = next(a for a in args if a.startswith("--output="))
        folder = {"evaluate_champion": "champion"}.get(job, job)
        assert with_origins(spec, dag, task, output) == f"--output=<prepare-run.work_uri>/{folder}"
    train_args = spark["train"][1]["inputs"]["parameters"]["args"]["runtimeValue"]["constant"]
    assert any(a.startswith("--classifier=") for a in train_args)


@pytest.mark.parametrize("target", ["vertex", "local"])
@pytest.mark.parametrize("name", PIPELINES)
def test_caching_is_off_for_every_task(target, name):
    tasks = all_tasks(template(target, name))
    assert tasks
    for key, task in tasks.items():
        assert task.get("cachingOptions", {}).get("enableCache") is not True, key


@pytest.mark.parametrize("name", PIPELINES)
def test_lightweight_steps_run_in_the_components_image_and_install_nothing(name):
    from components.images import COMPONENTS_IMAGE

    spec = template("vertex", name)
    for label, executor in spec["deploymentSpec"]["executors"].items():
        container = executor["container"]
        text = " ".join(container.get("command", []) + container.get("args", []))
        assert "pip install" not in text and "pip3 install" not in text, label
        if "google_cloud_pipeline_components" not in text:
            assert container["image"] == COMPONENTS_IMAGE, label


@pytest.mark.parametrize("target", ["vertex", "local"])
def test_gate_is_a_real_condition_and_tuning_lives_under_it(target):
    spec = template(target, "churn-training")
    root_tasks = spec["root"]["dag"]["tasks"]
    groups = [
        c["dag"]["tasks"] for k, c in spec["components"].items() if k.startswith("comp-condition-b")
    ]
    branches = next(g for g in groups if "passed" in str(g))  # the gate, not has-champion
    conditions = {name: task["triggerPolicy"]["condition"] for name, task in branches.items()}
    assert any("evaluate-Output" in c or "passed" in c for c in conditions.values())
    assert any(c.startswith("!(") for c in conditions.values())  # the else branch
    assert "tune" not in {t["taskInfo"]["name"] for t in root_tasks.values()}
    gated = next(
        n for n in branches if "passed" in conditions[n] and not conditions[n].startswith("!(")
    )
    gated_dag = spec["components"][branches[gated]["componentRef"]["name"]]["dag"]
    # the branch is one task, the tuning sub-pipeline, whose outputs leave the branch (OneOf)
    (key, tuning), *others = gated_dag["tasks"].items()
    assert not others and tuning["taskInfo"]["name"] == "tuning"
    sources = gated_dag["outputs"]["parameters"].values()
    assert {s["valueFromParameter"]["producerSubtask"] for s in sources} == {key}
    inner = spec["components"][tuning["componentRef"]["name"]]["dag"]
    names = {t["taskInfo"]["name"] for t in inner["tasks"].values()}
    assert names == {"tune", "evaluate-tuned", "select-model"}
    assert set(inner["outputs"]["parameters"]) == {"model_uri", "source"}


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


def artifact_edges(spec: dict) -> set[tuple[str, str, str]]:
    """(producer task, artifact type, consumer task) for every artifact passed between tasks."""
    tasks = all_tasks(spec)
    edges = set()
    for (dag, _), task in tasks.items():
        for source in (task.get("inputs", {}).get("artifacts") or {}).values():
            out = source.get("taskOutputArtifact")
            if not out:
                continue
            producer = tasks[(dag, out["producerTask"])]  # a producer is in the consumer's DAG
            outputs = spec["components"][producer["componentRef"]["name"]]["outputDefinitions"]
            kind = outputs["artifacts"][out["outputArtifactKey"]]
            edges.add(
                (
                    producer["taskInfo"]["name"],
                    kind["artifactType"]["schemaTitle"],
                    task["taskInfo"]["name"],
                )
            )
    return edges


@pytest.mark.parametrize("target", ["vertex", "local"])
def test_lineage_links_raw_data_prepared_data_model_and_predictions(target):
    training = artifact_edges(template(target, "churn-training"))
    assert ("prepare-run", "system.Dataset", "prepared-data") in training
    assert ("prepared-data", "system.Dataset", "register-model") in training
    # inside the has-champion / first-model branches the Model arrives from the parent DAG
    assert any(p == "register-model" and k == "system.Model" for p, k, _ in training)
    tasks = all_tasks(template(target, "churn-training"))
    for task in tasks.values():
        if task["taskInfo"]["name"] in ("champion-vs-challenger", "promote-first-model"):
            challenger = task["inputs"]["artifacts"]["challenger"]
            assert "register-model-model" in str(challenger), challenger
    scoring = artifact_edges(template(target, "churn-scoring"))
    assert ("resolve-model", "system.Model", "load-predictions") in scoring


@pytest.mark.parametrize("target", ["vertex", "local"])
@pytest.mark.parametrize("name", PIPELINES)
def test_every_step_runs_inside_the_failure_alert_exit_handler(target, name):
    spec = template(target, name)
    root = spec["root"]["dag"]["tasks"]
    notify = [t for t in root.values() if t["taskInfo"]["name"] == "notify-failure"]
    assert len(notify) == 1 and len(root) == 2  # the alert step and the group holding the rest
    assert notify[0]["triggerPolicy"]["strategy"] == "ALL_UPSTREAM_TASKS_COMPLETED"
    group = next(t for t in root.values() if t is not notify[0])
    inside = spec["components"][group["componentRef"]["name"]]["dag"]["tasks"]
    assert {"prepare-run", f"{name.split('-')[1]}-summary"} <= {
        t["taskInfo"]["name"] for t in inside.values()
    }
    assert notify[0]["dependentTasks"] == [next(k for k, t in root.items() if t is group)]


@pytest.mark.parametrize("name", PIPELINES)
def test_step_bodies_import_no_module_that_needs_kfp_at_run_time(name):
    """Inside KFP's executor `kfp.dsl` has no decorators: a step that imports a module which
    builds components (components.images) fails at run time, after every other step ran."""
    import re as regex

    spec = template("vertex", name)
    for label, executor in spec["deploymentSpec"]["executors"].items():
        text = " ".join(executor.get("container", {}).get("command", []))
        for module in regex.findall(r"from (components\.\w+) import", text):
            source = (ROOT / (module.replace(".", "/") + ".py")).read_text()
            assert not regex.search(r"^(from kfp|import kfp)", source, regex.M), (label, module)


@pytest.mark.parametrize("name", PIPELINES)
def test_the_dataproc_settings_reach_every_spark_step_from_one_declaration(name):
    # components/spark_step.py declares the six parameters once; each pipeline gets them all,
    # with their defaults, and every batch reads them from the pipeline's inputs.
    from components.spark_step import DATAPROC_PARAMETERS

    spec = template("vertex", name)
    declared = spec["root"]["inputDefinitions"]["parameters"]
    for parameter, (_, default) in DATAPROC_PARAMETERS.items():
        assert declared[parameter].get("defaultValue", None) == default, parameter
    fields = {
        "runtime_config_version": "runtime_version",
        "service_account": "service_account",
        "subnetwork_uri": "subnetwork_uri",
        "spark_history_dataproc_cluster": "spark_history_cluster",
        "container_image": "container_image",
        "runtime_config_properties": "spark_properties",
    }
    batches = [
        (dag, t)
        for (dag, _), t in all_tasks(spec).items()
        if "batch_id" in t["inputs"]["parameters"]
    ]
    assert batches
    for dag, task in batches:
        params = task["inputs"]["parameters"]
        for field, parameter in fields.items():
            assert origin(spec, dag, params[field]) == f"param:{parameter}", (field, task)


def test_a_pipeline_body_without_settings_is_refused():
    from components.spark_step import with_dataproc_settings

    def body(raw_data_path: str):
        return raw_data_path

    with pytest.raises(TypeError, match="body: the last parameter must be `settings`"):
        with_dataproc_settings(body)


def test_a_sub_pipeline_gets_the_settings_and_run_values_by_the_names_it_declares():
    from components.spark_step import DATAPROC_PARAMETERS, DataprocSettings, SparkRun

    settings = DataprocSettings(*"abcdef")
    assert list(settings.arguments()) == list(DATAPROC_PARAMETERS)
    assert settings.arguments()["spark_properties"] == "f"
    run = SparkRun("code", ["churn.zip"], {"environment": "prod"})
    assert SparkRun.of(run) is run
    assert run.arguments() == {
        "code_uri": "code",
        "python_file_uris": ["churn.zip"],
        "batch_labels": {"environment": "prod"},
    }


@pytest.mark.parametrize("name", PIPELINES)
def test_each_step_of_a_local_run_shows_under_its_own_display_name(name):
    # kfp.local names a task after its component (comp-<name>; kfp/local/task_dispatcher.py),
    # not its task key, which repeats across DAGs (the tuning sub-pipeline's `evaluate`)
    from local.local_run import display_names

    spec = template("local", name)
    names = display_names(spec)
    steps = [
        task
        for task in all_tasks(spec).values()
        if "executorLabel" in spec["components"][task["componentRef"]["name"]]
    ]
    for task in steps:
        shown = names[task["componentRef"]["name"].removeprefix("comp-")]
        assert shown == task["taskInfo"]["name"], task
    shown = [task["taskInfo"]["name"] for task in steps]
    assert len(shown) == len(set(shown)), shown
    if name == "churn-training":
        assert {"evaluate", "evaluate-tuned", "select-model", "keep-base-model"} <= set(shown)
