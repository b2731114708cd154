"""Pure logic of the churn package: schema, header checks, grid, metrics maths, generator, io."""

from __future__ import annotations

import csv
import io as pyio
import itertools
from pathlib import Path

import pytest
from churn import generator, grid, io, metrics
from churn.errors import InputError
from churn.features import human_feature_name, top_importances
from churn.schema import (
    FEATURE_COLUMN_NAMES,
    RAW_COLUMNS,
    TRAINING_COLUMN_NAMES,
    check_header,
    raw_columns_spec,
    snake_case,
)


@pytest.mark.parametrize(
    ("raw", "snake"),
    [
        ("customerID", "customer_id"),
        ("SeniorCitizen", "senior_citizen"),
        ("tenure", "tenure"),
        ("StreamingTV", "streaming_tv"),
        ("MonthlyCharges", "monthly_charges"),
        ("PaperlessBilling", "paperless_billing"),
    ],
)
def test_snake_case(raw: str, snake: str) -> None:
    assert snake_case(raw) == snake


def test_check_header_accepts_the_schema_in_any_order() -> None:
    check_header(list(reversed(TRAINING_COLUMN_NAMES)), "x.csv", require_label=True)
    check_header(list(FEATURE_COLUMN_NAMES), "x.csv", require_label=False)
    # a labelled file can be scored
    check_header(list(TRAINING_COLUMN_NAMES), "x.csv", require_label=False)


def test_check_header_names_missing_unexpected_and_duplicate_columns() -> None:
    cols = [c for c in TRAINING_COLUMN_NAMES if c != "MonthlyCharges"] + ["Extra", "tenure"]
    with pytest.raises(InputError) as err:
        check_header(cols, "data/raw.csv", require_label=True)
    msg = str(err.value)
    assert msg.startswith("data/raw.csv: ")
    assert "missing column(s) MonthlyCharges" in msg
    assert "'Extra'" in msg
    assert "duplicate column(s) tenure" in msg


def test_check_header_requires_churn_for_training() -> None:
    with pytest.raises(InputError, match="missing column\\(s\\) Churn"):
        check_header(list(FEATURE_COLUMN_NAMES), "x.csv", require_label=True)


def test_raw_columns_spec_records_cleaned_types() -> None:
    spec = {c["name"]: c["type"] for c in raw_columns_spec(with_label=False)}
    assert spec["tenure"] == "integer"
    assert spec["SeniorCitizen"] == "integer"
    assert spec["MonthlyCharges"] == spec["TotalCharges"] == "double"
    assert spec["Contract"] == "string"
    assert "Churn" not in spec


def test_parse_grid_defaults_and_overrides() -> None:
    default = grid.parse_grid(None, "auto")
    assert set(default) == {"lr", "gbt"}
    assert default["lr"]["elasticNetParam"] == [0.0, 0.5]
    got = grid.parse_grid(["lr.regParam=0.1,1", "maxIter=5"], "auto")
    assert got["lr"]["regParam"] == [0.1, 1]
    assert got["lr"]["maxIter"] == [5]
    assert got["gbt"]["maxIter"] == [5]  # unprefixed: every family that has the param
    assert grid.parse_grid(["featureSubsetStrategy=sqrt,all"], "rf")["rf"][
        "featureSubsetStrategy"
    ] == ["sqrt", "all"]


@pytest.mark.parametrize(
    ("specs", "classifier", "fragment"),
    [
        (["regParam"], "lr", "expected NAME=V1,V2"),
        (["lr.bogus=1"], "lr", "unknown parameter 'bogus'"),
        (["rf.maxDepth=3"], "auto", "family 'rf' is not searched"),
        ([], "svm", "unknown value 'svm'"),
    ],
)
def test_parse_grid_errors_name_the_spec(specs: list[str], classifier: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        grid.parse_grid(specs, classifier)


def test_expand_is_the_cartesian_product() -> None:
    combos = grid.expand({"b": [1, 2], "a": ["x", "y", "z"]})
    assert len(combos) == 6
    assert combos[0] == {"a": "x", "b": 1}


def test_confusion_summary() -> None:
    s = metrics.confusion_summary(tp=30, fp=10, tn=50, fn=10)
    assert s["accuracy"] == pytest.approx(0.8)
    assert s["precision"] == pytest.approx(0.75)
    assert s["recall"] == pytest.approx(0.75)
    assert s["f1"] == pytest.approx(0.75)
    assert s["confusion_matrix"] == {"labels": ["No", "Yes"], "matrix": [[50, 10], [10, 30]]}
    assert metrics.confusion_summary(0, 0, 5, 0)["precision"] == 0.0


def test_downsample_keeps_ends_and_bounds_size() -> None:
    idx = metrics.downsample(1001)
    assert len(idx) <= metrics.MAX_CURVE_POINTS
    assert idx[0] == 0
    assert idx[-1] == 1000
    assert metrics.downsample(5) == [0, 1, 2, 3, 4]


def _exact_auc(scores: list[float], labels: list[int]) -> float:
    """Mann-Whitney: the share of (positive, negative) pairs ranked right, ties counting half."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y == 1]
    neg = [s for s, y in zip(scores, labels, strict=True) if y == 0]
    right = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return right / (len(pos) * len(neg))


def _histogram(scores: list[float], labels: list[int], bins: int) -> dict[int, tuple[int, int]]:
    hist: dict[int, tuple[int, int]] = {}
    for s, y in zip(scores, labels, strict=True):
        b = min(int(s * bins), bins - 1)
        pos, neg = hist.get(b, (0, 0))
        hist[b] = (pos + y, neg + 1 - y)
    return hist


def test_binned_auc_matches_the_exact_area_and_counts_ties_half() -> None:
    import random

    rng = random.Random(7)
    labels = [int(rng.random() < 0.3) for _ in range(600)]
    scores = [min(0.999999, max(0.0, rng.gauss(0.35 + 0.25 * y, 0.2))) for y in labels]
    exact = _exact_auc(scores, labels)
    assert 0.7 < exact < 0.9
    fine = metrics.auc_from_histogram(_histogram(scores, labels, metrics.AUC_BINS))
    assert fine == pytest.approx(exact, abs=2e-4)
    # scores on a grid coarser than the bins: every tie is inside one bin, the area is exact
    coarse = [(int(s * 100) + 0.5) / 100 for s in scores]  # bin centres: no float edge cases
    assert metrics.auc_from_histogram(_histogram(coarse, labels, 100)) == pytest.approx(
        _exact_auc(coarse, labels)
    )
    # all tied: a coin; perfect ranking: 1; one class only: 0.5 by convention
    assert metrics.auc_from_histogram({5: (10, 20)}) == 0.5
    assert metrics.auc_from_histogram({9: (4, 0), 1: (0, 6)}) == 1.0
    assert metrics.auc_from_histogram({9: (0, 4), 1: (6, 0)}) == 0.0
    assert metrics.auc_from_histogram({3: (5, 0)}) == 0.5


def _exact_auc_pr(scores: list[float], labels: list[int]) -> float:
    """Spark's definition on raw scores: a point per distinct score, from (0, first precision)."""
    pairs = sorted(zip(scores, labels, strict=True), reverse=True)
    positives = sum(labels)
    points, tp, fp, i = [], 0, 0, 0
    while i < len(pairs):
        score = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == score:
            tp += pairs[i][1]
            fp += 1 - pairs[i][1]
            i += 1
        points.append((tp / positives, tp / (tp + fp)))
    points.insert(0, (0.0, points[0][1]))
    return sum((r2 - r1) * (p1 + p2) / 2 for (r1, p1), (r2, p2) in itertools.pairwise(points))


def test_binned_pr_area_matches_sparks_definition() -> None:
    import random

    rng = random.Random(11)
    labels = [int(rng.random() < 0.27) for _ in range(1500)]
    scores = [min(0.999999, max(0.0, rng.gauss(0.3 + 0.3 * y, 0.18))) for y in labels]
    binned = metrics.auc_pr_from_histogram(_histogram(scores, labels, metrics.AUC_BINS))
    assert binned == pytest.approx(_exact_auc_pr(scores, labels), abs=5e-4)
    centred = [(int(s * 100) + 0.5) / 100 for s in scores]
    assert metrics.auc_pr_from_histogram(_histogram(centred, labels, 100)) == pytest.approx(
        _exact_auc_pr(centred, labels)
    )
    assert metrics.auc_pr_from_histogram({9: (3, 0), 2: (0, 5)}) == 1.0
    assert metrics.auc_pr_from_histogram({2: (0, 5)}) == 0.0


def test_curves_from_histogram_perfect_and_bounded() -> None:
    # positives all in high bins, negatives all in low bins: a perfect ranking
    hist = {b: (3, 0) for b in range(600, 1000)} | {b: (0, 2) for b in range(0, 400)}
    roc, pr = metrics.curves_from_histogram(hist)
    assert len(roc["fpr"]) <= 200
    assert len(pr["recall"]) <= 200
    assert roc["fpr"][0] == 0.0
    assert roc["tpr"][-1] == 1.0
    assert roc["fpr"][-1] == 1.0
    # while only positives are passed the ROC climbs at fpr 0 (to within the downsampling)
    assert max(t for f, t in zip(roc["fpr"], roc["tpr"], strict=True) if f == 0.0) >= 0.99
    assert all(a >= b for a, b in zip(roc["thresholds"], roc["thresholds"][1:], strict=False))
    assert pr["precision"][0] == 1.0


def test_generator_same_seed_same_bytes_and_schema() -> None:
    a, b, c = pyio.StringIO(), pyio.StringIO(), pyio.StringIO()
    generator.write_csv(a, 300, seed=5)
    generator.write_csv(b, 300, seed=5)
    generator.write_csv(c, 300, seed=6)
    assert a.getvalue() == b.getvalue()
    assert a.getvalue() != c.getvalue()
    rows = list(csv.DictReader(pyio.StringIO(a.getvalue())))
    assert list(rows[0]) == list(TRAINING_COLUMN_NAMES)
    allowed = {col.name: set(col.values) for col in RAW_COLUMNS if col.kind == "category"}
    for row in rows:
        for name, values in allowed.items():
            assert row[name] in values, (name, row[name])
        assert row["Churn"] in ("Yes", "No")
    scoring = pyio.StringIO()
    generator.write_csv(scoring, 10, seed=5, scoring=True)
    assert scoring.getvalue().splitlines()[0].split(",") == list(FEATURE_COLUMN_NAMES)


def test_generator_matches_the_public_datasets_shape() -> None:
    cols = generator.generate_rows(7043, seed=11)
    n = 7043

    def share(name: str, value: object) -> float:
        return sum(v == value for v in cols[name]) / n

    assert 0.24 <= share("Churn", "Yes") <= 0.29
    assert 0.50 <= share("Contract", "Month-to-month") <= 0.60
    assert 0.40 <= share("InternetService", "Fiber optic") <= 0.50
    assert 0.30 <= share("PaymentMethod", "Electronic check") <= 0.38
    assert 0.13 <= share("SeniorCitizen", 1) <= 0.19
    tenure = cols["tenure"]
    assert min(tenure) == 0
    assert max(tenure) == 72
    monthly = [float(v) for v in cols["MonthlyCharges"]]
    assert min(monthly) >= 18.0
    assert max(monthly) <= 119.0
    for t, m, total, churn, phone, lines in zip(
        tenure,
        monthly,
        cols["TotalCharges"],
        cols["Churn"],
        cols["PhoneService"],
        cols["MultipleLines"],
        strict=True,
    ):
        assert (total == " ") == (t == 0)  # the public file's quirk
        if t > 0:
            assert 0.75 * t * m <= float(total) <= 1.2 * t * m
        else:
            assert churn == "No"
        assert (phone == "No") == (lines == "No phone service")

    def churn_rate(name: str, value: object) -> float:
        picked = [c for v, c in zip(cols[name], cols["Churn"], strict=True) if v == value]
        return sum(c == "Yes" for c in picked) / len(picked)

    # the drivers of churn point the way they do in the real data
    assert churn_rate("Contract", "Month-to-month") > 3 * churn_rate("Contract", "Two year")
    assert churn_rate("InternetService", "Fiber optic") > churn_rate("InternetService", "DSL")
    assert churn_rate("PaymentMethod", "Electronic check") > churn_rate(
        "PaymentMethod", "Mailed check"
    )
    assert churn_rate("TechSupport", "No") > churn_rate("TechSupport", "Yes")


def test_sniff_local_csv_header(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("\ufeffa,b,c\n1,2,3\n", encoding="utf-8")
    assert io.sniff_local_csv_header(str(good)) == ["a", "b", "c"]
    assert io.sniff_local_csv_header(f"file://{good}") == ["a", "b", "c"]
    assert io.sniff_local_csv_header("gs://bucket/x.csv") is None
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"  \n")
    with pytest.raises(InputError, match="empty"):
        io.sniff_local_csv_header(str(empty))
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00garbage")
    with pytest.raises(InputError, match="NUL byte at byte offset 4"):
        io.sniff_local_csv_header(str(binary))
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"customerID,gender\n0001,F\xe9male\n" + b"x" * 10)
    with pytest.raises(InputError, match="not a UTF-8 CSV"):
        io.sniff_local_csv_header(str(latin))
    with pytest.raises(InputError, match="not found"):
        io.sniff_local_csv_header(str(tmp_path / "missing.csv"))


def test_read_json_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "meta.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match=r"meta\.json: not valid JSON"):
        io.read_json(None, str(bad))
    with pytest.raises(InputError, match="cannot read"):
        io.read_json(None, str(tmp_path / "nope.json"))


def test_feature_names_and_importances() -> None:
    assert human_feature_name("contract_vec_Two year") == "contract=Two year"
    assert human_feature_name("tenure") == "tenure"
    top = top_importances(["a", "b", "c", "d"], [0.1, 0.5, 0.0, 0.4], top=2)
    assert top == [{"feature": "b", "importance": 0.5}, {"feature": "d", "importance": 0.4}]


def test_uri_helpers() -> None:
    assert io.is_local("runs/prep")
    assert io.is_local("file:///tmp/x")
    assert not io.is_local("gs://bucket/x")
    assert io.local_path("file:///tmp/x") == "/tmp/x"
    assert io.local_path(Path("/tmp/a b/v1").as_uri()) == "/tmp/a b/v1"
    assert io.spark_path("gs://bucket/x") == "gs://bucket/x"
    assert io.join("gs://bucket/out/", "model") == "gs://bucket/out/model"
    tmp = io.staging_uri("gs://bucket/runs/train")
    assert tmp.startswith("gs://bucket/runs/.train.tmp-")
    assert io.staging_uri("gs://bucket/runs/train") != tmp  # unique per run
