"""The Celery application: tasks come from each app's ``tasks.py``."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prefixhub.settings")

app = Celery("prefixhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
