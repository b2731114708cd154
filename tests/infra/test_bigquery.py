"""The warehouse dataset: created in the region, dataEditor on it only, jobUser on the project.

Expected roles are written out here (brief, issue 12) rather than taken from infra.desired.
"""

from __future__ import annotations

from tests.infra.conftest import ENVIRONMENTS, dry_run_lines

PROJECT = "acme-churn-dev"
PIPELINES = "churn-pipelines@acme-churn-dev.iam.gserviceaccount.com"
SHOW = ["bq", "--project_id=acme-churn-dev", "show", "--format=json", "acme-churn-dev:churn_dev"]


def _bq(log: list[dict]) -> list[list[str]]:
    return [e["argv"] for e in log if e.get("program") == "bq"]


def _project_roles(state: dict, project: str = PROJECT) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for binding in state["projects"][project]["policy"]["bindings"]:
        for member in binding["members"]:
            out.setdefault(member, set()).add(binding["role"])
    return out


def test_first_run_creates_the_dataset_in_the_region_and_grants_it(runs):
    first = runs.first()
    assert first.code == 0, first.err
    dataset = first.state["projects"][PROJECT]["datasets"]["churn_dev"]
    assert dataset["location"] == "europe-west4"
    # dataEditor on the dataset (stored by the API in its legacy form), BigQuery's defaults kept.
    assert {"role": "WRITER", "userByEmail": PIPELINES} in dataset["access"]
    assert {"role": "OWNER", "specialGroup": "projectOwners"} in dataset["access"]
    ours = [e for e in dataset["access"] if e.get("userByEmail") == PIPELINES]
    assert ours == [{"role": "WRITER", "userByEmail": PIPELINES}]
    # jobUser on the project (jobs are project resources); no project-wide data role.
    roles = _project_roles(first.state)[f"serviceAccount:{PIPELINES}"]
    assert "roles/bigquery.jobUser" in roles
    assert not {r for r in roles if r.startswith("roles/bigquery.data")}
    changes = [argv[:4] for argv in first.changes() if argv[0] == "bq"]
    assert changes == [
        ["bq", "--project_id=acme-churn-dev", "--location=europe-west4", "mk"],
        ["bq", "--project_id=acme-churn-dev", "update", changes[1][3]],
    ]
    assert changes[1][3].startswith("--source=")
    assert "created  BigQuery dataset acme-churn-dev:churn_dev: in europe-west4" in first.out
    assert "granted  roles on BigQuery dataset acme-churn-dev:churn_dev" in first.out


def test_second_run_only_shows_the_dataset(runs):
    second = runs.second()
    assert second.code == 0
    assert _bq(second.log) == [SHOW[1:], SHOW[1:]]
    assert second.changes() == []
    assert second.state == runs.first().state
    assert "ok       BigQuery dataset acme-churn-dev:churn_dev: exists" in second.out
    assert "ok       roles on BigQuery dataset acme-churn-dev:churn_dev: 1 binding(s)" in second.out


def test_dry_run_prints_the_bq_commands_and_runs_none(cloud):
    lines = dry_run_lines(cloud)
    assert "# BigQuery dataset acme-churn-dev:churn_dev" in lines
    assert (
        "bq --project_id=acme-churn-dev --location=europe-west4 mk --dataset "
        "'--description=churn warehouse: predictions, model metrics, feature importances, "
        "prepared data' acme-churn-dev:churn_dev  # if it does not exist"
    ) in lines
    update = next(line for line in lines if line.startswith("bq --project_id=acme-churn-dev upd"))
    assert "--source=<dataset.json" in update and "'--etag=<etag from bq show>'" in update
    assert update.split("  # ")[1].startswith("if not granted yet (roles/bigquery.dataEditor")
    assert any("roles/bigquery.jobUser" in line for line in lines)


def test_an_environment_without_a_dataset_does_nothing_for_bigquery(cloud, tmp_path):
    text = (ENVIRONMENTS / "dev.yaml").read_text()
    assert "bigquery_dataset: churn_dev\n" in text
    (tmp_path / "dev.yaml").write_text(text.replace("bigquery_dataset: churn_dev\n", ""))
    code, out, err = cloud.bootstrap("--env", "dev", environments=tmp_path)
    assert code == 0, err
    assert _bq(cloud.log()) == []
    assert cloud.state["projects"][PROJECT]["datasets"] == {}
    roles = _project_roles(cloud.state)[f"serviceAccount:{PIPELINES}"]
    assert not {r for r in roles if r.startswith("roles/bigquery.")}
    assert "BigQuery dataset" not in out
    code, out, _ = cloud.bootstrap("--env", "dev", "--dry-run", environments=tmp_path)
    assert code == 0 and "bq " not in out and "bigquery.jobUser" not in out


def _existing_dataset(location: str, access: list[dict]):
    """The dataset as someone made it by hand (whatever else the project holds)."""

    def change(state):
        state["projects"][PROJECT]["datasets"]["churn_dev"] = {
            "location": location,
            "description": "made by hand",
            "etag": "e7",
            "access": access,
        }

    return change


def test_an_existing_grant_in_legacy_form_is_kept_and_nothing_is_written(set_up):
    cloud = set_up
    access = [
        {"role": "OWNER", "specialGroup": "projectOwners"},
        {"role": "WRITER", "userByEmail": PIPELINES},
    ]
    cloud.edit(_existing_dataset("europe-west4", access))
    code, _out, err = cloud.bootstrap("--env", "dev")
    assert code == 0, err
    assert not [argv for argv in cloud.changes() if argv[0] == "bq"]
    assert cloud.state["projects"][PROJECT]["datasets"]["churn_dev"]["access"] == access


def test_an_existing_dataset_keeps_its_entries_and_a_wrong_location_is_reported(set_up):
    cloud = set_up
    analyst = {"role": "READER", "groupByEmail": "analysts@example.com"}
    extra = {"role": "OWNER", "userByEmail": PIPELINES}
    cloud.edit(_existing_dataset("US", [analyst, extra]))
    code, out, err = cloud.bootstrap("--env", "dev")
    assert code == 0, err
    dataset = cloud.state["projects"][PROJECT]["datasets"]["churn_dev"]
    assert dataset["location"] == "US", "a dataset is never recreated"
    assert dataset["description"] == "made by hand"
    assert dataset["access"] == [analyst, extra, {"role": "WRITER", "userByEmail": PIPELINES}]
    update = next(argv for argv in cloud.changes() if argv[:3] == ["bq", SHOW[1], "update"])
    assert "--etag=e7" in update
    assert "BigQuery dataset acme-churn-dev:churn_dev is in us, not europe-west4" in out
    assert "churn-pipelines also holds roles/bigquery.dataOwner on BigQuery dataset" in out


def test_a_show_bq_refuses_stops_the_run_and_is_never_taken_for_missing(set_up, monkeypatch):
    cloud = set_up
    cloud.edit(lambda state: state["projects"][PROJECT]["datasets"].clear())
    monkeypatch.setenv("FAKE_BQ_DENY", "show")
    code, _out, err = cloud.bootstrap("--env", "dev")
    assert code == 1
    assert "bq --project_id=acme-churn-dev show --format=json acme-churn-dev:churn_dev" in err
    assert "Access Denied" in err
    assert not [argv for argv in cloud.changes() if argv[0] == "bq"]
    assert cloud.state["projects"][PROJECT]["datasets"] == {}


def test_a_missing_bq_is_named_before_anything_runs(cloud, tmp_path, monkeypatch):
    (tmp_path / "bin" / "bq").unlink()
    # Only the fakes' folder: a real Cloud SDK on this machine must not stand in for bq.
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    code, _, err = cloud.bootstrap("--env", "dev")
    assert code == 1
    assert "bq not on PATH" in err
    assert cloud.log() == []
