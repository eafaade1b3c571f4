"""OSV advisories: parse one record, decide whether a version is affected, name the fix.

Semantics (OSV schema 1.7, ossf/osv-schema):

- A package version is affected if it is listed in `versions` exactly, or falls in any
  `ECOSYSTEM`/`SEMVER` range. `GIT` ranges (commit hashes) cannot be evaluated offline and
  are skipped; their advisories carry `versions` lists instead.
- A range's events are walked **sorted by version** (`introduced: "0"` first): publishers
  do not always sort them (PYSEC-2023-192 lists `2.0.0, 2.0.6, 0, 1.26.17`). `introduced ≤ v`
  makes v affected, `fixed ≤ v` unaffected, `last_affected < v` unaffected (so
  `last_affected` is inclusive); a `limit` caps the range (v must be below one).
- The fix version for a package is the smallest `fixed` above the installed version.
- `aliases` list CVE ids first; records that only name their CVE in `upstream`
  (Debian, Alpine) use `upstream` as aliases. The id shown to users is the CVE.
- Severity: the base score of a CVSS v3 vector, else the advisory's own label (GHSA
  `database_specific.severity`, Debian `urgency`, an `Ubuntu` severity), else Unknown.
  CVSS v4 vectors are not scored here; they defer to the label.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from portside.domain import versions
from portside.domain.ecosystems import normalise_package_name

#: `modified` of records that carry none (golang/vulndb's files, derived records).
UNDATED = datetime(1, 1, 1, tzinfo=UTC)
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
_EVALUATED_RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER"})


class MalformedAdvisory(ValueError):
    """The record is not a usable OSV advisory (the message says why)."""


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # one of EVENT_KINDS
    version: str


@dataclass(frozen=True, slots=True)
class VersionRange:
    type: str  # ECOSYSTEM | SEMVER | GIT
    events: tuple[Event, ...]
    repo: str = ""


@dataclass(frozen=True, slots=True)
class Affected:
    """The affected versions of one package; `package` is the normalised name."""

    ecosystem: str
    package: str
    ranges: tuple[VersionRange, ...] = ()
    versions: tuple[str, ...] = ()
    severity: str | None = None  # a label for this package only (Debian urgency, a package vector)


@dataclass(frozen=True, slots=True)
class Advisory:
    id: str
    modified: datetime
    aliases: tuple[str, ...] = ()  # CVE ids first; never contains `id`
    summary: str = ""
    details: str = ""
    severity: str = "Unknown"  # Critical | High | Medium | Low | Negligible | Unknown
    cvss_vector: str | None = None  # CVSS v3 vector the severity was computed from
    cvss_score: float | None = None
    references: tuple[str, ...] = ()
    cwe_ids: tuple[str, ...] = ()
    published: datetime | None = None
    withdrawn: datetime | None = None
    affected: tuple[Affected, ...] = ()

    @property
    def display_id(self) -> str:
        """The id to report: the advisory's CVE when it has one, else its own id."""
        if self.id.startswith("CVE-"):
            return self.id
        return next((alias for alias in self.aliases if alias.startswith("CVE-")), self.id)


# --- CVSS v3 base score (CVSS v3.1 specification, section 7) -----------------------------------

_CVSS3_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_PRIVILEGES = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}  # by scope


def _round_up(value: float) -> float:
    """Round up to one decimal, exactly as the spec's Roundup (immune to float noise)."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000
    return (math.floor(scaled / 10_000) + 1) / 10


@lru_cache(maxsize=4096)  # a few hundred distinct vectors cover most advisories
def cvss3_base_score(vector: str) -> float:
    """The base score of a `CVSS:3.0/…` or `CVSS:3.1/…` vector; ValueError if it is not one."""
    prefix, _, body = vector.partition("/")
    if prefix not in ("CVSS:3.0", "CVSS:3.1"):
        raise ValueError(f"not a CVSS v3 vector: {vector!r}")
    metrics = dict(part.partition(":")[::2] for part in body.split("/"))
    try:
        scope = metrics["S"]
        weights = {name: table[metrics[name]] for name, table in _CVSS3_WEIGHTS.items()}
        privileges = _PRIVILEGES[scope][metrics["PR"]]
    except KeyError as missing:
        raise ValueError(f"incomplete CVSS v3 vector {vector!r}: {missing}") from None
    impact_subscore = 1 - (1 - weights["C"]) * (1 - weights["I"]) * (1 - weights["A"])
    if scope == "U":
        impact = 6.42 * impact_subscore
    else:
        impact = 7.52 * (impact_subscore - 0.029) - 3.25 * (impact_subscore - 0.02) ** 15
    exploitability = 8.22 * weights["AV"] * weights["AC"] * privileges * weights["UI"]
    if impact <= 0:
        return 0.0
    total = impact + exploitability if scope == "U" else 1.08 * (impact + exploitability)
    return _round_up(min(total, 10.0))


def severity_from_score(score: float) -> str:
    """CVSS qualitative rating; a 0.0 score (no impact) is Negligible."""
    if score >= 9.0:
        return "Critical"
    if score >= 7.0:
        return "High"
    if score >= 4.0:
        return "Medium"
    return "Low" if score > 0 else "Negligible"


_LABELS = {
    "critical": "Critical", "high": "High", "important": "High", "moderate": "Medium", "medium": "Medium",
    "low": "Low", "negligible": "Negligible", "unimportant": "Negligible",
}


def severity_label(label: object) -> str | None:
    """Harbor's label for an advisory's own severity word (GHSA MODERATE -> Medium, Debian
    urgency `unimportant` -> Negligible, `low*` -> Low); None for `not yet assigned` or unknown words."""
    if not isinstance(label, str):
        return None
    return _LABELS.get(label.strip().rstrip("*").strip().lower())


# --- parsing -----------------------------------------------------------------------------------


def _text(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key, "")
    if not isinstance(value, str):
        raise MalformedAdvisory(f"{key} must be a string")
    return value


def _strings(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedAdvisory(f"{what} must be a list of strings")
    return tuple(value)


def _timestamp(value: object, what: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedAdvisory(f"{what} must be an RFC 3339 timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedAdvisory(f"{what} is not an RFC 3339 timestamp: {value!r}") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedAdvisory(f"{what} must be an object")
    return value


def _first_cvss3(severities: object) -> tuple[str, float] | None:
    """The first scorable CVSS v3 vector of a `severity` list, with its base score."""
    if not isinstance(severities, list):
        return None
    for entry in severities:
        if isinstance(entry, Mapping) and entry.get("type") == "CVSS_V3" and isinstance(entry.get("score"), str):
            try:
                return entry["score"], cvss3_base_score(entry["score"])
            except ValueError:
                continue  # an unparseable vector: fall back to the next one, then to the label
    return None


def _own_label(severities: object) -> str | None:
    """A label from an `Ubuntu`-type severity entry (its score is a word)."""
    if isinstance(severities, list):
        for entry in severities:
            if isinstance(entry, Mapping) and entry.get("type") == "Ubuntu":
                return severity_label(entry.get("score"))
    return None


def _event(value: object) -> Event:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise MalformedAdvisory("each range event must have exactly one of " + ", ".join(EVENT_KINDS))
    ((kind, version),) = value.items()
    if kind not in EVENT_KINDS or not isinstance(version, str) or not version:
        raise MalformedAdvisory(f"bad range event {dict(value)!r}")
    return Event(kind, version)


def _range(value: object) -> VersionRange:
    entry = _mapping(value, "a range")
    events = entry.get("events")
    if not isinstance(entry.get("type"), str) or not isinstance(events, list):
        raise MalformedAdvisory("a range needs a type and a list of events")
    return VersionRange(entry["type"], tuple(_event(event) for event in events), str(entry.get("repo", "")))


def _affected(value: object) -> Affected:
    entry = _mapping(value, "an affected entry")
    package = _mapping(entry.get("package"), "affected[].package")
    ecosystem, name = package.get("ecosystem"), package.get("name")
    if not isinstance(ecosystem, str) or not isinstance(name, str) or not ecosystem or not name:
        raise MalformedAdvisory("affected[].package needs an ecosystem and a name")
    ranges = entry.get("ranges") or []
    if not isinstance(ranges, list):
        raise MalformedAdvisory("affected[].ranges must be a list")
    scored = _first_cvss3(entry.get("severity"))
    ecosystem_specific = _mapping(entry.get("ecosystem_specific"), "ecosystem_specific")
    database_specific = _mapping(entry.get("database_specific"), "database_specific")
    severity = (severity_from_score(scored[1]) if scored else None) or severity_label(
        ecosystem_specific.get("urgency") or database_specific.get("urgency")) or _own_label(entry.get("severity"))
    return Affected(ecosystem=ecosystem, package=normalise_package_name(ecosystem, name),
                    ranges=tuple(_range(item) for item in ranges),
                    versions=_strings(entry.get("versions"), "affected[].versions"), severity=severity)


def _aliases(record: Mapping[str, Any], own_id: str) -> tuple[str, ...]:
    names = _strings(record.get("aliases"), "aliases") or _strings(record.get("upstream"), "upstream")
    ordered = [name for name in names if name.startswith("CVE-")] + [n for n in names if not n.startswith("CVE-")]
    return tuple(dict.fromkeys(name for name in ordered if name != own_id))


def _references(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    urls = (entry.get("url") for entry in value if isinstance(entry, Mapping))
    return tuple(dict.fromkeys(url for url in urls if isinstance(url, str) and url))


def parse_advisory(record: object) -> Advisory:
    """An Advisory from one decoded OSV JSON record; MalformedAdvisory if it cannot be one.

    A missing `modified` (required by the schema, absent from some derived records) reads as
    UNDATED. PyPI names are PEP 503-normalised.
    """
    data = _mapping(record, "an OSV record")
    advisory_id = data.get("id")
    if not isinstance(advisory_id, str) or not advisory_id:
        raise MalformedAdvisory("the record has no id")
    affected = data.get("affected") or []
    if not isinstance(affected, list):
        raise MalformedAdvisory("affected must be a list")
    database_specific = _mapping(data.get("database_specific"), "database_specific")
    scored = _first_cvss3(data.get("severity"))
    label = severity_label(database_specific.get("severity")) or _own_label(data.get("severity"))
    return Advisory(
        id=advisory_id,
        modified=_timestamp(data.get("modified"), "modified") or UNDATED,
        aliases=_aliases(data, advisory_id),
        summary=_text(data, "summary"),
        details=_text(data, "details"),
        severity=severity_from_score(scored[1]) if scored else label or "Unknown",
        cvss_vector=scored[0] if scored else None,
        cvss_score=scored[1] if scored else None,
        references=_references(data.get("references")),
        cwe_ids=_strings(database_specific.get("cwe_ids"), "database_specific.cwe_ids"),
        published=_timestamp(data.get("published"), "published"),
        withdrawn=_timestamp(data.get("withdrawn"), "withdrawn"),
        affected=tuple(_affected(item) for item in affected),
    )


# --- matching ----------------------------------------------------------------------------------


def range_ecosystem(ecosystem: str, range_type: str) -> str:
    """The ordering a range is evaluated in: its ecosystem's, except that a SEMVER range
    outside Go (whose ordering is SemVer plus toolchain names) uses plain SemVer."""
    if range_type == "SEMVER":
        try:
            if versions.scheme(ecosystem) == "golang":
                return ecosystem
        except ValueError:
            pass  # an ecosystem we cannot order may still publish SemVer ranges (crates.io)
        return versions.SEMVER
    return ecosystem


def _sorted_events(ordering: str, events: Iterable[Event]) -> list[Event]:
    """Events by version, `introduced: "0"` first; on a tie `introduced` comes first, so
    `introduced X, fixed X` leaves X unaffected. Limits are not part of the walk."""
    origin = [event for event in events if event.kind == "introduced" and event.version == "0"]
    rest = [event for event in events if event not in origin and event.kind != "limit"]
    rest.sort(key=lambda event: (versions.sort_key(ordering, event.version), event.kind != "introduced"))
    return origin + rest


def _in_range(ecosystem: str, version_range: VersionRange, version: str) -> bool:
    ordering = range_ecosystem(ecosystem, version_range.type)
    installed = versions.sort_key(ordering, version)
    limits = [event.version for event in version_range.events if event.kind == "limit" and event.version != "*"]
    if limits and not any(installed < versions.sort_key(ordering, limit) for limit in limits):
        return False
    affected = False
    for event in _sorted_events(ordering, version_range.events):
        at_or_below = event.version == "0" or not installed < versions.sort_key(ordering, event.version)
        if event.kind == "introduced" and at_or_below:
            affected = True
        elif event.kind == "fixed" and at_or_below:
            affected = False
        elif event.kind == "last_affected" and installed > versions.sort_key(ordering, event.version):
            affected = False
    return affected


def is_affected(affected: Affected, version: str) -> bool:
    """Whether `version` of the package is affected: listed in `versions`, or inside an
    ECOSYSTEM/SEMVER range. Raises ValueError when a range must be evaluated but the version
    or one of its boundaries cannot be ordered (or the ecosystem has no ordering)."""
    if version in affected.versions:
        return True
    return any(_in_range(affected.ecosystem, version_range, version) for version_range in affected.ranges
               if version_range.type in _EVALUATED_RANGE_TYPES)


def fix_version(affected: Iterable[Affected], version: str) -> str:
    """The smallest `fixed` version above `version` in any range of `affected` (entries of one
    package), "" when there is none. Raises ValueError like is_affected."""
    best: tuple[str, versions.SortKey, str] | None = None  # (ordering scheme, key, version)
    for entry in affected:
        for version_range in entry.ranges:
            if version_range.type not in _EVALUATED_RANGE_TYPES:
                continue
            ordering = range_ecosystem(entry.ecosystem, version_range.type)
            scheme, installed = versions.scheme(ordering), versions.sort_key(ordering, version)
            for event in version_range.events:
                if event.kind != "fixed":
                    continue
                key = versions.sort_key(ordering, event.version)
                if installed < key and (best is None or (best[0] == scheme and key < best[1])):
                    best = (scheme, key, event.version)
    return best[2] if best else ""
