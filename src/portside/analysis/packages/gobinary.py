"""Go binaries: the build information the Go linker embeds (what `go version -m` prints).

Go ≥ 1.18 writes, 16-byte aligned in the data segment (ELF section `.go.buildinfo`), a 32-byte
header — the magic `\\xff Go buildinf:`, pointer size, flags (bit 1: strings inline) — followed
by two uvarint-length-prefixed strings: the Go version and the module info. The module info
may be framed by 16-byte sentinels and holds tab-separated lines:

    path  <main package path>
    mod   <module path>  <version>  <sum>
    dep   <module path>  <version>  <sum>
    =>    <module path>  <version>  <sum>     (replaces the dep line before it)
    build <key>=<value>

The file is scanned as a stream for the magic (no section table needed, so the executable
never has to be held whole or read backwards). Older binaries (pointer format) are noted and
skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from portside.analysis.model import Notes, SourceResult
from portside.analysis.purls import language_purl
from portside.domain.inventory import Package
from portside.domain.versions import golang

MAGIC = b"\xff Go buildinf:"
HEADER_SIZE = 32
ELF_MAGIC = b"\x7fELF"
_INLINE_STRINGS = 0x2
#: Bytes after the magic kept to decode the strings; module info of very large programs is ~100 KiB.
MAX_BUILD_INFO_BYTES = 1024 * 1024
_CHUNK = 1024 * 1024
DEVEL = "(devel)"
#: `-X some/pkg.version=1.2.3` in `-ldflags`: how a (devel) main module often carries its version.
_LDFLAGS_VERSION = re.compile(r"-X[= ]?\s*['\"]?[\w./-]*\.[vV]ersion=([\w.+-]+)")
_LOCAL_PATH = ("./", "../", "/")


class UnsupportedBuildInfo(ValueError):
    """Build information in a layout this parser does not read (pre-1.18 pointer format)."""


@dataclass(frozen=True, slots=True)
class BuildInfo:
    go_version: str
    module_info: str


def _uvarint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    for index in range(offset, min(offset + 10, len(data))):
        byte = data[index]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, index + 1
        shift += 7
    raise ValueError("bad uvarint")


def decode_build_info(blob: bytes) -> BuildInfo:
    """Decode the header and strings at the start of `blob` (which begins with MAGIC).

    Raises UnsupportedBuildInfo for the pre-1.18 layout, ValueError when the bytes are not
    build information at all (e.g. the magic appearing by chance)."""
    if len(blob) < HEADER_SIZE or not blob.startswith(MAGIC) or blob[14] not in (4, 8):
        raise ValueError("not a build info header")
    if not blob[15] & _INLINE_STRINGS:
        raise UnsupportedBuildInfo("pre-Go 1.18 build info (pointer format)")
    length, offset = _uvarint(blob, HEADER_SIZE)
    version = blob[offset:offset + length]
    length, offset = _uvarint(blob, offset + len(version))
    module_info = blob[offset:offset + length]
    if len(module_info) != length or not version.startswith((b"go", b"devel")):
        raise ValueError("build info strings out of bounds")
    # Sentinels: 16 bytes before and after the text, recognisable by the newline they follow.
    if len(module_info) >= 33 and module_info[-17] == ord("\n"):
        module_info = module_info[16:-16]
    return BuildInfo(version.decode("utf-8", "replace"), module_info.decode("utf-8", "replace"))


def find_build_info(read: Callable[[int], bytes], limit: int) -> BuildInfo | None:
    """Scan at most `limit` bytes from `read` for decodable build information.

    Returns None for non-ELF files and ELF files without it. Memory stays below about
    2 × MAX_BUILD_INFO_BYTES + one chunk."""
    buffer = read(min(_CHUNK, limit))
    if not buffer.startswith(ELF_MAGIC):
        return None
    base, consumed, searched_to = 0, len(buffer), 0
    while True:
        position = buffer.find(MAGIC, searched_to)
        while position >= 0:
            if (base + position) % 16 == 0:
                while len(buffer) - position < MAX_BUILD_INFO_BYTES and consumed < limit:
                    more = read(min(_CHUNK, limit - consumed))
                    if not more:
                        break
                    buffer += more
                    consumed += len(more)
                try:
                    return decode_build_info(buffer[position:position + MAX_BUILD_INFO_BYTES])
                except UnsupportedBuildInfo:
                    raise
                except ValueError:
                    pass  # the magic string by chance (e.g. in debug/buildinfo's own rodata)
            position = buffer.find(MAGIC, position + 1)
        more = read(min(_CHUNK, limit - consumed)) if consumed < limit else b""
        if not more:
            return None
        keep = len(MAGIC) - 1  # a magic split across two chunks
        base += len(buffer) - keep
        buffer = buffer[-keep:] + more
        consumed += len(more)
        searched_to = 0


def _lines(module_info: str) -> list[list[str]]:
    return [line.split("\t") for line in module_info.splitlines() if line]


def _ldflags_version(lines: list[list[str]]) -> str | None:
    for fields in lines:
        if fields[0] == "build" and len(fields) > 1 and fields[1].startswith("-ldflags="):
            match = _LDFLAGS_VERSION.search(fields[1])
            if match:
                return "v" + match.group(1).removeprefix("v")
    return None


def _modules(lines: list[list[str]]) -> list[tuple[str, str]]:
    """(path, version) of the main module then each dependency, replacements applied."""
    modules: list[tuple[str, str]] = []
    for fields in lines:
        kind, values = fields[0], fields[1:]
        if kind == "mod" and values:
            version = values[1] if len(values) > 1 and values[1] else DEVEL
            if version == DEVEL:
                version = _ldflags_version(lines) or DEVEL
            modules.append((values[0], version))
        elif kind == "dep" and values:
            modules.append((values[0], values[1] if len(values) > 1 and values[1] else DEVEL))
        elif kind == "=>" and values and modules:
            original, _ = modules.pop()
            if values[0].startswith(_LOCAL_PATH):
                # A replacement by a local directory: the code is unversioned; keep the name
                # advisories know it by.
                modules.append((original, DEVEL))
            else:
                modules.append((values[0], values[1] if len(values) > 1 and values[1] else DEVEL))
    return modules


def stdlib_version(go_version: str) -> str | None:
    """`go1.21.3 X:boringcrypto` → `v1.21.3`, `go1.21rc2` → `v1.21.0-rc.2`; None for dev toolchains."""
    text = go_version.split(" ", 1)[0].split("-X:", 1)[0]
    if not re.fullmatch(r"go\d+(\.\d+)*((alpha|beta|rc)\d+)?", text):
        return None
    return "v" + golang.normalise(text)


def packages_of(info: BuildInfo, path: str, layer: str) -> tuple[Package, ...]:
    """The main module, dependencies and `stdlib` of one binary."""
    modules = _modules(_lines(info.module_info))
    stdlib = stdlib_version(info.go_version)
    if stdlib is not None:
        modules.append(("stdlib", stdlib))
    return tuple(Package(type="golang", name=name, version=version, source_name=name, source_version=version,
                         path=path, layer=layer, purl=language_purl("golang", name, version))
                 for name, version in modules)


def parse_executable(path: str, read: Callable[[int], bytes], limit: int, layer: str,
                     notes: Notes) -> SourceResult | None:
    """Go packages of the executable at `path`, or None when it is not a Go binary."""
    try:
        info = find_build_info(read, limit)
    except UnsupportedBuildInfo as error:
        notes.add(f"{path}: {error}, skipped")
        return None
    if info is None:
        return None
    return SourceResult(path, packages=packages_of(info, path, layer))
