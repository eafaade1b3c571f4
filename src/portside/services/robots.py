"""Robot accounts: system and project robots, permissions, secrets, expiry."""

from __future__ import annotations

from portside.services.deps import ServiceDeps


class RobotService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
