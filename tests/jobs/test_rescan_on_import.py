"""Importing advisories with the CLI makes a running server re-scan everything (through the outbox)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from portside.core.config import Settings
from portside.jobs.events import dispatch_events
from portside.jobs.kinds import build_subscribers
from portside.services.bundle import Services
from portside.store.tables import events, executions
from portside.vulndb_cli import _import

OSV = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "osv"


async def test_an_import_that_changes_advisories_starts_a_scan_all(services: Services, settings: Settings) -> None:
    results = await _import(settings, [OSV])
    assert results[0].imported > 0
    async with services.db.read() as conn:
        assert [row.type for row in await conn.execute(select(events.c.type))] == ["vulndb.imported"]
    await dispatch_events(services, build_subscribers())
    async with services.db.read() as conn:
        started = [(row.vendor_type, row.trigger) for row in await conn.execute(select(executions))]
    assert started == [("SCAN_ALL", "EVENT")]


async def test_an_unchanged_import_starts_nothing(services: Services, settings: Settings) -> None:
    await _import(settings, [OSV])
    await dispatch_events(services, build_subscribers())
    await _import(settings, [OSV])
    async with services.db.read() as conn:
        assert len(list(await conn.execute(select(events)))) == 1
