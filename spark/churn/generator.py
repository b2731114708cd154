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
from dataclasses import dataclass, field

import numpy as np

from churn.schema import ADDON_COLUMNS, FEATURE_COLUMN_NAMES, TRAINING_COLUMN_NAMES

CHURN_RATE = 0.265
_CONTRACTS = np.array(["Month-to-month", "One year", "Two year"])
_PAYMENTS = np.array(
    ["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"]
)
_INTERNET = np.array(["DSL", "Fiber optic", "No"])


def _empty() -> np.ndarray:
    return np.zeros(0)


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


@dataclass
class _Customers:
    """The drawn attributes of n customers (numpy arrays), filled in step by step.

    The steps draw from one random generator in a fixed order: reordering them changes every
    seeded file, so each step appends its draws after the previous step's.
    """

    n: int
    senior: np.ndarray = field(default_factory=_empty)
    male: np.ndarray = field(default_factory=_empty)
    partner: np.ndarray = field(default_factory=_empty)
    dependents: np.ndarray = field(default_factory=_empty)
    contract: np.ndarray = field(default_factory=_empty)
    tenure: np.ndarray = field(default_factory=_empty)
    phone: np.ndarray = field(default_factory=_empty)
    internet: np.ndarray = field(default_factory=_empty)
    multiple: np.ndarray = field(default_factory=_empty)
    addons: dict[str, np.ndarray] = field(default_factory=dict)
    paperless: np.ndarray = field(default_factory=_empty)
    payment: np.ndarray = field(default_factory=_empty)
    monthly: np.ndarray = field(default_factory=_empty)
    total: np.ndarray = field(default_factory=_empty)
    churn: np.ndarray = field(default_factory=_empty)

    @property
    def has_net(self) -> np.ndarray:
        return self.internet != 2

    @property
    def fiber(self) -> np.ndarray:
        return self.internet == 1

    @property
    def t_scaled(self) -> np.ndarray:
        return self.tenure / 72.0


def _draw_household(rng: np.random.Generator, c: _Customers) -> None:
    n = c.n
    c.senior = rng.random(n) < 0.162
    c.male = rng.random(n) < 0.505
    c.partner = rng.random(n) < np.where(c.senior, 0.53, 0.475)
    c.dependents = rng.random(n) < np.where(c.partner, 0.52, 0.10) * np.where(c.senior, 0.35, 1.0)


def _draw_contract_and_tenure(rng: np.random.Generator, c: _Customers) -> None:
    n = c.n
    # Contract first: household customers commit for longer, seniors less.
    loyal = 0.35 * c.partner + 0.30 * c.dependents - 0.35 * c.senior + rng.normal(0, 0.6, n)
    c.contract = _choice(
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
    tenure = np.ceil(rng.beta(shapes[c.contract, 0], shapes[c.contract, 1]) * 72).astype(int)
    tenure = tenure.clip(1, 72)
    brand_new = (rng.random(n) < 0.0016 * 2.5) & (c.contract > 0)
    tenure[brand_new] = 0
    c.tenure = tenure


def _draw_services(rng: np.random.Generator, c: _Customers) -> None:
    n, contract = c.n, c.contract
    c.phone = rng.random(n) < 0.903
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
    internet[~c.phone] = 0
    c.internet = internet
    c.multiple = c.phone & (rng.random(n) < _sigmoid(-1.75 + 0.03 * c.tenure + 0.9 * c.fiber))
    addon_base = {
        "OnlineSecurity": -1.95 + 1.0 * (internet == 0) - 0.2 * c.fiber,
        "OnlineBackup": -1.2 + 0.2 * c.fiber,
        "DeviceProtection": -1.25 + 0.3 * c.fiber,
        "TechSupport": -1.85 + 0.9 * (internet == 0) - 0.2 * c.fiber,
        "StreamingTV": -1.45 + 0.9 * c.fiber,
        "StreamingMovies": -1.42 + 0.9 * c.fiber,
    }
    for name in ADDON_COLUMNS:
        noise = rng.normal(0, 0.4, n)
        p = _sigmoid(addon_base[name] + 1.9 * c.t_scaled + 0.25 * contract + noise)
        c.addons[name] = c.has_net & (rng.random(n) < p)


def _draw_billing(rng: np.random.Generator, c: _Customers) -> None:
    fiber, has_net, t_scaled = c.fiber, c.has_net, c.t_scaled
    c.paperless = rng.random(c.n) < _sigmoid(0.25 + 0.75 * fiber - 0.9 * ~has_net + 0.35 * c.senior)
    pay_logits = np.stack(
        [
            0.55 + 0.85 * fiber - 0.65 * c.contract + 0.5 * c.paperless - 0.9 * t_scaled,
            0.5 + 1.3 * ~has_net - 0.5 * c.paperless - 0.8 * t_scaled,
            0.0 + 0.2 * c.contract + 0.25 * t_scaled,
            0.0 + 0.2 * c.contract + 0.25 * t_scaled,
        ],
        axis=1,
    )
    c.payment = _choice(rng, np.exp(pay_logits))


def _draw_charges(rng: np.random.Generator, c: _Customers) -> None:
    n, addons = c.n, c.addons
    # Monthly charges are a price list plus small per-customer deviations (discounts, promos).
    monthly = (
        20.0 * c.phone
        + 4.9 * c.multiple
        + np.where(c.internet == 0, 24.5, 0.0)
        + np.where(c.fiber, 50.0, 0.0)
        + 5.1 * addons["OnlineSecurity"]
        + 4.9 * addons["OnlineBackup"]
        + 5.0 * addons["DeviceProtection"]
        + 5.2 * addons["TechSupport"]
        + 9.8 * addons["StreamingTV"]
        + 9.9 * addons["StreamingMovies"]
        + rng.normal(0, 1.3, n)
        - 0.45 * (~c.has_net)
    )
    c.monthly = np.round(monthly.clip(18.25, 118.75) * 20) / 20
    # Prices drifted over the years: older customers paid a bit less on average in the past.
    drift = rng.normal(1.0, 0.045, n) - 0.03 * c.t_scaled * rng.random(n)
    total = np.where(c.tenure == 1, c.monthly, c.tenure * c.monthly * drift.clip(0.82, 1.12))
    c.total = np.round(total.clip(18.8, None), 2)


def _draw_churn(rng: np.random.Generator, c: _Customers) -> None:
    addons = c.addons
    logit = (
        -0.85 * (c.contract == 1)
        - 1.95 * (c.contract == 2)
        - 0.62 * np.log1p(c.tenure)
        + 0.008 * c.tenure
        + 0.78 * c.fiber
        - 0.35 * ~c.has_net
        + 0.55 * ~c.phone
        + 0.42 * (c.payment == 0)
        + 0.30 * c.paperless
        + 0.40 * c.senior
        - 0.20 * c.partner
        - 0.30 * c.dependents
        - 0.55 * addons["OnlineSecurity"]
        - 0.50 * addons["TechSupport"]
        - 0.12 * addons["OnlineBackup"]
        + 0.11 * (addons["StreamingTV"] | addons["StreamingMovies"])
        + 0.22 * c.multiple
        + 0.006 * (c.monthly - 65.0)
        + rng.normal(0, 0.2, c.n)
    )
    churn = rng.random(c.n) < _sigmoid(logit + _solve_intercept(logit, CHURN_RATE))
    c.churn = churn & (c.tenure > 0)  # a customer who joined this month has not left yet


def _customer_ids(rng: np.random.Generator, n: int) -> list[str]:
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
    return ids


def _yes_no(mask: np.ndarray) -> list[str]:
    return np.where(mask, "Yes", "No").tolist()


def _as_columns(c: _Customers, ids: list[str]) -> dict[str, list]:
    """The drawn customers as the public file's columns and value spellings."""
    cols: dict[str, list] = {
        "customerID": ids,
        "gender": np.where(c.male, "Male", "Female").tolist(),
        "SeniorCitizen": c.senior.astype(int).tolist(),
        "Partner": _yes_no(c.partner),
        "Dependents": _yes_no(c.dependents),
        "tenure": c.tenure.tolist(),
        "PhoneService": _yes_no(c.phone),
        "MultipleLines": np.where(
            ~c.phone, "No phone service", np.where(c.multiple, "Yes", "No")
        ).tolist(),
        "InternetService": _INTERNET[c.internet].tolist(),
    }
    for name in ADDON_COLUMNS:
        cols[name] = np.where(
            ~c.has_net, "No internet service", np.where(c.addons[name], "Yes", "No")
        ).tolist()
    cols["Contract"] = _CONTRACTS[c.contract].tolist()
    cols["PaperlessBilling"] = _yes_no(c.paperless)
    cols["PaymentMethod"] = _PAYMENTS[c.payment].tolist()
    cols["MonthlyCharges"] = _money(c.monthly)
    cols["TotalCharges"] = [
        " " if t == 0 else v for t, v in zip(c.tenure, _money(c.total), strict=True)
    ]
    cols["Churn"] = _yes_no(c.churn)
    return cols


def generate_rows(n: int, seed: int) -> dict[str, list]:
    """Generate ``n`` customers as columns (raw CSV values as strings, ints or floats)."""
    rng = np.random.default_rng(seed)
    customers = _Customers(n)
    for step in (
        _draw_household,
        _draw_contract_and_tenure,
        _draw_services,
        _draw_billing,
        _draw_charges,
        _draw_churn,
    ):
        step(rng, customers)
    return _as_columns(customers, _customer_ids(rng, n))


def write_csv(out: io.TextIOBase, n: int, seed: int, *, scoring: bool = False) -> None:
    """Write ``n`` generated customers as CSV (header first); ``scoring`` drops ``Churn``."""
    cols = generate_rows(n, seed)
    names = FEATURE_COLUMN_NAMES if scoring else TRAINING_COLUMN_NAMES
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(zip(*(cols[c] for c in names), strict=True))
