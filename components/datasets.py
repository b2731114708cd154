"""`describe_prepared`: the prepared data as a `Dataset` artifact, derived from the raw data.

The Spark steps are Dataproc batches, which take and give no KFP artifacts; this small step
records what preprocess wrote (where, how many rows, the churn rate) as a Dataset whose input is
the raw Dataset, so Vertex ML Metadata's lineage graph reads raw data -> prepared data -> model.
"""

from kfp import dsl

from components.images import component


@component
def describe_prepared(
    raw_data: dsl.Input[dsl.Dataset], prepared_uri: str, prepared: dsl.Output[dsl.Dataset]
) -> int:
    """Point `prepared` at preprocess's Parquet with its report's figures; the row count."""
    import json

    from model_registry.store import open_store

    base = prepared_uri.rstrip("/")
    found = open_store(base).read("report.json")
    if found is None:
        raise FileNotFoundError(f"{base}/report.json: preprocess wrote no report")
    report = json.loads(found.data)
    prepared.uri = f"{base}/data"
    figures = {k: v for k, v in report.items() if isinstance(v, (int, float, str))}
    prepared.metadata.update({**figures, "format": "parquet", "source": raw_data.uri})
    rows = int(report["rows_written"])
    print(f"prepared data: {rows} rows at {prepared.uri}")
    return rows
