"""Who is looking at a page: the session (if any), the principal and the CSRF token,
plus the cookie bookkeeping (renewal, the anonymous CSRF seed, flash notices)."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from portside.domain.models import User
from portside.domain.rbac import ANONYMOUS, Principal
from portside.services.audit import Actor
from portside.services.bundle import Services
from portside.services.identity import user_principal
from portside.web.ui import csrf, sessions

FLASH_COOKIE = "flash"


@dataclass
class Visitor:
    """The caller of one portal request."""

    services: Services
    key: bytes
    principal: Principal
    user: User | None
    session: sessions.Session | None
    csrf_binding: str
    secure: bool
    flash: dict[str, str] | None = None
    new_seed: bool = False
    clear_flash: bool = False
    pending_cookies: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def csrf_token(self) -> str:
        return csrf.token_for(self.key, self.csrf_binding)

    @property
    def signed_in(self) -> bool:
        return self.user is not None

    def actor(self, request: Request) -> Actor:
        client = request.client.host if request.client else ""
        return Actor(self.principal.name or "anonymous", self.principal.user_id, client,
                     request.headers.get("user-agent", ""))

    def csrf_ok(self, presented: str | None) -> bool:
        return csrf.is_valid(self.key, self.csrf_binding, presented)

    def finish(self, response: Response) -> Response:
        """Set the cookies this request decided on (renewed session, seed, flash)."""
        if self.session is not None and self.user is not None and self.session.needs_renewal:
            value = sessions.issue(self.key, self.user, nonce=self.session.nonce)
            set_cookie(response, sessions.COOKIE, value, sessions.SESSION_SECONDS, self.secure)
        if self.new_seed:
            set_cookie(response, sessions.SEED_COOKIE, self.csrf_binding, sessions.SESSION_SECONDS, self.secure)
        if self.clear_flash and not any(name == FLASH_COOKIE for name, _, _ in self.pending_cookies):
            response.delete_cookie(FLASH_COOKIE, path="/", secure=self.secure, httponly=True, samesite="strict")
        for name, value, max_age in self.pending_cookies:
            set_cookie(response, name, value, max_age, self.secure)
        response.headers[csrf.HEADER] = self.csrf_token
        return response

    def notify(self, kind: str, text: str) -> None:
        """Show `text` on the next page (kind: ok | error)."""
        payload = base64.urlsafe_b64encode(json.dumps({"kind": kind, "text": text[:500]}).encode()).decode()
        self.pending_cookies.append((FLASH_COOKIE, f"{payload}.{_flash_signature(self.key, payload)}", 120))


def set_cookie(response: Response, name: str, value: str, max_age: int, secure: bool) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="strict")


def _flash_signature(key: bytes, payload: str) -> str:
    return hmac.new(key, f"flash\0{payload}".encode(), "sha256").hexdigest()[:32]


def _read_flash(key: bytes, value: str | None) -> dict[str, str] | None:
    if not value:
        return None
    payload, _, signature = value.rpartition(".")
    if not hmac.compare_digest(_flash_signature(key, payload), signature):
        return None
    try:
        found = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    return {"kind": str(found.get("kind", "ok")), "text": str(found.get("text", ""))}


def is_secure(request: Request, services: Services) -> bool:
    """Cookies are Secure when served over TLS (or behind an https external URL)."""
    external = services.settings.external_url or ""
    return request.url.scheme == "https" or external.startswith("https://")


async def visitor_of(request: Request) -> Visitor:
    """The visitor of `request` (anonymous without a valid session)."""
    services: Services = request.app.state.services
    key = await sessions.portal_key(services)
    opened = await sessions.open_session(services, request.cookies.get(sessions.COOKIE))
    secure = is_secure(request, services)
    flash_value = request.cookies.get(FLASH_COOKIE)
    flash = _read_flash(key, flash_value)
    if opened is not None:
        session, user = opened
        visitor = Visitor(services, key, user_principal(user), user, session, session.nonce, secure, flash)
    else:
        seed = request.cookies.get(sessions.SEED_COOKIE, "")
        fresh = not (16 <= len(seed) <= 64 and seed.isascii())
        visitor = Visitor(services, key, ANONYMOUS, None, None, secrets.token_urlsafe(24) if fresh else seed,
                          secure, flash, new_seed=fresh)
    visitor.clear_flash = flash_value is not None
    return visitor
