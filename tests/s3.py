"""An S3-compatible server on loopback: moto's standalone server in a child process.

The storage contract tests and the live tier run django-storages' S3 backend
against it; production code is the same, only the endpoint URL differs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from tests.live.service import free_port, wait_for

ACCESS_KEY = "testing"
SECRET_KEY = "testing"  # moto accepts any key pair; these sign the requests
REGION = "us-east-1"


class MotoS3:
    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> MotoS3:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                 "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_for(self._responds, timeout=60, interval=0.1)
        return self

    def _responds(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"moto exited: {self.log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.url, region_name=REGION,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        )  # fmt: skip

    def new_bucket(self) -> str:
        name = f"phub-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def environment(self, bucket: str) -> dict[str, str]:
        """The settings a prefixhub process needs to keep its files in ``bucket``."""
        return {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": self.url,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "S3_ADDRESSING_STYLE": "path",
        }

    def storage_options(self, bucket: str, location: str) -> dict[str, Any]:
        """django-storages options as settings.py builds them from that environment."""
        return {
            "bucket_name": bucket, "endpoint_url": self.url, "region_name": REGION,
            "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "location": location,
            "file_overwrite": True, "default_acl": None, "querystring_expire": 60,
            "addressing_style": "path", "signature_version": "s3v4",
        }  # fmt: skip

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(20)


def moto_or_skip(log_path: Path) -> MotoS3:
    """Start moto; in CI a failure to start fails, on a laptop it skips."""
    import pytest

    try:
        return MotoS3(log_path).start()
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"moto's S3 server unavailable here: {exc}")
        raise  # unreachable: skip raises
