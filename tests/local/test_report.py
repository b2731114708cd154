"""The local-run report: Markdown + one self-contained HTML page, deltas, champion hook, browser."""

from __future__ import annotations

import json
import math
import os
import re
import time
from pathlib import Path

import pytest

from local import report
from tests.local import browser


def fake_metrics(auc_roc: float, auc_pr: float, log_loss: float) -> dict:
    """A metrics.json like train.py writes, with a smooth ROC / PR curve."""
    grid = [i / 50 for i in range(51)]
    return {
        "auc_roc": auc_roc,
        "auc_pr": auc_pr,
        "accuracy": 0.8,
        "f1": 0.58,
        "precision": 0.65,
        "recall": 0.52,
        "log_loss": log_loss,
        "confusion_matrix": {"labels": ["No", "Yes"], "matrix": [[950, 80], [180, 199]]},
        "roc_curve": {"fpr": grid, "tpr": [math.sqrt(x) for x in grid]},
        "pr_curve": {"recall": grid, "precision": [1 - 0.6 * x for x in grid]},
        "n_train": 5634,
        "n_test": 1409,
        "feature_importances": [{"feature": "contract=Two year", "importance": 0.2}],
        "column_importances": [
            {"column": "contract", "importance": 0.31},
            {"column": "tenure", "importance": 0.18},
            {"column": "online_security", "importance": 0.07},
        ],
        "params": {"classifier": "lr", "regParam": 0.01},
    }


def report_data(tmp_path: Path, **overrides) -> report.ReportData:
    values = dict(
        run_id="churn-training-20261127-120000",
        pipeline="churn-training",
        outputs={"model_source": "tuned", "gate_passed": True, "model_uri": str(tmp_path)},
        parameters={"gate_metric": "auc_pr", "gate_threshold": 0.5},
        steps=[("preprocess", 4.2, "7,043 rows"), ("train", 6.1, "rf, auc_roc 0.8300")],
        total_seconds=31.5,
        summary_outputs=("model_source", "gate_passed"),
        metrics=fake_metrics(0.84, 0.62, 0.43),
        previous=report.Previous("churn-training-20261126-120000", fake_metrics(0.83, 0.63, 0.45)),
    )
    values.update(overrides)
    return report.ReportData(**values)


def test_deltas_say_which_way_is_better_log_loss_included(tmp_path):
    data = report_data(tmp_path)
    assert report.signed(data.delta("auc_roc"), "auc_roc") == "+0.0100 (better)"
    assert report.signed(data.delta("auc_pr"), "auc_pr") == "-0.0100 (worse)"
    assert report.signed(data.delta("log_loss"), "log_loss") == "-0.0200 (better)"
    assert report_data(tmp_path, previous=None).delta("auc_roc") is None


def test_markdown_and_html_are_written_with_every_figure(tmp_path):
    markdown, html = report.write_report(tmp_path / "report", report_data(tmp_path))
    for name in ("roc.png", "pr.png", "confusion.png", "importance.png", "metrics.json"):
        assert (markdown.parent / name).stat().st_size > 0, name
    text = markdown.read_text()
    assert "| auc_roc | 0.8400 | +0.0100 (better) |" in text
    assert "| contract | 0.3100 |" in text and "![ROC curve](roc.png)" in text
    page = html.read_text()
    # self-contained: every image inline, nothing fetched from anywhere
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 4 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r'(href|src)="(https?:|//)', page) and "<script" not in page
    assert "vs churn-training-20261126-120000" in page and 'class="num better"' in page


def test_champion_figures_appear_only_when_the_outputs_carry_them(tmp_path):
    plain = report.render_markdown(report_data(tmp_path))
    assert "Champion comparison" not in plain
    outputs = {
        "champion_version": "v20261127t120000z-abcd",
        "champion_value": 0.61,
        "challenger_value": 0.62,
        "promoted": True,
        "decision": "challenger beats champion",
    }
    text = report.render_markdown(report_data(tmp_path, outputs=outputs))
    assert "## Champion comparison" in text and "| champion_value | 0.6100 |" in text


def test_importances_from_older_metrics_are_grouped_per_column():
    metrics = {
        "feature_importances": [
            {"feature": "contract=Month-to-month", "importance": 0.2},
            {"feature": "tenure", "importance": 0.15},
            {"feature": "contract=Two year", "importance": 0.1},
        ]
    }
    rows = report.column_importances(metrics)
    assert rows[0][0] == "contract" and rows[0][1] == pytest.approx(0.3)
    assert rows[1] == ("tenure", 0.15)


def test_previous_run_is_the_newest_other_run_of_the_same_pipeline(tmp_path):
    def make(run_id: str, pipeline: str, auc: float, age: float) -> Path:
        run_dir = tmp_path / run_id
        (run_dir / "report").mkdir(parents=True)
        (run_dir / "report" / "metrics.json").write_text(json.dumps({"auc_roc": auc}))
        outputs = run_dir / "outputs.json"
        outputs.write_text(json.dumps({"pipeline": pipeline}))
        stamp = time.time() - age
        os.utime(outputs, (stamp, stamp))
        return run_dir

    make("old", "churn-training", 0.80, 300)
    make("newer", "churn-training", 0.82, 200)
    make("other", "churn-scoring", 0.99, 100)
    current = make("current", "churn-training", 0.83, 0)
    previous = report.previous_run(tmp_path, "churn-training", current)
    assert previous is not None and previous.run_id == "newer"
    assert previous.metrics == {"auc_roc": 0.82}
    assert report.previous_run(tmp_path, "nothing", current) is None


# CI (.ci/run) installs Chromium and sets CHURN_REQUIRE_BROWSER=1, so there a missing browser
# fails the test instead of skipping it quietly; elsewhere the test says why it skipped.
_REQUIRED = os.environ.get("CHURN_REQUIRE_BROWSER") == "1"
needs_browser = pytest.mark.skipif(
    browser.missing() is not None and not _REQUIRED, reason=str(browser.missing())
)


@needs_browser
def test_the_html_report_renders_in_headless_chromium(tmp_path):
    _, html = report.write_report(tmp_path / "report", report_data(tmp_path))
    seen = browser.check_page(html.resolve().as_uri())
    assert seen.title == "churn-training-20261127-120000"
    assert seen.heading == "churn-training-20261127-120000"
    assert len(seen.image_widths) == 4 and all(w > 0 for w in seen.image_widths)
    assert seen.console_errors == []


@needs_browser
def test_the_browser_check_catches_broken_images_and_console_errors(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>t</title></head><body><h1>h</h1>"
        '<img src="missing.png"><script>console.error("boom")</script></body></html>'
    )
    seen = browser.check_page(page.as_uri())
    assert seen.image_widths == [0]
    assert any("boom" in line for line in seen.console_errors)


def test_file_uris_in_both_spellings_are_local_paths():
    assert report.local_path("file:/tmp/a%20b/x") == Path("/tmp/a b/x")
    assert report.local_path("file:///tmp/x") == Path("/tmp/x")
    assert report.local_path("/tmp/x") == Path("/tmp/x")


def test_the_report_reads_the_metrics_a_version_committed_and_nothing_else(tmp_path):
    from contract.outputs import NotCommittedError
    from tests.committed import write_committed

    version = tmp_path / "churn" / "versions" / "v1"
    write_committed(version, {"metrics.json": json.dumps({"auc_roc": 0.8}).encode()}, root="")
    assert report.load_metrics(version.as_uri())["auc_roc"] == 0.8
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "metrics.json").write_text(json.dumps({"auc_roc": 0.99}))
    with pytest.raises(NotCommittedError, match=r"there is no manifest\.json"):
        report.load_metrics(str(tmp_path / "half"))
