"""Copy the contract modules a deployable needs into its folder, at deploy time.

The trigger function is deployed as the `trigger/` folder alone, so the deploy command first
copies the modules it imports into `trigger/contract/` (ignored by git: a build product, never
committed), then uploads the folder:

    python -m contract.vendor trigger/ && gcloud functions deploy ... --source=trigger/
    python -m contract.vendor trigger/ --check   # exit 1 naming every missing or stale file

Each copied file is the source byte for byte after one header line. The trigger tests serve the
function from a temporary copy of `trigger/` made by `write`, the function this command runs
(tests/trigger/trigger_harness.py); tests/contract/test_vendored.py checks that a fresh copy is
complete for what the trigger imports. churn.zip takes `ZIP_MODULES` the same way when
`compile.py --publish` builds it (tooling/publishing.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent
#: What the trigger imports (directly or through these modules; conditional.py does I/O, through
#: the Cloud Storage client the function has).
MODULES = (
    "__init__.py",
    "alerts.py",
    "conditional.py",
    "environment.py",
    "logical_dates.py",
    "naming.py",
    "ownership.py",
    "parameter_ranges.py",
    "params.py",
    "request.py",
    "time_zones.py",
    "values.py",
)
#: What churn.zip carries as `churn/contract/`: the output manifest's format and check, standard
#: library only, as everything in the zip must be (spark/churn/__init__.py).
ZIP_MODULES = ("__init__.py", "outputs.py")
_HEADER = "# Copied from contract/{name} by `python -m contract.vendor`; edit the original.\n"


class VendorError(Exception):
    """A folder the copy cannot go to; the message says which and why."""


def vendored_text(name: str) -> str:
    """What `<deployable>/contract/<name>` must contain: the header line, then the source."""
    return _HEADER.format(name=name) + (SOURCE / name).read_text(encoding="utf-8")


def differences(folder: Path, modules: tuple[str, ...] = MODULES) -> list[str]:
    """Files of `<folder>/contract/` that are missing, stale or not part of the copy."""
    target = folder / "contract"
    out = []
    for name in modules:
        path = target / name
        if not path.is_file():
            out.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != vendored_text(name):
            out.append(f"{path}: differs from contract/{name}")
    if target.is_dir():
        out += [
            f"{p}: not a copied module"
            for p in sorted(target.glob("*.py"))
            if p.name not in modules
        ]
    return out


def write(folder: Path, modules: tuple[str, ...] = MODULES) -> list[Path]:
    """(Re)write the copy under `<folder>/contract/`, removing modules no longer copied."""
    target = folder / "contract"
    if target.resolve() == SOURCE:
        # spark/churn/contract is a link to the contract itself: "refreshing" it would
        # overwrite the sources with headers and delete every module not listed.
        raise VendorError(f"{target} is the contract itself (a link to {SOURCE}), not a copy")
    target.mkdir(exist_ok=True)
    for path in target.glob("*.py"):
        if path.name not in modules:
            path.unlink()
    written = []
    for name in modules:
        path = target / name
        text = vendored_text(name)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """CLI: write or --check the trigger's copy in each folder given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="deployable folders, e.g. trigger/")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    status = 0
    for folder in args.folders:
        if not folder.is_dir():
            print(f"error: {folder} is not a folder", file=sys.stderr)
            return 2
        if args.check:
            for line in differences(folder):
                print(f"stale: {line} (run: python -m contract.vendor {folder})")
                status = 1
            continue
        try:
            written = write(folder)
        except VendorError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        for path in written:
            print(f"wrote {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
