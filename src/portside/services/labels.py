"""Labels (global and project) and their attachment to artifacts."""

from __future__ import annotations

from portside.services.deps import ServiceDeps


class LabelService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
