"""churn-training: preprocess -> train -> evaluate -> [gate passes] -> tuning (tune -> select).

Steps:
1. prepare-run: this run's working location under the pipeline root, its input
   (`raw_data_path` under the environment's `data_uri`) and the labels of its batches;
2. preprocess (Spark): raw customer CSV -> typed, cleaned Parquet; prepared-data records it as
   a Dataset derived from the raw one (lineage: raw -> prepared -> model -> comparison);
3. train (Spark): the base model (classifier by parameter) and its metrics.json;
4. evaluate: metrics and ROC / confusion matrix for the console, and the gate
   (`gate_metric` >= `gate_threshold`; for log_loss, <=);
5. when the gate passes: the `tuning` sub-pipeline (`tuning()` below): tune (Spark,
   cross-validation), evaluate-tuned, and select-model, which keeps the better of the two; its
   outputs model_uri and source are the winner's; otherwise keep-base-model: the base model
   stands, untuned;
6. register-model: the winning model becomes a new immutable version of `model_name` in the
   registry under the environment's `models_uri` (a `Model` artifact pointing at it);
7. resolve-champion: the current `champion` and the pointer generation read;
8. when there is one, evaluate-champion (Spark) scores it on the same fresh test split;
9. champion-vs-challenger (or promote-first-model): promote the new version when it passes the
   gate and beats the champion by more than `promotion_margin`; first run: the gate alone.
   The alias moves with one conditional write: a promotion racing it cannot be overwritten;
10. mirror-to-vertex: where the environment names a serving image, the version (and the
    champion alias when it moved) also appear in Vertex AI Model Registry;
11. load-training-results: model_metrics, feature_importances and the prepared rows into the
    environment's warehouse (BigQuery; locally DuckDB), replacing this job's rows if re-run;
12. register-dataset: the prepared_data table as a Vertex AI tabular dataset, created once.

Parameters a schedule sets: raw_data_path, model_name, classifier, gate_metric, gate_threshold,
promotion_margin, tune_folds, seed. The rest belong to the deployment (contract/ownership.py):
published templates carry the environment's values as defaults, and the trigger refuses them in
a request.

Outputs, on the last step (training-summary; KFP allows no pipeline-level outputs from inside
the exit handler that alerts on failure): `model_uri` (the registered version folder: model/,
metrics.json, model_meta.json), `model_version`, `model_source` (base | tuned), `gate_value`,
`gate_passed`, `promoted`, `decision` (why), `challenger_value` and `champion_value` (gate metric
of both on the same test split; champion_value is 0.0 when there was no champion),
`champion_version` (after the run). notify-failure (the exit handler) publishes an alert to the
environment's Pub/Sub topic when any step failed, a Dataproc batch included.
"""

from typing import Any, NamedTuple

from kfp import dsl

from components.datasets import describe_prepared
from components.evaluate import evaluate
from components.images import no_cache
from components.load_warehouse import load_training_results, register_dataset
from components.notify import alert_on_failure
from components.registry_steps import (
    mirror_to_vertex,
    promote_if_better,
    register_model,
    resolve_champion,
)
from components.run_layout import prepare_run
from components.select_model import select_model
from components.spark_step import DataprocSettings, SparkRun, SparkStep, with_dataproc_settings
from components.summaries import training_summary
from pipelines.declarations import LocalRun, SampleData

NAME = "churn-training"


class WorkFolders(NamedTuple):
    """Where the Spark steps write under the run's working location (`work`, a channel)."""

    prepared: str
    base: str
    tuned: str
    champion: str

    @classmethod
    def under(cls, work: Any) -> "WorkFolders":
        """The folders under `work`, f-strings of the channel (placeholders in the template)."""
        return cls(f"{work}/preprocess", f"{work}/train", f"{work}/tune", f"{work}/champion")


class Selection(NamedTuple):
    """The tuning sub-pipeline's outputs: the winner's folder and `base` or `tuned`."""

    model_uri: str
    source: str


def tuning(spark_step: SparkStep):
    """The tuning branch as a sub-pipeline: tune -> evaluate-tuned -> select-model.

    Its inputs are plain values (channels), never f-strings of them: the paths are built here
    from `work_uri` (kfp.local 2.17 gives a sub-pipeline f"{channel}/tune" as "null/tune"), and
    what the Spark step reads from prepare-run comes in as SparkRun's three inputs. It declares
    the Dataproc settings as its caller does (`with_dataproc_settings`).
    """

    @dsl.pipeline(name="tuning", description="Tune, evaluate the tuned model, keep the better.")
    @with_dataproc_settings
    def tune_and_select(
        work_uri: str,
        code_uri: str,
        python_file_uris: list,
        batch_labels: dict,
        gate_metric: str,
        gate_threshold: float,
        base_value: float,
        tune_folds: int,
        seed: int,
        *,
        settings: DataprocSettings,
    ) -> Selection:
        folders = WorkFolders.under(work_uri)
        tune = spark_step(
            "tune",
            [
                f"--input={folders.prepared}",
                f"--output={folders.tuned}",
                f"--folds={tune_folds}",
                f"--seed={seed}",
            ],
            run=SparkRun(code_uri, python_file_uris, batch_labels),
            settings=settings,
        )
        tuned_eval = no_cache(
            evaluate(
                model_dir=folders.tuned, gate_metric=gate_metric, gate_threshold=gate_threshold
            ).after(tune),
            "evaluate-tuned",
        )
        pick = no_cache(
            select_model(
                gate_metric=gate_metric,
                base_dir=folders.base,
                base_value=base_value,
                tuned_dir=folders.tuned,
                tuned_value=tuned_eval.outputs["value"],
            ),
            "select-model",
        )
        return Selection(model_uri=pick.outputs["model_uri"], source=pick.outputs["source"])

    return tune_and_select


def build(spark_step: SparkStep):
    """The churn-training pipeline with Spark steps made by `spark_step`."""
    tune_and_select = tuning(spark_step)

    @dsl.pipeline(name=NAME, description="Preprocess, train, evaluate, gate, tune the churn model.")
    @with_dataproc_settings
    def churn_training(
        raw_data_path: str,
        model_name: str = "churn",
        classifier: str = "lr",
        gate_metric: str = "auc_pr",
        gate_threshold: float = 0.5,
        promotion_margin: float = 0.0,
        tune_folds: int = 3,
        seed: int = 42,
        # set by the trigger only: the fire's slot (RFC 3339 UTC; '' for a local run)
        fire_time: str = "",
        # deployment-owned (contract/ownership.py): set from the environment at publish time
        alerts_topic: str = "",
        environment: str = "",
        project: str = "",
        region: str = "",
        data_uri: str = "",
        models_uri: str = "",
        bq_dataset: str = "",
        serving_image: str = "",
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
                    data_path=raw_data_path,
                ),
                "prepare-run",
            )
            work = run.outputs["work_uri"]
            folders = WorkFolders.under(work)
            prepared_uri, base_uri = folders.prepared, folders.base

            prep = spark_step(
                "preprocess",
                [f"--input={run.outputs['input_uri']}", f"--output={prepared_uri}"],
                run=run,
                settings=settings,
            )
            prepared = no_cache(
                describe_prepared(
                    raw_data=run.outputs["raw_data"], prepared_uri=prepared_uri
                ).after(prep),
                "prepared-data",
            )
            train = spark_step(
                "train",
                [
                    f"--input={prepared_uri}",
                    f"--output={base_uri}",
                    f"--classifier={classifier}",
                    f"--seed={seed}",
                ],
                run=run,
                settings=settings,
            ).after(prep)
            base_eval = no_cache(
                evaluate(
                    model_dir=base_uri, gate_metric=gate_metric, gate_threshold=gate_threshold
                ).after(train),
                "evaluate",
            )

            with dsl.If(base_eval.outputs["passed"] == True, name="gate-passed"):  # noqa: E712
                tuned_pick = no_cache(
                    tune_and_select(
                        work_uri=work,
                        **SparkRun.of(run).arguments(),
                        gate_metric=gate_metric,
                        gate_threshold=gate_threshold,
                        base_value=base_eval.outputs["value"],
                        tune_folds=tune_folds,
                        seed=seed,
                        **settings.arguments(),
                    ),
                    "tuning",
                )
            with dsl.Else(name="gate-failed"):
                base_pick = no_cache(
                    select_model(
                        gate_metric=gate_metric,
                        base_dir=base_uri,
                        base_value=base_eval.outputs["value"],
                    ),
                    "keep-base-model",
                )

            winner = dsl.OneOf(tuned_pick.outputs["model_uri"], base_pick.outputs["model_uri"])
            registered = no_cache(
                register_model(
                    models_uri=models_uri,
                    model_name=model_name,
                    model_dir=winner,
                    pipeline_job=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
                    training_data_uri=run.outputs["input_uri"],
                    spark_code_uri=run.outputs["code_uri"],
                    environment=environment,
                    training_data=prepared.outputs["prepared"],
                ),
                "register-model",
            )
            champion = no_cache(
                resolve_champion(models_uri=models_uri, model_name=model_name).after(registered),
                "resolve-champion",
            )
            decision_inputs = {
                "models_uri": models_uri,
                "model_name": model_name,
                "challenger_version": registered.outputs["version"],
                "gate_metric": gate_metric,
                "gate_threshold": gate_threshold,
                "promotion_margin": promotion_margin,
                "champion_version": champion.outputs["version"],
                "champion_generation": champion.outputs["generation"],
                "pipeline_job": dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
                "challenger": registered.outputs["model"],
            }
            with dsl.If(champion.outputs["version"] != "", name="has-champion"):
                champion_uri = folders.champion
                champion_eval = spark_step(
                    "evaluate_champion",
                    [
                        f"--model={champion.outputs['version_uri']}",
                        f"--input={prepared_uri}",
                        f"--output={champion_uri}",
                        f"--seed={seed}",
                    ],
                    run=run,
                    settings=settings,
                )
                versus = no_cache(
                    promote_if_better(**decision_inputs, champion_metrics_dir=champion_uri).after(
                        champion_eval
                    ),
                    "champion-vs-challenger",
                )
            with dsl.Else(name="first-model"):
                first = no_cache(
                    promote_if_better(**decision_inputs, champion_metrics_dir=""),
                    "promote-first-model",
                )

            def either(name: str):
                return dsl.OneOf(versus.outputs[name], first.outputs[name])

            no_cache(
                mirror_to_vertex(
                    serving_image=serving_image,
                    project=project,
                    region=region,
                    models_uri=models_uri,
                    model_name=model_name,
                    version=registered.outputs["version"],
                    promoted=either("promoted"),
                    pipeline_job=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
                ),
                "mirror-to-vertex",
            )
            loaded = no_cache(
                load_training_results(
                    bq_dataset=bq_dataset,
                    pipeline_job=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
                    model_name=model_name,
                    version_uri=registered.outputs["version_uri"],
                    prepared_uri=prepared_uri,
                    gate_metric=gate_metric,
                    gate_threshold=gate_threshold,
                    gate_passed=base_eval.outputs["passed"],
                    promoted=either("promoted"),
                    decision=either("decision"),
                    challenger_value=either("challenger_value"),
                    champion_value=either("champion_value"),
                    champion_version=either("champion_version"),
                ),
                "load-training-results",
            )
            no_cache(
                register_dataset(bq_dataset=bq_dataset, region=region).after(loaded),
                "register-dataset",
            )

            no_cache(
                training_summary(
                    model_uri=registered.outputs["version_uri"],
                    model_version=registered.outputs["version"],
                    model_source=dsl.OneOf(
                        tuned_pick.outputs["source"], base_pick.outputs["source"]
                    ),
                    gate_value=base_eval.outputs["value"],
                    gate_passed=base_eval.outputs["passed"],
                    promoted=either("promoted"),
                    decision=either("decision"),
                    challenger_value=either("challenger_value"),
                    champion_value=either("champion_value"),
                    champion_version=either("champion_version"),
                ),
                "training-summary",
            )

    return churn_training


# How run.py runs it locally (pipelines/declarations.py).
LOCAL_RUN = LocalRun(
    outputs_step="training-summary",
    data_parameter="raw_data_path",
    sample=SampleData("customers.csv", seed=42),
    metrics_output="model_uri",
    summary_outputs=(
        "model_source",
        "model_version",
        "gate_value",
        "gate_passed",
        "promoted",
        "champion_version",
    ),
)
