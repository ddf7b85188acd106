"""prefixhub settings, driven by environment variables.

The defaults run the embedded mode: SQLite, local file storage and a Celery broker on
the file system, all under ``PREFIXHUB_DATA_DIR``. Production switches to PostgreSQL
(``DATABASE_URL``), Redis (``CELERY_BROKER_URL``, ``REDIS_URL``) and S3 storage.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
import platformdirs
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """Read ``NAME`` or, for container secrets, the file named by ``NAME_FILE``."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE: cannot read {path}: {exc}"
            ) from exc
    return os.environ.get(name, default)


def env_mode(name: str, default: int) -> int:
    """A file mode in octal, as chmod takes it (``600``, ``0o640``)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw.strip().removeprefix("0o"), 8)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be an octal mode, got {raw!r}"
        ) from None


def private_dir(path: Path) -> Path:
    """Create ``path`` for the service user alone (its database, files and keys)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.geteuid():
        path.chmod(0o700)
    return path


DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(
    env_str("PREFIXHUB_DATA_DIR") or platformdirs.user_data_dir("prefixhub")
).resolve()
# Stored files are the service user's alone; a fronting web server that reads them
# itself (PREFIXHUB_SERVE_MODE=accel) may be given group access, e.g. 640 and 750.
FILE_UPLOAD_PERMISSIONS = env_mode("FILE_UPLOAD_PERMISSIONS", 0o600)
FILE_UPLOAD_DIRECTORY_PERMISSIONS = env_mode("FILE_UPLOAD_DIRECTORY_PERMISSIONS", 0o700)
# Embedded mode: nothing configured, everything local. Production values may then
# fall back to safe local defaults; outside it they must be given explicitly.
EMBEDDED = not env_str("DATABASE_URL")

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or EMBEDDED):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # A per-data-dir key keeps sessions valid across restarts of an embedded server.
    _key_file = DATA_DIR / "secret_key"
    if _key_file.exists():
        SECRET_KEY = _key_file.read_text().strip()
    else:
        import secrets

        private_dir(DATA_DIR)
        SECRET_KEY = secrets.token_urlsafe(50)
        _key_file.write_text(SECRET_KEY)
        _key_file.chmod(0o600)

# Every absolute URL, in mail and on pages, is built from PUBLIC_URL, never from the
# Host a request sends (a reset link on an attacker's host would hand them the key).
PUBLIC_URL = env_str("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env_str("PREFIXHUB_SITE_NAME", "prefixhub")
_public_host = (urlsplit(PUBLIC_URL).hostname or "").lower()
_LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"]
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    list(dict.fromkeys([_public_host, *_LOOPBACK_NAMES]))
    if (DEBUG or EMBEDDED)
    else [],
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "prefixhub.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "accounts",
    "channels",
    "packages",
    "publishing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "prefixhub.middleware.ContentSecurityPolicyMiddleware",
    # Channel URLs that conda clients read leave here, with the security headers
    # above and nothing below.
    "prefixhub.middleware.ChannelURLMiddleware",
    "prefixhub.middleware.ChannelTokenPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "prefixhub.urls"
WSGI_APPLICATION = "prefixhub.wsgi.application"
# Channel URLs are matched exactly as clients send them; a redirect to add a slash
# would break HEAD probes and index fetches.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "prefixhub.context_processors.site",
            ],
        },
    },
]

if EMBEDDED:
    private_dir(DATA_DIR)
    DATABASES: dict[str, Any] = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "prefixhub.sqlite3",
            "OPTIONS": {
                # The web server and the worker write concurrently: wait for the
                # lock instead of failing, and take it at BEGIN to avoid upgrades.
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # Reopening the file and re-running the PRAGMAs cost more than the
            # queries of a channel-URL request; keep connections like PostgreSQL's.
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
        }
    }
else:
    DATABASES = {
        "default": dj_database_url.parse(
            env_str("DATABASE_URL"), conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60)
        )
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or DATA_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- storage ---------------------------------------------------------------------
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "local")  # "local" or "s3"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or DATA_DIR / "storage")


def _storage(purpose: str) -> dict[str, object]:
    if STORAGE_BACKEND == "s3":
        return {
            "BACKEND": "prefixhub.storage.PrefixS3Storage",
            "OPTIONS": {
                "bucket_name": env_str("S3_BUCKET"),
                "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
                "region_name": env_str("S3_REGION") or None,
                "access_key": env_secret("S3_ACCESS_KEY_ID") or None,
                "secret_key": env_secret("S3_SECRET_ACCESS_KEY") or None,
                "location": purpose,
                "file_overwrite": True,
                "default_acl": None,
                # Signed URLs (redirect and accel modes) live this many seconds.
                "querystring_expire": env_int("S3_URL_EXPIRE", 60),
                "addressing_style": env_str("S3_ADDRESSING_STYLE") or None,
                "signature_version": "s3v4",
            },
        }
    if STORAGE_BACKEND != "local":
        raise ImproperlyConfigured("STORAGE_BACKEND must be 'local' or 's3'")
    return {
        "BACKEND": "prefixhub.storage.AtomicFileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT / purpose)},
    }


STORAGES = {
    "default": _storage("media"),
    "packages": _storage("packages"),
    "index": _storage("index"),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- channels, uploads, serving -----------------------------------------------------
PREFIXHUB_MAX_UPLOAD_SIZE = env_int("PREFIXHUB_MAX_UPLOAD_SIZE", 1024**3)
# What reading one uploaded archive may cost (decompression bombs): bytes unpacked
# per uploaded byte (at least 16 MiB) and in all, tar entries, info/*.json size.
PREFIXHUB_MAX_UNPACKED_RATIO = env_int("PREFIXHUB_MAX_UNPACKED_RATIO", 200)
PREFIXHUB_MAX_UNPACKED_SIZE = env_int("PREFIXHUB_MAX_UNPACKED_SIZE", 20 * 1024**3)
PREFIXHUB_MAX_ARCHIVE_ENTRIES = env_int("PREFIXHUB_MAX_ARCHIVE_ENTRIES", 200_000)
PREFIXHUB_MAX_INFO_JSON_SIZE = env_int("PREFIXHUB_MAX_INFO_JSON_SIZE", 1024**2)
# Every index download carries each record: a cap keeps one upload from bloating it.
PREFIXHUB_MAX_RECORD_SIZE = env_int("PREFIXHUB_MAX_RECORD_SIZE", 64 * 1024)
# How package and index bytes leave the server: "stream" (Django streams from storage),
# "redirect" (a short-lived storage URL) or "accel" (X-Accel-Redirect to nginx).
PREFIXHUB_SERVE_MODE = env_str("PREFIXHUB_SERVE_MODE", "stream")
if PREFIXHUB_SERVE_MODE not in ("stream", "redirect", "accel"):
    raise ImproperlyConfigured(
        "PREFIXHUB_SERVE_MODE must be 'stream', 'redirect' or 'accel', "
        f"not {PREFIXHUB_SERVE_MODE!r}."
    )
if PREFIXHUB_SERVE_MODE == "redirect" and STORAGE_BACKEND != "s3":
    # A redirect needs a URL that serves the bytes without us: a signed S3 URL.
    raise ImproperlyConfigured(
        "PREFIXHUB_SERVE_MODE=redirect sends clients to signed object-storage URLs "
        "and needs STORAGE_BACKEND=s3; with local storage use 'stream', or 'accel' "
        "behind nginx (deploy/nginx/)."
    )
# accel: nginx serves each storage from an internal location under this prefix,
# "<prefix>packages/" and "<prefix>index/" (deploy/nginx/prefixhub.conf).
PREFIXHUB_ACCEL_PREFIX = env_str("PREFIXHUB_ACCEL_PREFIX", "/_accel/")
# 0 sends "no-cache": clients revalidate every time (a cheap 304) and see uploads
# at once; a positive value lets caches serve the index that many seconds.
PREFIXHUB_INDEX_MAX_AGE = env_int("PREFIXHUB_INDEX_MAX_AGE", 0)
# Shards a new index no longer references stay fetchable this long.
PREFIXHUB_SHARD_GRACE_DAYS = env_int("PREFIXHUB_SHARD_GRACE_DAYS", 7)
# repodata.json is rebuilt at once after a change that follows a quiet spell, and at
# most once per this many seconds while changes keep coming (never per upload).
PREFIXHUB_REPODATA_INTERVAL = env_float("PREFIXHUB_REPODATA_INTERVAL", 1.0)
# An upload answers once the shard index includes the file, and repodata.json too on
# subdirs of up to PREFIXHUB_UPLOAD_REPODATA_MAX_FILES files; it waits at most this
# many seconds, then says what is not published yet (the index catches up).
PREFIXHUB_UPLOAD_INDEX_WAIT = env_float("PREFIXHUB_UPLOAD_INDEX_WAIT", 10.0)
PREFIXHUB_UPLOAD_REPODATA_MAX_FILES = env_int(
    "PREFIXHUB_UPLOAD_REPODATA_MAX_FILES", 10_000
)
# On larger subdirs the upload's answer says when repodata.json follows: after the
# throttle delay (PREFIXHUB_REPODATA_INTERVAL at most), within this many seconds.
PREFIXHUB_REPODATA_REBUILD_BOUND = env_float("PREFIXHUB_REPODATA_REBUILD_BOUND", 4.0)
# A builder's lease on its subdir; renewed while it works, taken over once expired.
PREFIXHUB_BUILD_LEASE_SECONDS = env_int("PREFIXHUB_BUILD_LEASE_SECONDS", 60)
# How often beat re-queues builds that a lost message or a killed worker left undone.
PREFIXHUB_REPAIR_INTERVAL = env_float("PREFIXHUB_REPAIR_INTERVAL", 10.0)

# --- Celery ------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "filesystem://"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
if CELERY_BROKER_URL == "filesystem://":
    # The embedded broker: kombu's file-system transport with atomic messages
    # (prefixhub/broker.py). Every folder it uses, the exchange tables of remote
    # control included, lies in the data folder, never in the working directory.
    _queue_dir = DATA_DIR / "queue"
    for _sub in ("in", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT = "prefixhub.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "in"),
        "data_folder_out": str(_queue_dir / "in"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "polling_interval": 0.1,
    }
    # A virtual transport polls: once the prefetch window is full it sleeps a
    # polling interval. With one message per pool process, a burst of 200 cheap
    # builds drained at 2 a second and the repodata rebuild queued behind them
    # waited a minute. One embedded worker has no one to share the queue with.
    CELERY_WORKER_PREFETCH_MULTIPLIER = 16
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Separate deployments (or test runs) sharing one Redis use separate queues.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "prune-orphan-shards": {
        "task": "channels.prune_orphan_shards",
        "schedule": 3600.0,
    },
    "republish-stale-subdirs": {
        "task": "channels.republish_stale_subdirs",
        "schedule": PREFIXHUB_REPAIR_INTERVAL,
    },
}

# --- REST framework ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "EXCEPTION_HANDLER": "publishing.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# --- email and sign-in -------------------------------------------------------------
# Embedded default: the console backend, so confirmation and reset links appear in the
# server output. Production: SMTP as soon as EMAIL_HOST is set.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
if not (DEBUG or EMBEDDED or env_str("EMAIL_HOST") or env_str("EMAIL_BACKEND")):
    # Sign-up confirmations and password resets would only be printed in a log.
    raise ImproperlyConfigured(
        "EMAIL_HOST must be set when DEBUG is off (or choose EMAIL_BACKEND)"
    )
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
if env_str("EMAIL_FILE_PATH"):  # for the file-based backend (used by the live tests)
    EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "prefixhub <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
# One address per person, changed through a verified switch (old stays until then).
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_USERNAME_VALIDATORS = "accounts.validators.username_validators"
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "signup": "20/m/ip",
}
# A social sign-in whose email the provider reports as verified signs in to the
# account owning that address; allauth wipes the password of an account whose own
# address was never verified, so a squatter cannot share it (its "safe rules").
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_QUERY_EMAIL = True
SOCIALACCOUNT_EMAIL_VERIFICATION = ACCOUNT_EMAIL_VERIFICATION
SOCIALACCOUNT_STORE_TOKENS = False

# Endpoint overrides: GitHub Enterprise, or a fake provider on loopback in tests.
_PROVIDER_URL_SETTINGS = {
    "github": ("GITHUB_URL",),
    "google": (
        "AUTHORIZE_URL",
        "ACCESS_TOKEN_URL",
        "IDENTITY_URL",
        "CERTS_URL",
        "ID_TOKEN_ISSUER",
    ),
}


def socialaccount_providers() -> dict[str, dict[str, object]]:
    """Provider settings from the environment.

    A provider gets an app only when ``<PROVIDER>_CLIENT_ID`` is set; without one (and
    without a SocialApp row from the admin) it is not offered and its URLs answer 404.
    """
    providers: dict[str, dict[str, object]] = {}
    for provider, url_settings in _PROVIDER_URL_SETTINGS.items():
        prefix = provider.upper()
        config: dict[str, object] = {}
        for name in url_settings:
            env_name = name if name.startswith(prefix) else f"{prefix}_{name}"
            if env_str(env_name):
                config[name] = env_str(env_name)
        client_id = env_str(f"{prefix}_CLIENT_ID")
        if client_id:
            config["APPS"] = [
                {
                    "client_id": client_id,
                    "secret": env_secret(f"{prefix}_CLIENT_SECRET"),
                }
            ]
        if config:
            providers[provider] = config
    return providers


SOCIALACCOUNT_PROVIDERS = socialaccount_providers()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- transport security -----------------------------------------------------------
# Cookies are secure when the site is served over https. Redirecting plain http and
# HSTS are the operator's call (behind a TLS proxy, also set SECURE_PROXY_SSL_HEADER),
# so they are settings; `prefixhub check --deploy` names any that are missing.
SESSION_COOKIE_SECURE = env_bool(
    "SESSION_COOKIE_SECURE", PUBLIC_URL.startswith("https://")
)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Scripts only from our static files; styles may be inline (style attributes in the
# templates; CSS cannot run code); logos may come from any https host.
PREFIXHUB_CSP = env_str(
    "PREFIXHUB_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' https: data:; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'",
)

# --- trusted publishing (OIDC), docs/trusted-publishing.md §2 ------------------------
_LOOPBACK_HOSTS = ("localhost", "::1")


def _oidc_audience(public_host: str) -> str:
    """``OIDC_AUDIENCE``, by default the public host name (lower case, IDNA)."""
    audience = env_str("OIDC_AUDIENCE") or public_host.encode("idna").decode()
    if "://" in audience or "/" in audience or ":" in audience or not audience:
        raise ImproperlyConfigured(
            "OIDC_AUDIENCE must be a bare host name (no scheme, port or path)."
        )
    return audience.lower()


def _is_loopback(host: str) -> bool:
    """``localhost``, ``::1`` or an address in 127.0.0.0/8 (not ``127.evil.com``)."""
    if host in _LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _oidc_override(name: str) -> str:
    """An issuer URL override: https, or plain http on a loopback host only."""
    url = env_str(name)
    if not url:
        return ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and _is_loopback(host):
        return url
    raise ImproperlyConfigured(
        f"{name} must use https (plain http only on a loopback host): {url!r}"
    )


_OIDC_PROVIDERS = {
    "github": (
        "https://token.actions.githubusercontent.com",
        "token.actions.githubusercontent.com",
    ),
    "gitlab": ("https://gitlab.com", "gitlab.com"),
    "google": ("https://accounts.google.com", "www.googleapis.com"),
}
OIDC_AUDIENCE = _oidc_audience(_public_host)
# The cost of listing one: any token minted for that audience, by anyone who can get
# one (e.g. every prefix.dev user for "prefix.dev"), can then be exchanged here.
OIDC_EXTRA_AUDIENCES = [a.lower() for a in env_list("OIDC_EXTRA_AUDIENCES", [])]
OIDC_ISSUERS: dict[str, dict[str, Any]] = {}
for _provider, (_iss, _jwks_host) in _OIDC_PROVIDERS.items():
    _P = _provider.upper()
    _discovery = _oidc_override(f"OIDC_{_P}_DISCOVERY_URL")
    _jwks = _oidc_override(f"OIDC_{_P}_JWKS_URL")
    _override = _jwks or _discovery
    OIDC_ISSUERS[_provider] = {
        "issuer": _iss,  # fixed: test issuers sign with the real issuer string
        "enabled": env_bool(f"OIDC_{_P}_ENABLED", True),
        "discovery_url": _discovery or f"{_iss}/.well-known/openid-configuration",
        "jwks_url": _jwks,
        "jwks_host": (urlsplit(_override).hostname or "") if _override else _jwks_host,
        "overridden": bool(_override),
        # Plain http for keys only from an override on a loopback host (§2.2).
        "loopback": bool(_override)
        and _is_loopback(urlsplit(_override).hostname or ""),
    }
OIDC_HTTP_TIMEOUT = env_float("OIDC_HTTP_TIMEOUT", 5.0)
OIDC_JWKS_MAX_AGE = env_int("OIDC_JWKS_MAX_AGE", 3600)
OIDC_JWKS_REFRESH_COOLDOWN = env_int("OIDC_JWKS_REFRESH_COOLDOWN", 60)


def _oidc_rate_limit() -> str:
    """``<count>/<s|m|h>``: a typo would otherwise fail every mint at run time."""
    value = env_str("OIDC_MINT_RATE_LIMIT", "60/m")
    count, _, unit = value.partition("/")
    valid_count = count.isascii() and count.isdigit() and int(count) > 0
    if not valid_count or unit not in ("s", "m", "h"):
        raise ImproperlyConfigured(
            f"OIDC_MINT_RATE_LIMIT must look like 60/m (per s, m or h): {value!r}"
        )
    return value


OIDC_MINT_RATE_LIMIT = _oidc_rate_limit()
GITHUB_API_URL = env_str("GITHUB_API_URL", "https://api.github.com").rstrip("/")
CELERY_BEAT_SCHEDULE["prune-used-id-tokens"] = {
    "task": "publishing.prune_expired_oidc_rows",
    "schedule": 3600.0,
}
