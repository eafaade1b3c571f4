"""Pure-ASGI access log: one line per request with method, path, status, bytes,
duration and user. (BaseHTTPMiddleware would cost ~80 % of small-request
throughput; this costs a few percent.)"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("portside.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        sent = 0

        async def logging_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        finally:
            client = scope.get("client")
            user = scope.get("state", {}).get("user") or "-"
            log.info('%s "%s %s" %d %d %.1fms user=%s', client[0] if client else "-", scope["method"],
                     scope["path"], status, sent, (time.perf_counter() - started) * 1000, user)
