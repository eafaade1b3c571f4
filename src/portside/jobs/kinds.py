"""The registry of job kinds and event subscribers (name -> handler).

Features add their kinds here: each is a module under `jobs/handlers/` with an
idempotent handler that takes ids in its params.
"""

from __future__ import annotations

from portside.jobs.context import JobKind
from portside.jobs.events import Subscriber
from portside.jobs.handlers import adapter_scan, cve_export, sbom, scan


def build_kinds() -> dict[str, JobKind]:
    kinds: list[JobKind] = [*scan.KINDS, *sbom.KINDS, *adapter_scan.KINDS, *cve_export.KINDS]
    return {kind.name: kind for kind in kinds}


def build_subscribers() -> dict[str, list[Subscriber]]:
    subscribers: dict[str, list[Subscriber]] = {}
    for feature in (scan.SUBSCRIBERS, sbom.SUBSCRIBERS):
        for event_type, handlers in feature.items():
            subscribers.setdefault(event_type, []).extend(handlers)
    return subscribers
