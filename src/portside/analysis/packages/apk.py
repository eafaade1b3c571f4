"""apk: `lib/apk/db/installed` (Alpine, Wolfi).

Blank-line separated records of `X:value` lines: `P` name, `V` version, `o` origin (the source
package Alpine advisories are keyed on), `A` architecture, `L` licence, `F` a directory and
the `R` lines after it the files in it (owned files).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portside.analysis.model import Notes, SourceResult
from portside.analysis.purls import os_package_purl
from portside.domain.inventory import Package


@dataclass
class _Record:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    directory: str = ""
    malformed: bool = False

    def add(self, line: str) -> None:
        key, colon, value = line.partition(":")
        if not colon or len(key) != 1:
            self.malformed = True
        elif key == "F":
            self.directory = value.strip("/")
        elif key == "R":
            self.files.append(f"{self.directory}/{value}" if self.directory else value)
        else:
            self.fields.setdefault(key, value)


def _records(text: str) -> list[_Record]:
    records: list[_Record] = []
    current: _Record | None = None
    for line in text.splitlines():
        if not line.strip():
            current = None
            continue
        if current is None:
            current = _Record()
            records.append(current)
        current.add(line)
    return records


def _package(record: _Record, path: str, layer: str) -> Package:
    name, version = record.fields["P"], record.fields["V"]
    licence = record.fields.get("L", "")
    return Package(type="apk", name=name, version=version, source_name=record.fields.get("o") or name,
                   source_version=version, path=path, layer=layer,
                   purl=os_package_purl("apk", name, version, arch=record.fields.get("A", "")),
                   licenses=(licence,) if licence else ())


def parse_installed(path: str, data: bytes, layer: str, notes: Notes) -> SourceResult:
    """Installed packages and the files they own, from an apk installed database."""
    packages: list[Package] = []
    owned: list[str] = []
    for number, record in enumerate(_records(data.decode("utf-8", "replace")), start=1):
        if record.malformed or not record.fields.get("P") or not record.fields.get("V"):
            notes.add(f"{path}: record {number} is malformed, skipped")
            continue
        packages.append(_package(record, path, layer))
        owned.extend(record.files)
    return SourceResult(path, packages=tuple(packages), owned_files=tuple(owned))
