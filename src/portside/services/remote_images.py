"""Analyse an image held by another registry: pull its manifest and layers with the OCI pull
client and run the built-in layer analysis on them.

Layers are pulled one at a time into a temporary directory, verified against their digest,
analysed in a worker thread and deleted, so disk use is bounded by the largest layer and memory
by the analysis limits. Because a verified digest names the bytes, the analysis is cached in
`layer_analyses` exactly like the built-in scanner's, and a layer already analysed (pushed to
Portside, or scanned before) is not pulled at all.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from portside.analysis import (
    ANALYZER_VERSION,
    DEFAULT_LIMITS,
    LayerAnalysis,
    LayerRejected,
    analyze_layer,
    merge_layers,
)
from portside.clients.oci import PullError, RegistryPullClient
from portside.domain import image_config
from portside.domain import media_types as mt
from portside.domain.errors import RegistryError
from portside.domain.inventory import Inventory
from portside.domain.manifest import parse_manifest
from portside.domain.scan_targets import image_layers
from portside.services.layer_analyses import Checkpoint, LogLine
from portside.store import scans as scan_store
from portside.store.database import Database

MAX_LAYERS = 256


class RemoteImageFailed(Exception):
    """The image cannot be scanned: unreachable, refused, not an image, corrupt. Not retried."""


@dataclass(frozen=True, slots=True)
class RemoteImage:
    digest: str
    media_type: str
    inventory: Inventory
    attributes: dict[str, str]  # architecture, os, created (from the image config)


def _analyze_file(path: Path, digest: str) -> LayerAnalysis:
    with path.open("rb") as handle:
        return analyze_layer(handle, digest=digest, limits=DEFAULT_LIMITS)


def _attributes(config_media_type: str | None, data: bytes) -> dict[str, str]:
    try:
        body = json.loads(data)
    except ValueError:
        return {}
    if not isinstance(body, dict) or config_media_type not in image_config.IMAGE_CONFIG_TYPES:
        return {}
    return {key: str(body[key]) for key in ("architecture", "os", "created") if isinstance(body.get(key), str)}


class RemoteImages:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def analyse(self, registry: RegistryPullClient, repository: str, digest: str, log: LogLine,
                      checkpoint: Checkpoint) -> RemoteImage:
        """The inventory of image `repository@digest`; raises RemoteImageFailed."""
        try:
            manifest = await registry.manifest(repository, digest)
            parsed = parse_manifest(manifest.content, manifest.media_type or None)
        except (PullError, RegistryError) as error:
            raise RemoteImageFailed(str(error)) from None
        if parsed.media_type in mt.INDEXES:
            raise RemoteImageFailed(f"{digest} is an image index: scan its platform images one by one")
        layers = image_layers(parsed.media_type, parsed.config_media_type, manifest.content)
        if layers is None:
            raise RemoteImageFailed(f"{digest} is not a container image ({parsed.config_media_type})")
        if len(layers) > MAX_LAYERS:
            raise RemoteImageFailed(f"the image has {len(layers)} layers, more than {MAX_LAYERS}")
        with tempfile.TemporaryDirectory(prefix="portside-remote-") as scratch:
            directory = Path(scratch)
            attributes = await self._config(registry, repository, parsed.blobs[0], directory)
            analyses = await self._layers(registry, repository, layers, directory, log, checkpoint)
        return RemoteImage(manifest.digest, parsed.media_type, merge_layers(analyses), attributes)

    @staticmethod
    async def _config(registry: RegistryPullClient, repository: str, config: Any, directory: Path) -> dict[str, str]:
        if config.size > image_config.MAX_CONFIG_BYTES:
            return {}
        path = directory / "config"
        try:
            await registry.blob_to_file(repository, str(config.digest), path)
        except PullError as error:
            raise RemoteImageFailed(str(error)) from None
        data = await anyio.Path(path).read_bytes()
        await anyio.Path(path).unlink()
        return _attributes(config.media_type, data)

    async def _layers(self, registry: RegistryPullClient, repository: str, digests: list[str], directory: Path,
                      log: LogLine, checkpoint: Checkpoint) -> list[LayerAnalysis]:
        async with self._db.read() as conn:
            cached = await scan_store.cached_analyses(conn, digests, ANALYZER_VERSION)
        found = {digest: LayerAnalysis.from_json(value) for digest, value in cached.items()}
        for digest in digests:
            if digest in found:
                continue
            await checkpoint()
            path = directory / "layer"
            try:
                size = await registry.blob_to_file(repository, digest, path)
                found[digest] = await anyio.to_thread.run_sync(_analyze_file, path, digest)
            except PullError as error:
                raise RemoteImageFailed(str(error)) from None
            except LayerRejected as error:
                raise RemoteImageFailed(f"layer {digest} cannot be analysed: {error.reason}") from None
            finally:
                await anyio.Path(path).unlink(missing_ok=True)
            async with self._db.write() as conn:
                await scan_store.store_analysis(conn, digest, ANALYZER_VERSION, found[digest].to_json())
            await log(f"layer {digest}: pulled {size} bytes and analysed")
        return [found[digest] for digest in digests]
