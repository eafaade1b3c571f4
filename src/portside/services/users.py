"""Local users: create, update, delete, passwords and CLI secrets.

Who may do what: managing other users needs the system `user` permission (system
administrators); a signed-in user may read and update their own profile, change
their own password (with the old one) and set their own CLI secret. The last
system administrator can neither be deleted nor lose the flag (412), and nobody
can delete their own account (403). Passwords and CLI secrets are stored only as
argon2id hashes; a generated CLI secret is returned once, by `set_cli_secret`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from portside.domain.errors import BadRequest, Conflict, Denied, NotFound, PreconditionFailed, Unauthorized
from portside.domain.identity import validate_secret, validate_username
from portside.domain.models import User
from portside.domain.query import parse_query
from portside.domain.rbac import (
    PUBLIC_PROJECT_PERMISSIONS,
    ROLE_PERMISSIONS,
    SYSTEM_PERMISSIONS,
    Permission,
    Principal,
    PrincipalKind,
    is_allowed,
)
from portside.services.audit import Actor
from portside.services.deps import ServiceDeps
from portside.services.passwords import generate_secret, hash_secret, verify_secret
from portside.store import repositories as project_store
from portside.store import users as user_store

EMAIL_RE = re.compile(r"^[^@\s<>(),;:\"]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
MAX_NAME_LENGTH = 255
MAX_COMMENT_LENGTH = 1024
CLI_SECRET_LENGTH = 32
#: Harbor's sortable user fields -> store columns.
USER_SORT_FIELDS = {"user_id": "id", "username": "username", "email": "email", "creation_time": "created_at",
                    "update_time": "updated_at"}

PROJECT_SCOPE_RE = re.compile(r"^/project/([^/]+)$")
SYSTEM_SCOPE = "/system"


#: The system-scope pairs (one table, in domain.rbac) and the resources they name.
SYSTEM_POLICIES = SYSTEM_PERMISSIONS
SYSTEM_RESOURCES = frozenset(resource for resource, _ in SYSTEM_POLICIES)
#: Every project-scope pair some role (or a public project) grants.
PROJECT_POLICIES: frozenset[Permission] = frozenset().union(*ROLE_PERMISSIONS.values(), PUBLIC_PROJECT_PERMISSIONS)


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    password: str
    email: str = ""
    realname: str = ""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """The profile fields to change; None leaves a field as it is."""

    email: str | None = None
    realname: str | None = None
    comment: str | None = None


def parse_sort(sort: str | None, fields: dict[str, str]) -> list[tuple[str, bool]]:
    """Harbor's `sort=a,-b` as (store column, descending) pairs; BadRequest for an unknown field."""
    order: list[tuple[str, bool]] = []
    for raw in (sort or "").split(","):
        name = raw.strip()
        if not name:
            continue
        descending = name.startswith("-")
        name = name.lstrip("-+")
        if name not in fields:
            raise BadRequest(f"cannot sort by {name[:60]!r}: use one of {', '.join(sorted(fields))}")
        order.append((fields[name], descending))
    return order


def _check_email(email: str) -> str | None:
    """The email to store (None for empty); BadRequest when malformed."""
    if not email:
        return None
    if len(email) > MAX_NAME_LENGTH or not EMAIL_RE.match(email):
        raise BadRequest(f"invalid email {email[:80]!r}: expected an address like name@example.org")
    return email


def _check_text(value: str, what: str, limit: int) -> str:
    if len(value) > limit:
        raise BadRequest(f"the {what} must be at most {limit} characters")
    return value


class UserService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    # --- permission helpers --------------------------------------------------------------------

    async def _require_self_or(self, principal: Principal, user_id: int, action: str) -> None:
        """Pass for the user themself; otherwise the system `user` permission (Unauthorized/Denied)."""
        if principal.kind is PrincipalKind.USER and principal.user_id == user_id:
            return
        await self._deps.access.require(principal, None, "user", action)

    async def _find(self, user_id: int) -> User:
        async with self._deps.db.read() as conn:
            user = await user_store.find_by_id(conn, user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        return user

    # --- queries ------------------------------------------------------------------------------

    async def get(self, principal: Principal, user_id: int) -> User:
        """A user's profile: themself, or anyone for holders of system `user:read`."""
        await self._require_self_or(principal, user_id, "read")
        return await self._find(user_id)

    async def current(self, principal: Principal) -> User:
        """The signed-in user; Unauthorized for anonymous callers, 412 for robot accounts."""
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        if principal.kind is not PrincipalKind.USER or principal.user_id is None:
            raise PreconditionFailed(f"{principal.name} is a robot account, not a user: it has no user profile")
        async with self._deps.db.read() as conn:
            user = await user_store.find_by_id(conn, principal.user_id)
        if user is None:
            raise Unauthorized("the signed-in user no longer exists")
        return user

    async def list_users(self, principal: Principal, q: str | None, sort: str | None, offset: int,
                         limit: int) -> tuple[list[User], int]:
        """Users filtered by `q` (username, email: exact or `=~` substring), for system `user:list`."""
        await self._deps.access.require(principal, None, "user", "list")
        filters: dict[str, str | None] = {}
        for key, term in parse_query(q).items():
            if key not in ("username", "email") or term.kind not in ("exact", "fuzzy"):
                raise BadRequest(f"unsupported query {key}: use username=, username=~, email= or email=~")
            filters[key if term.kind == "exact" else f"{key}_like"] = term.value
        order = parse_sort(sort, USER_SORT_FIELDS)
        async with self._deps.db.read() as conn:
            return await user_store.list_matching(conn, **filters, order=order, offset=offset, limit=limit)

    async def search(self, principal: Principal, username: str, offset: int, limit: int) -> tuple[list[User], int]:
        """Users whose name contains `username`; any signed-in caller (to pick members)."""
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        if not username:
            raise BadRequest("username must not be empty")
        async with self._deps.db.read() as conn:
            return await user_store.search_usernames(conn, username, offset=offset, limit=limit)

    # --- changes ------------------------------------------------------------------------------

    async def create(self, principal: Principal, actor: Actor, new: NewUser) -> int:
        """Create a local user (system `user:create`); returns its id. 400 invalid, 409 taken."""
        await self._deps.access.require(principal, None, "user", "create")
        username = validate_username(new.username)
        if not new.email:
            raise BadRequest("email is required")
        email = _check_email(new.email)
        realname = _check_text(new.realname, "realname", MAX_NAME_LENGTH)
        comment = _check_text(new.comment, "comment", MAX_COMMENT_LENGTH)
        password_hash = hash_secret(validate_secret(new.password, "password"))
        async with self._deps.db.write() as conn:
            if await user_store.find_by_name(conn, username) is not None:
                raise Conflict(f"username {username} is already taken")
            if email and await user_store.find_by_email(conn, email) is not None:
                raise Conflict(f"email {email} is already used by another user")
            user_id = await user_store.insert_unless_taken(conn, username=username, password_hash=password_hash,
                                                           email=email, realname=realname, comment=comment)
        if user_id is None:
            raise Conflict(f"username {username} or email {email} is already taken")
        self._deps.audit.record(actor, "create", "user", username)
        return user_id

    async def update_profile(self, principal: Principal, actor: Actor, user_id: int,
                             changes: ProfileChanges) -> None:
        """Change email, realname or comment: the user themself, or system `user:update`."""
        await self._require_self_or(principal, user_id, "update")
        values: dict[str, str | None] = {}
        if changes.email is not None:
            values["email"] = _check_email(changes.email)
        if changes.realname is not None:
            values["realname"] = _check_text(changes.realname, "realname", MAX_NAME_LENGTH)
        if changes.comment is not None:
            values["comment"] = _check_text(changes.comment, "comment", MAX_COMMENT_LENGTH)
        async with self._deps.db.write() as conn:
            user = await user_store.find_by_id(conn, user_id)
            if user is None:
                raise NotFound(f"user {user_id} not found")
            email = values.get("email")
            if email and email != user.email and await user_store.find_by_email(conn, email) is not None:
                raise Conflict(f"email {email} is already used by another user")
            if values:
                await user_store.update_fields(conn, user_id, **values)
        self._deps.audit.record(actor, "update", "user", user.username)

    async def delete(self, principal: Principal, actor: Actor, user_id: int) -> None:
        """Delete a user (system `user:delete`); never oneself (403) nor the last system administrator (412)."""
        await self._deps.access.require(principal, None, "user", "delete")
        if principal.kind is PrincipalKind.USER and principal.user_id == user_id:
            raise Denied("you cannot delete your own account")
        async with self._deps.db.write() as conn:
            user = await user_store.find_by_id(conn, user_id)
            if user is None:
                raise NotFound(f"user {user_id} not found")
            if user.sysadmin and await user_store.lock_sysadmins(conn) <= 1:
                raise PreconditionFailed(f"{user.username} is the last system administrator and cannot be deleted")
            await user_store.remove(conn, user_id)
        self._deps.authenticator.forget_all()
        self._deps.audit.record(actor, "delete", "user", user.username)

    async def set_sysadmin(self, principal: Principal, actor: Actor, user_id: int, flag: bool) -> None:
        """Grant or revoke the system administrator flag (system `user:update`); the last one stays (412)."""
        await self._deps.access.require(principal, None, "user", "update")
        async with self._deps.db.write() as conn:
            user = await user_store.find_by_id(conn, user_id)
            if user is None:
                raise NotFound(f"user {user_id} not found")
            if user.sysadmin and not flag and await user_store.lock_sysadmins(conn) <= 1:
                raise PreconditionFailed(
                    f"{user.username} is the last system administrator: make another user an administrator first")
            if user.sysadmin != flag:
                await user_store.update_fields(conn, user_id, sysadmin=flag)
        self._deps.authenticator.forget_all()
        self._deps.audit.record(actor, "update", "user", user.username,
                                description=f"sysadmin_flag={str(flag).lower()}")

    async def change_password(self, principal: Principal, actor: Actor, user_id: int, old_password: str | None,
                              new_password: str) -> None:
        """Change a password. Oneself: `old_password` must be right (400 missing, 403 wrong).
        Another user's: system `user:update` (an administrator resets it without the old one)."""
        is_self = principal.kind is PrincipalKind.USER and principal.user_id == user_id
        if not is_self:
            await self._deps.access.require(principal, None, "user", "update")
        user = await self._find(user_id)
        if is_self:
            if not old_password:
                raise BadRequest("old_password is required to change your own password")
            if not verify_secret(user.password_hash, old_password):
                raise Denied("the old password is not correct")
        validate_secret(new_password, "new password")
        if verify_secret(user.password_hash, new_password):
            raise BadRequest("the new password must differ from the current one")
        async with self._deps.db.write() as conn:
            if await user_store.find_by_id(conn, user_id) is None:
                raise NotFound(f"user {user_id} not found")
            await user_store.update_fields(conn, user_id, password_hash=hash_secret(new_password))
        self._deps.authenticator.forget_all()
        self._deps.audit.record(actor, "update", "user", user.username, description="password changed")

    async def set_cli_secret(self, principal: Principal, actor: Actor, user_id: int, secret: str | None) -> str | None:
        """Set the user's CLI secret (a second password for docker and scripts): themself or `user:update`.

        With a secret, it must meet the password policy and None is returned; without one
        (None or ""), a random secret is generated and returned: the only time it is shown.
        The previous CLI secret stops working at once.
        """
        await self._require_self_or(principal, user_id, "update")
        generated = None
        if secret:
            validate_secret(secret, "CLI secret")
        else:
            secret = generated = generate_secret(CLI_SECRET_LENGTH)
        secret_hash = hash_secret(secret)
        async with self._deps.db.write() as conn:
            user = await user_store.find_by_id(conn, user_id)
            if user is None:
                raise NotFound(f"user {user_id} not found")
            await user_store.update_fields(conn, user_id, cli_secret_hash=secret_hash)
        self._deps.authenticator.forget_all()
        self._deps.audit.record(actor, "update", "user", user.username, description="CLI secret changed")
        return generated

    # --- permissions ----------------------------------------------------------------------------

    async def permissions(self, principal: Principal, scope: str | None, relative: bool) -> list[Permission]:
        """What the caller may do, as (resource, action) pairs sorted by resource then action.

        `scope` is `/project/<id or name>` (Harbor's form) for a project, or empty/`/system` for the
        system level. Resources are `<scope>/<resource>` unless `relative`. A project the caller
        cannot see (or that does not exist) yields the public-project pairs or nothing.
        """
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        path = (scope or "").rstrip("/")
        if path in ("", SYSTEM_SCOPE):
            granted = [pair for pair in sorted(SYSTEM_POLICIES) if is_allowed(principal, None, *pair)]
            prefix = SYSTEM_SCOPE
        else:
            match = PROJECT_SCOPE_RE.match(path)
            if match is None:
                raise BadRequest("scope must be /system or /project/<project id or name>")
            granted = await self._project_permissions(principal, match.group(1))
            prefix = path
        return [(resource if relative else f"{prefix}/{resource}", action) for resource, action in granted]

    async def _project_permissions(self, principal: Principal, name_or_id: str) -> list[Permission]:
        async with self._deps.db.read() as conn:
            if name_or_id.isascii() and name_or_id.isdigit():
                project = await project_store.find_project_by_id(conn, int(name_or_id))
            else:
                project = await project_store.find_project(conn, name_or_id)
            if project is None:
                return []
            facts = await self._deps.access.project_access(principal, project.name, conn)
        if facts is None:
            return []
        return [pair for pair in sorted(PROJECT_POLICIES) if is_allowed(principal, facts, *pair)]
