"""Read models for the package pages, aggregated in the database and paginated.

A channel may hold tens of thousands of files, so nothing here loads a channel's
files: the listing groups by package name in SQL and fetches details for one page
of names only. "Latest version" is the version of the most recently uploaded file
(a channel's upload order, which is cheap to compute and what people just did).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Q

from channels.models import Channel

from .models import PackageFile

PACKAGES_PER_PAGE = 50
VERSIONS_PER_PAGE = 20


@dataclass
class PackageSummary:
    name: str
    file_count: int
    updated_at: datetime
    latest_version: str = ""
    platforms: list[str] = field(default_factory=list)


def _latest_versions(
    files: Any, latest: dict[str, datetime], key: str = "name"
) -> dict[str, str]:
    """The version of the newest file per ``key``, among rows uploaded at ``latest``."""
    rows = (
        files.filter(uploaded_at__in=set(latest.values()))
        .order_by("uploaded_at", "id")
        .values_list(key, "version", "uploaded_at")
    )
    versions: dict[str, str] = {}
    for name, version, uploaded_at in rows:
        if latest.get(name) == uploaded_at:
            versions[name] = version  # ordered by id: the last one wins
    return versions


def package_summaries(
    channel: Channel, *, query: str = "", page: Any = 1
) -> tuple[Page[Any], list[PackageSummary]]:
    """One page of the channel's packages: name, latest version, platforms, update."""
    files = PackageFile.objects.filter(channel=channel)
    if query:
        files = files.filter(name__icontains=query)
    grouped = (
        files.values("name")
        .annotate(file_count=Count("id"), updated_at=Max("uploaded_at"))
        .order_by("name")
    )
    current = Paginator(grouped, PACKAGES_PER_PAGE).get_page(page)
    summaries = {row["name"]: PackageSummary(**row) for row in current.object_list}
    if summaries:
        on_page = files.filter(name__in=list(summaries))
        subdirs = on_page.values_list("name", "subdir").distinct().order_by("subdir")
        for name, subdir in subdirs:
            summaries[name].platforms.append(subdir)
        latest = {name: s.updated_at for name, s in summaries.items()}
        for name, version in _latest_versions(on_page, latest).items():
            summaries[name].latest_version = version
    return current, list(summaries.values())


@dataclass(frozen=True)
class BuildCell:
    build: str
    uploaded_at: datetime
    uploaded_by: str


@dataclass
class VersionRow:
    version: str
    file_count: int
    updated_at: datetime
    # platform -> builds of this version on that platform
    builds: dict[str, list[BuildCell]] = field(default_factory=dict)
    # the builds per platform, in the order of the page's platform columns
    cells: list[list[BuildCell]] = field(default_factory=list)


@dataclass(frozen=True)
class Dependency:
    spec: str
    # the package's name when this channel has it (then the page links to it)
    name: str | None


@dataclass(frozen=True)
class FileDetail:
    file: PackageFile
    depends: list[Dependency]
    constrains: list[Dependency]


@dataclass
class PackageOverview:
    name: str
    file_count: int
    platforms: list[str]
    latest: PackageFile
    versions: Page[Any]
    rows: list[VersionRow]
    selected_version: str
    files: list[FileDetail]


def package_overview(
    channel: Channel, name: str, *, version: str = "", page: Any = 1
) -> PackageOverview | None:
    """Everything the package page shows, or None when the channel has no such name.

    Versions are listed newest upload first, a page at a time; full file details
    (hashes, dependencies, uploader) are loaded for one selected version only.
    """
    files = PackageFile.objects.filter(channel=channel, name=name)
    latest = files.select_related("uploaded_by").order_by("-uploaded_at", "-id").first()
    if latest is None:
        return None
    per_platform = dict(
        files.values_list("subdir").annotate(n=Count("id")).order_by("subdir")
    )
    platforms = list(per_platform)
    grouped = (
        files.values("version")
        .annotate(file_count=Count("id"), updated_at=Max("uploaded_at"))
        .order_by("-updated_at", "version")
    )
    versions = Paginator(grouped, VERSIONS_PER_PAGE).get_page(page)
    rows = {row["version"]: VersionRow(**row) for row in versions.object_list}
    matrix = (
        files.filter(version__in=list(rows))
        .order_by("subdir", "build")
        .values_list(
            "version", "subdir", "build", "uploaded_at", "uploaded_by__username"
        )
    )
    for row_version, subdir, build, uploaded_at, uploader in matrix:
        rows[row_version].builds.setdefault(subdir, []).append(
            BuildCell(build, uploaded_at, uploader or "")
        )
    for row in rows.values():
        row.cells = [row.builds.get(platform, []) for platform in platforms]
    selected = version or latest.version
    details = list(
        files.filter(version=selected)
        .select_related("uploaded_by")
        .order_by("subdir", "-build_number", "build")
    )
    return PackageOverview(
        name=name,
        file_count=sum(per_platform.values()),
        platforms=platforms,
        latest=latest,
        versions=versions,
        rows=list(rows.values()),
        selected_version=selected,
        files=_with_dependencies(channel, details),
    )


def _dependency_name(spec: str) -> str:
    """The package name a match spec starts with: ``python >=3.11`` -> ``python``.

    >>> _dependency_name("python >=3.11"), _dependency_name("numpy>=1.2,<2")
    ('python', 'numpy')
    """
    return re.split(r"[\s<>=!~\[;,]", spec.strip(), maxsplit=1)[0].lower()


def _with_dependencies(channel: Channel, files: list[PackageFile]) -> list[FileDetail]:
    """Each file with its dependencies, named for linking when this channel has them."""
    specs = {
        spec
        for file in files
        for key in ("depends", "constrains")
        for spec in file.record.get(key) or []
        if isinstance(spec, str)
    }
    wanted = {_dependency_name(spec) for spec in specs}
    here = set(
        PackageFile.objects.filter(channel=channel, name__in=wanted)
        .values_list("name", flat=True)
        .distinct()
    )

    def deps(file: PackageFile, key: str) -> list[Dependency]:
        found = [s for s in file.record.get(key) or [] if isinstance(s, str)]
        return [
            Dependency(s, name if (name := _dependency_name(s)) in here else None)
            for s in found
        ]

    return [FileDetail(f, deps(f, "depends"), deps(f, "constrains")) for f in files]


def search_packages(files: Any, query: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Package names matching ``query`` among ``files`` (already narrowed to what the
    searcher may read), one row per (channel, name), with the latest upload's
    version and summary and whether the channel is private."""
    rows = list(
        files.filter(name__icontains=query)
        .values("channel_id", "channel__name", "channel__is_private", "name")
        .annotate(updated_at=Max("uploaded_at"), file_count=Count("id"))
        .order_by("name", "channel__name")[:limit]
    )
    if not rows:
        return rows
    newest = Q()
    for row in rows:
        newest |= Q(
            channel_id=row["channel_id"],
            name=row["name"],
            uploaded_at=row["updated_at"],
        )
    latest: dict[tuple[int, str], dict[str, Any]] = {}
    for channel_id, name, version, about, record in (
        files.filter(newest)
        .order_by("id")  # the last upload of the newest moment wins
        .values_list(
            "channel_id", "name", "version", "about__summary", "record__summary"
        )
    ):
        summary = about or record or ""
        latest[channel_id, name] = {"version": version, "summary": str(summary)}
    for row in rows:
        row.update(latest.get((row["channel_id"], row["name"]), {}))
    return rows
