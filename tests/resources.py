"""What a process spends: CPU seconds and peak memory, read from Linux's /proc.

The bomb tests (issue 10) assert bounds on both, for this process (tier 1) and for
the live server's web workers (tier 2).
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | str = "self") -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def _status_kib(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def reset_peak_memory(pid: int | str = "self") -> int:
    """Start measuring a new peak: resets VmHWM to the current RSS, in bytes."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _status_kib(pid, "VmRSS") * 1024


def peak_memory(pid: int | str = "self") -> int:
    """The most resident memory since the last reset, in bytes."""
    return _status_kib(pid, "VmHWM") * 1024


def children(pid: int) -> list[int]:
    """The process ids whose parent is ``pid`` (e.g. granian's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone since the listing
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found
