"""The index pipeline, driven through its services: shards, the shard index,
repodata.json, the builders' lease, clean-up, repair and channel creation."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import msgpack
import pytest
import time_machine
import zstandard
from django.utils import timezone
from django.utils.functional import empty

from accounts.credentials import Credential
from channels import locks
from channels.exceptions import InvalidChannel
from channels.models import Activity, Channel, Lease, RetiredShard, ShardName, Subdir
from channels.services import (
    BuildResult,
    create_channel,
    mark_all_changed,
    mark_names_changed,
    prune_retired_shards,
    publish_index,
    publish_repodata,
    schedule_repodata,
    subdirs_behind,
)
from channels.services.index import INDEX_NAME, REPODATA_NAME, shard_path
from prefixhub.celery import app as celery_app
from prefixhub.storage import AtomicFileSystemStorage, index_storage, write_bytes
from publishing.receive import receive
from publishing.services import delete_package_file, publish_upload
from tests.artifacts import build_package
from tests.conftest import body

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


# --- helpers ------------------------------------------------------------------------


def put(channel: Channel, path: Path, user: Any, *, force: bool = False) -> None:
    """Upload through the service, without committing: no index build runs."""
    received = receive(
        io.BytesIO(path.read_bytes()), {"HTTP_X_FILE_NAME": path.name}, limit=10**8
    )
    try:
        publish_upload(
            channel,
            received=received,
            credential=Credential.for_user(user),
            force=force,
        )
    finally:
        received.close()


def noarch(channel: Channel) -> Subdir:
    return Subdir.objects.get(channel=channel, name="noarch")


def current_shards(subdir: Subdir) -> dict[str, str]:
    return dict(
        ShardName.objects.filter(subdir=subdir)
        .exclude(shard_sha256="")
        .values_list("name", "shard_sha256")
    )


def read_index(subdir: Subdir) -> dict[str, str]:
    with index_storage.open(f"{subdir.storage_prefix}/{INDEX_NAME}") as handle:
        data = zstandard.ZstdDecompressor().decompressobj().decompress(handle.read())
    return {name: sha.hex() for name, sha in msgpack.unpackb(data)["shards"].items()}


def read_shard(subdir: Subdir, sha: str) -> list[str]:
    with index_storage.open(shard_path(subdir, sha)) as handle:
        data = zstandard.ZstdDecompressor().decompressobj().decompress(handle.read())
    shard = msgpack.unpackb(data)
    return sorted([*shard["packages"], *shard["packages.conda"]])


def read_repodata(subdir: Subdir) -> list[str]:
    with index_storage.open(f"{subdir.storage_prefix}/{REPODATA_NAME}") as handle:
        data = json.load(handle)
    return sorted([*data["packages"], *data["packages.conda"]])


def fetch(client: Any, url: str) -> int:
    response = client.get(url)
    body(response)  # read to the end, which closes the file
    return int(response.status_code)


@pytest.fixture(scope="session")
def demo_v2(package_dir: Path) -> Path:
    return build_package(package_dir / "index-pipeline", "demo", "2.0")


@pytest.fixture(scope="session")
def other_pkg(package_dir: Path) -> Path:
    return build_package(package_dir / "index-pipeline", "other-tool", "0.3")


class RecordingStorage(AtomicFileSystemStorage):
    """Index storage that lets a test look at every write as it happens."""

    hooks: ClassVar[list[Callable[[RecordingStorage, str, bytes], None]]] = []

    def _save(self, name: str, content: Any) -> str:
        content.seek(0)
        data = content.read()
        for hook in self.hooks:
            hook(self, name, data)
        return super()._save(name, content)


@pytest.fixture
def recording(settings: Any) -> Iterator[type[RecordingStorage]]:
    settings.STORAGES = {
        **settings.STORAGES,
        "index": {
            **settings.STORAGES["index"],
            "BACKEND": f"{__name__}.RecordingStorage",
        },
    }
    index_storage._wrapped = empty
    RecordingStorage.hooks = []
    yield RecordingStorage
    RecordingStorage.hooks = []


# --- publish_index ----------------------------------------------------------------------


def test_publish_index_writes_the_shards_of_the_changed_names_and_the_index(
    channel: Any, alice: Any, noarch_pkg: Path, other_pkg: Path
) -> None:
    put(channel, noarch_pkg, alice)
    put(channel, other_pkg, alice)
    subdir = noarch(channel)

    result = publish_index(subdir.pk)

    shards = current_shards(subdir)
    assert set(shards) == {"demo", "other-tool"}
    assert result.passes == 1
    assert result.index_written is True
    assert sorted(result.shards_written) == sorted(shards.values())
    assert read_index(subdir) == shards
    assert read_shard(subdir, shards["demo"]) == [noarch_pkg.name]
    subdir.refresh_from_db()
    assert subdir.index_generation == subdir.generation
    assert not ShardName.objects.filter(subdir=subdir, dirty_generation__gt=0).exists()


def test_publish_index_rewrites_only_the_shard_of_the_name_that_changed(
    channel: Any, alice: Any, noarch_pkg: Path, demo_v2: Path, other_pkg: Path
) -> None:
    put(channel, noarch_pkg, alice)
    put(channel, other_pkg, alice)
    subdir = noarch(channel)
    publish_index(subdir.pk)
    before = current_shards(subdir)

    put(channel, demo_v2, alice)
    result = publish_index(subdir.pk)

    after = current_shards(subdir)
    assert result.shards_written == [after["demo"]]
    assert result.index_written is True
    assert after["other-tool"] == before["other-tool"]
    assert read_shard(subdir, after["demo"]) == sorted([noarch_pkg.name, demo_v2.name])
    assert read_index(subdir) == after


def test_publish_index_does_nothing_when_nothing_changed(
    channel: Any, alice: Any, noarch_pkg: Path, recording: Any
) -> None:
    put(channel, noarch_pkg, alice)
    subdir = noarch(channel)
    publish_index(subdir.pk)
    writes: list[str] = []
    recording.hooks.append(lambda storage, name, data: writes.append(name))

    result = publish_index(subdir.pk)

    assert result == BuildResult()
    assert writes == []


def test_a_full_rebuild_rewrites_the_index_but_no_existing_shard(
    channel: Any, alice: Any, noarch_pkg: Path, other_pkg: Path, recording: Any
) -> None:
    put(channel, noarch_pkg, alice)
    put(channel, other_pkg, alice)
    subdir = noarch(channel)
    publish_index(subdir.pk)
    shards = current_shards(subdir)
    writes: list[str] = []
    recording.hooks.append(lambda storage, name, data: writes.append(name))

    mark_all_changed(subdir)
    result = publish_index(subdir.pk)

    assert result.passes == 1
    assert result.shards_written == []
    assert result.index_written is True
    assert current_shards(subdir) == shards
    assert not any("/shards/" in name for name in writes)


def test_shards_are_stored_before_the_index_names_them(
    channel: Any,
    alice: Any,
    noarch_pkg: Path,
    demo_v2: Path,
    other_pkg: Path,
    recording: Any,
) -> None:
    checked: list[str] = []

    def check(storage: RecordingStorage, name: str, data: bytes) -> None:
        if not name.endswith(INDEX_NAME):
            return
        raw = zstandard.ZstdDecompressor().decompressobj().decompress(data)
        prefix = name.rsplit("/", 1)[0]
        for sha in msgpack.unpackb(raw)["shards"].values():
            assert storage.exists(f"{prefix}/shards/{sha.hex()}.msgpack.zst")
            checked.append(sha.hex())

    recording.hooks.append(check)
    subdir = noarch(channel)
    for path in (noarch_pkg, other_pkg, demo_v2):
        put(channel, path, alice)
        publish_index(subdir.pk)

    assert len(checked) == 1 + 2 + 2  # every shard of every index written


def test_a_name_changed_during_a_build_stays_dirty_and_is_rebuilt(
    channel: Any, alice: Any, noarch_pkg: Path, demo_v2: Path, recording: Any
) -> None:
    put(channel, noarch_pkg, alice)
    subdir = noarch(channel)
    dirty_when_indexed: list[int] = []
    uploaded: list[bool] = []

    def upload_meanwhile(storage: RecordingStorage, name: str, data: bytes) -> None:
        # Between reading the dirty names and recording their new shards, another
        # upload of the same name commits.
        if "/shards/" in name and not uploaded:
            uploaded.append(True)
            put(channel, demo_v2, alice)
        if name.endswith(INDEX_NAME):
            dirty_when_indexed.append(
                ShardName.objects.get(subdir=subdir, name="demo").dirty_generation
            )

    recording.hooks.append(upload_meanwhile)

    result = publish_index(subdir.pk)

    assert result.passes == 2
    assert dirty_when_indexed[0] > 0  # the first pass left it dirty
    assert dirty_when_indexed[1] == 0
    demo = ShardName.objects.get(subdir=subdir, name="demo")
    assert read_shard(subdir, demo.shard_sha256) == sorted(
        [noarch_pkg.name, demo_v2.name]
    )
    assert read_index(subdir) == {"demo": demo.shard_sha256}
    subdir.refresh_from_db()
    assert subdir.index_generation == subdir.generation


def test_a_name_whose_last_file_is_deleted_leaves_the_index(
    channel: Any, alice: Any, noarch_pkg: Path, other_pkg: Path
) -> None:
    put(channel, noarch_pkg, alice)
    put(channel, other_pkg, alice)
    subdir = noarch(channel)
    publish_index(subdir.pk)
    old = current_shards(subdir)["other-tool"]

    delete_package_file(
        channel,
        subdir="noarch",
        filename=other_pkg.name,
        actor=Credential.for_user(alice),
    )
    result = publish_index(subdir.pk)

    assert result.shards_written == []
    assert read_index(subdir) == current_shards(subdir)
    assert set(current_shards(subdir)) == {"demo"}
    assert not ShardName.objects.filter(subdir=subdir, name="other-tool").exists()
    assert RetiredShard.objects.filter(subdir=subdir, sha256=old).exists()
    assert index_storage.exists(shard_path(subdir, old))


def test_a_name_deleted_and_uploaded_again_during_a_build_stays(
    channel: Any,
    alice: Any,
    noarch_pkg: Path,
    demo_v2: Path,
    other_pkg: Path,
    recording: Any,
) -> None:
    put(channel, noarch_pkg, alice)
    put(channel, other_pkg, alice)
    subdir = noarch(channel)
    publish_index(subdir.pk)
    put(channel, demo_v2, alice)
    delete_package_file(
        channel,
        subdir="noarch",
        filename=other_pkg.name,
        actor=Credential.for_user(alice),
    )
    uploaded: list[bool] = []

    def upload_meanwhile(storage: RecordingStorage, name: str, data: bytes) -> None:
        if "/shards/" in name and not uploaded:
            uploaded.append(True)
            put(channel, other_pkg, alice)

    # The pass finds other-tool without files; while it stores demo's new shard,
    # other-tool is uploaded again: it must not be dropped from the index.
    recording.hooks.append(upload_meanwhile)
    result = publish_index(subdir.pk)

    assert result.passes == 2
    assert read_index(subdir) == current_shards(subdir)
    assert set(read_index(subdir)) == {"demo", "other-tool"}
    other = current_shards(subdir)["other-tool"]
    assert read_shard(subdir, other) == [other_pkg.name]


# --- the lease ----------------------------------------------------------------------------


def test_a_lease_is_held_by_one_owner_at_a_time(db: None) -> None:
    first = locks.acquire("index:1", 60)

    assert first
    assert locks.acquire("index:1", 60) is None
    assert locks.acquire("index:2", 60) not in (None, first)


def test_releasing_a_lease_lets_the_next_owner_take_it(db: None) -> None:
    first = locks.acquire("index:1", 60)
    assert first is not None

    locks.release("index:1", first)
    second = locks.acquire("index:1", 60)

    assert second is not None
    assert second != first
    assert Lease.objects.filter(key="index:1").count() == 1


def test_only_the_owner_can_release_or_renew_a_lease(db: None) -> None:
    owner = locks.acquire("index:1", 60)
    assert owner is not None

    locks.release("index:1", "someone-else")

    assert locks.acquire("index:1", 60) is None
    assert locks.renew("index:1", "someone-else", 60) is False
    assert locks.renew("index:1", owner, 60) is True


def test_renewing_a_lease_pushes_its_expiry_back(db: None) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        owner = locks.acquire("index:1", 60)
        assert owner is not None
        traveller.shift(timedelta(seconds=50))
        assert locks.renew("index:1", owner, 60) is True

        traveller.shift(timedelta(seconds=50))  # 100 s after taking it

        assert locks.acquire("index:1", 60) is None
        assert Lease.objects.get(key="index:1").expires_at == T0 + timedelta(
            seconds=110
        )


def test_an_expired_lease_is_taken_over_and_lost_by_its_old_owner(db: None) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        crashed = locks.acquire("index:1", 60)
        assert crashed is not None
        traveller.shift(timedelta(seconds=60))
        assert locks.acquire("index:1", 60) is None  # not before it has expired

        traveller.shift(timedelta(seconds=1))
        taker = locks.acquire("index:1", 60)

        assert taker is not None
        assert locks.renew("index:1", crashed, 60) is False
        locks.release("index:1", crashed)
        assert locks.acquire("index:1", 60) is None  # still the taker's


def test_a_builder_finding_the_lease_taken_leaves_the_work_to_its_holder(
    channel: Any, alice: Any, noarch_pkg: Path
) -> None:
    put(channel, noarch_pkg, alice)
    subdir = noarch(channel)
    holder = locks.acquire(f"index:{subdir.pk}", 60)
    assert holder is not None

    assert publish_index(subdir.pk) == BuildResult()

    locks.release(f"index:{subdir.pk}", holder)
    assert publish_index(subdir.pk).index_written is True


def test_a_lease_left_by_a_killed_builder_blocks_only_until_it_expires(
    channel: Any, alice: Any, noarch_pkg: Path, settings: Any
) -> None:
    settings.PREFIXHUB_BUILD_LEASE_SECONDS = 60
    put(channel, noarch_pkg, alice)
    subdir = noarch(channel)
    with time_machine.travel(T0, tick=False) as traveller:
        locks.acquire(f"index:{subdir.pk}", 60)
        assert publish_index(subdir.pk).passes == 0

        traveller.shift(timedelta(seconds=61))

        assert publish_index(subdir.pk).passes == 1


# --- repodata.json ------------------------------------------------------------------------


@pytest.fixture
def queued() -> Iterator[Callable[[], int]]:
    """Celery sends tasks to its in-memory broker instead of running them; the
    fixture gives the number of queued messages and drops them at the end."""

    def count() -> int:
        with celery_app.connection_for_write() as connection:
            declared = connection.default_channel.queue_declare("celery", passive=True)
            return int(declared.message_count)

    def purge() -> None:
        with celery_app.connection_for_write() as connection:
            connection.default_channel.queue_purge("celery")

    celery_app.conf.task_always_eager = False
    try:
        purge()
        yield count
    finally:
        celery_app.conf.task_always_eager = True
        purge()


def test_schedule_repodata_queues_one_rebuild_while_one_is_pending(
    channel: Any, queued: Callable[[], int]
) -> None:
    subdir = noarch(channel)

    assert schedule_repodata(subdir.pk) is True
    assert schedule_repodata(subdir.pk) is False
    assert schedule_repodata(subdir.pk) is False

    assert queued() == 1
    subdir.refresh_from_db()
    assert subdir.repodata_due_at is not None


def test_a_pending_mark_older_than_a_minute_is_replaced(
    channel: Any, queued: Callable[[], int]
) -> None:
    subdir = noarch(channel)
    with time_machine.travel(T0, tick=False) as traveller:
        assert schedule_repodata(subdir.pk) is True
        traveller.shift(timedelta(seconds=59))
        assert schedule_repodata(subdir.pk) is False

        traveller.shift(timedelta(seconds=2))

        assert schedule_repodata(subdir.pk) is True
    assert queued() == 2


def test_publish_repodata_builds_only_when_behind(
    channel: Any, alice: Any, noarch_pkg: Path
) -> None:
    put(channel, noarch_pkg, alice)
    subdir = noarch(channel)

    assert publish_repodata(subdir.pk) is True
    assert publish_repodata(subdir.pk) is False

    assert read_repodata(subdir) == [noarch_pkg.name]
    subdir.refresh_from_db()
    assert subdir.repodata_generation == subdir.generation
    assert subdir.repodata_due_at is None


def test_a_rebuild_that_finds_nothing_to_do_does_not_hold_back_the_next(
    alice: Any, noarch_pkg: Path, committed: Any
) -> None:
    # A queued rebuild can find its work already done by a builder that was still
    # running when it was queued; the next change must still get its own rebuild.
    with committed():
        fresh = create_channel("fresh", owner=alice)
    subdir = noarch(fresh)
    assert schedule_repodata(subdir.pk) is True  # runs at once, with nothing to do

    with committed():
        put(fresh, noarch_pkg, alice)

    assert read_repodata(subdir) == [noarch_pkg.name]


def test_publish_index_schedules_repodata_only_when_it_wrote_an_index(
    channel: Any, alice: Any, noarch_pkg: Path, queued: Callable[[], int]
) -> None:
    put(channel, noarch_pkg, alice)
    subdir = noarch(channel)

    publish_index(subdir.pk)
    publish_index(subdir.pk)

    assert queued() == 1


# --- pruning retired shards -------------------------------------------------------------


def _retired(subdir: Subdir, sha: str, *, days_ago: float) -> RetiredShard:
    write_bytes(index_storage, shard_path(subdir, sha), b"old shard")
    return RetiredShard.objects.create(
        subdir=subdir, sha256=sha, retired_at=T0 - timedelta(days=days_ago)
    )


def test_pruning_deletes_shards_retired_longer_than_the_grace_period(
    channel: Any,
) -> None:
    subdir = noarch(channel)
    _retired(subdir, "a" * 64, days_ago=7.01)

    assert prune_retired_shards(now=T0) == 1

    assert not index_storage.exists(shard_path(subdir, "a" * 64))
    assert not RetiredShard.objects.exists()


def test_pruning_keeps_shards_within_the_grace_period(channel: Any) -> None:
    subdir = noarch(channel)
    _retired(subdir, "a" * 64, days_ago=6.99)

    assert prune_retired_shards(now=T0) == 0

    assert index_storage.exists(shard_path(subdir, "a" * 64))
    assert RetiredShard.objects.count() == 1


def test_pruning_follows_the_grace_period_setting(channel: Any, settings: Any) -> None:
    settings.PREFIXHUB_SHARD_GRACE_DAYS = 2
    subdir = noarch(channel)
    _retired(subdir, "a" * 64, days_ago=3)
    _retired(subdir, "b" * 64, days_ago=1)

    assert prune_retired_shards(now=T0) == 1

    assert not index_storage.exists(shard_path(subdir, "a" * 64))
    assert index_storage.exists(shard_path(subdir, "b" * 64))


def test_pruning_keeps_a_retired_shard_that_is_in_use_again(channel: Any) -> None:
    subdir = noarch(channel)
    _retired(subdir, "a" * 64, days_ago=30)
    ShardName.objects.create(subdir=subdir, name="demo", shard_sha256="a" * 64)

    assert prune_retired_shards(now=T0) == 0

    assert index_storage.exists(shard_path(subdir, "a" * 64))
    assert not RetiredShard.objects.exists()  # its retirement is over


def test_pruning_keeps_a_shard_retired_again_recently(channel: Any) -> None:
    subdir = noarch(channel)
    _retired(subdir, "a" * 64, days_ago=30)
    recent = _retired(subdir, "a" * 64, days_ago=1)

    assert prune_retired_shards(now=T0) == 0

    assert index_storage.exists(shard_path(subdir, "a" * 64))
    assert list(RetiredShard.objects.all()) == [recent]


def test_pruning_judges_each_subdir_by_its_own_shards(channel: Any, alice: Any) -> None:
    subdir = noarch(channel)
    other = Subdir.objects.create(channel=channel, name="linux-64")
    _retired(subdir, "a" * 64, days_ago=30)
    ShardName.objects.create(subdir=other, name="demo", shard_sha256="a" * 64)

    assert prune_retired_shards(now=T0) == 1


def test_a_replaced_shard_is_served_for_the_grace_period_then_pruned(
    client: Any,
    channel: Any,
    alice: Any,
    noarch_pkg: Path,
    demo_v2: Path,
    committed: Any,
) -> None:
    subdir = noarch(channel)
    with time_machine.travel(T0, tick=False) as traveller:
        with committed():
            put(channel, noarch_pkg, alice)
        old = current_shards(subdir)["demo"]
        with committed():
            put(channel, demo_v2, alice)
        new = current_shards(subdir)["demo"]
        old_url = f"/demo/noarch/shards/{old}.msgpack.zst"

        traveller.shift(timedelta(days=6))
        assert prune_retired_shards() == 0
        assert fetch(client, old_url) == 200

        traveller.shift(timedelta(days=2))
        assert prune_retired_shards() == 1

    assert fetch(client, old_url) == 404
    assert fetch(client, f"/demo/noarch/shards/{new}.msgpack.zst") == 200


# --- repair -------------------------------------------------------------------------------


def test_subdirs_behind_lists_subdirs_whose_index_or_repodata_lags(
    channel: Any, private_channel: Any, alice: Any, noarch_pkg: Path
) -> None:
    # Nothing has been committed: both channels' noarch indexes are unbuilt.
    demo, secret = noarch(channel), noarch(private_channel)
    assert sorted(subdirs_behind()) == sorted([demo.pk, secret.pk])

    publish_index(demo.pk)  # and, eagerly, its repodata
    assert subdirs_behind() == [secret.pk]

    publish_repodata(secret.pk)  # repodata current, shard index still behind
    assert subdirs_behind() == [secret.pk]

    publish_index(secret.pk)
    assert subdirs_behind() == []


def test_a_subdir_whose_repodata_rebuild_is_pending_is_behind(
    channel: Any, alice: Any, noarch_pkg: Path
) -> None:
    subdir = noarch(channel)
    Subdir.objects.filter(pk=subdir.pk).update(repodata_due_at=timezone.now())

    publish_index(subdir.pk)  # its repodata rebuild is left to the pending task

    subdir.refresh_from_db()
    assert subdir.index_generation == subdir.generation
    assert subdir.repodata_generation < subdir.generation
    assert subdirs_behind() == [subdir.pk]


def test_mark_names_changed_bumps_the_generation_and_dirties_the_names(
    channel: Any,
) -> None:
    subdir = noarch(channel)
    before = subdir.generation

    generation = mark_names_changed(subdir, ["demo", "demo", "other"])

    assert generation == Subdir.objects.get(pk=subdir.pk).generation
    assert generation > before
    assert dict(
        ShardName.objects.filter(subdir=subdir).values_list("name", "dirty_generation")
    ) == {"demo": generation, "other": generation}


# --- create_channel -----------------------------------------------------------------------


def test_create_channel_makes_the_owner_and_queues_the_noarch_index(alice: Any) -> None:
    created = create_channel("fresh", owner=alice, is_private=True)

    assert created.memberships.get().user == alice
    assert created.memberships.get().role == "owner"
    subdir = noarch(created)
    assert subdir.generation > subdir.index_generation
    assert Activity.objects.get(channel=created).verb == "created"


@pytest.mark.parametrize(
    "name", ["Bad", "has space", "-dash", "dash-", "dot.ted", "x" * 65, "", "ü"]
)
def test_create_channel_rejects_malformed_names(alice: Any, name: str) -> None:
    with pytest.raises(InvalidChannel) as raised:
        create_channel(name, owner=alice)

    assert raised.value.status == 400
    assert not Channel.objects.exists()


@pytest.mark.parametrize("name", ["api", "t", "admin", "static", "noarch", "accounts"])
def test_create_channel_rejects_reserved_names(alice: Any, name: str) -> None:
    with pytest.raises(InvalidChannel) as raised:
        create_channel(name, owner=alice)

    assert "reserved" in raised.value.message
    assert not Channel.objects.exists()


def test_create_channel_says_when_a_name_is_taken(channel: Any, charlie: Any) -> None:
    with pytest.raises(InvalidChannel) as raised:
        create_channel("demo", owner=charlie)

    assert "already exists" in raised.value.message


@pytest.mark.parametrize("name", ["demo", "Demo", "DEMO"])
def test_create_channel_rejects_taken_names_in_any_case(
    channel: Any, charlie: Any, name: str
) -> None:
    with pytest.raises(InvalidChannel):
        create_channel(name, owner=charlie)

    assert list(Channel.objects.values_list("name", flat=True)) == ["demo"]
    assert not Subdir.objects.exclude(channel=channel).exists()


def test_repodata_is_rebuilt_at_once_after_quiet_and_throttled_while_busy(
    settings: Any,
) -> None:
    from datetime import UTC, datetime, timedelta

    from channels.services.repodata_json import repodata_delay

    settings.PREFIXHUB_REPODATA_INTERVAL = 2.0
    now = datetime(2026, 1, 1, tzinfo=UTC)

    assert repodata_delay(None, now) == 0.0
    assert repodata_delay(now - timedelta(seconds=30), now) == 0.0
    assert repodata_delay(now - timedelta(seconds=0.5), now) == 1.5
