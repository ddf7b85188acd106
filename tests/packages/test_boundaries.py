"""The packages app owns package files and their pages; it leans on no other app's
views or workflows (file deletion lives in publishing, beside the delete API)."""

from __future__ import annotations

import ast
from pathlib import Path

import packages

FORBIDDEN = ("channels.views", "publishing.services", "publishing.views")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_packages_app_imports_no_channel_views_or_publishing_services() -> None:
    root = Path(packages.__file__).parent
    offenders = {
        f"{path.relative_to(root)}: {name}"
        for path in root.rglob("*.py")
        for name in imported_modules(path)
        if name.startswith(FORBIDDEN)
    }
    assert not offenders
