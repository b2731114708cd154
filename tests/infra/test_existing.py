"""Resources that already exist are kept and corrected, never recreated."""

from __future__ import annotations

from tests.infra.conftest import run_steps


def _existing(state):
    project = state["projects"]["acme-churn-dev"]
    project["services"] += ["compute.googleapis.com", "iam.googleapis.com"]
    project["networks"]["default"] = {"x_gcloud_subnet_mode": "AUTO"}
    project["subnets"]["europe-west4/churn-dataproc"] = {
        "network": "https://www.googleapis.com/compute/v1/projects/acme-churn-dev/global/networks/default",
        "ipCidrRange": "10.164.0.0/20",
        "privateIpGoogleAccess": False,
    }
    pipelines = "churn-pipelines@acme-churn-dev.iam.gserviceaccount.com"
    project["accounts"][pipelines] = {"policy": {"bindings": []}}
    # The old README's setup: a bucket without uniform access, the pipelines account an admin.
    state["buckets"]["acme-churn-dev-models"] = {
        "project": "acme-churn-dev",
        "location": "US",
        "uniform_bucket_level_access": True,
        "public_access_prevention": "inherited",
        "policy": {
            "bindings": [
                {"role": "roles/storage.objectAdmin", "members": [f"serviceAccount:{pipelines}"]}
            ]
        },
    }
    # A conditional binding: gcloud refuses a plain add without --condition=None.
    project["policy"]["bindings"].append(
        {
            "role": "roles/aiplatform.user",
            "members": ["user:temp@example.com"],
            "condition": {"title": "until-friday", "expression": "request.time < x"},
        }
    )


def test_existing_network_and_bucket_are_corrected_in_place(cloud):
    cloud.edit(_existing)
    code, out, err = cloud.bootstrap("--env", "dev")
    assert code == 0, err
    project = cloud.state["projects"]["acme-churn-dev"]
    subnet = project["subnets"]["europe-west4/churn-dataproc"]
    assert subnet["privateIpGoogleAccess"] is True
    assert "churn" not in project["networks"], "no new network when the subnetwork exists"
    rule = project["firewalls"]["churn-dataproc-allow-internal-ingress"]
    assert rule["network"].endswith("/networks/default")
    assert rule["sourceRanges"] == rule["destinationRanges"] == ["10.164.0.0/20"]
    models = cloud.state["buckets"]["acme-churn-dev-models"]
    assert models["public_access_prevention"] == "enforced"
    assert "updated  subnetwork churn-dataproc" in out
    assert "updated  bucket gs://acme-churn-dev-models" in out
    # Drift is reported with the exact command, never removed by the setup.
    assert (
        "churn-pipelines also holds roles/storage.objectAdmin on gs://acme-churn-dev-models" in out
    )
    assert (
        "gcloud storage buckets remove-iam-policy-binding gs://acme-churn-dev-models "
        "--member=serviceAccount:churn-pipelines@acme-churn-dev.iam.gserviceaccount.com "
        "--role=roles/storage.objectAdmin" in out
    )
    assert "gs://acme-churn-dev-models is in us, not europe-west4" in out
    assert not any(
        argv[:2] == ["compute", "networks"] and "create" in argv[:4] for argv in cloud.changes()
    )


def test_a_changed_firewall_rule_is_put_back(set_up):
    cloud = set_up
    name = "churn-dataproc-allow-internal-ingress"
    cloud.edit(
        lambda s: s["projects"]["acme-churn-dev"]["firewalls"][name].update(
            {"allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "disabled": True}
        )
    )
    # The subnetwork step tells the firewall rule its network and range.
    _, out = run_steps(cloud, "subnetwork", "firewall rule")
    rule = cloud.state["projects"]["acme-churn-dev"]["firewalls"][name]
    assert rule["allowed"] == [{"IPProtocol": "all"}] and rule["disabled"] is False
    assert "updated  firewall rule churn-dataproc-allow-internal-ingress" in out
    assert [argv[:3] for argv in cloud.changes()] == [["compute", "firewall-rules", "update"]]
