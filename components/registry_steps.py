"""The model registry's pipeline steps: register, resolve the champion, decide and promote, and
resolve a scoring run's model. Thin wrappers over `model_registry` (same code as `models.py`),
run in the components image on Vertex AI and in this venv locally; every read and write goes
through the Cloud Storage API (or the local folder), never through the /gcs/ FUSE mount."""

from typing import NamedTuple

from kfp import dsl

from components.images import component


@component
def register_model(
    models_uri: str,
    model_name: str,
    model_dir: str,
    pipeline_job: str,
    training_data_uri: str,
    spark_code_uri: str,
    environment: str,
    training_data: dsl.Input[dsl.Dataset],
    model: dsl.Output[dsl.Model],
) -> NamedTuple("Registered", [("version", str), ("version_uri", str)]):
    """Copy the winning train/tune folder into a new immutable registry version.

    The `model` artifact points at the version folder (not at a copy under the pipeline root),
    so Vertex ML Metadata links this run to the registered version itself.
    """
    from collections import namedtuple

    from model_registry import open_registry

    registry = open_registry(models_uri)
    info = registry.register(
        model_name,
        model_dir,
        pipeline_job=pipeline_job,
        lineage={
            "training_data_uri": training_data_uri,
            "prepared_data_uri": training_data.uri,
            "code_version": spark_code_uri,
            "environment": environment,
        },
    )
    model.uri = info.uri
    model.metadata.update(
        {
            "framework": "spark-mllib",
            "model_name": model_name,
            "version": info.version,
            "spark_version": info.meta.get("spark_version", ""),
            "classifier": info.meta.get("classifier", ""),
            "metrics": info.key_metrics(),
        }
    )
    print(f"registered {model_name}@{info.version} at {info.uri}")
    return namedtuple("Registered", ["version", "version_uri"])(info.version, info.uri)


@component
def resolve_champion(models_uri: str, model_name: str, alias: str = "champion") -> NamedTuple(
    "Champion", [("version", str), ("version_uri", str), ("generation", str)]
):
    """The current champion ('' when there is none yet) and the pointer generation read.

    The promotion later writes the pointer only if it still has this generation, so a champion
    moved by somebody else while this run evaluated the old one is never silently overwritten.
    """
    from collections import namedtuple

    from model_registry import open_registry

    registry = open_registry(models_uri)
    state = registry.alias(model_name, alias)
    champion = namedtuple("Champion", ["version", "version_uri", "generation"])
    if state.move is None:
        print(f"{model_name}@{alias} is not set yet: the absolute gate alone will decide")
        return champion("", "", state.generation)
    info = registry.version(model_name, state.move.version)
    print(f"{model_name}@{alias} = {info.version} ({info.uri})")
    return champion(info.version, info.uri, state.generation)


@component
def promote_if_better(
    models_uri: str,
    model_name: str,
    challenger_version: str,
    gate_metric: str,
    gate_threshold: float,
    promotion_margin: float,
    champion_version: str,
    champion_generation: str,
    champion_metrics_dir: str,
    pipeline_job: str,
    challenger: dsl.Input[dsl.Model],
    comparison: dsl.Output[dsl.Metrics],
    alias: str = "champion",
) -> NamedTuple(
    "Promotion",
    [
        ("promoted", bool),
        ("decision", str),
        ("challenger_value", float),
        ("champion_value", float),
        ("champion_version", str),
    ],
):
    """Champion/challenger: promote the new version when it passes the gate and beats the
    champion (scored on the same test split) by more than `promotion_margin`.

    Outputs: whether it was promoted, why, both figures (champion_value is 0.0 when there was
    no champion: see champion_version), and the champion after this step.
    """
    from collections import namedtuple

    from model_registry import ConflictError, open_registry
    from model_registry.committed import open_committed
    from model_registry.decision import decide

    registry = open_registry(models_uri)
    challenger = registry.version(model_name, challenger_version)
    if gate_metric not in challenger.metrics:
        raise ValueError(f"gate_metric '{gate_metric}' is not in {challenger.uri}/metrics.json")
    champion_value, problem = None, ""
    if champion_version:
        # Exactly what evaluate-champion committed (its manifest), or a refusal naming it.
        champion_output = open_committed(champion_metrics_dir, what="the champion's evaluation")
        scored = champion_output.read_json("metrics.json")
        if scored.get("scored") and gate_metric in scored:
            champion_value = float(scored[gate_metric])
        else:
            problem = scored.get("problem") or f"no {gate_metric} in its evaluation"
    decision = decide(
        gate_metric,
        float(challenger.metrics[gate_metric]),
        threshold=gate_threshold,
        margin=promotion_margin,
        champion=champion_value,
        champion_version=champion_version,
        champion_problem=problem,
    )
    promoted, reason, now_champion = False, decision.reason, champion_version
    if decision.promote:
        try:
            registry.promote(
                model_name,
                challenger_version,
                alias=alias,
                expected_generation=champion_generation,
                moved_by=pipeline_job,
                reason=decision.reason,
            )
            promoted, now_champion = True, challenger_version
        except ConflictError as lost:
            # Another promotion won meanwhile; its champion stands and this run says why.
            reason = f"not promoted: {lost}"
            now_champion = registry.alias(model_name, alias).version
    comparison.log_metric(f"challenger_{gate_metric}", decision.challenger)
    if champion_value is not None:
        comparison.log_metric(f"champion_{gate_metric}", champion_value)
    comparison.log_metric("promotion_margin", promotion_margin)
    comparison.log_metric("promoted", 1.0 if promoted else 0.0)
    comparison.metadata["decision"] = reason
    comparison.metadata["champion_version"] = champion_version
    comparison.metadata["challenger_version"] = challenger_version
    print(("PROMOTED: " if promoted else "kept: ") + reason)
    promotion = namedtuple(
        "Promotion",
        ["promoted", "decision", "challenger_value", "champion_value", "champion_version"],
    )
    return promotion(promoted, reason, decision.challenger, champion_value or 0.0, now_champion)


@component
def resolve_model(models_uri: str, model: str, scoring_model: dsl.Output[dsl.Model]) -> NamedTuple(
    "ResolvedModel", [("model_uri", str), ("version", str), ("model_name", str)]
):
    """Resolve `model` (`churn@champion`, `churn@<version>`) once, at the start of a scoring run.

    Every later step uses the version folder returned here, so a promotion during the run
    changes nothing for it; the `scoring_model` artifact records which version was used.
    """
    from collections import namedtuple

    from model_registry import open_registry

    registry = open_registry(models_uri)
    resolved = registry.resolve(model)
    info = registry.version(resolved.model, resolved.version)
    scoring_model.uri = info.uri
    scoring_model.metadata.update(
        {
            "framework": "spark-mllib",
            "model_name": resolved.model,
            "version": resolved.version,
            "requested": model,
            "metrics": info.key_metrics(),
        }
    )
    print(f"{model} -> {resolved.version} ({info.uri})")
    return namedtuple("ResolvedModel", ["model_uri", "version", "model_name"])(
        info.uri, resolved.version, resolved.model
    )


@component
def mirror_to_vertex(
    serving_image: str,
    project: str,
    region: str,
    models_uri: str,
    model_name: str,
    version: str,
    promoted: bool,
    pipeline_job: str,
) -> str:
    """Upload the registered version to Vertex AI Model Registry; move its `champion` alias too
    when this run promoted it. Returns `models/<id>@<version id>`, or '' when the environment
    names no serving image (Vertex refuses a model without one), as in every local run.

    The registry on Cloud Storage stays the source of truth: this only makes versions, their
    lineage labels and the champion visible in the Vertex console. AIPLATFORM_EMULATOR_HOST
    points the client at a fake (tests).
    """
    import os

    from model_registry import open_registry
    from model_registry.vertex import VertexTarget, mirror_alias, model_client, upload_version

    if not serving_image:
        print("no serving image in this environment: versions are not mirrored to Vertex AI")
        return ""
    target = VertexTarget(project, region, serving_image)
    client = model_client(region, os.environ.get("AIPLATFORM_EMULATOR_HOST", ""))
    info = open_registry(models_uri).version(model_name, version)
    uploaded = upload_version(client, target, info, pipeline_job=pipeline_job)
    if promoted:
        mirror_alias(client, target, model_name, version)
    print(f"{model_name}@{version} mirrored as {uploaded}" + (" (champion)" if promoted else ""))
    return uploaded
