"""Services: the bundle of use cases that web handlers and background tasks receive.

Built once by `portside.container.build_services`; nothing here is a singleton.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from portside.core.config import Settings
from portside.services.blobs import BlobService
from portside.services.manifests import ManifestService
from portside.services.pulls import PullRecorder
from portside.services.uploads import UploadService
from portside.storage.driver import StorageDriver
from portside.store.database import Database


@dataclass
class Services:
    """Everything a request handler or background task may use."""

    settings: Settings
    db: Database
    driver: StorageDriver
    uploads: UploadService
    blobs: BlobService
    manifests: ManifestService
    pulls: PullRecorder
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        """Flush pending pull times and release storage clients and connections."""
        await self.pulls.flush()
        for closer in reversed(self.closers):
            await closer()
        await self.db.dispose()
