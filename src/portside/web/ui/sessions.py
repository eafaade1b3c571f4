"""Portal sessions: a signed, stateless `sid` cookie naming a user until an expiry.

The cookie is `v1.<user id>.<expires>.<nonce>.<fingerprint>.<signature>`, signed with
HMAC-SHA256 under a key derived from the registry's token signing key (kept in the
database, so every server node accepts every other node's sessions). The fingerprint
is an HMAC of the user's password hash: changing the password (or deleting the user)
ends every session of that user at once. Signing out deletes the cookie; a copied
cookie stays valid until its expiry (SESSION_SECONDS, renewed while the user is active),
which is why it is HttpOnly, SameSite=Strict and Secure over TLS. The nonce binds the
CSRF token (`csrf.py`) to one session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import weakref
from dataclasses import dataclass

from portside.domain.errors import Denied
from portside.domain.models import User
from portside.domain.rbac import Principal, PrincipalKind
from portside.services.bundle import Services
from portside.services.identity import user_principal
from portside.services.tokens import TokenService
from portside.store import signing_keys as key_store
from portside.store import users as user_store
from portside.web.ui import csrf

COOKIE = "sid"
#: Anonymous visitors' CSRF binding (the sign-in form), a random value.
SEED_COOKIE = "csrf_seed"
SESSION_SECONDS = 60 * 60
#: A session with less than this left is renewed (same nonce) on the next page.
RENEW_BELOW_SECONDS = SESSION_SECONDS // 2
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_VERSION = "v1"
_KEY_LABEL = b"portside portal session v1"
_keys: weakref.WeakKeyDictionary[TokenService, bytes] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class Session:
    """A verified session cookie: whose it is, until when, and its CSRF binding."""

    user_id: int
    expires: int
    nonce: str

    @property
    def needs_renewal(self) -> bool:
        return self.expires - int(time.time()) < RENEW_BELOW_SECONDS


async def portal_key(services: Services) -> bytes:
    """The portal's HMAC key, derived from the database-stored token signing key (read once)."""
    key = _keys.get(services.tokens)
    if key is None:
        async with services.db.read() as conn:
            found = await key_store.find_current(conn)
        if found is None:
            raise RuntimeError("no signing key yet: services.start() has not run")
        key = hmac.new(found[1].encode(), _KEY_LABEL, hashlib.sha256).digest()
        _keys[services.tokens] = key
    return key


def _sign(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _fingerprint(key: bytes, user: User) -> str:
    return _sign(key, f"password\0{user.password_hash}")[:16]


def issue(key: bytes, user: User, *, nonce: str | None = None, now: int | None = None) -> str:
    """A new cookie value for `user` (a fresh nonce unless renewing one)."""
    expires = (now if now is not None else int(time.time())) + SESSION_SECONDS
    payload = f"{_VERSION}.{user.id}.{expires}.{nonce or secrets.token_urlsafe(16)}.{_fingerprint(key, user)}"
    return f"{payload}.{_sign(key, payload)}"


def _verified_fields(key: bytes, value: str, now: int) -> tuple[int, int, str, str] | None:
    """(user id, expires, nonce, fingerprint) of a well-signed, unexpired cookie, else None."""
    payload, _, signature = value.rpartition(".")
    if not hmac.compare_digest(_sign(key, payload), signature):
        return None
    parts = payload.split(".")
    if len(parts) != 5 or parts[0] != _VERSION or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    expires = int(parts[2])
    if expires <= now:
        return None
    return int(parts[1]), expires, parts[3], parts[4]


async def open_session(services: Services, value: str | None) -> tuple[Session, User] | None:
    """The session and its user for a cookie value; None when absent, forged, expired, or the
    user is gone or changed their password since."""
    if not value or len(value) > 512:
        return None
    key = await portal_key(services)
    fields = _verified_fields(key, value, int(time.time()))
    if fields is None:
        return None
    user_id, expires, nonce, fingerprint = fields
    async with services.db.read() as conn:
        user = await user_store.find_by_id(conn, user_id)
    if user is None or not hmac.compare_digest(_fingerprint(key, user), fingerprint):
        return None
    return Session(user_id, expires, nonce), user


async def api_principal(services: Services, cookie: str | None, method: str,
                        presented_token: str | None) -> Principal | None:
    """The API caller a portal session cookie names (None: no valid session).

    A write (any method but GET/HEAD/OPTIONS) made with the session must present the
    session's CSRF token in `X-Harbor-CSRF-Token`; otherwise Denied("CSRF token invalid").
    """
    opened = await open_session(services, cookie)
    if opened is None:
        return None
    session, user = opened
    if method.upper() not in SAFE_METHODS:
        key = await portal_key(services)
        if not csrf.is_valid(key, session.nonce, presented_token):
            raise Denied(csrf.INVALID_MESSAGE)
    principal = user_principal(user)
    assert principal.kind is PrincipalKind.USER
    return principal
