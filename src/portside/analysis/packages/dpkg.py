"""dpkg: `var/lib/dpkg/status`, distroless `var/lib/dpkg/status.d/<name>`, and the file lists
`var/lib/dpkg/info/<pkg>.{list,md5sums}` / `status.d/<name>.md5sums`.

The status database is RFC 822-style paragraphs separated by blank lines; a line starting with
whitespace continues the previous field. A paragraph whose `Status` says the package is not
installed (`deinstall`, `purge`, `not-installed`, `config-files`) is skipped; distroless
paragraphs carry no `Status` and count as installed. Advisories are keyed on the *source*
package: `Source: name (version)`, defaulting to the binary package's own name and version.
"""

from __future__ import annotations

import re

from portside.analysis.model import Notes, SourceResult
from portside.analysis.purls import os_package_purl
from portside.domain.inventory import Package

_NOT_INSTALLED = frozenset({"deinstall", "purge", "not-installed", "config-files"})
_SOURCE = re.compile(r"(?P<name>\S+)(?:\s+\((?P<version>[^)]*)\))?")
#: Paragraphs per status file: a full Ubuntu desktop has ~3 000; anything near this is hostile.
MAX_PARAGRAPHS = 200_000


def _paragraphs(text: str) -> list[list[str]]:
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def _fields(lines: list[str]) -> dict[str, str] | None:
    """The fields of one paragraph (continuations joined), or None if a line is not a field."""
    fields: dict[str, str] = {}
    last: str | None = None
    for line in lines:
        if line[0] in " \t":
            if last is None:
                return None
            fields[last] += "\n" + line.strip()
            continue
        key, colon, value = line.partition(":")
        if not colon or not key or " " in key:
            return None
        last = key.strip()
        fields[last] = value.strip()
    return fields


def _is_installed(fields: dict[str, str]) -> bool:
    status = fields.get("Status")
    return status is None or not _NOT_INSTALLED.intersection(status.split())


def _package(fields: dict[str, str], path: str, layer: str) -> Package:
    name, version = fields["Package"], fields["Version"]
    source_name, source_version = name, version
    source = _SOURCE.fullmatch(fields.get("Source", ""))
    if source is not None:
        source_name = source.group("name")
        source_version = source.group("version") or version
    # The epoch is everything before the first colon (upstream versions may contain colons).
    epoch, _, bare_version = version.partition(":") if ":" in version else ("", "", version)
    return Package(type="deb", name=name, version=version, source_name=source_name,
                   source_version=source_version, path=path, layer=layer,
                   purl=os_package_purl("deb", name, bare_version, arch=fields.get("Architecture", ""), epoch=epoch))


def parse_status(path: str, data: bytes, layer: str, notes: Notes) -> SourceResult:
    """Installed packages of a dpkg status file (or one distroless status.d entry)."""
    packages: list[Package] = []
    paragraphs = _paragraphs(data.decode("utf-8", "replace"))
    if len(paragraphs) > MAX_PARAGRAPHS:
        notes.add(f"{path}: more than {MAX_PARAGRAPHS} paragraphs, skipped")
        return SourceResult(path)
    for number, lines in enumerate(paragraphs, start=1):
        fields = _fields(lines)
        if fields is None or not fields.get("Package") or not fields.get("Version"):
            notes.add(f"{path}: paragraph {number} is malformed, skipped")
            continue
        if _is_installed(fields):
            packages.append(_package(fields, path, layer))
    return SourceResult(path, packages=tuple(packages))


def parse_file_list(path: str, data: bytes) -> SourceResult:
    """Files a package installed: `info/<pkg>.list` has one absolute path per line,
    `*.md5sums` has `<md5>  <relative path>`. Paths are returned without a leading `/`."""
    owned: list[str] = []
    md5sums = path.endswith(".md5sums")
    for line in data.decode("utf-8", "replace").splitlines():
        entry = line
        if md5sums:
            checksum_and_path = line.split(None, 1)
            if len(checksum_and_path) != 2:
                continue
            entry = checksum_and_path[1]
        entry = entry.strip().lstrip("/")
        if entry and entry != ".":
            owned.append(entry)
    return SourceResult(path, owned_files=tuple(owned))
