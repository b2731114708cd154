"""Fixtures of the Spark job tests: one local Spark session shared by the whole run."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPARK_DIR = REPO / "spark"
if str(SPARK_DIR) not in sys.path:  # pyproject's pythonpath has it; keep direct runs working
    sys.path.insert(0, str(SPARK_DIR))


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """A local Spark session (about 6 s to start), shared by every module that needs one."""
    os.environ.pop("SPARK_REMOTE", None)
    from churn.session import get_session

    session = get_session("churn-tests")
    yield session
    session.stop()
