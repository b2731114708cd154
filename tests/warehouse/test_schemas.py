"""The contract itself: the prepared-data copy is current, both targets get the same columns."""

from __future__ import annotations

from churn import clean
from churn.schema import RAW_COLUMNS

from warehouse.schemas import DUCKDB_TYPES, PREPARED_DATA, TABLES

SPARK_TYPES = {"integer": "INT64", "double": "FLOAT64", "string": "STRING"}


def test_prepared_data_columns_are_those_spark_preprocess_writes():
    expected = [*clean.CLEAN_FEATURE_COLUMNS, "churn", "label", "pipeline_job"]
    assert list(PREPARED_DATA.column_names) == expected
    for raw in RAW_COLUMNS:
        name = clean.snake_case(raw.name)
        assert PREPARED_DATA.column(name).type == SPARK_TYPES[raw.spark_type], name


def test_bigquery_schema_and_duckdb_ddl_come_from_one_definition():
    for spec in TABLES.values():
        fields = spec.bigquery_schema()
        ddl = spec.duckdb_ddl()
        assert [f.name for f in fields] == list(spec.column_names)
        for col, f in zip(spec.columns, fields, strict=True):
            assert f.field_type == col.type and f.mode == col.mode
            line = f'"{col.name}" {DUCKDB_TYPES[col.type]}{" NOT NULL" if col.required else ""}'
            assert line in ddl
        assert spec.column("pipeline_job").required  # every load replaces by it


def test_differences_name_each_problem_and_accept_legacy_type_names():
    spec = TABLES["feature_importances"]
    same = [(c.name, {"FLOAT64": "FLOAT", "INT64": "INTEGER"}.get(c.type, c.type), c.required)
            for c in spec.columns]  # fmt: skip
    assert spec.differences(same) == []
    drifted = [
        *same[:2],
        ("importance", "STRING", True),
        ("rank", "INTEGER", False),
        ("x", "DATE", False),
    ]
    assert spec.differences(drifted) == [
        "column importance is STRING, the contract says FLOAT64",
        "column rank is NULLABLE, contract REQUIRED",
        "missing column pipeline_job STRING",
        "unexpected column x",
    ]


def test_the_readme_documents_every_column():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "warehouse" / "README.md").read_text()
    for spec in TABLES.values():
        assert f"### `{spec.name}`" in readme
        for col in spec.columns:
            assert f"| `{col.name}` | {col.type} | {col.mode} |" in readme, (spec.name, col.name)
