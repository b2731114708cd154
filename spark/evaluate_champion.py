"""Score a registered model (the champion) on the same test split a new model was evaluated on.

python spark/evaluate_champion.py --model <version folder> --input runs/prep --output runs/champ
    [--seed 42] [--test-fraction 0.2]

Writes <output>/metrics.json: the metrics train.py writes, on the rows train.py held out with the
same --seed and --test-fraction, so champion and challenger are compared on identical data. When
the champion cannot score this data (its input columns differ), metrics.json says so
(`scored: false`, `problem`) and the job still succeeds: the pipeline then lets the absolute gate
decide instead of failing the run.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from churn import cli, io, outputs
from churn.jobs import METRICS_FILE, _split, load_model, open_model, read_prepared
from churn.metrics import evaluate
from churn.session import get_session


def evaluate_champion(
    model_uri: str, input_uri: str, output_uri: str, seed: int = 42, test_fraction: float = 0.2
) -> dict[str, Any]:
    """The registered model at `model_uri` evaluated on the held-out split of `input_uri`."""
    # A damaged local champion fails before a JVM starts; gs:// is checked through Spark's FS.
    champion = open_model(None, model_uri) if io.is_local(model_uri) else None
    spark = get_session("churn-evaluate-champion")
    champion = champion or open_model(spark, model_uri)
    # The very split train.py and tune.py make (same function, seed and fraction).
    _, test_df = _split(read_prepared(spark, input_uri), test_fraction, seed)
    model = load_model(champion)
    try:
        metrics: dict[str, Any] = {"scored": True, **evaluate(model.transform(test_df))}
    except Exception as exc:  # a model trained on other columns: reported, not fatal
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        metrics = {"scored": False, "problem": first_line[:300]}
    metrics.update({"model_uri": model_uri, "seed": seed, "test_fraction": test_fraction})
    with outputs.committing(spark, output_uri, "evaluate_champion") as attempt:
        io.write_json(spark, attempt.uri(METRICS_FILE), metrics)
    return {k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the job."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="registered version folder URI")
    parser.add_argument("--input", required=True, help="preprocess output directory URI")
    parser.add_argument("--output", required=True, help="output directory URI")
    parser.add_argument("--seed", type=cli.whole_number, default=42, help="split seed (42)")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="test share (0.2)")
    args = parser.parse_args(argv)
    return cli.run(
        evaluate_champion,
        model_uri=args.model,
        input_uri=args.input,
        output_uri=args.output,
        seed=args.seed,
        test_fraction=args.test_fraction,
    )


if __name__ == "__main__":
    sys.exit(main())
