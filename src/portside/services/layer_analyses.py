"""Layer analyses for the scanner: from the cache (layer_analyses, keyed by layer digest and
ANALYZER_VERSION), or by streaming the layer blob from storage through `analyze_layer`.

A blob is never held whole in memory: on the filesystem driver the analysis reads the stored
file directly (in a worker thread); on other drivers a `_BridgeReader` hands the driver's
async chunks (4 MiB) one at a time to the analysis thread. Each layer is analysed once per
analyzer version and shared by every image that contains it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial

import anyio.from_thread
import anyio.to_thread

from portside.analysis import ANALYZER_VERSION, DEFAULT_LIMITS, LayerAnalysis, LayerRejected, Limits, analyze_layer
from portside.storage.driver import StorageDriver
from portside.store import blobs as blob_store
from portside.store import scans as scan_store
from portside.store.database import Database

LogLine = Callable[[str], Awaitable[None]]
Checkpoint = Callable[[], Awaitable[None]]


class LayerFailed(Exception):
    """A layer cannot be analysed (corrupt, truncated, over a limit, missing): the scan fails."""

    def __init__(self, digest: str, reason: str) -> None:
        super().__init__(f"layer {digest} cannot be analysed: {reason}")
        self.digest = digest
        self.reason = reason


class _BridgeReader:
    """A blocking `read(size)` over an async byte iterator, for code running in an anyio worker
    thread: each refill asks the event loop for the next chunk. Holds at most one chunk."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._chunk = b""
        self._position = 0
        self._finished = False

    async def _next_chunk(self) -> bytes | None:
        try:
            return await anext(self._chunks)
        except StopAsyncIteration:
            return None

    def _refill(self) -> bool:
        while not self._finished:
            chunk = anyio.from_thread.run(self._next_chunk)
            if chunk is None:
                self._finished = True
            elif chunk:
                self._chunk, self._position = chunk, 0
                return True
        return False

    def read(self, size: int = -1, /) -> bytes:
        parts: list[bytes] = []
        wanted = size
        while wanted != 0:
            if self._position >= len(self._chunk) and not self._refill():
                break
            end = len(self._chunk) if wanted < 0 else min(len(self._chunk), self._position + wanted)
            parts.append(self._chunk[self._position:end])
            if wanted > 0:
                wanted -= end - self._position
            self._position = end
        return b"".join(parts)


def _analyze_file(path: str, digest: str, limits: Limits) -> LayerAnalysis:
    with open(path, "rb") as handle:
        return analyze_layer(handle, digest=digest, limits=limits)


class LayerAnalyses:
    def __init__(self, db: Database, driver: StorageDriver, limits: Limits = DEFAULT_LIMITS) -> None:
        self._db = db
        self._driver = driver
        self._limits = limits

    async def for_layers(self, digests: Sequence[str], log: LogLine, checkpoint: Checkpoint) -> list[LayerAnalysis]:
        """The analyses of `digests`, in their order; analyses missing from the cache are computed
        and stored. Raises LayerFailed for the first layer that cannot be analysed; `checkpoint`
        runs before each analysis (it may raise to stop the scan)."""
        async with self._db.read() as conn:
            cached = await scan_store.cached_analyses(conn, digests, ANALYZER_VERSION)
        found: dict[str, LayerAnalysis] = {digest: LayerAnalysis.from_json(value) for digest, value in cached.items()}
        for digest in digests:
            if digest in found:
                continue
            await checkpoint()
            analysis = await self._analyze(digest)
            async with self._db.write() as conn:
                await scan_store.store_analysis(conn, digest, ANALYZER_VERSION, analysis.to_json())
            found[digest] = analysis
            packages = sum(len(source.packages) for source in analysis.sources)
            await log(f"layer {digest}: analysed, {packages} packages")
        reused = len(set(digests) & cached.keys())
        if reused:
            await log(f"{reused} of {len(set(digests))} layers from the analysis cache")
        return [found[digest] for digest in digests]

    async def _analyze(self, digest: str) -> LayerAnalysis:
        async with self._db.read() as conn:
            blob = await blob_store.find_blob(conn, digest)
        if blob is None:
            raise LayerFailed(digest, "the blob is not in the registry")
        try:
            local = self._driver.local_path(blob.storage_key)
            if local is not None:
                return await anyio.to_thread.run_sync(_analyze_file, local, digest, self._limits)
            chunks = self._driver.read(blob.storage_key)
            try:
                reader = _BridgeReader(chunks)
                return await anyio.to_thread.run_sync(partial(analyze_layer, reader, digest=digest,
                                                              limits=self._limits))
            finally:
                closer = getattr(chunks, "aclose", None)
                if closer is not None:
                    await closer()
        except LayerRejected as error:
            raise LayerFailed(digest, error.reason) from None
        except FileNotFoundError:
            raise LayerFailed(digest, "the blob is missing from storage") from None
