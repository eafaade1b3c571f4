"""A thin wrapper over the skopeo CLI for registries on loopback.

`Skopeo(binary)` talks to every registry anonymously, over plain http or https without
verification. `logged_in(*registries)` returns a copy that passes each registry's credentials
(`--creds`, `--src-creds`, `--dest-creds`) whenever a `docker://<host>/...` reference names it;
`trusting(host, cert_dir)` one that verifies that host's certificate against `cert_dir/ca.crt`
(`--cert-dir`, `--src-cert-dir`, `--dest-cert-dir`).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .commands import run_command
from .servers import Registry

DOCKER_TRANSPORT = "docker://"
#: What skopeo prints when a registry refuses an anonymous pull (401 after the anonymous token).
ANONYMOUS_DENIED = "unauthorized"


class Skopeo:
    def __init__(self, binary: str, creds: Mapping[str, str] | None = None,
                 cert_dirs: Mapping[str, Path] | None = None) -> None:
        self.binary = binary
        self.creds: dict[str, str] = dict(creds or {})  # host -> "user:password"
        self.cert_dirs: dict[str, Path] = dict(cert_dirs or {})  # host -> dir with ca.crt

    def logged_in(self, *registries: Registry) -> Skopeo:
        """A copy that sends the credentials of each registry that has some."""
        creds = dict(self.creds)
        for registry in registries:
            if registry.credentials is not None:
                creds[registry.host] = ":".join(registry.credentials)
        return Skopeo(self.binary, creds, self.cert_dirs)

    def trusting(self, host: str, cert_dir: Path) -> Skopeo:
        """A copy that verifies `host`'s TLS certificate with the CA certificates in `cert_dir`."""
        return Skopeo(self.binary, self.creds, {**self.cert_dirs, host: cert_dir})

    def _flags(self, ref: str, prefix: str = "", *, anonymous: bool = False) -> list[str]:
        """TLS and credential flags for `ref`; `prefix` is "src-", "dest-" or "" (one-image commands).

        `anonymous` sends `--no-creds`, which also keeps skopeo away from any auth file a
        developer may have.
        """
        host = ref.removeprefix(DOCKER_TRANSPORT).split("/", 1)[0] if ref.startswith(DOCKER_TRANSPORT) else None
        cert_dir = self.cert_dirs.get(host) if host else None
        flags = [f"--{prefix}tls-verify=true", f"--{prefix}cert-dir={cert_dir}"] if cert_dir else [
            f"--{prefix}tls-verify=false"]
        if anonymous:
            flags.append(f"--{prefix}no-creds")
        elif host in self.creds:
            flags.append(f"--{prefix}creds={self.creds[host]}")
        return flags

    def run(self, *args: str, check: bool = True, timeout: float = 60.0,
            debug: bool = False) -> subprocess.CompletedProcess[bytes]:
        global_flags = ["--insecure-policy"] + (["--debug"] if debug else [])
        return run_command([self.binary, *global_flags, *args], check=check, timeout=timeout)

    def copy(self, source: str, destination: str, *flags: str, check: bool = True,
             debug: bool = False) -> subprocess.CompletedProcess[bytes]:
        return self.run("copy", "--retry-times", "0", *self._flags(source, "src-"),
                        *self._flags(destination, "dest-"), *flags, source, destination, check=check, debug=debug)

    def inspect(self, ref: str, *flags: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.run("inspect", *self._flags(ref), *flags, ref).stdout)
        return result

    def inspect_raw(self, ref: str, *flags: str) -> bytes:
        """The manifest bytes exactly as the registry served them."""
        return self.run("inspect", *self._flags(ref), "--raw", *flags, ref).stdout

    def inspect_config_raw(self, ref: str) -> bytes:
        return self.run("inspect", *self._flags(ref), "--config", "--raw", ref).stdout

    def inspect_fails(self, ref: str) -> str:
        """Run inspect expecting failure; return its stderr."""
        result = self.run("inspect", *self._flags(ref), ref, check=False)
        assert result.returncode != 0, f"skopeo inspect {ref} unexpectedly succeeded: {result.stdout[:500]!r}"
        return result.stderr.decode(errors="replace")

    def anonymous_pull_fails(self, ref: str, destination: str) -> str:
        """`skopeo copy --src-no-creds ref destination` expecting failure; return its stderr."""
        result = self.run("copy", "--retry-times", "0", *self._flags(ref, "src-", anonymous=True),
                          *self._flags(destination, "dest-"), ref, destination, check=False)
        assert result.returncode != 0, f"anonymous pull of {ref} unexpectedly succeeded"
        return result.stderr.decode(errors="replace")

    def list_tags(self, repository_ref: str) -> list[str]:
        listing = json.loads(self.run("list-tags", *self._flags(repository_ref), repository_ref).stdout)
        tags: list[str] = listing["Tags"]
        return tags

    def delete(self, ref: str) -> None:
        self.run("delete", *self._flags(ref), ref)
