"""Tiny real conda packages, built at test time with py-rattler-build."""

from __future__ import annotations

import bz2
import functools
import io
import json
import tarfile
import zipfile
from pathlib import Path

import zstandard
from rattler_build import ArchiveType, assemble_package


def build_package(
    out_dir: Path,
    name: str = "demo",
    version: str = "1.0",
    *,
    platform: str = "noarch",
    build: str = "h0_0",
    depends: list[str] | None = None,
    tar_bz2: bool = False,
    content: str = "hello",
    **extra: object,
) -> Path:
    """Build ``name-version-build`` for ``platform`` and return its path."""
    files = out_dir / f"files-{name}-{version}-{build}-{platform}"
    files.mkdir(parents=True, exist_ok=True)
    (files / "share").mkdir(exist_ok=True)
    (files / "share" / f"{name}.txt").write_text(content)
    output = assemble_package(
        name,
        version,
        platform,
        build,
        out_dir,
        files_dir=files,
        depends=depends or [],
        noarch="generic" if platform == "noarch" else None,
        archive_type=ArchiveType.TarBz2 if tar_bz2 else ArchiveType.Conda,
        **extra,  # type: ignore[arg-type]
    )
    return Path(output.path)


def _tar_bytes(members: dict[str, bytes], mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for member_name, data in members.items():
            info = tarfile.TarInfo(member_name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def handmade_package(
    out_dir: Path,
    filename: str,
    index: dict[str, object],
    extra_members: dict[str, bytes] | None = None,
) -> Path:
    """A package written by hand, for archives a real builder would refuse to make
    (unsafe member paths, metadata that disagrees with the filename)."""
    members = {"info/index.json": json.dumps(index).encode(), **(extra_members or {})}
    path = out_dir / filename
    if filename.endswith(".tar.bz2"):
        path.write_bytes(_tar_bytes(members, "w:bz2"))
        return path
    stem = filename[: -len(".conda")]
    info = {k: v for k, v in members.items() if k.startswith("info/")}
    pkg = {k: v for k, v in members.items() if not k.startswith("info/")}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        for part, content in (("pkg", pkg), ("info", info)):
            raw = zstandard.ZstdCompressor().compress(_tar_bytes(content, "w"))
            zf.writestr(f"{part}-{stem}.tar.zst", raw)
    return path


Member = tuple[str, bytes] | tarfile.TarInfo  # a TarInfo alone: a link or a directory


def _tar_of(members: list[Member], mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
                continue
            info = tarfile.TarInfo(member[0])
            info.size = len(member[1])
            tar.addfile(info, io.BytesIO(member[1]))
    return buf.getvalue()


def handmade_archive(
    out_dir: Path,
    filename: str,
    members: list[Member],
    *,
    pkg_members: list[Member] | None = None,
) -> Path:
    """An archive holding exactly ``members`` (no info/index.json unless given).

    For ``.conda``, members under ``info/`` go to the info component, the others and
    ``pkg_members`` to the pkg component; for ``.tar.bz2`` all go into one tarball.
    """
    path = out_dir / filename
    every = [*members, *(pkg_members or [])]
    if filename.endswith(".tar.bz2"):
        path.write_bytes(_tar_of(every, "w:bz2"))
        return path
    info = [m for m in members if _member_name(m).startswith("info/")]
    pkg = [m for m in every if not any(m is i for i in info)]
    compress = zstandard.ZstdCompressor().compress
    return conda_with_components(
        out_dir,
        filename,
        {"info": compress(_tar_of(info, "w")), "pkg": compress(_tar_of(pkg, "w"))},
    )


def _member_name(member: Member) -> str:
    return member.name if isinstance(member, tarfile.TarInfo) else member[0]


def conda_with_components(
    out_dir: Path, filename: str, components: dict[str, bytes]
) -> Path:
    """A ``.conda`` zip whose components (``"info"``, ``"pkg"``) hold these raw bytes,
    for components that are missing, not zstd or not a tarball."""
    stem = filename[: -len(".conda")]
    path = out_dir / filename
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        for part, raw in components.items():
            zf.writestr(f"{part}-{stem}.tar.zst", raw)
    return path


# --- decompression bombs (issue 10): tiny uploads that expand to gigabytes --------

GiB = 1024**3
_ZEROS_PER_FRAME = 16 * 1024**2
_ZEROS_PER_STREAM = 64 * 1024**2


@functools.cache
def _zstd_zeros() -> bytes:
    """One zstd frame of 16 MiB of zeros (about 530 bytes); frames concatenate."""
    return zstandard.ZstdCompressor(level=1).compress(bytes(_ZEROS_PER_FRAME))


@functools.cache
def _bz2_zeros() -> bytes:
    """One bzip2 stream of 64 MiB of zeros (about 80 bytes); streams concatenate."""
    return bz2.compress(bytes(_ZEROS_PER_STREAM), 9)


def _index_member(filename: str) -> bytes:
    """Tar bytes (no end marker) of the ``info/index.json`` that ``filename`` names."""
    stem = filename.removesuffix(".conda").removesuffix(".tar.bz2")
    name, version, build = stem.rsplit("-", 2)
    index = {"name": name, "version": version, "build": build,
             "build_number": 0, "subdir": "noarch"}  # fmt: skip
    data = json.dumps(index).encode()
    member = tarfile.TarInfo("info/index.json")
    member.size = len(data)
    return member.tobuf() + data + bytes(-len(data) % 512)


def _big_member_header(size: int) -> bytes:
    """The tar header of a ``size``-byte member; its data is the zeros that follow."""
    big = tarfile.TarInfo("share/zeros")
    big.size = size  # over 8 GiB: the GNU base-256 size field
    return big.tobuf(format=tarfile.GNU_FORMAT)


def zstd_bomb(out_dir: Path, filename: str, *, size: int = 10 * GiB) -> Path:
    """A ``.conda`` of about 1 KB whose pkg component expands to ``size`` bytes.

    As the red team built it: zstd frames of zeros, repeated, in a zip entry
    stored with deflate (which squeezes the repeats). Made in milliseconds.
    """
    path = out_dir / filename
    stem = filename.removesuffix(".conda")
    compress = zstandard.ZstdCompressor().compress
    info = compress(_index_member(filename) + bytes(1024))  # + end of archive
    pkg = compress(_big_member_header(size))
    pkg += _zstd_zeros() * (size // _ZEROS_PER_FRAME)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        zf.writestr(f"info-{stem}.tar.zst", info)
        zf.writestr(f"pkg-{stem}.tar.zst", pkg, compress_type=zipfile.ZIP_DEFLATED)
    return path


def bz2_bomb(out_dir: Path, filename: str, *, size: int = 10 * GiB) -> Path:
    """A ``.tar.bz2`` of about 13 KB that expands to ``size`` bytes of zeros:
    ``info/index.json``, then one member of ``size`` bytes, as bzip2 streams."""
    path = out_dir / filename
    data = bz2.compress(_index_member(filename) + _big_member_header(size))
    path.write_bytes(data + _bz2_zeros() * (size // _ZEROS_PER_STREAM))
    return path
