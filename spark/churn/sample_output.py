"""Writing a generated CSV to a local file atomically (the sample_data.py job)."""

from __future__ import annotations

import json
import os
import sys

from churn import generator, io
from churn.errors import InputError


def main(rows: int, seed: int, output: str, *, scoring: bool) -> int:
    """Write ``rows`` generated customers to ``output``; 0 on success, 2 on bad arguments."""
    try:
        if rows < 0:
            raise InputError(f"--rows: must be >= 0, got {rows}")
        if not io.is_local(output):
            raise InputError(
                f"--output {output}: sample_data.py writes local files only; copy the file to "
                "gs:// with gcloud storage cp afterwards."
            )
        path = io.local_path(output)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        tmp = io.staging_uri(path)
        try:
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                generator.write_csv(f, rows, seed, scoring=scoring)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"output": output, "rows": rows, "seed": seed, "scoring": scoring}))
    return 0
