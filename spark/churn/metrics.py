"""metrics.json: computed with Spark aggregations, bounded in size whatever the data size.

Only aggregates reach the driver: a 2x2 confusion matrix, sums for log loss and a histogram of
predicted probabilities in ``N_BINS`` bins, from which the ROC and PR curves are drawn.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

N_BINS = 1000
#: Bins of the AUC tune ranks candidates by (binned_auc_roc).
AUC_BINS = 10_000
MAX_CURVE_POINTS = 200
EPS = 1e-15
LABELS = ["No", "Yes"]


def confusion_summary(tp: int, fp: int, tn: int, fn: int) -> dict[str, Any]:
    """Accuracy, precision, recall, F1 (churn = positive) and the confusion matrix."""
    total = tp + fp + tn + fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": (tp + tn) / total if total else 0.0,
        "f1": f1,
        "precision": precision,
        "recall": recall,
        # rows = actual, columns = predicted, in LABELS order
        "confusion_matrix": {"labels": LABELS, "matrix": [[tn, fp], [fn, tp]]},
    }


def downsample(n: int, max_points: int = MAX_CURVE_POINTS) -> list[int]:
    """Indices of at most ``max_points`` evenly spread points of ``n``, first and last kept."""
    if n <= max_points:
        return list(range(n))
    step = (n - 1) / (max_points - 1)
    return sorted({round(i * step) for i in range(max_points)})


def curves_from_histogram(
    hist: dict[int, tuple[int, int]], n_bins: int = N_BINS
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """ROC and PR curves from {bin: (positives, negatives)}; threshold = bin's lower edge.

    Sweeping the threshold down from 1, each non-empty bin adds its positives to the true
    positives and its negatives to the false positives.
    """
    pos_total = sum(p for p, _ in hist.values())
    neg_total = sum(n for _, n in hist.values())
    fpr, tpr, roc_thr = [0.0], [0.0], [1.0]
    recall, precision, pr_thr = [0.0], [1.0], [1.0]
    tp = fp = 0
    for b in sorted(hist, reverse=True):
        p, n = hist[b]
        tp += p
        fp += n
        thr = b / n_bins
        fpr.append(fp / neg_total if neg_total else 0.0)
        tpr.append(tp / pos_total if pos_total else 0.0)
        roc_thr.append(thr)
        recall.append(tp / pos_total if pos_total else 0.0)
        precision.append(tp / (tp + fp) if tp + fp else 1.0)
        pr_thr.append(thr)
    roc_idx = downsample(len(fpr))
    pr_idx = downsample(len(recall))
    roc = {
        "fpr": [round(fpr[i], 6) for i in roc_idx],
        "tpr": [round(tpr[i], 6) for i in roc_idx],
        "thresholds": [round(roc_thr[i], 6) for i in roc_idx],
    }
    pr = {
        "recall": [round(recall[i], 6) for i in pr_idx],
        "precision": [round(precision[i], 6) for i in pr_idx],
        "thresholds": [round(pr_thr[i], 6) for i in pr_idx],
    }
    return roc, pr


def auc_from_histogram(hist: dict[int, tuple[int, int]]) -> float:
    """Area under the ROC curve of scores binned as {bin: (positives, negatives)}.

    Each negative counts the positives in higher bins, and half of those in its own bin (the
    trapezoid rule, so tied scores count half, as in the exact area). 0.5 without both classes.
    """
    pos_total = sum(p for p, _ in hist.values())
    neg_total = sum(n for _, n in hist.values())
    if not pos_total or not neg_total:
        return 0.5
    above = 0  # positives in higher bins
    area = 0.0
    for b in sorted(hist, reverse=True):
        positives, negatives = hist[b]
        area += negatives * (above + positives / 2)
        above += positives
    return area / (pos_total * neg_total)


def binned_auc_roc(predictions: DataFrame, label_col: str = "label", bins: int = AUC_BINS) -> float:
    """AUC-ROC of `predictions` from one aggregation over `bins` equal-width probability bins.

    tune scores every (candidate, fold) pair with it: BinaryClassificationEvaluator sorts the
    scores (three Spark jobs), this is one. Pairs sharing a bin count half, so it differs from
    the exact area by at most half the share of positive-negative pairs closer than 1/bins:
    1.5e-5 on the sample's folds, far below the differences between candidates.
    """
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F  # noqa: N812

    p = vector_to_array("probability")[1]
    positive = F.col(label_col) == 1.0
    rows = (
        predictions.groupBy(F.least(F.floor(p * bins), F.lit(bins - 1)).alias("bin"))
        .agg(
            F.sum(F.when(positive, 1).otherwise(0)).alias("pos"),
            F.sum(F.when(positive, 0).otherwise(1)).alias("neg"),
        )
        .collect()  # at most `bins` rows
    )
    return auc_from_histogram({int(r["bin"]): (int(r["pos"]), int(r["neg"])) for r in rows})


def evaluate(predictions: DataFrame, label_col: str = "label") -> dict[str, Any]:
    """All metrics of metrics.json except n_train/n_test/feature_importances/params."""
    from pyspark import StorageLevel
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F  # noqa: N812

    slim = predictions.select(
        F.col(label_col).cast("double").alias("label"),
        vector_to_array("probability")[1].alias("p"),
        F.col("prediction").cast("double").alias("prediction"),
        "rawPrediction",
    ).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        p = F.least(F.greatest(F.col("p"), F.lit(EPS)), F.lit(1 - EPS))
        pos = F.col("label") == 1.0
        pred_pos = F.col("prediction") == 1.0
        row = slim.agg(
            F.sum(F.when(pos & pred_pos, 1).otherwise(0)).alias("tp"),
            F.sum(F.when(~pos & pred_pos, 1).otherwise(0)).alias("fp"),
            F.sum(F.when(~pos & ~pred_pos, 1).otherwise(0)).alias("tn"),
            F.sum(F.when(pos & ~pred_pos, 1).otherwise(0)).alias("fn"),
            F.sum(F.when(pos, -F.log(p)).otherwise(-F.log(1 - p))).alias("log_loss_sum"),
        ).first()
        assert row is not None
        tp, fp, tn, fn = (int(row[k] or 0) for k in ("tp", "fp", "tn", "fn"))
        bins = (
            slim.groupBy(F.least(F.floor(F.col("p") * N_BINS), F.lit(N_BINS - 1)).alias("bin"))
            .agg(
                F.sum(F.when(pos, 1).otherwise(0)).alias("pos"),
                F.sum(F.when(pos, 0).otherwise(1)).alias("neg"),
            )
            .collect()  # at most N_BINS rows
        )
        hist = {int(r["bin"]): (int(r["pos"]), int(r["neg"])) for r in bins}
        roc, pr = curves_from_histogram(hist)
        # Spark's own exact areas (distributed sort), the numbers the lab's figures used.
        evaluator = BinaryClassificationEvaluator(labelCol="label")
        auc_roc = evaluator.setMetricName("areaUnderROC").evaluate(slim)
        auc_pr = evaluator.setMetricName("areaUnderPR").evaluate(slim)
    finally:
        slim.unpersist()
    total = tp + fp + tn + fn
    summary = confusion_summary(tp, fp, tn, fn)
    return {
        "auc_roc": float(auc_roc),
        "auc_pr": float(auc_pr),
        "accuracy": summary["accuracy"],
        "f1": summary["f1"],
        "precision": summary["precision"],
        "recall": summary["recall"],
        "log_loss": float(row["log_loss_sum"] or 0.0) / total if total else math.nan,
        "confusion_matrix": summary["confusion_matrix"],
        "roc_curve": roc,
        "pr_curve": pr,
    }
