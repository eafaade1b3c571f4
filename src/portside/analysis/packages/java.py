"""Java archives (`.jar .war .ear .par`), including archives nested inside them (Spring Boot
`BOOT-INF/lib/`, WAR `WEB-INF/lib/`).

Per archive, as Trivy does offline:
1. every `META-INF/maven/<group>/<artifact>/pom.properties` names a package
   (`groupId:artifactId` at `version`) — shaded archives carry several;
2. if none of them is the archive itself (artifactId and version of the file name), the
   `META-INF/MANIFEST.MF` (`Implementation-*`, `Bundle-*`) names it;
3. failing that, the file name `name-1.2.3.jar` does, without a group (Trivy's SHA-1 lookup on
   Maven Central needs the network).

Archives are zip files, so each is held in memory (bounded by `Limits.max_archive_bytes` for
the outer archive and everything read from it together); central directories with more than
`max_archive_entries` entries and nesting deeper than `max_archive_depth` are not opened.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from portside.analysis.model import Limits, Notes, SourceResult
from portside.analysis.purls import language_purl
from portside.domain.inventory import Package

_FILE_NAME = re.compile(r"^([a-zA-Z0-9._-]*[^-*])-(\d\S*(?:-SNAPSHOT)?)\.[a-zA-Z]ar$")
_ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".par")
_END_OF_CENTRAL_DIRECTORY = b"PK\x05\x06"
_ZIP64_ENTRY_COUNT = 0xFFFF
#: Where the end-of-central-directory record can start, counted from the end (22 + comment).
_EOCD_SEARCH = 22 + 0xFFFF
MAX_PROPERTIES_BYTES = 64 * 1024
#: What zipfile raises on a corrupt, encrypted or unsupported archive or entry.
_UNREADABLE_ARCHIVE = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError,
                       EOFError, OSError, ValueError)


class _Budget:
    """Bytes that may still be read out of one top-level archive and the archives within it."""

    def __init__(self, limit: int) -> None:
        self.remaining = limit

    def take(self, size: int) -> bool:
        if size > self.remaining:
            return False
        self.remaining -= size
        return True


@dataclass(frozen=True, slots=True)
class _Coordinates:
    group: str
    artifact: str
    version: str

    @property
    def name(self) -> str:
        return f"{self.group}:{self.artifact}" if self.group else self.artifact


_PROPERTY = re.compile(r"([^=:\s]+)\s*[=:\s]\s*(.*)")


def _properties(text: str) -> dict[str, str]:
    """`key=value` / `key: value` lines of a .properties file (comments skipped)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        match = _PROPERTY.fullmatch(line.strip())
        if match and not line.lstrip().startswith(("#", "!")):
            values[match.group(1)] = match.group(2).strip()
    return values


def _manifest(text: str) -> dict[str, str]:
    """MANIFEST.MF main section; lines starting with a space continue the previous one."""
    values: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line:
            break  # the main section ends at the first blank line
        if line.startswith(" ") and last:
            values[last] += line[1:]
            continue
        key, _, value = line.partition(":")
        last = key.strip()
        values[last] = value.strip()
    return values


def _from_manifest(values: dict[str, str]) -> _Coordinates | None:
    def first(*keys: str) -> str:
        return next((values[k] for k in keys if values.get(k)), "")

    artifact = first("Implementation-Title", "Bundle-Name", "Specification-Title")
    version = first("Implementation-Version", "Bundle-Version", "Specification-Version")
    group = first("Implementation-Vendor-Id")
    return _Coordinates(group, artifact, version) if artifact and version else None


def _from_file_name(path: str) -> _Coordinates | None:
    match = _FILE_NAME.match(posixpath.basename(path))
    return _Coordinates("", match.group(1), match.group(2)) if match else None


def _entry_count(data: bytes) -> int | None:
    """Entries the central directory declares (read before zipfile parses it all); None if unknown."""
    tail_start = max(0, len(data) - _EOCD_SEARCH)
    position = data.rfind(_END_OF_CENTRAL_DIRECTORY, tail_start)
    if position < 0 or position + 22 > len(data):
        return None
    count: int = struct.unpack("<H", data[position + 10:position + 12])[0]
    return count


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    if info.file_size > limit:
        return None
    with archive.open(info) as entry:
        data = entry.read(info.file_size + 1)  # one byte more: the declared size may lie
    return data if len(data) <= limit else None


class _ArchiveReader:
    def __init__(self, layer: str, limits: Limits, notes: Notes) -> None:
        self._layer = layer
        self._limits = limits
        self._notes = notes

    def packages(self, path: str, data: bytes, depth: int, budget: _Budget) -> list[Package]:
        count = _entry_count(data)
        if count is None or count == _ZIP64_ENTRY_COUNT or count > self._limits.max_archive_entries:
            self._notes.add(f"{path}: not a zip archive or too many entries, skipped")
            return []
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return self._read(path, archive, depth, budget)
        except _UNREADABLE_ARCHIVE as error:
            self._notes.add(f"{path}: unreadable archive ({error}), skipped")
            return []

    def _read(self, path: str, archive: zipfile.ZipFile, depth: int, budget: _Budget) -> list[Package]:
        found: list[_Coordinates] = []
        manifest: dict[str, str] = {}
        nested: list[Package] = []
        for info in archive.infolist():
            base = posixpath.basename(info.filename)
            if base == "pom.properties" and info.filename.startswith("META-INF/maven/"):
                properties = self._text(archive, info, budget)
                values = _properties(properties) if properties is not None else {}
                if values.get("groupId") and values.get("artifactId") and values.get("version"):
                    found.append(_Coordinates(values["groupId"], values["artifactId"], values["version"]))
            elif info.filename == "META-INF/MANIFEST.MF":
                text = self._text(archive, info, budget)
                manifest = _manifest(text) if text is not None else {}
            elif info.filename.lower().endswith(_ARCHIVE_SUFFIXES):
                nested.extend(self._nested(f"{path}!/{info.filename}", archive, info, depth, budget))
        own = _from_file_name(path)
        if not any(own and c.artifact == own.artifact and c.version == own.version for c in found):
            fallback = _from_manifest(manifest) or own
            if fallback is not None and fallback not in found:
                found.append(fallback)
        return [self._package(c, path) for c in found] + nested

    def _text(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> str | None:
        limit = min(MAX_PROPERTIES_BYTES, self._limits.max_metadata_bytes)
        if not budget.take(min(info.file_size, limit)):
            return None
        data = _read_entry(archive, info, limit)
        return data.decode("utf-8", "replace") if data is not None else None

    def _nested(self, path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, depth: int,
                budget: _Budget) -> list[Package]:
        if depth >= self._limits.max_archive_depth:
            self._notes.add(f"{path}: nested deeper than {self._limits.max_archive_depth}, skipped")
            return []
        if not budget.take(info.file_size):
            self._notes.add(f"{path}: archive byte budget exhausted, skipped")
            return []
        data = _read_entry(archive, info, self._limits.max_archive_bytes)
        if data is None:
            self._notes.add(f"{path}: larger than declared or allowed, skipped")
            return []
        return self.packages(path, data, depth + 1, budget)

    def _package(self, coordinates: _Coordinates, path: str) -> Package:
        name, version = coordinates.name, coordinates.version
        return Package(type="maven", name=name, version=version, source_name=name, source_version=version,
                       path=path, layer=self._layer, purl=language_purl("maven", name, version))


def parse_archive(path: str, data: bytes, layer: str, limits: Limits, notes: Notes) -> SourceResult:
    """Maven packages of the archive at `path` (held in `data`) and of archives nested in it.

    Packages found in nested archives have paths like `app.war!/WEB-INF/lib/x.jar`."""
    budget = _Budget(limits.max_archive_bytes - len(data))
    packages = _ArchiveReader(layer, limits, notes).packages(path, data, 0, budget)
    return SourceResult(path, packages=tuple(packages))
