"""Project members and their roles."""

from __future__ import annotations

from portside.services.deps import ServiceDeps


class MemberService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
