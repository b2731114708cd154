"""churn-scoring: score a customer file with a trained model.

Steps:
1. prepare-run: this run's working location under the pipeline root, its input
   (`customers_path` under the environment's `data_uri`) and the labels of its batches;
2. resolve-model: `model` (`churn@champion`, or a pinned `churn@v20261130t020000z-1a2b3c4d`)
   resolved ONCE in the registry under the environment's `models_uri` to a version folder (a
   `Model` artifact); a promotion during the run changes nothing for it;
3. score (Spark): customers CSV (no Churn column) + that version folder -> customer_id,
   churn_probability, predicted_label, model_version (the registry version);
4. load-predictions: the predictions into the environment's warehouse table `predictions`
   (BigQuery; locally DuckDB), replacing this job's rows if the job is re-run.

Predictions go to `<predictions_uri>/<run label>` (a run never overwrites another's).
Parameters a schedule sets: customers_path, model; the rest belong to the deployment.
Outputs, on the last step (scoring-summary; churn_training.py says why): `rows` (predictions
loaded), `predictions_uri`, `model_version` (the version used), `model_uri` (its folder).
notify-failure (the exit handler) alerts the environment when any step failed.
"""

from kfp import dsl

from components.images import no_cache
from components.load_warehouse import load_predictions
from components.notify import alert_on_failure
from components.registry_steps import resolve_model
from components.run_layout import prepare_run
from components.spark_step import DataprocSettings, SparkStep, with_dataproc_settings
from components.summaries import scoring_summary
from pipelines.declarations import LocalRun, SampleData

NAME = "churn-scoring"


def build(spark_step: SparkStep):
    """The churn-scoring pipeline with its Spark step made by `spark_step`."""

    @dsl.pipeline(name=NAME, description="Score customers with a trained churn model.")
    @with_dataproc_settings
    def churn_scoring(
        customers_path: str,
        model: str = "churn@champion",
        # set by the trigger only: the fire's slot (RFC 3339 UTC; '' for a local run)
        fire_time: str = "",
        # deployment-owned (contract/ownership.py): set from the environment at publish time
        alerts_topic: str = "",
        environment: str = "",
        data_uri: str = "",
        models_uri: str = "",
        predictions_uri: str = "",
        bq_dataset: str = "",
        spark_code_uri: str = "",
        # the Dataproc settings parameters follow (components/spark_step.py)
        *,
        settings: DataprocSettings,
    ):
        with alert_on_failure(alerts_topic, environment, fire_time):
            run = no_cache(
                prepare_run(
                    pipeline_job=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
                    environment=environment,
                    fire_time=fire_time,
                    spark_code_uri=spark_code_uri,
                    data_uri=data_uri,
                    data_path=customers_path,
                    results_base_uri=predictions_uri,
                ),
                "prepare-run",
            )
            resolved = no_cache(resolve_model(models_uri=models_uri, model=model), "resolve-model")
            score = spark_step(
                "score",
                [
                    f"--model={resolved.outputs['model_uri']}",
                    f"--input={run.outputs['input_uri']}",
                    f"--output={run.outputs['results_uri']}",
                ],
                run=run,
                settings=settings,
            )
            loaded = no_cache(
                load_predictions(
                    bq_dataset=bq_dataset,
                    predictions_uri=run.outputs["results_uri"],
                    pipeline_job=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
                    model=resolved.outputs["scoring_model"],
                    scoring_date=run.outputs["logical_date"],
                ).after(score),
                "load-predictions",
            )
            no_cache(
                scoring_summary(
                    rows=loaded.outputs["Output"],
                    predictions_uri=run.outputs["results_uri"],
                    model_version=resolved.outputs["version"],
                    model_uri=resolved.outputs["model_uri"],
                ),
                "scoring-summary",
            )

    return churn_scoring


# How run.py runs it locally (pipelines/declarations.py).
LOCAL_RUN = LocalRun(
    outputs_step="scoring-summary",
    data_parameter="customers_path",
    sample=SampleData("new_customers.csv", seed=43, scoring=True),
    summary_outputs=("model_version", "predictions_uri"),
)
