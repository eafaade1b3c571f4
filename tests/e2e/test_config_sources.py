"""`portside serve` configured by a TOML file only (`--config`), by PORTSIDE_* variables only, and by
both (the variable wins): it listens where configured, uses the configured data dir and admin
password, and writes one access-log line per request with method, path, status and user."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import track_server
from .images import sha256_digest as digest_of
from .protocol import bearer_token, finish_upload, http_client, start_upload
from .servers import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    ENV_PREFIX,
    LOOPBACK,
    PortsideServer,
    free_port,
    hermetic_environment,
)

pytestmark = pytest.mark.e2e

LOG_WAIT = 5.0


class ConfiguredPortside(PortsideServer):
    """`portside serve` with exactly the given flags and PORTSIDE_* variables (none inherited)."""

    def __init__(self, port: int, data_dir: Path, log_path: Path, *, args: list[str],
                 env: dict[str, str] | None = None) -> None:
        super().__init__(port, data_dir, log_path)
        self.args = args
        self.env = env or {}

    def command(self) -> list[str]:
        return [sys.executable, "-m", "portside", "serve", *self.args]

    def environment(self) -> dict[str, str]:
        return hermetic_environment(self.env)


def _toml(values: dict[str, object]) -> str:
    """TOML for flat string/int/bool values (json strings are valid TOML basic strings)."""
    lines = []
    for key, value in values.items():
        rendered = ("true" if value else "false") if isinstance(value, bool) else (
            str(value) if isinstance(value, int) else json.dumps(str(value)))
        lines.append(f"{key} = {rendered}")
    return "\n".join(lines) + "\n"


def _settings(data_dir: Path, port: int, database_url: str | None) -> dict[str, object]:
    values: dict[str, object] = {"host": LOOPBACK, "port": port, "data_dir": str(data_dir),
                                 "admin_password": ADMIN_PASSWORD, "auto_create_projects": True}
    if database_url:
        values["database_url"] = database_url
    return values


def _wait_for_line(server: PortsideServer, pattern: str) -> str:
    """The first log line matching `pattern` (regex), waiting briefly for the log to be written."""
    regex = re.compile(pattern, re.MULTILINE)
    deadline = time.monotonic() + LOG_WAIT
    while True:
        found = regex.search(server.log)
        if found:
            return found.group(0)
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line matches {pattern!r}\n{server.log[-6000:]}")
        time.sleep(0.05)


def _wait_for_banner(server: PortsideServer, port: int) -> None:
    """The startup banner names http://127.0.0.1:<port>. It is printed just after uvicorn starts
    listening (so possibly after the readiness check), and rich may wrap it: whitespace is collapsed."""
    expected = f"listening on http://{LOOPBACK}:{port} "
    deadline = time.monotonic() + LOG_WAIT
    while expected not in " ".join(server.log.split()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no banner {expected!r}\n{server.log[-3000:]}")
        time.sleep(0.05)


def _access_line(method: str, path: str, status: int, user: str) -> str:
    """The access-log format: `<ip> "<METHOD> <path>" <status> <bytes> <ms>ms user=<name>`."""
    return (rf'{re.escape(LOOPBACK)} "{method} {re.escape(path)}" {status} \d+ \d+(\.\d+)?ms '
            rf'user={re.escape(user)}$')


def _check_configured_server(server: PortsideServer, project: str) -> None:
    """Listens on the configured port with the configured admin; data dir, access log."""
    assert server.is_running()
    _wait_for_banner(server, server.port)

    with httpx.Client(timeout=10) as anonymous:
        assert anonymous.get(f"{server.url}/v2/").status_code == 401
    with httpx.Client(timeout=10, auth=(ADMIN_USERNAME, "Wr0ngPassword")) as wrong:
        assert wrong.get(f"{server.url}/v2/").status_code == 401
    repository = f"{project}/configured"
    data = os.urandom(4096 + len(project))
    with http_client(server.credentials) as client:
        assert client.get(f"{server.url}/v2/").status_code == 200
        url = start_upload(client, server.url, repository)
        done = finish_upload(client, url, digest_of(data), data)
        assert done.status_code == 201, (done.status_code, done.text)
    token = bearer_token(server.url, server.credentials, f"repository:{repository}:pull")
    blob_path = f"/v2/{repository}/blobs/{digest_of(data)}"
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}"}) as bearer:
        got = bearer.get(f"{server.url}{blob_path}")
        assert (got.status_code, got.content) == (200, data)

    # The blob is in the configured data dir.
    assert [path for path in server.blob_files() if path.name == digest_of(data).split(":", 1)[1]], (
        f"{digest_of(data)} not stored under {server.data_dir}")

    # One access-log line per request, with the user it authenticated (or `-`).
    _wait_for_line(server, _access_line("GET", "/v2/", 401, "-"))
    _wait_for_line(server, _access_line("GET", "/v2/", 200, ADMIN_USERNAME))
    _wait_for_line(server, _access_line("POST", f"/v2/{repository}/blobs/uploads/", 202, ADMIN_USERNAME))
    _wait_for_line(server, _access_line("GET", "/service/token", 200, ADMIN_USERNAME))
    _wait_for_line(server, _access_line("GET", blob_path, 200, ADMIN_USERNAME))


def _data_dir(tmp_path: Path, shared_data_dir: Path | None, name: str) -> Path:
    return shared_data_dir or tmp_path / name


def test_configured_by_toml_file_only(request: pytest.FixtureRequest, tmp_path: Path, project: str,
                                      shared_database_url: str | None, shared_data_dir: Path | None) -> None:
    port, data_dir = free_port(), _data_dir(tmp_path, shared_data_dir, "toml-data")
    config = tmp_path / "portside.toml"
    config.write_text(_toml(_settings(data_dir, port, shared_database_url)))
    server = ConfiguredPortside(port, data_dir, tmp_path / "portside-toml.log", args=["--config", str(config)])
    track_server(request, server)
    server.start()
    try:
        _check_configured_server(server, project)
        if shared_database_url is None:
            assert (data_dir / "portside.db").is_file(), "the SQLite database is not in the configured data dir"
    finally:
        server.stop()
    assert server.returncode == 0


def test_configured_by_environment_only(request: pytest.FixtureRequest, tmp_path: Path, project: str,
                                        shared_database_url: str | None, shared_data_dir: Path | None) -> None:
    port, data_dir = free_port(), _data_dir(tmp_path, shared_data_dir, "env-data")
    env = {ENV_PREFIX + key.upper(): str(value).lower() if isinstance(value, bool) else str(value)
           for key, value in _settings(data_dir, port, shared_database_url).items()}
    server = ConfiguredPortside(port, data_dir, tmp_path / "portside-env.log", args=[], env=env)
    track_server(request, server)
    server.start()
    try:
        _check_configured_server(server, project)
        if shared_database_url is None:
            assert (data_dir / "portside.db").is_file(), "the SQLite database is not in the configured data dir"
    finally:
        server.stop()
    assert server.returncode == 0


def test_environment_overrides_the_file_and_a_flag_overrides_both(
        request: pytest.FixtureRequest, tmp_path: Path, shared_database_url: str | None,
        shared_data_dir: Path | None) -> None:
    file_port, env_port, flag_port = free_port(), free_port(), free_port()
    data_dir = _data_dir(tmp_path, shared_data_dir, "layered-data")
    config = tmp_path / "portside.toml"
    config.write_text(_toml({**_settings(data_dir, file_port, shared_database_url), "access_log": False}))
    server = ConfiguredPortside(flag_port, data_dir, tmp_path / "portside-layered.log",
                                args=["--config", str(config), "--port", str(flag_port)],
                                env={ENV_PREFIX + "PORT": str(env_port), ENV_PREFIX + "ACCESS_LOG": "true"})
    track_server(request, server)
    server.start()  # ready on the flag's port
    try:
        _wait_for_banner(server, flag_port)
        for port in (file_port, env_port):
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://{LOOPBACK}:{port}/v2/", timeout=2)
        # PORTSIDE_ACCESS_LOG=true beat the file's access_log = false.
        _wait_for_line(server, _access_line("GET", "/v2/", 200, ADMIN_USERNAME))
    finally:
        server.stop()
