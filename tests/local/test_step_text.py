"""Reading kfp.local's text: step figures from task outputs, meaningful lines of a failure."""

from __future__ import annotations

from local.step_text import error_excerpt, figure_from_outputs, strip_ansi

EVALUATE_OUTPUTS = """Task \x1b[96m'evaluate'\x1b[0m outputs:
    value: 0.6119777781159528
    passed: True
    metrics: Metrics( name='metrics',
                      uri='/tmp/run/evaluate/metrics',
                      metadata={'auc_roc': 0.83} )"""


def test_scalar_outputs_become_a_short_figure_and_artifacts_are_left_out():
    assert figure_from_outputs(EVALUATE_OUTPUTS) == "value=0.6120 passed=True"


def test_a_single_return_value_is_shown_as_it_is():
    text = "Task 'local-spark-job' outputs:\n    Output: '7,043 rows, churn rate 26.5%'"
    assert figure_from_outputs(text) == "7,043 rows, churn rate 26.5%"


def test_paths_and_empty_values_are_left_out():
    text = (
        "Task 'select' outputs:\n    model_uri: '/tmp/x/train'\n    source: 'tuned'\n"
        "    note: ''\n    count: 12"
    )
    assert figure_from_outputs(text) == "source=tuned count=12"


def test_error_lines_win_over_stack_frames():
    log = "\n".join(
        [
            "$ python spark/train.py --input /nowhere",
            "Traceback (most recent call last):",
            '  File "/work/spark/churn/jobs.py", line 3, in train',
            "    model = fit()",
            "        ^^^^^",
            "pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] no /nowhere",
            "JVM stacktrace:",
            "org.apache.spark.sql.AnalysisException: [PATH_NOT_FOUND] no /nowhere",
            "\tat org.apache.spark.sql.errors.QueryCompilationErrors$.dataPathNotExist(X.scala:1)",
            "\t... 42 more",
            "RuntimeError: spark job 'train' failed with exit code 1",
        ]
    )
    lines = error_excerpt(log)
    assert lines[0].startswith("pyspark.errors.exceptions.captured.AnalysisException")
    assert lines[-1] == "RuntimeError: spark job 'train' failed with exit code 1"
    assert not any(line.startswith(("at ", "File ", "...")) for line in lines)


def test_input_errors_and_bare_exception_names_count():
    log = "error: --classifier: 'xgb' is not one of ('rf', 'gbt', 'lr')\nAssertionError\n"
    assert error_excerpt(log) == [
        "error: --classifier: 'xgb' is not one of ('rf', 'gbt', 'lr')",
        "AssertionError",
    ]


def test_without_error_lines_the_last_plain_lines_stand_in_and_long_lines_are_cut():
    log = "\n".join([f"line {i}" for i in range(10)] + ["x" * 500])
    lines = error_excerpt(log, limit=3)
    assert lines[:2] == ["line 8", "line 9"] and len(lines[2]) == 240 and lines[2].endswith("…")


def test_strip_ansi():
    assert strip_ansi("\x1b[92mSUCCESS\x1b[0m") == "SUCCESS"


def test_mappings_and_long_identifiers_are_left_out():
    text = (
        "Task 'prepare-run' outputs:\n"
        "    job_label: 'churn-training-2026-11-27-12-31-05-770258-x'\n"
        "    batch_labels: {'environment': 'local'}\n    environment: 'local'"
    )
    assert figure_from_outputs(text) == "environment=local"
