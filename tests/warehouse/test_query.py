"""The documented query runs against a warehouse filled by real loads and shows both tables."""

from __future__ import annotations

from tests.warehouse import data
from warehouse import query
from warehouse.duckdb_store import DuckDBWarehouse
from warehouse.loads import predictions_load, training_loads
from warehouse.records import Outcome


def test_the_readme_query_shows_metric_history_and_predictions(tmp_path, capsys):
    store = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    for load in training_loads(
        model_name="churn",
        model_version="v1",
        metrics=data.metrics_json(),
        meta=data.model_meta(),
        outcome=Outcome("auc_pr", 0.5, True, True, "first", 0.61),
        data_version="raw.csv",
        code_version="spark/",
        pipeline_job="train-1",
        source="metrics.json",
    ):
        store.replace(load)
    preds = data.write_local(
        tmp_path / "p", data.committed_parquet(data.predictions_table(20, "v1"))
    )
    store.replace(predictions_load(str(preds), "score-1", scoring_date="2026-12-01"))
    sql = query.EXAMPLE.read_text()
    (row,) = store.query(sql)
    assert row[1] == "v1" and row[3] == 0.61 and row[7] == 20 and row[8] == 1
    assert query.main(["--db", str(store.path)]) == 0
    shown = capsys.readouterr().out
    assert "model_version" in shown and "2026-12-01" in shown


def test_a_missing_file_says_how_to_fill_it(tmp_path, capsys):
    assert query.main(["--db", str(tmp_path / "none.duckdb")]) == 2
    assert "make run" in capsys.readouterr().err
