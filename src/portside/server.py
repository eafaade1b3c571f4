"""Running the ASGI app under uvicorn (uvloop + httptools), with graceful shutdown.

uvicorn+httptools was chosen from measurements on this kind of machine (see
ARCHITECTURE.md): it costs less CPU per byte than granian for the chunked
uploads Docker clients send, and its small-response rate is far above the
reference registry's.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import uvicorn
import uvloop

from portside.app import create_app
from portside.core.config import Settings
from portside.store.migrate import upgrade


def run_server(settings: Settings, *, announce: Callable[[str], None]) -> None:
    """Migrate, then serve until SIGINT/SIGTERM; requests in flight finish first."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=settings.port, loop="uvloop", http="httptools",
        lifespan="on", access_log=False, log_config=None, server_header=False,
        ssl_certfile=settings.tls_cert, ssl_keyfile=settings.tls_key,
        timeout_graceful_shutdown=settings.graceful_timeout, timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)

    async def serve() -> None:
        task = asyncio.create_task(server.serve())
        # uvicorn exposes readiness only as a flag, so poll it (bounded by the task's life).
        while not server.started and not task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if server.started:
            announce(settings.base_url)
        await task

    # uvicorn re-raises the SIGTERM it handled once shutdown is done, so that the
    # previous handler runs; with the default handler the process would die with
    # -15 after a clean stop. A no-op handler makes a graceful stop exit 0.
    signal.signal(signal.SIGTERM, lambda _sig, _frame: None)
    uvloop.run(serve())
