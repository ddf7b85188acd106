"""The stored gzip copy of repodata.json: written after each rebuild, served only
while it matches the current repodata.json."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from channels import layout, locks
from channels.models import Subdir
from channels.services import publish_repodata_gzip, subdirs_behind
from prefixhub.storage import index_storage, write_bytes
from tests.channels import test_serving

public_files = test_serving.public_files  # the fixture: demo 1.0 in ``demo``


def _state(channel: Any) -> Subdir:
    return Subdir.objects.get(channel=channel, name="noarch")


def _key(state: Subdir, name: str) -> str:
    return layout.index_key(state.channel_id, state.name, name)


def _stored(state: Subdir, name: str) -> bytes:
    with index_storage.open(_key(state, name), "rb") as handle:
        return bytes(handle.read())


def test_each_rebuild_is_followed_by_its_gzip_copy(
    channel: Any, public_files: dict[str, str]
) -> None:
    state = _state(channel)
    assert state.repodata_gz_sha256
    packed = _stored(state, "repodata.json.gz")
    assert gzip.decompress(packed) == _stored(state, "repodata.json")
    # No time stamp, no file name in the header: equal JSON, equal bytes.
    assert packed[3:8] == b"\x00" * 5


def test_a_current_copy_is_not_written_again(
    channel: Any, public_files: dict[str, str]
) -> None:
    assert publish_repodata_gzip(_state(channel).pk) is False


def test_no_copy_while_a_rebuild_holds_the_lease_past_the_wait(
    channel: Any, public_files: dict[str, str], settings: Any
) -> None:
    settings.PREFIXHUB_REPODATA_REBUILD_BOUND = 0.2  # how long it waits for the lease
    state = _state(channel)
    Subdir.objects.filter(pk=state.pk).update(repodata_gz_sha256="")
    owner = locks.acquire(f"repodata:{state.pk}", 60)
    assert owner is not None

    assert publish_repodata_gzip(state.pk) is False
    locks.release(f"repodata:{state.pk}", owner)
    # Left without a copy, the periodic repair queues it again.
    assert state.pk in subdirs_behind()
    assert publish_repodata_gzip(state.pk) is True
    assert state.pk not in subdirs_behind()


def test_no_copy_of_a_repodata_json_that_is_not_the_recorded_one(
    channel: Any, public_files: dict[str, str], tmp_path: Path
) -> None:
    state = _state(channel)
    Subdir.objects.filter(pk=state.pk).update(repodata_gz_sha256="")
    # A rebuild that died after writing its file, before recording it.
    write_bytes(index_storage, _key(state, layout.REPODATA), b"{}")

    assert publish_repodata_gzip(state.pk) is False
    assert _state(channel).repodata_gz_sha256 == ""


def test_an_unknown_subdir_gets_no_copy(db: None) -> None:
    assert publish_repodata_gzip(123456) is False
