"""PackageFile rows without archives, for pages and listings (fast, bulk)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.utils import timezone

from channels.models import Channel
from packages.models import PackageFile


def package_row(
    channel: Channel,
    name: str,
    version: str = "1.0",
    *,
    subdir: str = "noarch",
    build: str = "h0_0",
    uploaded_by: Any = None,
    age: int = 0,
    **record: Any,
) -> PackageFile:
    """An unsaved PackageFile (for bulk_create); ``age`` seconds before now."""
    filename = f"{name}-{version}-{build}.conda"
    sha = hashlib.sha256(f"{channel.pk}/{subdir}/{filename}".encode()).hexdigest()
    full = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "subdir": subdir,
        "depends": [],
        "sha256": sha,
        "md5": sha[:32],
        "size": 1234,
        **record,
    }
    return PackageFile(
        channel=channel,
        subdir=subdir,
        filename=filename,
        name=name,
        version=version,
        build=build,
        sha256=sha,
        md5=sha[:32],
        size=1234,
        record=full,
        record_json=json.dumps(full).encode(),
        record_msgpack=b"",
        storage_key=f"{channel.pk}/{subdir}/{sha}/{filename}",
        uploaded_by=uploaded_by,
        uploaded_at=timezone.now() - timedelta(seconds=age),
    )


def add_rows(channel: Channel, *rows: PackageFile) -> list[PackageFile]:
    return PackageFile.objects.bulk_create(rows, batch_size=2000)
