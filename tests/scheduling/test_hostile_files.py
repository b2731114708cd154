"""Issue 10 B: hostile or careless schedule files get a clear `file:line` problem, fast."""

from __future__ import annotations

import time

import pytest

from scheduling.validate import validate_tree

TRAINING = """\
pipeline: churn-training
cron: "0 3 * * 1"
parameters:
  raw_data_path: raw/latest.csv
"""


def messages(result) -> list[str]:
    return [str(p) for p in result.problems]


@pytest.mark.parametrize(
    ("first", "second", "key"),
    [
        ("nightly-train", "Nightly-Train", "nightly-train"),
        ("nightly_train", "nightly-train", "nightly-train"),
        ("nightly--train", "nightly-train", "nightly-train"),
        ("-nightly-train", "nightly-train", "nightly-train"),
    ],
)
def test_names_that_collide_after_normalisation_name_both_files(
    empty_tree, templates_dir, first, second, key
):
    empty_tree.write(f"{first}.yaml", TRAINING)
    empty_tree.write(f"{second}.yaml", TRAINING)
    found = messages(validate_tree(empty_tree.root, templates_dir))
    a, b = sorted([first, second])
    assert found == [
        f"schedules/{b}.yaml:1: schedule name '{b}' collides with schedules/{a}.yaml after "
        f"normalisation (both become '{key}' in job ids and labels); rename one of them"
    ]


def test_a_name_without_letters_or_digits_is_refused(empty_tree, templates_dir):
    empty_tree.write("__.yaml", TRAINING)
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert found == ["schedules/__.yaml:1: file name '__' needs at least one letter or digit"]


ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "pipeline: churn-training\n"
)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: &a [*a]\n", 1),
        ("pipeline: churn-training\ncron: &c '0 3 * * 1'\ndescription: *c\n", 3),
        ("base: &b {cron: '0 3 * * 1'}\nschedule:\n  <<: *b\n", 3),
        (ALIAS_BOMB, 2),
    ],
    ids=["recursive", "plain", "merge-key", "bomb"],
)
def test_aliases_are_refused_fast_naming_the_file(empty_tree, templates_dir, text, line):
    assert len(ALIAS_BOMB) < 700  # the bomb was 651 bytes and reached 3 GB
    empty_tree.write("aliased.yaml", text)
    start = time.perf_counter()
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert time.perf_counter() - start < 0.5
    assert len(found) == 1, found
    assert found[0].startswith(f"schedules/aliased.yaml:{line}: YAML alias '*")
    assert "is not allowed in these files" in found[0]


def test_a_file_name_ending_in_a_newline_is_refused(empty_tree, templates_dir):
    (empty_tree.root / "nightly.yaml\n").write_text(TRAINING)
    (empty_tree.root / "weekly\n.yaml").write_text(TRAINING)
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert found == [
        "schedules/nightly.yaml\n: file name 'nightly.yaml\\n' has leading or trailing "
        "whitespace (a newline, say); rename it",
        "schedules/weekly\n.yaml:1: file name 'weekly\\n' may only use letters, digits, '-' and "
        "'_' (it is the job id)",
    ]


def test_a_file_that_is_not_utf8_is_named_in_its_error(empty_tree, templates_dir):
    empty_tree.write("good.yaml", TRAINING)
    (empty_tree.root / "latin1.yaml").write_bytes(
        b'pipeline: churn-training\ncron: "0 3 * * 1"\ndescription: caf\xe9\n'
    )
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert found == [
        "schedules/latin1.yaml:3: not UTF-8 text: byte 0xe9 at offset 59; save the file as UTF-8"
    ]


@pytest.mark.parametrize("expr", ["0 3 31 2 *", "0 3 30,31 2 *", "0 0 31 4,6,9,11 *"])
def test_a_cron_that_never_fires_is_refused(empty_tree, templates_dir, expr):
    empty_tree.write("never.yaml", TRAINING.replace("0 3 * * 1", expr))
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert found == [
        f"schedules/never.yaml:2: cron '{expr}' never fires: no chosen month has the chosen "
        "day(s) of the month (Cloud Scheduler refuses it)"
    ]


@pytest.mark.parametrize("expr", ["0 3 29 2 *", "0 3 31 2 1", "0 3 31 1-2 *"])
def test_rare_but_real_crons_are_accepted(empty_tree, templates_dir, expr):
    empty_tree.write("rare.yaml", TRAINING.replace("0 3 * * 1", expr))
    assert messages(validate_tree(empty_tree.root, templates_dir)) == []


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "right/Europe/Amsterdam"])
def test_machine_dependent_zones_are_refused_in_files(empty_tree, templates_dir, zone):
    empty_tree.write("zoned.yaml", TRAINING + f"time_zone: {zone}\n")
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert len(found) == 1
    assert found[0].startswith(
        f"schedules/zoned.yaml:5: time zone '{zone}' depends on the machine's zone files"
    )


@pytest.mark.parametrize(
    "template",
    [
        "gs://acme-churn-dev-templates/templates/../other/churn-training.yaml",
        "gs://acme-churn-dev-templates/templates/v1/./templates/churn-training.yaml",
        "gs://acme-churn-dev-templates/templates//v1/templates/churn-training.yaml",
        "v1..v2",
        "a..b",
        "../v1",
    ],
)
def test_templates_with_dot_segments_are_refused(empty_tree, templates_dir, template):
    empty_tree.write("tpl.yaml", TRAINING + f"template: {template}\n")
    found = messages(validate_tree(empty_tree.root, templates_dir, only_env="dev"))
    assert len(found) == 1, found
    assert found[0].startswith("schedules/tpl.yaml:5: template ")
    assert found[0].endswith("(in environment dev)")


@pytest.mark.parametrize(
    "name",
    [
        "spark_code_uri",
        "container_image",
        "service_account",
        "spark_properties",
        "data_uri",
        "environment",
    ],
)
def test_a_schedule_may_not_set_what_the_deployment_owns(empty_tree, templates_dir, name):
    empty_tree.write("grab.yaml", TRAINING + f"  {name}: gs://attacker/x\n")
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert found == [
        f"schedules/grab.yaml:5: parameter '{name}' belongs to the deployment (code, identity, "
        "network and data locations come from the environment file when the templates are "
        "published); remove it"
    ]


@pytest.mark.parametrize(
    "path",
    ["gs://attacker/raw.csv", "/raw/latest.csv", "raw/../../prod/x.csv", "raw//x.csv", "a\\b"],
)
def test_data_paths_must_stay_under_the_environment_location(empty_tree, templates_dir, path):
    empty_tree.write("paths.yaml", TRAINING.replace("raw/latest.csv", f"'{path}'"))
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert len(found) == 1, found
    assert found[0].startswith(f"schedules/paths.yaml:4: parameter 'raw_data_path' {path!r}")


def test_numbers_that_would_be_rounded_are_refused(empty_tree, templates_dir):
    empty_tree.write("big.yaml", TRAINING + "  seed: 9007199254740993\n")
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert len(found) == 1, found
    assert found[0].startswith("schedules/big.yaml:5: pipeline 'churn-training': parameter 'seed'")
    assert "2**53" in found[0]


@pytest.mark.parametrize(("depth", "fragment"), [(5000, "invalid YAML"), (900, "levels deep")])
def test_deeply_nested_values_are_refused_without_a_traceback(
    empty_tree, templates_dir, depth, fragment
):
    empty_tree.write("deep.yaml", TRAINING + "  seed: " + "[" * depth + "]" * depth + "\n")
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert len(found) == 1, found
    assert found[0].startswith("schedules/deep.yaml:5: ")
    assert fragment in found[0]


def test_model_parameters_outside_their_documented_ranges_are_refused(empty_tree, templates_dir):
    empty_tree.write(
        "ranges.yaml",
        TRAINING
        + "  tune_folds: 1\n  gate_threshold: 60\n  promotion_margin: 1\n"
        + "  classifier: xgb\n  gate_metric: AUC\n",
    )
    found = messages(validate_tree(empty_tree.root, templates_dir))
    pipeline = "schedules/ranges.yaml:{}: pipeline 'churn-training': parameter '{}': must be {}"
    assert found == [
        pipeline.format(5, "tune_folds", "a whole number from 2 to 20, got 1"),
        pipeline.format(6, "gate_threshold", "a number from 0 to 1, got 60.0"),
        pipeline.format(7, "promotion_margin", "a number from 0 to 1 (excluded), got 1.0"),
        pipeline.format(8, "classifier", "one of lr, gbt, rf, got 'xgb'"),
        pipeline.format(
            9,
            "gate_metric",
            "one of auc_roc, auc_pr, accuracy, f1, precision, recall, log_loss, got 'AUC'",
        ),
    ]


def test_an_environment_default_out_of_range_is_refused_on_its_own_line(empty_tree, templates_dir):
    empty_tree.write("ok.yaml", TRAINING)
    empty_tree.edit(
        "environments/dev.yaml",
        "job_prefix: dev-\n",
        "job_prefix: dev-\nparameters:\n  tune_folds: 50\n",
    )
    found = messages(validate_tree(empty_tree.root, templates_dir, only_env="dev"))
    assert len(found) == 1, found
    assert "schedules/environments/dev.yaml:" in found[0]
    assert "parameter 'tune_folds': must be a whole number from 2 to 20, got 50" in found[0]
    assert found[0].endswith("(environment default)")


@pytest.mark.parametrize(
    ("zone", "fragment"),
    [
        ("utc", "time zone 'utc': write 'UTC'"),
        ("Utc", "time zone 'Utc': write 'UTC'"),
        ("europe/amsterdam", "use 'Europe/Amsterdam'"),
        ("EUROPE/AMSTERDAM", "use 'Europe/Amsterdam'"),
    ],
)
def test_a_time_zone_must_be_written_exactly_as_the_tz_database_does(
    empty_tree, templates_dir, zone, fragment
):
    empty_tree.write("zoned.yaml", TRAINING + f"time_zone: {zone}\n")
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert len(found) == 1, found
    assert found[0].startswith("schedules/zoned.yaml:5: ")
    assert fragment in found[0]


@pytest.mark.parametrize("name", ["weekly.YAML", "weekly.yml", "weekly.Yaml", "weekly.YML"])
def test_another_spelling_of_the_suffix_is_refused_not_skipped(empty_tree, templates_dir, name):
    empty_tree.write("daily.yaml", TRAINING)
    empty_tree.write(name, TRAINING)
    found = messages(validate_tree(empty_tree.root, templates_dir))
    stem, suffix = name.split(".")
    assert found == [
        f"schedules/{name}: file name '{name}' ends in '.{suffix}': these files end in '.yaml' "
        f"exactly (one spelling, the same on every disk); rename it to '{stem}.yaml'"
    ]


def test_a_directory_or_a_dangling_link_named_like_a_schedule_is_refused(empty_tree, templates_dir):
    (empty_tree.root / "folder.yaml").mkdir()
    (empty_tree.root / "gone.yaml").symlink_to("nowhere.yaml")
    (empty_tree.root / "environments" / "stage.yaml").mkdir()
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert found == [
        "schedules/environments/stage.yaml: is a directory, not a YAML file; rename or remove it",
        "schedules/folder.yaml: is a directory, not a YAML file; rename or remove it",
        "schedules/gone.yaml: is a symbolic link to 'nowhere.yaml', which does not exist; "
        "remove it",
    ]


def test_a_link_to_a_schedule_file_is_read_as_that_file(empty_tree, templates_dir):
    (empty_tree.root.parent / "elsewhere.yaml").write_text(TRAINING)
    (empty_tree.root / "linked.yaml").symlink_to(empty_tree.root.parent / "elsewhere.yaml")
    result = validate_tree(empty_tree.root, templates_dir)
    assert messages(result) == []
    assert [s.name for s in result.schedules] == ["linked"]


def test_a_file_name_too_long_for_a_job_id_with_the_prefix_is_refused(empty_tree, templates_dir):
    empty_tree.edit("environments/dev.yaml", "job_prefix: dev-\n", f"job_prefix: {'d' * 300}-\n")
    name = "n" * 200
    empty_tree.write(f"{name}.yaml", TRAINING)
    found = messages(validate_tree(empty_tree.root, templates_dir, only_env="dev"))
    assert found == [
        f"schedules/{name}.yaml: the job id job_prefix '{'d' * 20}' + file name is 501 "
        "characters (in environment dev); Cloud Scheduler allows at most 500: shorten the "
        "file name to 199 characters or fewer"
    ]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('"Weekly \\x1b[2K retrain"', "U+001B"),
        ('"Weekly\\tretrain"', "U+0009"),
        ("|\n  Weekly\n  retrain", "U+000A"),
        ('"Weekly \\x85 retrain"', "U+0085"),
        ('"Weekly \\u202e niartner"', "U+202E"),
        ('"\\x00"', "U+0000"),
    ],
)
def test_control_characters_in_a_description_are_refused(empty_tree, templates_dir, text, code):
    empty_tree.write("described.yaml", TRAINING + f"description: {text}\n")
    found = messages(validate_tree(empty_tree.root, templates_dir))
    assert len(found) == 1, found
    assert found[0].startswith("schedules/described.yaml:5: 'description' contains ")
    assert code in found[0]
