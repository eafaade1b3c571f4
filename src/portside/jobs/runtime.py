"""Background runtime: the worker, the scheduler and the event dispatcher as asyncio tasks.

`portside serve` runs it in-process (the embedded default); `portside worker`
runs it alone, for scale-out on PostgreSQL with several workers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from portside.jobs.events import dispatch_events
from portside.jobs.kinds import build_kinds, build_subscribers
from portside.jobs.scheduler import fire_due_schedules
from portside.jobs.worker import Worker
from portside.services.bundle import Services

log = logging.getLogger("portside.jobs")
SCHEDULER_SECONDS = 5.0
DISPATCH_SECONDS = 0.5


class BackgroundRuntime:
    def __init__(self, services: Services, *, concurrency: int = 2) -> None:
        self.services = services
        self.worker = Worker(services, build_kinds(), concurrency=concurrency)
        self.subscribers = build_subscribers()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self.worker.run(self._stop)),
            asyncio.create_task(self._loop(SCHEDULER_SECONDS, lambda: fire_due_schedules(self.services))),
            asyncio.create_task(self._loop(DISPATCH_SECONDS,
                                           lambda: dispatch_events(self.services, self.subscribers))),
        ]

    async def stop(self) -> None:
        """Stop claiming work and wait for running jobs to finish (their leases protect the rest)."""
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _loop(self, seconds: float, step: Callable[[], Awaitable[int]]) -> None:
        while not self._stop.is_set():
            try:
                busy = await step()
            except Exception:
                log.exception("background step failed")
                busy = 0
            if not busy:
                try:
                    await asyncio.wait_for(self._stop.wait(), seconds)
                except TimeoutError:
                    pass

    async def run_until_idle(self, rounds: int = 20) -> int:
        """Dispatch events, fire schedules and run jobs until nothing is left (tests)."""
        total = 0
        for _ in range(rounds):
            work = await dispatch_events(self.services, self.subscribers)
            work += await fire_due_schedules(self.services)
            work += await self.worker.run_until_idle()
            total += work
            if not work:
                break
        return total
