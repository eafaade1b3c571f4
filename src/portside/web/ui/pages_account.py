"""Signing in and out, the user's profile, and the system administrator's pages."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portside.domain.errors import BadRequest, Denied, Unauthorized
from portside.domain.rbac import PrincipalKind
from portside.services.audit import AuditLogViewer
from portside.services.users import NewUser
from portside.store import users as user_store
from portside.web.ui import csrf, sessions
from portside.web.ui.rendering import SIGN_IN, Pager, action, csrf_refused, field, page, render, safe_path
from portside.web.ui.visitor import Visitor, set_cookie, visitor_of

BAD_CREDENTIALS = "Invalid user name or password."
PAGE_SIZE = 20


async def sign_in_page(request: Request) -> Response:
    visitor = await visitor_of(request)
    target = safe_path(request.query_params.get("next"))
    if visitor.signed_in:
        return visitor.finish(RedirectResponse(target, status_code=303))
    return render(visitor, "sign_in.html", next=target, error=None, principal_name="")


async def login(request: Request) -> Response:
    """`POST /c/login` (form `principal`, `password`): users sign in with a password or CLI secret;
    robot accounts may not. Success sets the `sid` cookie and redirects to `next`."""
    visitor = await visitor_of(request)
    form = await request.form()
    if not visitor.csrf_ok(field(form, csrf.FIELD) or request.headers.get(csrf.HEADER)):
        return csrf_refused()
    name, password = field(form, "principal", 255).strip(), field(form, "password", 256)
    target = safe_path(field(form, "next"))
    found = await visitor.services.authenticator.authenticate_basic(name, password) if name and password else None
    if found is None or found.kind is not PrincipalKind.USER or found.user_id is None:
        error = "Robot accounts cannot sign in to the portal." if found is not None else BAD_CREDENTIALS
        return render(visitor, "sign_in.html", status=401, next=target, error=error, principal_name=name)
    async with visitor.services.db.read() as conn:
        user = await user_store.find_by_id(conn, found.user_id)
    if user is None:
        return render(visitor, "sign_in.html", status=401, next=target, error=BAD_CREDENTIALS, principal_name=name)
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, sessions.COOKIE, sessions.issue(visitor.key, user), sessions.SESSION_SECONDS, visitor.secure)
    response.delete_cookie(sessions.SEED_COOKIE, path="/")
    return response


async def log_out(request: Request) -> Response:
    """`GET /c/log_out`: forget the session cookie and go to the sign-in page."""
    response = RedirectResponse(SIGN_IN, status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _require_user(visitor: Visitor) -> int:
    if visitor.user is None:
        raise Unauthorized("sign in to see your profile")
    return visitor.user.id


@page
async def profile(request: Request, visitor: Visitor) -> Response:
    _require_user(visitor)
    user = await visitor.services.users.current(visitor.principal)
    return render(visitor, "profile.html", profile=user, has_cli_secret=user.cli_secret_hash is not None)


@action
async def change_password(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    user_id = _require_user(visitor)
    new_password = field(form, "new_password", 256)
    if new_password != field(form, "confirm_password", 256):
        raise BadRequest("the new password and its confirmation differ")
    await visitor.services.users.change_password(visitor.principal, visitor.actor(request), user_id,
                                                 field(form, "old_password", 256), new_password)
    # The session is bound to the old password: sign in again.
    return SIGN_IN, "Password changed: sign in with the new password."


async def _require_sysadmin(visitor: Visitor) -> None:
    if visitor.user is None:
        raise Unauthorized("sign in as a system administrator")
    if not visitor.principal.sysadmin:
        raise Denied("this page is for system administrators")


@page
async def admin_users(request: Request, visitor: Visitor) -> Response:
    await _require_sysadmin(visitor)
    search = request.query_params.get("username", "").strip()[:255]
    pager = Pager(request, PAGE_SIZE)
    users, pager.total = await visitor.services.users.list_users(
        visitor.principal, f"username=~{search}" if search else None, None, pager.offset, PAGE_SIZE)
    return render(visitor, "admin_users.html", users=users, pager=pager, search=search)


@action
async def create_user(request: Request, visitor: Visitor, form: FormData) -> tuple[str, str]:
    await _require_sysadmin(visitor)
    username = field(form, "username", 255).strip()
    await visitor.services.users.create(visitor.principal, visitor.actor(request), NewUser(
        username=username, password=field(form, "password", 256), email=field(form, "email", 255).strip(),
        realname=field(form, "realname", 255).strip()))
    return "/harbor/admin/users", f"User {username} created."


LOG_FILTERS = ("username", "operation", "resource_type", "resource")


def audit_query(request: Request) -> tuple[str | None, dict[str, str]]:
    """Harbor's audit `q` from the filter form (substring matches), and the filters shown."""
    shown = {key: request.query_params.get(key, "").strip()[:100] for key in LOG_FILTERS}
    terms = [f"{key}=~{value}" for key, value in shown.items() if value and "," not in value]
    return (",".join(terms) or None), shown


@page
async def admin_logs(request: Request, visitor: Visitor) -> Response:
    await _require_sysadmin(visitor)
    q, shown = audit_query(request)
    pager = Pager(request, PAGE_SIZE)
    viewer = AuditLogViewer(visitor.services.audit, visitor.services.access, visitor.services.db)
    entries, pager.total = await viewer.list_visible(visitor.principal, q, None, offset=pager.offset,
                                                     limit=PAGE_SIZE)
    return render(visitor, "admin_logs.html", entries=entries, pager=pager, filters=shown)
