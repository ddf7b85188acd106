"""Reading conda archives: filenames, metadata, damaged and unsafe archives, hashes."""

from __future__ import annotations

import bz2
import gc
import hashlib
import io
import json
import os
import re
import shutil
import struct
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
import zstandard

from packages import artifact
from packages.artifact import (
    ArtifactError,
    ArtifactInfo,
    ArtifactName,
    ArtifactTooLarge,
    Hasher,
    Limits,
    check_matches_filename,
    parse_filename,
    read_artifact,
    unsafe_member,
)
from tests.artifacts import (
    build_package,
    bz2_bomb,
    conda_with_components,
    handmade_archive,
    handmade_package,
    zstd_bomb,
)
from tests.resources import peak_memory, reset_peak_memory

FORMATS = [".conda", ".tar.bz2"]
INDEX = {
    "name": "demo",
    "version": "1.0",
    "build": "h0_0",
    "build_number": 0,
    "subdir": "noarch",
}
INDEX_JSON = ("info/index.json", json.dumps(INDEX).encode())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real packages from py-rattler-build, one per format."""
    out = tmp_path_factory.mktemp("built")
    return {
        ".conda": build_package(
            out, "demo-lib", "1.0", license="MIT", summary="A demo"
        ),
        ".tar.bz2": build_package(
            out,
            "demo-app",
            "2.0",
            platform="linux-64",
            build="h1_0",
            tar_bz2=True,
            depends=["demo-lib >=1.0"],
        ),
    }


def handmade(tmp_path: Path, ext: str, members, **kwargs) -> Path:
    return handmade_archive(tmp_path, f"demo-1.0-h0_0{ext}", members, **kwargs)


def read(path: Path) -> ArtifactInfo:
    return read_artifact(path, path.name)


# real packages


def test_a_real_conda_package_reads_with_its_metadata(built):
    info = read(built[".conda"])
    assert info.index["name"] == "demo-lib"
    assert info.index["version"] == "1.0"
    assert info.index["build"] == "h0_0"
    assert info.index["subdir"] == "noarch"
    assert info.index["noarch"] == "generic"
    assert info.index["license"] == "MIT"
    assert info.about["summary"] == "A demo"
    check_matches_filename(info, built[".conda"].name)


def test_a_real_tar_bz2_package_reads_with_its_metadata(built):
    info = read(built[".tar.bz2"])
    assert info.index["name"] == "demo-app"
    assert info.index["subdir"] == "linux-64"
    assert info.index["depends"] == ["demo-lib >=1.0"]
    assert isinstance(info.about, dict)
    check_matches_filename(info, built[".tar.bz2"].name)


def test_read_artifact_takes_a_str_path(built):
    path = built[".conda"]
    assert read_artifact(str(path), path.name) == read(path)


@pytest.mark.parametrize("ext", FORMATS)
def test_about_json_is_optional(tmp_path, ext):
    info = read(handmade(tmp_path, ext, [INDEX_JSON]))
    assert info == ArtifactInfo(index=INDEX, about={})


@pytest.mark.parametrize("ext", FORMATS)
def test_about_json_is_read_when_present(tmp_path, ext):
    about = ("info/about.json", b'{"license": "BSD-3-Clause"}')
    info = read(handmade(tmp_path, ext, [INDEX_JSON, about]))
    assert info.about == {"license": "BSD-3-Clause"}


# filenames


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("demo-1.0-h0_0.conda", ("demo", "1.0", "h0_0", ".conda")),
        (
            "libfoo-bar-1.2.3-h1234_0.tar.bz2",
            ("libfoo-bar", "1.2.3", "h1234_0", ".tar.bz2"),
        ),
        (
            "python-dateutil-2.9.0.post0-pyhd8ed1ab_0.conda",
            ("python-dateutil", "2.9.0.post0", "pyhd8ed1ab_0", ".conda"),
        ),
        (
            "_libgcc_mutex-0.1-conda_forge.tar.bz2",
            ("_libgcc_mutex", "0.1", "conda_forge", ".tar.bz2"),
        ),
        ("r-base-4.3.1-h0_0.conda", ("r-base", "4.3.1", "h0_0", ".conda")),
        ("a-b-c-d-1-0.conda", ("a-b-c-d", "1", "0", ".conda")),
        (
            "zope.interface-6.0-py311_0.conda",
            ("zope.interface", "6.0", "py311_0", ".conda"),
        ),
        ("foo-1!2.0+local_x-0.conda", ("foo", "1!2.0+local_x", "0", ".conda")),
        ("demo-1.0-h0.tar.conda", ("demo", "1.0", "h0.tar", ".conda")),
        ("7zip-23.01-h0_0.conda", ("7zip", "23.01", "h0_0", ".conda")),
    ],
)
def test_parse_filename_splits_name_version_build_and_extension(filename, expected):
    assert parse_filename(filename) == ArtifactName(*expected)


@pytest.mark.parametrize(
    "filename",
    [
        "",
        "demo-1.0-h0_0.whl",
        "demo-1.0-h0_0.tar.gz",
        "demo-1.0-h0_0.tar.zst",
        "demo-1.0-h0_0.zip",
        "demo-1.0-h0_0",
        "demo-1.0-h0_0.CONDA",
        "demo-1.0-h0_0.conda.part",
        "demo-1.0.conda",  # no build
        "demo.tar.bz2",
        "-1.0-h0_0.conda",  # no name
        "demo--h0_0.conda",  # no version
        "demo-1.0-.conda",  # no build
        "Demo-1.0-h0_0.conda",  # names are lower case
        "sub/demo-1.0-h0_0.conda",
        "..\\demo-1.0-h0_0.conda",
        "demo-1.0/..-h0_0.conda",
        "demo-1.0-h0_0.conda\n",  # re.match's $ would allow this one
        "demo-1.0-h0_0.conda ",
        "demo-1 0-h0_0.conda",
        "demo-1.0-h0\t0.conda",
        "demo-1.0-h0\n0.conda",
    ],
)
def test_parse_filename_rejects_what_is_not_a_package_filename(filename):
    with pytest.raises(ArtifactError, match="is not a conda package filename") as exc:
        parse_filename(filename)
    # Control characters are shown escaped.
    shown = f"'{filename}'" if filename.isprintable() else repr(filename)
    assert shown in str(exc.value)
    assert ".conda or .tar.bz2" in str(exc.value)


def test_read_artifact_checks_the_filename_before_opening_the_file(tmp_path):
    with pytest.raises(ArtifactError, match="not a conda package filename"):
        read_artifact(tmp_path / "does-not-exist", "demo.zip")


@pytest.mark.parametrize(
    ("filename", "says"),
    [
        ("demo-1.1-h0_0.conda", "demo-1.0-h0_0"),  # version
        ("demo-1.0-h0_1.conda", "demo-1.0-h0_0"),  # build
        ("demo-lib-1.0-h0_0.conda", "demo-1.0-h0_0"),  # name
    ],
)
def test_filename_that_disagrees_with_the_metadata_is_rejected(filename, says):
    info = ArtifactInfo(index=INDEX, about={})
    with pytest.raises(ArtifactError) as exc:
        check_matches_filename(info, filename)
    assert str(exc.value) == (
        f"filename '{filename}' does not match the package metadata "
        f"(info/index.json says {says})"
    )


def test_filename_check_ignores_the_extension():
    check_matches_filename(ArtifactInfo(index=INDEX, about={}), "demo-1.0-h0_0.tar.bz2")


@pytest.mark.parametrize("ext", FORMATS)
def test_handmade_package_with_metadata_unlike_its_filename_is_rejected(tmp_path, ext):
    path = handmade_package(tmp_path, f"demo-1.0-h0_0{ext}", {**INDEX, "version": "2"})
    with pytest.raises(ArtifactError, match=r"info/index.json says demo-2-h0_0\)$"):
        check_matches_filename(read(path), path.name)


def test_renamed_tar_bz2_fails_the_filename_check(built, tmp_path):
    renamed = tmp_path / "demo-app-2.1-h1_0.tar.bz2"
    shutil.copy(built[".tar.bz2"], renamed)
    with pytest.raises(ArtifactError, match=r"says demo-app-2\.0-h1_0"):
        check_matches_filename(read(renamed), renamed.name)


def test_renamed_conda_is_rejected(built, tmp_path):
    # Its components are named after the original filename, so it does not even read.
    renamed = tmp_path / "demo-lib-1.1-h0_0.conda"
    shutil.copy(built[".conda"], renamed)
    with pytest.raises(
        ArtifactError,
        match="^the file name does not match its metadata: "
        r"the archive was built as demo-lib-1\.0-h0_0\.conda$",
    ):
        read(renamed)


# damaged archives


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize(
    "content", [b"", b"\x00", b"not a package at all " * 50, bytes(range(256)) * 8]
)
def test_a_file_that_is_not_an_archive_is_rejected(tmp_path, ext, content):
    path = tmp_path / f"demo-1.0-h0_0{ext}"
    path.write_bytes(content)
    with pytest.raises(ArtifactError, match="not a valid conda package: the archive"):
        read(path)


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("keep", [0.5, 0.9, 0.1])
def test_a_truncated_real_package_is_rejected(built, tmp_path, ext, keep):
    data = built[ext].read_bytes()
    path = tmp_path / built[ext].name
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ArtifactError, match="damaged or truncated"):
        read(path)


def test_a_package_in_the_other_format_is_rejected(built, tmp_path):
    for ext, other in ((".conda", ".tar.bz2"), (".tar.bz2", ".conda")):
        path = tmp_path / f"demo-1.0-h0_0{other}"
        shutil.copy(built[ext], path)
        with pytest.raises(ArtifactError, match="damaged"):
            read(path)


@pytest.mark.parametrize(
    "components",
    [
        {"pkg": b""},  # no info component
        {"info": b""},  # no pkg component
        {"info": b"garbage" * 10, "pkg": b"garbage"},  # not zstd
        {"info": zstandard.ZstdCompressor().compress(b"not a tarball " * 100)},
    ],
)
def test_a_conda_with_missing_or_damaged_components_is_rejected(tmp_path, components):
    good = zstandard.ZstdCompressor().compress(_tar([INDEX_JSON]))
    if "info" not in components:
        components = {**components, "pkg": good}
    path = conda_with_components(tmp_path, "demo-1.0-h0_0.conda", components)
    with pytest.raises(ArtifactError, match="not a valid conda package"):
        read(path)


def test_a_conda_whose_component_is_cut_short_is_rejected(tmp_path):
    raw = zstandard.ZstdCompressor().compress(
        _tar([INDEX_JSON, ("info/x", b"y" * 9999)])
    )
    components = {"info": raw[: len(raw) // 2], "pkg": raw}
    path = conda_with_components(tmp_path, "demo-1.0-h0_0.conda", components)
    with pytest.raises(ArtifactError, match="damaged or truncated"):
        read(path)


def _tar(members) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members:
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return buf.getvalue()


# unsafe member paths


UNSAFE = [
    ("/etc/passwd", "has an absolute path"),
    ("\\windows\\evil.dll", "has an absolute path"),
    ("C:/evil", "has an absolute path"),
    ("c:evil", "has an absolute path"),
    ("../evil", "points outside the package"),
    ("lib/../../evil", "points outside the package"),
    ("info/../../evil", "points outside the package"),  # in the .conda info part
    ("lib\\..\\..\\evil", "points outside the package"),
    ("..", "points outside the package"),
]


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize(("path", "why"), UNSAFE)
def test_a_member_with_an_unsafe_path_is_rejected(tmp_path, ext, path, why):
    archive = handmade_package(tmp_path, f"demo-1.0-h0_0{ext}", INDEX, {path: b"x"})
    with pytest.raises(ArtifactError) as exc:
        read(archive)
    assert str(exc.value) == f"archive member '{path}' {why}" + (
        " ('..')" if "outside" in why else ""
    )


@pytest.mark.parametrize("ext", FORMATS)
def test_a_hard_link_to_outside_the_package_is_rejected(tmp_path, ext):
    link = tarfile.TarInfo("lib/link")
    link.type = tarfile.LNKTYPE
    link.linkname = "../../etc/passwd"
    with pytest.raises(ArtifactError, match=r"'\.\./\.\./etc/passwd' points outside"):
        read(handmade(tmp_path, ext, [INDEX_JSON], pkg_members=[link]))


@pytest.mark.parametrize("ext", FORMATS)
def test_links_inside_the_package_are_fine(tmp_path, ext):
    hard = tarfile.TarInfo("lib/hard")
    hard.type = tarfile.LNKTYPE
    hard.linkname = "share/demo.txt"
    soft = tarfile.TarInfo("lib/python3.12/site-packages/demo")
    soft.type = tarfile.SYMTYPE
    soft.linkname = "../../../share/demo"  # relative symlinks with .. are common
    members = [("share/demo.txt", b"x"), hard, soft]
    assert (
        read(handmade(tmp_path, ext, [INDEX_JSON], pkg_members=members)).index == INDEX
    )


@pytest.mark.parametrize(
    "name",
    ["info/index.json", "./lib/x", "lib/..x", "lib/x..", "a/b/c", "C", "lib/C:x"],
)
def test_ordinary_member_names_are_safe(name):
    assert unsafe_member(tarfile.TarInfo(name)) is None


def test_unsafe_member_reads_symlink_targets_from_the_links_folder():
    # A symlink's target is relative to its own folder; a hard link's target is a
    # path in the archive.
    soft = tarfile.TarInfo("lib/x")
    soft.type = tarfile.SYMTYPE
    soft.linkname = "../y"
    assert unsafe_member(soft) is None
    soft.linkname = "../../y"
    assert "points outside the package" in str(unsafe_member(soft))
    hard = tarfile.TarInfo("lib/x")
    hard.type = tarfile.LNKTYPE
    hard.linkname = "../y"
    assert "points outside the package" in str(unsafe_member(hard))
    hard.linkname = "/y"
    assert unsafe_member(hard) == "archive member '/y' has an absolute path"


# info/index.json


@pytest.mark.parametrize("ext", FORMATS)
def test_a_package_without_index_json_is_rejected(tmp_path, ext):
    about = ("info/about.json", b"{}")
    with pytest.raises(ArtifactError) as exc:
        read(handmade(tmp_path, ext, [about], pkg_members=[("lib/x", b"x")]))
    assert str(exc.value) == "not a valid conda package: info/index.json is missing"


@pytest.mark.parametrize("ext", FORMATS)
def test_index_json_that_is_not_a_file_counts_as_missing(tmp_path, ext):
    folder = tarfile.TarInfo("info/index.json")
    folder.type = tarfile.DIRTYPE
    with pytest.raises(ArtifactError, match=r"info/index\.json is missing"):
        read(handmade(tmp_path, ext, [folder]))


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{not json", "is not valid JSON"),
        (b"", "is not valid JSON"),
        (b"\xff\xfe\xfd", "is not valid JSON"),  # not UTF-8
        (b"[" * 100_000 + b"]" * 100_000, "is not valid JSON"),  # too deep to parse
        (b"[]", "must hold a JSON object"),
        (b'"demo"', "must hold a JSON object"),
        (b"null", "must hold a JSON object"),
        (b"42", "must hold a JSON object"),
    ],
)
def test_index_json_that_is_not_a_json_object_is_rejected(tmp_path, ext, content, why):
    with pytest.raises(ArtifactError, match=f"^info/index.json {why}"):
        read(handmade(tmp_path, ext, [("info/index.json", content)]))


@pytest.mark.parametrize("ext", FORMATS)
def test_about_json_that_is_not_a_json_object_is_rejected(tmp_path, ext):
    about = ("info/about.json", b"[1]")
    with pytest.raises(
        ArtifactError, match=r"^info/about\.json must hold a JSON object"
    ):
        read(handmade(tmp_path, ext, [INDEX_JSON, about]))


@pytest.mark.parametrize("ext", FORMATS)
def test_a_huge_index_json_is_rejected(tmp_path, ext):
    path = handmade(tmp_path, ext, [INDEX_JSON])
    with pytest.raises(ArtifactError, match=r"^info/index\.json is too large"):
        read_artifact(path, path.name, limits=Limits(max_info_json=10))


@pytest.mark.parametrize("ext", FORMATS)
def test_a_second_index_json_is_rejected(tmp_path, ext):
    # In a .conda the pkg component's copy would overwrite the info one on
    # extraction; in a .tar.bz2 the later one wins. Either way it is ambiguous.
    second = ("info/index.json", json.dumps({**INDEX, "depends": ["evil"]}).encode())
    with pytest.raises(ArtifactError, match=r"more than one info/index\.json"):
        read(handmade(tmp_path, ext, [INDEX_JSON], pkg_members=[second]))


def test_read_json_rejects_a_member_it_cannot_open():
    # Unreachable through read_artifact, which passes regular files only.
    folder = tarfile.TarInfo("info/index.json")
    folder.type = tarfile.DIRTYPE
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(folder)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        member = tar.getmember("info/index.json")
        with pytest.raises(ArtifactError, match="is not a regular file"):
            artifact._read_json(tar, member)


def test_artifact_error_is_a_value_error():
    assert issubclass(ArtifactError, ValueError)


# hashes


@pytest.mark.parametrize(
    "chunks", [[], [b""], [b"abc"], [b"a", b"", b"bc"], [bytes(range(256)) * 1000]]
)
def test_hasher_matches_hashlib(chunks):
    hasher = Hasher()
    for chunk in chunks:
        hasher.update(chunk)
    data = b"".join(chunks)
    assert hasher.sha256 == hashlib.sha256(data).hexdigest()
    assert hasher.md5 == hashlib.md5(data).hexdigest()  # noqa: S324
    assert hasher.size == len(data)


def test_hasher_hashes_a_real_package(built):
    data = built[".conda"].read_bytes()
    hasher = Hasher()
    for start in range(0, len(data), 100):
        hasher.update(data[start : start + 100])
    assert (hasher.sha256, hasher.size) == (hashlib.sha256(data).hexdigest(), len(data))


def test_hasher_can_be_read_before_the_end():
    hasher = Hasher()
    hasher.update(b"ab")
    assert hasher.md5 == hashlib.md5(b"ab").hexdigest()  # noqa: S324
    hasher.update(b"c")
    assert hasher.md5 == hashlib.md5(b"abc").hexdigest()  # noqa: S324


# resources


def _open_files(path: Path) -> list[object]:
    """This process's open files on ``path``."""
    fds = Path("/proc/self/fd")
    if fds.is_dir():  # Linux: exact and fast
        return [fd for fd in fds.iterdir() if _link(fd) == str(path)]
    return [  # elsewhere: every open file object, slower
        obj
        for obj in gc.get_objects()
        if isinstance(obj, io.FileIO) and not obj.closed and obj.name == str(path)
    ]


def _link(fd: Path) -> str | None:
    try:
        return os.readlink(fd)
    except OSError:  # closed since the listing
        return None


@pytest.mark.parametrize("ext", FORMATS)
def test_a_rejected_archive_is_closed_at_once(tmp_path, ext):
    # The error's traceback keeps the reading frames alive; the file must not wait
    # for the garbage collector (a leaked descriptor and a ResourceWarning).
    path = handmade_package(tmp_path, f"demo-1.0-h0_0{ext}", INDEX, {"../x": b"x"})
    with pytest.raises(ArtifactError) as exc:
        read(path)
    assert exc.traceback
    assert _open_files(path) == []


@pytest.mark.parametrize("ext", FORMATS)
def test_a_read_archive_is_closed(built, ext):
    read(built[ext])
    assert _open_files(built[ext]) == []


# bounded reading (issue 10): bombs cost about what reading the upload costs


BOMBS = {".conda": zstd_bomb, ".tar.bz2": bz2_bomb}
MiB = 1024**2


@pytest.mark.parametrize("ext", FORMATS)
def test_a_10_gib_bomb_is_refused_within_2_s_of_cpu_and_64_mb_of_memory(tmp_path, ext):
    bomb = BOMBS[ext](tmp_path, f"bomb-1.0-0{ext}")
    assert bomb.stat().st_size < 16 * 1024
    before = reset_peak_memory()
    started = time.process_time()
    with pytest.raises(ArtifactTooLarge, match="expands to more than 16,777,216 bytes"):
        read(bomb)
    cpu = time.process_time() - started
    growth = peak_memory() - before
    # Expected: about 0.01 s (zstd) and 0.05 s (bz2), a few MB; loose safety nets.
    assert cpu < 2.0
    assert growth < 64 * MiB


def test_the_budget_grows_with_the_upload_up_to_the_absolute_limit(tmp_path):
    bomb = zstd_bomb(tmp_path, "bomb-1.0-0.conda", size=64 * MiB)
    generous = Limits(unpacked_ratio=1_000_000)  # ratio x size is over 1 GiB
    assert read_artifact(bomb, bomb.name, limits=generous).index["name"] == "bomb"
    capped = Limits(unpacked_ratio=1_000_000, max_unpacked=32 * MiB)
    with pytest.raises(ArtifactTooLarge, match="more than 33,554,432 bytes"):
        read_artifact(bomb, bomb.name, limits=capped)


@pytest.mark.parametrize("ext", FORMATS)
def test_a_package_within_its_budget_reads(tmp_path, ext):
    path = handmade(tmp_path, ext, [INDEX_JSON], pkg_members=[("lib/x", bytes(MiB))])
    assert read(path).index == INDEX


def test_a_deflated_zip_entry_is_charged_to_the_budget_too(tmp_path):
    # zstd skips skippable frames without output: only the zip layer's bytes count.
    skippable = (0x184D2A50).to_bytes(4, "little") + (1 << 20).to_bytes(4, "little")
    compress = zstandard.ZstdCompressor().compress
    path = tmp_path / "demo-1.0-h0_0.conda"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("info-demo-1.0-h0_0.tar.zst", compress(_tar([INDEX_JSON])))
        pkg = (skippable + bytes(1 << 20)) * 8 + compress(_tar([]))
        zf.writestr("pkg-demo-1.0-h0_0.tar.zst", pkg, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 64 * 1024
    assert read(path).index == INDEX
    with pytest.raises(ArtifactTooLarge, match="expands to more than 4,194,304"):
        read_artifact(path, path.name, limits=Limits(max_unpacked=4 * MiB))


@pytest.mark.parametrize("ext", FORMATS)
def test_too_many_entries_are_refused(tmp_path, ext):
    members = [INDEX_JSON, *((f"lib/f{i}", b"") for i in range(20))]
    path = handmade(tmp_path, ext, members)
    assert read_artifact(path, path.name, limits=Limits(max_entries=21)).index
    with pytest.raises(ArtifactTooLarge, match="more than 20 entries"):
        read_artifact(path, path.name, limits=Limits(max_entries=20))


def test_no_member_is_kept_once_it_is_read(tmp_path):
    # tarfile keeps every member it read: a million entries grew a worker by 400 MB.
    # info/index.json comes last here, so on_index sees what 2,000 entries left.
    headers = b"".join(tarfile.TarInfo(f"lib/f{i}").tobuf() for i in range(2000))
    path = tmp_path / "demo-1.0-h0_0.tar.bz2"
    path.write_bytes(bz2.compress(headers + _tar([INDEX_JSON]), 1))

    def tar_infos() -> int:
        # type(), not isinstance(): isinstance reads __class__, which wakes any
        # lazy object other tests left for the collector (a session: DB access).
        return sum(type(o) is tarfile.TarInfo for o in gc.get_objects())

    before, alive = tar_infos(), []
    read_artifact(path, path.name, on_index=lambda index: alive.append(tar_infos()))
    assert alive and alive[0] - before < 5


@pytest.mark.parametrize("ext", FORMATS)
def test_a_huge_pax_header_is_refused_before_it_is_read(tmp_path, ext):
    member = tarfile.TarInfo("lib/x")
    member.pax_headers = {"comment": "x" * (2 * MiB)}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(member)
    pkg = buf.getvalue()
    if ext == ".tar.bz2":
        path = tmp_path / f"demo-1.0-h0_0{ext}"
        index_member = _tar([INDEX_JSON])[:1024]  # header and data, no end marker
        path.write_bytes(bz2.compress(index_member + pkg))
    else:
        compress = zstandard.ZstdCompressor().compress
        components = {"info": compress(_tar([INDEX_JSON])), "pkg": compress(pkg)}
        path = conda_with_components(tmp_path, "demo-1.0-h0_0.conda", components)
    with pytest.raises(ArtifactTooLarge, match="header is larger than 1,048,576 bytes"):
        read(path)


@pytest.mark.parametrize("ext", FORMATS)
def test_a_sparse_member_is_refused(tmp_path, ext):
    sparse = tarfile.TarInfo("lib/sparse")
    sparse.type = tarfile.GNUTYPE_SPARSE
    with pytest.raises(ArtifactError, match="'lib/sparse' is a sparse file"):
        read(handmade(tmp_path, ext, [INDEX_JSON], pkg_members=[sparse]))


def test_a_conda_with_many_zip_entries_is_refused_before_they_are_parsed(tmp_path):
    path = handmade(tmp_path, ".conda", [INDEX_JSON])
    with zipfile.ZipFile(path, "a") as zf:
        for i in range(100):
            zf.writestr(f"pad{i}", b"")
    with pytest.raises(ArtifactError, match="too many zip entries"):
        read(path)


def test_a_conda_whose_central_directory_claims_too_much_is_refused(tmp_path):
    # zipfile would read a directory of that size whole before parsing it.
    path = handmade(tmp_path, ".conda", [INDEX_JSON])
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 12 : end + 16] = struct.pack("<I", 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="too many zip entries"):
        read(path)


def test_a_conda_with_an_unexpected_entry_is_refused(tmp_path):
    # rattler extracts every .tar.zst entry of a .conda, checked or not.
    path = handmade(tmp_path, ".conda", [INDEX_JSON])
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("extra-demo-1.0-h0_0.tar.zst", b"")
    with pytest.raises(ArtifactError, match="unexpected entry 'extra-demo"):
        read(path)


def test_on_index_sees_the_index_before_the_package_files_are_read(tmp_path):
    bomb = zstd_bomb(tmp_path, "bomb-1.0-0.conda")
    seen = []

    class Refused(Exception):
        pass

    def on_index(index):
        seen.append(index["name"])
        raise Refused

    with pytest.raises(Refused):
        read_artifact(bomb, bomb.name, on_index=on_index)
    assert seen == ["bomb"]


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize(
    ("content", "constant"),
    [(b'{"timestamp": NaN}', "NaN"), (b'{"a": [Infinity]}', "Infinity")],
)
def test_nan_and_infinity_are_not_json(tmp_path, ext, content, constant):
    with pytest.raises(ArtifactError, match=f"{constant} is not a number"):
        read(handmade(tmp_path, ext, [("info/index.json", content)]))


@pytest.mark.parametrize("ext", FORMATS)
def test_an_integer_too_long_to_parse_is_invalid_json(tmp_path, ext):
    content = b'{"build_number": ' + b"9" * 5000 + b"}"
    with pytest.raises(ArtifactError, match=r"^info/index\.json is not valid JSON"):
        read(handmade(tmp_path, ext, [("info/index.json", content)]))


# symlinks (issue 10 item 5)


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    link = tarfile.TarInfo(name)
    link.type = tarfile.SYMTYPE
    link.linkname = target
    return link


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize(
    ("link", "why"),
    [
        (_symlink("etc", "/etc"), "symlink 'etc' points to an absolute path ('/etc')"),
        (_symlink("lib/x", "C:\\Windows"), "points to an absolute path"),
        (
            _symlink("lib/x", "../../etc/passwd"),
            "symlink 'lib/x' points outside the package ('../../etc/passwd')",
        ),
        (_symlink("x", ".."), "symlink 'x' points outside the package"),
        (_symlink("lib/x", "a/../../.."), "points outside the package"),
        (_symlink("lib/x", ""), "is a symlink without a target"),
    ],
)
def test_a_symlink_that_leaves_the_package_is_refused(tmp_path, ext, link, why):
    # The red team's case: etc -> /etc, then etc/cron.d/evil written through it.
    members = [link, (f"{link.name}/cron.d/evil", b"x")]
    with pytest.raises(ArtifactError, match=re.escape(why)):
        read(handmade(tmp_path, ext, [INDEX_JSON], pkg_members=members))


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize(
    "members",
    [
        # inside, but a file written through it lands elsewhere than it says
        [_symlink("lib/out", "../share"), ("lib/out/evil", b"x")],
        # d -> . makes d/y the package root's neighbour: d/y -> .. leaves
        [_symlink("d", "."), _symlink("d/y", "..")],
        [_symlink("a", "b"), ("a/../a/x", b"x")],
    ],
)
def test_nothing_may_be_written_through_a_symlink(tmp_path, ext, members):
    with pytest.raises(ArtifactError, match="is written through the symlink"):
        read(handmade(tmp_path, ext, [INDEX_JSON], pkg_members=members))


@pytest.mark.parametrize("ext", FORMATS)
def test_a_hard_link_through_a_symlink_is_refused(tmp_path, ext):
    hard = tarfile.TarInfo("lib/hard")
    hard.type = tarfile.LNKTYPE
    hard.linkname = "lib/out/passwd"
    members = [_symlink("lib/out", "../share"), hard]
    with pytest.raises(ArtifactError, match="through the symlink 'lib/out'"):
        read(handmade(tmp_path, ext, [INDEX_JSON], pkg_members=members))


# file names clients can handle (issue 10 items 3 and 4)


@pytest.mark.parametrize(
    "filename",
    [
        "demo-1.0.0a1-0.conda",
        "demo-2!1.0+local.1-0.conda",
        "openssl-1.0.2_-0.conda",  # conda's trailing underscore
        "demo-1_2_3-py_0.conda",
        "demo-2024.01.01-h1+cuda.tar.bz2",
        "demo-1.0-0.conda",
        "demo-" + "1" * 128 + "-0.conda",
    ],
)
def test_conda_versions_and_builds_are_accepted(filename):
    parse_filename(filename)


@pytest.mark.parametrize(
    ("filename", "part"),
    [
        ("zzz-1.0é-0.conda", "version"),
        ("zzz-1.0?x=1-0.conda", "version"),
        ("zzz-1.0#2-0.conda", "version"),
        ("zzz-1.0\x00-0.conda", "version"),
        ("zzz-1..0-0.conda", "version"),
        ("zzz-.1-0.conda", "version"),
        ("zzz-1.0.-0.conda", "version"),
        ("zzz-1!2!3-0.conda", "version"),
        ("zzz-a!1-0.conda", "version"),
        ("zzz-1+a+b-0.conda", "version"),
        ("zzz-1*-0.conda", "version"),
        ("zzz-1.0-h0é.conda", "build"),
        ("zzz-1.0-h0!.conda", "build"),
        ("zzz-1.0-h0?.conda", "build"),
        ("zzz-1.0-h0%20.conda", "build"),
        ("zzz-1.0-h0\x00.conda", "build"),
    ],
)
def test_a_version_or_build_outside_conda_grammar_is_refused_with_the_rule(
    filename, part
):
    with pytest.raises(ArtifactError) as exc:
        parse_filename(filename)
    message = str(exc.value)
    assert f"the {part} " in message
    assert "is not allowed: a conda" in message
    assert "ASCII letters" in message


def test_a_file_name_over_255_bytes_is_refused():
    longest = "d" * 243 + "-1.0-0.conda"
    assert len(longest) == 255
    assert parse_filename(longest).version == "1.0"
    with pytest.raises(ArtifactError, match="longer than 255 bytes"):
        parse_filename("d" + longest)


def test_a_version_over_128_characters_is_refused():
    with pytest.raises(ArtifactError, match="version is longer than 128"):
        parse_filename("demo-" + "1" * 129 + "-0.conda")


@pytest.mark.parametrize("kind", [tarfile.GNUTYPE_LONGNAME, tarfile.XHDTYPE])
def test_a_long_run_of_extended_headers_is_refused(tmp_path, kind):
    # tarfile reads the header after an extended one by recursion, holding each:
    # thousands in a row were a RecursionError (a 500) and up to 1 MiB per level.
    link = tarfile.TarInfo("././@LongLink")
    link.type = kind
    data = b"path=lib/x\n" if kind == tarfile.XHDTYPE else b"lib/x\0"
    data = (b"%d " % (len(data) + 3) + data) if kind == tarfile.XHDTYPE else data
    link.size = len(data)
    one = link.tobuf(format=tarfile.GNU_FORMAT) + data + bytes(-len(data) % 512)
    last = tarfile.TarInfo("lib/x").tobuf(format=tarfile.GNU_FORMAT)
    index_member = _tar([INDEX_JSON])[:1024]
    path = tmp_path / "demo-1.0-h0_0.tar.bz2"
    path.write_bytes(bz2.compress(index_member + one * 2 + last + bytes(1024)))
    assert read(path).index == INDEX
    path.write_bytes(bz2.compress(index_member + one * 5000 + last + bytes(1024)))
    with pytest.raises(ArtifactError, match="more than 8 extended headers precede"):
        read(path)


@pytest.mark.parametrize(
    ("method", "flags"), [(99, 0), (0, 1)], ids=["aes", "encrypted"]
)
def test_a_conda_with_an_unreadable_zip_entry_is_invalid(tmp_path, method, flags):
    path = handmade(tmp_path, ".conda", [INDEX_JSON])
    data = bytearray(path.read_bytes())
    # Rewrite every entry's flags and compression method, in both headers.
    for signature, at in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + at : start + at + 4] = struct.pack("<HH", flags, method)
            start += 4
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="damaged or truncated"):
        read(path)
