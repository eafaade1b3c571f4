"""Fixtures for the storage-driver conformance suite.

`driver_case` runs every test against FilesystemDriver (in tmp_path) and S3Driver
against a real moto server process: a separate process speaking HTTP, so the
driver goes through its real client, signing and streaming code.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.session import get_session

from portside.storage.driver import StorageDriver
from portside.storage.filesystem import FilesystemDriver
from portside.storage.s3 import MIN_PART_SIZE, S3Driver

MOTO_START_TIMEOUT = 20.0
CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing"}


def _moto_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("moto_server")
    return str(beside_python) if beside_python.exists() else shutil.which("moto_server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `moto_server` on a free port for the session; yield its URL."""
    binary = _moto_binary()
    if binary is None:
        message = "moto_server is not installed (pip install 'moto[server]'): S3 driver tests NOT RUN"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    for _attempt in range(3):  # another process may grab the port between probe and bind
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        with log_path.open("ab") as log:
            process = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)],
                                       stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + MOTO_START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline and not _answers(url):
            time.sleep(0.1)
        if process.poll() is None and _answers(url):
            break
        process.kill()
        process.wait()
    else:
        pytest.fail(f"moto_server did not answer within {MOTO_START_TIMEOUT}s; log: {log_path.read_text()}")
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class DriverCase:
    """A driver under test plus what the suite needs to inspect its backend."""

    kind: str
    driver: StorageDriver
    root: Path | None = None  # filesystem
    s3: dict[str, Any] = field(default_factory=dict)  # S3Driver keyword arguments
    admin: Any = None  # a separate S3 client for out-of-band checks
    _extra: list[S3Driver] = field(default_factory=list)

    async def fresh_driver(self) -> StorageDriver:
        """A new driver instance (new client, no shared memory) over the same store."""
        if self.kind == "filesystem":
            assert self.root is not None
            return FilesystemDriver(self.root, fsync=False)
        driver = S3Driver(**self.s3)
        await driver.open()
        self._extra.append(driver)
        return driver

    async def pending_uploads(self) -> list[str]:
        """Multipart uploads (S3) or upload directories (filesystem) still pending."""
        if self.kind == "filesystem":
            assert self.root is not None
            uploads = self.root / "uploads"
            return sorted(str(p.relative_to(self.root)) for p in uploads.rglob("*")) if uploads.exists() else []
        response = await self.admin.list_multipart_uploads(Bucket=self.s3["bucket"])
        return sorted(upload["Key"] for upload in response.get("Uploads", []))


@pytest.fixture(params=["filesystem", "s3"])
async def driver_case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DriverCase]:
    if request.param == "filesystem":
        root = tmp_path / "storage"
        yield DriverCase("filesystem", FilesystemDriver(root, fsync=False), root=root)
        return
    endpoint: str = request.getfixturevalue("moto_endpoint")
    bucket = f"portside-{uuid.uuid4().hex[:16]}"  # a fresh bucket per test: no cross-test leftovers
    # A prefix checks that the driver applies it on the way in and strips it on the way out.
    s3: dict[str, Any] = {"bucket": bucket, "endpoint_url": endpoint, "prefix": "registry/", "part_size": MIN_PART_SIZE,
          "redirect": True, **CREDENTIALS}
    async with get_session().create_client(
            "s3", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing",
            aws_secret_access_key="testing") as admin:
        await admin.create_bucket(Bucket=bucket)
        async with S3Driver(**s3) as driver:
            case = DriverCase("s3", driver, s3=s3, admin=admin)
            try:
                yield case
            finally:
                for extra in case._extra:
                    await extra.close()
