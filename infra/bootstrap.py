"""Set up Google Cloud for one environment: `python infra/bootstrap.py --env dev [--dry-run]`.

Idempotent: every step looks before it creates, so a second run changes nothing. The code lives
in the `infra` package (see infra/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, Python puts infra/ (not the repository) first on sys.path; the package
    # imports need the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from infra.cli import main

    sys.exit(main())
