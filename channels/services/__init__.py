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
from .repodata_json import (
    claim_repodata_rebuild,
    publish_repodata,
    publish_repodata_gzip,
    repodata_outdated,
)
from .waiting import Publication, wait_for_file

__all__ = [
    "BuildResult",
    "Publication",
    "add_member",
    "change_role",
    "check_transfer",
    "claim_repodata_rebuild",
    "create_channel",
    "delete_channel",
    "ensure_subdir",
    "mark_all_changed",
    "mark_names_changed",
    "prune_retired_shards",
    "publish_index",
    "publish_repodata",
    "publish_repodata_gzip",
    "record_activity",
    "remove_member",
    "repodata_outdated",
    "subdirs_behind",
    "transfer_ownership",
    "update_channel",
    "wait_for_file",
]
