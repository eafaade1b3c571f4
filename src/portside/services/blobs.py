"""Reading and unlinking blobs (dist-spec "Pulling blobs", "Deleting blobs")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from portside.domain.digest import Digest
from portside.domain.errors import BlobUnknown
from portside.domain.models import Blob
from portside.domain.reference import RepositoryName
from portside.services.repositories import RepositoryResolver
from portside.storage.blobs import BlobStorage
from portside.store import blobs as blob_store
from portside.store.database import Database

REDIRECT_EXPIRY_SECONDS = 600


@dataclass(frozen=True, slots=True)
class BlobSource:
    """Where a blob's bytes can be served from: a local path, a redirect, or the driver stream."""

    blob: Blob
    local_path: str | None
    redirect_url: str | None


class BlobService:
    def __init__(self, db: Database, blobs: BlobStorage, repositories: RepositoryResolver) -> None:
        self._db = db
        self._blobs = blobs
        self._repositories = repositories

    async def find(self, name: RepositoryName, digest: Digest) -> Blob:
        """The blob if linked to the repository; raises NameUnknown or BlobUnknown."""
        async with self._db.read() as conn:
            blob = await blob_store.find_linked_blob_by_name(conn, name.value, str(digest))
        if blob is None:
            await self._repositories.for_pull(name)
            raise BlobUnknown(f"blob {digest} unknown to repository {name.value!r}")
        return blob

    async def source(self, name: RepositoryName, digest: Digest, *, allow_redirect: bool) -> BlobSource:
        """How to send the blob's bytes to a client."""
        blob = await self.find(name, digest)
        driver = self._blobs.driver
        redirect = None
        if allow_redirect:
            redirect = await driver.redirect_url(blob.storage_key, method="GET", expires_in=REDIRECT_EXPIRY_SECONDS)
        return BlobSource(blob, driver.local_path(blob.storage_key), redirect)

    def stream(self, blob: Blob, *, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """The blob's bytes from the driver, for drivers without a local path."""
        return self._blobs.driver.read(blob.storage_key, offset=offset, length=length)

    async def unlink(self, name: RepositoryName, digest: Digest) -> None:
        """Remove the blob from the repository. Its bytes stay until garbage collection
        finds no repository or manifest using them (as in Harbor)."""
        blob = await self.find(name, digest)
        repository = await self._repositories.for_pull(name)
        async with self._db.write() as conn:
            if not await blob_store.unlink(conn, repository.id, blob.id):
                raise BlobUnknown(f"blob {digest} unknown to repository {name.value!r}")
