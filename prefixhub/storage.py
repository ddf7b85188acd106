"""Storage accessors: one lazy object per purpose, over ``settings.STORAGES``.

Code reads and writes package files through ``package_storage`` and generated index
files through ``index_storage``; which backend sits behind them is configuration.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any
from urllib.parse import quote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, storages
from django.utils.functional import LazyObject
from storages.backends.s3 import S3Storage


class AtomicFileSystemStorage(FileSystemStorage):
    """A file-system storage whose writes replace a name atomically.

    Index files are overwritten in place while clients read them; writing to a
    temporary file and renaming it means a reader sees the old bytes or the new
    ones, never a mix. Like S3 PUTs, a save overwrites instead of renaming.
    """

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name

    def _save(self, name: str, content: File[Any]) -> str:
        path = self.path(name)
        directory = os.path.dirname(path)
        os.makedirs(directory, self.directory_permissions_mode or 0o777, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                if not _linked(content, tmp):
                    if hasattr(content, "seek"):
                        content.seek(0)
                    shutil.copyfileobj(content, out, 1024 * 1024)
            if self.file_permissions_mode is not None:
                os.chmod(tmp, self.file_permissions_mode)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return name

    def delete_prefix(self, prefix: str) -> None:
        path = self.path(prefix)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)

    def accel_path(self, name: str) -> str:
        """The object's path below this storage's nginx location (its root)."""
        return quote(name)

    def presigned_url(self, name: str) -> str:
        raise ImproperlyConfigured(
            "Local storage has no signed URLs; PREFIXHUB_SERVE_MODE=redirect "
            "needs STORAGE_BACKEND=s3."
        )


def _linked(content: File[Any], tmp: str) -> bool:
    """Hard-link a spooled file to ``tmp`` instead of copying its bytes.

    Content with a ``spooled_path`` (an upload spooled to disk by
    ``publishing.receive``) is linked when it sits on the same file system: a
    100 MB copy costs up to 0.3 s of kernel CPU on a busy machine, a link nothing.
    The spooled file stays where it is for its owner to remove (not Django's
    ``temporary_file_path()``, which tells its storages to move the file away).
    False: copy the bytes.
    """
    source = getattr(content, "spooled_path", None)
    if source is None:
        return False
    try:
        os.link(source, tmp + ".link")  # mkstemp's names have no suffix
    except OSError:  # another file system, or links not supported
        return False
    os.replace(tmp + ".link", tmp)
    return True


class PrefixS3Storage(S3Storage):
    """S3 storage that can also delete everything under a prefix (channel deletion)."""

    def delete_prefix(self, prefix: str) -> None:
        location = self.location.strip("/")
        full = f"{location}/{prefix}" if location else prefix
        self.bucket.objects.filter(Prefix=full).delete()

    def presigned_url(self, name: str) -> str:
        """A short-lived signed GET URL (``querystring_expire`` seconds)."""
        return str(self.url(name))

    def accel_path(self, name: str) -> str:
        """Path and signed query of the object, to append to this storage's nginx
        location, which proxies to the S3 endpoint (see deploy/nginx/)."""
        url = urlsplit(self.presigned_url(name))
        return f"{url.path.lstrip('/')}?{url.query}"


class _Lazy(LazyObject):
    def __init__(self, alias: str) -> None:
        super().__init__()
        self.__dict__["_alias"] = alias

    def _setup(self) -> None:
        self._wrapped = storages[self.__dict__["_alias"]]


package_storage: Any = _Lazy("packages")
index_storage: Any = _Lazy("index")


def write_bytes(storage: Any, name: str, data: bytes) -> None:
    """Store ``data`` under ``name``, replacing what was there."""
    storage.save(name, ContentFile(data))


def delete_prefix(storage: Any, prefix: str) -> None:
    """Remove every object whose name starts with ``prefix``."""
    storage.delete_prefix(prefix)
