"""An upload answers once clients can install the file, within a bounded wait.

Tier-1 tests run inside a transaction that never commits, so the on-commit index
build never runs here unless ``committed()`` stands in for the commit: whatever the
index holds when the answer comes was built by the wait itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils import timezone

from channels.models import Subdir
from tests.conftest import upload
from tests.publishing.test_upload_api import repodata, shard_for, shard_index


def test_an_upload_answers_once_the_shard_index_and_repodata_json_include_it(
    api_client: Any, channel: Any, alice_key: str, noarch_pkg: Path
) -> None:
    response = upload(api_client, "demo", noarch_pkg, alice_key)

    assert response.status_code == 200
    answer = response.json()
    assert answer["indexed"] is True
    assert answer["repodata_json"] is True
    assert answer["detail"] == "Stored and indexed: installable now."
    assert "demo" in shard_index(api_client, "demo", "noarch")["shards"]
    shard = shard_for(api_client, "demo", "noarch", "demo")
    assert noarch_pkg.name in shard["packages.conda"]
    assert noarch_pkg.name in repodata(api_client, "demo", "noarch")["packages.conda"]


def test_past_the_wait_the_answer_says_stored_not_indexed_and_the_index_catches_up(
    api_client: Any,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    committed: Any,
    settings: Any,
) -> None:
    settings.PREFIXHUB_UPLOAD_INDEX_WAIT = 0

    with committed():
        response = upload(api_client, "demo", noarch_pkg, alice_key)
        answer = response.json()

    assert response.status_code == 200  # stored: clients must not retry into a 409
    assert answer["indexed"] is False
    assert answer["repodata_json"] is False
    assert answer["detail"].startswith("Stored, but not yet indexed")
    # The build queued on commit publishes it.
    assert noarch_pkg.name in repodata(api_client, "demo", "noarch")["packages.conda"]
    assert "demo" in shard_index(api_client, "demo", "noarch")["shards"]


def test_above_the_file_limit_the_answer_says_when_repodata_json_follows(
    api_client: Any,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    linux_pkg: Path,
    settings: Any,
) -> None:
    settings.PREFIXHUB_UPLOAD_REPODATA_MAX_FILES = 0
    settings.PREFIXHUB_REPODATA_INTERVAL = 1.0
    settings.PREFIXHUB_REPODATA_REBUILD_BOUND = 4.0
    # A throttled rebuild is already pending (queued by an earlier upload).
    Subdir.objects.get_or_create(channel=channel, name="noarch")
    Subdir.objects.filter(channel=channel, name="noarch").update(
        repodata_due_at=timezone.now(), repodata_published_at=timezone.now()
    )

    response = upload(api_client, "demo", noarch_pkg, alice_key)

    answer = response.json()
    assert response.status_code == 200
    assert answer["indexed"] is True
    assert answer["repodata_json"] is False
    assert 4.0 <= answer["repodata_json_expected_within_seconds"] <= 5.0
    assert "repodata.json includes it within" in answer["detail"]
    assert "demo" in shard_index(api_client, "demo", "noarch")["shards"]
