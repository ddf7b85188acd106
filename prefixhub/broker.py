"""The embedded broker: kombu's file-system transport, with whole messages only.

kombu's own ``_put`` creates the message file under its final name and only then
writes the payload, so a consumer polling the folder can claim the empty file,
fail to decode it and drop the message (kombu issue #1551). Here a message is
written under a temporary name and renamed into place, so a consumer sees it whole
or not at all, the way ``AtomicFileSystemStorage`` publishes index files. A claimed
message is moved aside inside the data folder, not into the system temp folder,
so the service writes nothing outside its data folder.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from queue import Empty
from typing import Any

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    # kombu's virtual and file-system channels name this argument differently.
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # Zero-padded milliseconds keep the names in time order when sorted.
        name = f"{int(time.monotonic() * 1000):015d}_{uuid.uuid4()}.{queue}.msg"
        # A leading dot keeps the half-written file out of every queue's listing.
        fd, tmp = tempfile.mkstemp(dir=self.data_folder_out, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(str_to_bytes(dumps(payload)))
            os.replace(tmp, os.path.join(self.data_folder_out, name))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.startswith(".") or name.partition(".")[2] != wanted:
                continue
            claimed = os.path.join(self.processed_folder, name)
            try:
                # The rename is the claim: of several consumers, one wins.
                os.replace(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:
                continue
            try:
                with open(claimed, "rb") as message:
                    payload = message.read()
            finally:
                os.unlink(claimed)
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
