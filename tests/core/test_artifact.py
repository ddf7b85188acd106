"""Reading conda archives: filenames, metadata, damaged and unsafe archives, hashes."""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest
import zstandard

from packages import artifact
from packages.artifact import (
    ArtifactError,
    ArtifactInfo,
    ArtifactName,
    Hasher,
    check_matches_filename,
    parse_filename,
    read_artifact,
    unsafe_member,
)
from tests.artifacts import (
    build_package,
    conda_with_components,
    handmade_archive,
    handmade_package,
)

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
    assert f"'{filename}'" in str(exc.value)
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


def test_unsafe_member_checks_only_hard_links_targets():
    # A symlink's target is relative to its own folder and only followed on use;
    # a hard link's target is a path in the archive and is written on extraction.
    soft = tarfile.TarInfo("lib/x")
    soft.type = tarfile.SYMTYPE
    soft.linkname = "../y"
    assert unsafe_member(soft) is None
    hard = tarfile.TarInfo("lib/x")
    hard.type = tarfile.LNKTYPE
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
def test_a_huge_index_json_is_rejected(tmp_path, ext, monkeypatch):
    monkeypatch.setattr(artifact, "_MAX_JSON", 10)
    with pytest.raises(ArtifactError, match=r"^info/index\.json is too large"):
        read(handmade(tmp_path, ext, [INDEX_JSON]))


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
