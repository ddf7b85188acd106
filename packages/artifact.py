"""Reading conda archives: metadata, safety checks and hashes. Pure: no Django.

Both formats are read as streams with conda-package-streaming: for ``.conda`` the
``info`` component first (small), then the member names of ``pkg``; for ``.tar.bz2``
one pass over the tarball. Every member name is checked, because a name with ``..``
or a leading ``/`` would write outside the environment of whoever installs it.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tarfile
import zipfile
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from conda_package_streaming.package_streaming import (
    CondaComponent,
    stream_conda_component,
)

# The zstd module conda-package-streaming decompresses .conda components with.
if sys.version_info >= (3, 14):
    from compression.zstd import ZstdError
else:
    from backports.zstd import ZstdError

EXTENSIONS = (".conda", ".tar.bz2")
# name-version-build: versions and builds never contain "-", names may.
_FILENAME_RE = re.compile(
    r"^(?P<name>[a-z0-9_][a-z0-9_.\-]*)-(?P<version>[^-/\\\s]+)-(?P<build>[^-/\\\s]+)"
    r"(?P<ext>\.conda|\.tar\.bz2)$"
)
_MAX_JSON = 16 * 1024 * 1024  # an index.json this big is not metadata


class ArtifactError(ValueError):
    """The file is not a valid, safe conda package; the message says why."""


@dataclass(frozen=True)
class ArtifactName:
    name: str
    version: str
    build: str
    extension: str


@dataclass(frozen=True)
class ArtifactInfo:
    index: dict[str, Any]
    about: dict[str, Any]


class Hasher:
    """SHA-256 and MD5 in one pass, as the bytes stream by."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def update(self, data: bytes) -> None:
        self._sha256.update(data)
        self._md5.update(data)
        self.size += len(data)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def md5(self) -> str:
        return self._md5.hexdigest()


def parse_filename(filename: str) -> ArtifactName:
    """Split a package filename into name, version, build and extension.

    >>> name = parse_filename("libfoo-bar-1.2.3-h1234_0.tar.bz2")
    >>> name  # doctest: +NORMALIZE_WHITESPACE
    ArtifactName(name='libfoo-bar', version='1.2.3', build='h1234_0',
                 extension='.tar.bz2')
    """
    match = _FILENAME_RE.fullmatch(filename)  # match() allows a trailing newline
    if not match:
        raise ArtifactError(
            f"'{filename}' is not a conda package filename "
            "(expected <name>-<version>-<build>.conda or .tar.bz2)"
        )
    return ArtifactName(
        name=match["name"],
        version=match["version"],
        build=match["build"],
        extension=match["ext"],
    )


def unsafe_member(member: tarfile.TarInfo) -> str | None:
    """Why a tar member may not be installed, or None when it is fine."""
    for path in (member.name, member.linkname if member.islnk() else ""):
        if not path:
            continue
        if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
            return f"archive member '{path}' has an absolute path"
        if ".." in PurePosixPath(path.replace("\\", "/")).parts:
            return f"archive member '{path}' points outside the package ('..')"
    return None


def _members(
    path: Path, filename: str
) -> Generator[tuple[tarfile.TarFile, tarfile.TarInfo], None, None]:
    # Opened here, not by conda-package-streaming, which leaves a file it was given
    # by path open when iteration stops early (ResourceWarning, leaked descriptor).
    with path.open("rb") as fileobj:
        if filename.endswith(".conda"):
            with zipfile.ZipFile(fileobj) as zf:
                _check_conda_stem(zf, filename)
                for component in (CondaComponent.info, CondaComponent.pkg):
                    yield from stream_conda_component(
                        filename, fileobj, component, zf=zf
                    )
        else:
            yield from stream_conda_component(filename, fileobj)


def _check_conda_stem(zf: zipfile.ZipFile, filename: str) -> None:
    # A .conda names its parts after the file it was built as; a renamed file
    # finds no part under its new name, which is a name problem, not damage.
    stem = filename.removesuffix(".conda")
    infos = [
        n for n in zf.namelist() if n.startswith("info-") and n.endswith(".tar.zst")
    ]
    if infos and f"info-{stem}.tar.zst" not in infos:
        built = infos[0].removeprefix("info-").removesuffix(".tar.zst")
        raise ArtifactError(
            f"the file name does not match its metadata: the archive was built as "
            f"{built}.conda"
        )


def _read_json(tar: tarfile.TarFile, member: tarfile.TarInfo) -> dict[str, Any]:
    if member.size > _MAX_JSON:
        raise ArtifactError(f"{member.name} is too large")
    handle = tar.extractfile(member)
    if handle is None:
        raise ArtifactError(f"{member.name} is not a regular file")
    try:
        data = json.loads(handle.read())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ArtifactError(f"{member.name} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{member.name} must hold a JSON object")
    return data


_READ_ERRORS = (
    tarfile.TarError,
    zipfile.BadZipFile,
    EOFError,
    OSError,
    LookupError,
    AssertionError,  # conda-package-streaming asserts one component per name
    ValueError,
    ZstdError,
)


def read_artifact(path: Path | str, filename: str) -> ArtifactInfo:
    """Read and check a conda archive stored at ``path`` under its upload ``filename``.

    Raises ArtifactError with a message fit for the uploader when the file is not a
    readable archive, has unsafe member paths or lacks ``info/index.json``.
    """
    parse_filename(filename)
    found: dict[str, dict[str, Any]] = {}
    try:
        # closing(): on an early exit the file is closed now, not by the GC.
        with closing(_members(Path(path), filename)) as members:
            for tar, member in members:
                problem = unsafe_member(member)
                if problem:
                    raise ArtifactError(problem)
                if (
                    member.name in ("info/index.json", "info/about.json")
                    and member.isfile()
                ):
                    # A second copy (e.g. in the .conda pkg component) would overwrite
                    # the first on extraction: which one a client sees is ambiguous.
                    if member.name in found:
                        raise ArtifactError(f"archive has more than one {member.name}")
                    found[member.name] = _read_json(tar, member)
    except ArtifactError:
        raise
    except _READ_ERRORS as exc:
        raise ArtifactError(
            f"not a valid conda package: the archive is damaged or truncated ({exc})"
        ) from None
    if "info/index.json" not in found:
        raise ArtifactError("not a valid conda package: info/index.json is missing")
    return ArtifactInfo(
        index=found["info/index.json"], about=found.get("info/about.json", {})
    )


def check_matches_filename(info: ArtifactInfo, filename: str) -> None:
    """The filename must be exactly name-version-build of the archive's metadata."""
    parsed = parse_filename(filename)
    index = info.index
    expected = f"{index.get('name')}-{index.get('version')}-{index.get('build')}"
    actual = f"{parsed.name}-{parsed.version}-{parsed.build}"
    if expected != actual:
        raise ArtifactError(
            f"filename '{filename}' does not match the package metadata "
            f"(info/index.json says {expected})"
        )
