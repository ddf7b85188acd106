"""Who is acting behind a request: the one value access checks and services take.

Three producers make it (``accounts.authentication``): a browser session, an API key
and a minted trusted-publishing token. Everything downstream (``access.py``, the
upload service, the activity log) reads only this value, so a new kind of credential
never spreads ``isinstance`` checks over the apps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import User


@dataclass(frozen=True)
class TrustedWorkflow:
    """The CI run a minted token came from, as shown on package pages and activity.

    ``publishers`` pairs each channel id in the token's scope with the id of the
    publisher that granted it (one publisher per channel).
    """

    token_id: int
    publishers: tuple[tuple[int, int], ...]
    provider: str
    repository: str
    workflow: str
    ref: str
    run_url: str

    def publisher_for(self, channel_id: int) -> int | None:
        """The publisher that lets this token into ``channel_id``, if any."""
        return next((p for c, p in self.publishers if c == channel_id), None)

    def as_record(self, channel_id: int) -> dict[str, Any]:
        """What events and package files keep: never the token itself."""
        return {
            "via_trusted_publishing": True,
            "token_id": self.token_id,
            "publisher_id": self.publisher_for(channel_id),
            "provider": self.provider,
            "repository": self.repository,
            "workflow": self.workflow,
            "ref": self.ref,
            "run_url": self.run_url,
        }


@dataclass(frozen=True)
class Credential:
    """The acting user (or none) and how far the credential behind a request reaches.

    ``channel_ids`` None means "wherever the user's roles reach"; a set limits the
    credential to those channels (a narrowed API key, a minted token's scope).
    """

    user: User | None = None
    channel_ids: frozenset[int] | None = None
    read_only: bool = False
    may_overwrite: bool = True
    workflow: TrustedWorkflow | None = None

    @classmethod
    def for_user(cls, user: Any) -> Credential:
        """A signed-in person acting with every right their roles give (a session)."""
        if user is None or not user.is_authenticated:
            return ANONYMOUS
        return cls(user=user)

    @property
    def is_anonymous(self) -> bool:
        return self.user is None and self.workflow is None

    def reaches(self, channel_id: int) -> bool:
        """Whether the credential's limits let it act on this channel at all."""
        return self.channel_ids is None or channel_id in self.channel_ids


ANONYMOUS = Credential()
