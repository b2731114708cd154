"""churn-training: preprocess -> train -> evaluate -> [gate passes] -> tune -> evaluate -> select.

Steps:
1. prepare-run: this run's working location under the pipeline root, and its labels;
2. preprocess (Spark): raw customer CSV -> typed, cleaned Parquet;
3. train (Spark): the base model (classifier by parameter) and its metrics.json;
4. evaluate: metrics and ROC / confusion matrix for the console, and the gate
   (`gate_metric` >= `gate_threshold`; for log_loss, <=);
5. when the gate passes: tune (Spark, cross-validation), evaluate the tuned model, and keep the
   better of the two; otherwise the base model stands, untuned;
6. promote-model: when the gate passed and `promote_to_uri` is set, the winning model folder
   replaces the one there (what a scoring schedule reads); otherwise nothing is copied.

Outputs: `model_uri` (the winning model's folder: model/, metrics.json, model_meta.json, what
churn-scoring takes), `model_source` (base | tuned), `gate_value`, `gate_passed`,
`promoted_uri` ("" when nothing was promoted).
"""

from typing import NamedTuple

from kfp import dsl

from components.evaluate import evaluate
from components.promote_model import promote_model
from components.run_layout import prepare_run
from components.select_model import select_model
from components.spark_step import DEFAULT_RUNTIME_VERSION, DataprocSettings, SparkStep

NAME = "churn-training"


class TrainingOutputs(NamedTuple):
    model_uri: str
    model_source: str
    gate_value: float
    gate_passed: bool
    promoted_uri: str


def build(spark_step: SparkStep):
    """The churn-training pipeline with Spark steps made by `spark_step`."""

    @dsl.pipeline(name=NAME, description="Preprocess, train, evaluate, gate, tune the churn model.")
    def churn_training(
        raw_data_uri: str,
        classifier: str = "rf",
        gate_metric: str = "auc_pr",
        gate_threshold: float = 0.5,
        tune_folds: int = 3,
        seed: int = 42,
        promote_to_uri: str = "",
        spark_code_uri: str = "",
        runtime_version: str = DEFAULT_RUNTIME_VERSION,
        service_account: str = "",
        subnetwork_uri: str = "",
        spark_history_cluster: str = "",
        container_image: str = "",
        spark_properties: dict = {},  # noqa: B006 - KFP reads the default from the signature
    ) -> TrainingOutputs:
        settings = DataprocSettings(
            runtime_version=runtime_version,
            service_account=service_account,
            subnetwork_uri=subnetwork_uri,
            spark_history_cluster=spark_history_cluster,
            container_image=container_image,
            spark_properties=spark_properties,
        )
        run = prepare_run(
            pipeline_job=dsl.PIPELINE_JOB_NAME_PLACEHOLDER, spark_code_uri=spark_code_uri
        )
        run.set_display_name("prepare-run")
        work = run.outputs["work_uri"]
        prepared_uri = f"{work}/preprocess"
        base_uri = f"{work}/train"
        tuned_uri = f"{work}/tune"

        prep = spark_step(
            "preprocess",
            ["--input", raw_data_uri, "--output", prepared_uri],
            run=run,
            settings=settings,
        )
        train = spark_step(
            "train",
            [
                "--input",
                prepared_uri,
                "--output",
                base_uri,
                "--classifier",
                classifier,
                "--seed",
                seed,
            ],
            run=run,
            settings=settings,
        ).after(prep)
        base_eval = evaluate(
            model_dir=base_uri, gate_metric=gate_metric, gate_threshold=gate_threshold
        ).after(train)
        base_eval.set_display_name("evaluate")

        with dsl.If(base_eval.outputs["passed"] == True, name="gate-passed"):  # noqa: E712
            tune = spark_step(
                "tune",
                [
                    "--input",
                    prepared_uri,
                    "--output",
                    tuned_uri,
                    "--folds",
                    tune_folds,
                    "--seed",
                    seed,
                ],
                run=run,
                settings=settings,
            ).after(base_eval)
            tuned_eval = evaluate(
                model_dir=tuned_uri, gate_metric=gate_metric, gate_threshold=gate_threshold
            ).after(tune)
            tuned_eval.set_display_name("evaluate-tuned")
            tuned_pick = select_model(
                gate_metric=gate_metric,
                base_dir=base_uri,
                base_value=base_eval.outputs["value"],
                tuned_dir=tuned_uri,
                tuned_value=tuned_eval.outputs["value"],
            )
            tuned_pick.set_display_name("select-model")
        with dsl.Else(name="gate-failed"):
            base_pick = select_model(
                gate_metric=gate_metric, base_dir=base_uri, base_value=base_eval.outputs["value"]
            )
            base_pick.set_display_name("keep-base-model")

        winner = dsl.OneOf(tuned_pick.outputs["model_uri"], base_pick.outputs["model_uri"])
        promotion = promote_model(
            model_uri=winner,
            promote_to_uri=promote_to_uri,
            gate_passed=base_eval.outputs["passed"],
        )
        promotion.set_display_name("promote-model")
        return TrainingOutputs(
            model_uri=winner,
            model_source=dsl.OneOf(tuned_pick.outputs["source"], base_pick.outputs["source"]),
            gate_value=base_eval.outputs["value"],
            gate_passed=base_eval.outputs["passed"],
            promoted_uri=promotion.output,
        )

    return churn_training
