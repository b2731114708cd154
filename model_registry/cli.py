"""`models.py`: the registry for people. Same code as the pipeline steps; exit 2 on bad input."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from model_registry import layout
from model_registry.errors import ConflictError, RegistryError
from model_registry.registry import Registry, VersionInfo, open_registry

EXIT_BAD_INPUT = 2
EXIT_CONFLICT = 3


def parser() -> argparse.ArgumentParser:
    """The argument parser of models.py."""
    top = argparse.ArgumentParser(
        prog="models.py", description="Model versions and aliases in a registry."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--registry",
        metavar="URI",
        default="",
        help="gs://BUCKET/PATH or a local folder (default: runs/models, the registry run.py uses)",
    )
    common.add_argument("--model", default="churn", help="model name (default: churn)")
    sub = top.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", parents=[common], help="versions with key metrics, aliases")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    show = sub.add_parser("show", parents=[common], help="one version: metrics and lineage")
    show.add_argument("ref", help="VERSION, MODEL@VERSION or MODEL@ALIAS")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    promote = sub.add_parser("promote", parents=[common], help="point an alias at a version")
    promote.add_argument("version", help="the version id (see `models.py list`)")
    promote.add_argument("--alias", default=layout.DEFAULT_ALIAS)
    promote.add_argument("--reason", default="manual promotion")
    rollback = sub.add_parser("rollback", parents=[common], help="alias back to its previous")
    rollback.add_argument("--alias", default=layout.DEFAULT_ALIAS)
    rollback.add_argument("--reason", default="")
    history = sub.add_parser("history", parents=[common], help="every move of an alias")
    history.add_argument("--alias", default=layout.DEFAULT_ALIAS)
    history.add_argument("--json", action="store_true", help="machine-readable output")
    return top


def _version_row(info: VersionInfo, aliases: dict[str, str]) -> dict[str, Any]:
    return {
        "version": info.version,
        "uri": info.uri,
        "created_at": info.manifest.created_at,
        "pipeline_job": info.manifest.created_by,
        "classifier": info.meta.get("classifier", ""),
        "metrics": info.key_metrics(),
        "aliases": sorted(a for a, v in aliases.items() if v == info.version),
    }


def _list(registry: Registry, args: argparse.Namespace) -> int:
    aliases = registry.aliases(args.model)
    rows = [_version_row(v, aliases) for v in registry.versions(args.model)]
    if args.json:
        print(
            json.dumps({"registry": registry.uri, "model": args.model, "versions": rows}, indent=2)
        )
        return 0
    print(f"{args.model} in {registry.uri}: {len(rows)} version(s)")
    for row in rows:
        figures = "  ".join(f"{k}={v:.4f}" for k, v in row["metrics"].items())
        tags = f"  [{', '.join(row['aliases'])}]" if row["aliases"] else ""
        print(f"  {row['version']}  {row['classifier'] or '?':4}  {figures}{tags}")
    return 0


def _show(registry: Registry, args: argparse.Namespace) -> int:
    ref = args.ref if "@" in args.ref else f"{args.model}@{args.ref}"
    resolved = registry.resolve(ref)
    info = registry.version(resolved.model, resolved.version)
    row = _version_row(info, registry.aliases(resolved.model))
    row["lineage"] = info.meta.get("registry", {})
    row["files"] = len(info.manifest.files)
    if args.json:
        print(json.dumps(row, indent=2, sort_keys=True))
        return 0
    print(f"{resolved.model}@{info.version}  ({info.uri})")
    for key in ("created_at", "pipeline_job", "classifier", "aliases", "files"):
        print(f"  {key}: {row[key]}")
    for key, value in row["metrics"].items():
        print(f"  {key}: {value:.4f}")
    for key, value in sorted(row["lineage"].items()):
        print(f"  lineage.{key}: {value}")
    return 0


def _promote(registry: Registry, args: argparse.Namespace) -> int:
    version = args.version.split("@", 1)[1] if "@" in args.version else args.version
    layout.check_version(version, "VERSION")
    move = registry.promote(args.model, version, alias=args.alias, reason=args.reason)
    print(f"{args.model}@{args.alias}: {move.previous or '(unset)'} -> {move.version}")
    return 0


def _rollback(registry: Registry, args: argparse.Namespace) -> int:
    move = registry.rollback(args.model, alias=args.alias, reason=args.reason)
    print(f"{args.model}@{args.alias}: rolled back to {move.version} ({move.reason})")
    return 0


def _history(registry: Registry, args: argparse.Namespace) -> int:
    moves = registry.history(args.model, args.alias)
    if args.json:
        print(json.dumps([m.__dict__ for m in moves], indent=2))
        return 0
    for m in moves:
        print(
            f"{m.moved_at}  {m.previous or '(unset)'} -> {m.version}  by {m.moved_by}: {m.reason}"
        )
    return 0


COMMANDS = {
    "list": _list,
    "show": _show,
    "promote": _promote,
    "rollback": _rollback,
    "history": _history,
}


def main(argv: list[str]) -> int:
    """Run one models.py command; errors go to stderr with a non-zero exit code."""
    args = parser().parse_args(argv)
    try:
        layout.check_model_name(args.model, "--model")
        registry = open_registry(args.registry or None)
        return COMMANDS[args.command](registry, args)
    except ConflictError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFLICT
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
