"""API names: `gcloud services enable` refuses a name Google does not know, and the whole call.

The fake's list of service names comes from Google's documentation (fakes/gcloud.py),
so a misspelt API in infra/desired.py fails here as it would stop a real first run.
"""

from __future__ import annotations

from fakes.gcloud import KNOWN_SERVICES
from infra import desired
from tests.infra.conftest import fake_gcloud


def test_every_api_the_setup_enables_is_a_documented_service_name():
    wanted = {**desired.APIS, **desired.ALERTS_APIS}
    assert set(wanted) <= KNOWN_SERVICES, set(wanted) - KNOWN_SERVICES


def test_one_misspelt_name_fails_the_whole_enable_call(cloud):
    result = fake_gcloud(
        "services",
        "enable",
        "aiplatform.googleapis.com",
        "dataproc-rm.googleapis.com",
        "--project",
        "acme-churn-dev",
    )
    assert result.returncode == 1
    assert "dataproc-rm.googleapis.com" in result.stderr
    assert "aiplatform.googleapis.com" not in cloud.state["projects"]["acme-churn-dev"]["services"]
    ok = fake_gcloud(
        "services", "enable", "dataprocrm.googleapis.com", "--project", "acme-churn-dev"
    )
    assert ok.returncode == 0, ok.stderr
    assert "dataprocrm.googleapis.com" in cloud.state["projects"]["acme-churn-dev"]["services"]


def test_a_misspelt_api_stops_the_setup_at_its_first_step(cloud, monkeypatch):
    monkeypatch.setitem(desired.APIS, "dataproc-rm.googleapis.com", "the old spelling")
    code, _, err = cloud.bootstrap("--env", "dev")
    assert code == 1
    assert "services enable" in err and "dataproc-rm.googleapis.com" in err
    # The one change attempted was the enable call, refused: nothing after it ran.
    assert [argv[:2] for argv in cloud.changes()] == [["services", "enable"]]
    project = cloud.state["projects"]["acme-churn-dev"]
    assert "aiplatform.googleapis.com" not in project["services"]
    assert project["accounts"] == {}
