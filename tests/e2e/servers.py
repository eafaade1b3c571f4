"""Starting and stopping registry server processes on loopback: Portside and docker-registry."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Protocol

import httpx

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


class Registry(Protocol):
    """What the client tests need from a registry under test."""

    @property
    def host(self) -> str: ...

    @property
    def url(self) -> str: ...


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """A server subprocess whose stdout and stderr go to a log file, started and stopped by PID."""

    name = "server"

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
        return f"http://{self.host}"

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
        """Start the process and wait (bounded) until GET /v2/ answers 200."""
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
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    code = self.process.returncode
                    raise AssertionError(f"{self.name} exited with {code} during startup\n{self.log[-6000:]}")
                try:
                    response = client.get(f"{self.url}/v2/")
                except httpx.TransportError as exc:
                    last_error = repr(exc)
                else:
                    if response.status_code == 200:
                        self.check_ready_response(response)
                        return
                    last_error = f"GET /v2/ -> {response.status_code} {response.text[:200]}"
                time.sleep(0.1)
        raise AssertionError(
            f"{self.name} did not answer GET /v2/ with 200 within {STARTUP_TIMEOUT} s ({last_error})\n"
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
    """`python -m portside serve` on a fixed port and data dir (so `start()` after `stop()` resumes state)."""

    name = "portside"

    def __init__(self, port: int, data_dir: Path, log_path: Path, database_url: str | None = None) -> None:
        super().__init__(port, log_path)
        self.data_dir = data_dir
        self.database_url = database_url

    def command(self) -> list[str]:
        args = [sys.executable, "-m", "portside", "serve", "--host", LOOPBACK, "--port", str(self.port),
                "--data-dir", str(self.data_dir)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        return args

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        if self.database_url:
            env["PORTSIDE_DATABASE_URL"] = self.database_url
        return env

    def blob_files(self) -> list[Path]:
        """Every regular file under <data dir>/storage/blobs (the committed, content-addressed blobs)."""
        root = self.data_dir / "storage" / "blobs"
        return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


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
