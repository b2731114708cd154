"""Print one setting of schedules/environments/<env>.yaml, so CI never repeats it.

    python -m ci.environment dev template_base     # -> gs://acme-churn-dev-pipelines/templates

The publish step reads the bucket/prefix from here: the environment file is the one place that
says where an environment's templates live (schedule.py reads the same key).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ENVIRONMENTS = Path("schedules/environments")


class SettingError(Exception):
    """An environment file or key that is missing or unusable; the message says which."""


def read_setting(env: str, key: str, directory: Path = ENVIRONMENTS) -> str:
    """The value of `key` in `<directory>/<env>.yaml`, as a non-empty string."""
    path = directory / f"{env}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.yaml"))
        raise SettingError(
            f"{path}: no such environment file (environments: {', '.join(known) or 'none'})"
        )
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise SettingError(f"{where}: not valid YAML: {problem}") from err
    if not isinstance(data, dict):
        raise SettingError(f"{path}: expected a mapping of settings at the top level")
    if key not in data:
        raise SettingError(f"{path}: no key '{key}' (keys: {', '.join(sorted(map(str, data)))})")
    value = data[key]
    if isinstance(value, dict | list) or value is None or str(value).strip() == "":
        raise SettingError(f"{path}: '{key}' must be a non-empty scalar, got {value!r}")
    return str(value)


def main(argv: list[str] | None = None) -> int:
    """CLI: print the value, or the error on stderr with exit 1."""
    parser = argparse.ArgumentParser(
        prog="python -m ci.environment",
        description="Print one setting of schedules/environments/<env>.yaml.",
    )
    parser.add_argument("env", help="environment name (file name without .yaml)")
    parser.add_argument("key", help="top-level key, e.g. template_base")
    parser.add_argument("--dir", type=Path, default=ENVIRONMENTS, help="environments directory")
    args = parser.parse_args(argv)
    try:
        print(read_setting(args.env, args.key, args.dir))
    except SettingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
