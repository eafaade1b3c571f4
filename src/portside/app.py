"""create_app(settings): the ASGI application with /v2, its lifespan and background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from portside.container import build_services
from portside.core.config import Settings
from portside.jobs.runtime import BackgroundRuntime
from portside.services.bundle import Services
from portside.web.access_log import AccessLogMiddleware
from portside.web.api.app import create_api
from portside.web.scanner_adapter import create_adapter_app
from portside.web.token import token_endpoint
from portside.web.ui.routes import create_ui
from portside.web.v2.app import V2App

log = logging.getLogger("portside")
FLUSH_SECONDS = 2.0
AUDIT_PURGE_SECONDS = 6 * 3600.0


class PortsideApp:
    """Dispatches /v2 to the registry app; owns the Services while it runs (lifespan)."""

    def __init__(self, settings: Settings, services: Services | None = None) -> None:
        self.settings = settings
        self.services = services
        self._owns_services = services is None
        self._v2: V2App | None = V2App(services) if services else None
        self._api: ASGIApp | None = create_api(services) if services else None
        self._adapter: ASGIApp | None = create_adapter_app(services) if services else None
        self._ui: ASGIApp | None = create_ui(services) if services else None
        self._tasks: list[asyncio.Task[None]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if self._v2 is not None and (path == "/v2" or path.startswith("/v2/")):
            await self._v2(scope, receive, send)
            return
        if self._adapter is not None and (path == "/api/v1" or path.startswith("/api/v1/")):
            await self._adapter(scope, receive, send)  # the Pluggable Scanner Adapter API (our scanner)
            return
        if self._api is not None and path.startswith("/api/"):
            await self._api(scope, receive, send)
            return
        if path == "/service/token" and self.services is not None:
            response = await token_endpoint(Request(scope, receive), self.services)
            await response(scope, receive, send)
            return
        if self._ui is not None:
            await self._ui(scope, receive, send)
            return
        await _not_found(scope, send)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Open services (if not given) and run background tasks for the block's duration."""
        if self.services is None:
            self.services = await build_services(self.settings)
            self._v2 = V2App(self.services)
            self._api = create_api(self.services)
            self._adapter = create_adapter_app(self.services)
            self._ui = create_ui(self.services)
        services = self.services
        if self._owns_services:
            generated = await services.start()
            if generated:
                # Shown once, on the console only: never written to the log.
                print(f"Created the administrator 'admin' with password: {generated}\n"
                      "Change it after signing in; it will not be shown again.", file=sys.stderr, flush=True)
        runtime = BackgroundRuntime(services, concurrency=self.settings.job_concurrency)
        if self.settings.run_jobs:
            runtime.start()
        self._tasks = [
            asyncio.create_task(_every(self.settings.upload_cleanup_interval, self._clean_uploads)),
            asyncio.create_task(_every(FLUSH_SECONDS, services.flush)),
            asyncio.create_task(_every(AUDIT_PURGE_SECONDS, services.audit.purge)),
        ]
        try:
            yield
        finally:
            await runtime.stop()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._owns_services:
                await services.close()
            else:
                await services.flush()

    async def _clean_uploads(self) -> int:
        assert self.services is not None
        removed = await self.services.uploads.remove_stale(self.settings.upload_max_age)
        if removed:
            log.info("removed %d abandoned uploads", removed)
        return removed

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        try:
            async with self.running():
                await send({"type": "lifespan.startup.complete"})
                message = await receive()
        except Exception as error:
            log.exception("startup failed")
            await send({"type": "lifespan.startup.failed", "message": str(error)})
            return
        await send({"type": "lifespan.shutdown.complete"})


async def _every(seconds: float, job: Callable[[], Awaitable[object]]) -> None:
    """Run `job` every `seconds`, logging (not raising) its failures."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception:
            log.exception("background task failed")


async def _not_found(scope: Scope, send: Send) -> None:
    body = json.dumps({"errors": [{"code": "NOT_FOUND", "message": f"no endpoint at {scope['path'][:200]}"}]})
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body.encode()})


def create_app(settings: Settings, services: Services | None = None) -> ASGIApp:
    """The Portside ASGI app; with `services` given, the caller owns their lifetime."""
    app: ASGIApp = PortsideApp(settings, services)
    if settings.access_log:
        app = AccessLogMiddleware(app)
    return app
