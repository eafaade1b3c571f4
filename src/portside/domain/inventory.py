"""What a scan finds in an image, and what matching advisories report: the shared vocabulary
between layer analysis (`portside.analysis`), the vulnerability database and the scan service.

All values are JSON-friendly (`to_json`/`from_json`) because layer analyses are cached in the
database and reports are stored as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Package types, as in purl: deb, apk, rpm (OS packages) and pypi, npm, golang, maven (languages).
OS_PACKAGE_TYPES = frozenset({"deb", "apk", "rpm"})
LANGUAGE_PACKAGE_TYPES = frozenset({"pypi", "npm", "golang", "maven"})


@dataclass(frozen=True, slots=True)
class OSInfo:
    """The distribution of an image, from etc/os-release (ID, VERSION_ID) and friends."""

    id: str  # debian, ubuntu, alpine, rhel, rocky, almalinux, centos, fedora, ...
    version_id: str  # "12", "22.04", "3.19.1"
    pretty_name: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> OSInfo:
        return cls(str(value["id"]), str(value["version_id"]), str(value.get("pretty_name", "")))


@dataclass(frozen=True, slots=True)
class Package:
    """One installed package.

    For OS packages `source_name`/`source_version` are what advisories are keyed on
    (Debian source package, Alpine origin, RPM source rpm); for language packages they
    equal name/version. `path` is the file the package was read from, `layer` the digest
    of the layer that provided it.
    """

    type: str
    name: str
    version: str
    source_name: str = ""
    source_version: str = ""
    path: str = ""
    layer: str = ""
    purl: str = ""
    licenses: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        value = asdict(self)
        value["licenses"] = list(self.licenses)
        return value

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Package:
        return cls(type=str(value["type"]), name=str(value["name"]), version=str(value["version"]),
                   source_name=str(value.get("source_name", "")), source_version=str(value.get("source_version", "")),
                   path=str(value.get("path", "")), layer=str(value.get("layer", "")), purl=str(value.get("purl", "")),
                   licenses=tuple(value.get("licenses", ())))


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything installed in one image (one platform), after merging its layers in order."""

    os: OSInfo | None
    packages: tuple[Package, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"os": self.os.to_json() if self.os else None, "packages": [p.to_json() for p in self.packages]}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Inventory:
        os_value = value.get("os")
        return cls(OSInfo.from_json(os_value) if os_value else None,
                   tuple(Package.from_json(p) for p in value.get("packages", [])))


@dataclass(frozen=True, slots=True)
class Finding:
    """One vulnerability affecting one package, in Harbor's report vocabulary."""

    id: str  # the CVE id when the advisory has one, else the advisory id
    advisory_id: str
    aliases: tuple[str, ...]
    package: str
    version: str
    fix_version: str  # "" when unfixed
    severity: str  # Critical | High | Medium | Low | Negligible | Unknown
    description: str = ""
    links: tuple[str, ...] = ()
    cvss_vector: str | None = None
    cvss_score: float | None = None
    cwe_ids: tuple[str, ...] = field(default_factory=tuple)
    package_type: str = ""
    layer: str = ""
    purl: str = ""
