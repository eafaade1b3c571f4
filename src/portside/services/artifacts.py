"""Harbor's artifact view of manifests: listing, tags, copy, delete, additions."""

from __future__ import annotations

from portside.services.deps import ServiceDeps


class ArtifactService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
