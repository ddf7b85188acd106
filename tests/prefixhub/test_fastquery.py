"""The hot-path lookups give the same instances the ORM gives."""

from __future__ import annotations

from typing import Any

from django.forms.models import model_to_dict

from accounts.models import ApiKey
from channels.models import Channel, Membership, Subdir
from packages.models import PackageFile
from prefixhub.fastquery import first_row, first_value
from tests.conftest import upload


def test_first_row_matches_the_orm_with_converted_values(
    channel: Any, alice_key: str
) -> None:
    key = ApiKey.objects.get()
    fast = first_row(ApiKey, {"key_hash": key.key_hash})

    assert fast is not None
    assert model_to_dict(fast) == model_to_dict(key)
    assert fast.created_at == key.created_at  # an aware datetime, not a string
    assert first_row(Channel, {"name": "demo"}) == channel
    assert first_row(Channel, {"name": "demo"}).is_private is False  # type: ignore[union-attr]


def test_first_row_without_a_match_is_none(db: None) -> None:
    assert first_row(Channel, {"name": "nothing"}) is None


def test_first_row_loads_only_the_fields_asked_for(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Any, committed: Any
) -> None:
    with committed():
        assert upload(client, "demo", noarch_pkg, alice_key).status_code == 200
    full = PackageFile.objects.get()

    fast = first_row(
        PackageFile,
        {"channel": channel.pk, "subdir": "noarch", "filename": noarch_pkg.name},
        fields=("sha256", "size"),
    )

    assert fast is not None
    assert fast.get_deferred_fields() >= {"record_json", "storage_key"}
    assert (fast.pk, fast.sha256, fast.size) == (full.pk, full.sha256, full.size)
    assert first_row(Subdir, {"channel": channel.pk, "name": "noarch"}) is not None


def test_first_value_reads_one_column(channel: Any, alice: Any, bob: Any) -> None:
    where = {"channel": channel.pk, "user": bob.pk}
    assert (
        first_value(Membership, "role", where)
        == Membership.objects.get(channel=channel, user=bob).role
    )
    assert first_value(Membership, "role", {"channel": channel.pk, "user": 0}) is None
