"""Merge per-layer analyses into an image's inventory, the way Trivy's `ApplyLayers` does.

Layers are applied base first (manifest order). For each layer:
1. its opaque directories and whiteouts delete what *lower* layers contributed at or below
   those paths (entries of the same layer survive, per the OCI image spec);
2. its own results are set by path: an upper layer's file replaces the lower one's result
   wholesale (a new `var/lib/dpkg/status` is a complete database, not a delta).

Then: the OS comes from the surviving os-release files; language packages whose file an OS
package installed (dpkg lists, apk `R:` lines, rpm file lists) are dropped — the OS
advisories cover them, PyPI/npm ones would misfire on distribution-patched versions; each
package's `layer` becomes the first layer that provided it; OS package purls get their
distribution.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar

from portside.analysis.model import LayerAnalysis, SourceResult
from portside.analysis.osrelease import detect_os
from portside.analysis.purls import with_distribution
from portside.domain.inventory import OS_PACKAGE_TYPES, Inventory, Package

_Value = TypeVar("_Value")
_METADATA_DIR_SUFFIXES = (".dist-info", ".egg-info")


def _ancestors(path: str) -> list[str]:
    """`a/b/c` → [`a/b/c`, `a/b`, `a`, ``]: every path whose deletion removes `path`."""
    found = [path]
    while path:
        path = posixpath.dirname(path)
        found.append(path)
    return found


def _delete_hidden(entries: dict[str, _Value], hidden: set[str]) -> None:
    if not hidden:
        return
    for path in [p for p in entries if any(a in hidden for a in _ancestors(p))]:
        del entries[path]


def _origin_key(package: Package, source_path: str) -> tuple[str, ...]:
    # OS packages are the same package wherever the database sits; language packages are
    # identified by the file that declared them.
    if package.type in OS_PACKAGE_TYPES:
        return (package.type, package.name, package.version)
    return (source_path, package.type, package.name, package.version)


def _origins(analyses: Sequence[LayerAnalysis]) -> dict[tuple[str, ...], str]:
    """First layer digest in which each package appeared (Trivy's lookupOriginLayerForPkg)."""
    origins: dict[tuple[str, ...], str] = {}
    for analysis in analyses:
        for source in analysis.sources:
            for package in source.packages:
                origins.setdefault(_origin_key(package, source.path), analysis.digest)
    return origins


def _is_owned(source: SourceResult, package: Package, owned: set[str]) -> bool:
    """Whether an OS package installed the file (or metadata directory) a language package came from."""
    if source.path in owned or package.path in owned:
        return True
    directory = posixpath.dirname(source.path)
    return directory.endswith(_METADATA_DIR_SUFFIXES) and directory in owned


def apply_layers(analyses: Sequence[LayerAnalysis]) -> tuple[dict[str, SourceResult], dict[str, dict[str, str]]]:
    """The sources and OS files visible in the final filesystem, by path."""
    sources: dict[str, SourceResult] = {}
    os_files: dict[str, dict[str, str]] = {}
    for analysis in analyses:
        hidden = set(analysis.opaque_dirs) | set(analysis.whiteouts)
        _delete_hidden(sources, hidden)
        _delete_hidden(os_files, hidden)
        sources.update((source.path, source) for source in analysis.sources)
        os_files.update(analysis.os_files)
    return sources, os_files


def merge_layers(analyses: Sequence[LayerAnalysis]) -> Inventory:
    """The inventory of an image whose layers, base first, analysed to `analyses`."""
    sources, os_files = apply_layers(analyses)
    os = detect_os(os_files)
    owned = {file for source in sources.values() for file in source.owned_files}
    origins = _origins(analyses)
    packages: list[Package] = []
    for path in sorted(sources):
        source = sources[path]
        for package in source.packages:
            is_os_package = package.type in OS_PACKAGE_TYPES
            if not is_os_package and _is_owned(source, package, owned):
                continue
            packages.append(replace(package, layer=origins.get(_origin_key(package, path), package.layer),
                                    purl=with_distribution(package.purl, os) if is_os_package else package.purl))
    packages.sort(key=lambda p: (p.type, p.name, p.version, p.path))
    return Inventory(os=os, packages=tuple(packages))
