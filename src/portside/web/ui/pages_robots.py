"""The project's Robot accounts tab: list, create (the secret shown once), refresh the secret,
enable or disable, delete — all through the RobotService the /api/v2.0/robots API uses, so a robot
never gets more than its creator holds and only those with the project's `robot` permissions
manage robots (the page hides what the visitor can't do; the services refuse it anyway)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portside.domain.errors import BadRequest, NotFound, RegistryError, Unauthorized
from portside.domain.models import Project
from portside.services.robots import AccessSpec, NewRobot, PermissionSpec, RobotChanges
from portside.web.ui import csrf
from portside.web.ui.paths import project_path
from portside.web.ui.permissions import ProjectPermissions, project_for
from portside.web.ui.rendering import Pager, action, csrf_refused, field, page, render, sign_in_redirect
from portside.web.ui.visitor import Visitor, visitor_of

PAGE_SIZE = 15
#: The project permissions Harbor's robot dialog offers (resource, action, label).
GRANTABLE = (
    ("repository", "pull", "Pull images"),
    ("repository", "push", "Push images"),
    ("artifact", "read", "Read artifacts"),
    ("artifact", "delete", "Delete artifacts"),
    ("tag", "create", "Create tags"),
    ("tag", "delete", "Delete tags"),
    ("scan", "create", "Scan artifacts"),
    ("artifact-label", "create", "Attach labels"),
    ("artifact-label", "delete", "Detach labels"),
    ("sbom", "create", "Generate SBOMs"),
)
MAX_DAYS = 36_500


def _permission_key(resource: str, verb: str) -> str:
    return f"{resource}:{verb}"


async def _page(request: Request, visitor: Visitor, project: Project, can: ProjectPermissions,
                created: tuple[str, str] | None = None) -> Response:
    pager = Pager(request, PAGE_SIZE)
    found, pager.total = await visitor.services.robots.list_robots(
        visitor.principal, f"Level=project,ProjectID={project.id}", None, pager.offset, PAGE_SIZE)
    response = render(visitor, "project_robots.html", project=project, can=can, tab="robots",
                      robots=found, pager=pager,
                      grantable=[(_permission_key(r, a), label) for r, a, label in GRANTABLE], created=created)
    if created is not None:
        response.headers["Cache-Control"] = "no-store"  # the secret must not outlive this answer
    return response


@page
async def robots(request: Request, visitor: Visitor) -> Response:
    project, can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    return await _page(request, visitor, project, can)


def _new_robot(form: FormData, project: Project) -> NewRobot:
    """The form as a NewRobot; BadRequest for an expiry that is not a day count."""
    wanted = {value for value in form.getlist("permission") if isinstance(value, str)}
    access = tuple(AccessSpec(resource, verb) for resource, verb, _label in GRANTABLE
                   if _permission_key(resource, verb) in wanted)
    if not access:
        raise BadRequest("choose at least one permission for the robot account")
    days = field(form, "days", 10).strip()
    if field(form, "never") == "true":
        duration = -1
    elif days.isdigit() and 1 <= int(days) <= MAX_DAYS:
        duration = int(days)
    else:
        raise BadRequest(f"the expiry is a number of days from 1 to {MAX_DAYS}, or never")
    return NewRobot(name=field(form, "name", 255).strip(), level="project",
                    permissions=(PermissionSpec("project", project.name, access),),
                    description=field(form, "description", 1024), duration=duration)


async def _checked_post(request: Request) -> tuple[Visitor, FormData] | Response:
    """The visitor and form of a POST that answers with a page; the CSRF refusal otherwise."""
    visitor = await visitor_of(request)
    form = await request.form()
    presented = form.get(csrf.FIELD)
    if not visitor.csrf_ok(presented if isinstance(presented, str) else None):
        return csrf_refused()
    return visitor, form


async def create_robot(request: Request) -> Response:
    """POST: create the robot and answer with the page showing its secret this once (never in a
    redirect or a cookie). A refusal goes back to the tab with the service's message."""
    checked = await _checked_post(request)
    if isinstance(checked, Response):
        return checked
    visitor, form = checked
    back = RedirectResponse(project_path(str(request.path_params["project"]), "robots"), status_code=303)
    try:
        project, can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
        created = await visitor.services.robots.create(visitor.principal, visitor.actor(request),
                                                       _new_robot(form, project))
    except Unauthorized:
        return visitor.finish(sign_in_redirect(request))
    except RegistryError as error:
        visitor.notify("error", error.message if error.status < 500 else "internal server error")
        return visitor.finish(back)
    return visitor.finish(await _page(request, visitor, project, can, created=(created.robot.name, created.secret)))


def _robot_id(request: Request) -> int:
    raw = str(request.path_params["robot_id"])
    if not raw.isdigit() or len(raw) > 18:
        raise BadRequest(f"invalid robot id {raw[:20]!r}")
    return int(raw)


async def _project_robot(request: Request, visitor: Visitor) -> tuple[Project, int, str]:
    """The project, and the id and name of one of its robots (NotFound for another project's)."""
    project, _can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    robot = await visitor.services.robots.get(visitor.principal, _robot_id(request))
    if robot.project_id != project.id:
        raise NotFound(f"robot {robot.id} not found in project {project.name}")
    return project, robot.id, robot.name


@action
async def toggle_robot(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, robot_id, name = await _project_robot(request, visitor)
    disable = field(form, "disable") == "true"
    await visitor.services.robots.update(visitor.principal, visitor.actor(request), robot_id,
                                         RobotChanges(disable=disable))
    return project_path(project.name, "robots"), f"{name} is {'disabled' if disable else 'enabled'}."


@action
async def delete_robot(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, robot_id, name = await _project_robot(request, visitor)
    await visitor.services.robots.delete(visitor.principal, visitor.actor(request), robot_id)
    return project_path(project.name, "robots"), f"{name} deleted."


async def refresh_secret(request: Request) -> Response:
    """POST: a new secret for the robot, shown on the answered page this once."""
    checked = await _checked_post(request)
    if isinstance(checked, Response):
        return checked
    visitor, _form = checked
    back = RedirectResponse(project_path(str(request.path_params["project"]), "robots"), status_code=303)
    try:
        project, robot_id, name = await _project_robot(request, visitor)
        _same, can = await project_for(visitor.services, visitor.principal, project.name)
        secret = await visitor.services.robots.refresh_secret(visitor.principal, visitor.actor(request), robot_id,
                                                              None)
    except Unauthorized:
        return visitor.finish(sign_in_redirect(request))
    except RegistryError as error:
        visitor.notify("error", error.message if error.status < 500 else "internal server error")
        return visitor.finish(back)
    return visitor.finish(await _page(request, visitor, project, can, created=(name, secret)))
