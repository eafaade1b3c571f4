"""Local users: create, update, delete, passwords and CLI secrets."""

from __future__ import annotations

from portside.services.deps import ServiceDeps


class UserService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
