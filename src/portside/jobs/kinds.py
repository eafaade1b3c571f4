"""The registry of job kinds and event subscribers (name -> handler).

Features add their kinds here: each is a module under `jobs/handlers/` with an
idempotent handler that takes ids in its params.
"""

from __future__ import annotations

from portside.jobs.context import JobKind
from portside.jobs.events import Subscriber


def build_kinds() -> dict[str, JobKind]:
    kinds: list[JobKind] = []
    return {kind.name: kind for kind in kinds}


def build_subscribers() -> dict[str, list[Subscriber]]:
    return {}
