"""Workflows of the channels app. The only writers of channels and their indexes."""

from __future__ import annotations

from .channels import (
    add_member,
    change_role,
    check_transfer,
    create_channel,
    delete_channel,
    record_activity,
    remove_member,
    transfer_ownership,
    update_channel,
)
from .index import (
    BuildResult,
    ensure_subdir,
    mark_all_changed,
    mark_names_changed,
    prune_retired_shards,
    publish_index,
    subdirs_behind,
)
from .repodata_json import publish_repodata, schedule_repodata

__all__ = [
    "BuildResult",
    "add_member",
    "change_role",
    "check_transfer",
    "create_channel",
    "delete_channel",
    "ensure_subdir",
    "mark_all_changed",
    "mark_names_changed",
    "prune_retired_shards",
    "publish_index",
    "publish_repodata",
    "record_activity",
    "remove_member",
    "schedule_repodata",
    "subdirs_behind",
    "transfer_ownership",
    "update_channel",
]
