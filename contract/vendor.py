"""Copy the contract modules a deployable needs into its folder, or check that copy is current.

The trigger function is deployed as the `trigger/` folder alone, so it carries `trigger/contract/`,
a byte-for-byte copy of the modules it imports; the Spark jobs run from churn.zip on Dataproc, so
the `churn` package carries `spark/churn/contract/` (the output manifest's format and check).
Refresh both after editing contract/:

    python -m contract.vendor trigger/ spark/churn/           # write the copies
    python -m contract.vendor trigger/ spark/churn/ --check   # exit 1 naming every stale file

`tests/contract/test_vendored.py` runs the check, so a stale copy fails the tests.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent
#: What the trigger imports (directly or through these modules); nothing with I/O.
MODULES = (
    "__init__.py",
    "alerts.py",
    "conditional.py",
    "deployment.py",
    "logical_dates.py",
    "naming.py",
    "ownership.py",
    "parameter_ranges.py",
    "params.py",
    "request.py",
    "time_zones.py",
    "values.py",
)
#: What each deployable folder (relative to the repository) carries; any other folder (a test's)
#: gets the trigger's modules.
COPIES = {
    "trigger": MODULES,
    # stdlib only, as everything in churn.zip must be (spark/churn/__init__.py)
    "spark/churn": ("__init__.py", "outputs.py"),
}
_HEADER = "# Copied from contract/{name} by `python -m contract.vendor`; edit the original.\n"


def vendored_text(name: str) -> str:
    """What `<deployable>/contract/<name>` must contain: the header line, then the source."""
    return _HEADER.format(name=name) + (SOURCE / name).read_text(encoding="utf-8")


def modules_for(folder: Path) -> tuple[str, ...]:
    """The modules `folder` carries (COPIES; the trigger's for a folder not named there)."""
    try:
        relative = folder.resolve().relative_to(SOURCE.parent).as_posix()
    except ValueError:
        return MODULES
    return COPIES.get(relative, MODULES)


def differences(folder: Path) -> list[str]:
    """Files of `<folder>/contract/` that are missing, stale or not part of the copy."""
    target = folder / "contract"
    modules = modules_for(folder)
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


def write(folder: Path) -> list[Path]:
    """(Re)write the copy under `<folder>/contract/`, removing modules no longer copied."""
    target = folder / "contract"
    target.mkdir(exist_ok=True)
    modules = modules_for(folder)
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
    """CLI: write or --check the copy in each folder given."""
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
        else:
            for path in write(folder):
                print(f"wrote {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
