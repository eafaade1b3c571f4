"""How vulnerable a project's artifacts are, from their newest finished reports: how many
artifacts have each highest severity, and how many vulnerabilities of each severity there
are in all. For the portal's charts; `ScanService.project_severity_counts` asks the policy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from portside.domain.vulnerability_report import SUMMARY_SEVERITIES
from portside.store.scan_summaries import ArtifactScanState

#: The highest-severity buckets, worst first; "None" is a scanned artifact without findings.
ARTIFACT_SEVERITIES = (*SUMMARY_SEVERITIES, "None")


@dataclass(frozen=True, slots=True)
class SeverityDistribution:
    """`artifacts_by_severity` counts finished scans by their highest severity (every bucket of
    ARTIFACT_SEVERITIES present); `vulnerabilities` sums the findings per SUMMARY_SEVERITIES."""

    artifacts: int
    scanned: int
    in_progress: int
    failed: int
    artifacts_by_severity: dict[str, int]
    vulnerabilities: dict[str, int]

    @property
    def total_vulnerabilities(self) -> int:
        return sum(self.vulnerabilities.values())

    @property
    def not_scanned(self) -> int:
        return self.artifacts - self.scanned - self.in_progress - self.failed


def severity_distribution(states: Iterable[ArtifactScanState]) -> SeverityDistribution:
    """Aggregate the artifacts' newest reports (pending, running, failed ones count apart)."""
    by_severity = dict.fromkeys(ARTIFACT_SEVERITIES, 0)
    vulnerabilities = dict.fromkeys(SUMMARY_SEVERITIES, 0)
    artifacts = scanned = in_progress = failed = 0
    for state in states:
        artifacts += 1
        if state.status in ("Pending", "Running"):
            in_progress += 1
        elif state.status in ("Error", "Stopped"):
            failed += 1
        elif state.status == "Success":
            scanned += 1
            severity = state.severity if state.severity in by_severity else "Unknown"
            by_severity[severity] += 1
            counts = (state.summary or {}).get("summary") or {}
            for name in SUMMARY_SEVERITIES:
                value = counts.get(name, 0)
                vulnerabilities[name] += value if isinstance(value, int) and value > 0 else 0
    return SeverityDistribution(artifacts, scanned, in_progress, failed, by_severity, vulnerabilities)
