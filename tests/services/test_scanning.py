"""The scan service below the API: layer-analysis caching and streaming, overview and report
reads, the built-in scanner's registration, job failures and stops, whiteouts, and re-scans when
the vulnerability database changes. Advisories: the real records of shared/testdata/osv."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import httpx
import pytest
from sqlalchemy import func, select

from portside.analysis import ANALYZER_VERSION
from portside.jobs.context import JobContext, JobStopped
from portside.jobs.handlers.scan import VULNDB_IMPORTED, run_scan
from portside.jobs.kinds import build_kinds
from portside.jobs.worker import Worker
from portside.services.bundle import Services
from portside.services.layer_analyses import LayerAnalyses, _BridgeReader
from portside.services.scan_all import rescan_if_database_changed
from portside.services.scanning import scan_service
from portside.services.vulndb import VulnerabilityDatabase
from portside.storage.driver import StorageDriver
from portside.store import events as event_store
from portside.store import scans as scan_store
from portside.store.tables import jobs, layer_analyses, manifests, scanner_registrations
from scan_images import (
    EXPECTED,
    EXPECTED_SUMMARY,
    OSV_TESTDATA,
    SITE_PACKAGES,
    digest_of,
    gzip_layer,
    vulnerable_layers,
)
from scan_support import (
    REPORT_MIME,
    import_testdata,
    push_layers,
    push_vulnerable,
    report_status,
    run_jobs,
    scan,
)

REPO = "astro/app"


@dataclass
class Progress:
    """A ScanProgress that records log lines; `stop_after` checkpoints it raises JobStopped."""

    lines: list[str] = field(default_factory=list)
    stop_after: int | None = None
    checkpoints: int = 0

    async def log(self, line: str) -> None:
        self.lines.append(line)

    async def checkpoint(self) -> None:
        self.checkpoints += 1
        if self.stop_after is not None and self.checkpoints > self.stop_after:
            raise JobStopped()


async def _queued_job(services: Services) -> tuple[str, int]:
    """(report_id, manifest_id) of the one queued scan job."""
    async with services.db.read() as conn:
        params = (await conn.execute(select(jobs.c.params).where(jobs.c.status == "queued"))).scalar_one()
    return str(params["report_id"]), int(params["manifest_id"])


async def _request(client: httpx.AsyncClient, reference: str = "1.0") -> None:
    response = await client.post(f"/api/v2.0/projects/astro/repositories/app/artifacts/{reference}/scan")
    assert response.status_code == 202, response.text


async def test_layer_analyses_are_cached_per_layer(client: httpx.AsyncClient, services: Services) -> None:
    await import_testdata(services)
    await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    async with services.db.read() as conn:
        versions = list((await conn.execute(select(layer_analyses.c.analyzer_version))).scalars())
    assert versions == [ANALYZER_VERSION] * 3


async def test_rescan_reads_every_layer_from_the_cache(client: httpx.AsyncClient, services: Services) -> None:
    await import_testdata(services)
    await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    await _request(client)
    progress = Progress()
    await scan_service(services).scan_artifact(*await _queued_job(services), progress)
    assert "3 of 3 layers from the analysis cache" in progress.lines
    assert not any(line.endswith("packages") and "analysed" in line for line in progress.lines)


async def test_overview_answers_many_digests_at_once(client: httpx.AsyncClient, services: Services) -> None:
    await import_testdata(services)
    pushed = await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    found = await scan_service(services).overview([pushed.digest, "sha256:" + "0" * 64])
    summary = found[pushed.digest][REPORT_MIME]
    assert list(found) == [pushed.digest]
    assert (summary["scan_status"], summary["severity"], summary["summary"], summary["complete_percent"]) == (
        "Success", "Critical", EXPECTED_SUMMARY, 100)


async def test_report_is_none_until_the_scan_succeeds(client: httpx.AsyncClient, services: Services) -> None:
    await import_testdata(services)
    pushed = await push_vulnerable(client, REPO)
    await _request(client)
    assert await scan_service(services).report(pushed.digest) is None
    await run_jobs(services)
    report = await scan_service(services).report(pushed.digest)
    assert report is not None and [item["id"] for item in report["vulnerabilities"]] == [row[0] for row in EXPECTED]


async def test_builtin_registration_is_created_once(services: Services) -> None:
    async with services.db.write() as conn:
        first = await scan_store.ensure_builtin_registration(conn)
        second = await scan_store.ensure_builtin_registration(conn)
    async with services.db.read() as conn:
        rows = list(await conn.execute(select(scanner_registrations.c.url, scanner_registrations.c.name,
                                              scanner_registrations.c.is_default)))
    assert (first == second, [tuple(row) for row in rows]) == (True, [("builtin:", "Portside", True)])


async def test_concurrent_first_registrations_keep_one_row(services: Services) -> None:
    async def ensure() -> int:
        async with services.db.write() as conn:
            return await scan_store.ensure_builtin_registration(conn)

    ids = await asyncio.gather(*(ensure() for _ in range(4)))
    assert len(set(ids)) == 1


class _NoLocalPath:
    """A driver that never offers a local file, forcing the streaming path."""

    def __init__(self, inner: StorageDriver) -> None:
        self._inner = inner

    def local_path(self, key: str) -> str | None:
        return None

    def read(self, key: str, *, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        return self._inner.read(key, offset=offset, length=length)


async def test_streamed_layer_analyses_like_the_local_file(client: httpx.AsyncClient, services: Services) -> None:
    layers = vulnerable_layers("stream")
    await push_layers(client, REPO, "1.0", layers)
    digests = [digest_of(layer) for layer in layers]
    streamed = LayerAnalyses(services.db, _NoLocalPath(services.driver))  # type: ignore[arg-type]
    progress = Progress()
    from_stream = await streamed.for_layers(digests, progress.log, progress.checkpoint)
    async with services.db.write() as conn:
        await conn.execute(layer_analyses.delete())
    from_file = await LayerAnalyses(services.db, services.driver).for_layers(digests, progress.log,
                                                                             progress.checkpoint)
    assert [a.to_json() for a in from_stream] == [a.to_json() for a in from_file]


async def test_bridge_reader_returns_the_exact_bytes_in_any_read_size() -> None:
    data = bytes(range(256)) * 1000

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 7000):
            yield data[start:start + 7000]

    def read_all(reader: _BridgeReader) -> bytes:
        parts, size = [], 1
        while part := reader.read(size):
            parts.append(part)
            size = size * 3 % 10_007 + 1
        return b"".join(parts)

    assert await anyio.to_thread.run_sync(read_all, _BridgeReader(chunks())) == data


async def test_concurrent_scans_sharing_layers_both_succeed(client: httpx.AsyncClient, services: Services) -> None:
    await import_testdata(services)
    layers = vulnerable_layers("shared")
    first = await push_layers(client, REPO, "1.0", layers)
    second = await push_layers(client, REPO, "2.0", [*layers, gzip_layer({"etc/extra": b"x"})])
    for tag in ("1.0", "2.0"):
        await _request(client, tag)
    async with services.db.read() as conn:
        queued = [(str(p["report_id"]), int(p["manifest_id"]))
                  for p in (await conn.execute(select(jobs.c.params))).scalars()]
    await asyncio.gather(*(scan_service(services).scan_artifact(r, m, Progress()) for r, m in queued))
    assert [await report_status(services, d) for d in (first.digest, second.digest)] == [("Success", "")] * 2


async def test_whiteout_in_an_upper_layer_removes_the_finding(client: httpx.AsyncClient, services: Services) -> None:
    await import_testdata(services)
    removal = gzip_layer({f"{SITE_PACKAGES}/.wh.PyYAML-5.3.1.dist-info": b""})
    await push_layers(client, REPO, "1.0", [*vulnerable_layers("whiteout"), removal])
    await scan(client, services, REPO)
    report = await scan_service(services).report(await _digest_of_tag(services))
    assert report is not None and "CVE-2020-14343" not in {item["id"] for item in report["vulnerabilities"]}


async def _digest_of_tag(services: Services) -> str:
    async with services.db.read() as conn:
        return str((await conn.execute(select(manifests.c.digest).order_by(manifests.c.id.desc()))).first()[0])


async def test_deleted_manifest_ends_its_scan_with_error(client: httpx.AsyncClient, services: Services) -> None:
    pushed = await push_vulnerable(client, REPO)
    await _request(client)
    report_id, _ = await _queued_job(services)
    await scan_service(services).scan_artifact(report_id, 10_000, Progress())
    assert await report_status(services, pushed.digest) == ("Error", "the manifest was deleted before it was scanned")


async def test_job_of_a_replaced_report_does_nothing(client: httpx.AsyncClient, services: Services) -> None:
    await push_vulnerable(client, REPO)
    await _request(client)
    _, manifest_id = await _queued_job(services)
    progress = Progress()
    await scan_service(services).scan_artifact("not-the-current-report", manifest_id, progress)
    assert progress.lines == ["report not-the-current-report is no longer pending: nothing to do"]


def _context(services: Services, report_id: str, manifest_id: int, attempt: int, *, stopped: bool = False,
             job_id: int = 1) -> JobContext:
    async def heartbeat() -> bool:
        return not stopped

    return JobContext(services, job_id, "scan", {"report_id": report_id, "manifest_id": manifest_id}, attempt,
                      None, heartbeat)


async def test_last_failed_attempt_marks_the_report_error(client: httpx.AsyncClient, services: Services,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pushed = await push_vulnerable(client, REPO)
    await _request(client)

    async def broken(self: Any, inventory: Any) -> Any:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(VulnerabilityDatabase, "find", broken)
    with pytest.raises(RuntimeError):
        await run_scan(_context(services, *await _queued_job(services), attempt=3))
    assert await report_status(services, pushed.digest) == (
        "Error", "scan failed after 3 attempts: RuntimeError: database unavailable")


async def test_stop_during_a_scan_marks_the_report_stopped(client: httpx.AsyncClient, services: Services) -> None:
    pushed = await push_vulnerable(client, REPO)
    await _request(client)
    with pytest.raises(JobStopped):
        await run_scan(_context(services, *await _queued_job(services), attempt=1, stopped=True))
    assert await report_status(services, pushed.digest) == ("Stopped", "stopped by request")


async def _import_without_pyyaml(services: Services, tmp_dir: Any) -> None:
    for path in OSV_TESTDATA.glob("*.json"):
        if path.name not in ("GHSA-8q59-q68h-6hv4.json", "PYSEC-2021-142.json"):
            (tmp_dir / path.name).write_bytes(path.read_bytes())
    await VulnerabilityDatabase(services.db).import_path(tmp_dir)


async def test_database_change_rescans_everything(client: httpx.AsyncClient, services: Services,
                                                  tmp_path: Any) -> None:
    await _import_without_pyyaml(services, tmp_path)
    pushed = await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    await VulnerabilityDatabase(services.db).import_path(OSV_TESTDATA)
    async with services.db.write() as conn:
        assert await rescan_if_database_changed(conn) is not None
    await run_jobs(services)
    report = await scan_service(services).report(pushed.digest)
    assert report is not None and report["vulnerabilities"][0]["id"] == "CVE-2020-14343"


async def test_unchanged_database_triggers_no_rescan(client: httpx.AsyncClient, services: Services) -> None:
    await import_testdata(services)
    async with services.db.write() as conn:
        assert await rescan_if_database_changed(conn) is not None
    await run_jobs(services)
    await VulnerabilityDatabase(services.db).import_path(OSV_TESTDATA)  # every record unchanged
    async with services.db.write() as conn:
        assert await rescan_if_database_changed(conn) is None


async def test_vulndb_imported_event_starts_a_scan_all(client: httpx.AsyncClient, services: Services) -> None:
    await import_testdata(services)
    pushed = await push_vulnerable(client, REPO)
    async with services.db.write() as conn:
        await event_store.add(conn, VULNDB_IMPORTED, {})
    await run_jobs(services)
    assert await report_status(services, pushed.digest) == ("Success", "")


async def test_scan_all_skips_digests_already_being_scanned(client: httpx.AsyncClient, services: Services) -> None:
    await push_vulnerable(client, REPO)
    await _request(client)
    response = await client.post("/api/v2.0/system/scanAll/schedule", json={"schedule": {"type": "Manual"}})
    assert response.status_code == 201
    await Worker(services, {"scan_all": build_kinds()["scan_all"]}).run_until_idle()  # before the pending scan
    async with services.db.read() as conn:
        scans = (await conn.execute(select(func.count()).where(jobs.c.kind == "scan"))).scalar_one()
    assert scans == 1

