"""oras-py 0.2.43, made to fail fast and to authenticate to Portside's token service.

`Registry.do_request` is wrapped in a retry decorator that sleeps 2 + 3**attempt seconds up to
five times (over two minutes) on any exception or 500; the session has no timeout. An e2e
failure must surface in seconds, so requests go straight to the undecorated method with a
bounded timeout.

Authentication (clients.md §4.3): oras-py's token backend caches one token per client and, on a
401, re-sends it instead of asking for one with the scope the challenge names. So the client is
primed: `use_repository(name)` fetches a token for `repository:<name>:pull,push,delete` with the
Basic credentials, through the realm and service of the registry's own /v2/ challenge. Call it
before the first request to each repository.
"""

from __future__ import annotations

import functools
from typing import Any

import oras.auth.utils  # type: ignore[import-untyped]
import oras.client  # type: ignore[import-untyped]
import oras.provider  # type: ignore[import-untyped]
import requests

REQUEST_TIMEOUT = 30.0
_undecorated_do_request = oras.provider.Registry.do_request.__wrapped__


class FailFastOrasClient(oras.client.OrasClient):  # type: ignore[misc]
    def __init__(self, hostname: str, credentials: tuple[str, str] | None = None) -> None:
        super().__init__(hostname=hostname, insecure=True, auth_backend="token")
        # The auth backend shares this session, so the timeout covers its requests too.
        self.session.request = functools.partial(self.session.request, timeout=REQUEST_TIMEOUT)
        if credentials is not None:
            # What login() does, without writing a docker config.json or contacting a daemon.
            self.auth.set_basic_auth(*credentials)

    def use_repository(self, repository: str, actions: str = "pull,push,delete") -> None:
        """Prime the token for `repository` (oras-py cannot upgrade a token's scope itself)."""
        challenge = self.session.request("GET", f"{self.prefix}://{self.hostname}/v2/")
        header = challenge.headers.get("WWW-Authenticate")
        assert challenge.status_code == 401 and header, (challenge.status_code, dict(challenge.headers))
        parsed = oras.auth.utils.parse_auth_header(header)
        parsed.scope = f"repository:{repository}:{actions}"
        token = self.auth.request_token(parsed)
        assert token, f"the token service at {parsed.realm} gave no token for {parsed.scope}"
        self.auth.token = token

    def do_request(self, *args: Any, **kwargs: Any) -> requests.Response:
        response: requests.Response = _undecorated_do_request(self, *args, **kwargs)
        return response
