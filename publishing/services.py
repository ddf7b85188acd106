"""The upload workflow: inspect, store, record, then publish the subdir's index.

Browser and command-line uploads share this one path. An upload either becomes a
stored file, a database row and (after commit) an index entry, or leaves nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.credentials import Credential, TrustedWorkflow
from channels.layout import package_key
from channels.models import Activity, Channel, Subdir
from channels.repodata import (
    EncodedRecord,
    PackageRecordError,
    build_record,
    encode_record,
)
from channels.repodata.subdirs import is_known_subdir
from channels.services import (
    ensure_subdir,
    mark_all_changed,
    mark_names_changed,
    record_activity,
)
from packages.artifact import (
    ArtifactError,
    ArtifactTooLarge,
    Limits,
    check_index_matches_filename,
    read_artifact,
)
from packages.models import PackageFile
from prefixhub.storage import package_storage

from .exceptions import (
    BadUpload,
    FileExists,
    FileNotFound,
    InvalidPackage,
    UploadTooLarge,
)
from .models import AuditEvent
from .receive import ReceivedFile, SpooledFile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InspectedPackage:
    """A received file whose archive was read and whose record is ready to store."""

    subdir: str
    record: dict[str, Any]
    encoded: EncodedRecord
    about: dict[str, Any]


def upload_limits() -> Limits:
    """What reading one upload may cost, from the settings."""
    return Limits(
        max_unpacked=settings.PREFIXHUB_MAX_UNPACKED_SIZE,
        unpacked_ratio=settings.PREFIXHUB_MAX_UNPACKED_RATIO,
        max_entries=settings.PREFIXHUB_MAX_ARCHIVE_ENTRIES,
        max_info_json=settings.PREFIXHUB_MAX_INFO_JSON_SIZE,
    )


def inspect_upload(
    received: ReceivedFile,
    *,
    before_scan: Callable[[dict[str, Any]], None] | None = None,
) -> InspectedPackage:
    """Check hashes, archive and metadata; a PublishingError says what is wrong.

    The cheap checks come first: hashes, the filename, then ``info/index.json``
    (which ``before_scan`` also sees, e.g. to refuse a file that exists), and only
    then the rest of the archive, whose reading is bounded by ``upload_limits()``.
    """
    if received.declared_sha256 and received.declared_sha256 != received.sha256:
        raise BadUpload(
            f"SHA-256 mismatch: the header says {received.declared_sha256}, "
            f"the received bytes hash to {received.sha256}."
        )

    def on_index(index: dict[str, Any]) -> None:
        check_index_matches_filename(index, received.filename)
        subdir = index.get("subdir")
        if isinstance(subdir, str) and not is_known_subdir(subdir):
            raise InvalidPackage(f"Unknown platform '{subdir}' in info/index.json.")
        if before_scan is not None:
            before_scan(index)

    try:
        info = read_artifact(
            received.path,
            received.filename,
            limits=upload_limits(),
            on_index=on_index,
        )
        record = build_record(
            info.index,
            sha256=received.sha256,
            md5=received.md5,
            size=received.size,
            indexed_timestamp=int(time.time() * 1000),
        )
        encoded = encode_record(record, max_size=settings.PREFIXHUB_MAX_RECORD_SIZE)
    except ArtifactTooLarge as exc:
        raise UploadTooLarge(_sentence(str(exc))) from None
    except (ArtifactError, PackageRecordError) as exc:
        raise InvalidPackage(_sentence(str(exc))) from None
    subdir = record["subdir"]
    if not is_known_subdir(subdir):
        raise InvalidPackage(f"Unknown platform '{subdir}' in info/index.json.")
    return InspectedPackage(
        subdir=subdir, record=record, encoded=encoded, about=info.about
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def publish_upload(
    channel: Channel,
    *,
    received: ReceivedFile,
    credential: Credential,
    force: bool = False,
) -> PackageFile:
    """Store a received package in ``channel`` and queue its subdir's index build.

    ``credential`` is whoever publishes; access was checked by the caller.
    """

    def refuse_existing(index: dict[str, Any]) -> None:
        # Before the archive is scanned: a duplicate costs no decompression.
        subdir = index.get("subdir")
        if force or not isinstance(subdir, str):
            return
        if PackageFile.objects.filter(
            channel=channel, subdir=subdir, filename=received.filename
        ).exists():
            raise FileExists(_exists_message(received.filename, subdir))

    inspected = inspect_upload(received, before_scan=refuse_existing)
    key = package_key(channel.pk, inspected.subdir, received.sha256, received.filename)
    with open(received.path, "rb") as handle:
        package_storage.save(key, SpooledFile(received, handle))
    try:
        package = _record_upload(
            channel, received, inspected, key=key, credential=credential, force=force
        )
    except BaseException:
        # The key is content-addressed: a refused re-upload of identical bytes (409)
        # shares it with the stored file, which must stay.
        remove_stored_unless_used(channel.pk, inspected.subdir, key)
        raise
    _restore_if_removed(package, received)
    return package


def _lock_subdir(channel_id: int, subdir: str) -> None:
    # Every upload and delete updates its subdir row before it commits (the
    # generation bump), so holding that row orders us against their commits.
    list(
        Subdir.objects.select_for_update()
        .filter(channel_id=channel_id, name=subdir)
        .values_list("pk", flat=True)
    )


def remove_stored_unless_used(channel_id: int, subdir: str, key: str) -> None:
    """Delete a stored package file unless a row refers to its key.

    Keys are content-addressed, so a delete and an at-once re-upload of the same
    bytes share one. The check and the delete hold the subdir's row lock: an upload
    that commits first is seen here; one that commits later finds its bytes gone and
    stores them again (``_restore_if_removed``).
    """
    with transaction.atomic():
        _lock_subdir(channel_id, subdir)
        if not PackageFile.objects.filter(storage_key=key).exists():
            package_storage.delete(key)


def _restore_if_removed(package: PackageFile, received: ReceivedFile) -> None:
    key = package.storage_key
    if package_storage.exists(key):
        return  # the common case: no clean-up ran between our store and commit
    with transaction.atomic():
        _lock_subdir(package.channel_id, package.subdir)
        if PackageFile.objects.filter(storage_key=key).exists():
            with open(received.path, "rb") as handle:
                package_storage.save(key, SpooledFile(received, handle))


def _record_upload(
    channel: Channel,
    received: ReceivedFile,
    inspected: InspectedPackage,
    *,
    key: str,
    credential: Credential,
    force: bool,
) -> PackageFile:
    record, encoded = inspected.record, inspected.encoded
    fields = {
        "name": record["name"],
        "version": record["version"],
        "build": record["build"],
        "build_number": record["build_number"],
        "sha256": received.sha256,
        "md5": received.md5,
        "size": received.size,
        "record": record,
        "record_json": encoded.json,
        "record_msgpack": encoded.msgpack,
        "about": _about_fields(inspected.about),
        "storage_key": key,
        "attestation": received.attestation,
        "uploaded_by": credential.user,
        "published_via": (
            credential.workflow.as_record(channel.pk) if credential.workflow else {}
        ),
        # Also on a forced replacement: package files send it as Last-Modified.
        "uploaded_at": timezone.now(),
    }
    try:
        with transaction.atomic():
            subdir = ensure_subdir(channel, inspected.subdir)
            existing = (
                PackageFile.objects.select_for_update()
                .filter(
                    channel=channel, subdir=inspected.subdir, filename=received.filename
                )
                .first()
            )
            if existing is not None and not force:
                raise FileExists(_exists_message(received.filename, inspected.subdir))
            if existing is not None:
                package = _replace(existing, fields)
                verb = Activity.Verb.REPLACED
            else:
                package = PackageFile.objects.create(
                    channel=channel,
                    subdir=inspected.subdir,
                    filename=received.filename,
                    **fields,
                )
                verb = Activity.Verb.UPLOADED
            mark_names_changed(subdir, [package.name])
            record_activity(
                channel, credential, verb, f"{package.subdir}/{package.filename}"
            )
            if credential.workflow is not None:
                _audit_trusted_upload(channel, credential.workflow, package)
    except IntegrityError:
        # A concurrent upload of the same filename won the race.
        raise FileExists(_exists_message(received.filename, inspected.subdir)) from None
    return package


def _audit_trusted_upload(
    channel: Channel, workflow: TrustedWorkflow, package: PackageFile
) -> None:
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.PACKAGE_UPLOADED,
        channel=channel,
        data={
            **workflow.as_record(channel.pk),
            "filename": f"{package.subdir}/{package.filename}",
            "sha256": package.sha256,
        },
    )


# What the package page shows from info/about.json; the rest (file lists, recipe
# details) can be large and is not needed.
_ABOUT_FIELDS = ("summary", "description", "home", "license", "license_family",
                 "dev_url", "doc_url", "source_url")  # fmt: skip


def _about_fields(about: dict[str, Any]) -> dict[str, str]:
    fields = {
        key: value[:5000]
        for key in _ABOUT_FIELDS
        if isinstance(value := about.get(key), str) and value and _storable(value)
    }
    # Links are shown on the package page: only web URLs, never javascript: and co.
    return {
        key: value
        for key, value in fields.items()
        if not key.endswith(("_url", "home"))
        or value.startswith(("https://", "http://"))
    }


def _storable(text: str) -> bool:
    """PostgreSQL's text and jsonb hold neither NUL nor lone surrogates."""
    return "\x00" not in text and text.encode("utf-8", "replace").decode() == text


def _exists_message(filename: str, subdir: str) -> str:
    return (
        f"{subdir}/{filename} already exists in this channel; "
        "upload with force to replace it."
    )


def _replace(existing: PackageFile, fields: dict[str, Any]) -> PackageFile:
    old_key = existing.storage_key
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.save(update_fields=[*fields])
    if old_key != existing.storage_key:
        channel_id, subdir = existing.channel_id, existing.subdir
        transaction.on_commit(
            lambda: remove_stored_unless_used(channel_id, subdir, old_key)
        )
    return existing


def delete_package_file(
    channel: Channel, *, subdir: str, filename: str, actor: Credential
) -> None:
    """Remove a file from the channel and its index; the bytes go after commit."""
    with transaction.atomic():
        package = (
            PackageFile.objects.select_for_update()
            .filter(channel=channel, subdir=subdir, filename=filename)
            .first()
        )
        if package is None:
            raise FileNotFound(f"{subdir}/{filename} does not exist in this channel.")
        key = package.storage_key
        package.delete()
        state = Subdir.objects.get(channel=channel, name=subdir)
        mark_names_changed(state, [package.name])
        record_activity(channel, actor, Activity.Verb.DELETED, f"{subdir}/{filename}")
        transaction.on_commit(
            lambda: remove_stored_unless_used(channel.pk, subdir, key)
        )


def reindex_subdir(channel: Channel, *, subdir: str) -> int:
    """Rebuild every shard and index file of a subdir from the database."""
    if not is_known_subdir(subdir):
        raise FileNotFound(f"Unknown platform '{subdir}'.")
    state = ensure_subdir(channel, subdir)
    return mark_all_changed(state)
