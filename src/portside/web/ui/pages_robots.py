"""The project's Robot accounts tab: list, create (the secret shown once), refresh the secret,
enable or disable, delete — all through the RobotService the /api/v2.0/robots API uses, so a robot
never gets more than its creator holds and only those with the project's `robot` permissions
manage robots (the page hides what the visitor can't do; the services refuse it anyway)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from portside.domain.errors import BadRequest, NotFound
from portside.domain.models import Project
from portside.services.robots import AccessSpec, NewRobot, PermissionSpec, RobotChanges
from portside.web.ui.paths import project_path
from portside.web.ui.permissions import ProjectPermissions, project_for
from portside.web.ui.rendering import Pager, action, answering_action, field, page, path_row_id, render
from portside.web.ui.visitor import Visitor

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


@answering_action
async def create_robot(request: Request, visitor: Visitor, form: FormData) -> Response:
    """Create the robot and answer with the page showing its secret this once."""
    project, can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    created = await visitor.services.robots.create(visitor.principal, visitor.actor(request),
                                                   _new_robot(form, project))
    return await _page(request, visitor, project, can, created=(created.robot.name, created.secret))


async def _project_robot(request: Request, visitor: Visitor) -> tuple[Project, ProjectPermissions, int, str]:
    """The project, the visitor's permissions in it, and the id and name of one of its robots
    (NotFound for another project's)."""
    project, can = await project_for(visitor.services, visitor.principal, request.path_params["project"])
    robot = await visitor.services.robots.get(visitor.principal, path_row_id(request, "robot_id", "robot"))
    if robot.project_id != project.id:
        raise NotFound(f"robot {robot.id} not found in project {project.name}")
    return project, can, robot.id, robot.name


@action
async def toggle_robot(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, _can, robot_id, name = await _project_robot(request, visitor)
    disable = field(form, "disable") == "true"
    await visitor.services.robots.update(visitor.principal, visitor.actor(request), robot_id,
                                         RobotChanges(disable=disable))
    return project_path(project.name, "robots"), f"{name} is {'disabled' if disable else 'enabled'}."


@action
async def delete_robot(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    project, _can, robot_id, name = await _project_robot(request, visitor)
    await visitor.services.robots.delete(visitor.principal, visitor.actor(request), robot_id)
    return project_path(project.name, "robots"), f"{name} deleted."


@answering_action
async def refresh_secret(request: Request, visitor: Visitor, form: FormData) -> Response:
    """A new secret for the robot, shown on the answered page this once."""
    project, can, robot_id, name = await _project_robot(request, visitor)
    secret = await visitor.services.robots.refresh_secret(visitor.principal, visitor.actor(request), robot_id, None)
    return await _page(request, visitor, project, can, created=(name, secret))
