"""Channel pages (``pages``) and channel settings (``settings``)."""

from __future__ import annotations

from . import pages, settings

__all__ = ["pages", "settings"]
