"""The raw Telco customer-churn CSV schema and the header checks that need no Spark."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from churn.errors import InputError

YES_NO = ("No", "Yes")
ADDON_VALUES = ("No", "No internet service", "Yes")
ADDON_COLUMNS = (
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
)


@dataclass(frozen=True)
class RawColumn:
    """One column of the raw CSV: its name, logical type and (for categories) allowed values."""

    name: str
    kind: str  # "id" | "category" | "flag01" | "count" | "money" | "money_or_blank"
    values: tuple[str, ...] = ()

    @property
    def spark_type(self) -> str:
        """The type the column has once cleaned (what model_meta.json records)."""
        return {"count": "integer", "flag01": "integer", "money": "double"}.get(
            self.kind, "double" if self.kind == "money_or_blank" else "string"
        )


RAW_COLUMNS: tuple[RawColumn, ...] = (
    RawColumn("customerID", "id"),
    RawColumn("gender", "category", ("Female", "Male")),
    RawColumn("SeniorCitizen", "flag01"),
    RawColumn("Partner", "category", YES_NO),
    RawColumn("Dependents", "category", YES_NO),
    RawColumn("tenure", "count"),
    RawColumn("PhoneService", "category", YES_NO),
    RawColumn("MultipleLines", "category", ("No", "No phone service", "Yes")),
    RawColumn("InternetService", "category", ("DSL", "Fiber optic", "No")),
    *(RawColumn(name, "category", ADDON_VALUES) for name in ADDON_COLUMNS),
    RawColumn("Contract", "category", ("Month-to-month", "One year", "Two year")),
    RawColumn("PaperlessBilling", "category", YES_NO),
    RawColumn(
        "PaymentMethod",
        "category",
        (
            "Bank transfer (automatic)",
            "Credit card (automatic)",
            "Electronic check",
            "Mailed check",
        ),
    ),
    RawColumn("MonthlyCharges", "money"),
    RawColumn("TotalCharges", "money_or_blank"),
)
LABEL_COLUMN = RawColumn("Churn", "category", YES_NO)

FEATURE_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in RAW_COLUMNS)
TRAINING_COLUMN_NAMES: tuple[str, ...] = (*FEATURE_COLUMN_NAMES, LABEL_COLUMN.name)


def snake_case(name: str) -> str:
    """``customerID`` -> ``customer_id``, ``MonthlyCharges`` -> ``monthly_charges``."""
    out: list[str] = []
    for i, ch in enumerate(name):
        prev = name[i - 1] if i else ""
        nxt = name[i + 1] if i + 1 < len(name) else ""
        boundary = ch.isupper() and i and (prev.islower() or (nxt.islower() and prev.isupper()))
        if boundary:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def raw_columns_spec(with_label: bool) -> list[dict[str, str]]:
    """The raw input columns and cleaned types, as recorded in model_meta.json."""
    cols = [*RAW_COLUMNS, LABEL_COLUMN] if with_label else list(RAW_COLUMNS)
    return [{"name": c.name, "type": c.spark_type} for c in cols]


def check_header(
    columns: list[str],
    source: str,
    *,
    require_label: bool,
    expected: tuple[str, ...] | None = None,
) -> None:
    """Fail with an InputError unless ``columns`` holds exactly the expected raw columns.

    ``expected`` defaults to the Telco feature columns; the ``Churn`` column is required when
    ``require_label`` and otherwise tolerated (a labelled file can be scored).
    """
    names = [c.strip() for c in columns]
    expected = expected or FEATURE_COLUMN_NAMES
    wanted = [*expected, LABEL_COLUMN.name] if require_label else list(expected)
    allowed_extra = set() if require_label else {LABEL_COLUMN.name}
    dups = sorted(n for n, count in Counter(names).items() if count > 1)
    missing = [n for n in wanted if n not in names]
    unexpected = [n for n in names if n not in wanted and n not in allowed_extra]
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unexpected:
        shown = ", ".join(repr(n) for n in unexpected[:5])
        problems.append(f"unexpected column(s) {shown}{' ...' if len(unexpected) > 5 else ''}")
    if dups:
        problems.append(f"duplicate column(s) {', '.join(dups)}")
    if problems:
        raise InputError(
            f"{source}: header does not match the Telco churn schema: {'; '.join(problems)}. "
            f"Expected the columns {', '.join(wanted)} (header found: "
            f"{', '.join(names[:25]) or '<empty>'}). Check that the file is the right export "
            "and that its first line is the header."
        )
