"""A thin wrapper over the skopeo CLI (plain-http registries on loopback, no auth)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from .commands import run_command


class Skopeo:
    def __init__(self, binary: str) -> None:
        self.binary = binary

    def run(self, *args: str, check: bool = True, timeout: float = 60.0,
            debug: bool = False) -> subprocess.CompletedProcess[bytes]:
        global_flags = ["--insecure-policy"] + (["--debug"] if debug else [])
        return run_command([self.binary, *global_flags, *args], check=check, timeout=timeout)

    def copy(self, source: str, destination: str, *flags: str,
             debug: bool = False) -> subprocess.CompletedProcess[bytes]:
        return self.run("copy", "--retry-times", "0", "--src-tls-verify=false", "--dest-tls-verify=false",
                        *flags, source, destination, debug=debug)

    def inspect(self, ref: str, *flags: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.run("inspect", "--tls-verify=false", *flags, ref).stdout)
        return result

    def inspect_raw(self, ref: str, *flags: str) -> bytes:
        """The manifest bytes exactly as the registry served them."""
        return self.run("inspect", "--tls-verify=false", "--raw", *flags, ref).stdout

    def inspect_config_raw(self, ref: str) -> bytes:
        return self.run("inspect", "--tls-verify=false", "--config", "--raw", ref).stdout

    def inspect_fails(self, ref: str) -> str:
        """Run inspect expecting failure; return its stderr."""
        result = self.run("inspect", "--tls-verify=false", ref, check=False)
        assert result.returncode != 0, f"skopeo inspect {ref} unexpectedly succeeded: {result.stdout[:500]!r}"
        return result.stderr.decode(errors="replace")

    def list_tags(self, repository_ref: str) -> list[str]:
        listing = json.loads(self.run("list-tags", "--tls-verify=false", repository_ref).stdout)
        tags: list[str] = listing["Tags"]
        return tags

    def delete(self, ref: str) -> None:
        self.run("delete", "--tls-verify=false", ref)
