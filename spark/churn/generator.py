"""Seeded generator of Telco customer-churn CSVs with the public dataset's schema and quirks.

Pure Python + numpy (no Spark). The marginals and relationships follow the public IBM Telco
file (7,043 rows): ~26.5% churn, ~55% month-to-month, ~44% fiber, ~34% electronic check, tenure
0-72 piling up at both ends, monthly charges set by the services taken, TotalCharges about
tenure x MonthlyCharges and a single space for brand-new customers. Churn comes from a logistic
model on what drives it in reality (contract, tenure, fiber, electronic check, charges, missing
security / tech support), with the intercept solved so the churn rate lands at ~26.5%.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from churn.schema import ADDON_COLUMNS, FEATURE_COLUMN_NAMES, TRAINING_COLUMN_NAMES

CHURN_RATE = 0.265
_CONTRACTS = np.array(["Month-to-month", "One year", "Two year"])
_PAYMENTS = np.array(
    ["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"]
)
_INTERNET = np.array(["DSL", "Fiber optic", "No"])


def _choice(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Draw one category index per row from row-wise probabilities (n x k)."""
    probs = probs / probs.sum(axis=1, keepdims=True)
    u = rng.random(len(probs))
    return (u[:, None] > np.cumsum(probs, axis=1)).sum(axis=1).clip(0, probs.shape[1] - 1)


def _money(values: np.ndarray) -> list[str]:
    """Format like the public file: shortest decimal, no trailing zeros (29.85, 1889.5, 20)."""
    out = []
    for v in values:
        text = f"{v:.2f}".rstrip("0").rstrip(".")
        out.append(text)
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _solve_intercept(logit: np.ndarray, rate: float) -> float:
    """The intercept that makes the mean churn probability equal ``rate`` (bisection)."""
    lo, hi = -20.0, 20.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if _sigmoid(logit + mid).mean() < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def generate_rows(n: int, seed: int) -> dict[str, list]:
    """Generate ``n`` customers as columns (raw CSV values as strings, ints or floats)."""
    rng = np.random.default_rng(seed)
    senior = rng.random(n) < 0.162
    male = rng.random(n) < 0.505
    partner = rng.random(n) < np.where(senior, 0.53, 0.475)
    dependents = rng.random(n) < np.where(partner, 0.52, 0.10) * np.where(senior, 0.35, 1.0)

    # Contract first: household customers commit for longer, seniors less.
    loyal = 0.35 * partner + 0.30 * dependents - 0.35 * senior + rng.normal(0, 0.6, n)
    contract = _choice(
        rng,
        np.stack(
            [
                np.exp(0.80 - 0.9 * loyal),
                np.full(n, np.exp(-0.45)),
                np.exp(-0.62 + 0.9 * loyal),
            ],
            axis=1,
        ),
    )
    # Tenure by contract: month-to-month piles up at the first months, two-year at 72.
    shapes = np.array([[0.55, 1.55], [1.25, 0.95], [2.3, 0.55]])
    tenure = np.ceil(rng.beta(shapes[contract, 0], shapes[contract, 1]) * 72).astype(int)
    tenure = tenure.clip(1, 72)
    brand_new = (rng.random(n) < 0.0016 * 2.5) & (contract > 0)
    tenure[brand_new] = 0

    phone = rng.random(n) < 0.903
    # Customers without phone service all have DSL in the public file.
    internet_p = np.stack(
        [
            np.full(n, 0.344),
            np.where(contract == 0, 0.60, np.where(contract == 1, 0.34, 0.20)) * 0.68 / 0.44,
            np.where(contract == 0, 0.08, np.where(contract == 1, 0.25, 0.42)) * 0.29 / 0.20,
        ],
        axis=1,
    )
    internet = _choice(rng, internet_p)
    internet[~phone] = 0
    has_net = internet != 2
    fiber = internet == 1
    multiple = phone & (rng.random(n) < _sigmoid(-1.75 + 0.03 * tenure + 0.9 * fiber))

    t_scaled = tenure / 72.0
    addon_base = {
        "OnlineSecurity": -1.95 + 1.0 * (internet == 0) - 0.2 * fiber,
        "OnlineBackup": -1.2 + 0.2 * fiber,
        "DeviceProtection": -1.25 + 0.3 * fiber,
        "TechSupport": -1.85 + 0.9 * (internet == 0) - 0.2 * fiber,
        "StreamingTV": -1.45 + 0.9 * fiber,
        "StreamingMovies": -1.42 + 0.9 * fiber,
    }
    addons = {}
    for name in ADDON_COLUMNS:
        p = _sigmoid(addon_base[name] + 1.9 * t_scaled + 0.25 * contract + rng.normal(0, 0.4, n))
        addons[name] = has_net & (rng.random(n) < p)

    paperless = rng.random(n) < _sigmoid(0.25 + 0.75 * fiber - 0.9 * ~has_net + 0.35 * senior)
    pay_logits = np.stack(
        [
            0.55 + 0.85 * fiber - 0.65 * contract + 0.5 * paperless - 0.9 * t_scaled,
            0.5 + 1.3 * ~has_net - 0.5 * paperless - 0.8 * t_scaled,
            0.0 + 0.2 * contract + 0.25 * t_scaled,
            0.0 + 0.2 * contract + 0.25 * t_scaled,
        ],
        axis=1,
    )
    payment = _choice(rng, np.exp(pay_logits))

    # Monthly charges are a price list plus small per-customer deviations (discounts, promos).
    monthly = (
        20.0 * phone
        + 4.9 * multiple
        + np.where(internet == 0, 24.5, 0.0)
        + np.where(fiber, 50.0, 0.0)
        + 5.1 * addons["OnlineSecurity"]
        + 4.9 * addons["OnlineBackup"]
        + 5.0 * addons["DeviceProtection"]
        + 5.2 * addons["TechSupport"]
        + 9.8 * addons["StreamingTV"]
        + 9.9 * addons["StreamingMovies"]
        + rng.normal(0, 1.3, n)
        - 0.45 * (~has_net)
    )
    monthly = np.round(monthly.clip(18.25, 118.75) * 20) / 20
    # Prices drifted over the years: older customers paid a bit less on average in the past.
    drift = rng.normal(1.0, 0.045, n) - 0.03 * t_scaled * rng.random(n)
    total = np.where(tenure == 1, monthly, tenure * monthly * drift.clip(0.82, 1.12))
    total = np.round(total.clip(18.8, None), 2)

    logit = (
        -0.85 * (contract == 1)
        - 1.95 * (contract == 2)
        - 0.62 * np.log1p(tenure)
        + 0.008 * tenure
        + 0.78 * fiber
        - 0.35 * ~has_net
        + 0.55 * ~phone
        + 0.42 * (payment == 0)
        + 0.30 * paperless
        + 0.40 * senior
        - 0.20 * partner
        - 0.30 * dependents
        - 0.55 * addons["OnlineSecurity"]
        - 0.50 * addons["TechSupport"]
        - 0.12 * addons["OnlineBackup"]
        + 0.11 * (addons["StreamingTV"] | addons["StreamingMovies"])
        + 0.22 * multiple
        + 0.006 * (monthly - 65.0)
        + rng.normal(0, 0.2, n)
    )
    churn = rng.random(n) < _sigmoid(logit + _solve_intercept(logit, CHURN_RATE))
    churn &= tenure > 0  # a customer who joined this month has not left yet

    ids = [
        f"{num:04d}-{''.join(chr(65 + int(x)) for x in letters)}"
        for num, letters in zip(rng.integers(0, 10000, n), rng.integers(0, 26, (n, 5)), strict=True)
    ]
    # Unique ids: append the row number where a random id repeats.
    seen: set[str] = set()
    for i, cid in enumerate(ids):
        if cid in seen:
            ids[i] = f"{cid}{i}"
        seen.add(ids[i])

    def yes_no(mask: np.ndarray) -> list[str]:
        return np.where(mask, "Yes", "No").tolist()

    cols: dict[str, list] = {
        "customerID": ids,
        "gender": np.where(male, "Male", "Female").tolist(),
        "SeniorCitizen": senior.astype(int).tolist(),
        "Partner": yes_no(partner),
        "Dependents": yes_no(dependents),
        "tenure": tenure.tolist(),
        "PhoneService": yes_no(phone),
        "MultipleLines": np.where(
            ~phone, "No phone service", np.where(multiple, "Yes", "No")
        ).tolist(),
        "InternetService": _INTERNET[internet].tolist(),
    }
    for name in ADDON_COLUMNS:
        cols[name] = np.where(
            ~has_net, "No internet service", np.where(addons[name], "Yes", "No")
        ).tolist()
    cols["Contract"] = _CONTRACTS[contract].tolist()
    cols["PaperlessBilling"] = yes_no(paperless)
    cols["PaymentMethod"] = _PAYMENTS[payment].tolist()
    cols["MonthlyCharges"] = _money(monthly)
    cols["TotalCharges"] = [
        " " if t == 0 else v for t, v in zip(tenure, _money(total), strict=True)
    ]
    cols["Churn"] = yes_no(churn)
    return cols


def write_csv(out: io.TextIOBase, n: int, seed: int, *, scoring: bool = False) -> None:
    """Write ``n`` generated customers as CSV (header first); ``scoring`` drops ``Churn``."""
    cols = generate_rows(n, seed)
    names = FEATURE_COLUMN_NAMES if scoring else TRAINING_COLUMN_NAMES
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(zip(*(cols[c] for c in names), strict=True))
