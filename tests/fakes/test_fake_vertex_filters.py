"""fakes/vertex.py accepts exactly the ListPipelineJobs filters the API reference documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.api_core import exceptions as gexc
from google.cloud.aiplatform_v1.types import PipelineJob

from fakes.vertex import FilterError, parse_filter
from operations.runs import make_pipeline_client
from tests.operations.conftest import PARENT


@pytest.mark.parametrize(
    "text",
    [
        'start_time>"2026-01-01T00:00:00Z"',  # not a filter field of ListPipelineJobs
        'state<"PIPELINE_STATE_RUNNING"',  # state: = and != only
        'state="RUNNING"',  # not a PipelineState name
        'labels.schedule:"daily*"',  # labels: equality and presence only
        'labels.schedule>"a"',
        'create_time>"yesterday"',  # times must be RFC 3339
        'create_time>"2026-01-01T00:00:00"',  # ... with an offset
        'pipeline_name:"churn*"',  # pipeline_name: = and != only
    ],
)
def test_what_the_reference_does_not_allow_is_refused(text):
    with pytest.raises(FilterError):
        parse_filter(text)


def test_times_compare_as_instants_not_strings():
    job = PipelineJob(create_time=datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    assert parse_filter('create_time>"2026-03-29T03:00:00+02:00"')(job)  # 01:00Z
    assert not parse_filter('create_time>"2026-03-29T01:30:00.5Z"')(job)
    assert parse_filter('labels.env:* OR create_time<="2026-03-29T01:30:00Z"')(job)


def test_invalid_filters_and_foreign_page_tokens_are_invalid_argument(vertex):
    client = make_pipeline_client("europe-west4")
    for i in range(3):
        vertex.add_job(PARENT, f"run-{i}", {"environment": "dev"}, "PIPELINE_STATE_RUNNING")
    with pytest.raises(gexc.InvalidArgument):
        list(client.list_pipeline_jobs(request={"parent": PARENT, "filter": "start_time:*"}))
    first = client.list_pipeline_jobs(
        request={"parent": PARENT, "filter": 'labels.environment="dev"', "page_size": 2}
    )
    token = next(iter(first.pages)).next_page_token
    assert token
    with pytest.raises(gexc.InvalidArgument):
        client.list_pipeline_jobs(
            request={"parent": PARENT, "filter": 'labels.environment="prod"', "page_token": token}
        )
