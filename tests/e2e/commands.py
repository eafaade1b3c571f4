"""Finding and running the external client binaries (skopeo, umoci, docker-registry)."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from collections.abc import Mapping, Sequence

import pytest

DEFAULT_TIMEOUT = 60.0


def require_binary(name: str) -> str:
    """Return the path of `name`, or skip the test loudly (fail in CI, where every client is installed)."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} missing in CI")
        message = f"{name} not installed"
        warnings.warn(pytest.PytestWarning(f"e2e test skipped: {message}"), stacklevel=2)
        pytest.skip(message)
    return path


class CommandFailed(AssertionError):
    """A client command exited non-zero; carries its output for the test report."""

    def __init__(self, args: Sequence[str], returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"command {' '.join(args)!r} exited {returncode}\n"
            f"--- stdout ---\n{stdout.decode(errors='replace')[-4000:]}\n"
            f"--- stderr ---\n{stderr.decode(errors='replace')[-6000:]}"
        )


def run_command(args: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, check: bool = True,
                env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a command with a hard time limit; raise CommandFailed when `check` and it exits non-zero."""
    try:
        result = subprocess.run(
            list(args), capture_output=True, timeout=timeout, check=False,
            env=None if env is None else dict(env), stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"command {' '.join(args)!r} did not finish within {timeout} s\n"
            f"--- stderr ---\n{(exc.stderr or b'').decode(errors='replace')[-6000:]}"
        ) from exc
    if check and result.returncode != 0:
        raise CommandFailed(args, result.returncode, result.stdout, result.stderr)
    return result
