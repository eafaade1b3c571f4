"""Fixtures for the end-to-end suite: real `portside serve` processes driven by real clients.

* `portside`: a fresh server per test (own port; own data dir, unless the database is shared), with
  the system administrator `portside.username` / `portside.password` and `--auto-create-projects`.
* `start_portside(name, extra_args=..., tls_cert=..., tls_key=...)`: more servers, or servers with
  other flags (TLS, S3 storage), on the same database and data dir rules.
* `reference_registry`: docker-registry 2.8.2, to validate the clients and compare results.
* `registry`: what the client tests target; Portside, or docker-registry with
  PORTSIDE_E2E_REGISTRY=reference (to check that a test itself is right).
* `notebook_images`, `multi_arch_index`: OCI layouts built once per session with umoci.

With PORTSIDE_TEST_DATABASE_URL set (CI's PostgreSQL run) every server uses that database, so
tests create uniquely named repositories (`project`) and never assume an empty catalog. The
servers then also share one data dir, so that the blobs the shared database records exist in
the storage every server reads.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import pytest

from .commands import require_binary
from .images import NotebookImages, OciImageIndex, Umoci, build_multi_arch_index, build_notebook_images
from .servers import STOP_TIMEOUT, PortsideServer, ReferenceRegistry, Registry, ServerProcess, free_port
from .skopeo import Skopeo

DATABASE_URL_ENV = "PORTSIDE_TEST_DATABASE_URL"
TARGET_ENV = "PORTSIDE_E2E_REGISTRY"
STARTED_SERVERS = pytest.StashKey[list[ServerProcess]]()


@pytest.fixture(scope="session")
def shared_database_url() -> str | None:
    return os.environ.get(DATABASE_URL_ENV) or None


@pytest.fixture(scope="session")
def shared_data_dir(tmp_path_factory: pytest.TempPathFactory, shared_database_url: str | None) -> Path | None:
    if shared_database_url is None:
        return None
    return tmp_path_factory.mktemp("portside-shared-data")


class StartPortside(Protocol):
    def __call__(self, name: str = ..., *, extra_args: Sequence[str] = ..., tls_cert: Path | None = ...,
                 tls_key: Path | None = ...) -> PortsideServer: ...


def track_server(request: pytest.FixtureRequest, server: ServerProcess) -> None:
    """Attach `server`'s log to the report if the test fails (servers not passed as fixtures)."""
    request.node.stash.setdefault(STARTED_SERVERS, []).append(server)


@pytest.fixture
def start_portside(request: pytest.FixtureRequest, tmp_path: Path, shared_database_url: str | None,
                   shared_data_dir: Path | None) -> Iterator[StartPortside]:
    """Start Portside servers (admin + `--auto-create-projects`, the test database); stopped at teardown."""
    servers: list[PortsideServer] = []

    def start(name: str = "portside", *, extra_args: Sequence[str] = (), tls_cert: Path | None = None,
              tls_key: Path | None = None) -> PortsideServer:
        data_dir = shared_data_dir or tmp_path / f"{name}-data"
        data_dir.mkdir(parents=True, exist_ok=True)
        server = PortsideServer(free_port(), data_dir, tmp_path / f"{name}.log", shared_database_url,
                                extra_args=extra_args, tls_cert=tls_cert, tls_key=tls_key)
        servers.append(server)
        track_server(request, server)
        server.start()
        return server

    try:
        yield start
    finally:
        for server in servers:
            if server.is_running():
                server.stop(timeout=STOP_TIMEOUT)  # AssertionError if it ignores SIGTERM for 10 s


@pytest.fixture
def portside(start_portside: StartPortside) -> PortsideServer:
    """A running Portside; `.stop()` / `.start()` restart it on the same port and data dir."""
    return start_portside()


@pytest.fixture(scope="session")
def reference_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceRegistry]:
    binary = require_binary("docker-registry")
    server = ReferenceRegistry(binary, free_port(), tmp_path_factory.mktemp("docker-registry"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def registry(request: pytest.FixtureRequest) -> Registry:
    """The registry the client tests push to: Portside unless PORTSIDE_E2E_REGISTRY=reference."""
    target = os.environ.get(TARGET_ENV, "portside")
    if target not in ("portside", "reference"):
        raise pytest.UsageError(f"{TARGET_ENV} must be 'portside' or 'reference', not {target!r}")
    server: Registry = request.getfixturevalue("reference_registry" if target == "reference" else "portside")
    return server


@pytest.fixture
def project() -> str:
    """A project (first path component) no other test, run or session uses."""
    return f"e2e-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def skopeo() -> Skopeo:
    return Skopeo(require_binary("skopeo"))


@pytest.fixture(scope="session")
def umoci() -> Umoci:
    return Umoci(require_binary("umoci"))


@pytest.fixture(scope="session")
def notebook_images(umoci: Umoci, tmp_path_factory: pytest.TempPathFactory) -> NotebookImages:
    return build_notebook_images(umoci, tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="session")
def multi_arch_index(umoci: Umoci, tmp_path_factory: pytest.TempPathFactory) -> OciImageIndex:
    return build_multi_arch_index(umoci, tmp_path_factory.mktemp("images-multi"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the server logs to the report of a failed e2e test."""
    report: pytest.TestReport = yield
    if report.failed:
        funcargs = getattr(item, "funcargs", {})
        seen: set[int] = set()
        for value in [*funcargs.values(), *item.stash.get(STARTED_SERVERS, [])]:
            if isinstance(value, ServerProcess) and id(value) not in seen:
                seen.add(id(value))
                report.sections.append((f"{value.name} log ({value.host})", value.log[-20000:]))
    return report
