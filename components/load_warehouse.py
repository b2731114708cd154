"""The warehouse steps: load a run's outputs into BigQuery (or the local DuckDB file).

Thin wrappers over `warehouse.publish`, run in the components image on Vertex AI and in this
venv locally. `bq_dataset` is deployment-owned: `project.dataset` loads BigQuery; empty or
`duckdb:[path]` loads the local DuckDB file, so the same step serves both targets. Every step
replaces the rows of its `pipeline_job`, so a retried task or a re-run job never duplicates rows.
"""

from kfp import dsl

from components.images import component


@component
def load_predictions(
    bq_dataset: str,
    predictions_uri: str,
    pipeline_job: str,
    model: dsl.Input[dsl.Model],
    predictions: dsl.Output[dsl.Dataset],
    scoring_date: str = "",
) -> int:
    """Load a scoring run's Parquet predictions into `predictions`; the number of rows.

    `scoring_date` (YYYY-MM-DD) is the partition; empty means the load's UTC date. The
    `predictions` artifact (where they lie, made with `model`) closes the lineage graph.
    """
    from warehouse.publish import load_predictions as load

    rows = load(bq_dataset, predictions_uri, pipeline_job, scoring_date=scoring_date)
    predictions.uri = predictions_uri
    predictions.metadata.update({"rows": rows, "model": model.uri, "table": "predictions"})
    print(f"predictions: {rows} rows of {pipeline_job} into {bq_dataset or 'the local DuckDB'}")
    return rows


@component
def load_training_results(
    bq_dataset: str,
    pipeline_job: str,
    model_name: str,
    version_uri: str,
    prepared_uri: str,
    gate_metric: str,
    gate_threshold: float,
    gate_passed: bool,
    promoted: bool,
    decision: str,
    challenger_value: float,
    champion_value: float,
    champion_version: str,
) -> str:
    """Load model_metrics, feature_importances and prepared_data of one training run.

    `version_uri` is the registered version's folder (or a train/tune output when nothing was
    registered); the outcome inputs are the promote step's outputs (`champion_value` is
    ignored when `champion_version` is empty: there was no champion). Returns the row counts
    as JSON.
    """
    import json

    from warehouse.publish import TrainingResult, load_training
    from warehouse.records import Outcome

    outcome = Outcome(
        gate_metric=gate_metric,
        gate_threshold=gate_threshold,
        gate_passed=gate_passed,
        promoted=promoted,
        decision=decision,
        challenger_value=challenger_value,
        champion_value=champion_value if champion_version else None,
        champion_version=champion_version,
    )
    result = TrainingResult(model_name, version_uri, prepared_uri, outcome)
    counts = load_training(bq_dataset, result, pipeline_job)
    print(f"loaded {counts} for {pipeline_job} into {bq_dataset or 'the local DuckDB'}")
    return json.dumps(counts, sort_keys=True)


@component
def register_dataset(bq_dataset: str, region: str, project: str = "") -> str:
    """The Vertex AI tabular dataset of the prepared_data table, created once ('' locally).

    `region` is the Vertex AI region (the environment's); `project` defaults to the dataset's.
    """
    from warehouse.publish import register_prepared_data

    registration = register_prepared_data(bq_dataset, project, region)
    if registration is None:
        print("local warehouse: no Vertex AI dataset to register")
        return ""
    verb = "registered" if registration.created else "already registered"
    print(f"{registration.source_uri} {verb} as {registration.name}")
    return registration.name
