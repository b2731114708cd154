"""Each Spark transformation on tiny in-memory frames: validation, cleaning, features, metrics."""

from __future__ import annotations

import pytest
from churn import clean, features
from churn.errors import InputError
from churn.metrics import evaluate
from churn.schema import TRAINING_COLUMN_NAMES

from tests.spark.churn_test_helpers import raw_row

pytestmark = pytest.mark.spark


def raw_frame(spark, rows: list[dict[str, str]]):
    """A raw (all-text) frame as read from a CSV."""
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType([StructField(c, StringType()) for c in TRAINING_COLUMN_NAMES])
    return spark.createDataFrame([[r.get(c) for c in TRAINING_COLUMN_NAMES] for r in rows], schema)


def test_validate_counts_blanks_and_passes_good_rows(spark) -> None:
    rows = [
        raw_row(),
        raw_row(customerID="0002-B", tenure="0", TotalCharges=" ", Churn="No"),
        raw_row(customerID="0003-C", tenure="5", TotalCharges=""),
        raw_row(
            customerID="0004-D",
            InternetService="No",
            **dict.fromkeys(
                [
                    "OnlineSecurity",
                    "OnlineBackup",
                    "DeviceProtection",
                    "TechSupport",
                    "StreamingTV",
                    "StreamingMovies",
                ],
                "No internet service",
            ),
        ),
    ]
    stats = clean.validate(raw_frame(spark, rows), "t.csv", with_label=True)
    assert stats == {
        "rows": 4,
        "blank_total_tenure_0": 1,
        "blank_total_imputed": 1,
        "no_internet": 1,
        "no_phone": 0,
        "churn_yes": 3,
    }


@pytest.mark.parametrize(
    ("column", "bad", "expected"),
    [
        ("MonthlyCharges", "abc", "expected a number >= 0"),
        ("MonthlyCharges", "-3", "expected a number >= 0"),
        ("Churn", "Maybe", "expected one of 'No', 'Yes'"),
        ("tenure", "1.5", "whole number of months"),
        ("SeniorCitizen", "2", "expected 0 or 1"),
        ("Contract", "Monthly", "'Month-to-month'"),
        ("TotalCharges", "n/a", "a number >= 0 or a blank"),
        ("customerID", "", "non-empty customer id"),
    ],
)
def test_validate_names_column_example_and_row(spark, column, bad, expected) -> None:
    rows = [raw_row(), raw_row(**{"customerID": "0009-BAD", column: bad})]
    with pytest.raises(InputError) as err:
        clean.validate(raw_frame(spark, rows), "in.csv", with_label=True)
    msg = str(err.value)
    assert msg.startswith("in.csv: 1 column(s)")
    assert f"column {column}: 1 bad value(s)" in msg
    assert repr(bad) in msg or "<empty>" in msg
    assert expected in msg
    if column != "customerID":
        assert "customerID 0009-BAD" in msg


def test_validate_rejects_a_header_only_file(spark) -> None:
    with pytest.raises(InputError, match="no data rows"):
        clean.validate(raw_frame(spark, []), "in.csv", with_label=True)


def test_clean_types_blanks_services_band_and_label(spark) -> None:
    rows = [
        raw_row(customerID=" 0001-A ", tenure="0", TotalCharges=" ", Churn="No"),
        raw_row(customerID="0002-B", tenure="10", MonthlyCharges="20.5", TotalCharges=" "),
        raw_row(
            customerID="0003-C",
            tenure="72",
            PhoneService="No",
            MultipleLines="No phone service",
            OnlineSecurity="No internet service",
        ),
    ]
    out = clean.clean(raw_frame(spark, rows), with_label=True)
    assert out.columns == [*clean.CLEAN_FEATURE_COLUMNS, "churn", "label"]
    types = dict(out.dtypes)
    assert types["tenure"] == types["senior_citizen"] == "int"
    assert types["monthly_charges"] == types["total_charges"] == types["label"] == "double"
    got = {r["customer_id"]: r for r in out.collect()}
    assert got["0001-A"]["total_charges"] == 0.0  # tenure 0: nothing billed yet
    assert got["0001-A"]["tenure_band"] == "0-12"
    assert got["0001-A"]["label"] == 0.0
    assert got["0002-B"]["total_charges"] == pytest.approx(205.0)  # imputed tenure x monthly
    assert got["0002-B"]["label"] == 1.0
    assert got["0003-C"]["multiple_lines"] == "No"
    assert got["0003-C"]["online_security"] == "No"
    assert got["0003-C"]["tenure_band"] == "61+"


def test_clean_without_label_has_no_churn_columns(spark) -> None:
    out = clean.clean(raw_frame(spark, [raw_row()]).drop("Churn"), with_label=False)
    assert "label" not in out.columns
    assert "churn" not in out.columns


def test_derived_features(spark) -> None:
    from pyspark.ml.feature import SQLTransformer

    rows = [
        raw_row(customerID="a", tenure="10", MonthlyCharges="100", TotalCharges="900"),
        raw_row(customerID="b", tenure="0", MonthlyCharges="50", TotalCharges=" "),
        raw_row(
            customerID="c",
            InternetService="No",
            **dict.fromkeys(
                [
                    "OnlineSecurity",
                    "OnlineBackup",
                    "DeviceProtection",
                    "TechSupport",
                    "StreamingTV",
                    "StreamingMovies",
                ],
                "No internet service",
            ),
        ),
    ]
    cleaned = clean.clean(raw_frame(spark, rows), with_label=True)
    got = {
        r["customer_id"]: r
        for r in SQLTransformer(statement=features.DERIVED_SQL).transform(cleaned).collect()
    }
    assert got["a"]["avg_monthly_charges"] == pytest.approx(90.0)
    assert got["a"]["charges_delta"] == pytest.approx(10.0)
    assert got["a"]["num_addons"] == 2  # OnlineBackup + StreamingTV in raw_row
    assert got["a"]["num_services"] == 4  # + phone + internet
    assert got["b"]["avg_monthly_charges"] == pytest.approx(50.0)
    assert got["b"]["charges_delta"] == pytest.approx(0.0)
    assert got["c"]["num_addons"] == 0
    assert got["c"]["num_services"] == 1


@pytest.fixture(scope="module")
def tiny_training(spark):
    """Two hundred generated customers, cleaned."""
    import io as pyio

    from churn import generator

    buf = pyio.StringIO()
    generator.write_csv(buf, 200, seed=3)
    lines = buf.getvalue().splitlines()
    import csv

    rows = list(csv.DictReader(lines))
    return clean.clean(raw_frame(spark, rows), with_label=True)


def test_pipeline_one_indexer_one_encoder_and_human_feature_names(tiny_training) -> None:
    pipeline = features.build_pipeline("lr", seed=1)
    kinds = [type(s).__name__ for s in pipeline.getStages()]
    assert kinds.count("StringIndexer") == 1
    assert kinds.count("OneHotEncoder") == 1
    model = pipeline.fit(tiny_training)
    names = features.feature_names(model, tiny_training)
    assert names[: len(features.NUMERIC)] == list(features.NUMERIC)
    assert "contract=Two year" in names
    assert "internet_service=Fiber optic" in names
    scores = features.classifier_importances(model)
    assert len(scores) == len(names)
    assert all(s >= 0 for s in scores)


def test_scoring_tolerates_a_category_unseen_in_training(spark, tiny_training) -> None:
    model = features.build_pipeline("rf", seed=1, params={"numTrees": 5}).fit(
        tiny_training.filter("payment_method <> 'Mailed check'")
    )
    scored = model.transform(tiny_training.filter("payment_method = 'Mailed check'"))
    assert scored.count() == tiny_training.filter("payment_method = 'Mailed check'").count()


def test_evaluate_metrics_from_aggregates(spark) -> None:
    from pyspark.ml.linalg import Vectors

    # label, P(churn): 4 positives, 4 negatives, one inversion (0.55 neg above 0.5 pos)
    data = [
        (1.0, 0.9),
        (1.0, 0.8),
        (1.0, 0.6),
        (1.0, 0.5),
        (0.0, 0.55),
        (0.0, 0.3),
        (0.0, 0.2),
        (0.0, 0.1),
    ]
    df = spark.createDataFrame(
        [
            (label, Vectors.dense([1 - p, p]), Vectors.dense([1 - p, p]), float(p >= 0.5))
            for label, p in data
        ],
        ["label", "probability", "rawPrediction", "prediction"],
    )
    m = evaluate(df)
    assert m["auc_roc"] == pytest.approx(15 / 16)
    # PR points (recall, precision) down the scores 0.9 0.8 0.6 | 0.55(neg) | 0.5: from (0, 1)
    # to (.75, 1), down to (.75, .75), to (1, .8); lower scores are negatives (recall stays 1)
    assert m["auc_pr"] == pytest.approx(0.75 + 0.25 * (0.75 + 0.8) / 2)
    assert m["confusion_matrix"]["matrix"] == [[3, 1], [0, 4]]
    assert m["accuracy"] == pytest.approx(7 / 8)
    assert m["precision"] == pytest.approx(0.8)
    assert m["recall"] == pytest.approx(1.0)
    assert 0 < m["log_loss"] < 1
    assert m["roc_curve"]["tpr"][-1] == 1.0
    assert len(m["roc_curve"]["fpr"]) == len(m["roc_curve"]["thresholds"]) <= 200
    assert len(m["pr_curve"]["recall"]) == len(m["pr_curve"]["precision"]) <= 200
