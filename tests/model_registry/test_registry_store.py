"""Registry operations on both backends: local folder and Cloud Storage (GCS emulator)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from fakes.gcs import inject_fault
from model_registry import ConflictError, MalformedRecordError, NotFoundError, RegistryError
from model_registry.layout import new_version_id
from tests.model_registry.conftest import MODELS_BUCKET, WORK_BUCKET, Backend

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def register(backend, job: str, auc_pr: float, when: datetime = T0):
    registry = backend.registry()
    source = backend.trained(job, auc_pr)
    return registry.register(
        "churn",
        source,
        pipeline_job=job,
        lineage={"training_data_uri": "gs://data/raw/latest.csv"},
        now=when,
    )


def test_register_writes_an_immutable_complete_version(backend):
    info = register(backend, "job-a", 0.61)
    assert info.version.startswith("v20261130t020000z-")
    prefix = f"churn/versions/{info.version}/"
    names = {n for n in backend.names() if n.startswith(prefix)}
    assert {prefix + "manifest.json", prefix + "metrics.json", prefix + "model_meta.json"} <= names
    assert prefix + "model/stages/0_StringIndexer/data/part-00000.parquet" in names
    assert set(info.manifest.files) == {n.removeprefix(prefix) for n in names} - {"manifest.json"}
    assert info.metrics["auc_pr"] == 0.61
    lineage = info.meta["registry"]
    assert lineage["pipeline_job"] == "job-a"
    assert lineage["training_data_uri"] == "gs://data/raw/latest.csv"
    assert lineage["spark_version"] == "4.0.1"
    assert len(lineage["feature_schema_hash"]) == 64
    assert info.meta["model_version"] == info.version  # predictions name the registry version
    assert info.uri.endswith(f"/churn/versions/{info.version}")


def test_registering_again_from_the_same_run_returns_the_same_version(backend):
    first = register(backend, "job-a", 0.61)
    again = register(backend, "job-a", 0.61, when=T0 + timedelta(minutes=5))
    assert again.version == first.version
    assert [v.version for v in backend.registry().versions("churn")] == [first.version]


def test_versions_sort_by_time_and_a_version_without_manifest_does_not_exist(backend):
    old = register(backend, "job-a", 0.6)
    new = register(backend, "job-b", 0.7, when=T0 + timedelta(days=7))
    backend.put("churn/versions/v20261201t000000z-deadbeef/metrics.json", b"{}")
    registry = backend.registry()
    assert [v.version for v in registry.versions("churn")] == [old.version, new.version]
    with pytest.raises(NotFoundError, match="no such version"):
        registry.version("churn", "v20261201t000000z-deadbeef")


def test_an_existing_version_folder_is_never_overwritten(backend):
    info = register(backend, "job-a", 0.6)
    registry = backend.registry()
    with pytest.raises(ConflictError, match="already exists"):
        registry.store.write(
            f"churn/versions/{info.version}/metrics.json", b"{}", if_generation="0"
        )
    # A half-written folder under the id a run would take is refused, not completed or replaced.
    stray = f"churn/versions/{new_version_id(T0, 'job-q')}/metrics.json"
    backend.put(stray, b'{"auc_pr": 0.1}')
    with pytest.raises(ConflictError, match="already holds objects"):
        register(backend, "job-q", 0.9)
    assert registry.store.read(stray).data == b'{"auc_pr": 0.1}'
    assert registry.version("churn", info.version).metrics["auc_pr"] == 0.6


def test_register_refuses_a_folder_that_is_not_a_training_output(backend):
    registry = backend.registry()
    with pytest.raises(NotFoundError, match="not a train/tune output"):
        registry.register("churn", f"{backend.work}/nothing-here", pipeline_job="job-x")
    assert not backend.names()


def test_promote_then_resolve_by_alias_and_by_pinned_version(backend):
    v1 = register(backend, "job-a", 0.6)
    v2 = register(backend, "job-b", 0.7, when=T0 + timedelta(days=7))
    registry = backend.registry()
    registry.promote("churn", v1.version, moved_by="tester", reason="first")
    assert registry.resolve("churn@champion").version == v1.version
    assert registry.resolve("churn").version == v1.version
    assert registry.resolve(f"churn@{v2.version}").uri == v2.uri
    move = registry.promote("churn", v2.version, moved_by="tester", reason="better")
    assert (move.previous, move.version) == (v1.version, v2.version)
    assert registry.aliases("churn") == {"champion": v2.version}
    history = registry.history("churn", "champion")
    assert [(m.previous, m.version, m.reason) for m in history] == [
        ("", v1.version, "first"),
        (v1.version, v2.version, "better"),
    ]


def test_unknown_alias_unknown_version_and_bad_references_are_clear_errors(backend):
    register(backend, "job-a", 0.6)
    registry = backend.registry()
    before = backend.names()
    with pytest.raises(NotFoundError, match="alias 'champion' is not set"):
        registry.resolve("churn@champion")
    with pytest.raises(NotFoundError, match="no such version"):
        registry.resolve("churn@v20990101t000000z-00000000")
    with pytest.raises(NotFoundError, match="no such version"):
        registry.promote("churn", "v20990101t000000z-00000000")
    with pytest.raises(RegistryError, match="not a model name"):
        registry.resolve("Churn Model@champion")
    with pytest.raises(RegistryError, match="not an alias name"):
        registry.resolve("churn@Champion!")
    assert backend.names() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"model": "churn", "alias": "champion"}', "field 'version' is missing"),
        (
            b'{"model": "churn", "alias": "champion", "version": "../../etc", "previous": "",'
            b' "moved_at": "x", "moved_by": "", "reason": "", "move_id": "1"}',
            "field 'version' has a malformed value",
        ),
        (
            b'{"model": "other", "alias": "champion", "version": "v20261130t020000z-1",'
            b' "previous": "", "moved_at": "x", "moved_by": "", "reason": "", "move_id": "1"}',
            "but it is the pointer of 'churn@champion'",
        ),
    ],
)
def test_a_corrupted_pointer_stops_resolution_and_promotion(backend, content, message):
    info = register(backend, "job-a", 0.6)
    backend.put("churn/aliases/champion.json", content)
    registry = backend.registry()
    with pytest.raises(MalformedRecordError, match=message) as caught:
        registry.resolve("churn@champion")
    assert "churn/aliases/champion.json" in str(caught.value)
    before = backend.names()
    with pytest.raises(MalformedRecordError):
        registry.promote("churn", info.version)
    assert backend.names() == before


def test_a_stale_generation_loses_and_says_who_won(backend):
    v1 = register(backend, "job-a", 0.6)
    v2 = register(backend, "job-b", 0.7, when=T0 + timedelta(days=7))
    registry = backend.registry()
    seen = registry.alias("churn", "champion")  # unset: generation "0"
    registry.promote("churn", v1.version, moved_by="run-1", reason="first run")
    with pytest.raises(ConflictError, match=f"moved meanwhile to {v1.version} by run-1"):
        registry.promote("churn", v2.version, expected_generation=seen.generation)
    assert registry.resolve("churn@champion").version == v1.version
    assert len(registry.history("churn", "champion")) == 1


def test_two_promotions_racing_exactly_one_wins(backend):
    v1 = register(backend, "job-a", 0.6)
    v2 = register(backend, "job-b", 0.7, when=T0 + timedelta(days=1))
    v3 = register(backend, "job-c", 0.8, when=T0 + timedelta(days=2))
    base = backend.registry()
    base.promote("churn", v1.version)
    seen = base.alias("churn", "champion").generation
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def promote(version: str) -> None:
        registry = backend.registry()  # each racer has its own client, as two runs would
        start.wait()
        try:
            outcomes[version] = registry.promote(
                "churn", version, expected_generation=seen, moved_by=f"run-{version[-8:]}"
            )
        except ConflictError as exc:
            outcomes[version] = exc

    racers = [threading.Thread(target=promote, args=(v,)) for v in (v2.version, v3.version)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    winners = [v for v, o in outcomes.items() if not isinstance(o, Exception)]
    losers = [o for o in outcomes.values() if isinstance(o, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1
    assert f"moved meanwhile to {winners[0]}" in str(losers[0])
    assert base.resolve("churn@champion").version == winners[0]
    assert [m.version for m in base.history("churn", "champion")] == [v1.version, winners[0]]


def test_a_promotion_whose_answer_was_lost_is_not_mistaken_for_a_rival(gcs, gcs_server):
    """Cloud Storage took the pointer write and its answer was lost: the retry meets 412, and
    the registry must see its own move there, not a promotion by somebody else."""
    backend = Backend("gcs", f"gs://{MODELS_BUCKET}/registry", f"gs://{WORK_BUCKET}/r", gcs)
    v1 = register(backend, "job-a", 0.6)
    inject_fault(gcs_server, "objects.insert", 503, lands=True)

    move = backend.registry().promote("churn", v1.version, moved_by="run-1")

    registry = backend.registry()
    assert registry.resolve("churn@champion").version == v1.version
    assert [m.move_id for m in registry.history("churn", "champion")] == [move.move_id]


def test_a_cloud_storage_store_refuses_a_generation_that_is_not_one(gcs):
    store = Backend("gcs", f"gs://{MODELS_BUCKET}/registry", "", gcs).registry().store
    for local in ("123.456", "", "latest"):  # a local registry's inode.mtime, nothing, a word
        with pytest.raises(RegistryError, match="is not a Cloud Storage generation"):
            store.write("churn/aliases/champion.json", b"{}", if_generation=local)
    assert store.read("churn/aliases/champion.json") is None


def test_rollback_is_one_pointer_write_and_goes_back_step_by_step(backend):
    versions = [
        register(backend, f"job-{i}", 0.6 + i / 100, when=T0 + timedelta(days=i)).version
        for i in range(3)
    ]
    registry = backend.registry()
    for version in versions:
        registry.promote("churn", version)
    before = backend.names()
    move = registry.rollback("churn", moved_by="oncall")
    assert move.version == versions[1] and move.reason == f"rollback from {versions[2]}"
    written = backend.names() - before
    assert {n.rsplit("/", 2)[0] for n in written} == {"churn/history"}  # + the pointer rewrite
    assert registry.resolve("churn@champion").version == versions[1]
    assert registry.rollback("churn").version == versions[0]
    with pytest.raises(RegistryError, match="no previous version"):
        registry.rollback("churn")
    assert registry.resolve("churn@champion").version == versions[0]


def test_rollback_of_an_unset_alias_is_refused(backend):
    register(backend, "job-a", 0.6)
    with pytest.raises(NotFoundError, match="nothing to roll back"):
        backend.registry().rollback("churn")


def test_pointer_and_history_objects_are_small_json(backend):
    info = register(backend, "job-a", 0.6)
    registry = backend.registry()
    registry.promote("churn", info.version, moved_by="me", reason="why not")
    pointer = registry.store.read("churn/aliases/champion.json")
    assert pointer is not None and len(pointer.data) < 1024
    assert json.loads(pointer.data)["version"] == info.version


def test_a_reader_never_sees_half_a_version(backend):
    registry = backend.registry()
    sources = [backend.trained(f"job-{i}", 0.6) for i in range(3)]
    seen: list[tuple[str, bool]] = []
    done = threading.Event()

    def read() -> None:
        reader = backend.registry()
        while not done.is_set():
            for info in reader.versions("churn"):
                present = reader.store.list(f"churn/versions/{info.version}/")
                wanted = {f"churn/versions/{info.version}/{rel}" for rel in info.manifest.files}
                seen.append((info.version, wanted <= set(present)))

    watcher = threading.Thread(target=read)
    watcher.start()
    try:
        for i, source in enumerate(sources):
            registry.register("churn", source, pipeline_job=f"job-{i}", now=T0 + timedelta(hours=i))
    finally:
        done.set()
        watcher.join()
    assert seen and all(complete for _, complete in seen)
