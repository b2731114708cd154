"""churn-scoring: score a customer file with a trained model.

Steps:
1. prepare-run: this run's working location under the pipeline root, and its labels;
2. score (Spark): customers CSV (no Churn column) + the model folder churn-training names as
   `model_uri` -> customer_id, churn_probability, predicted_label, model_version.

Predictions go to `predictions_uri`/<pipeline job> when `predictions_uri` is set (a run never
overwrites another's), else under the run's working location (`<work>/results`).
Output: `predictions_uri`.
"""

from typing import NamedTuple

from kfp import dsl

from components.run_layout import prepare_run
from components.spark_step import DEFAULT_RUNTIME_VERSION, DataprocSettings, SparkStep

NAME = "churn-scoring"


class ScoringOutputs(NamedTuple):
    predictions_uri: str


def build(spark_step: SparkStep):
    """The churn-scoring pipeline with its Spark step made by `spark_step`."""

    @dsl.pipeline(name=NAME, description="Score customers with a trained churn model.")
    def churn_scoring(
        customers_uri: str,
        model_uri: str,
        predictions_uri: str = "",
        spark_code_uri: str = "",
        runtime_version: str = DEFAULT_RUNTIME_VERSION,
        service_account: str = "",
        subnetwork_uri: str = "",
        spark_history_cluster: str = "",
        container_image: str = "",
        spark_properties: dict = {},  # noqa: B006 - KFP reads the default from the signature
    ) -> ScoringOutputs:
        settings = DataprocSettings(
            runtime_version=runtime_version,
            service_account=service_account,
            subnetwork_uri=subnetwork_uri,
            spark_history_cluster=spark_history_cluster,
            container_image=container_image,
            spark_properties=spark_properties,
        )
        run = prepare_run(
            pipeline_job=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
            spark_code_uri=spark_code_uri,
            results_base_uri=predictions_uri,
        )
        run.set_display_name("prepare-run")
        spark_step(
            "score",
            [
                "--model",
                model_uri,
                "--input",
                customers_uri,
                "--output",
                run.outputs["results_uri"],
            ],
            run=run,
            settings=settings,
        )
        return ScoringOutputs(predictions_uri=run.outputs["results_uri"])

    return churn_scoring
