"""Domain errors of the channels app; views and the API turn them into statuses."""

from __future__ import annotations


class ChannelError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ChannelNotFound(ChannelError):
    status = 404


class AuthenticationRequired(ChannelError):
    status = 401


class AccessForbidden(ChannelError):
    status = 403


class InvalidChannel(ChannelError):
    """A channel or membership change that breaks a rule (name, owner, role)."""

    status = 400
