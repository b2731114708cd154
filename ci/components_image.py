"""Names of the components image per environment, and its pushed digest, for the deploy flows.

    python -m ci.components_image tag --env dev --version SHA
        -> europe-west4-docker.pkg.dev/acme-churn-dev/churn/components:SHA   (what to push)
    docker inspect --format '{{json .RepoDigests}}' IMAGE | python -m ci.components_image \\
        pinned --env dev
        -> europe-west4-docker.pkg.dev/acme-churn-dev/churn/components@sha256:...   (what runs)

Each environment pushes to the docker repository `churn` of its own project and region (the
bootstrap creates it); templates name the image by digest, so what a published version runs can
never change under it. `pinned` refuses anything that is not a digest in that repository.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

from contract.environment import Environment, environment_from

ENVIRONMENTS = Path("schedules/environments")
#: The Artifact Registry docker repository (infra/desired.py REPOSITORY creates it) and image.
REPOSITORY = "churn"
IMAGE = "components"
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # docker tag grammar
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class ImageError(Exception):
    """A bad environment, version or digest; the message says which."""


def load(env: str, directory: Path = ENVIRONMENTS) -> Environment:
    """The deployment of `<directory>/<env>.yaml`, or ImageError naming the file's problems."""
    path = directory / f"{env}.yaml"
    if not re.fullmatch(r"[a-z][a-z0-9]{0,9}", env) or not path.is_file():
        raise ImageError(f"--env '{env}': no {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ImageError(f"{path}: not readable YAML: {err}") from None
    deployment, problems = environment_from(env, data)
    if deployment is None:
        details = "; ".join(f"{'.'.join(p.path) or '(file)'}: {p.message}" for p in problems)
        raise ImageError(f"{path}: {details}")
    return deployment


def repository(deployment: Environment) -> str:
    """`<region>-docker.pkg.dev/<project>/churn/components` of one environment."""
    return f"{deployment.region}-docker.pkg.dev/{deployment.project}/{REPOSITORY}/{IMAGE}"


def tagged(deployment: Environment, version: str) -> str:
    """The image reference to build and push for `version` (a docker tag)."""
    if not _TAG.match(version or ""):
        raise ImageError(f"--version '{version}' is not a valid image tag ([A-Za-z0-9_.-], ≤128)")
    return f"{repository(deployment)}:{version}"


def pinned(deployment: Environment, repo_digests: list[str]) -> str:
    """The one `repository@sha256:…` among `repo_digests` that is this environment's image."""
    wanted = repository(deployment)
    found = set()
    for ref in repo_digests:
        name, _, digest = str(ref).partition("@")
        if name == wanted and _DIGEST.match(digest):
            found.add(f"{name}@{digest}")
    if len(found) != 1:
        raise ImageError(
            f"expected exactly one digest of {wanted} among the pushed image's digests, "
            f"found {len(found)} in {repo_digests!r} (was the image pushed?)"
        )
    return found.pop()


def main(argv: list[str] | None = None, stdin=None) -> int:
    """CLI: `tag` prints the reference to push, `pinned` the digest reference to publish."""
    parser = argparse.ArgumentParser(prog="python -m ci.components_image", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    tag = sub.add_parser("tag", help="the image:tag to build and push")
    tag.add_argument("--env", required=True)
    tag.add_argument("--version", required=True)
    pin = sub.add_parser("pinned", help="the image@digest, from `docker inspect` RepoDigests")
    pin.add_argument("--env", required=True)
    pin.add_argument(
        "--digests", type=Path, help="file with the RepoDigests JSON list (default: stdin)"
    )
    for one in (tag, pin):
        one.add_argument("--dir", type=Path, default=ENVIRONMENTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        deployment = load(args.env, args.dir)
        if args.command == "tag":
            print(tagged(deployment, args.version))
            return 0
        text = args.digests.read_text() if args.digests else (stdin or sys.stdin).read()
        try:
            digests = json.loads(text)
        except json.JSONDecodeError as err:
            raise ImageError(f"RepoDigests: not JSON ({err.msg}): {text[:200]!r}") from None
        if not isinstance(digests, list):
            raise ImageError(f"RepoDigests: expected a JSON list, got {text[:200]!r}")
        print(pinned(deployment, digests))
        return 0
    except (ImageError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
