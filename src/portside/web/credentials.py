"""Parsing the Authorization header, shared by /v2, the token service and /api/v2.0."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    username: str
    secret: str


@dataclass(frozen=True, slots=True)
class BearerCredentials:
    token: str


Credentials = BasicCredentials | BearerCredentials


class MalformedCredentials(ValueError):
    """The Authorization header is present but unreadable."""


def parse_authorization(header: str | None) -> Credentials | None:
    """The credentials in an Authorization header; None when absent. Raises MalformedCredentials."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise MalformedCredentials("Basic credentials are not valid base64 of user:secret") from None
        username, sep, secret = decoded.partition(":")
        if not sep or not username:
            raise MalformedCredentials("Basic credentials must be user:secret")
        return BasicCredentials(username, secret)
    if scheme == "bearer" and value:
        return BearerCredentials(value)
    raise MalformedCredentials(f"unsupported authorization scheme {scheme[:20]!r}")
