"""The offline vulnerability database: import OSV data, match inventories against it.

Import (`VulnerabilityDatabase.import_path`) reads a single OSV `.json` file, a directory
tree of them, or osv.dev's per-ecosystem `.zip` exports (also inside a directory), member by
member, never a whole archive in memory. Records are written in batches, one transaction
each. Imports are incremental: a record whose `modified` is not newer than the stored
copy's is counted unchanged and not written (records without a real `modified`, like
golang/vulndb's `0001-01-01`, are compared by content instead). Withdrawn records are
removed. A malformed file is reported with its error and skipped; the rest imports. Each
run is recorded in vulndb_imports.

Matching (`find`) looks every package of an inventory up by its advisory identity (OS
packages by source package and version), evaluates the candidates with the ecosystem's
version ordering and returns one Finding per (displayed id, package, version).
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import anyio.to_thread

from portside.core.clock import utcnow
from portside.domain import versions
from portside.domain.ecosystems import advisory_identity, advisory_version
from portside.domain.inventory import Finding, Inventory, Package
from portside.domain.osv import UNDATED, Advisory, Affected, fix_version, is_affected, parse_advisory
from portside.store import vulndb as vulndb_store
from portside.store.database import Database
from portside.store.vulndb import ImportRecord

log = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_REPORTED_ERRORS = 100
#: A single OSV record is a few KB; anything far larger is not one (and is not read into memory).
MAX_RECORD_BYTES = 16 * 1024 * 1024
_STORED_RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER"})


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """A file (or zip member, `archive.zip:member.json`) that could not be imported, and why."""

    file: str
    error: str


@dataclass(frozen=True, slots=True)
class ImportProgress:
    files_done: int
    files_total: int
    imported: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What one import did. `skipped` counts malformed files and withdrawn records."""

    import_id: int
    source: str
    imported: int
    unchanged: int
    withdrawn: int
    skipped: int
    errors: tuple[ImportProblem, ...]  # the first MAX_REPORTED_ERRORS


@dataclass(frozen=True, slots=True)
class DatabaseStatus:
    advisories: int
    per_ecosystem: dict[str, int]
    last_import: ImportRecord | None


@dataclass(frozen=True, slots=True)
class ImportRuns:
    """What the import runs say now: the run in progress (if any), the last one that finished
    well and the last one that failed. A `Running` row older than the newest finished run is
    not `running`: its process ended without recording an outcome (killed, or the host went down)."""

    running: ImportRecord | None
    last_success: ImportRecord | None
    last_error: ImportRecord | None


ProgressCallback = Callable[[ImportProgress], None]


@dataclass(frozen=True, slots=True)
class _Parsed:
    origin: str
    advisory: Advisory | None = None
    error: str | None = None


@dataclass
class _Tally:
    imported: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    malformed: int = 0
    errors: list[ImportProblem] = field(default_factory=list)

    def problem(self, origin: str, error: str) -> None:
        self.malformed += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(ImportProblem(origin, error))


# --- reading sources ---------------------------------------------------------------------------


def _parse_payload(origin: str, data: bytes) -> list[_Parsed]:
    """One file's records: a JSON object is one record, a JSON array a list of them."""
    try:
        decoded = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return [_Parsed(origin, error=f"not JSON: {error}")]
    records = decoded if isinstance(decoded, list) else [decoded]
    parsed = []
    for index, record in enumerate(records):
        where = origin if len(records) == 1 else f"{origin}#{index}"
        try:
            parsed.append(_Parsed(where, advisory=parse_advisory(record)))
        except (ValueError, TypeError) as error:  # MalformedAdvisory, or anything odd in untrusted input
            parsed.append(_Parsed(where, error=str(error)))
    return parsed


class _SourceReader:
    """The JSON files and zip members under one path, read one at a time (call in a thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.units: list[tuple[Path, list[str] | None]] = []  # (file, zip members) ; None = a .json file
        self.problems: list[_Parsed] = []
        files = [path] if path.is_file() else self._walk(path)
        for file in files:
            if file.suffix.lower() == ".zip":
                self._add_archive(file)
            else:
                self.units.append((file, None))
        self.files_total = sum(1 if members is None else len(members) for _, members in self.units)
        self.files_done = 0

    def _walk(self, root: Path) -> list[Path]:
        def unreadable(error: OSError) -> None:
            self.problems.append(_Parsed(str(error.filename), error=f"unreadable directory: {error.strerror}"))

        found: list[Path] = []
        for directory, subdirectories, names in os.walk(root, onerror=unreadable):
            subdirectories.sort()
            found.extend(Path(directory, name) for name in sorted(names) if name.lower().endswith((".json", ".zip")))
        return found

    def _add_archive(self, file: Path) -> None:
        try:
            with zipfile.ZipFile(file) as archive:
                members = [info.filename for info in archive.infolist()
                           if not info.is_dir() and info.filename.lower().endswith(".json")]
        except (OSError, zipfile.BadZipFile) as error:
            self.problems.append(_Parsed(str(file), error=f"unreadable zip: {error}"))
            return
        self.units.append((file, members))

    def _read_json(self, file: Path) -> list[_Parsed]:
        try:
            if file.stat().st_size > MAX_RECORD_BYTES:
                return [_Parsed(str(file), error=f"larger than {MAX_RECORD_BYTES} bytes")]
            return _parse_payload(str(file), file.read_bytes())
        except OSError as error:
            return [_Parsed(str(file), error=f"unreadable: {error}")]

    def _read_archive(self, file: Path, members: list[str]) -> Iterator[list[_Parsed]]:
        with zipfile.ZipFile(file) as archive:
            for member in members:
                origin = f"{file}:{member}"
                try:
                    if archive.getinfo(member).file_size > MAX_RECORD_BYTES:
                        yield [_Parsed(origin, error=f"larger than {MAX_RECORD_BYTES} bytes")]
                        continue
                    with archive.open(member) as handle:
                        data = handle.read(MAX_RECORD_BYTES + 1)
                except (OSError, zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
                    # corrupt data, an unsupported compression method, an encrypted member
                    yield [_Parsed(origin, error=f"unreadable zip member: {error}")]
                    continue
                if len(data) > MAX_RECORD_BYTES:
                    yield [_Parsed(origin, error=f"larger than {MAX_RECORD_BYTES} bytes")]
                    continue
                yield _parse_payload(origin, data)

    def records(self) -> Generator[_Parsed, None, None]:
        """Every record (or problem) in order; `files_done` advances as files are finished."""
        yield from self.problems
        for file, members in self.units:
            if members is None:
                self.files_done += 1
                yield from self._read_json(file)
                continue
            try:
                for parsed in self._read_archive(file, members):
                    self.files_done += 1
                    yield from parsed
            except (OSError, zipfile.BadZipFile) as error:
                yield _Parsed(str(file), error=f"unreadable zip: {error}")


def _take(records: Iterator[_Parsed], count: int) -> list[_Parsed]:
    batch: list[_Parsed] = []
    for parsed in records:
        batch.append(parsed)
        if len(batch) >= count:
            break
    return batch


# --- the service -------------------------------------------------------------------------------


def _as_stored(advisory: Advisory) -> Advisory:
    """The advisory as the store keeps it (no GIT ranges, no withdrawn flag), for comparison."""
    affected = tuple(replace(entry, ranges=tuple(replace(r, repo="") for r in entry.ranges
                                                 if r.type in _STORED_RANGE_TYPES))
                     for entry in advisory.affected)
    return replace(advisory, affected=affected, withdrawn=None)


def _needs_write(advisory: Advisory, stored_modified: datetime | None, stored: Advisory | None) -> bool:
    if stored_modified is None:
        return True  # not stored yet
    if advisory.modified != stored_modified:
        return advisory.modified > stored_modified
    if advisory.modified == UNDATED:  # no real timestamp: only the content can tell
        return stored is None or _as_stored(advisory) != stored
    return False


class VulnerabilityDatabase:
    def __init__(self, db: Database, *, batch_size: int = BATCH_SIZE) -> None:
        self._db = db
        self._batch_size = batch_size

    # import

    async def import_path(self, path: Path | str, progress: ProgressCallback | None = None) -> ImportResult:
        """Import one .json file, .zip export or directory tree of them (see the module doc).

        Raises FileNotFoundError if `path` does not exist; per-file problems are reported in
        the result instead. `progress` is called after every batch."""
        source = Path(path)
        if not await anyio.to_thread.run_sync(source.exists):
            raise FileNotFoundError(f"no such file or directory: {source}")
        async with self._db.write() as conn:
            import_id = await vulndb_store.start_import(conn, str(source), utcnow())
        tally = _Tally()
        status = "Error"
        try:
            reader = await anyio.to_thread.run_sync(_SourceReader, source)
            records = reader.records()
            try:
                while batch := await anyio.to_thread.run_sync(_take, records, self._batch_size):
                    await self._store_batch(batch, tally)
                    if progress is not None:
                        progress(ImportProgress(reader.files_done, reader.files_total, tally.imported,
                                                tally.unchanged))
            finally:
                records.close()  # closes an open zip archive when we stop early
            status = "Success"
        finally:
            async with self._db.write() as conn:
                await vulndb_store.finish_import(
                    conn, import_id, status=status, imported=tally.imported, unchanged=tally.unchanged,
                    skipped=tally.malformed + tally.withdrawn, finished_at=utcnow(),
                    errors=[{"file": problem.file, "error": problem.error} for problem in tally.errors])
        return ImportResult(import_id=import_id, source=str(source), imported=tally.imported,
                            unchanged=tally.unchanged, withdrawn=tally.withdrawn,
                            skipped=tally.malformed + tally.withdrawn, errors=tuple(tally.errors))

    async def _store_batch(self, batch: list[_Parsed], tally: _Tally) -> None:
        latest: dict[str, tuple[Advisory, str]] = {}
        for parsed in batch:
            if parsed.advisory is None:
                tally.problem(parsed.origin, parsed.error or "unknown error")
                continue
            advisory = parsed.advisory
            if advisory.id in latest:
                tally.unchanged += 1  # the same id twice in one batch: keep the newer (or later) one
                if advisory.modified < latest[advisory.id][0].modified:
                    continue
            latest[advisory.id] = (advisory, parsed.origin)
        withdrawn = [advisory.id for advisory, _ in latest.values() if advisory.withdrawn is not None]
        live = [(advisory, origin) for advisory, origin in latest.values() if advisory.withdrawn is None]
        async with self._db.write() as conn:
            await vulndb_store.delete_advisories(conn, withdrawn)
            stored = await vulndb_store.modified_times(conn, [advisory.id for advisory, _ in live])
            undated = [a.id for a, _ in live if a.modified == UNDATED and stored.get(a.id) == UNDATED]
            existing = await vulndb_store.load_advisories(conn, undated) if undated else {}
            changed = [(advisory, origin) for advisory, origin in live
                       if _needs_write(advisory, stored.get(advisory.id), existing.get(advisory.id))]
            await vulndb_store.replace_advisories(conn, changed)
        tally.withdrawn += len(withdrawn)
        tally.imported += len(changed)
        tally.unchanged += len(live) - len(changed)

    async def status(self) -> DatabaseStatus:
        """Advisory counts (total and per ecosystem) and the last import run."""
        async with self._db.read() as conn:
            return DatabaseStatus(await vulndb_store.advisory_total(conn), await vulndb_store.advisory_counts(conn),
                                  await vulndb_store.last_import(conn))

    async def import_runs(self) -> ImportRuns:
        """The running, last successful and last failed import (one query)."""
        async with self._db.read() as conn:
            latest = await vulndb_store.latest_import_per_status(conn)
        success, error, running = latest.get("Success"), latest.get("Error"), latest.get("Running")
        newest_finished = max((run.id for run in (success, error) if run is not None), default=0)
        return ImportRuns(running=running if running is not None and running.id > newest_finished else None,
                          last_success=success, last_error=error)

    # matching

    async def find(self, inventory: Inventory) -> list[Finding]:
        """Every advisory affecting a package of `inventory`, one Finding per (id, package,
        version), ordered by package, version and id. Packages whose version cannot be ordered
        in their ecosystem (e.g. a Go `(devel)` build) match only exact `versions` lists."""
        keyed = [(package, identity) for package in inventory.packages
                 if (identity := advisory_identity(package, inventory.os)) is not None]
        async with self._db.read() as conn:
            found = await vulndb_store.candidates(conn, [identity for _, identity in keyed])
            by_identity: dict[tuple[str, str], dict[str, list[Affected]]] = {}
            for candidate in found:
                identity = (candidate.affected.ecosystem, candidate.affected.package)
                by_identity.setdefault(identity, {}).setdefault(candidate.advisory_id, []).append(candidate.affected)
            matches = [(package, identity[0], advisory_id, entries, fixed)
                       for package, identity in keyed
                       for advisory_id, entries in by_identity.get(identity, {}).items()
                       if (fixed := _evaluate(package, advisory_id, entries)) is not None]
            advisories = await vulndb_store.load_advisories(conn, sorted({match[2] for match in matches}),
                                                            with_affected=False)
        findings: dict[tuple[str, str, str], Finding] = {}
        for package, ecosystem, advisory_id, entries, fixed in matches:
            if advisory_id not in advisories:
                continue  # removed by an import between our two queries (PostgreSQL reads are per statement)
            finding = _finding(package, advisories[advisory_id], entries, fixed)
            key = (finding.id, finding.package, finding.version)
            findings[key] = _merge(ecosystem, findings[key], finding) if key in findings else finding
        return sorted(findings.values(), key=lambda f: (f.package, f.version, f.id))


def _evaluate(package: Package, advisory_id: str, entries: Sequence[Affected]) -> str | None:
    """None when `package` is not affected by these entries (one advisory's rows for it), else
    its fix version ("" when unfixed)."""
    version = advisory_version(package)
    try:
        if not any(is_affected(entry, version) for entry in entries):
            return None
        return fix_version(entries, version)
    except ValueError as error:
        # Unorderable version or boundary: only an exact `versions` entry can still match.
        log.debug("cannot evaluate %s for %s %s: %s", advisory_id, package.name, version, error)
        return "" if any(version in entry.versions for entry in entries) else None


def _finding(package: Package, advisory: Advisory, entries: Sequence[Affected], fixed: str) -> Finding:
    display = advisory.display_id
    return Finding(
        id=display, advisory_id=advisory.id,
        aliases=tuple(name for name in (advisory.id, *advisory.aliases) if name != display),
        package=package.name, version=package.version, fix_version=fixed,
        severity=next((entry.severity for entry in entries if entry.severity), advisory.severity),
        description=advisory.details or advisory.summary, links=advisory.references,
        cvss_vector=advisory.cvss_vector, cvss_score=advisory.cvss_score, cwe_ids=advisory.cwe_ids,
        package_type=package.type, layer=package.layer, purl=package.purl,
    )


def _preference(finding: Finding) -> tuple[bool, bool, str]:
    """Of two advisories for one CVE, show the one with a CVSS score, then a known severity,
    then the smaller id (deterministic; puts GHSA- before PYSEC- and GO-)."""
    return finding.cvss_score is None, finding.severity == "Unknown", finding.advisory_id


def _later_fix(ecosystem: str, first: str, second: str) -> str:
    """The fix that satisfies both advisories: the later version ("" only if neither has one)."""
    if not first or not second:
        return first or second
    try:
        return second if versions.compare(ecosystem, first, second) < 0 else first
    except ValueError:
        return first


def _merge(ecosystem: str, one: Finding, other: Finding) -> Finding:
    preferred, second = sorted((one, other), key=_preference)
    aliases = tuple(dict.fromkeys(name for name in (*preferred.aliases, second.advisory_id, *second.aliases)
                                  if name != preferred.id))
    return replace(preferred, aliases=aliases, fix_version=_later_fix(ecosystem, preferred.fix_version,
                                                                      second.fix_version))

