"""The cast: alice owns the channel ``demo``, bob contributes, charlie has no access."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from django.utils.functional import empty

from tests.artifacts import build_package
from tests.factories import add_member, make_channel, make_key, make_user
from tests.live.conda_cli import conda_env  # noqa: F401 (session fixture, tiers 2-3)
from tests.live.service import ROOT, LiveService, service_or_skip
from tests.oidc_issuer import IssuerServer, make_issuers, make_keys
from tests.s3 import MotoS3, moto_or_skip

# Uploaders try trusted publishing when they see CI variables: never here.
for _var in list(os.environ):
    if (
        _var in ("GITHUB_ACTIONS", "GITLAB_CI")
        or _var.startswith("ACTIONS_ID_TOKEN")
        or _var.endswith("_ID_TOKEN")
    ):
        del os.environ[_var]


@pytest.fixture(autouse=True)
def _isolated_storage(settings: Any, tmp_path: Path) -> None:
    """Each test stores package and index files in its own folder."""
    root = tmp_path / "storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "packages": {
            "BACKEND": "prefixhub.storage.AtomicFileSystemStorage",
            "OPTIONS": {"location": str(root / "packages")},
        },
        "index": {
            "BACKEND": "prefixhub.storage.AtomicFileSystemStorage",
            "OPTIONS": {"location": str(root / "index")},
        },
    }
    # Django resets its own storages when STORAGES changes; ours are lazy too.
    from prefixhub.storage import index_storage, package_storage

    for lazy in (index_storage, package_storage):
        lazy._wrapped = empty


@pytest.fixture
def alice(db: None) -> Any:
    return make_user("alice")


@pytest.fixture
def bob(db: None) -> Any:
    return make_user("bob")


@pytest.fixture
def charlie(db: None) -> Any:
    return make_user("charlie")


@pytest.fixture
def channel(alice: Any, bob: Any) -> Any:
    """Public channel ``demo``: alice owns it, bob contributes."""
    demo = make_channel("demo", owner=alice)
    add_member(demo, bob, "contributor")
    return demo


@pytest.fixture
def private_channel(alice: Any, bob: Any) -> Any:
    """Private channel ``secret``: alice owns it, bob is a viewer."""
    secret = make_channel("secret", owner=alice, is_private=True)
    add_member(secret, bob, "viewer")
    return secret


@pytest.fixture
def alice_key(alice: Any) -> str:
    return make_key(alice)


@pytest.fixture
def bob_key(bob: Any) -> str:
    return make_key(bob)


@pytest.fixture
def charlie_key(charlie: Any) -> str:
    return make_key(charlie)


@pytest.fixture
def api_client() -> Client:
    return Client()


@pytest.fixture(scope="session")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("packages")


@pytest.fixture(scope="session")
def noarch_pkg(package_dir: Path) -> Path:
    return build_package(package_dir, "demo", "1.0")


@pytest.fixture(scope="session")
def linux_pkg(package_dir: Path) -> Path:
    return build_package(
        package_dir,
        "demo-app",
        "2.0",
        platform="linux-64",
        depends=["demo"],
        tar_bz2=True,
    )


def upload(
    client: Client,
    channel: str,
    path: Path,
    key: str | None,
    *,
    force: bool = False,
    filename: str | None = None,
    sha256: str | None = None,
    **headers: Any,
) -> Any:
    """POST a package as a raw body, the way older pixi and the website do."""
    data = path.read_bytes()
    url = f"/api/v1/upload/{channel}" + ("?force=true" if force else "")
    if key is not None:
        headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {key}")
    return client.post(
        url,
        data=data,
        content_type="application/octet-stream",
        HTTP_X_FILE_NAME=filename or path.name,
        HTTP_X_FILE_SHA256=sha256 or hashlib.sha256(data).hexdigest(),
        **headers,
    )


def body(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)


@contextmanager
def as_a_server_calls() -> Iterator[None]:
    """Call the WSGI application itself, as a server does, inside the test's
    transaction: Django closes a connection in a transaction when a request starts
    or ends, which the test client prevents around its own requests (and so must
    this, around the call and the closing of its answer)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """``with committed(): ...`` runs the on-commit hooks (index builds) on exit.

    Tier-1 tests run inside a transaction that never commits; this stands in for the
    commit, with Celery eager, so the index is published when the block ends.
    """
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(scope="session")
def oidc_keys() -> dict[str, Any]:
    """Real RSA keys of the test OIDC issuers (two each) and an attacker's."""
    return make_keys()


@pytest.fixture(scope="session")
def oidc_server(oidc_keys: dict[str, Any]) -> Iterator[IssuerServer]:
    """The local OIDC issuers and GitHub's token endpoint, on loopback."""
    server = IssuerServer(make_issuers(oidc_keys)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live(
    tmp_path_factory: pytest.TempPathFactory, oidc_server: IssuerServer
) -> Iterator[LiveService]:
    """One live deployment (web + worker) shared by tiers 2 and 3.

    Its OIDC issuers are the local ones; GitHub's API is not asked (trust on first
    use), as nothing beyond loopback is reachable in tests.
    """
    env = {**oidc_server.env(), "GITHUB_API_URL": ""}
    service = service_or_skip(tmp_path_factory.mktemp("live"), env=env)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    """moto's S3 server on a free loopback port, one per test session."""
    server = moto_or_skip(tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        yield server
    finally:
        server.stop()


# Files that tools, not the service, keep in a checkout: the venv, caches, and the
# screenshots the browser tests leave for people to look at.
_TOOL_PATHS = (".venv/", ".mypy_cache/", ".ruff_cache/", ".pytest_cache/",
               "test-artifacts/")  # fmt: skip


def _checkout_files() -> set[str] | None:
    """Untracked and ignored paths in the checkout, or None outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    paths = {line[3:] for line in done.stdout.splitlines() if line[:2] in ("??", "!!")}
    return {
        path
        for path in paths
        if not path.startswith(_TOOL_PATHS)
        and "__pycache__/" not in path
        and ".egg-info/" not in path
        and not path.endswith(".pyc")
    }


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_CHECKOUT_KEY] = _checkout_files()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Running the suite must leave nothing in the checkout: fail the run if it does."""
    before = session.config.stash.get(_CHECKOUT_KEY, None)
    after = _checkout_files()
    if before is None or after is None or hasattr(session.config, "workerinput"):
        return
    left = sorted(after - before)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "the test run left files in the checkout: " + ", ".join(left[:20])
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(message, red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_CHECKOUT_KEY = pytest.StashKey[set[str] | None]()
