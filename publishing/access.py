"""Upload permissions beyond channel access: replacing and removing files."""

from __future__ import annotations

from accounts.credentials import Credential
from channels.access import get_channel_for_upload
from channels.exceptions import AccessForbidden
from channels.models import Channel

from .exceptions import OverwriteForbidden


def check_overwrite(credential: Credential) -> None:
    """``force=true`` replaces a file's bytes: never with a minted token."""
    if not credential.may_overwrite:
        raise OverwriteForbidden(
            "A trusted-publishing token may only upload new files, never replace one."
        )


def get_channel_for_change(name: str, credential: Credential) -> Channel:
    """The channel whose existing files this credential may delete or reindex.

    A minted trusted-publishing token only adds new files (403 here).
    """
    channel = get_channel_for_upload(name, credential)
    if not credential.may_overwrite:
        raise AccessForbidden(
            f"A trusted-publishing token may only upload new files to channel '{name}'."
        )
    return channel
