"""Security settings: deploy checks, transport security, CSP, mail, private files."""

from __future__ import annotations

import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from prefixhub.storage import package_storage
from tests.live.service import ROOT
from tests.settings_probe import _DEPLOYMENT_VARIABLES, probe

PRODUCTION = {
    "DATABASE_URL": "postgres://prefixhub@db.invalid:5432/prefixhub",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "PUBLIC_URL": "https://conda.example.org",
    "ALLOWED_HOSTS": "conda.example.org",
    "EMAIL_HOST": "smtp.example.org",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def _prefixhub(
    *args: str, tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in _DEPLOYMENT_VARIABLES}
    full["PREFIXHUB_DATA_DIR"] = str(tmp_path / "data")
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "prefixhub.cli", *args],
        env=full, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_deploy_with_production_settings_reports_nothing(tmp_path: Path) -> None:
    done = _prefixhub("check", "--deploy", tmp_path=tmp_path, **PRODUCTION)
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNINGS" not in done.stderr + done.stdout


def test_check_deploy_names_what_the_embedded_default_lacks(tmp_path: Path) -> None:
    done = _prefixhub("check", "--deploy", tmp_path=tmp_path)
    for check in ("security.W004", "security.W008"):  # HSTS, SSL redirect
        assert check in done.stderr + done.stdout


def test_production_without_email_host_refuses_to_start() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "EMAIL_HOST"}
    result = probe("EMAIL_BACKEND", **env)
    assert "EMAIL_HOST must be set" in result.get("error", ""), result
    chosen = probe(
        "EMAIL_BACKEND",
        **env,
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
    )
    assert chosen == {"values": ["django.core.mail.backends.console.EmailBackend"]}


def test_production_with_email_host_sends_mail_over_smtp() -> None:
    assert probe("EMAIL_BACKEND", **PRODUCTION) == {
        "values": ["django.core.mail.backends.smtp.EmailBackend"]
    }


def test_hsts_and_the_ssl_redirect_follow_their_settings(
    db: None, settings: Any
) -> None:
    assert "Strict-Transport-Security" not in Client().get("/", secure=True)
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_SSL_REDIRECT = True
    plain = Client().get("/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/"
    secure = Client().get("/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=3600"


def test_pages_carry_a_content_security_policy_without_inline_script(
    db: None,
) -> None:
    policy = Client().get("/")["Content-Security-Policy"]
    directives = {
        part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()
    }
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


# Inline scripts, event-handler attributes and javascript: URLs would need
# 'unsafe-inline', which the policy does not grant.
_INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.IGNORECASE
)


def test_no_template_has_inline_script() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in (ROOT / "templates").rglob("*.html")
        for match in _INLINE_SCRIPT.finditer(path.read_text())
    ]
    assert found == []


def test_stored_files_are_readable_by_the_service_user_alone() -> None:
    name = package_storage.save("1/noarch/abc/x-1.0-0.conda", ContentFile(b"x"))
    path = Path(package_storage.path(name))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_the_data_folder_is_created_private(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    probe("DATA_DIR", data_dir=str(data))
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_a_foreign_host_is_refused(db: None, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["conda.example.org", "localhost", "127.0.0.1", "[::1]"]
    assert Client().get("/", HTTP_HOST="evil.example").status_code == 400
    assert Client().get("/", HTTP_HOST="localhost:8000").status_code == 200


@pytest.mark.parametrize("raw", ["rw", "9"])
def test_a_malformed_file_mode_is_refused(raw: str) -> None:
    result = probe("FILE_UPLOAD_PERMISSIONS", FILE_UPLOAD_PERMISSIONS=raw)
    assert "FILE_UPLOAD_PERMISSIONS must be an octal mode" in result["error"]
