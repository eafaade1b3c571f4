"""rpm: `rpmdb.sqlite` (Fedora ≥ 33, RHEL/Rocky/Alma ≥ 9, CBL-Mariner, …).

The database is read from memory (`sqlite3` deserialize, nothing written to disk): every row of
`Packages.blob` is one RPM header without its lead —

    il: int32 BE (index entries), dl: int32 BE (data bytes),
    il × (tag, type, offset, count) as four int32 BE, then dl bytes of data.

Tags used: NAME 1000, VERSION 1001, RELEASE 1002, EPOCH 1003, VENDOR 1011, LICENSE 1014,
ARCH 1022, SOURCERPM 1044 (`name-version-release.src.rpm`), DIRINDEXES 1116, BASENAMES 1117,
DIRNAMES 1118 (owned files). Berkeley DB `Packages` and NDB `Packages.db` are not read
(`unsupported_database`).
"""

from __future__ import annotations

import sqlite3
import struct
from dataclasses import dataclass

from portside.analysis.model import Notes, SourceResult
from portside.analysis.purls import os_package_purl
from portside.domain.inventory import Package

NAME, VERSION, RELEASE, EPOCH, VENDOR, LICENSE, ARCH, SOURCERPM = 1000, 1001, 1002, 1003, 1011, 1014, 1022, 1044
DIRINDEXES, BASENAMES, DIRNAMES = 1116, 1117, 1118
_INT32, _STRING, _STRING_ARRAY, _I18NSTRING = 4, 6, 8, 9
_WANTED = frozenset({NAME, VERSION, RELEASE, EPOCH, VENDOR, LICENSE, ARCH, SOURCERPM, DIRINDEXES, BASENAMES, DIRNAMES})
#: A header with more index entries than this is not a package (real ones have ~100).
MAX_INDEX_ENTRIES = 100_000
#: Strings in one array tag; the largest real packages own some tens of thousands of files.
MAX_ARRAY_ENTRIES = 1_000_000
#: rpm's own signature pseudo-packages: not software.
_PSEUDO_PACKAGES = frozenset({"gpg-pubkey"})

Value = str | list[str] | list[int]


class MalformedHeader(ValueError):
    """An RPM header blob whose index or data does not hold together."""


@dataclass(frozen=True, slots=True)
class _Entry:
    tag: int
    type: int
    offset: int
    count: int


def _strings(data: bytes, offset: int, count: int) -> list[str]:
    values: list[str] = []
    for _ in range(count):
        end = data.find(b"\0", offset)
        if end < 0:
            raise MalformedHeader("unterminated string")
        values.append(data[offset:end].decode("utf-8", "replace"))
        offset = end + 1
    return values


def _value(entry: _Entry, data: bytes) -> Value:
    if entry.type in (_STRING, _I18NSTRING, _STRING_ARRAY):
        return _strings(data, entry.offset, 1 if entry.type == _STRING else entry.count)
    if entry.type == _INT32:
        end = entry.offset + 4 * entry.count
        if end > len(data):
            raise MalformedHeader("integer array beyond the data")
        return list(struct.unpack(f">{entry.count}i", data[entry.offset:end]))
    raise MalformedHeader(f"tag {entry.tag} has unexpected type {entry.type}")


def parse_header(blob: bytes) -> dict[int, Value]:
    """The wanted tags of one header blob; raises MalformedHeader when it is inconsistent."""
    if len(blob) < 8:
        raise MalformedHeader("shorter than the header preamble")
    index_count, data_length = struct.unpack(">ii", blob[:8])
    data_start = 8 + 16 * index_count
    if not 0 < index_count <= MAX_INDEX_ENTRIES or data_length < 0 or data_start + data_length > len(blob):
        raise MalformedHeader("index or data length out of bounds")
    data = blob[data_start:data_start + data_length]
    values: dict[int, Value] = {}
    for tag, kind, offset, count in struct.iter_unpack(">iiii", blob[8:data_start]):
        if tag not in _WANTED:
            continue
        if not (0 <= offset < data_length and 0 < count <= min(data_length, MAX_ARRAY_ENTRIES)):
            raise MalformedHeader(f"tag {tag} points outside the data")
        values[tag] = _value(_Entry(tag, kind, offset, count), data)
    return values


def _text(values: dict[int, Value], tag: int) -> str:
    value = values.get(tag)
    return str(value[0]) if value else ""


def _source_rpm(source_rpm: str) -> tuple[str, str]:
    """`openssl-3.0.7-27.el9.src.rpm` → (`openssl`, `3.0.7-27.el9`); ("", "") if unparsable."""
    stem = source_rpm.removesuffix(".rpm").rsplit(".", 1)[0] if source_rpm.endswith(".rpm") else ""
    parts = stem.rsplit("-", 2)
    return (parts[0], f"{parts[1]}-{parts[2]}") if len(parts) == 3 and all(parts) else ("", "")


def _owned_files(values: dict[int, Value]) -> list[str]:
    directories, basenames, indexes = values.get(DIRNAMES, []), values.get(BASENAMES, []), values.get(DIRINDEXES, [])
    if len(basenames) != len(indexes):
        raise MalformedHeader("file name and directory index counts differ")
    files: list[str] = []
    for basename, index in zip(basenames, indexes, strict=True):
        if not isinstance(index, int) or not 0 <= index < len(directories):
            raise MalformedHeader("directory index out of range")
        files.append(f"{directories[index]}{basename}".lstrip("/"))
    return files


def _package(values: dict[int, Value], path: str, layer: str) -> Package:
    name, version, release = _text(values, NAME), _text(values, VERSION), _text(values, RELEASE)
    if not name or not version:
        raise MalformedHeader("no name or version")
    epochs = values.get(EPOCH)
    epoch = str(epochs[0]) if epochs and epochs[0] != 0 else ""
    bare = f"{version}-{release}" if release else version
    full = f"{epoch}:{bare}" if epoch else bare
    source_name, source_bare = _source_rpm(_text(values, SOURCERPM))
    source_version = (f"{epoch}:{source_bare}" if epoch else source_bare) if source_bare else full
    licence = _text(values, LICENSE)
    return Package(type="rpm", name=name, version=full, source_name=source_name or name,
                   source_version=source_version, path=path, layer=layer,
                   purl=os_package_purl("rpm", name, bare, arch=_text(values, ARCH), epoch=epoch),
                   licenses=(licence,) if licence else ())


_SQLITE_WAL_VERSIONS = b"\x02\x02"
_SQLITE_LEGACY_VERSIONS = b"\x01\x01"


def _blobs(data: bytes) -> list[bytes]:
    # A WAL-mode file (header bytes 18-19 = 2) cannot be opened from memory; its content is
    # the same in rollback-journal mode, so flip the two version bytes.
    if data[18:20] == _SQLITE_WAL_VERSIONS:
        data = data[:18] + _SQLITE_LEGACY_VERSIONS + data[20:]
    connection = sqlite3.connect(":memory:")
    try:
        connection.deserialize(data)
        rows = connection.execute("SELECT blob FROM Packages").fetchall()
    finally:
        connection.close()
    return [bytes(row[0]) for row in rows if isinstance(row[0], bytes | memoryview)]


def parse_sqlite(path: str, data: bytes, layer: str, notes: Notes) -> SourceResult:
    """Installed packages and their files from an rpmdb.sqlite image held in memory."""
    try:
        blobs = _blobs(data)
    except sqlite3.Error as error:
        notes.add(f"{path}: not a readable rpm sqlite database ({error}), skipped")
        return SourceResult(path)
    packages: list[Package] = []
    owned: list[str] = []
    for number, blob in enumerate(blobs, start=1):
        try:
            values = parse_header(blob)
            if _text(values, NAME) in _PSEUDO_PACKAGES:
                continue
            package = _package(values, path, layer)
            files = _owned_files(values)
        except (MalformedHeader, struct.error) as error:
            notes.add(f"{path}: header {number} is malformed ({error}), skipped")
            continue
        packages.append(package)
        owned.extend(files)
    return SourceResult(path, packages=tuple(packages), owned_files=tuple(owned))


def unsupported_database(path: str, notes: Notes) -> SourceResult:
    """Berkeley DB / NDB rpm databases are recognised but not read (yet)."""
    notes.add(f"{path}: Berkeley DB / NDB rpm databases are not supported, skipped")
    return SourceResult(path)
