"""The projects list and the project dashboard: Summary, Repositories, Members, Logs and
Configuration tabs (Robot accounts: pages_robots); the project delete action."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portside.domain.errors import BadRequest
from portside.domain.identity import PROJECT_NAME_RULE
from portside.domain.rbac import Role
from portside.services.audit import AuditLogViewer
from portside.services.members import MemberRequest
from portside.services.project_metadata import SEVERITIES
from portside.services.project_queries import ProjectListing
from portside.services.projects import ProjectSpec
from portside.web.ui.pages_account import audit_query
from portside.web.ui.paths import project_path
from portside.web.ui.permissions import project_for
from portside.web.ui.rendering import Pager, action, field, page, path_row_id, render
from portside.web.ui.severity_charts import project_severities
from portside.web.ui.visitor import Visitor

PAGE_SIZE = 15
ROLES = [(int(role), role.harbor_name) for role in (Role.PROJECT_ADMIN, Role.MAINTAINER, Role.DEVELOPER,
                                                     Role.GUEST, Role.LIMITED_GUEST)]
ROLE_NAMES = dict(ROLES)


async def home(request: Request) -> Response:
    return RedirectResponse("/harbor/projects", status_code=303)


@page
async def projects(request: Request, visitor: Visitor) -> Response:
    """Public projects and the visitor's own, by name, with storage used where visible."""
    services = visitor.services
    search = request.query_params.get("name", "").strip()[:255]
    pager = Pager(request, PAGE_SIZE)
    views, pager.total = await services.projects.list_projects(
        visitor.principal, ProjectListing(name=search or None, sort="name"), offset=pager.offset, limit=PAGE_SIZE)
    summaries = [await services.projects.summary(visitor.principal, view.project) for view in views]
    used = [summary.storage_used for summary in summaries]
    largest = max([value for value in used if value] or [1])
    rows = [{"view": view, "used": value, "bar": round(100 * (value or 0) / largest, 1)}
            for view, value in zip(views, used, strict=True)]
    may_create = await services.access.allowed(visitor.principal, None, "project", "create")
    return render(visitor, "projects.html", rows=rows, pager=pager, search=search, may_create=may_create,
                  name_rule=PROJECT_NAME_RULE)


@action
async def create_project(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    name = field(form, "project_name", 300).strip()
    project = await visitor.services.projects.create(visitor.principal, visitor.actor(request), ProjectSpec(
        name=name, public=field(form, "public") == "true"))
    return project_path(project.name), f"Project {project.name} created."


@page
async def summary(request: Request, visitor: Visitor) -> Response:
    project, can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    view = await visitor.services.projects.view(visitor.principal, project)
    counts = await visitor.services.projects.summary(visitor.principal, project)
    quota = None
    if counts.storage_used is not None and counts.storage_limit is not None and counts.storage_limit > 0:
        quota = min(100.0, round(100 * counts.storage_used / counts.storage_limit, 1))
    members = [(ROLE_NAMES[int(role)], n) for role, n in counts.member_counts.items()] if counts.member_counts else None
    return render(visitor, "project_summary.html", project=project, view=view, can=can, tab="summary",
                  counts=counts, quota_percent=quota, members_by_role=members,
                  severities=await project_severities(visitor, project, can))


@page
async def repositories(request: Request, visitor: Visitor) -> Response:
    project, can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    search = request.query_params.get("name", "").strip()[:255]
    pager = Pager(request, PAGE_SIZE)
    rows, pager.total = await visitor.services.repositories.list_in_project(
        visitor.principal, project, f"name=~{search}" if search and "," not in search else None, "name",
        offset=pager.offset, limit=PAGE_SIZE)
    prefix = f"{project.name}/"
    items = [{"row": row, "short": row.name.removeprefix(prefix)} for row in rows]
    return render(visitor, "project_repositories.html", project=project, can=can, tab="repositories",
                  items=items, pager=pager, search=search)


@page
async def members(request: Request, visitor: Visitor) -> Response:
    project, can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    search = request.query_params.get("name", "").strip()[:255]
    pager = Pager(request, PAGE_SIZE)
    found, pager.total = await visitor.services.members.list_members(
        visitor.principal, project, entity_name=search or None, offset=pager.offset, limit=PAGE_SIZE)
    grantable = [(role_id, name) for role_id, name in ROLES
                 if role_id != int(Role.PROJECT_ADMIN) or can.manages_admins]
    return render(visitor, "project_members.html", project=project, can=can, tab="members", members=found,
                  pager=pager, search=search, roles=ROLES, role_names=ROLE_NAMES, grantable=grantable,
                  admin_role=int(Role.PROJECT_ADMIN))


def _role_id(form: FormData) -> int:
    raw = field(form, "role_id", 4)
    if not raw.isdigit():
        raise BadRequest("choose a role")
    return int(raw)


def _member_id(request: Request) -> int:
    return path_row_id(request, "member_id", "member")


@action
async def add_member(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, _can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    username = field(form, "username", 255).strip()
    if not username:
        raise BadRequest("enter the user name of the new member")
    await visitor.services.members.add(visitor.principal, visitor.actor(request), project,
                                       MemberRequest(role_id=_role_id(form), username=username))
    return project_path(project.name, "members"), f"{username} is now a member."


@action
async def change_role(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, _can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    await visitor.services.members.update_role(visitor.principal, visitor.actor(request), project,
                                               _member_id(request), _role_id(form))
    return project_path(project.name, "members"), "Role changed."


@action
async def remove_member(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, _can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    await visitor.services.members.remove(visitor.principal, visitor.actor(request), project, _member_id(request))
    return project_path(project.name, "members"), "Member removed."


@page
async def logs(request: Request, visitor: Visitor) -> Response:
    project, can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    q, shown = audit_query(request)
    pager = Pager(request, PAGE_SIZE)
    viewer = AuditLogViewer(visitor.services.audit, visitor.services.access, visitor.services.db)
    entries, pager.total = await viewer.list_project(visitor.principal, project, q, None, offset=pager.offset,
                                                     limit=PAGE_SIZE)
    return render(visitor, "project_logs.html", project=project, can=can, tab="logs", entries=entries,
                  pager=pager, filters=shown)


@page
async def configuration(request: Request, visitor: Visitor) -> Response:
    project, can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    view = await visitor.services.projects.view(visitor.principal, project)
    return render(visitor, "project_configuration.html", project=project, can=can, tab="configuration",
                  metadata=view.metadata, severities=SEVERITIES[1:], editable=view.togglable)


@action
async def update_configuration(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, _can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    severity = field(form, "severity", 20) or "low"
    metadata = {"auto_scan": _flag(form, "auto_scan"), "prevent_vul": _flag(form, "prevent_vul"),
                "severity": severity}
    await visitor.services.projects.update(visitor.principal, visitor.actor(request), project, ProjectSpec(
        public=field(form, "public") == "true", metadata=metadata))
    return project_path(project.name, "configuration"), "Configuration saved."


def _flag(form: FormData, name: str) -> str:
    return "true" if field(form, name) == "true" else "false"


@action
async def delete_project(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    """Delete an empty project (Harbor's 412 message while it still has repositories)."""
    project, _can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    await visitor.services.projects.delete(visitor.principal, visitor.actor(request), project, force=False)
    return "/harbor/projects", f"Project {project.name} deleted."
