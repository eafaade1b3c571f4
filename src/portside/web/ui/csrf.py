"""CSRF tokens: an HMAC of the visitor's session nonce (or, before sign-in, of a random
seed cookie) under the portal key. Pages embed the token; forms send it in the
`csrf_token` field and the portal's JavaScript in the `X-Harbor-CSRF-Token` header."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Harbor-CSRF-Token"
FIELD = "csrf_token"
INVALID_MESSAGE = "CSRF token invalid"


def token_for(key: bytes, binding: str) -> str:
    """The CSRF token of the session (or seed) `binding`."""
    return hmac.new(key, f"csrf\0{binding}".encode(), hashlib.sha256).hexdigest()


def is_valid(key: bytes, binding: str | None, presented: str | None) -> bool:
    """Whether `presented` is the token of `binding` (constant-time)."""
    if not binding or not presented:
        return False
    return hmac.compare_digest(token_for(key, binding), presented)
