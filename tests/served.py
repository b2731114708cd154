"""Fixtures for the in-process fakes, made one way: a fake served once per module (or session),
emptied before each test that uses it.

    vertex_server, vertex = served_fake("vertex", fake_vertex, env="AIPLATFORM_EMULATOR_HOST")
    gcs_server, gcs = served_emulator("gcs", buckets=("acme-models",))

in a conftest.py (or a test module) defines the fixtures `vertex_server` ((fake, address), once
per module) and `vertex` (the fake, reset, with AIPLATFORM_EMULATOR_HOST naming it), and the
same pair for a GCS emulator (`gcs` is a storage client whose buckets are empty and whose
emulator has no fault left).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from google.cloud import storage

from fakes.gcs import clear_faults, gcs_emulator


def served_fake(
    name: str,
    start: Callable[[], AbstractContextManager[tuple[Any, str]]],
    *,
    env: str | None = None,
    scope: str = "module",
    server: str | None = None,
    needs: tuple[str, ...] = (),
    server_needs: tuple[str, ...] = (),
    setup: Callable[[Any], None] | None = None,
) -> tuple[Any, Any]:
    """Fixtures `server` (default `<name>_server`: what `start()` serves once per `scope`, after
    the fixtures named in `server_needs`) and `name` (its fake, reset for each test, `env` set
    to its address, `setup(fake)` run, after the fixtures named in `needs`)."""
    server = server or f"{name}_server"

    @pytest.fixture(scope=scope, name=server)
    def serving(request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
        for needed in server_needs:
            request.getfixturevalue(needed)
        with start() as served:
            yield served

    @pytest.fixture(name=name)
    def fake(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
        for needed in needs:
            request.getfixturevalue(needed)
        served, address = request.getfixturevalue(server)
        served.reset()
        if env:
            monkeypatch.setenv(env, address)
        if setup is not None:
            setup(served)
        return served

    return serving, fake


def served_emulator(
    name: str,
    buckets: tuple[str, ...],
    *,
    scope: str = "module",
    project: str = "test-project",
    server: str | None = None,
) -> tuple[Any, Any]:
    """Fixtures `server` (default `<name>_server`: a GCS emulator holding `buckets`, once per
    `scope`; its URL) and `name` (a storage client for it, with every bucket emptied and no
    fault left; STORAGE_EMULATOR_HOST set)."""
    server = server or f"{name}_server"

    @pytest.fixture(scope=scope, name=server)
    def serving() -> Iterator[str]:
        with gcs_emulator(buckets=buckets) as url:
            yield url

    @pytest.fixture(name=name)
    def client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> storage.Client:
        url = request.getfixturevalue(server)
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
        clear_faults(url)
        gcs = storage.Client(project=project)
        for bucket in buckets:
            for blob in list(gcs.list_blobs(bucket)):
                blob.delete()
        return gcs

    return serving, client
