"""Benchmark: loading 7k and 700k predictions into DuckDB and into the fake BigQuery (printed).

    .venv/bin/python bench/warehouse.py [--sizes 7000 700000] [--repeat 3]

For each size, Spark-like Parquet part files (customer_id, churn_probability, predicted_label,
model_version) are written once, locally for DuckDB and to the GCS emulator for BigQuery; then
each load runs `--repeat` times for the same pipeline job (the first creates the rows, the
others replace them: the retried-run path) and the median wall time is printed. The fake
BigQuery runs in this process over HTTP on localhost: its figures count the real client's
requests (staging table, load job from gs://, the DELETE+INSERT transaction, cleanup) and the
fake's Arrow work, not BigQuery's own latency (a real load job takes seconds whatever the size).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from fakes.bigquery import FakeBigQuery, gcs_reader, serve_bigquery  # noqa: E402
from fakes.gcs import gcs_emulator  # noqa: E402
from tests.committed import committed_files  # noqa: E402
from warehouse.bigquery import BigQueryWarehouse  # noqa: E402
from warehouse.duckdb_store import DuckDBWarehouse  # noqa: E402
from warehouse.loads import predictions_load  # noqa: E402

BUCKET = "bench-predictions"
DATASET = "bench-project.churn"
PARTS = 4


def parquet_parts(n: int) -> dict[str, bytes]:
    """`n` predictions as PARTS Parquet files committed as score commits them, name -> bytes."""
    rng = random.Random(7)
    probs = [rng.random() for _ in range(n)]
    table = pa.table(
        {
            "customer_id": [f"{i:07d}-CUST" for i in range(n)],
            "churn_probability": probs,
            "predicted_label": ["Yes" if p >= 0.5 else "No" for p in probs],
            "model_version": ["20261130t020000z-abc123"] * n,
        }
    )
    step = -(-n // PARTS)
    out = {}
    for i in range(PARTS):
        buf = io.BytesIO()
        pq.write_table(table.slice(i * step, step), buf)
        out[f"data/part-{i:05d}.snappy.parquet"] = buf.getvalue()
    return committed_files(out, job="score", rows=n)


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[7_000, 700_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery, storage

    print(f"{'rows':>9} {'target':<14} {'median s':>9} {'rows/s':>10}")
    with tempfile.TemporaryDirectory() as tmp, gcs_emulator(buckets=(BUCKET,)):
        gcs = storage.Client(project="bench")
        fake = FakeBigQuery(read_objects=gcs_reader(gcs))
        with serve_bigquery(fake) as (_, url):
            client = bigquery.Client(
                project="bench-project",
                credentials=AnonymousCredentials(),
                client_options=ClientOptions(api_endpoint=url),
            )
            for n in args.sizes:
                files = parquet_parts(n)
                local = Path(tmp) / f"preds-{n}"
                for name, data in files.items():
                    (local / name).parent.mkdir(parents=True, exist_ok=True)
                    (local / name).write_bytes(data)
                    gcs.bucket(BUCKET).blob(f"preds-{n}/{name}").upload_from_string(data)
                fake.reset()
                fake.add_dataset(DATASET)
                duck = DuckDBWarehouse(Path(tmp) / f"wh-{n}.duckdb")
                bq = BigQueryWarehouse(client, DATASET)
                job = f"bench-{n}"
                targets = [
                    ("duckdb", duck, str(local)),
                    ("fake bigquery", bq, f"gs://{BUCKET}/preds-{n}"),
                ]
                for name, store, uri in targets:
                    load = predictions_load(uri, job)
                    seconds = median_seconds(partial(store.replace, load), args.repeat)
                    print(f"{n:>9} {name:<14} {seconds:>9.3f} {n / seconds:>10.0f}")
                rows = duck.query("SELECT count(*) FROM predictions")[0][0]
                assert rows == n == fake.rows(f"{DATASET}.predictions").num_rows, "duplicates"


if __name__ == "__main__":
    main()
