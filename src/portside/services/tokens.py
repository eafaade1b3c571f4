"""Registry bearer tokens (Docker token authentication), signed RS256 JWTs.

The signing key is generated on first start and kept in the database, so every
server node signs and verifies with the same key. Claims follow Harbor's token
service: iss, sub, aud, exp, nbf, iat, jti and `access` entries of
{type, name, actions}.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from portside.core.clock import utcnow
from portside.store import signing_keys as key_store
from portside.store.database import Database

ISSUER = "harbor-token-issuer"
VERIFIED_CACHE_SIZE = 4096
SERVICE = "harbor-registry"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """A verified token: who it was issued to and what it grants."""

    subject: str
    access: dict[tuple[str, str], frozenset[str]]  # (type, name) -> actions
    issued_at: int
    expires_at: int

    def allows(self, kind: str, name: str, action: str) -> bool:
        granted = self.access.get((kind, name), frozenset())
        return action in granted or "*" in granted


class TokenService:
    def __init__(self, db: Database, *, expiration_minutes: int) -> None:
        self._db = db
        self._expiration = expiration_minutes * 60
        self._kid = ""
        self._private: RSAPrivateKey | None = None
        self._public: RSAPublicKey | None = None
        self._verified: OrderedDict[str, tuple[int, TokenClaims]] = OrderedDict()

    async def load_or_create_key(self) -> None:
        """Load the signing key, generating and storing it on the very first start."""
        async with self._db.read() as conn:
            found = await key_store.find_current(conn)
        if found is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
            async with self._db.write() as conn:
                await key_store.add(conn, secrets.token_hex(16), pem)
                found = await key_store.find_current(conn)
        assert found is not None
        self._kid, pem = found
        private = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(private, RSAPrivateKey)
        self._private, self._public = private, private.public_key()

    def issue(self, subject: str, access: list[dict[str, Any]]) -> IssuedToken:
        """Sign a token for `subject` granting `access` ([{type, name, actions}])."""
        assert self._private is not None, "load_or_create_key() first"
        now = utcnow()
        issued = int(now.timestamp())
        claims = {
            "iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": issued + self._expiration, "nbf": issued,
            "iat": issued, "jti": secrets.token_urlsafe(12), "access": access,
        }
        token = jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self._kid})
        return IssuedToken(token, self._expiration, now)

    def verify(self, token: str) -> TokenClaims | None:
        """The claims of a valid, unexpired token of ours, else None (bad signature, expired, foreign).

        Clients send the same token on every request, so a verified token is remembered
        until it expires: the RSA check runs once per token, not once per request.
        """
        cached = self._verified.get(token)
        if cached is not None:
            if cached[0] > time.time():
                return cached[1]
            self._verified.pop(token, None)
        claims = self._verify(token)
        if claims is not None:
            self._verified[token] = (claims.expires_at, claims)
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str) -> TokenClaims | None:
        assert self._public is not None, "load_or_create_key() first"
        try:
            claims = jwt.decode(token, self._public, algorithms=["RS256"], audience=SERVICE, issuer=ISSUER,
                                options={"require": ["exp", "iat", "sub"]})
        except jwt.PyJWTError:
            return None
        access: dict[tuple[str, str], frozenset[str]] = {}
        for entry in claims.get("access") or []:
            if isinstance(entry, dict):
                key = (str(entry.get("type", "")), str(entry.get("name", "")))
                access[key] = frozenset(str(a) for a in entry.get("actions") or [])
        return TokenClaims(str(claims["sub"]), access, int(claims["iat"]), int(claims["exp"]))


def utc_timestamp(value: datetime) -> str:
    """RFC 3339 with a Z, as Harbor writes issued_at."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
