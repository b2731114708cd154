"""ci.environment: one setting of schedules/environments/<env>.yaml, or an error naming the file."""

from __future__ import annotations

import pytest

from ci.environment import SettingError, main, read_setting
from tests.ci.flows import REPO

SHIPPED = REPO / "schedules" / "environments"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_shipped_environments_have_a_gcs_template_base(env):
    assert read_setting(env, "template_base", SHIPPED).startswith("gs://")


def test_dev_and_prod_publish_to_their_own_base():
    assert read_setting("dev", "template_base", SHIPPED) != read_setting(
        "prod", "template_base", SHIPPED
    )


def test_cli_prints_the_value(tmp_path, capsys):
    (tmp_path / "qa.yaml").write_text("template_base: gs://b/p\nregion: x\n")
    assert main(["qa", "template_base", "--dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "gs://b/p\n"


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (None, "template_base", r"qa\.yaml: no such environment file \(environments: none\)"),
        ("region: x\n", "template_base", r"qa\.yaml: no key 'template_base' \(keys: region\)"),
        ("template_base: [a]\n", "template_base", "must be a non-empty scalar"),
        ("template_base:\n", "template_base", "must be a non-empty scalar"),
        ("- a\n- b\n", "template_base", "expected a mapping"),
        ("a: [\n", "template_base", r"qa\.yaml:2:1: not valid YAML: expected the node content"),
    ],
)
def test_bad_files_and_keys_are_named(tmp_path, text, key, message):
    if text is not None:
        (tmp_path / "qa.yaml").write_text(text)
    with pytest.raises(SettingError, match=message):
        read_setting("qa", key, tmp_path)


def test_cli_error_goes_to_stderr_with_exit_1(tmp_path, capsys):
    assert main(["nope", "template_base", "--dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nope.yaml: no such environment file" in captured.err
