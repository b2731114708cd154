"""Tiny pipelines with the planned parameter signatures, compiled by the tests themselves.

The lead's real templates may not exist when these tests run, and the tests must not depend on
them; these declare the same inputs (names, types, defaults) as the planned pipelines.
No `from __future__ import annotations` here: KFP reads the annotations as real types.
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def echo(text: str) -> str:
    """A step so that the pipelines have a body."""
    return text


@dsl.pipeline(name="churn-training")
def churn_training(
    raw_data_uri: str,
    classifier: str = "rf",
    gate_metric: str = "auc_pr",
    gate_threshold: float = 0.5,
    tune_folds: int = 3,
    seed: int = 42,
    runtime_version: str = "2.3",
    service_account: str = "",
    subnetwork_uri: str = "",
    spark_history_cluster: str = "",
    container_image: str = "",
    spark_properties: dict = {},  # noqa: B006 - KFP reads the default, never mutates it
    spark_code_uri: str = "",
):
    echo(text=raw_data_uri)


@dsl.pipeline(name="churn-scoring")
def churn_scoring(
    customers_uri: str,
    model_uri: str,
    predictions_uri: str = "",
    runtime_version: str = "2.3",
    service_account: str = "",
    subnetwork_uri: str = "",
    spark_history_cluster: str = "",
    container_image: str = "",
    spark_properties: dict = {},  # noqa: B006
    spark_code_uri: str = "",
):
    echo(text=customers_uri)


def compile_into(directory: Path) -> Path:
    """Compile both pipelines into `directory/<name>.yaml` (like build/vertex)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, fn in (("churn-training", churn_training), ("churn-scoring", churn_scoring)):
        compiler.Compiler().compile(fn, str(directory / f"{name}.yaml"))
    return directory
