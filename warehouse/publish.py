"""What the pipeline steps call: load a run's outputs into the warehouse `bq_dataset` names.

Each function works for both targets (BigQuery, the local DuckDB file) and is idempotent per
pipeline job: calling it again for the same job replaces that job's rows.

An empty `bq_dataset` means the local DuckDB file for a local run, and "this environment loads
no warehouse" for a cloud run (contract.environment: an environment without a BigQuery dataset):
the outputs being on Cloud Storage tells which, so a cloud step never writes a DuckDB file into
a container that is thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract import outputs
from warehouse import loads, records
from warehouse.bigquery import DatasetRef
from warehouse.errors import SourceError, WarehouseError
from warehouse.targets import Warehouse, is_local, open_warehouse
from warehouse.vertex_dataset import Registration, dataset_client, register_table


@dataclass(frozen=True)
class TrainingResult:
    """Where a registered version's files are and how the gate/champion step decided."""

    model_name: str
    version_uri: str  # registry version folder or train/tune output (metrics.json, model_meta.json)
    prepared_uri: str  # committed preprocess output folder (its listed data/ Parquet)
    outcome: records.Outcome
    data_version: str = ""  # default: the registry lineage's training_data_uri
    code_version: str = ""  # default: the registry lineage's code_version


def load_predictions(
    bq_dataset: str,
    predictions_uri: str,
    pipeline_job: str,
    *,
    scoring_date: str = "",
    scored_at: str = "",
    warehouse: Warehouse | None = None,
) -> int:
    """Replace the job's rows of `predictions` with the run's Parquet; rows loaded."""
    if warehouse is None and _no_warehouse(bq_dataset, predictions_uri):
        return 0
    target = warehouse or open_warehouse(bq_dataset)
    load = loads.predictions_load(predictions_uri, pipeline_job, scoring_date, scored_at)
    return target.replace(load)


def load_training(
    bq_dataset: str,
    result: TrainingResult,
    pipeline_job: str,
    *,
    warehouse: Warehouse | None = None,
    storage_client: Any = None,
) -> dict[str, int]:
    """model_metrics, feature_importances and prepared_data rows of one training run."""
    if warehouse is None and _no_warehouse(bq_dataset, result.prepared_uri):
        return {}
    base = result.version_uri.rstrip("/")
    metrics, meta = _version_files(base, storage_client)  # refused before any warehouse call
    target = warehouse or open_warehouse(bq_dataset)
    lineage = meta.get("registry") or {}
    batch = loads.training_loads(
        model_name=result.model_name,
        model_version=str(meta.get("model_version", "")),
        metrics=metrics,
        meta=meta,
        outcome=result.outcome,
        data_version=result.data_version or str(lineage.get("training_data_uri", "")),
        code_version=result.code_version or str(lineage.get("code_version", "")),
        pipeline_job=pipeline_job,
        source=f"{base}/metrics.json",
    )
    batch.append(loads.prepared_data_load(result.prepared_uri, pipeline_job))
    return {load.spec.name: target.replace(load) for load in batch}


def _version_files(base: str, storage_client: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """metrics.json and model_meta.json as the version folder's manifest lists them."""
    from model_registry.committed import open_committed

    try:
        version = open_committed(base, storage_client, what="a registered model version")
        return version.read_json("metrics.json"), version.read_json("model_meta.json")
    except outputs.OutputError as exc:
        raise SourceError(f"{exc} Nothing was loaded.") from exc


def _no_warehouse(bq_dataset: str, source_uri: str) -> bool:
    if bq_dataset.strip() or not source_uri.startswith("gs://"):
        return False
    print(f"bq_dataset is empty: this environment loads no warehouse ({source_uri} not loaded)")
    return True


def register_prepared_data(
    bq_dataset: str, project: str, region: str, *, client: Any = None
) -> Registration | None:
    """The Vertex AI dataset of the prepared_data table (None for the local DuckDB target).

    `project` defaults to the dataset's project; `region` is required (Vertex AI is regional).
    """
    if is_local(bq_dataset):
        return None
    ref = DatasetRef.parse(bq_dataset)
    if not region.strip():
        raise WarehouseError(
            f"{ref.table(loads.PREPARED_DATA.name)}: no Vertex AI region given to register it in"
        )
    project = project.strip() or ref.project
    table = ref.table(loads.PREPARED_DATA.name)
    return register_table(
        client or dataset_client(region), f"projects/{project}/locations/{region}", table
    )
