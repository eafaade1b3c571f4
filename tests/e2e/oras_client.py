"""oras-py 0.2.43, made to fail fast.

`Registry.do_request` is wrapped in a retry decorator that sleeps 2 + 3**attempt seconds up to
five times (over two minutes) on any exception or 500; the session has no timeout. An e2e
failure must surface in seconds, so requests go straight to the undecorated method with a
bounded timeout.
"""

from __future__ import annotations

import functools
from typing import Any

import oras.client  # type: ignore[import-untyped]
import oras.provider  # type: ignore[import-untyped]
import requests

REQUEST_TIMEOUT = 30.0
_undecorated_do_request = oras.provider.Registry.do_request.__wrapped__


class FailFastOrasClient(oras.client.OrasClient):  # type: ignore[misc]
    def __init__(self, hostname: str) -> None:
        super().__init__(hostname=hostname, insecure=True)
        # The auth backend shares this session, so the timeout covers its requests too.
        self.session.request = functools.partial(self.session.request, timeout=REQUEST_TIMEOUT)

    def do_request(self, *args: Any, **kwargs: Any) -> requests.Response:
        response: requests.Response = _undecorated_do_request(self, *args, **kwargs)
        return response
