"""The embedded broker delivers every message whole, even while it is being written."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from kombu import Connection

from tests.settings_probe import probe

PRODUCERS = 4
PER_PRODUCER = 150


def _connection(folder: Path, transport: Any) -> Connection:
    for sub in ("in", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return Connection(
        "filesystem://",
        transport=transport,
        transport_options={
            "data_folder_in": str(folder / "in"),
            "data_folder_out": str(folder / "in"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
        },
    )


def _drain_while_producing(folder: Path, transport: Any) -> tuple[list[int], int]:
    """Four producers put 600 numbered messages while one consumer polls."""

    def produce(start: int) -> None:
        with _connection(folder, transport) as conn:
            queue = conn.SimpleQueue("jobs")
            for i in range(start, start + PER_PRODUCER):
                queue.put({"n": i, "pad": "x" * 4000})
            queue.close()

    received: list[int] = []
    errors = 0
    producers = [
        threading.Thread(target=produce, args=(p * PER_PRODUCER,))
        for p in range(PRODUCERS)
    ]
    with _connection(folder, transport) as conn:
        queue = conn.SimpleQueue("jobs")
        for thread in producers:
            thread.start()
        while True:
            try:
                message = queue.get(block=False)
            except Empty:
                finished = not any(t.is_alive() for t in producers)
                if finished and not any(
                    n.endswith(".msg") for n in _names(folder / "in")
                ):
                    break
                continue
            except ValueError:  # an empty or partial file: that message is gone
                errors += 1
                continue
            received.append(message.payload["n"])
            message.ack()
        queue.close()
    return received, errors


def _names(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()]


def test_a_consumer_polling_during_a_burst_gets_every_message_once(
    tmp_path: Path,
) -> None:
    received, errors = _drain_while_producing(tmp_path, "prefixhub.broker:Transport")
    assert errors == 0
    assert sorted(received) == list(range(PRODUCERS * PER_PRODUCER))
    # Nothing is left behind: no half-written or claimed files.
    assert _names(tmp_path / "in") == []
    assert _names(tmp_path / "processed") == []


def test_a_half_written_message_is_invisible_to_consumers(tmp_path: Path) -> None:
    with _connection(tmp_path, "prefixhub.broker:Transport") as conn:
        # kombu keeps bindings in process-wide state: a queue name of its own.
        queue = conn.SimpleQueue("half-written")
        (tmp_path / "in" / ".put-abc").write_bytes(b'{"bo')
        with pytest.raises(Empty):
            queue.get(block=True, timeout=0.3)
        queue.put({"n": 1})
        assert queue.get(block=True, timeout=5).payload == {"n": 1}
        with pytest.raises(Empty):
            queue.get(block=True, timeout=0.3)
        queue.close()


def test_the_embedded_settings_keep_every_broker_folder_in_the_data_folder() -> None:
    with tempfile.TemporaryDirectory() as data:
        result = probe(
            "CELERY_BROKER_TRANSPORT", "CELERY_BROKER_TRANSPORT_OPTIONS", data_dir=data
        )
    transport, options = result["values"]
    assert transport == "prefixhub.broker:Transport"
    for key in ("data_folder_in", "processed_folder", "control_folder"):
        assert Path(options[key]).is_relative_to(data), key
