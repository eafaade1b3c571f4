"""Test support for the scanner adapter API: a real HTTP server on 127.0.0.1 (uvicorn, in the
test's event loop) and a fake adapter implementing the Pluggable Scanner Adapter API v1.2.

The fake adapter answers `GET /scan/{id}/report` with `302` + `Refresh-After` for its first
`pending_polls` polls, then `200` with a fixed report; it records every request it received so
tests can assert what the client sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

ERROR_MIME = "application/vnd.scanner.adapter.error+json; version=1.0"
REPORT_MIME = "application/vnd.security.vulnerability.report; version=1.1"
FAKE_REPORT = {"generated_at": "2024-03-15T10:30:00Z", "scanner": {"name": "Fake", "vendor": "Tests", "version": "1"},
               "severity": "High", "vulnerabilities": [
                   {"id": "CVE-2021-23337", "package": "lodash", "version": "4.17.15", "fix_version": "4.17.21",
                    "severity": "High", "description": "", "links": []}]}
FAKE_METADATA = {
    "scanner": {"name": "Fake", "vendor": "Tests", "version": "1.0"},
    "capabilities": [{"type": "vulnerability",
                      "consumes_mime_types": ["application/vnd.oci.image.manifest.v1+json",
                                              "application/vnd.docker.distribution.manifest.v2+json"],
                      "produces_mime_types": [REPORT_MIME]}],
    "properties": {"harbor.scanner-adapter/scanner-type": "os-package-vulnerability"},
}


@contextlib.asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` over real HTTP on a free 127.0.0.1 port for the block; yields its base URL.
    Starting and stopping are bounded (5 s each)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "the test HTTP server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 5)
        sock.close()


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status, media_type=ERROR_MIME)


@dataclass
class FakeAdapter:
    """The adapter's state; `app` is its ASGI application."""

    expected_headers: dict[str, str] = field(default_factory=dict)  # e.g. {"authorization": "Basic …"}
    pending_polls: int = 2
    refresh_after: str = "1"
    never_ready: bool = False
    delay_seconds: float = 0.0  # every answer waits this long (to test client timeouts)
    received: list[dict[str, Any]] = field(default_factory=list)  # bodies of POST /scan
    report_requests: list[Request] = field(default_factory=list)
    headers_seen: list[dict[str, str]] = field(default_factory=list)

    async def _gate(self, request: Request) -> Response | None:
        self.headers_seen.append(dict(request.headers))
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        for name, value in self.expected_headers.items():
            if request.headers.get(name) != value:
                return error(401, "unauthorized")
        return None

    async def metadata(self, request: Request) -> Response:
        return await self._gate(request) or JSONResponse(
            FAKE_METADATA, media_type="application/vnd.scanner.adapter.metadata+json; version=1.1")

    async def scan(self, request: Request) -> Response:
        denied = await self._gate(request)
        if denied is not None:
            return denied
        try:
            body = json.loads(await request.body())
        except ValueError:
            return error(400, "not JSON")
        self.received.append({"content_type": request.headers.get("content-type"), "body": body})
        return JSONResponse({"id": f"req-{len(self.received)}"}, status_code=202,
                            media_type="application/vnd.scanner.adapter.scan.response+json; version=1.0")

    async def report(self, request: Request) -> Response:
        denied = await self._gate(request)
        if denied is not None:
            return denied
        request_id = request.path_params["request_id"]
        if request_id not in {f"req-{n}" for n in range(1, len(self.received) + 1)}:
            return error(404, f"scan request {request_id} not found")
        self.report_requests.append(request)
        polls = sum(1 for seen in self.report_requests if seen.path_params["request_id"] == request_id)
        if self.never_ready or polls <= self.pending_polls:
            return Response(status_code=302, headers={"Refresh-After": self.refresh_after})
        return JSONResponse(FAKE_REPORT, media_type=request.headers.get("accept", REPORT_MIME))

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/v1/metadata", self.metadata, methods=["GET"]),
            Route("/api/v1/scan", self.scan, methods=["POST"]),
            Route("/api/v1/scan/{request_id}/report", self.report, methods=["GET"]),
        ])
