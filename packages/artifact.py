"""Reading conda archives: metadata, safety checks and hashes. Pure: no Django.

Both formats are read as streams: for ``.conda`` the ``info`` component first
(small), then the members of ``pkg``; for ``.tar.bz2`` one pass over the tarball.
Every member name is checked, because a name with ``..`` or a leading ``/`` would
write outside the environment of whoever installs it.

Reading is bounded, because any signed-in user can upload (issue 10): the bytes
that decompression produces (at every layer) are charged to a budget that grows
with the upload's size, the entries are counted, and nothing is kept per member,
so a small file that expands to terabytes is refused after a few megabytes.
"""

from __future__ import annotations

import bz2
import hashlib
import json
import posixpath
import re
import tarfile
import zipfile
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import zstandard

EXTENSIONS = (".conda", ".tar.bz2")
MAX_FILENAME_BYTES = 255  # what file systems (and the database column) hold
MAX_VERSION_CHARS = 128  # the database column of version and build

# name-version-build. Names: conda's lower-case names. Versions: conda's version
# grammar (an optional "N!" epoch, segments of ASCII letters and digits joined by
# "." or "_", an optional trailing "_", an optional "+local" part), the subset both
# conda's VersionOrder and rattler's Version parse. Builds: letters, digits, "_",
# "." and "+" (conda-build refuses the rest). Anything else breaks some client:
# "é" made rattler refuse a whole repodata.json, "?" cut download URLs short.
_NAME = r"[a-z0-9_][a-z0-9_.\-]*"
_SEGMENTS = r"[A-Za-z0-9]+(?:[._][A-Za-z0-9]+)*"
_VERSION = rf"(?:[0-9]+!)?{_SEGMENTS}_?(?:\+{_SEGMENTS})?"
_BUILD = r"[A-Za-z0-9_.+]+"
_FILENAME_RE = re.compile(
    rf"^(?P<name>{_NAME})-(?P<version>[^-/\\\s]+)-(?P<build>[^-/\\\s]+)"
    r"(?P<ext>\.conda|\.tar\.bz2)$"
)
_VERSION_RULE = (
    "ASCII letters and digits in segments joined by '.' or '_', "
    "with an optional 'N!' epoch and '+local' part"
)
_BUILD_RULE = "ASCII letters, digits, '_', '.' and '+'"

_CHUNK = 256 * 1024
_MIN_BUDGET = 16 * 1024 * 1024  # below this a ratio says nothing (empty packages)
_MAX_HEADER = 1024 * 1024  # pax and GNU long-name headers are read into memory
_MAX_HEADER_RUN = 8
_MAX_ZIP_ENTRIES = 64  # a .conda holds three
_LINK_TYPES = (tarfile.SYMTYPE, tarfile.LNKTYPE)


class ArtifactError(ValueError):
    """The file is not a valid, safe conda package; the message says why."""


class ArtifactTooLarge(ArtifactError):
    """Reading the archive would cost more than the limits allow."""


@dataclass(frozen=True)
class Limits:
    """What reading one archive may cost (the server's settings)."""

    max_unpacked: int = 20 * 1024**3  # decompressed bytes, however small the upload
    unpacked_ratio: int = 200  # decompressed bytes per uploaded byte
    max_entries: int = 200_000  # tar members, both components together
    max_info_json: int = 1024 * 1024  # info/index.json and info/about.json

    def budget(self, upload_size: int) -> int:
        """Decompressed bytes allowed for an upload of ``upload_size`` bytes.

        >>> Limits(unpacked_ratio=10).budget(1)
        16777216
        >>> Limits(max_unpacked=100).budget(10**9)
        100
        """
        allowed = max(_MIN_BUDGET, self.unpacked_ratio * upload_size)
        return min(self.max_unpacked, allowed)


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

    The message of the ArtifactError says which rule a refused name breaks.

    >>> name = parse_filename("libfoo-bar-1.2.3-h1234_0.tar.bz2")
    >>> name  # doctest: +NORMALIZE_WHITESPACE
    ArtifactName(name='libfoo-bar', version='1.2.3', build='h1234_0',
                 extension='.tar.bz2')
    """
    shown = _shown(filename)
    if len(filename.encode("utf-8", "surrogatepass")) > MAX_FILENAME_BYTES:
        raise ArtifactError(
            f"file name {shown} is longer than {MAX_FILENAME_BYTES} bytes"
        )
    match = _FILENAME_RE.fullmatch(filename)  # match() allows a trailing newline
    if not match:
        raise ArtifactError(
            f"{shown} is not a conda package filename (expected "
            "<name>-<version>-<build>.conda or .tar.bz2, the name in lower-case "
            "letters, digits, '-', '_' and '.')"
        )
    for part, grammar, rule in (
        ("version", _VERSION, _VERSION_RULE),
        ("build", _BUILD, _BUILD_RULE),
    ):
        value = match[part]
        if not re.fullmatch(grammar, value):
            raise ArtifactError(
                f"the {part} {value!r} in file name {shown} is not allowed: "
                f"a conda {part} holds only {rule}"
            )
        if len(value) > MAX_VERSION_CHARS:
            raise ArtifactError(f"the {part} is longer than {MAX_VERSION_CHARS} chars")
    return ArtifactName(
        name=match["name"],
        version=match["version"],
        build=match["build"],
        extension=match["ext"],
    )


def _shown(text: str) -> str:
    """``text`` quoted for a message: cut short, control characters escaped."""
    short = text[:100] + ("…" if len(text) > 100 else "")
    return f"'{short}'" if short.isprintable() else repr(short)


def unsafe_member(member: tarfile.TarInfo) -> str | None:
    """Why a tar member may not be installed, or None when it is fine.

    A hard link's target is a path in the archive; a symlink's target is relative
    to the link's own folder. Neither may lead out of the package.
    """
    paths = [member.name]
    if member.islnk():
        paths.append(member.linkname)
    elif member.issym():
        target = member.linkname
        if not target:
            return f"archive member '{member.name}' is a symlink without a target"
        if _is_absolute(target):
            return f"symlink '{member.name}' points to an absolute path ('{target}')"
        folder = posixpath.dirname(member.name.replace("\\", "/"))
        paths.append(posixpath.join(folder, target))
    for index, path in enumerate(paths):
        if _is_absolute(path):
            return f"archive member '{path}' has an absolute path"
        if _leaves(path):
            if index == 0 or member.islnk():
                return f"archive member '{path}' points outside the package ('..')"
            return (
                f"symlink '{member.name}' points outside the package "
                f"('{member.linkname}')"
            )
    return None


def _is_absolute(path: str) -> bool:
    return path.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", path))


def _leaves(path: str) -> bool:
    """Whether a relative path climbs above the folder it starts in."""
    depth = 0
    for part in path.replace("\\", "/").split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


class _Budget:
    """Decompressed bytes and entries still allowed for one archive."""

    def __init__(self, limits: Limits, upload_size: int) -> None:
        self.limit = limits.budget(upload_size)
        self.left = self.limit
        self.entries_left = limits.max_entries
        self.max_entries = limits.max_entries

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise ArtifactTooLarge(
                f"the archive expands to more than {self.limit:,} bytes, this "
                "server's limit for a package of this size"
            )

    def entry(self) -> None:
        self.entries_left -= 1
        if self.entries_left < 0:
            raise ArtifactTooLarge(
                f"the archive has more than {self.max_entries:,} entries, "
                "this server's limit"
            )


class _Metered:
    """A read-only stream that charges every byte it hands out to a budget.

    Reads are cut into chunks, so no single read produces more than a chunk
    beyond the budget.
    """

    def __init__(self, raw: Any, budget: _Budget) -> None:
        self._raw = raw
        self._budget = budget

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._raw.read(_CHUNK if size < 0 else min(size, _CHUNK))
        self._budget.spend(len(data))
        return data

    def close(self) -> None:
        self._raw.close()


def _as_file(stream: _Metered) -> IO[bytes]:
    # Stream readers (tarfile "r|", zstandard) call read() only.
    return cast("IO[bytes]", stream)


class _BoundedTarInfo(tarfile.TarInfo):
    """tarfile reads pax and GNU long-name headers whole into memory, and reads
    the header after one by recursion, holding it; it keeps a list per sparse
    member: refuse big headers, long runs of them and sparse files before that."""

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise ArtifactError(f"archive member '{self.name}' is a sparse file")
        if self.type not in _HEADER_TYPES:
            member: tarfile.TarInfo = super()._proc_member(tarfile_)  # type: ignore[misc]
            return member
        if self.size > _MAX_HEADER:
            raise ArtifactTooLarge(
                f"an archive member header is larger than {_MAX_HEADER:,} bytes"
            )
        # A member has a pax header, a long name and a long link name at most.
        run = getattr(tarfile_, "_header_run", 0) + 1
        if run > _MAX_HEADER_RUN:
            raise ArtifactError(
                f"more than {_MAX_HEADER_RUN} extended headers precede one member"
            )
        setattr(tarfile_, "_header_run", run)  # noqa: B010  (not a TarFile field)
        try:
            member = super()._proc_member(tarfile_)  # type: ignore[misc]
        finally:
            setattr(tarfile_, "_header_run", run - 1)  # noqa: B010
        return member


_HEADER_TYPES = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)


def _tar_members(
    stream: _Metered, budget: _Budget
) -> Generator[tuple[tarfile.TarFile, tarfile.TarInfo], None, None]:
    with tarfile.open(
        fileobj=_as_file(stream),
        mode="r|",
        # Members are skipped by reading in blocks of bufsize: 10 KiB by default,
        # ten thousand calls for 100 MB.
        bufsize=_CHUNK,
        tarinfo=_BoundedTarInfo,
        encoding="utf-8",
    ) as tar:
        while True:
            member = tar.next()
            # tarfile keeps every member for random access; a stream needs none,
            # and a million entries would otherwise stay in memory.
            tar.members.clear()  # type: ignore[attr-defined]  # not in typeshed
            if member is None:
                return
            budget.entry()
            yield tar, member


# The most a central directory of _MAX_ZIP_ENTRIES records can hold: 46 bytes of
# fixed fields, then a name, an extra field and a comment of up to 64 KiB each.
_MAX_ZIP_DIRECTORY = _MAX_ZIP_ENTRIES * (46 + 3 * 0xFFFF)
_ZIP64_END = 56 + 20  # zip64 end record and locator, between directory and end


def _count_zip_entries(fileobj: IO[bytes]) -> int:
    # zipfile reads the central directory whole, then makes one object per record
    # before anything can be checked. Refuse a directory larger than the allowed
    # records can fill, and count the record signatures in it, whatever the end
    # record claims. Only the end of the file is read: the members may be large.
    end = getattr(zipfile, "_EndRecData")(fileobj)  # noqa: B009  (private helper)
    if end is None:
        fileobj.seek(0)
        return 0  # not a zip file: zipfile says so below
    size, location = end[zipfile._ECD_SIZE], end[zipfile._ECD_LOCATION]  # type: ignore[attr-defined]
    if size > _MAX_ZIP_DIRECTORY:
        raise ArtifactError("not a valid conda package: too many zip entries")
    start = max(0, location - size - _ZIP64_END)
    fileobj.seek(start)
    count = fileobj.read(location - start).count(b"PK\x01\x02")
    fileobj.seek(0)
    return count


def _conda_components(
    fileobj: IO[bytes], filename: str, budget: _Budget
) -> Iterator[_Metered]:
    if _count_zip_entries(fileobj) > _MAX_ZIP_ENTRIES:
        raise ArtifactError("not a valid conda package: too many zip entries")
    stem = Path(filename).name[: -len(".conda")]
    with zipfile.ZipFile(fileobj) as zf:
        expected = {f"{part}-{stem}.tar.zst" for part in ("info", "pkg")}
        names = set(zf.namelist())
        _check_renamed(names, stem)
        for name in sorted(expected - names):
            raise ArtifactError(f"not a valid conda package: {name} is missing")
        # rattler extracts every .tar.zst entry: one we do not check could hold
        # anything, so there must be none besides the two components.
        for extra in sorted(names - expected - {"metadata.json"}):
            raise ArtifactError(
                f"not a valid conda package: unexpected entry {extra!r}"
            )
        for part in ("info", "pkg"):
            name = f"{part}-{stem}.tar.zst"
            with zf.open(name) as raw:
                reader = zstandard.ZstdDecompressor().stream_reader(
                    _as_file(_Metered(raw, budget)),
                    read_size=_CHUNK,
                    read_across_frames=True,
                )
                with reader:
                    yield _Metered(reader, budget)


def _check_renamed(names: set[str], stem: str) -> None:
    # A .conda names its parts after the file it was built as: parts under another
    # name mean the file was renamed, a name problem rather than damage.
    if f"info-{stem}.tar.zst" in names:
        return
    infos = sorted(n for n in names if n.startswith("info-") and n.endswith(".tar.zst"))
    if infos:
        built = infos[0].removeprefix("info-").removesuffix(".tar.zst")
        raise ArtifactError(
            "the file name does not match its metadata: the archive was built as "
            f"{built}.conda"
        )


def _members(
    path: Path, filename: str, budget: _Budget
) -> Generator[tuple[tarfile.TarFile, tarfile.TarInfo], None, None]:
    with path.open("rb") as fileobj:
        if filename.endswith(".conda"):
            for component in _conda_components(fileobj, filename, budget):
                yield from _tar_members(component, budget)
        else:
            with bz2.BZ2File(fileobj) as reader:
                yield from _tar_members(_Metered(reader, budget), budget)


def _reject_constant(name: str) -> Callable[[str], Any]:
    def reject(constant: str) -> Any:
        raise ArtifactError(f"{name} is not valid JSON: {constant} is not a number")

    return reject


def _read_json(
    tar: tarfile.TarFile, member: tarfile.TarInfo, *, limit: int = 1024 * 1024
) -> dict[str, Any]:
    if member.size > limit:
        raise ArtifactError(f"{member.name} is too large (over {limit:,} bytes)")
    handle = tar.extractfile(member)
    if handle is None:
        raise ArtifactError(f"{member.name} is not a regular file")
    try:
        # NaN and Infinity are not JSON: no client can read them back.
        data = json.loads(handle.read(), parse_constant=_reject_constant(member.name))
    except ArtifactError:
        raise
    except (ValueError, RecursionError) as exc:  # also ints of 4,300+ digits
        raise ArtifactError(f"{member.name} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{member.name} must hold a JSON object")
    return data


class _Scan:
    """The state of one pass over an archive: links seen and info files read."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.found: dict[str, dict[str, Any]] = {}
        # Hashes of symlink paths: nothing may be written through one. Hashes,
        # not the paths, keep memory small whatever the names' lengths.
        self.symlinks: set[int] = set()

    def check(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        problem = unsafe_member(member) or self._through_symlink(member)
        if problem:
            raise ArtifactError(problem)
        if member.issym():
            *_, whole = _prefix_hashes(member.name)
            self.symlinks.add(whole)
        if member.name in ("info/index.json", "info/about.json") and member.isfile():
            # A second copy (e.g. in the .conda pkg component) would overwrite
            # the first on extraction: which one a client sees is ambiguous.
            if member.name in self.found:
                raise ArtifactError(f"archive has more than one {member.name}")
            self.found[member.name] = _read_json(
                tar, member, limit=self.limits.max_info_json
            )

    def _through_symlink(self, member: tarfile.TarInfo) -> str | None:
        if not self.symlinks:
            return None
        paths = [member.name]
        if member.islnk():
            paths.append(member.linkname)
        for path in paths:
            # The folders above the path: what is written through a link is below it.
            for depth, prefix in enumerate(list(_prefix_hashes(path))[:-1], 1):
                if prefix in self.symlinks:
                    link = "/".join(_normalised(path).split("/")[:depth])
                    return (
                        f"archive member '{member.name}' is written through the "
                        f"symlink '{link}'"
                    )
        return None


def _normalised(path: str) -> str:
    return posixpath.normpath(path.replace("\\", "/")).lstrip("/")


def _prefix_hashes(path: str) -> Iterator[int]:
    """A hash of each leading part of ``path``: ``a``, ``a/b``, ``a/b/c``.

    Built one part on another, so a deep path costs linear, not quadratic, time.
    """
    value = 0
    for part in _normalised(path).split("/"):
        value = hash((value, part))
        yield value


_READ_ERRORS = (
    tarfile.TarError,
    zipfile.BadZipFile,
    zstandard.ZstdError,
    EOFError,
    OSError,
    LookupError,
    ValueError,
    NotImplementedError,  # zipfile: an unknown compression method
    RuntimeError,  # zipfile: an encrypted entry
)


def read_artifact(
    path: Path | str,
    filename: str,
    *,
    limits: Limits | None = None,
    on_index: Callable[[dict[str, Any]], None] | None = None,
) -> ArtifactInfo:
    """Read and check a conda archive stored at ``path`` under its upload ``filename``.

    Raises ArtifactError with a message fit for the uploader when the file is not a
    readable archive, has unsafe members, lacks ``info/index.json`` or costs more
    to read than ``limits`` allow (ArtifactTooLarge). ``on_index`` is called with
    ``info/index.json`` as soon as it is read, before the rest of the archive, so
    that a caller can refuse early (e.g. a file that already exists); whatever it
    raises ends the reading.
    """
    parse_filename(filename)
    limits = limits or Limits()
    path = Path(path)
    budget = _Budget(limits, path.stat().st_size)
    scan = _Scan(limits)
    try:
        # closing(): on an early exit the file is closed now, not by the GC.
        with closing(_members(path, filename, budget)) as members:
            for tar, member in members:
                scan.check(tar, member)
                if on_index and member.name == "info/index.json" and member.isfile():
                    on_index(scan.found["info/index.json"])
    except ArtifactError:
        raise
    except _READ_ERRORS as exc:
        raise ArtifactError(
            f"not a valid conda package: the archive is damaged or truncated ({exc})"
        ) from None
    if "info/index.json" not in scan.found:
        raise ArtifactError("not a valid conda package: info/index.json is missing")
    return ArtifactInfo(
        index=scan.found["info/index.json"], about=scan.found.get("info/about.json", {})
    )


def check_matches_filename(info: ArtifactInfo, filename: str) -> None:
    """The filename must be exactly name-version-build of the archive's metadata."""
    check_index_matches_filename(info.index, filename)


def check_index_matches_filename(index: dict[str, Any], filename: str) -> None:
    """As check_matches_filename, for ``info/index.json`` alone."""
    parsed = parse_filename(filename)
    expected = f"{index.get('name')}-{index.get('version')}-{index.get('build')}"
    actual = f"{parsed.name}-{parsed.version}-{parsed.build}"
    if expected != actual:
        raise ArtifactError(
            f"filename '{filename}' does not match the package metadata "
            f"(info/index.json says {expected})"
        )
