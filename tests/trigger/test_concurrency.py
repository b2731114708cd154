"""max_concurrent_runs holds when fires arrive together (issue 10 A3).

Two function processes (two Cloud Functions instances) share the GCS emulator and the fake
Vertex AI; real threads fire at both at once, past a barrier. The only thing that keeps them
from all counting zero running jobs and all creating one is the lease object and its generation
precondition, so these tests fail if the emulator ignores preconditions (fakes/gcs.py).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator

import grpc
import pytest
import requests

from tests.trigger import trigger_harness as h

SCHEDULE = "churn-weekly-retrain"
JOB = f"projects/{h.PROJECT}/locations/{h.REGION}/jobs/{h.ENV}-{SCHEDULE}"
PARAMS = {"raw_data_path": "raw/latest.csv"}


@pytest.fixture(autouse=True)
def _fresh_leases(no_leases) -> None:
    """No slot of any schedule is taken when a test starts."""


@pytest.fixture(scope="module")
def second_url(gcs, vertex_server, tmp_path_factory) -> Iterator[str]:
    """A second instance of the function, configured like the first."""
    log = tmp_path_factory.mktemp("second") / "function.log"
    env = h.function_env(vertex_server[1], STORAGE_EMULATOR_HOST=gcs, LATEST_CACHE_SECONDS="0")
    with h.serve_function(env, log) as url:
        yield url


def fire_together(urls: list[str], fire_times: list[str], limit: int) -> list[dict]:
    """POST one fire per entry of `fire_times`, all released at once; their JSON answers."""
    barrier = threading.Barrier(len(fire_times))
    answers: list[dict] = [{} for _ in fire_times]
    payload = json.dumps(
        {
            "pipeline": h.PIPELINE,
            "template": "v1",
            "parameters": PARAMS,
            "schedule": SCHEDULE,
            "max_concurrent_runs": limit,
        }
    )

    def one(index: int) -> None:
        url = urls[index % len(urls)]
        headers = h.scheduler_headers(JOB, fire_times[index])
        with requests.Session() as session:
            request = session.prepare_request(
                requests.Request("POST", url, data=payload, headers=headers)
            )
            barrier.wait()
            resp = session.send(request, timeout=60)
        answers[index] = {"status": resp.status_code, **resp.json()}

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(fire_times))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def fire_times(n: int) -> list[str]:
    return [f"2026-11-{day:02d}T02:00:00Z" for day in range(1, n + 1)]


def outcomes(answers: list[dict]) -> Counter:
    return Counter(a.get("outcome") for a in answers)


@pytest.mark.parametrize("limit", [1, 3])
def test_different_fires_arriving_together_never_exceed_the_limit(
    limit, function_url, second_url, vertex
):
    answers = fire_together([function_url, second_url], fire_times(10), limit)

    counts = outcomes(answers)
    assert counts["created"] == limit, answers
    assert len(vertex.created()) == limit
    # the others are told why (or, under heavy contention, to come back: Scheduler retries)
    assert counts["skipped"] + counts["transient"] == 10 - limit, answers
    skipped = [a for a in answers if a["outcome"] == "skipped"]
    assert all(f"max_concurrent_runs={limit}" in a["message"] for a in skipped)


def test_a_fire_delivered_many_times_at_once_makes_one_job(function_url, second_url, vertex):
    answers = fire_together([function_url, second_url], ["2026-11-30T02:00:00Z"] * 6, 1)

    counts = outcomes(answers)
    assert counts["created"] == 1, answers
    assert counts["already_exists"] + counts["transient"] == 5, answers
    assert len(vertex.created()) == 1


def test_a_finished_run_frees_its_slot(function_url, vertex):
    [first] = fire_together([function_url], fire_times(1), 1)
    [busy] = fire_together([function_url], ["2026-12-07T02:00:00Z"], 1)
    vertex.set_state(first["job_id"], "PIPELINE_STATE_SUCCEEDED")
    [after] = fire_together([function_url], ["2026-12-14T02:00:00Z"], 1)

    assert [first["outcome"], busy["outcome"], after["outcome"]] == [
        "created",
        "skipped",
        "created",
    ]
    assert first["job_id"] in busy["message"]


def test_a_failed_create_gives_its_slot_back(function_url, vertex):
    vertex.inject_fault("CreatePipelineJob", grpc.StatusCode.PERMISSION_DENIED, message="no")

    [failed] = fire_together([function_url], fire_times(1), 1)
    [next_fire] = fire_together([function_url], ["2026-12-07T02:00:00Z"], 1)

    assert failed["status"] == 502
    assert next_fire["outcome"] == "created"
    lease = json.loads(h.read_object(f"trigger-leases/{h.ENV}/{SCHEDULE}.json"))
    assert [holder["job"] for holder in lease["holders"]] == [next_fire["job"]]
