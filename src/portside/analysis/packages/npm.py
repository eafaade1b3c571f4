"""npm: the `package.json` at the root of each installed package (see
`selection.is_npm_package_root` for which ones count).

Only the package's own identity is read (`name`, `version`, `license`); dependency ranges say
nothing about what is installed — the installed dependencies have package.json files of
their own.
"""

from __future__ import annotations

import json
from typing import Any

from portside.analysis.model import Notes, SourceResult
from portside.analysis.purls import language_purl
from portside.domain.inventory import Package


def _licence(document: dict[str, Any]) -> str:
    licence = document.get("license")
    if isinstance(licence, dict):  # the deprecated {"type": "MIT", "url": …} form
        licence = licence.get("type")
    if isinstance(licence, str):
        return licence.strip()
    licences = document.get("licenses")  # older still: a list of such objects
    if isinstance(licences, list):
        names = [item.get("type") if isinstance(item, dict) else item for item in licences]
        return " OR ".join(name for name in names if isinstance(name, str) and name)
    return ""


def parse_package_json(path: str, data: bytes, layer: str, notes: Notes) -> SourceResult:
    """The package a package.json describes; none if it is not JSON or lacks name/version."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        notes.add(f"{path}: not valid JSON, skipped")
        return SourceResult(path)
    if not isinstance(document, dict):
        notes.add(f"{path}: not a JSON object, skipped")
        return SourceResult(path)
    name, version = document.get("name"), document.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        # Workspace roots and private apps often have no version: nothing to match.
        return SourceResult(path)
    licence = _licence(document)
    package = Package(type="npm", name=name, version=version, source_name=name, source_version=version,
                      path=path, layer=layer, purl=language_purl("npm", name, version),
                      licenses=(licence,) if licence else ())
    return SourceResult(path, packages=(package,))
