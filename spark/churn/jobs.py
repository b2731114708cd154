"""The four Spark jobs. Each returns the dict its script prints as JSON."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from churn import clean as cleaning
from churn import features, grid, io, outputs, tuning
from churn.errors import InputError
from churn.metrics import evaluate
from churn.schema import LABEL_COLUMN, raw_columns_spec
from churn.session import get_session

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

MODEL_DIR = "model"
METRICS_FILE = "metrics.json"
META_FILE = "model_meta.json"
REPORT_FILE = "report.json"
DATA_DIR = "data"


def preprocess(input_uri: str, output_uri: str) -> dict[str, Any]:
    """Raw CSV -> <output>/data (Parquet) + <output>/report.json."""
    cleaning.check_input_header(input_uri, require_label=True)
    spark = get_session("churn-preprocess")
    raw = cleaning.read_raw_csv(spark, input_uri, require_label=True)
    stats = cleaning.validate(raw, input_uri, with_label=True)
    with outputs.committing(spark, output_uri, "preprocess") as attempt:
        cleaning.clean(raw, with_label=True).write.parquet(io.spark_path(attempt.uri(DATA_DIR)))
        # clean() is a row-for-row select: every validated row must be in the files written.
        attempt.count_rows(DATA_DIR, expected=stats["rows"])
        report = cleaning.report(stats, stats["rows"], input_uri, output_uri)
        io.write_json(spark, attempt.uri(REPORT_FILE), report)
    return report


PREPARED = "a preprocess output"
PREPARED_HINT = "Pass the --output folder of spark/preprocess.py as --input."


def open_prepared(spark: SparkSession | None, input_uri: str) -> outputs.Committed:
    """A committed preprocess output (checked without Spark when it is local)."""
    return outputs.open_committed(spark, input_uri, what=PREPARED, hint=PREPARED_HINT)


def _check_prepared_local(input_uri: str) -> None:
    # Before any JVM starts: a local input is checked with the standard library alone.
    if io.is_local(input_uri):
        open_prepared(None, input_uri)


def read_prepared(spark: SparkSession, input_uri: str) -> DataFrame:
    """The cleaned rows of a committed preprocess output: exactly its listed files."""
    prepared = open_prepared(spark, input_uri)
    df = outputs.read_parquet(prepared, spark, DATA_DIR)
    wanted = [*cleaning.CLEAN_FEATURE_COLUMNS, features.LABEL_COL]
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise InputError(
            f"{input_uri}: missing column(s) {', '.join(missing)}; re-run spark/preprocess.py "
            "to produce it with this version of the code."
        )
    return df.select(*wanted)


MODEL = "a model (a train/tune output or a registered version folder)"
MODEL_HINT = "Pass the --output folder of spark/train.py or spark/tune.py, or a version folder."


def open_model(spark: SparkSession | None, model_uri: str) -> outputs.Committed:
    """A committed model folder whose model/ holds exactly the files its manifest lists."""
    committed = outputs.open_committed(
        spark, model_uri, what=MODEL, hint=MODEL_HINT, exact_under=(f"{MODEL_DIR}/",)
    )
    missing = [
        name
        for name, found in (
            (f"{MODEL_DIR}/", committed.manifest.under(f"{MODEL_DIR}/")),
            (META_FILE, META_FILE in committed.manifest.files),
        )
        if not found
    ]
    if missing:
        raise InputError(f"{committed.uri}: not {MODEL}: no {' and no '.join(missing)}")
    return committed


def load_model(committed: outputs.Committed) -> Any:
    """The PipelineModel of a model folder opened by open_model."""
    from pyspark.ml import PipelineModel

    return PipelineModel.load(io.spark_path(committed.path(MODEL_DIR)))


def _model_meta(
    spark: SparkSession, classifier: str, version: str | None, job: str, extra: dict[str, Any]
) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "model_version": version or f"{classifier}-{now:%Y%m%dT%H%M%SZ}",
        "classifier": classifier,
        "job": job,
        "input_columns": raw_columns_spec(with_label=False),
        "label_column": LABEL_COLUMN.name,
        "positive_label": "Yes",
        "spark_version": spark.version,
        "trained_at": now.isoformat(timespec="seconds"),
        **extra,
    }


def _evaluate_and_save(
    spark: SparkSession,
    model: Any,
    train_df: DataFrame,
    test_df: DataFrame,
    output_uri: str,
    params: dict[str, Any],
    meta: dict[str, Any],
    extra_metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    metrics = evaluate(model.transform(test_df))
    names = features.feature_names(model, test_df)
    importances = features.classifier_importances(model)
    metrics.update(
        {
            "n_train": train_df.count(),
            "n_test": sum(map(sum, metrics["confusion_matrix"]["matrix"])),
            "feature_importances": features.top_importances(names, importances),
            "column_importances": features.column_importances(names, importances),
            "params": params,
            **(extra_metrics or {}),
        }
    )
    with outputs.committing(spark, output_uri, str(meta["job"])) as attempt:
        model.write().save(io.spark_path(attempt.uri(MODEL_DIR)))
        io.write_json(spark, attempt.uri(METRICS_FILE), metrics)
        io.write_json(spark, attempt.uri(META_FILE), {**meta, "n_features": len(names)})
    return metrics


def _split(df: DataFrame, test_fraction: float, seed: int) -> tuple[DataFrame, DataFrame]:
    if not 0.0 < test_fraction < 1.0:
        raise InputError(f"--test-fraction: must be between 0 and 1, got {test_fraction}")
    train_df, test_df = df.randomSplit([1.0 - test_fraction, test_fraction], seed=seed)
    return train_df.cache(), test_df.cache()


def train(
    input_uri: str,
    output_uri: str,
    classifier: str = "lr",
    seed: int = 42,
    test_fraction: float = 0.2,
    model_version: str | None = None,
) -> dict[str, Any]:
    """Fit the feature pipeline + classifier on a seeded split, save model and metrics."""
    if classifier not in features.CLASSIFIERS:
        raise InputError(f"--classifier: {classifier!r} is not one of {features.CLASSIFIERS}")
    _check_prepared_local(input_uri)
    spark = get_session("churn-train")
    train_df, test_df = _split(read_prepared(spark, input_uri), test_fraction, seed)
    model = features.fit_model(train_df, classifier, seed)
    params = {"classifier": classifier, "seed": seed, **features.DEFAULT_PARAMS[classifier]}
    meta = _model_meta(
        spark, classifier, model_version, "train", {"seed": seed, "test_fraction": test_fraction}
    )
    return _evaluate_and_save(spark, model, train_df, test_df, output_uri, params, meta)


def tune(
    input_uri: str,
    output_uri: str,
    classifier: str = "auto",
    folds: int = 3,
    grid_specs: list[str] | None = None,
    seed: int = 42,
    test_fraction: float = 0.2,
    model_version: str | None = None,
    search: str = "halving",
) -> dict[str, Any]:
    """Cross-validate a grid (several classifier families allowed), keep the best, evaluate."""
    grids = grid.parse_grid(grid_specs, classifier)
    if search not in tuning.SEARCHES:
        raise InputError(f"--search: {search!r} is not one of {', '.join(tuning.SEARCHES)}")
    if folds < 2:
        raise InputError(f"--folds: need at least 2 folds, got {folds}")
    _check_prepared_local(input_uri)
    spark = get_session("churn-tune")
    from pyspark.ml import Pipeline

    train_df, test_df = _split(read_prepared(spark, input_uri), test_fraction, seed)
    # Indexing, encoding and LR's scaling are unsupervised and do not depend on the fold: fitted
    # once on the training split, not once per fit; each candidate fits its classifier alone.
    encoding = Pipeline(stages=[*features.feature_stages(), features.scaler_stage()])
    train_features = (
        encoding.fit(train_df)
        .transform(train_df)
        .select(features.FEATURES_COL, features.SCALED_COL, features.LABEL_COL)
    )
    folded = tuning.with_folds(train_features, folds, seed)

    candidates = [
        (family, combo)
        for family, family_grid in grids.items()
        for combo in grid.expand(family_grid)
    ]
    estimators = [features.classifier_stage(f, seed, combo) for f, combo in candidates]
    found = tuning.cross_validate(folded, estimators, folds, features.LABEL_COL, search)
    family, combo = candidates[found.best]
    folded.unpersist()
    # The winner refitted whole (features included) on the training split, as train.py fits:
    # the same deterministic encoding, and no fitted stage kept from the start of the search
    # (a Spark Connect server keeps at most 100 fitted objects and evicts the oldest).
    model = features.fit_model(train_df, family, seed, combo)
    params = {
        "classifier": family,
        "seed": seed,
        **features.DEFAULT_PARAMS[family],
        **combo,
    }
    cv_results = {
        "metric": "areaUnderROC",
        "folds": folds,
        "search": search,
        "best_index": found.best,
        "candidates": [
            {
                "classifier": f,
                "params": c,
                "auc_roc": round(s, 6),
                "folds_scored": n,
                "seconds": t,
            }
            for (f, c), s, n, t in zip(
                candidates, found.scores, found.folds_scored, found.seconds, strict=True
            )
        ],
    }
    meta = _model_meta(
        spark,
        family,
        model_version,
        "tune",
        {"seed": seed, "test_fraction": test_fraction, "folds": folds},
    )
    return _evaluate_and_save(
        spark, model, train_df, test_df, output_uri, params, meta, {"cv": cv_results}
    )


def score(model_uri: str, input_uri: str, output_uri: str) -> dict[str, Any]:
    """Saved model + new customers (no Churn) -> Parquet predictions at <output>/<attempt>/data."""
    committed = open_model(None, model_uri) if io.is_local(model_uri) else None
    if committed is not None:
        meta = committed.read_json(None, META_FILE)
        cleaning.check_input_header(
            input_uri, require_label=False, expected=_expected_columns(meta, model_uri)
        )
    spark = get_session("churn-score")
    if committed is None:
        committed = open_model(spark, model_uri)
        meta = committed.read_json(spark, META_FILE)
    expected = _expected_columns(meta, model_uri)
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F  # noqa: N812

    raw = cleaning.read_raw_csv(spark, input_uri, require_label=False, expected=expected)
    stats = cleaning.validate(raw, input_uri, with_label=False)
    model = load_model(committed)
    version = str(meta.get("model_version", "unknown"))
    predictions = model.transform(cleaning.clean(raw, with_label=False)).select(
        "customer_id",
        vector_to_array("probability")[1].alias("churn_probability"),
        F.when(F.col("prediction") == 1.0, "Yes").otherwise("No").alias("predicted_label"),
        F.lit(version).alias("model_version"),
    )
    with outputs.committing(spark, output_uri, "score") as attempt:
        predictions.write.parquet(io.spark_path(attempt.uri(DATA_DIR)))
        attempt.count_rows(DATA_DIR)
        written = [io.spark_path(attempt.uri(r)) for r in attempt.parquet(DATA_DIR)]
        row = (
            spark.read.parquet(*written)
            .agg(
                F.count(F.lit(1)).alias("rows"),
                F.sum(F.when(F.col("predicted_label") == "Yes", 1).otherwise(0)).alias("yes"),
                F.avg("churn_probability").alias("mean_p"),
            )
            .first()
        )
    assert row is not None
    return {
        "input": input_uri,
        "output": output_uri,
        "model_version": version,
        "rows_read": stats["rows"],
        "rows_scored": int(row["rows"]),
        "predicted_churn": int(row["yes"] or 0),
        "mean_churn_probability": round(float(row["mean_p"] or 0.0), 6),
    }


def _expected_columns(meta: dict[str, Any], model_uri: str) -> tuple[str, ...]:
    cols = meta.get("input_columns")
    if not isinstance(cols, list) or not all(isinstance(c, dict) and "name" in c for c in cols):
        raise InputError(
            f"{model_uri}: {META_FILE} field input_columns is missing or malformed; is --model "
            "the output directory of spark/train.py or spark/tune.py?"
        )
    return tuple(str(c["name"]) for c in cols)
