"""Conda platform names (subdirs) a channel may hold."""

from __future__ import annotations

KNOWN_SUBDIRS = frozenset(
    {
        "noarch",
        "android-32", "android-64", "android-aarch64", "android-armv7a",
        "ios-arm64", "iossimulator-64", "iossimulator-arm64",
        "freebsd-32", "freebsd-arm64", "freebsd-ppc64", "freebsd-ppc64le",
        "linux-loongarch64", "linux-ppc", "emscripten-wasm64",
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
