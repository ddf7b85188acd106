"""Upload errors: the status clients expect and a message people can act on."""

from __future__ import annotations

_MAX_MESSAGE = 1000  # clients print the first 512 characters


class PublishingError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        # Archive member names that are not UTF-8 arrive as lone surrogates, which
        # no JSON response can encode: shown escaped instead.
        message = message.encode("utf-8", "backslashreplace").decode()
        if len(message) > _MAX_MESSAGE:  # e.g. a member name from a 1 MiB pax header
            message = message[:_MAX_MESSAGE] + "…"
        super().__init__(message)
        self.message = message


class BadUpload(PublishingError):
    """Malformed request: no file part, empty body, bad headers, hash mismatch."""

    status = 400


class InvalidPackage(PublishingError):
    """The bytes are not a valid conda package for this channel."""

    status = 422


class FileExists(PublishingError):
    status = 409


class UploadTooLarge(PublishingError):
    status = 413


class FileNotFound(PublishingError):
    status = 404


class OverwriteForbidden(PublishingError):
    status = 403


class PublisherError(PublishingError):
    """A trusted publisher that cannot be added as given."""

    status = 400
