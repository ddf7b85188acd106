"""Where every stored object lives: the one spelling of storage keys.

Package files live in the ``packages`` storage and generated index files and shards in
the ``index`` storage; writers, readers, deleters, serve modes and the shipped nginx
configuration all derive names from here. Pure (stdlib only), so the core uses it too.

Keys are grouped per channel id, never per channel name, so a deleted channel's
objects cannot be confused with a new channel that takes its name.

>>> package_key(7, "noarch", "ab" * 32, "demo-1.0-0.conda").split("/")[:2]
['7', 'noarch']
>>> shard_key(7, "linux-64", "0f" * 32)[:20]
'7/linux-64/shards/0f'
>>> index_key(7, "noarch", REPODATA)
'7/noarch/repodata.json'
>>> channel_prefix(7)
'7/'
"""

from __future__ import annotations

import re

# The per-subdir index files clients fetch by name (conda-protocol.md, section 2).
SHARD_INDEX = "repodata_shards.msgpack.zst"
REPODATA = "repodata.json"
REPODATA_ZST = "repodata.json.zst"
# A stored gzip copy of repodata.json, served to clients that accept gzip.
REPODATA_GZ = "repodata.json.gz"
INDEX_FILES = (SHARD_INDEX, REPODATA, REPODATA_ZST, REPODATA_GZ)

SHARD_SUFFIX = ".msgpack.zst"
SHARD_NAME = re.compile(r"^[0-9a-f]{64}\.msgpack\.zst$")


def channel_prefix(channel_id: int) -> str:
    """The prefix of every object of a channel, in both storages.

    The trailing slash matters: without it, deleting channel 5 would take 50's files.
    """
    return f"{channel_id}/"


def subdir_prefix(channel_id: int, subdir: str) -> str:
    return f"{channel_prefix(channel_id)}{subdir}/"


def package_key(channel_id: int, subdir: str, sha256: str, filename: str) -> str:
    """Key of a package file. The hash in the key lets a forced replacement be
    stored before the old file is removed: readers never see a half-written file."""
    return f"{subdir_prefix(channel_id, subdir)}{sha256}/{filename}"


def shard_filename(sha256: str) -> str:
    """A shard's file name: its content hash (CEP-16)."""
    return f"{sha256}{SHARD_SUFFIX}"


def shard_key(channel_id: int, subdir: str, sha256: str) -> str:
    return f"{subdir_prefix(channel_id, subdir)}shards/{shard_filename(sha256)}"


def index_key(channel_id: int, subdir: str, filename: str) -> str:
    """Key of one of a subdir's index files (``INDEX_FILES``)."""
    if filename not in INDEX_FILES:
        raise ValueError(f"{filename!r} is not an index file")
    return f"{subdir_prefix(channel_id, subdir)}{filename}"
