"""Tiny real conda packages, built at test time with py-rattler-build."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

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
    import zstandard

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
    import zstandard

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
