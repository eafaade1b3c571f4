"""The repository view (description, artifacts with tags, sizes, platforms, labels and scan
state; tag and delete actions; pull commands) and the artifact details page (scan button and
status, the vulnerability report loaded by portal.js, labels to attach and detach)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from portside.domain import media_types as mt
from portside.domain.errors import BadRequest, NotFound
from portside.domain.models import Project
from portside.services.artifacts import ArtifactOptions, ArtifactView
from portside.services.row_ids import parse_row_id
from portside.services.scanning import scan_service
from portside.store import artifacts as artifact_store
from portside.store.labels import LabelRow
from portside.store.scans import ReportRow
from portside.web.ui.paths import artifact_path, path_quote, project_path, repository_path
from portside.web.ui.permissions import ProjectPermissions, project_for
from portside.web.ui.rendering import Pager, action, field, page, render
from portside.web.ui.severity_charts import SeverityChart, summary_chart
from portside.web.ui.visitor import Visitor

ARTIFACTS_PER_PAGE = 25
LABELS_OFFERED = 100  # per scope: the attach menu is a select, not a search
WITH_LABELS = ArtifactOptions(with_tag=True, with_label=True, with_accessory=True)
_COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{3,8}$")


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str
    digest: str

    @property
    def label(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part) or "unknown"


@dataclass(frozen=True, slots=True)
class ActionUrls:
    """The form targets of one repository: `action_url("tag", digest)` in templates."""

    project: str
    repository: str

    def __call__(self, kind: str, reference: str | None = None) -> str:
        base = f"{project_path(self.project)}/{kind}/{path_quote(self.repository)}"
        return f"{base}/{path_quote(reference)}" if reference else base


def label_color(label: LabelRow) -> str:
    """The label's colour if it is a plain hex colour (it ends up in a style attribute), else grey."""
    return label.color if _COLOR_RE.match(label.color or "") else "#5a6472"


def platforms_of(view: ArtifactView) -> list[Platform]:
    found = []
    for reference in view.references or []:
        platform = reference.platform or {}
        found.append(Platform(str(platform.get("os", "")), str(platform.get("architecture", "")),
                              str(platform.get("variant", "")), reference.child_digest))
    return found


def os_arch(view: ArtifactView) -> str:
    extra = view.row.extra_attrs or {}
    parts = [str(extra.get("os") or ""), str(extra.get("architecture") or "")]
    return "/".join(part for part in parts if part)


def registry_host(request: Request, visitor: Visitor) -> str:
    """The host clients pull from: the external URL's, else the one the browser used."""
    external = visitor.services.settings.external_url
    if external:
        return external.split("://", 1)[-1].rstrip("/")
    return request.url.netloc


def _repository_name(request: Request) -> str:
    return str(request.path_params["repository"]).strip("/")


def _artifact_item(view: ArtifactView, host: str) -> dict[str, Any]:
    tags = [tag.name for tag in view.tags or []]
    reference = f":{tags[0]}" if tags else f"@{view.row.digest}"
    image = f"{host}/{view.row.repository_name}{reference}"
    return {"view": view, "tags": tags, "os_arch": os_arch(view), "platforms": platforms_of(view),
            "labels": [(label, label_color(label)) for label in view.labels or []],
            "docker_pull": f"docker pull {image}",
            "skopeo_copy": f"skopeo copy docker://{image} oci:{view.row.repository_name.rsplit('/', 1)[-1]}",
            "link": artifact_path(view.row.repository_name, view.row.digest)}


@page
async def repository(request: Request, visitor: Visitor) -> Response:
    services, principal = visitor.services, visitor.principal
    project, can = await project_for(services, principal, request.path_params["project"])
    name = _repository_name(request)
    row = await services.repositories.get(principal, project, name)
    search = request.query_params.get("tag", "").strip()[:128]
    pager = Pager(request, ARTIFACTS_PER_PAGE)
    q = f"tags=~{search}" if search and "," not in search else None
    views, pager.total = await services.artifacts.list_artifacts(
        principal, project, name, q, "-push_time", WITH_LABELS, offset=pager.offset, limit=ARTIFACTS_PER_PAGE)
    host = registry_host(request, visitor)
    items = [_artifact_item(view, host) for view in views]
    scans = await _scan_overviews(visitor, can, [view.row.digest for view in views])
    for item in items:
        item["scan"] = scans.get(item["view"].row.digest)
    return render(visitor, "repository.html", project=project, can=can, repository=row, short_name=name,
                  items=items, pager=pager, search=search, action_url=ActionUrls(project.name, name),
                  shows_scans=can("scan", "read"))


@dataclass(frozen=True, slots=True)
class ScanState:
    """An artifact's newest scan as the pages show it."""

    status: str
    severity: str
    chart: SeverityChart
    message: str = ""

    @property
    def active(self) -> bool:
        return self.status in ("Pending", "Running")


async def _scan_overviews(visitor: Visitor, can: ProjectPermissions, digests: list[str]) -> dict[str, ScanState]:
    """The page's artifacts' scan states (one query), {} for visitors who may not read scans."""
    if not digests or not can("scan", "read"):
        return {}
    overviews = await scan_service(visitor.services).overview(digests)
    found = {}
    for digest, by_mime in overviews.items():
        for summary in by_mime.values():
            found[digest] = ScanState(str(summary.get("scan_status", "")), str(summary.get("severity", "None")),
                                      summary_chart(summary.get("summary")))
    return found


@action
async def describe(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, name = await _repository_target(request, visitor)
    await visitor.services.repositories.update(visitor.principal, visitor.actor(request), project, name,
                                               field(form, "description", 65536))
    return repository_path(f"{project.name}/{name}"), "Description saved."


async def _repository_target(request: Request, visitor: Visitor) -> tuple[Project, str]:
    """The project (visible to the visitor, else NotFound/Unauthorized) and the repository's
    name inside it, of a repository form's path."""
    project, _can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    return project, _repository_name(request)


def _reference(request: Request) -> str:
    reference = str(request.path_params["reference"])
    if not reference:
        raise BadRequest("no artifact given")
    return reference


@action
async def add_tag(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, name = await _repository_target(request, visitor)
    tag = field(form, "tag", 200).strip()
    await visitor.services.artifacts.create_tag(visitor.principal, visitor.actor(request), project, name,
                                                _reference(request), tag)
    return "", f"Tag {tag} added."


@action
async def remove_tag(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, name = await _repository_target(request, visitor)
    tag = field(form, "tag", 200)
    await visitor.services.artifacts.delete_tag(visitor.principal, visitor.actor(request), project, name,
                                                _reference(request), tag)
    return "", f"Tag {tag} removed."


@action
async def delete_artifact(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, name = await _repository_target(request, visitor)
    await visitor.services.artifacts.delete(visitor.principal, visitor.actor(request), project, name,
                                            _reference(request))
    return repository_path(f"{project.name}/{name}"), "Artifact deleted."


@action
async def delete_repository(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    """Delete a repository with all its artifacts and tags."""
    project, name = await _repository_target(request, visitor)
    await visitor.services.repositories.delete(visitor.principal, visitor.actor(request), project, name)
    return project_path(project.name, "repositories"), f"Repository {project.name}/{name} deleted."


async def _manifest_json(visitor: Visitor, view: ArtifactView) -> dict[str, Any]:
    """The artifact's manifest (read-only store query), {} if unreadable."""
    async with visitor.services.db.read() as conn:
        content = (await artifact_store.contents(conn, [view.row.id])).get(view.row.id, b"")
    try:
        parsed = json.loads(content)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _layers(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    layers = manifest.get("layers")
    if not isinstance(layers, list):
        return []
    return [{"digest": str(layer.get("digest", "")), "size": layer.get("size") if isinstance(layer.get("size"), int)
             else None, "media_type": str(layer.get("mediaType", ""))} for layer in layers if isinstance(layer, dict)]


async def _build_history(visitor: Visitor, project: Project, name: str, view: ArtifactView) -> list[dict[str, Any]]:
    if "build_history" not in view.additions:
        return []
    try:
        return await visitor.services.artifacts.addition(visitor.principal, project, name, view.row.digest,
                                                         "build_history")
    except NotFound:
        return []


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def artifact_api_path(project: Project, name: str, digest: str) -> str:
    """The artifact in the API, for portal.js (Harbor double-encodes `/` in repository names)."""
    return (f"/api/v2.0/projects/{quote(project.name, safe='')}/repositories/{quote(quote(name, safe=''), safe='')}"
            f"/artifacts/{quote(digest, safe=':')}")


def _scan_state(report: ReportRow | None) -> ScanState | None:
    if report is None:
        return None
    return ScanState(report.status, report.severity, summary_chart(report.summary), report.status_message)


async def _label_choices(visitor: Visitor, project: Project, can: ProjectPermissions,
                         attached: list[LabelRow]) -> list[tuple[str, list[LabelRow]]]:
    """The labels the visitor may attach, grouped (project's, global), minus those attached."""
    if not can("artifact-label", "create"):
        return []
    labels = visitor.services.labels
    taken = {label.id for label in attached}
    groups = []
    if can("label", "list"):
        own, _ = await labels.list_labels(visitor.principal, scope="p", project_id=project.id, name=None, q=None,
                                          sort="name", offset=0, limit=LABELS_OFFERED)
        groups.append(("Project labels", [label for label in own if label.id not in taken]))
    shared, _ = await labels.list_labels(visitor.principal, scope="g", project_id=None, name=None, q=None,
                                         sort="name", offset=0, limit=LABELS_OFFERED)
    groups.append(("Global labels", [label for label in shared if label.id not in taken]))
    return [(title, found) for title, found in groups if found]


@page
async def artifact(request: Request, visitor: Visitor) -> Response:
    services, principal = visitor.services, visitor.principal
    project, can = await project_for(services, principal, request.path_params["project"])
    name = _repository_name(request)
    view = await services.artifacts.get(principal, project, name, _reference(request), WITH_LABELS)
    extra = view.row.extra_attrs or {}
    config = _mapping(extra.get("config"))
    labels = _mapping(config.get("Labels"))
    manifest = await _manifest_json(visitor, view)
    scannable = "vulnerabilities" in view.additions
    scan = _scan_state(await scan_service(services).latest_report(principal, project, name, view.row.digest)
                       if scannable and can("scan", "read") else None)
    shows_report = scan is not None and scan.status == "Success" and can("artifact-addition", "read")
    host = registry_host(request, visitor)
    api_path = artifact_api_path(project, name, view.row.digest)
    return render(visitor, "artifact.html", project=project, can=can, short_name=name, item=_artifact_item(view, host),
                  view=view, extra=extra, config_labels=sorted(labels.items()), layers=_layers(manifest),
                  history=await _build_history(visitor, project, name, view), is_index=view.row.manifest_media_type
                  in mt.INDEXES, scannable=scannable, scan=scan,
                  vulnerabilities_url=f"{api_path}/additions/vulnerabilities" if shows_report else None,
                  overview_url=f"{api_path}/scan/overview", repository_link=repository_path(view.row.repository_name),
                  action_url=ActionUrls(project.name, name),
                  label_choices=await _label_choices(visitor, project, can, view.labels or []))


@action
async def scan(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    """Queue a scan of the artifact (the policy's `scan create`; idempotent while one runs)."""
    project, name = await _repository_target(request, visitor)
    await scan_service(visitor.services).request_scan(visitor.principal, project, name,
                                                      _reference(request))
    return "", "Scan requested."


@action
async def stop_scan(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, name = await _repository_target(request, visitor)
    await scan_service(visitor.services).stop(visitor.principal, project, name,
                                              _reference(request))
    return "", "Scan stopped."


def _label_id(form: FormData) -> int:
    label_id = parse_row_id(field(form, "label_id", 12))
    if label_id is None:
        raise BadRequest("choose a label")
    return label_id


@action
async def attach_label(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, name = await _repository_target(request, visitor)
    await visitor.services.labels.attach(visitor.principal, visitor.actor(request), project,
                                         name, _reference(request), _label_id(form))
    return "", "Label added."


@action
async def detach_label(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, name = await _repository_target(request, visitor)
    await visitor.services.labels.detach(visitor.principal, visitor.actor(request), project,
                                         name, _reference(request), _label_id(form))
    return "", "Label removed."
