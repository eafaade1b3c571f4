"""Authentication: turn presented credentials into a Principal.

Basic credentials are a user's password, a user's CLI secret (the guide's
"Harbor CLI Secret", usable as a docker password) or a robot's secret. Verifying
an argon2 hash costs tens of milliseconds, and registry clients send Basic
credentials on every request, so a successful check is remembered for a short
time under a SHA-256 of the credentials (never the secret itself).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

from portside.core.clock import utcnow
from portside.domain.identity import ROBOT_PREFIX
from portside.domain.models import Robot, User
from portside.domain.rbac import Principal, PrincipalKind, RobotGrant
from portside.services.passwords import verify_secret
from portside.store import robots as robot_store
from portside.store import users as user_store
from portside.store.database import Database

CACHE_SECONDS = 30.0
CACHE_SIZE = 2048


def user_principal(user: User) -> Principal:
    return Principal(PrincipalKind.USER, user.username, user_id=user.id, sysadmin=user.sysadmin)


def robot_principal(robot: Robot) -> Principal:
    grants = tuple(
        RobotGrant(str(entry.get("kind", "")), str(entry.get("namespace", "")),
                   frozenset((str(a.get("resource", "")), str(a.get("action", "")))
                             for a in entry.get("access", []) if a.get("effect", "allow") != "deny"))
        for entry in robot.permissions
    )
    return Principal(PrincipalKind.ROBOT, robot.name, robot_id=robot.id, robot_grants=grants)


def robot_usable(robot: Robot) -> bool:
    """Not disabled and not expired."""
    return not robot.disabled and (robot.expires_at < 0 or robot.expires_at > int(utcnow().timestamp()))


class Authenticator:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()

    async def authenticate_basic(self, username: str, secret: str) -> Principal | None:
        """The principal for these credentials, or None if they are wrong (or the account unusable)."""
        key = hashlib.sha256(f"{username}\0{secret}".encode()).digest()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        principal = await self._check(username, secret)
        if principal is not None:
            self._cache[key] = (time.monotonic() + CACHE_SECONDS, principal)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return principal

    def forget_all(self) -> None:
        """Drop remembered credentials (after a password, secret, role or robot change)."""
        self._cache.clear()

    async def _check(self, username: str, secret: str) -> Principal | None:
        async with self._db.read() as conn:
            if username.startswith(ROBOT_PREFIX):
                robot = await robot_store.find_by_name(conn, username)
                if robot is None or not robot_usable(robot) or not verify_secret(robot.secret_hash, secret):
                    return None
                return robot_principal(robot)
            user = await user_store.find_by_name(conn, username)
        if user is None:
            verify_secret(_DUMMY_HASH, secret)  # same work for unknown names: no timing oracle
            return None
        if verify_secret(user.password_hash, secret) or verify_secret(user.cli_secret_hash, secret):
            return user_principal(user)
        return None

    async def principal_for_subject(self, subject: str) -> Principal | None:
        """The current principal of a token's subject (a user or robot name), or None if gone."""
        async with self._db.read() as conn:
            if subject.startswith(ROBOT_PREFIX):
                robot = await robot_store.find_by_name(conn, subject)
                return robot_principal(robot) if robot and robot_usable(robot) else None
            user = await user_store.find_by_name(conn, subject)
        return user_principal(user) if user else None


_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$mQg0l8RDibbk1bnlTZP8EA$kZWjiODTfmAZZPeVvXr52WfRVp9VHXaSSQlatc0e0sI"
