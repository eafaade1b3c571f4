"""The vulnerability pull policy (Harbor's `prevent_vul`) and the CVE allowlists it honours.

`PullPolicy.check_pull` decides, for one manifest GET, what Harbor's `vulnerable` middleware
decides: with project metadata `prevent_vul` = "true", a scannable artifact is refused (412
PROJECTPOLICYVIOLATION, Harbor's messages) when

- it was never scanned,
- its scan did not succeed (Pending, Running, Error, Stopped), or
- its worst finding not on the applicable CVE allowlist is at least the project's `severity`
  (`none` … `critical`; Harbor compares `Severity.Code()`, so `none` refuses any finding).

Image indexes with a report, and artifacts that are not images (charts, signatures, SBOMs),
pass: their images are checked when pulled. System administrators and robots holding
`repository:scanner-pull` (the scanner must pull what it scans) are never refused.

The allowlist is the project's, or the system's when metadata `reuse_sys_cve_allowlist` is
"true"; an allowlist whose `expires_at` (unix seconds) has passed is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from portside.core.clock import utcnow
from portside.domain import image_config
from portside.domain import media_types as mt
from portside.domain.errors import BadRequest, PolicyViolation
from portside.domain.models import Repository
from portside.domain.rbac import Principal, PrincipalKind
from portside.domain.vulnerability_report import REPORT_MIME, THRESHOLDS, blocking_vulnerabilities, severity_code
from portside.services.project_metadata import ALLOWLIST_KEY, CveAllowlist
from portside.store import cve_allowlists as allowlist_store
from portside.store import repositories as repository_store
from portside.store.cve_allowlists import PullFacts
from portside.store.database import Database

SCANNER_PULL = ("repository", "scanner-pull")


@dataclass(frozen=True, slots=True)
class Allowlist:
    """Harbor's CVEAllowlist: `project_id` 0 for the system's; `id` 0 while nothing is stored."""

    id: int
    project_id: int
    cve_ids: tuple[str, ...]
    expires_at: int | None
    creation_time: datetime | None
    update_time: datetime | None


def _policy_text(threshold: str) -> str:
    return (f"due to configured policy in 'Prevent images with vulnerability severity of \"{threshold}\" "
            "or higher from running.'")


def unscanned_message(threshold: str) -> str:
    return (f"current image without vulnerability scanning cannot be pulled {_policy_text(threshold)} "
            "To continue with pull, please contact your project administrator for help.")


def unfinished_message(status: str, threshold: str) -> str:
    return (f"current image with \"{status}\" status of vulnerability scanning cannot be pulled "
            f"{_policy_text(threshold)} To continue with pull, please contact your project administrator for help.")


def vulnerable_message(count: int, threshold: str) -> str:
    thing = "vulnerabilities" if count > 1 else "vulnerability"
    return (f"current image with {count} {thing} cannot be pulled {_policy_text(threshold)} To continue with pull, "
            "please contact your project administrator to exempt matched vulnerabilities through configuring "
            "the CVE allowlist.")


def is_exempt(principal: Principal, project_name: str) -> bool:
    """System administrators, and robots allowed to `scanner-pull` in the project."""
    if principal.sysadmin:
        return True
    return principal.kind is PrincipalKind.ROBOT and any(
        grant.covers(project_name, SCANNER_PULL) for grant in principal.robot_grants)


def _scannable(facts: PullFacts) -> bool:
    return facts.media_type in mt.INDEXES or facts.config_media_type in image_config.IMAGE_CONFIG_TYPES


def _metadata_allowlist(metadata: Mapping[str, str], now: int) -> frozenset[str] | None:
    """The allowlist the projects API keeps in the metadata map (when not in cve_allowlists), if it applies."""
    stored = CveAllowlist.decode(metadata.get(ALLOWLIST_KEY))
    if not stored.cve_ids or (stored.expires_at is not None and stored.expires_at <= now):
        return None
    return frozenset(stored.cve_ids)


def verdict(facts: PullFacts, threshold_name: str, allowlisted: frozenset[str]) -> str | None:
    """The refusal message for a manifest with these facts, or None when the pull may go ahead."""
    threshold = THRESHOLDS.get(threshold_name.lower(), "None")
    if not _scannable(facts):
        return None
    if facts.scan_status is None:
        return unscanned_message(threshold)
    if facts.media_type in mt.INDEXES:
        return None  # Harbor checks an image index's images when they are pulled, not the index
    if facts.scan_status != "Success":
        return unfinished_message(facts.scan_status, threshold)
    if allowlisted and facts.report is not None:
        severity, count = blocking_vulnerabilities(facts.report.get("vulnerabilities") or [], allowlisted)
    else:
        severity, count = (None, 0) if facts.total == 0 else (facts.severity, facts.total)
    if severity is not None and severity_code(severity) >= severity_code(threshold):
        return vulnerable_message(count, threshold)
    return None


class PullPolicy:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def check_pull(self, principal: Principal, repository: Repository, digest: str,
                         metadata: Mapping[str, str] | None = None) -> None:
        """Raise PolicyViolation (412 PROJECTPOLICYVIOLATION) if the project's vulnerability policy
        refuses `principal` this manifest of `repository`.

        Pass the project's `metadata` when at hand: then a project without `prevent_vul` costs no
        query and one with it costs one indexed query. With None the metadata is read first."""
        project_name = repository.name.split("/", 1)[0]
        if is_exempt(principal, project_name):
            return
        if metadata is None:
            async with self._db.read() as conn:
                project = await repository_store.find_project_by_id(conn, repository.project_id)
            metadata = project.metadata if project else {}
        if metadata.get("prevent_vul") != "true":
            return
        now = int(utcnow().timestamp())
        use_system = metadata.get("reuse_sys_cve_allowlist") == "true"
        from_metadata = None if use_system else _metadata_allowlist(metadata, now)
        async with self._db.read() as conn:
            facts = await allowlist_store.pull_facts(
                conn, repository_id=repository.id, digest=digest, mime_type=REPORT_MIME,
                allowlist_project_id=None if use_system else repository.project_id, now=now,
                with_report=from_metadata is not None)
        if facts is None:
            return  # no such manifest: the caller answers MANIFEST_UNKNOWN
        allowlisted = frozenset(facts.allowlist) if facts.allowlist else (from_metadata or frozenset())
        message = verdict(facts, metadata.get("severity", ""), allowlisted)
        if message is not None:
            raise PolicyViolation(message)

    # --- allowlists -----------------------------------------------------------------------------

    async def get_allowlist(self, project_id: int | None) -> Allowlist:
        """The allowlist of a project (None: the system's); an empty one when nothing is stored."""
        async with self._db.read() as conn:
            row = await allowlist_store.find(conn, project_id)
        if row is None:
            return Allowlist(0, project_id or 0, (), None, None, None)
        return Allowlist(row.id or 0, project_id or 0, row.items, row.expires_at, row.created_at, row.updated_at)

    async def set_allowlist(self, project_id: int | None, cve_ids: Sequence[str], expires_at: int | None) -> None:
        """Replace an allowlist; raises BadRequest on a blank, overlong or duplicate id, more than
        1000 ids, or a negative expiry."""
        if expires_at is not None and expires_at < 0:
            raise BadRequest("expires_at must be a unix time in seconds, or null for never")
        validated = CveAllowlist(tuple(cve_id.strip() for cve_id in cve_ids), expires_at).validated()
        async with self._db.write() as conn:
            await allowlist_store.put(conn, project_id, validated.cve_ids, validated.expires_at)
