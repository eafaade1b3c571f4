"""Lean ASGI responses for the /v2 data plane."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

from starlette.types import Message, Receive, Scope, Send


class ByteStreamResponse:
    """Send `size` bytes from an async iterator, stopping early if the client goes away.

    uvicorn silently drops sends after a disconnect, so without the watcher a
    cancelled 10 GiB pull would still be read to the end.
    """

    def __init__(self, chunks: AsyncIterator[bytes] | None, *, status: int, headers: Mapping[str, str]) -> None:
        self._chunks = chunks
        self._status = status
        self._headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self._status, "headers": self._headers})
        if self._chunks is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        gone = asyncio.Event()
        watcher = asyncio.create_task(_watch_disconnect(receive, gone))
        try:
            async for chunk in self._chunks:
                if gone.is_set():
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            await _close(self._chunks)


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


async def _close(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()
