"""ci.components_image: per-environment image names and the pushed digest the templates run."""

from __future__ import annotations

import io
import json

import pytest

from ci import components_image
from ci.components_image import ImageError, load, pinned, repository, tagged
from tests.ci.flows import REPO

ENVS = REPO / "schedules" / "environments"
DIGEST = "sha256:" + "ab" * 32
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_environment_pushes_to_its_own_project_and_region(env):
    dep = load(env, ENVS)
    assert tagged(dep, SHA) == (f"{dep.region}-docker.pkg.dev/{dep.project}/churn/components:{SHA}")


def test_the_repository_is_the_one_the_bootstrap_creates():
    desired = pytest.importorskip("infra.desired")
    assert desired.REPOSITORY == components_image.REPOSITORY


def test_pinned_picks_this_environments_digest_and_publish_accepts_it():
    dev, prod = load("dev", ENVS), load("prod", ENVS)
    digests = [f"{repository(prod)}@sha256:{'cd' * 32}", f"{repository(dev)}@{DIGEST}"]
    ref = pinned(dev, digests)
    assert ref == f"{repository(dev)}@{DIGEST}"
    from tooling import publishing

    assert publishing.check_components_image(ref, dev) == ref


@pytest.mark.parametrize(
    "digests",
    [
        [],
        ["europe-west4-docker.pkg.dev/acme-churn-dev/churn/components:latest"],
        ["europe-west4-docker.pkg.dev/acme-churn-dev/churn/components@sha256:short"],
        ["europe-west4-docker.pkg.dev/acme-churn-dev/other/components@" + DIGEST],
    ],
)
def test_pinned_refuses_anything_but_one_digest_in_the_repository(digests):
    with pytest.raises(ImageError, match="expected exactly one digest"):
        pinned(load("dev", ENVS), digests)


@pytest.mark.parametrize("version", ["", "-x", "a" * 129, "v1/2", "1.0+build"])
def test_bad_versions_are_refused(version):
    with pytest.raises(ImageError, match="not a valid image tag"):
        tagged(load("dev", ENVS), version)


def test_cli_tag_and_pinned(capsys):
    assert components_image.main(["tag", "--env", "dev", "--version", SHA, "--dir", str(ENVS)]) == 0
    image = capsys.readouterr().out.strip()
    assert image.endswith(f"/churn/components:{SHA}")
    name = image.split(":")[0]
    stdin = io.StringIO(json.dumps([f"{name}@{DIGEST}"]))
    assert components_image.main(["pinned", "--env", "dev", "--dir", str(ENVS)], stdin=stdin) == 0
    assert capsys.readouterr().out == f"{name}@{DIGEST}\n"


def test_cli_errors_name_the_problem(tmp_path, capsys):
    assert (
        components_image.main(["tag", "--env", "qa", "--version", "1", "--dir", str(tmp_path)]) == 1
    )
    assert "--env 'qa': no" in capsys.readouterr().err
    (tmp_path / "qa.yaml").write_text("project: x\n")
    assert (
        components_image.main(["tag", "--env", "qa", "--version", "1", "--dir", str(tmp_path)]) == 1
    )
    assert "qa.yaml: project:" in capsys.readouterr().err
    bad = io.StringIO("not json")
    assert components_image.main(["pinned", "--env", "dev", "--dir", str(ENVS)], stdin=bad) == 1
    assert "RepoDigests: not JSON" in capsys.readouterr().err
