"""Analyse one image layer: stream its tar once, parse the files that name packages.

Contract of `analyze_layer`:
- the blob is read front to back exactly once through the caller's file object; nothing is
  written to disk and no path from the archive is ever opened — traversal entries
  (`../../etc/passwd`) are ignored, absolute ones are read relative to the image root;
- only regular files are read, each bounded by a `Limits` field (symlinks and hard links are
  never followed, so loops cannot occur);
- the whole stream is bounded by `Limits.max_total_bytes` and `Limits.max_members`; past
  them, or on a truncated/corrupt blob, `LayerRejected` is raised;
- a malformed package record or file is skipped with a note, never raised.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Callable

import zstandard

from portside.analysis import osrelease
from portside.analysis.decompress import BinaryReader, open_uncompressed
from portside.analysis.model import DEFAULT_LIMITS, LayerAnalysis, LayerRejected, Limits, Notes, SourceResult
from portside.analysis.packages import apk, dpkg, gobinary, java, npm, python, rpm
from portside.analysis.selection import FileKind, classify, normalise_member_path, whiteout_target
from portside.analysis.tar_stream import iterate_members


class _Collector:
    """Accumulates what one layer's members contribute, in member order (later wins)."""

    def __init__(self, digest: str, limits: Limits) -> None:
        self.digest = digest
        self.limits = limits
        self.notes = Notes(limits.max_notes)
        self.sources: dict[str, SourceResult] = {}
        self.os_files: dict[str, dict[str, str]] = {}
        self.whiteouts: list[str] = []
        self.opaque_dirs: list[str] = []

    def result(self) -> LayerAnalysis:
        return LayerAnalysis(digest=self.digest, sources=tuple(self.sources.values()), os_files=self.os_files,
                             whiteouts=tuple(self.whiteouts), opaque_dirs=tuple(self.opaque_dirs),
                             notes=self.notes.as_tuple())


def _bound_for(kind: FileKind, limits: Limits) -> int:
    if kind in (FileKind.DPKG_STATUS, FileKind.DPKG_FILE_LIST, FileKind.APK_INSTALLED, FileKind.RPM_SQLITE):
        return limits.max_database_bytes
    if kind is FileKind.JAVA_ARCHIVE:
        return limits.max_archive_bytes
    return limits.max_metadata_bytes


def _read_whole(archive: tarfile.TarFile, member: tarfile.TarInfo, path: str, limit: int,
                notes: Notes) -> bytes | None:
    if member.size > limit:
        notes.add(f"{path}: {member.size} bytes, over the {limit}-byte limit, skipped")
        return None
    reader = archive.extractfile(member)
    # Ask for the member's own size, never `limit`: a read(n) allocates n bytes up front.
    return reader.read(member.size) if reader is not None else None


def _parse(kind: FileKind, path: str, data: bytes, collector: _Collector) -> SourceResult:
    layer, notes = collector.digest, collector.notes
    if kind is FileKind.DPKG_STATUS:
        return dpkg.parse_status(path, data, layer, notes)
    if kind is FileKind.DPKG_FILE_LIST:
        return dpkg.parse_file_list(path, data)
    if kind is FileKind.APK_INSTALLED:
        return apk.parse_installed(path, data, layer, notes)
    if kind is FileKind.RPM_SQLITE:
        return rpm.parse_sqlite(path, data, layer, notes)
    if kind is FileKind.PYTHON_METADATA:
        return python.parse_metadata(path, data, layer, notes)
    if kind is FileKind.NPM_PACKAGE:
        return npm.parse_package_json(path, data, layer, notes)
    return java.parse_archive(path, data, layer, collector.limits, notes)


def _parse_safely(kind: FileKind, path: str, data: bytes, collector: _Collector) -> SourceResult:
    """`_parse`, but a parser failing on hostile bytes costs only this file, never the layer.

    Parsers handle the malformations they know; this catches the ones nobody foresaw (the
    input is arbitrary bytes from an arbitrary image). Only in-memory bytes are parsed here,
    so stream errors and limits cannot be swallowed."""
    try:
        return _parse(kind, path, data, collector)
    except Exception as error:
        collector.notes.add(f"{path}: could not be parsed ({type(error).__name__}: {error}), skipped")
        return SourceResult(path)


def _executable(archive: tarfile.TarFile, member: tarfile.TarInfo, path: str,
                collector: _Collector) -> SourceResult | None:
    reader = archive.extractfile(member)
    if reader is None:
        return None
    read: Callable[[int], bytes] = reader.read
    return gobinary.parse_executable(path, read, collector.limits.max_executable_scan_bytes, collector.digest,
                                     collector.notes)


def _visit(archive: tarfile.TarFile, member: tarfile.TarInfo, collector: _Collector) -> None:
    path = normalise_member_path(member.name)
    if path is None:
        collector.notes.add(f"{member.name!r}: outside the image root, ignored")
        return
    hidden = whiteout_target(path)
    if hidden is not None:
        (collector.opaque_dirs if hidden[1] else collector.whiteouts).append(hidden[0])
        return
    if not member.isreg():
        return  # directories, links, devices: no content to parse
    kind = classify(path, member.mode)
    if kind is None:
        return
    if kind is FileKind.RPM_UNSUPPORTED:
        collector.sources[path] = rpm.unsupported_database(path, collector.notes)
        return
    if kind is FileKind.OS_RELEASE:
        data = _read_whole(archive, member, path, collector.limits.max_metadata_bytes, collector.notes)
        collector.os_files[path] = osrelease.parse_os_file(path, data) if data is not None else {}
        return
    if kind is FileKind.EXECUTABLE:
        # Only Go binaries are recorded: an empty result for every executable would bloat
        # the cached analysis (the rare non-Go file replacing a Go binary keeps the old result).
        result = _executable(archive, member, path, collector)
    else:
        data = _read_whole(archive, member, path, _bound_for(kind, collector.limits), collector.notes)
        # A file that cannot be read still replaces what lower layers had at its path.
        result = _parse_safely(kind, path, data, collector) if data is not None else SourceResult(path)
    if result is not None:
        collector.sources[path] = result


def analyze_layer(fileobj: BinaryReader, *, digest: str, limits: Limits = DEFAULT_LIMITS) -> LayerAnalysis:
    """The packages, OS files, whiteouts and opaque directories of the layer blob `fileobj`
    (gzip, zstd or plain tar, recognised by magic bytes). `digest` names the layer on each
    package found (`Package.layer`). Raises `LayerRejected` (see the module contract)."""
    collector = _Collector(digest, limits)
    stream = open_uncompressed(fileobj, limits.max_total_bytes)
    try:
        for archive, member in iterate_members(stream, limits.max_members):
            _visit(archive, member, collector)
    except EOFError:
        raise LayerRejected("truncated") from None
    except tarfile.ReadError as error:
        raise LayerRejected("truncated" if "unexpected end" in str(error) else f"unreadable tar: {error}") from None
    except (OSError, zlib.error, zstandard.ZstdError) as error:
        raise LayerRejected(f"corrupt compressed data: {error}") from None
    return collector.result()
