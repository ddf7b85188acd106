"""The pure core of the index: records in, repodata bytes and shards out.

No Django here (``tests/core/test_purity.py`` checks it): this package turns package
records into ``repodata.json``, its ``.zst``, CEP-16 shards and the shard index,
deterministically, so equal content always gives equal bytes and equal shard names.
"""

from __future__ import annotations

from .records import EncodedRecord, PackageRecordError, build_record, encode_record
from .repodata import empty_subdir_files, write_repodata
from .shards import Shard, encode_shard, encode_shard_index
from .subdirs import KNOWN_SUBDIRS, is_known_subdir

__all__ = [
    "KNOWN_SUBDIRS",
    "EncodedRecord",
    "PackageRecordError",
    "Shard",
    "build_record",
    "empty_subdir_files",
    "encode_record",
    "encode_shard",
    "encode_shard_index",
    "is_known_subdir",
    "write_repodata",
]
