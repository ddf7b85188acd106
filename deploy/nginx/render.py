#!/usr/bin/env python3
"""Render deploy/nginx/prefixhub.conf for one machine as a single file on stdout.

Fills in the placeholders (@@LISTEN@@ and so on) from the environment and inlines
the snippets it includes (the storage-<STORAGE>.conf of the chosen backend among
them). For example:

    LISTEN=80 WEB=127.0.0.1:8001 STATE=/var/lib/prefixhub/nginx \\
    STATIC_ROOT=/var/lib/prefixhub/static \\
    STORAGE=local STORAGE_ROOT=/var/lib/prefixhub/storage \\
    python3 deploy/nginx/render.py > /etc/nginx/conf.d/prefixhub.conf

With object storage: STORAGE=s3 S3_ENDPOINT=https://s3.example.org instead of
STORAGE_ROOT (and S3_ADDRESSING_STYLE=path in prefixhub's environment).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAMES = {
    "local": ("LISTEN", "WEB", "STATE", "STATIC_ROOT", "STORAGE", "STORAGE_ROOT"),
    "s3": ("LISTEN", "WEB", "STATE", "STATIC_ROOT", "STORAGE", "S3_ENDPOINT"),
}
_INCLUDE = re.compile(r"^(\s*)include ([\w@.-]+\.conf);\s*$")


def inline(name: str, values: dict[str, str]) -> str:
    """The snippet ``name`` with its includes of sibling snippets inlined."""
    out = []
    for line in fill((HERE / name).read_text(), values).splitlines():
        match = _INCLUDE.match(line)
        if match and (HERE / match[2]).is_file():
            body = inline(match[2], values).splitlines()
            out += [match[1] + text if text else text for text in body]
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def fill(text: str, values: dict[str, str]) -> str:
    return re.sub(r"@@(\w+)@@", lambda m: values[m[1]], text)


def main() -> int:
    storage = os.environ.get("STORAGE", "")
    if storage not in NAMES:
        sys.stderr.write("STORAGE must be 'local' or 's3'\n")
        return 2
    missing = [name for name in NAMES[storage] if not os.environ.get(name)]
    if missing:
        sys.stderr.write(f"set {', '.join(missing)}\n")
        return 2
    values = {name: os.environ[name].rstrip("/") for name in NAMES[storage]}
    sys.stdout.write(inline("prefixhub.conf", values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
