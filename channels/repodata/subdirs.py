"""Conda platform names (subdirs) a channel may hold."""

from __future__ import annotations

KNOWN_SUBDIRS = frozenset(
    {
        "noarch",
        "emscripten-wasm32", "wasi-wasm32", "zos-z",
        "freebsd-64",
        "linux-32", "linux-64", "linux-aarch64", "linux-armv6l", "linux-armv7l",
        "linux-ppc64", "linux-ppc64le", "linux-riscv32", "linux-riscv64",
        "linux-s390x",
        "osx-64", "osx-arm64",
        "win-32", "win-64", "win-arm64",
    }
)  # fmt: skip


def is_known_subdir(name: str) -> bool:
    """
    >>> is_known_subdir("linux-64"), is_known_subdir("linux-65")
    (True, False)
    """
    return name in KNOWN_SUBDIRS
