"""What every job script shares: printing the result, turning InputError into exit code 2."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from churn.errors import InputError

EXIT_BAD_INPUT = 2


def run(job: Callable[..., dict[str, Any]], **kwargs: Any) -> int:
    """Run ``job``; print its result as JSON (stdout) or the error paragraph (stderr)."""
    try:
        result = job(**kwargs)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(result, indent=2))
    return 0


def whole_number(text: str) -> int:
    """An argparse type for integers that also takes "42.0".

    Pipeline runners hand integer parameters over as JSON numbers, and KFP's local runner
    renders them into arguments as "42.0"; a fractional value is still refused.
    """
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid whole number: '{text}'") from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"invalid whole number: '{text}'")
    return int(value)
