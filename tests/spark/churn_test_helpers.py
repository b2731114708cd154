"""Raw Telco rows and CSV files for the Spark job tests."""

from __future__ import annotations

from pathlib import Path


def raw_row(**overrides: str) -> dict[str, str]:
    """One valid raw Telco row (all text, as read from the CSV), with ``overrides`` applied."""
    row = {
        "customerID": "0001-AAAAA",
        "gender": "Female",
        "SeniorCitizen": "0",
        "Partner": "Yes",
        "Dependents": "No",
        "tenure": "12",
        "PhoneService": "Yes",
        "MultipleLines": "No",
        "InternetService": "Fiber optic",
        "OnlineSecurity": "No",
        "OnlineBackup": "Yes",
        "DeviceProtection": "No",
        "TechSupport": "No",
        "StreamingTV": "Yes",
        "StreamingMovies": "No",
        "Contract": "Month-to-month",
        "PaperlessBilling": "Yes",
        "PaymentMethod": "Electronic check",
        "MonthlyCharges": "85.5",
        "TotalCharges": "1020.4",
        "Churn": "Yes",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    """Write raw rows as a CSV file (header first) and return its path."""
    import csv

    columns = columns or list(rows[0])
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    return path
