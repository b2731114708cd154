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
    """Point `prepared` at preprocess's committed output with its report's figures; the rows.

    The Dataset's URI is the output folder: its manifest.json lists the Parquet files (under
    the attempt folder it names), which is what every later reader reads.
    """
    from model_registry.committed import open_committed

    output = open_committed(prepared_uri, what="a preprocess output")
    report = output.read_json("report.json")
    prepared.uri = prepared_uri.rstrip("/")
    figures = {k: v for k, v in report.items() if isinstance(v, (int, float, str))}
    files = output.manifest.under("data/", ".parquet")
    prepared.metadata.update(
        {**figures, "format": "parquet", "source": raw_data.uri, "parquet_files": len(files)}
    )
    rows = int(output.manifest.rows if output.manifest.rows is not None else report["rows_written"])
    print(f"prepared data: {rows} rows at {prepared.uri}")
    return rows
