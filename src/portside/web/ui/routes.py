"""`create_ui(services)`: the portal as a Starlette app serving every path the registry and
the API do not (`/`, `/c/*`, `/harbor/*`, `/static/*`).

Pages read through the same services and permission policy as the API; forms post to
the routes below (CSRF-checked, see `rendering.action`); the portal's JavaScript calls
the API with the session cookie and the `X-Harbor-CSRF-Token` header.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from portside.domain.errors import NotFound, RegistryError
from portside.services.bundle import Services
from portside.web.ui import pages_account as account
from portside.web.ui import pages_admin as admin
from portside.web.ui import pages_projects as projects
from portside.web.ui import pages_repositories as repos
from portside.web.ui import pages_robots as robots
from portside.web.ui.rendering import error_page
from portside.web.ui.visitor import visitor_of

STATIC = Path(__file__).parent / "static"
P = "/harbor/projects/{project}"


def _routes() -> list[BaseRoute]:
    post = ["POST"]
    return [
        Route("/", projects.home),
        Route("/c/login", account.login, methods=post),
        Route("/c/log_out", account.log_out),
        Route("/harbor/sign-in", account.sign_in_page),
        Route("/harbor/profile", account.profile),
        Route("/harbor/profile/password", account.change_password, methods=post),
        Route("/harbor/admin/users", account.admin_users),
        Route("/harbor/admin/users", account.create_user, methods=post),
        Route("/harbor/admin/logs", account.admin_logs),
        Route(admin.LABELS, admin.labels),
        Route(admin.LABELS, admin.create_label, methods=post),
        Route(f"{admin.LABELS}/{{label_id}}", admin.update_label, methods=post),
        Route(f"{admin.LABELS}/{{label_id}}/delete", admin.delete_label, methods=post),
        Route(admin.SCANNERS, admin.scanners),
        Route(admin.SCANNERS, admin.register_scanner, methods=post),
        Route(f"{admin.SCANNERS}/{{registration}}/default", admin.make_default_scanner, methods=post),
        Route(f"{admin.SCANNERS}/{{registration}}/enabled", admin.enable_scanner, methods=post),
        Route(f"{admin.SCANNERS}/{{registration}}/delete", admin.delete_scanner, methods=post),
        Route(admin.VULNERABILITY_DATABASE, admin.vulnerability_database),
        Route(f"{admin.VULNERABILITY_DATABASE}/scan-all", admin.scan_all_now, methods=post),
        Route(f"{admin.VULNERABILITY_DATABASE}/scan-all-schedule", admin.set_scan_all_schedule, methods=post),
        Route("/harbor/projects", projects.projects),
        Route("/harbor/projects", projects.create_project, methods=post),
        Route(P, projects.summary),
        Route(f"{P}/repositories", projects.repositories),
        Route(f"{P}/members", projects.members),
        Route(f"{P}/members", projects.add_member, methods=post),
        Route(f"{P}/members/{{member_id}}/role", projects.change_role, methods=post),
        Route(f"{P}/members/{{member_id}}/remove", projects.remove_member, methods=post),
        Route(f"{P}/logs", projects.logs),
        Route(f"{P}/configuration", projects.configuration),
        Route(f"{P}/configuration", projects.update_configuration, methods=post),
        Route(f"{P}/robots", robots.robots),
        Route(f"{P}/robots", robots.create_robot, methods=post),
        Route(f"{P}/robots/{{robot_id}}/enable", robots.toggle_robot, methods=post),
        Route(f"{P}/robots/{{robot_id}}/secret", robots.refresh_secret, methods=post),
        Route(f"{P}/robots/{{robot_id}}/delete", robots.delete_robot, methods=post),
        Route(f"{P}/delete", projects.delete_project, methods=post),
        Route(f"{P}/delete-repository/{{repository:path}}", repos.delete_repository, methods=post),
        Route(f"{P}/repositories/{{repository:path}}", repos.repository),
        Route(f"{P}/describe/{{repository:path}}", repos.describe, methods=post),
        Route(f"{P}/artifacts/{{repository:path}}/{{reference}}", repos.artifact),
        Route(f"{P}/tag/{{repository:path}}/{{reference}}", repos.add_tag, methods=post),
        Route(f"{P}/untag/{{repository:path}}/{{reference}}", repos.remove_tag, methods=post),
        Route(f"{P}/delete-artifact/{{repository:path}}/{{reference}}", repos.delete_artifact, methods=post),
        Route(f"{P}/scan/{{repository:path}}/{{reference}}", repos.scan, methods=post),
        Route(f"{P}/stop-scan/{{repository:path}}/{{reference}}", repos.stop_scan, methods=post),
        Route(f"{P}/attach-label/{{repository:path}}/{{reference}}", repos.attach_label, methods=post),
        Route(f"{P}/detach-label/{{repository:path}}/{{reference}}", repos.detach_label, methods=post),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


async def _not_found(request: Request, exc: Exception) -> Response:
    """An HTML page for browsers; for API-style clients Harbor's JSON error, as before the portal."""
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    if "text/html" not in request.headers.get("accept", ""):
        code, what = ("METHOD_NOT_ALLOWED", "method not allowed") if status == 405 else ("NOT_FOUND", "no endpoint")
        return JSONResponse({"errors": [{"code": code, "message": f"{what} at {request.url.path[:200]}"}]},
                            status_code=status)
    visitor = await visitor_of(request)
    if status == 405:
        return error_page(visitor, MethodNotAllowed(f"method {request.method[:10]} not allowed here"))
    return error_page(visitor, NotFound(f"no page at {request.url.path[:200]}"))


class MethodNotAllowed(RegistryError):
    code, status, default_message = "METHOD_NOT_ALLOWED", 405, "method not allowed"


def create_ui(services: Services) -> ASGIApp:
    """The portal app; `services` must have been started (the portal key comes from the signing key)."""
    app = Starlette(routes=_routes(), exception_handlers={404: _not_found, 405: _not_found})
    app.state.services = services
    return app
