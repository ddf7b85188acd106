"""The WSGI application: Django, with the hot channel reads answered in front of it
(``channels.hotpath``)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prefixhub.settings")
django_application = get_wsgi_application()

from channels.hotpath import HotReads  # noqa: E402 (needs Django set up)

application = HotReads(django_application)
