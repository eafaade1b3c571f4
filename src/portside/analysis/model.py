"""What the analysis of one image layer yields, the limits it runs under, and how it fails.

A `LayerAnalysis` depends only on the layer's bytes and `ANALYZER_VERSION`, so callers cache
it per layer digest and merge cached analyses for every image sharing the layer
(`portside.analysis.merge.merge_layers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portside.domain.inventory import Package

#: Bump whenever the same layer bytes would analyse differently (new parser, changed rule):
#: cached analyses with another version must be recomputed.
ANALYZER_VERSION = 1

MiB = 1024 * 1024
GiB = 1024 * MiB


class LayerRejected(Exception):
    """The layer cannot be analysed at all: truncated, corrupt, or past a configured limit.

    `reason` is a short human-readable phrase ("truncated", "more than 16 GiB uncompressed").
    Per-file problems never raise this: they become notes on the analysis.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on the work and memory one layer may cost; every file read is bounded by one.

    Nothing is extracted to disk: each file a parser needs is read into memory, so the peak
    memory of an analysis is about the largest single bound below (plus parsed results).
    """

    #: Bytes of uncompressed tar stream read before `LayerRejected` (decompression bombs).
    max_total_bytes: int = 16 * GiB
    #: Tar members (headers) read before `LayerRejected`.
    max_members: int = 1_000_000
    #: Package databases: dpkg status and file lists, apk installed, rpmdb.sqlite.
    max_database_bytes: int = 128 * MiB
    #: Small metadata files: os-release, METADATA/PKG-INFO, package.json, pom.properties, MANIFEST.MF.
    max_metadata_bytes: int = 1 * MiB
    #: Prefix of each executable searched for Go build information.
    max_executable_scan_bytes: int = 256 * MiB
    #: One Java archive held in memory, and all archives nested in it together.
    max_archive_bytes: int = 128 * MiB
    #: Levels of archives inside archives (a WAR's WEB-INF/lib/*.jar is depth 1).
    max_archive_depth: int = 3
    #: Entries in one Java archive's central directory.
    max_archive_entries: int = 65_535
    #: Notes kept per layer; later ones are only counted.
    max_notes: int = 200


DEFAULT_LIMITS = Limits()


class Notes:
    """A capped list of human-readable remarks (skipped files, unsupported formats)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._kept: list[str] = []
        self._dropped = 0

    def add(self, note: str) -> None:
        if len(self._kept) < self._limit:
            self._kept.append(note)
        else:
            self._dropped += 1

    def as_tuple(self) -> tuple[str, ...]:
        if self._dropped:
            return (*self._kept, f"{self._dropped} more notes not kept")
        return tuple(self._kept)


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one file of the layer contributed: packages read from it and, for OS package
    manager records, the files those packages installed (used to drop language packages the
    OS package manager owns). `path` is relative to the image root, without a leading `/`."""

    path: str
    packages: tuple[Package, ...] = ()
    owned_files: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "packages": [p.to_json() for p in self.packages],
                "owned_files": list(self.owned_files)}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> SourceResult:
        return cls(path=str(value["path"]),
                   packages=tuple(Package.from_json(p) for p in value.get("packages", [])),
                   owned_files=tuple(str(f) for f in value.get("owned_files", [])))


@dataclass(frozen=True, slots=True)
class LayerAnalysis:
    """Everything one layer says about the image, before merging with the other layers.

    - `sources`: one entry per parsed file, keyed by path (an upper layer's entry for the same
      path replaces this one wholesale when merging).
    - `os_files`: parsed OS identification files (`etc/os-release` …) by path.
    - `whiteouts`: paths this layer deletes from lower layers (`dir/.wh.name` → `dir/name`).
    - `opaque_dirs`: directories whose lower-layer content this layer hides (`.wh..wh..opq`).
    - `notes`: files skipped and why; never needed for correctness.
    """

    digest: str
    analyzer_version: int = ANALYZER_VERSION
    sources: tuple[SourceResult, ...] = ()
    os_files: dict[str, dict[str, str]] = field(default_factory=dict, hash=False)
    whiteouts: tuple[str, ...] = ()
    opaque_dirs: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"digest": self.digest, "analyzer_version": self.analyzer_version,
                "sources": [s.to_json() for s in self.sources],
                "os_files": {path: dict(fields) for path, fields in self.os_files.items()},
                "whiteouts": list(self.whiteouts), "opaque_dirs": list(self.opaque_dirs),
                "notes": list(self.notes)}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> LayerAnalysis:
        os_files = {str(path): {str(k): str(v) for k, v in fields.items()}
                    for path, fields in value.get("os_files", {}).items()}
        return cls(digest=str(value["digest"]), analyzer_version=int(value["analyzer_version"]),
                   sources=tuple(SourceResult.from_json(s) for s in value.get("sources", [])),
                   os_files=os_files,
                   whiteouts=tuple(str(p) for p in value.get("whiteouts", [])),
                   opaque_dirs=tuple(str(p) for p in value.get("opaque_dirs", [])),
                   notes=tuple(str(n) for n in value.get("notes", [])))
