"""Test settings: the same settings, made fast and isolated.

Whether the database is SQLite or PostgreSQL follows ``DATABASE_URL``, so the same
suite runs in both modes; fast tests run Celery eagerly.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "insecure-test-only-key")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("GITHUB_API_URL", "")  # no network beyond loopback in tests
os.environ.setdefault(
    "PREFIXHUB_DATA_DIR", tempfile.mkdtemp(prefix="prefixhub-test-data-")
)

from .settings import *  # noqa: F403
from .settings import DATA_DIR, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # for speed
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TEST_DATA_DIR = DATA_DIR
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one
