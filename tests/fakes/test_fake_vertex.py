"""The fake PipelineService, through the real aiplatform_v1 client over gRPC."""

from __future__ import annotations

import grpc
import pytest
from google.api_core import exceptions as gexc
from google.cloud.aiplatform_v1.services.pipeline_service import PipelineServiceClient
from google.cloud.aiplatform_v1.services.pipeline_service.transports.grpc import (
    PipelineServiceGrpcTransport,
)
from google.cloud.aiplatform_v1.types import PipelineJob

from fakes.vertex import FilterError, parse_filter

PARENT = "projects/p/locations/europe-west4"
SPEC = {"pipelineInfo": {"name": "churn-training"}, "root": {}}


@pytest.fixture
def client(vertex_server, vertex) -> PipelineServiceClient:
    _, address = vertex_server
    channel = grpc.insecure_channel(address)
    return PipelineServiceClient(transport=PipelineServiceGrpcTransport(channel=channel))


ROOT = "gs://acme-runs/root"


def create(client, job_id: str, labels=None, root: str = ROOT, spec=None):
    job = PipelineJob(
        pipeline_spec=spec or SPEC,
        labels=labels or {},
        runtime_config=PipelineJob.RuntimeConfig(gcs_output_directory=root),
    )
    return client.create_pipeline_job(
        parent=PARENT, pipeline_job=job, pipeline_job_id=job_id, retry=None
    )


def test_create_then_get_and_already_exists_on_reuse(client, vertex):
    created = create(client, "run-1", {"schedule": "weekly"})

    assert created.name == f"{PARENT}/pipelineJobs/run-1"
    assert created.state.name == "PIPELINE_STATE_PENDING"
    assert client.get_pipeline_job(name=created.name).labels["schedule"] == "weekly"
    with pytest.raises(gexc.AlreadyExists):
        create(client, "run-1")
    assert vertex.calls["CreatePipelineJob"] == 2
    assert len(vertex.created()) == 1


@pytest.mark.parametrize("job_id", ["Run-1", "1run", "run_1", "r" * 128, "r" * 129])
def test_malformed_ids_are_invalid_arguments(client, vertex, job_id):
    with pytest.raises(gexc.InvalidArgument, match="less than 128 characters"):
        create(client, job_id)
    assert vertex.created() == []


def test_an_id_of_127_characters_is_the_longest_accepted(client):
    assert create(client, "r" * 127).name.endswith("/" + "r" * 127)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"Schedule": "x"}, "invalid label key 'Schedule'"),
        ({"1st": "x"}, "invalid label key '1st'"),
        ({"k" * 64: "x"}, "invalid label key"),
        ({"schedule": "Weekly"}, "invalid value of label 'schedule'"),
        ({"schedule": "x" * 64}, "invalid value of label 'schedule'"),
        ({f"k{i}": "v" for i in range(65)}, "at most 64 labels, got 65"),
    ],
)
def test_labels_follow_the_label_rules(client, vertex, labels, message):
    with pytest.raises(gexc.InvalidArgument, match=message):
        create(client, "run-1", labels)
    assert vertex.created() == []
    assert create(client, "run-2", {"k" * 63: "v" * 63, "empty": ""}).labels["empty"] == ""


def test_a_job_needs_a_pipeline_root_unless_its_spec_has_a_default(client, vertex):
    with pytest.raises(gexc.InvalidArgument, match="gcs_output_directory is required"):
        create(client, "run-1", root="")
    with pytest.raises(gexc.InvalidArgument, match="is not a gs:// path"):
        create(client, "run-1", root="/tmp/root")
    defaulted = {**SPEC, "defaultPipelineRoot": "gs://acme-runs/default"}

    assert create(client, "run-2", root="", spec=defaulted).name.endswith("/run-2")
    assert len(vertex.created()) == 1


def test_missing_spec_is_an_invalid_argument(client):
    with pytest.raises(gexc.InvalidArgument, match="pipeline_spec is required"):
        client.create_pipeline_job(
            parent=PARENT, pipeline_job=PipelineJob(), pipeline_job_id="r", retry=None
        )


def test_get_of_an_unknown_job_is_not_found(client):
    with pytest.raises(gexc.NotFound):
        client.get_pipeline_job(name=f"{PARENT}/pipelineJobs/nope", retry=None)


def test_list_filters_by_label_and_state_and_pages(client, vertex):
    for i in range(5):
        create(client, f"run-{i}", {"schedule": "weekly" if i < 4 else "daily"})
    vertex.set_state("run-0", "PIPELINE_STATE_SUCCEEDED")
    vertex.set_state("run-1", "PIPELINE_STATE_RUNNING")

    pager = client.list_pipeline_jobs(
        request={
            "parent": PARENT,
            "filter": 'labels.schedule="weekly" AND state!="PIPELINE_STATE_SUCCEEDED"',
            "page_size": 2,
        }
    )
    names = [job.name.rsplit("/", 1)[-1] for job in pager]
    running = client.list_pipeline_jobs(
        request={"parent": PARENT, "filter": 'state="PIPELINE_STATE_RUNNING"'}
    )

    assert names == ["run-3", "run-2", "run-1"]  # newest first, over two pages
    assert vertex.calls["ListPipelineJobs"] == 3
    assert [job.name.rsplit("/", 1)[-1] for job in running] == ["run-1"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {"a", "b", "c"}),
        ('labels.team="x"', {"a", "b"}),
        ('labels.team="x" AND labels.env="prod"', {"a"}),
        ('labels.env="prod" OR labels.env="dev" AND labels.team="x"', {"a", "b"}),
        ('NOT labels.team="x"', {"c"}),
        ("labels.env:*", {"a", "b"}),
        ('(labels.env="prod" OR labels.env="dev") AND state="PIPELINE_STATE_PENDING"', {"a", "b"}),
    ],
)
def test_filter_expressions(text, expected):
    jobs = {
        "a": PipelineJob(labels={"team": "x", "env": "prod"}, state=2),
        "b": PipelineJob(labels={"team": "x", "env": "dev"}, state=2),
        "c": PipelineJob(labels={"team": "y"}, state=2),
    }
    pred = parse_filter(text)

    assert {k for k, job in jobs.items() if pred(job)} == expected


@pytest.mark.parametrize("text", ['labels.a="x" AND', "colour=red", '(labels.a="x"', "= 3"])
def test_bad_filters_are_refused(text):
    with pytest.raises(FilterError):
        parse_filter(text)


def test_injected_faults_fail_the_next_calls_only(client, vertex):
    vertex.inject_fault("CreatePipelineJob", grpc.StatusCode.DEADLINE_EXCEEDED, times=2)

    for _ in range(2):
        with pytest.raises(gexc.DeadlineExceeded):
            create(client, "run-1")
    assert create(client, "run-1").name.endswith("/run-1")


def test_a_fault_that_lands_stores_the_job_and_loses_the_answer(client, vertex):
    vertex.inject_fault("CreatePipelineJob", grpc.StatusCode.UNAVAILABLE, lands=True)

    with pytest.raises(gexc.ServiceUnavailable):
        create(client, "run-1")
    assert client.get_pipeline_job(name=f"{PARENT}/pipelineJobs/run-1").name.endswith("/run-1")
    with pytest.raises(gexc.AlreadyExists):  # the fault is spent: the retry sees the job
        create(client, "run-1")
