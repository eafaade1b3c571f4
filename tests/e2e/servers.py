"""Starting and stopping registry server processes on loopback: Portside and docker-registry.

Portside requires authentication like Harbor: every server runs with the system administrator
`admin` / ADMIN_PASSWORD (PORTSIDE_ADMIN_PASSWORD) and `--auto-create-projects`, so that the
admin's first push creates the (private) project. docker-registry runs without authentication;
`Registry.credentials` is None for it.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Protocol

import httpx

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT = 30.0  # starts took up to ~9 s while parallel test suites loaded the machine
STOP_TIMEOUT = 10.0
ENV_PREFIX = "PORTSIDE_"

ADMIN_USERNAME = "admin"
# The same password as tests/conftest.py: a shared (PostgreSQL) database keeps the `admin` of
# whichever suite created it first, and `portside serve` does not reset an existing account.
ADMIN_PASSWORD = "Adm1nPassw0rd"


class Registry(Protocol):
    """What the client tests need from a registry under test."""

    @property
    def host(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def credentials(self) -> tuple[str, str] | None:
        """(username, password) for a registry that requires authentication; None for an open one."""
        ...


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """A server subprocess whose stdout and stderr go to a log file, started and stopped by PID."""

    name = "server"
    scheme = "http"
    ready_path = "/v2/"

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def credentials(self) -> tuple[str, str] | None:
        return None

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What httpx should verify the server's certificate with (`verify=`)."""
        return True

    @property
    def log(self) -> str:
        """Everything the process wrote to stdout and stderr, over all its starts."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the process and wait (bounded) until GET `ready_path` (with `credentials`) answers 200."""
        if self.is_running():
            raise RuntimeError(f"{self.name} is already running")
        self._close_log()
        self._log_handle = self.log_path.open("ab")
        self._log_handle.write(f"\n===== starting {' '.join(self.command())}\n".encode())
        self._log_handle.flush()
        self.process = subprocess.Popen(
            self.command(), stdout=self._log_handle, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=self.environment(),
        )
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last_error = "no attempt"
        with httpx.Client(timeout=2.0, verify=self.verify, auth=self.credentials) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    code = self.process.returncode
                    raise AssertionError(f"{self.name} exited with {code} during startup\n{self.log[-6000:]}")
                try:
                    response = client.get(f"{self.url}{self.ready_path}")
                except httpx.TransportError as exc:
                    last_error = repr(exc)
                else:
                    if response.status_code == 200:
                        self.check_ready_response(response)
                        return
                    last_error = f"GET {self.ready_path} -> {response.status_code} {response.text[:200]}"
                    if response.status_code == 401 and self.credentials is not None:
                        # Up, but it refuses our credentials: waiting longer will not help.
                        self.check_ready_response(response)
                        raise AssertionError(
                            f"{self.name} is up but refuses {self.credentials[0]!r} ({last_error}); a shared "
                            f"database whose admin has another password must be emptied first\n{self.log[-6000:]}")
                time.sleep(0.1)
        raise AssertionError(
            f"{self.name} did not answer GET {self.ready_path} with 200 within {STARTUP_TIMEOUT} s ({last_error})\n"
            f"{self.log[-6000:]}"
        )

    def check_ready_response(self, response: httpx.Response) -> None:
        assert response.headers.get("Docker-Distribution-API-Version") == "registry/2.0", response.headers

    def send_signal(self, signum: int) -> None:
        assert self.process is not None and self.process.poll() is None, f"{self.name} is not running"
        self.process.send_signal(signum)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        """Wait for the process to exit; AssertionError (after killing it) when it does not in time."""
        assert self.process is not None
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.name} (pid {self.process.pid}) did not exit within {timeout} s of SIGTERM\n"
                f"{self.log[-6000:]}"
            ) from None
        self._close_log()
        return code

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait; return the exit code (AssertionError if the process hangs)."""
        if not self.is_running():
            assert self.process is not None
            self._close_log()
            return self.process.returncode
        self.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        """SIGKILL our own process (by its Popen handle), for cleanup after a failure."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)
        self._close_log()

    def _close_log(self) -> None:
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None


class PortsideServer(ServerProcess):
    """`python -m portside serve` on a fixed port and data dir (so `start()` after `stop()` resumes state).

    It is started with PORTSIDE_ADMIN_PASSWORD and `--auto-create-projects`; `extra_args` adds flags
    (storage, ...), `tls_cert`/`tls_key` serve https. Inherited PORTSIDE_* variables are dropped so
    that a developer's environment cannot change what the tests run against.
    """

    name = "portside"

    def __init__(self, port: int, data_dir: Path, log_path: Path, database_url: str | None = None, *,
                 extra_args: Sequence[str] = (), tls_cert: Path | None = None, tls_key: Path | None = None,
                 username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD) -> None:
        super().__init__(port, log_path)
        self.data_dir = data_dir
        self.database_url = database_url
        self.extra_args = list(extra_args)
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.username = username
        self.password = password
        if tls_cert is not None:
            self.scheme = "https"

    @property
    def credentials(self) -> tuple[str, str]:
        return (self.username, self.password)

    @property
    def verify(self) -> ssl.SSLContext | bool:
        if self.tls_cert is None:
            return True
        return ssl.create_default_context(cafile=str(self.tls_cert))

    def command(self) -> list[str]:
        args = [sys.executable, "-m", "portside", "serve", "--host", LOOPBACK, "--port", str(self.port),
                "--data-dir", str(self.data_dir), "--auto-create-projects"]
        if self.database_url:
            args += ["--database-url", self.database_url]
        if self.tls_cert is not None and self.tls_key is not None:
            args += ["--tls-cert", str(self.tls_cert), "--tls-key", str(self.tls_key)]
        return args + self.extra_args

    def environment(self) -> dict[str, str]:
        env = hermetic_environment()
        env[ENV_PREFIX + "ADMIN_PASSWORD"] = self.password
        if self.database_url:
            env[ENV_PREFIX + "DATABASE_URL"] = self.database_url
        return env

    def blob_files(self) -> list[Path]:
        """Every regular file under <data dir>/storage/blobs (the committed, content-addressed blobs)."""
        root = self.data_dir / "storage" / "blobs"
        return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def hermetic_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ without any PORTSIDE_* variable, unbuffered Python output, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


REFERENCE_CONFIG = """\
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: {addr}
  secret: portside-e2e-not-a-secret
"""


class ReferenceRegistry(ServerProcess):
    """docker-registry 2.8.2 (the Go reference implementation) with filesystem storage and delete enabled."""

    name = "docker-registry"

    def __init__(self, binary: str, port: int, workdir: Path) -> None:
        super().__init__(port, workdir / "docker-registry.log")
        self.binary = binary
        self.storage = workdir / "storage"
        self.config_path = workdir / "config.yml"
        self.storage.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(REFERENCE_CONFIG.format(root=self.storage, addr=self.host))

    def command(self) -> list[str]:
        return [self.binary, "serve", str(self.config_path)]


class MotoServer(ServerProcess):
    """moto's S3 server (`moto_server`), in memory: every start is an empty S3."""

    name = "moto"
    ready_path = "/"  # ListBuckets

    def __init__(self, binary: str, port: int, log_path: Path) -> None:
        super().__init__(port, log_path)
        self.binary = binary

    def command(self) -> list[str]:
        return [self.binary, "-H", LOOPBACK, "-p", str(self.port)]

    def check_ready_response(self, response: httpx.Response) -> None:
        assert b"ListAllMyBucketsResult" in response.content, response.text[:500]
