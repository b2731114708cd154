"""Argument parsing and exit codes of compile.py (the script itself stays a two-liner)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.spark_step import TARGETS
from tooling import compiling


def compile_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compile.py",
        description="Compile every pipeline in pipelines/ into build/<target>/<name>.yaml.",
    )
    parser.add_argument("--target", choices=TARGETS, help="compile one target only")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming the files in build/ that differ from the code",
    )
    parser.add_argument(
        "--publish",
        action="store_true",
        help="upload the vertex templates and spark/ as --env runs them to the environment's "
        "template_base under VERSION/, then move 'latest'",
    )
    parser.add_argument(
        "--env",
        metavar="ENV",
        help="with --publish: the environment (schedules/environments/ENV.yaml) whose "
        "locations, identities, pipeline root and Dataproc settings the templates carry",
    )
    parser.add_argument(
        "--components-image",
        metavar="IMAGE",
        help="with --publish: the components image the lightweight steps run in, "
        "REGION-docker.pkg.dev/PROJECT/REPO/NAME@sha256:DIGEST, in the environment's project",
    )
    parser.add_argument(
        "--registry",
        metavar="https://REGION-kfp.pkg.dev/PROJECT/REPO",
        help="with --publish: also upload the templates to this Artifact Registry repository, "
        "tagged with the version and 'latest'",
    )
    parser.add_argument("--version", help="the version to publish (with --publish)")
    parser.add_argument(
        "--force", action="store_true", help="with --publish: overwrite an existing version"
    )
    parser.add_argument(
        "--build-dir", type=Path, default=compiling.BUILD_DIR, help=argparse.SUPPRESS
    )
    parser.add_argument("--environments-dir", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


def compile_main(argv: list[str]) -> int:
    parser = compile_parser()
    args = parser.parse_args(argv)
    if args.publish and not (args.version and args.env and args.components_image):
        parser.error("--publish needs --env, --version and --components-image")
    publish_only = (args.version, args.registry, args.force, args.env, args.components_image)
    if any(publish_only) and not args.publish:
        parser.error(
            "--env, --version, --components-image, --registry and --force are only used "
            "with --publish"
        )
    targets = ("vertex",) if args.publish else ((args.target,) if args.target else TARGETS)

    results = compiling.compile_all(targets)
    failed = compiling.failures(results)
    for result in failed:
        print(
            f"error: pipeline '{result.pipeline}' ({result.target}): {result.error}",
            file=sys.stderr,
        )
    if failed:
        print("nothing written to build/", file=sys.stderr)
        return 1

    if args.check:
        problems = compiling.stale_files(results, args.build_dir)
        for line in problems:
            print(f"stale: {line}", file=sys.stderr)
        if problems:
            print("run `python compile.py` and commit build/", file=sys.stderr)
            return 1
        print(f"build/ is up to date ({len(results)} templates)")
        return 0

    if args.publish:
        return _publish(args, results)

    written = compiling.write(results, args.build_dir)
    for result in results:
        print(f"compiled {args.build_dir / result.relative_path}")
    print(f"{len(written)} file(s) changed")
    return 0


def _publish(args: argparse.Namespace, results: list[compiling.Compiled]) -> int:
    from tooling import publishing

    try:
        deployment = publishing.load_deployment(
            args.env, args.environments_dir or publishing.ENVIRONMENTS_DIR
        )
        image = publishing.check_components_image(args.components_image, deployment)
        location = publishing.GcsLocation.parse(deployment.template_base)
        version = publishing.check_version(args.version)
        stale = compiling.stale_files(results, args.build_dir)
        if stale:
            raise publishing.PublishError(
                "build/ does not match the code; run `python compile.py` and commit first:\n  "
                + "\n  ".join(stale)
            )
        templates = {r.pipeline: r.text for r in results}
        bundle = publishing.build_bundle(location, version, templates, deployment, image)
        if args.registry and not args.force:
            taken = publishing.registry_conflicts(args.registry, bundle)
            if taken:  # refuse before GCS is touched
                raise publishing.PublishError(
                    f"version '{version}' already exists in {args.registry} for: "
                    f"{', '.join(taken)}; publish a new version, or pass --force"
                )
        written = publishing.publish(location, bundle, force=args.force)
        if args.registry:
            written += publishing.publish_to_registry(args.registry, bundle, force=args.force)
    except publishing.PublishError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for uri in written:
        print(f"uploaded {uri}")
    print(f"published version {version} for {args.env}; latest -> {version}")
    return 0
