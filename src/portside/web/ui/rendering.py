"""Templates and the two kinds of portal endpoints: pages (GET) and form actions (POST).

Jinja2 autoescapes everything. `page` turns service errors into an error page (an
anonymous visitor asked for private content is sent to sign in); `action` checks the
form's CSRF token (403 in Harbor's error format without it), runs the change and
redirects back with a notice (POST/redirect/GET), the service's message on failure.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from portside.domain.errors import NotFound, RegistryError, Unauthorized
from portside.services.row_ids import parse_row_id
from portside.web.ui import csrf
from portside.web.ui.markup import render_markdown
from portside.web.ui.paths import artifact_path, path_quote, repository_path
from portside.web.ui.visitor import Visitor, visitor_of

TEMPLATES = Path(__file__).parent / "templates"
SIGN_IN = "/harbor/sign-in"
HOME = "/harbor/projects"
PageHandler = Callable[[Request, Visitor], Awaitable[Response]]
ActionHandler = Callable[[Request, Visitor, FormData], Awaitable[tuple[str, str]]]
FormPageHandler = Callable[[Request, Visitor, FormData], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def human_size(value: int | None) -> str:
    """1536 -> '1.5 KiB'."""
    if value is None or value < 0:
        return "—"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"


def when(value: datetime | str | None) -> str:
    """A time as `2024-03-15 10:30 UTC` ('—' for none)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)[:40]
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def short_digest(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    return f"{algorithm}:{hexdigest[:12]}" if hexdigest else digest[:19]


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(size=human_size, when=when, epoch=lambda seconds: when(datetime.fromtimestamp(seconds, UTC)),
                       short=short_digest, markdown=render_markdown, pq=path_quote)
    env.globals.update(artifact_path=artifact_path, repository_path=repository_path)
    return env


ENVIRONMENT = _environment()


def render(visitor: Visitor, template: str, status: int = 200, **context: Any) -> Response:
    """The page `template` for `visitor`, with the common context (user, CSRF token, notice)."""
    html = ENVIRONMENT.get_template(template).render(
        visitor=visitor, user=visitor.user, principal=visitor.principal, csrf_token=visitor.csrf_token,
        csrf_field=csrf.FIELD, flash=visitor.flash, **context)
    return visitor.finish(HTMLResponse(html, status_code=status))


def safe_path(value: str | None, default: str = HOME) -> str:
    """A same-site path to go back to (never another host: no `//`, no scheme)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > 2000:
        return default
    return value


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{SIGN_IN}?{urlencode({'next': target})}", status_code=303)


def error_page(visitor: Visitor, error: RegistryError) -> Response:
    status = error.status if 400 <= error.status < 500 else 500
    message = error.message if status < 500 else "internal server error"
    return render(visitor, "error.html", status=status, status_code=status, message=message)


def page(handler: PageHandler) -> Endpoint:
    """A GET page: service errors become an error page; Unauthorized sends to sign in."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        visitor = await visitor_of(request)
        try:
            return await handler(request, visitor)
        except Unauthorized:
            return visitor.finish(sign_in_redirect(request))
        except RegistryError as error:
            return error_page(visitor, error)

    return endpoint


def csrf_refused() -> JSONResponse:
    return JSONResponse({"errors": [{"code": "FORBIDDEN", "message": csrf.INVALID_MESSAGE}]}, status_code=403)


def action(handler: ActionHandler) -> Endpoint:
    """A form POST: CSRF-checked; on success redirects where the handler says with its notice,
    on a service error back to the form's `back` path with the error's message."""

    async def redirecting(request: Request, visitor: Visitor, form: FormData) -> Response:
        target, notice = await handler(request, visitor, form)
        if notice:
            visitor.notify("ok", notice)
        return RedirectResponse(safe_path(target, _back_path(form)), status_code=303)

    return functools.wraps(handler)(_form_post(redirecting))


def answering_action(handler: FormPageHandler) -> Endpoint:
    """A form POST whose success is a page, not a redirect (a secret shown once must never pass
    through a redirect or the notice cookie); CSRF and errors are handled as by `action`."""
    return functools.wraps(handler)(_form_post(handler))


def _back_path(form: FormData) -> str:
    back = form.get("back")
    return safe_path(back if isinstance(back, str) else None)


def _form_post(handler: FormPageHandler) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        visitor = await visitor_of(request)
        form = await request.form()
        token = form.get(csrf.FIELD)
        if not visitor.csrf_ok(token if isinstance(token, str) else None):
            return csrf_refused()
        try:
            response = await handler(request, visitor, form)
        except Unauthorized:
            return visitor.finish(sign_in_redirect(request))
        except RegistryError as error:
            visitor.notify("error", error.message if error.status < 500 else "internal server error")
            return visitor.finish(RedirectResponse(_back_path(form), status_code=303))
        return visitor.finish(response)

    return endpoint


def path_row_id(request: Request, name: str, what: str) -> int:
    """The row id in path parameter `name`; NotFound (naming `what`) for anything that can name no row."""
    raw = str(request.path_params[name])
    value = parse_row_id(raw)
    if value is None:
        raise NotFound(f"{what} {raw[:20]} not found")
    return value


def field(form: FormData, name: str, limit: int = 4096) -> str:
    """A text field of the form ('' when missing), trimmed to `limit` characters."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, min(int(raw), 1_000_000)) if raw.isdigit() else 1


class Pager:
    """Server-side pagination: which rows to ask for (`offset`, `page_size`); after the query,
    `total` is set and the template shows the links."""

    def __init__(self, request: Request, page_size: int) -> None:
        self.page = page_number(request)
        self.page_size = page_size
        self.total = 0
        self._request = request

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def link(self, number: int) -> str:
        query = dict(self._request.query_params)
        query["page"] = str(number)
        return f"{self._request.url.path}?{urlencode(query)}"
