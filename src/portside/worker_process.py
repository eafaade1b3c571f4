"""`portside worker`: the background runtime without HTTP, stopped cleanly by SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import uvloop

from portside.container import build_services
from portside.core.config import Settings
from portside.jobs.runtime import BackgroundRuntime
from portside.store.migrate import upgrade


def run_worker(settings: Settings, *, announce: Callable[[str], None]) -> None:
    """Migrate, then run jobs until a signal arrives; jobs in flight finish first."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)

    async def main() -> None:
        services = await build_services(settings)
        await services.start()
        runtime = BackgroundRuntime(services, concurrency=settings.job_concurrency)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        runtime.start()
        announce(f"Portside worker running ({settings.job_concurrency} jobs at once)")
        await stop.wait()
        await runtime.stop()
        await services.close()

    uvloop.run(main())
