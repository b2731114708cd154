"""The written contract of the warehouse tables: one definition for BigQuery and DuckDB.

Each table is a `TableSpec` of `Column`s with a logical type (the GoogleSQL name). BigQuery gets
`SchemaField`s, partitioning and clustering from it; DuckDB gets `CREATE TABLE` DDL with the
matching types. The same spec drives the schema check both targets run before loading, so a
table that drifted from the contract is refused, never silently loaded into.

`PREPARED_DATA` repeats the cleaned columns of `spark/churn/clean.py` (the components image does
not ship the Spark package); `tests/warehouse/test_schemas.py` fails when the two drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

#: GoogleSQL type -> DuckDB type. BigQuery reports legacy names on read (FLOAT, INTEGER...).
DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "FLOAT64": "DOUBLE",
    "INT64": "BIGINT",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP WITH TIME ZONE",
    "DATE": "DATE",
}
_LEGACY = {"FLOAT": "FLOAT64", "INTEGER": "INT64", "BOOLEAN": "BOOL"}
#: DuckDB's information_schema data_type -> GoogleSQL type (for the local schema check).
_FROM_DUCKDB = {v: k for k, v in DUCKDB_TYPES.items()}


def standard_type(name: str) -> str:
    """The GoogleSQL name of a BigQuery type as the API reports it (`FLOAT` -> `FLOAT64`)."""
    upper = name.upper()
    return _LEGACY.get(upper, upper)


def from_duckdb_type(name: str) -> str:
    """The GoogleSQL type a DuckDB column type stands for (unknown types are kept as they are)."""
    return _FROM_DUCKDB.get(name.upper(), name.upper())


@dataclass(frozen=True)
class Column:
    """One column: name, GoogleSQL type, whether it may be NULL, and what it means."""

    name: str
    type: str
    description: str
    required: bool = False

    @property
    def mode(self) -> str:
        """The BigQuery mode (REQUIRED / NULLABLE)."""
        return "REQUIRED" if self.required else "NULLABLE"


@dataclass(frozen=True)
class TableSpec:
    """A warehouse table: its columns, partitioning (a DATE column, by DAY) and clustering."""

    name: str
    description: str
    columns: tuple[Column, ...]
    partition_by: str | None = None
    cluster_by: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        """The column names, in contract order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """One column by name (KeyError if the contract has none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name} has no column {name!r}")

    def bigquery_schema(self) -> list:
        """The table's `google.cloud.bigquery.SchemaField`s."""
        from google.cloud import bigquery

        return [
            bigquery.SchemaField(c.name, c.type, mode=c.mode, description=c.description)
            for c in self.columns
        ]

    def duckdb_ddl(self, qualified_name: str | None = None) -> str:
        """`CREATE TABLE IF NOT EXISTS` for DuckDB, same columns, types and NOT NULLs."""
        cols = ",\n  ".join(
            f'"{c.name}" {DUCKDB_TYPES[c.type]}{" NOT NULL" if c.required else ""}'
            for c in self.columns
        )
        return f'CREATE TABLE IF NOT EXISTS "{qualified_name or self.name}" (\n  {cols}\n)'

    def differences(self, found: list[tuple[str, str, bool]]) -> list[str]:
        """How `found` (name, GoogleSQL type, required) differs from the contract ([] = same)."""
        problems = []
        have = {name: (standard_type(kind), required) for name, kind, required in found}
        for col in self.columns:
            if col.name not in have:
                problems.append(f"missing column {col.name} {col.type}")
                continue
            kind, required = have[col.name]
            if kind != col.type:
                problems.append(f"column {col.name} is {kind}, the contract says {col.type}")
            elif required != col.required:
                problems.append(f"column {col.name} is {_mode(required)}, contract {col.mode}")
        extra = [name for name, _, _ in found if name not in self.column_names]
        problems.extend(f"unexpected column {name}" for name in extra)
        return problems


def _mode(required: bool) -> str:
    return "REQUIRED" if required else "NULLABLE"


PIPELINE_JOB = Column(
    "pipeline_job",
    "STRING",
    "Vertex AI PipelineJob id (or local run id) that wrote the row; a re-run replaces its rows",
    required=True,
)

PREDICTIONS = TableSpec(
    name="predictions",
    description="One row per scored customer per scoring run.",
    columns=(
        Column("customer_id", "STRING", "customerID of the scored customer", required=True),
        Column("churn_probability", "FLOAT64", "P(churn) from the model, 0..1", required=True),
        Column("predicted_label", "STRING", "Yes / No at the model's threshold", required=True),
        Column("model_version", "STRING", "registry version of the model used", required=True),
        Column("scored_at", "TIMESTAMP", "when the run's predictions were loaded", required=True),
        PIPELINE_JOB,
        Column("scoring_date", "DATE", "the run's scoring date (partition)", required=True),
    ),
    partition_by="scoring_date",
    cluster_by=("customer_id",),
)

_METRICS = ("auc_roc", "auc_pr", "accuracy", "f1", "precision", "recall", "log_loss")

MODEL_METRICS = TableSpec(
    name="model_metrics",
    description="One row per trained model version: metrics, gate and champion/challenger outcome.",
    columns=(
        Column("model_name", "STRING", "registry model name", required=True),
        Column("model_version", "STRING", "registry version", required=True),
        Column("classifier", "STRING", "rf, gbt, lr ... from model_meta.json"),
        *(Column(m, "FLOAT64", f"{m} on the test split") for m in _METRICS),
        Column("confusion_matrix", "STRING", "JSON {labels, matrix}"),
        Column("n_train", "INT64", "training rows"),
        Column("n_test", "INT64", "test rows"),
        Column("params", "STRING", "JSON of the training parameters"),
        Column("gate_metric", "STRING", "metric the absolute gate looked at"),
        Column("gate_threshold", "FLOAT64", "the gate's minimum"),
        Column("gate_passed", "BOOL", "whether the version passed the absolute gate"),
        Column("promoted", "BOOL", "whether it became champion"),
        Column("promotion_decision", "STRING", "why it was (not) promoted"),
        Column("challenger_value", "FLOAT64", "the version's gate metric"),
        Column("champion_value", "FLOAT64", "the champion's gate metric, same test split"),
        Column("champion_version", "STRING", "champion compared against ('' = none)"),
        Column("data_version", "STRING", "training data URI the version was trained on"),
        Column("code_version", "STRING", "Spark code location (published version folder)"),
        PIPELINE_JOB,
        Column("trained_at", "TIMESTAMP", "model_meta.json trained_at", required=True),
    ),
    cluster_by=("model_name",),
)

FEATURE_IMPORTANCES = TableSpec(
    name="feature_importances",
    description="Top features of each trained model version, highest first.",
    columns=(
        Column("model_version", "STRING", "registry version", required=True),
        Column("feature", "STRING", "feature name after encoding", required=True),
        Column("importance", "FLOAT64", "the classifier's importance score", required=True),
        Column("rank", "INT64", "1 = most important", required=True),
        PIPELINE_JOB,
    ),
)

#: The cleaned columns spark/churn/clean.py writes (checked by a test), then pipeline_job.
_PREPARED: tuple[tuple[str, str], ...] = (
    ("customer_id", "STRING"),
    ("gender", "STRING"),
    ("senior_citizen", "INT64"),
    ("partner", "STRING"),
    ("dependents", "STRING"),
    ("tenure", "INT64"),
    ("phone_service", "STRING"),
    ("multiple_lines", "STRING"),
    ("internet_service", "STRING"),
    ("online_security", "STRING"),
    ("online_backup", "STRING"),
    ("device_protection", "STRING"),
    ("tech_support", "STRING"),
    ("streaming_tv", "STRING"),
    ("streaming_movies", "STRING"),
    ("contract", "STRING"),
    ("paperless_billing", "STRING"),
    ("payment_method", "STRING"),
    ("monthly_charges", "FLOAT64"),
    ("total_charges", "FLOAT64"),
    ("tenure_band", "STRING"),
    ("churn", "STRING"),
    ("label", "FLOAT64"),
)

PREPARED_DATA = TableSpec(
    name="prepared_data",
    description="The cleaned training rows of each training run (spark/preprocess.py output).",
    columns=(
        *(Column(name, kind, "cleaned column of the Telco schema") for name, kind in _PREPARED),
        PIPELINE_JOB,
    ),
    cluster_by=("pipeline_job",),
)

TABLES: dict[str, TableSpec] = {
    t.name: t for t in (PREDICTIONS, MODEL_METRICS, FEATURE_IMPORTANCES, PREPARED_DATA)
}
