"""Severity pictures for the portal: a stacked CSS bar per set of counts (an artifact's findings,
a project's artifacts by highest severity, a project's findings), always with a text
alternative (`text`, the bar's aria-label) and the numbers for a table (templates/severity.html).

The project dashboard's data comes from `ScanService.project_severity_counts` (one query),
only for visitors the policy lets read scans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from portside.domain.models import Project
from portside.domain.vulnerability_report import SUMMARY_SEVERITIES
from portside.services.scanning import scan_service
from portside.services.severity_distribution import ARTIFACT_SEVERITIES, SeverityDistribution
from portside.web.ui.permissions import ProjectPermissions
from portside.web.ui.visitor import Visitor


@dataclass(frozen=True, slots=True)
class SeverityPart:
    """One severity's share of a bar; `css` names its colour class (`sev-high`)."""

    name: str
    count: int
    percent: float

    @property
    def css(self) -> str:
        return f"sev-{self.name.lower()}"

    @property
    def label(self) -> str:
        """The severity in words ("None" is an artifact scanned without findings)."""
        return "no vulnerabilities" if self.name == "None" else self.name


@dataclass(frozen=True, slots=True)
class SeverityChart:
    """Counts per severity (every severity listed, zeros too) and what they add up to."""

    parts: tuple[SeverityPart, ...]
    total: int
    noun: str = "vulnerabilities"

    @property
    def shown(self) -> tuple[SeverityPart, ...]:
        """The parts drawn in the bar (a zero-width part would only add noise)."""
        return tuple(part for part in self.parts if part.count)

    @property
    def text(self) -> str:
        """The bar as words: `9 vulnerabilities: 1 Critical, 1 High, 4 Medium, 3 Unknown`."""
        if not self.total:
            return f"no {self.noun}"
        return f"{self.total} {self.noun}: " + ", ".join(f"{part.count} {part.label}" for part in self.shown)


def severity_chart(counts: Mapping[str, Any], names: Sequence[str] = SUMMARY_SEVERITIES,
                   noun: str = "vulnerabilities") -> SeverityChart:
    """The chart of `counts` (severity -> number; anything not a positive int counts as 0)."""
    values = [(name, value if isinstance(value := counts.get(name, 0), int) and value > 0 else 0) for name in names]
    total = sum(count for _, count in values)
    return SeverityChart(tuple(SeverityPart(name, count, round(100 * count / total, 2) if total else 0.0)
                               for name, count in values), total, noun)


def summary_chart(summary: Mapping[str, Any] | None) -> SeverityChart:
    """The chart of a report's summary (`{total, fixable, summary: {Critical: n, ...}}`)."""
    counts = (summary or {}).get("summary")
    return severity_chart(counts if isinstance(counts, Mapping) else {})


@dataclass(frozen=True, slots=True)
class ProjectSeverities:
    """The project dashboard's two pictures and the numbers around them."""

    distribution: SeverityDistribution
    artifacts: SeverityChart
    vulnerabilities: SeverityChart


async def project_severities(visitor: Visitor, project: Project, can: ProjectPermissions) -> ProjectSeverities | None:
    """The project's severity distribution, None for visitors who may not read scans."""
    if not can("scan", "read"):
        return None
    found = await scan_service(visitor.services).project_severity_counts(visitor.principal, project)
    artifacts = severity_chart(found.artifacts_by_severity, ARTIFACT_SEVERITIES, "scanned artifacts")
    return ProjectSeverities(found, artifacts, severity_chart(found.vulnerabilities))
