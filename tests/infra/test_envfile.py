"""infra/envfile.py: the setup reads the environment through the one model, trigger_url included."""

from __future__ import annotations

import pytest

from infra.envfile import EnvironmentFileError, load
from tests.infra.conftest import ENVIRONMENTS

GOOD = (ENVIRONMENTS / "dev.yaml").read_text()
URL_LINE = next(line for line in GOOD.splitlines() if line.startswith("trigger_url:"))


def _dev(tmp_path, text: str):
    (tmp_path / "dev.yaml").write_text(text)
    return tmp_path


def test_the_trigger_url_comes_from_the_checked_model():
    env = load(ENVIRONMENTS, "dev")
    assert env.trigger_url == env.deployment.trigger_url == URL_LINE.split(": ", 1)[1]


def test_a_trigger_url_the_jobs_could_not_use_is_refused_at_its_line(tmp_path):
    text = GOOD.replace(URL_LINE, "trigger_url: http://churn-trigger.example.com")
    with pytest.raises(EnvironmentFileError) as raised:
        load(_dev(tmp_path, text), "dev")
    line = text.splitlines().index("trigger_url: http://churn-trigger.example.com") + 1
    assert any(
        p.startswith(f"{tmp_path / 'dev.yaml'}:{line}: trigger_url: ") and "plain http" in p
        for p in raised.value.problems
    ), raised.value.problems


def test_the_first_setup_needs_no_trigger_url(tmp_path):
    # The trigger is deployed after the first run, which prints how; its URL comes after that.
    env = load(_dev(tmp_path, GOOD.replace(URL_LINE + "\n", "")), "dev")
    assert env.trigger_url == ""
