"""The reference lab's approach, rebuilt for comparison (not used by the project).

Two phases, run as two processes like the lab's two Dataproc jobs:
- ``preprocess``: CSV read with schema inference, rows with blank TotalCharges dropped, Parquet.
- ``train``: one StringIndexer and one OneHotEncoder stage *per column*, a default random
  forest, and every test prediction collected to the driver to draw the ROC curve there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

CATEGORICAL = [
    "gender",
    "Partner",
    "Dependents",
    "PhoneService",
    "MultipleLines",
    "InternetService",
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
    "Contract",
    "PaperlessBilling",
    "PaymentMethod",
]
NUMERIC = ["SeniorCitizen", "MonthlyCharges", "TotalCharges"]


def _session():
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[*]"))
        .appName("lab-baseline")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "ERROR")
        .getOrCreate()
    )


def preprocess(input_csv: str, output: str) -> None:
    """Lab-style preprocessing: inferSchema, drop blank TotalCharges, write Parquet."""
    from pyspark.sql import functions as F  # noqa: N812

    spark = _session()
    df = spark.read.csv(input_csv, header=True, inferSchema=True)
    df = df.withColumn("TotalCharges", F.expr("try_cast(trim(TotalCharges) as double)"))
    df = df.dropna(subset=["TotalCharges"])
    df.write.mode("overwrite").parquet(output)


def train(input_dir: str, output: str) -> dict[str, float]:
    """Lab-style training: per-column encoder stages, default RF, ROC drawn on the driver."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import RandomForestClassifier
    from pyspark.ml.feature import OneHotEncoder, StringIndexer, VectorAssembler
    from pyspark.sql import functions as F  # noqa: N812

    spark = _session()
    df = spark.read.parquet(input_dir).withColumn(
        "label", F.when(F.col("Churn") == "Yes", 1.0).otherwise(0.0)
    )
    stages = []
    for col in CATEGORICAL:
        stages.append(StringIndexer(inputCol=col, outputCol=f"{col}_index"))
        stages.append(OneHotEncoder(inputCol=f"{col}_index", outputCol=f"{col}_vec"))
    stages.append(
        VectorAssembler(inputCols=[f"{c}_vec" for c in CATEGORICAL] + NUMERIC, outputCol="features")
    )
    stages.append(RandomForestClassifier(labelCol="label", featuresCol="features", seed=42))
    train_df, test_df = df.randomSplit([0.8, 0.2], seed=42)
    model = Pipeline(stages=stages).fit(train_df)
    rows = model.transform(test_df).select("label", "probability").collect()  # the lab's way
    labels = np.array([r["label"] for r in rows])
    scores = np.array([float(r["probability"][1]) for r in rows])
    order = np.argsort(-scores)
    tps = np.cumsum(labels[order])
    fps = np.cumsum(1 - labels[order])
    tpr = np.concatenate([[0.0], tps / max(tps[-1], 1)])
    fpr = np.concatenate([[0.0], fps / max(fps[-1], 1)])
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    model.write().overwrite().save(output + "/model")
    result = {"auc_roc": auc, "n_test": len(rows)}
    with open(output + "/metrics.json", "w", encoding="utf-8") as f:
        json.dump({**result, "fpr": fpr.tolist(), "tpr": tpr.tolist()}, f)
    return result


def main(argv: list[str] | None = None) -> int:
    """``lab_baseline.py preprocess IN.csv OUT`` or ``lab_baseline.py train PREP OUT``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=["preprocess", "train"])
    parser.add_argument("input")
    parser.add_argument("output")
    args = parser.parse_args(argv)
    if args.phase == "preprocess":
        preprocess(args.input, args.output)
    else:
        os.makedirs(args.output, exist_ok=True)
        print(json.dumps(train(args.input, args.output)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
