"""Projects: create, update, delete (forced cascade), metadata, summary."""

from __future__ import annotations

from portside.services.deps import ServiceDeps


class ProjectService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
