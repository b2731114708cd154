"""Reading, checking and cleaning raw Telco CSVs: the same code for preprocess and score."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from churn import io
from churn.errors import InputError
from churn.schema import (
    ADDON_COLUMNS,
    FEATURE_COLUMN_NAMES,
    LABEL_COLUMN,
    RAW_COLUMNS,
    RawColumn,
    check_header,
    snake_case,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

TENURE_BANDS: tuple[tuple[int, str], ...] = (
    (12, "0-12"),
    (24, "13-24"),
    (36, "25-36"),
    (48, "37-48"),
    (60, "49-60"),
)
TENURE_BAND_OVER = "61+"
_EXPECTED_TEXT = {
    "id": "a non-empty customer id",
    "flag01": "0 or 1",
    "count": "a whole number of months >= 0",
    "money": "a number >= 0",
    "money_or_blank": "a number >= 0 or a blank",
}


def check_input_header(
    uri: str, *, require_label: bool, expected: tuple[str, ...] | None = None
) -> None:
    """Check a local CSV's header before any Spark starts (no-op for non-local inputs)."""
    header = io.sniff_local_csv_header(uri)
    if header is not None:
        check_header(header, uri, require_label=require_label, expected=expected)


def read_raw_csv(
    spark: SparkSession,
    uri: str,
    *,
    require_label: bool,
    expected: tuple[str, ...] | None = None,
) -> DataFrame:
    """Read a raw CSV with every column as text (types are checked by :func:`validate`).

    For a local file the header is read without Spark, which saves Spark a job to find it.
    """
    from pyspark.sql.types import StringType, StructField, StructType

    header = io.sniff_local_csv_header(uri)
    reader = spark.read.option("header", True).option("mode", "PERMISSIVE")
    if header is not None:
        check_header(header, uri, require_label=require_label, expected=expected)
        schema = StructType([StructField(c.strip(), StringType()) for c in header])
        reader = reader.schema(schema).option("enforceSchema", True)
    try:
        df = reader.option("inferSchema", False).csv(io.spark_path(uri))
    except Exception as exc:  # AnalysisException has moved between Spark versions
        if "PATH_NOT_FOUND" in str(exc) or "Path does not exist" in str(exc):
            raise InputError(f"{uri}: input not found. Check the --input URI.") from exc
        raise
    check_header(df.columns, uri, require_label=require_label, expected=expected)
    return df


def _num(name: str) -> Column:
    from pyspark.sql import functions as F  # noqa: N812

    # try_cast keeps bad text as NULL on both ANSI (Spark 4 default) and non-ANSI sessions.
    return F.expr(f"try_cast(trim(`{name}`) as double)")


def bad_value(column: RawColumn) -> Column:
    """A boolean Column that is true where the raw text of ``column`` is not acceptable."""
    from pyspark.sql import functions as F  # noqa: N812

    v = F.col(f"`{column.name}`")
    if column.kind == "id":
        return v.isNull() | (F.trim(v) == "")
    if column.kind == "category":
        return v.isNull() | ~v.isin(*column.values)
    if column.kind == "flag01":
        return v.isNull() | ~F.trim(v).isin("0", "1")
    num = _num(column.name)
    invalid = num.isNull() | F.isnan(num) | (num < 0) | (F.abs(num) == float("inf"))
    if column.kind == "count":
        return invalid | (num != F.floor(num))
    if column.kind == "money_or_blank":
        return ~(v.isNull() | (F.trim(v) == "")) & invalid
    return invalid


def _describe(column: RawColumn) -> str:
    if column.kind == "category":
        return "one of " + ", ".join(repr(v) for v in column.values)
    return _EXPECTED_TEXT[column.kind]


def validate(df: DataFrame, source: str, *, with_label: bool) -> dict[str, int]:
    """Check every value of a raw frame in one pass; return counts for the report.

    Raises an InputError naming each bad column, how many values are bad, one example value and
    the customerID of its row.
    """
    from pyspark.sql import functions as F  # noqa: N812

    columns = [*RAW_COLUMNS, LABEL_COLUMN] if with_label else list(RAW_COLUMNS)
    cid = F.col("customerID")
    aggs = [F.count(F.lit(1)).alias("rows")]
    for i, column in enumerate(columns):
        aggs.append(F.sum(F.when(bad_value(column), 1).otherwise(0)).alias(f"bad{i}"))
    total_blank = F.col("TotalCharges").isNull() | (F.trim(F.col("TotalCharges")) == "")
    tenure0 = _num("tenure") == 0
    aggs += [
        F.sum(F.when(total_blank & tenure0, 1).otherwise(0)).alias("blank_total_tenure_0"),
        F.sum(F.when(total_blank & ~tenure0, 1).otherwise(0)).alias("blank_total_imputed"),
        F.sum(F.when(F.col("InternetService") == "No", 1).otherwise(0)).alias("no_internet"),
        F.sum(F.when(F.col("PhoneService") == "No", 1).otherwise(0)).alias("no_phone"),
    ]
    if with_label:
        aggs.append(F.sum(F.when(F.col("Churn") == "Yes", 1).otherwise(0)).alias("churn_yes"))
    row = df.agg(*aggs).first()
    assert row is not None
    problems = []
    for i, column in enumerate(columns):
        n_bad = row[f"bad{i}"] or 0
        if n_bad:
            # Examples are fetched only on failure: keeps the common, clean pass small.
            ex = (
                df.filter(bad_value(column))
                .select(
                    F.coalesce(F.col(f"`{column.name}`"), F.lit("<empty>")).alias("value"),
                    F.coalesce(cid, F.lit("<no id>")).alias("id"),
                )
                .first()
            )
            assert ex is not None
            problems.append(
                f"column {column.name}: {n_bad} bad value(s), e.g. {ex['value']!r} "
                f"(customerID {ex['id']}); expected {_describe(column)}"
            )
    if problems:
        raise InputError(
            f"{source}: {len(problems)} column(s) hold values outside the Telco churn schema: "
            + "; ".join(problems)
            + ". Fix or remove those rows and run again; nothing was written."
        )
    if not row["rows"]:
        raise InputError(f"{source}: the file has a header but no data rows.")
    return {
        k: int(row[k] or 0)
        for k in (
            "rows",
            "blank_total_tenure_0",
            "blank_total_imputed",
            "no_internet",
            "no_phone",
            *(["churn_yes"] if with_label else []),
        )
    }


def tenure_band(tenure: Column) -> Column:
    """The tenure band label ("0-12", "13-24", ..., "61+") of an integer tenure column."""
    from pyspark.sql import functions as F  # noqa: N812

    expr = None
    for upper, label in TENURE_BANDS:
        expr = (expr if expr is not None else F).when(tenure <= upper, label)
    assert expr is not None
    return expr.otherwise(TENURE_BAND_OVER)


def clean(df: DataFrame, *, with_label: bool) -> DataFrame:
    """Typed, snake_case columns from validated raw text; blanks and 'No ... service' handled.

    - ``TotalCharges`` blank: 0.0 when tenure is 0 (nothing billed yet), otherwise
      tenure x MonthlyCharges (the best estimate of what was billed); rows are never dropped.
    - ``No internet service`` / ``No phone service`` become ``No``: the fact itself is kept in
      ``internet_service`` / ``phone_service``.
    - ``tenure`` stays numeric and a ``tenure_band`` is added; ``label`` (1.0 = churned) is added
      when the Churn column is present.
    """
    from pyspark.sql import functions as F  # noqa: N812

    out: dict[str, Column] = {}
    for column in RAW_COLUMNS:
        v = F.col(f"`{column.name}`")
        name = snake_case(column.name)
        if column.kind == "id":
            out[name] = F.trim(v)
        elif column.kind in ("flag01", "count"):
            out[name] = _num(column.name).cast("int")
        elif column.kind == "money":
            out[name] = _num(column.name)
        elif column.kind == "money_or_blank":
            blank = v.isNull() | (F.trim(v) == "")
            out[name] = (
                F.when(~blank, _num(column.name))
                .when(_num("tenure") == 0, F.lit(0.0))
                .otherwise(_num("tenure") * _num("MonthlyCharges"))
            )
        elif column.name in ADDON_COLUMNS:
            out[name] = F.when(v == "No internet service", "No").otherwise(v)
        elif column.name == "MultipleLines":
            out[name] = F.when(v == "No phone service", "No").otherwise(v)
        else:
            out[name] = v
    out["tenure_band"] = tenure_band(out["tenure"])
    if with_label:
        out["churn"] = F.col(LABEL_COLUMN.name)
        out["label"] = F.when(F.col(LABEL_COLUMN.name) == "Yes", 1.0).otherwise(0.0)
    return df.select(*(col.alias(name) for name, col in out.items()))


CLEAN_FEATURE_COLUMNS: tuple[str, ...] = (
    *(snake_case(c) for c in FEATURE_COLUMN_NAMES),
    "tenure_band",
)


def report(stats: dict[str, int], rows_written: int, source: str, output: str) -> dict[str, Any]:
    """The preprocess report: what was read, written and repaired."""
    return {
        "input": source,
        "output": output,
        "rows_read": stats["rows"],
        "rows_written": rows_written,
        "rows_dropped": stats["rows"] - rows_written,
        "total_charges_blank": stats["blank_total_tenure_0"] + stats["blank_total_imputed"],
        "total_charges_blank_set_to_0_tenure_0": stats["blank_total_tenure_0"],
        "total_charges_blank_imputed_tenure_x_monthly": stats["blank_total_imputed"],
        "no_internet_service_rows_mapped_to_no": stats["no_internet"],
        "no_phone_service_rows_mapped_to_no": stats["no_phone"],
        "churn_yes": stats.get("churn_yes", 0),
        "churn_rate": round(stats.get("churn_yes", 0) / stats["rows"], 4) if stats["rows"] else 0,
    }
