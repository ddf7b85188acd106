"""Receiving an upload body: streamed to a temporary file, hashed on the way.

Two wire forms (protocol doc section 9): multipart with a ``file`` part (and an
optional ``attestation`` part), and a raw body with ``X-File-Name`` and
``X-File-SHA256`` request headers. Memory use does not grow with the file.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.files.base import File
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import (
    MultipartParser,
    MultipartState,
    parse_options_header,
)

from packages.artifact import Hasher

from .exceptions import BadUpload, UploadTooLarge

CHUNK = 256 * 1024
MAX_ATTESTATION = 1024 * 1024
_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass
class ReceivedFile:
    """An upload spooled to disk: where it is and what its bytes hash to."""

    filename: str
    path: str
    sha256: str
    md5: str
    size: int
    declared_sha256: str | None = None
    attestation: str = ""
    _handle: IO[bytes] | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if os.path.exists(self.path):
            os.unlink(self.path)


class SpooledFile(File):
    """A received file opened for a storage. Its ``spooled_path`` lets the local
    storage link the spooled bytes instead of copying them (other storages read
    them as from any file)."""

    def __init__(self, received: ReceivedFile, handle: IO[bytes]) -> None:
        super().__init__(handle, name=received.filename)
        self.spooled_path = received.path


class _Spool:
    """A temporary file that hashes what is written and enforces the size limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.hasher = Hasher()
        fd, self.path = tempfile.mkstemp(prefix="prefixhub-upload-")
        self.handle = os.fdopen(fd, "w+b")

    def write(self, data: bytes) -> None:
        self.hasher.update(data)
        if self.hasher.size > self.limit:
            raise UploadTooLarge(_too_large(self.limit))
        self.handle.write(data)

    def finish(
        self, filename: str, declared: str | None, attestation: str
    ) -> ReceivedFile:
        self.handle.flush()
        return ReceivedFile(
            filename=filename,
            path=self.path,
            sha256=self.hasher.sha256,
            md5=self.hasher.md5,
            size=self.hasher.size,
            declared_sha256=declared,
            attestation=attestation,
            _handle=self.handle,
        )

    def discard(self) -> None:
        self.handle.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def readable_size(size: int) -> str:
    """A byte count for people.

    >>> readable_size(4096), readable_size(1536 * 1024), readable_size(100 << 20)
    ('4 KiB', '1.5 MiB', '100 MiB')
    """
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            break
        value /= 1024
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def _too_large(limit: int) -> str:
    return f"The package is larger than this server's limit of {readable_size(limit)}."


def _check_sha(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not _SHA256_RE.match(value):
        raise BadUpload("X-File-SHA256 must be 64 hexadecimal characters.")
    return value.lower()


def _check_filename(value: str | None) -> str:
    if not value:
        raise BadUpload(
            "The file name is missing (X-File-Name header or part filename)."
        )
    if "/" in value or "\\" in value or value in (".", ".."):
        raise BadUpload("The file name must not contain a path.")
    return value


def receive(stream: Any, meta: dict[str, Any], *, limit: int) -> ReceivedFile:
    """Spool the upload in ``stream`` (a WSGI request) to a temporary file."""
    declared_length = meta.get("CONTENT_LENGTH") or ""
    if declared_length.isdigit() and int(declared_length) > limit + 1024 * 1024:
        raise UploadTooLarge(_too_large(limit))
    content_type = meta.get("CONTENT_TYPE", "")
    if content_type.lower().startswith("multipart/"):
        return _receive_multipart(stream, content_type, limit)
    return _receive_raw(stream, meta, limit)


def _receive_raw(stream: Any, meta: dict[str, Any], limit: int) -> ReceivedFile:
    filename = _check_filename(meta.get("HTTP_X_FILE_NAME"))
    declared = _check_sha(meta.get("HTTP_X_FILE_SHA256"))
    spool = _Spool(limit)
    try:
        while chunk := stream.read(CHUNK):
            spool.write(chunk)
        if spool.hasher.size == 0:
            raise BadUpload("The request body is empty: send the package file.")
        _check_complete(spool.hasher.size, meta.get("CONTENT_LENGTH") or "")
        return spool.finish(filename, declared, "")
    except BaseException:
        spool.discard()
        raise


def _check_complete(received: int, declared_length: str) -> None:
    """Refuse a body that ended before its ``Content-Length``: the client hung up.

    The web server (granian) then ends the request body early instead of raising,
    so without this check a cut upload would be read as a shorter file.
    """
    if declared_length.isdigit() and received < int(declared_length):
        raise BadUpload(
            f"The request body ended after {received} of the {declared_length} "
            "bytes its Content-Length announced: the upload is incomplete."
        )


class _MultipartReader:
    """Callbacks for python-multipart: the ``file`` part goes to the spool."""

    def __init__(self, limit: int) -> None:
        self.spool = _Spool(limit)
        self.headers: dict[str, str] = {}
        self._field = b""
        self._value = b""
        self.part: str | None = None
        self.filename: str | None = None
        self.declared: str | None = None
        self.attestation = bytearray()
        self.file_parts = 0

    def on_part_begin(self) -> None:
        self.headers = {}
        self.part = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self._field.decode("latin-1").lower()] = self._value.decode(
            "latin-1"
        )
        self._field = self._value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get("content-disposition", ""))
        self.part = options.get(b"name", b"").decode("utf-8", "replace")
        if self.part == "file":
            self.file_parts += 1
            if self.file_parts > 1:
                raise BadUpload("Send one package per request (one 'file' part).")
            raw_name = self.headers.get("x-file-name") or options.get(
                b"filename", b""
            ).decode("utf-8", "replace")
            self.filename = _check_filename(raw_name)
            self.declared = _check_sha(self.headers.get("x-file-sha256"))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part == "file":
            self.spool.write(data[start:end])
        elif self.part == "attestation":
            self.attestation += data[start:end]
            if len(self.attestation) > MAX_ATTESTATION:
                raise BadUpload("The attestation part is larger than 1 MiB.")

    def callbacks(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in (
                "on_part_begin",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_headers_finished",
                "on_part_data",
            )
        }


def _receive_multipart(stream: Any, content_type: str, limit: int) -> ReceivedFile:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise BadUpload("The multipart request has no boundary.")
    reader = _MultipartReader(limit)
    try:
        parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
        while chunk := stream.read(CHUNK):
            parser.write(chunk)
        parser.finalize()
        if parser.state != MultipartState.END:
            # finalize() accepts a body cut off mid-part: the request is incomplete.
            raise BadUpload(
                "Malformed multipart body: it ends before the last boundary."
            )
        if reader.file_parts == 0:
            raise BadUpload("The request has no 'file' part with the package.")
        if reader.spool.hasher.size == 0:
            raise BadUpload("The 'file' part is empty.")
        attestation = reader.attestation.decode("utf-8", "replace")
        if "\x00" in attestation:  # a database text column cannot hold it
            raise BadUpload("The attestation part must be text without NUL bytes.")
        assert reader.filename is not None
        return reader.spool.finish(reader.filename, reader.declared, attestation)
    except MultipartParseError as exc:
        reader.spool.discard()
        raise BadUpload(f"Malformed multipart body: {exc}") from None
    except BaseException:
        reader.spool.discard()
        raise
