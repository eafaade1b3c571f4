"""A pure-ASGI guard in front of every /api/v2.0 route: what no route may be handed.

* A body over `MAX_BODY_BYTES` (1 MiB; the API's bodies are small JSON documents) is answered
  `413 REQUEST_ENTITY_TOO_LARGE` at once when Content-Length announces it, else as soon as the
  bytes read pass the limit; a bigger body is never buffered.
* A NUL character is answered `400 BAD_REQUEST`, wherever it hides: in the path or the query
  string (also percent-encoded twice, as `{repository_name}` and `q=` are decoded once more by
  the routes), or as `\\u0000` in a JSON body. PostgreSQL text cannot hold NUL, so without this
  guard such a name reached the driver and came back as a 500 (SQLite stored it).

Both answers are Harbor's error JSON. Everything else passes through unchanged, the body replayed
from the buffer (at most 1 MiB per request).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portside.web.api.errors import harbor_error

MAX_BODY_BYTES = 1024 * 1024
_DECODE_ROUNDS = 3  # a route decodes at most once more than the server: three rounds find any NUL
# `\u0000` that is an escape, not text after an escaped backslash (`\\u0000` is the 6 characters).
_JSON_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class RequestGuard:
    """Refuses oversized bodies (413) and NUL characters (400) before the app sees the request."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope["path"].encode("utf-8", "surrogatepass")) or _has_nul(scope["query_string"]):
            await harbor_error(400, "BAD_REQUEST", "the path or query contains a NUL character")(scope, receive, send)
            return
        declared = _content_length(scope)
        body = None if declared is not None and declared > self.max_body_bytes else await self._read(receive)
        if body is None:
            message = f"the request body exceeds {self.max_body_bytes} bytes"
            await harbor_error(413, "REQUEST_ENTITY_TOO_LARGE", message)(scope, receive, send)
            return
        if b"\x00" in body or _JSON_NUL_ESCAPE.search(body):
            await harbor_error(400, "BAD_REQUEST", "the request body contains a NUL character")(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it grows past the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client went away; the app will see the disconnect
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _has_nul(raw: bytes) -> bool:
    """Whether `raw` holds a NUL, as is or after up to three rounds of percent-decoding."""
    for _ in range(_DECODE_ROUNDS + 1):
        if b"\x00" in raw:
            return True
        if b"%" not in raw:
            return False
        raw = unquote_to_bytes(raw)
    return b"\x00" in raw


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that yields the buffered body once, then whatever the client sends next."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
