#!/usr/bin/env python3
"""Side-by-side benchmark of Portside against the reference registry (docker-registry 2.8.2).

Both servers run at the same time on free loopback ports with their own temporary storage.
Every measurement is taken on both servers with the same client, interleaved (A B A B …),
and the median of ``--runs`` runs is reported.

Clients used:

* monolithic blob push: ``POST …/blobs/uploads/`` (http.client), then
  ``curl -T blob -H 'Expect:' -H 'Content-Type: application/octet-stream' <location>&digest=…``;
* chunked blob push: one persistent ``http.client`` connection, 8 MiB ``PATCH`` requests whose bodies
  are sent with ``socket.sendfile`` straight from the blob file (zero-copy, not client-bound), then
  ``PUT ?digest=`` with an empty body;
* blob pull: ``curl -s -o /dev/null``, one stream and 4 concurrent streams;
* manifest GET: ``wrk -t2 -c64 -d10s``; manifest HEAD: ``hey -z 5s -c 64 -m HEAD`` (wrk cannot do HEAD);
* small blobs and tags: 16 threads, each with its own persistent ``http.client`` connection
  (much lighter than an httpx client, so the client is less of a bottleneck);
* tags list: ``GET …/tags/list?n=100`` following ``Link: <…>; rel="next"`` until done;
* RSS: ``VmHWM`` (and a 0.1 s ``VmRSS`` sampler) from ``/proc`` summed over the server's process tree;
* vulnerability scan (bench/scan_phase.py): a generated ``--scan-image-mib`` image with package
  databases, scanned by Portside (first, then all layers cached: ``POST …/scan``, poll until Success)
  against reading its layers once from the reference (``curl -o /dev/null``, sequential).

* portal pages at scale (bench/portal_phase.py, Portside only): 1,000 projects and a repository of
  10,000 artifacts, then the server's HTML time (http.client) and, in chromium via Playwright,
  first-contentful-paint and DOMContentLoaded of the repository, projects-list and artifact pages.

``--phases`` picks phases (e.g. ``--phases scan``).

Only the Python standard library is used. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import hashlib
import http.client
import io
import json
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

HOST = "127.0.0.1"
MIB = 1024 * 1024
CHUNK = 8 * MIB
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
BLOB_REPO = "bench/blob"
IMG_REPO = "bench/img"
PORTSIDE_BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "portside"
PORTSIDE_CMD = shlex.quote(str(PORTSIDE_BIN)) + " serve --host {host} --port {port} --data-dir {data_dir}"
# Portside has no anonymous way to create the ``bench`` project, so it must create it on first push.
PORTSIDE_FLAGS = " --auto-create-projects"
PORTSIDE_LOG_FLAGS = {True: " --access-log --log-level info", False: " --no-access-log --log-level warning"}
REFERENCE = "reference"  # special --portside-cmd value: start a docker-registry in that role
SERVER_NAMES = ("portside", "reference")
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
HTTP_TIMEOUT_S = 120.0
BIG_TIMEOUT_S = 900.0
WORKERS = 16
SMALL_BLOBS = 500
SMALL_BLOB_SIZE = 4096
TAGS = 2000
TAGS_PAGE = 100
MAX_TAG_PAGES = 1000


# Dev only (--portside-admin-password): "Authorization" header value per server port.
AUTH: dict[int, str] = {}


def auth_headers(port: int) -> dict[str, str]:
    """The Authorization header for a server, if it needs one."""
    return {"Authorization": AUTH[port]} if port in AUTH else {}


def auth_args(port: int) -> list[str]:
    """The same as a curl/wrk/hey ``-H`` argument."""
    return [arg for name, value in auth_headers(port).items() for arg in ("-H", f"{name}: {value}")]


class BenchError(Exception):
    """A request returned something unexpected; the message names the request and the response."""


MEASUREMENT_ERRORS = (BenchError, OSError, subprocess.SubprocessError, http.client.HTTPException)


def error_text(exc: BaseException) -> str:
    """Our own errors as they are; others with their type (e.g. ``IncompleteRead``)."""
    return str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------------------------------
# HTTP helpers (http.client, persistent connections)
# --------------------------------------------------------------------------------------------------


@dataclass
class Reply:
    """A fully read HTTP response."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        """Return a response header or None."""
        return self.headers.get(name)


def describe(method: str, target: str, reply: Reply) -> str:
    """Describe a request and its response for an error message."""
    body = reply.body[:600].decode("utf-8", "replace")
    return f"{method} {target} -> {reply.status} {body!r}"


class Conn:
    """One persistent HTTP/1.1 connection to a server; reconnects once if a kept-alive socket was closed."""

    def __init__(self, port: int, timeout: float = HTTP_TIMEOUT_S) -> None:
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.used = False

    def close(self) -> None:
        """Close the socket."""
        self.conn.close()

    def _reset(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        self.used = False

    def request(
        self, method: str, target: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        """Send one request with an in-memory body and read the whole response."""
        hdrs = {**auth_headers(self.port), **(headers or {})}
        for attempt in range(2):
            try:
                self.conn.request(method, target, body=body, headers=hdrs)
                return self._read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if attempt or not self.used:
                    raise
                self._reset()
        raise AssertionError("unreachable")

    def send_file(
        self, method: str, target: str, f: io.BufferedReader, offset: int, count: int, headers: dict[str, str]
    ) -> Reply:
        """Send ``count`` bytes of ``f`` from ``offset`` as the body, with sendfile(2)."""
        self.conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in {**auth_headers(self.port), **headers, "Content-Length": str(count)}.items():
            self.conn.putheader(name, value)
        self.conn.endheaders()
        sock = self.conn.sock
        assert sock is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sent = sock.sendfile(f, offset, count)
            if sent != count:
                raise BenchError(f"{method} {target}: sendfile sent {sent} of {count} bytes")
        return self._read()

    def _read(self) -> Reply:
        resp = self.conn.getresponse()
        body = resp.read()
        self.used = True
        if resp.will_close:
            self.conn.close()
        return Reply(resp.status, resp.headers, body)


def target_of(port: int, location: str) -> str:
    """Turn a Location header (absolute or relative) into a request target (path + query)."""
    url = urlsplit(urljoin(f"http://{HOST}:{port}/", location))
    if url.hostname not in (HOST, "localhost"):
        raise BenchError(f"Location {location!r} points away from {HOST}")
    return url.path + (f"?{url.query}" if url.query else "")


def with_digest(target: str, digest: str) -> str:
    """Append ``digest=`` to an upload URL that may already carry a query."""
    return f"{target}{'&' if '?' in target else '?'}digest={digest}"


def start_upload(conn: Conn, repo: str) -> str:
    """POST an upload session and return the Location as a request target."""
    path = f"/v2/{repo}/blobs/uploads/"
    reply = conn.request("POST", path)
    location = reply.header("Location")
    if reply.status != 202 or not location:
        raise BenchError(describe("POST", path, reply))
    return target_of(conn.port, location)


def push_small_blob(conn: Conn, repo: str, data: bytes, digest: str) -> None:
    """Push one in-memory blob monolithically: POST, then PUT ?digest= with the body."""
    target = with_digest(start_upload(conn, repo), digest)
    reply = conn.request("PUT", target, data, {"Content-Type": "application/octet-stream"})
    if reply.status != 201:
        raise BenchError(describe("PUT", target, reply))


def put_manifest(conn: Conn, repo: str, ref: str, manifest: bytes) -> None:
    """PUT an OCI image manifest under a tag."""
    path = f"/v2/{repo}/manifests/{ref}"
    reply = conn.request("PUT", path, manifest, {"Content-Type": OCI_MANIFEST})
    if reply.status != 201:
        raise BenchError(describe("PUT", path, reply))


def sha256_digest(data: bytes) -> str:
    """Return ``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------------
# Processes and memory
# --------------------------------------------------------------------------------------------------


def free_port() -> int:
    """Ask the kernel for a free loopback port."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    """Return ``pid`` and all its descendants (from /proc/<pid>/task/*/children)."""
    seen: list[int] = []
    todo = [pid]
    while todo and len(seen) < 1000:
        p = todo.pop()
        seen.append(p)
        for children in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in children.read_text().split())
    return seen


def status_kib(pid: int, key: str) -> int:
    """Read one ``Vm*`` line (kB) from /proc/<pid>/status; 0 if the process is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def tree_mb(pid: int, key: str) -> float:
    """Sum ``key`` (VmHWM or VmRSS) over the process tree, in MB (10^6 bytes)."""
    if not status_kib(pid, key):
        raise BenchError(f"no {key} for pid {pid}: the server process is gone")
    return sum(status_kib(p, key) for p in process_tree(pid)) * 1024 / 1e6


@dataclass
class Server:
    """A running registry process."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    command: list[str]

    @property
    def base(self) -> str:
        """Base URL."""
        return f"http://{HOST}:{self.port}"

    def log_tail(self, n: int = 30) -> str:
        """Last lines of the server's output."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        return ""

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL it if it does not exit in time."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT_S)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # stray children left in the group


def reference_config(port: int, root: Path, access_log: bool) -> str:
    """docker-registry config: filesystem storage, delete enabled, no auth, warn logging."""
    return (
        "version: 0.1\n"
        f"log:\n  level: warn\n  accesslog:\n    disabled: {str(not access_log).lower()}\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {root}\n"
        "  delete:\n    enabled: true\n"
        "  cache:\n    blobdescriptor: inmemory\n"
        f"http:\n  addr: {HOST}:{port}\n"
        "  headers:\n    X-Content-Type-Options: [nosniff]\n"
    )


def server_command(template: str, port: int, workdir: Path, access_log: bool) -> list[str]:
    """Build the command line; ``reference`` means a docker-registry with its own config."""
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    if template == REFERENCE:
        config = workdir / "config.yml"
        config.write_text(reference_config(port, data_dir, access_log))
        return ["docker-registry", "serve", str(config)]
    return shlex.split(template.format(host=HOST, port=port, data_dir=data_dir))


def start_server(
    name: str, template: str, workdir: Path, access_log: bool, env: dict[str, str] | None = None
) -> Server:
    """Start a server in its own process group, output to a log file; ``env`` adds variables."""
    port = free_port()
    command = server_command(template, port, workdir, access_log)
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    return Server(name, port, proc, log_path, command)


def wait_ready(server: Server, password: str | None = None, repos: tuple[str, ...] = ()) -> None:
    """Poll ``GET /v2/`` until it answers 200, bounded by READY_TIMEOUT_S.

    With ``password`` (dev only), a 401 challenge is answered by fetching one Bearer token for
    ``repos`` as ``admin``, which every later request then sends.
    """
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = "no answer"
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BenchError(f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}")
        conn = Conn(server.port, timeout=5)
        try:
            reply = conn.request("GET", "/v2/")
            if reply.status == 200:
                return
            last = describe("GET", "/v2/", reply)
            if reply.status == 401 and password and server.port not in AUTH:
                AUTH[server.port] = "Bearer " + fetch_token(conn, reply, password, repos)
                continue
            if reply.status in (401, 403):  # up, but the benchmark runs without auth
                raise BenchError(f"{server.name} needs auth: {last}")
        except OSError as exc:
            last = repr(exc)
        finally:
            conn.close()
        time.sleep(0.1)
    raise BenchError(f"{server.name} not ready after {READY_TIMEOUT_S}s: {last}\n{server.log_tail()}")


def fetch_token(conn: Conn, challenge: Reply, password: str, repos: tuple[str, ...]) -> str:
    """Get a pull+push token for ``repos`` from the realm named in the 401 challenge."""
    header = challenge.header("WWW-Authenticate") or ""
    params = dict(re.findall(r'(\w+)="([^"]*)"', header))
    if not header.lower().startswith("bearer") or "realm" not in params:
        raise BenchError(f"GET /v2/ -> 401 without a Bearer challenge: {header!r}")
    query = urlencode(
        [("service", params.get("service", ""))] + [("scope", f"repository:{r}:pull,push") for r in repos]
    )
    target = target_of(conn.port, f"{params['realm']}?{query}")
    basic = base64.b64encode(f"admin:{password}".encode()).decode()
    reply = conn.request("GET", target, headers={"Authorization": f"Basic {basic}"})
    if reply.status != 200:
        raise BenchError(describe("GET", target, reply))
    return str(json.loads(reply.body)["token"])


class RssSampler:
    """Background thread sampling the summed VmRSS of each server's process tree every 0.1 s."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers
        self.peak_mb = {s.name: 0.0 for s in servers}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(0.1):
            for s in self.servers:
                with contextlib.suppress(BenchError):
                    self.peak_mb[s.name] = max(self.peak_mb[s.name], tree_mb(s.proc.pid, "VmRSS"))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


# --------------------------------------------------------------------------------------------------
# Test data
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BigBlob:
    """The large random blob on disk."""

    path: Path
    size: int
    digest: str


def make_big_blob(path: Path, size_mib: int) -> BigBlob:
    """Write ``size_mib`` MiB of random bytes in 8 MiB pieces and hash them once."""
    h = hashlib.sha256()
    with path.open("wb") as f:
        for _ in range(size_mib // 8):
            piece = os.urandom(CHUNK)
            h.update(piece)
            f.write(piece)
        rest = os.urandom((size_mib % 8) * MIB)
        h.update(rest)
        f.write(rest)
    return BigBlob(path, size_mib * MIB, "sha256:" + h.hexdigest())


@dataclass(frozen=True)
class Image:
    """A small OCI image: config blob, one gzip tar layer and the manifest bytes."""

    config: bytes
    layer: bytes
    manifest: bytes

    @property
    def manifest_digest(self) -> str:
        """Digest of the manifest bytes."""
        return sha256_digest(self.manifest)


def make_layer() -> tuple[bytes, str]:
    """Build a tiny real tar.gz layer; return it and its diff_id."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = b"hello from the portside benchmark\n"
        info = tarfile.TarInfo("bench/hello.txt")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), sha256_digest(tar_bytes)


def make_image() -> Image:
    """Build the small image used for the manifest and tag tests."""
    layer, diff_id = make_layer()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        },
        separators=(",", ":"),
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(config), "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": sha256_digest(layer), "size": len(layer)}],
        },
        indent=2,
    ).encode()
    return Image(config, layer, manifest)


# --------------------------------------------------------------------------------------------------
# Measurements: big blob
# --------------------------------------------------------------------------------------------------


def run_cmd(argv: list[str], timeout: float = BIG_TIMEOUT_S) -> str:
    """Run a client command and return its stdout; raise BenchError if it fails."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise BenchError(f"{shlex.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[:500]}")
    return proc.stdout


def push_monolithic(server: Server, blob: BigBlob, scratch: Path) -> float:
    """POST + ``curl -T`` PUT ?digest= of the whole blob; return MiB/s."""
    conn = Conn(server.port)
    out = scratch / "put-response.txt"
    try:
        t0 = time.perf_counter()
        target = with_digest(start_upload(conn, BLOB_REPO), blob.digest)
        code = run_cmd(
            [
                "curl",
                "-s",
                "-g",
                "-o",
                str(out),
                "-w",
                "%{http_code}",
                "-H",
                "Expect:",
                "-H",
                "Content-Type: application/octet-stream",
                "-T",
                str(blob.path),
                *auth_args(server.port),
                server.base + target,
            ]
        )
        elapsed = time.perf_counter() - t0
    finally:
        conn.close()
    if code.strip() != "201":
        raise BenchError(
            f"PUT {target} (curl -T, {blob.size} bytes) -> {code} {out.read_bytes()[:600].decode('utf-8', 'replace')!r}"
        )
    check_blob(server, blob)
    return blob.size / MIB / elapsed


def check_blob(server: Server, blob: BigBlob) -> None:
    """HEAD the blob and check status and Content-Length."""
    conn = Conn(server.port)
    path = f"/v2/{BLOB_REPO}/blobs/{blob.digest}"
    try:
        reply = conn.request("HEAD", path)
    finally:
        conn.close()
    if reply.status != 200 or reply.header("Content-Length") != str(blob.size):
        raise BenchError(f"{describe('HEAD', path, reply)} Content-Length={reply.header('Content-Length')}")


def push_chunked(server: Server, blob: BigBlob) -> float:
    """POST, 8 MiB PATCHes with Content-Range over one connection (sendfile), PUT ?digest=; MiB/s."""
    conn = Conn(server.port, timeout=BIG_TIMEOUT_S)
    try:
        with blob.path.open("rb") as f:
            t0 = time.perf_counter()
            target = start_upload(conn, BLOB_REPO)
            for offset in range(0, blob.size, CHUNK):
                target = patch_chunk(conn, target, f, offset, min(CHUNK, blob.size - offset))
            final = with_digest(target, blob.digest)
            reply = conn.request("PUT", final)
            elapsed = time.perf_counter() - t0
    finally:
        conn.close()
    if reply.status != 201:
        raise BenchError(describe("PUT", final, reply))
    check_blob(server, blob)
    return blob.size / MIB / elapsed


def patch_chunk(conn: Conn, target: str, f: io.BufferedReader, offset: int, count: int) -> str:
    """Send one PATCH chunk and return the next upload target from Location."""
    headers = {"Content-Type": "application/octet-stream", "Content-Range": f"{offset}-{offset + count - 1}"}
    reply = conn.send_file("PATCH", target, f, offset, count, headers)
    location = reply.header("Location")
    if reply.status != 202 or not location:
        raise BenchError(f"{describe('PATCH', target, reply)} (Content-Range {headers['Content-Range']})")
    return target_of(conn.port, location)


def curl_pull_cmd(server: Server, blob: BigBlob) -> list[str]:
    """curl command that downloads the blob to /dev/null and prints status and size."""
    url = f"{server.base}/v2/{BLOB_REPO}/blobs/{blob.digest}"
    return ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", *auth_args(server.port), url]


def check_pull_output(out: str, blob: BigBlob) -> None:
    """Check curl's ``%{http_code} %{size_download}``."""
    code, _, size = out.strip().partition(" ")
    if code != "200" or size != str(blob.size):
        raise BenchError(f"GET /v2/{BLOB_REPO}/blobs/{blob.digest} -> {code}, {size} of {blob.size} bytes")


def pull(server: Server, blob: BigBlob, streams: int) -> float:
    """Pull the blob with ``streams`` concurrent curls; return total MiB/s."""
    argv = curl_pull_cmd(server, blob)
    t0 = time.perf_counter()
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(streams)]
    try:
        outs = [p.communicate(timeout=BIG_TIMEOUT_S)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    elapsed = time.perf_counter() - t0
    for out in outs:
        check_pull_output(out, blob)
    return streams * blob.size / MIB / elapsed


# --------------------------------------------------------------------------------------------------
# Measurements: manifests, small blobs, tags
# --------------------------------------------------------------------------------------------------


def push_image(port: int, repo: str, image: Image, tag: str | None) -> None:
    """Push the config and layer blobs into ``repo`` and, if ``tag`` is given, the manifest."""
    conn = Conn(port)
    try:
        for data in (image.config, image.layer):
            push_small_blob(conn, repo, data, sha256_digest(data))
        if tag:
            put_manifest(conn, repo, tag, image.manifest)
    finally:
        conn.close()


def check_manifest(server: Server, image: Image) -> None:
    """GET and HEAD the manifest with the OCI Accept header; expect 200 and the pushed bytes."""
    conn = Conn(server.port)
    path = f"/v2/{IMG_REPO}/manifests/v1"
    try:
        get = conn.request("GET", path, headers={"Accept": OCI_MANIFEST})
        head = conn.request("HEAD", path, headers={"Accept": OCI_MANIFEST})
    finally:
        conn.close()
    if get.status != 200 or get.body != image.manifest:
        raise BenchError(f"{describe('GET', path, get)} (expected the {len(image.manifest)} pushed bytes)")
    if get.header("Docker-Content-Digest") != image.manifest_digest:
        raise BenchError(
            f"GET {path}: Docker-Content-Digest {get.header('Docker-Content-Digest')!r} != {image.manifest_digest}"
        )
    if head.status != 200:
        raise BenchError(describe("HEAD", path, head))


def manifest_url(server: Server) -> str:
    """URL of the benchmark manifest."""
    return f"{server.base}/v2/{IMG_REPO}/manifests/v1"


def wrk_get(server: Server, image: Image) -> float:
    """Verify the manifest, then ``wrk -t2 -c64 -d10s`` GET it; return requests/s."""
    check_manifest(server, image)
    out = run_cmd(
        ["wrk", "-t2", "-c64", "-d10s", "-H", f"Accept: {OCI_MANIFEST}", *auth_args(server.port), manifest_url(server)],
        timeout=60,
    )
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if bad or errors:
        raise BenchError(
            f"wrk GET {manifest_url(server)}: {bad.group(0) if bad else ''} {errors.group(0) if errors else ''}".strip()
        )
    match = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if not match:
        raise BenchError(f"wrk output not understood:\n{out}")
    return float(match.group(1))


def hey_head(server: Server, image: Image) -> float:
    """Verify the manifest, then ``hey -z 5s -c 64 -m HEAD`` it; return requests/s (all must be 200)."""
    check_manifest(server, image)
    out = run_cmd(
        ["hey", "-z", "5s", "-c", "64", "-m", "HEAD", "-H", f"Accept: {OCI_MANIFEST}", *auth_args(server.port)]
        + [manifest_url(server)],
        timeout=60,
    )
    codes = dict(re.findall(r"\[(\d{3})\]\s+(\d+) responses", out))
    if set(codes) != {"200"} or "Error distribution" in out:
        tail = out[out.find("Status code distribution") :].strip()
        raise BenchError(f"hey HEAD {manifest_url(server)}: {tail[:800]}")
    match = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if not match:
        raise BenchError(f"hey output not understood:\n{out}")
    return float(match.group(1))


def run_workers(port: int, items: list[Any], work: Callable[[Conn, Any], None]) -> float:
    """Run ``work(conn, item)`` over ``items`` with WORKERS threads (one connection each); return seconds."""
    todo: queue.SimpleQueue[Any] = queue.SimpleQueue()
    for item in items:
        todo.put(item)
    errors: list[BaseException] = []

    def worker() -> None:
        conn = Conn(port)
        try:
            while not errors:
                try:
                    item = todo.get_nowait()
                except queue.Empty:
                    return
                work(conn, item)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(WORKERS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(BIG_TIMEOUT_S)
    elapsed = time.perf_counter() - t0
    if errors:
        raise BenchError(f"{len(errors)} worker(s) failed; first: {errors[0]}")
    return elapsed


def small_blobs(server: Server) -> float:
    """Push SMALL_BLOBS distinct 4 KiB random blobs with WORKERS threads; return blobs/s."""
    blobs = [os.urandom(SMALL_BLOB_SIZE) for _ in range(SMALL_BLOBS)]
    items = [(b, sha256_digest(b)) for b in blobs]
    elapsed = run_workers(server.port, items, lambda c, it: push_small_blob(c, BLOB_REPO, it[0], it[1]))
    return SMALL_BLOBS / elapsed


@dataclass
class TagsResult:
    """Outcome of one tags run."""

    push_per_s: float
    list_s: float
    pages: int


def tags_repo(run: int) -> str:
    """A fresh repository per run, so that each run lists exactly TAGS tags."""
    return f"bench/tags{run}"


def push_and_list_tags(server: Server, image: Image, run: int) -> TagsResult:
    """Push TAGS tags of one manifest into a fresh repository, then list them all via Link pages."""
    repo = tags_repo(run)
    push_image(server.port, repo, image, tag=None)
    tags = [f"t{i:04d}" for i in range(TAGS)]
    elapsed = run_workers(server.port, tags, lambda c, tag: put_manifest(c, repo, tag, image.manifest))
    t0 = time.perf_counter()
    listed, pages = list_tags(server.port, repo)
    list_s = time.perf_counter() - t0
    if len(listed) != TAGS or set(listed) != set(tags):
        raise BenchError(
            f"GET /v2/{repo}/tags/list?n={TAGS_PAGE} (+Link pages): {len(listed)} tags "
            f"({len(set(listed))} distinct) in {pages} page(s), expected {TAGS}"
        )
    return TagsResult(TAGS / elapsed, list_s, pages)


def next_link(link: str | None) -> str | None:
    """Extract the ``rel="next"`` URL from a Link header."""
    if not link:
        return None
    match = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', link)
    return match.group(1) if match else None


def list_tags(port: int, repo: str) -> tuple[list[str], int]:
    """GET tags/list?n=100 and follow Link headers; return all tags and the number of pages."""
    conn = Conn(port)
    target: str | None = f"/v2/{repo}/tags/list?n={TAGS_PAGE}"
    tags: list[str] = []
    pages = 0
    try:
        while target and pages < MAX_TAG_PAGES:
            reply = conn.request("GET", target)
            if reply.status != 200:
                raise BenchError(describe("GET", target, reply))
            tags.extend(json.loads(reply.body).get("tags") or [])
            pages += 1
            link = next_link(reply.header("Link"))
            target = target_of(port, link) if link else None
    finally:
        conn.close()
    return tags, pages


# --------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------


@dataclass
class Metric:
    """One table row: per-server run values, and the target."""

    name: str
    unit: str
    target: str  # ">=1.5", ">=1.0", "<=1.0" (ratio), "<200MB", "<1s" or "<1000ms" (Portside absolute)
    info: bool = False
    values: dict[str, list[float]] = field(default_factory=lambda: {n: [] for n in SERVER_NAMES})
    errors: dict[str, list[str]] = field(default_factory=lambda: {n: [] for n in SERVER_NAMES})

    def median(self, server: str) -> float | None:
        """Median of the successful runs, or None."""
        vals = self.values[server]
        return statistics.median(vals) if vals else None

    def ratio(self) -> float | None:
        """Portside / reference."""
        p, r = self.median("portside"), self.median("reference")
        return p / r if p is not None and r else None

    def met(self) -> bool | None:
        """Whether the target is met (None if not measurable)."""
        if not self.target:
            return None
        if self.target.startswith("<") and self.target.endswith("MB"):
            p = self.median("portside")
            return None if p is None else p < float(self.target[1:-2])
        if self.target.startswith("<") and self.target.endswith("ms"):  # values in s (unit "s")
            p = self.median("portside")
            return None if p is None else p * 1000 < float(self.target[1:-2])
        if self.target.startswith("<") and self.target.endswith("s"):
            p = self.median("portside")
            return None if p is None else p < float(self.target[1:-1])
        ratio = self.ratio()
        if ratio is None:
            return None
        bound = float(self.target[2:])
        return ratio >= bound if self.target.startswith(">=") else ratio <= bound


class Bench:
    """Runs every phase on every server, interleaved, and collects Metric rows."""

    def __init__(self, servers: list[Server], runs: int, blob: BigBlob, scratch: Path) -> None:
        self.servers = servers
        self.runs = runs
        self.blob = blob
        self.scratch = scratch
        self.image = make_image()
        self.metrics: dict[str, Metric] = {}
        self.dead: set[str] = set()

    def metric(self, name: str, unit: str, target: str, info: bool = False) -> Metric:
        """Get or create a table row (rows keep insertion order)."""
        if name not in self.metrics:
            self.metrics[name] = Metric(name, unit, target, info)
        return self.metrics[name]

    def record(self, metric: Metric, server: Server, run: int, fn: Callable[[], float]) -> None:
        """Run one measurement; keep its value or its error."""
        if server.proc.poll() is not None:
            self.fail(metric, server, f"run {run + 1}: skipped, {self.death(server)}")
            return
        try:
            value = fn()
        except MEASUREMENT_ERRORS as exc:
            msg = f"run {run + 1}: {error_text(exc)}"
            if server.proc.poll() is not None:
                msg += f" ({self.death(server)})"
            self.fail(metric, server, msg)
            return
        metric.values[server.name].append(value)
        log(f"  {server.name:9s} {metric.name}: {fmt(value, metric.unit)}")

    def fail(self, metric: Metric, server: Server, msg: str) -> None:
        """Keep an error for the table's error list."""
        metric.errors[server.name].append(msg)
        log(f"  {server.name:9s} {metric.name}: ERROR {msg}")

    def death(self, server: Server) -> str:
        """Describe a server that exited, with its log tail the first time."""
        text = f"server exited with status {server.proc.returncode}"
        if server.name not in self.dead:
            self.dead.add(server.name)
            text += f"; last output:\n{server.log_tail()}"
        return text

    def interleaved(self, metric: Metric, fn: Callable[[Server, int], float]) -> None:
        """Measure ``fn`` for run 1 on A, B, run 2 on A, B, …"""
        log(f"{metric.name} ({self.runs} run(s))")
        for run in range(self.runs):
            for server in self.servers:
                self.record(metric, server, run, lambda s=server, r=run: fn(s, r))

    def sample_hwm(self, name: str) -> None:
        """Record each server's VmHWM summed over its process tree."""
        metric = self.metric(name, "MB", "<200MB")
        for server in self.servers:
            self.record(metric, server, 0, lambda s=server: tree_mb(s.proc.pid, "VmHWM"))

    def blob_phases(self) -> None:
        """1 GiB push (monolithic, chunked) and pull (1 and 4 streams), with RSS sampling."""
        with RssSampler(self.servers) as sampler:
            self.interleaved(
                self.metric("blob push monolithic", "MiB/s", ">=1.5"),
                lambda s, r: push_monolithic(s, self.blob, self.scratch),
            )
            self.interleaved(
                self.metric("blob push chunked 8 MiB", "MiB/s", ">=1.5"),
                lambda s, r: push_chunked(s, self.blob),
            )
            self.interleaved(self.metric("blob pull 1 stream", "MiB/s", ">=1.0"), lambda s, r: pull(s, self.blob, 1))
            self.interleaved(self.metric("blob pull 4 streams", "MiB/s", ">=1.0"), lambda s, r: pull(s, self.blob, 4))
        peak = self.metric("peak RSS during blob push+pull (VmRSS 0.1s)", "MB", "<200MB")
        for server in self.servers:
            self.record(peak, server, 0, lambda s=server: sampler.peak_mb[s.name])
        self.sample_hwm("VmHWM after blob phases")

    def setup_image(self) -> None:
        """Push the small image to every server (each GET/HEAD run verifies it first)."""
        metric = self.metric("manifest GET wrk -c64", "req/s", ">=1.0")
        for server in self.servers:
            try:
                push_image(server.port, IMG_REPO, self.image, tag="v1")
            except MEASUREMENT_ERRORS as exc:
                self.fail(metric, server, f"setup (push {IMG_REPO}:v1): {error_text(exc)}")

    def small_phases(self) -> None:
        """Manifest GET/HEAD, small blobs, tags push/list."""
        self.setup_image()
        self.interleaved(self.metric("manifest GET wrk -c64", "req/s", ">=1.0"), lambda s, r: wrk_get(s, self.image))
        self.interleaved(self.metric("manifest HEAD hey -c64", "req/s", ">=1.0"), lambda s, r: hey_head(s, self.image))
        self.interleaved(
            self.metric(f"small blobs {SMALL_BLOBS}x4KiB, {WORKERS} workers", "blobs/s", ">=1.0"),
            lambda s, r: small_blobs(s),
        )
        push = self.metric(f"tags push {TAGS}, {WORKERS} workers", "tags/s", ">=1.0", info=True)
        listing = self.metric(f"tags list all (n={TAGS_PAGE} + Link)", "s", "<=1.0", info=True)
        pages = self.metric("tags list pages", "pages", "", info=True)
        log(f"{push.name} + list ({self.runs} run(s))")
        for run in range(self.runs):
            for server in self.servers:
                self.tags_run(server, run, push, listing, pages)
        self.sample_hwm("VmHWM at end")

    def tags_run(self, server: Server, run: int, push: Metric, listing: Metric, pages: Metric) -> None:
        """One tags push + list on one server; three rows from one measurement."""
        result: list[TagsResult] = []

        def measure() -> float:
            result.append(push_and_list_tags(server, self.image, run))
            return result[0].push_per_s

        self.record(push, server, run, measure)
        if result:
            self.record(listing, server, run, lambda: result[0].list_s)
            self.record(pages, server, run, lambda: float(result[0].pages))


def log(msg: str) -> None:
    """Progress to stderr."""
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def fmt(value: float | None, unit: str) -> str:
    """Format a value for the table."""
    if value is None:
        return "ERR"
    if unit == "s":
        return f"{value * 1000:.0f} ms"
    if unit in ("req/s", "blobs/s", "tags/s", "pages", "findings", "projects/s", "artifacts/s"):
        return f"{value:.0f} {unit}"
    return f"{value:.1f} {unit}"


def target_text(m: Metric) -> str:
    """Human form of the target."""
    if not m.target:
        return "-"
    if m.target.endswith("MB"):
        return f"Portside {m.target[0]} {m.target[1:-2]} MB"
    if m.target.startswith("<") and m.target.endswith("ms"):
        return f"Portside < {m.target[1:-2]} ms" + (" (info)" if m.info else "")
    if m.target.startswith("<") and m.target.endswith("s"):
        return f"Portside < {m.target[1:-1]} s" + (" (info)" if m.info else "")
    return f"{m.target[:2]} {m.target[2:]}x" + (" (info)" if m.info else "")


def met_text(m: Metric) -> str:
    """yes/no/-; informational rows in parentheses."""
    if not m.target:
        return "-"
    met = m.met()
    text = "?" if met is None else ("yes" if met else "NO")
    return f"({text})" if m.info else text


def table_rows(metrics: list[Metric]) -> list[list[str]]:
    """Header plus one row per metric."""
    rows = [["metric", "Portside", "reference", "Portside/ref", "target", "met"]]
    for m in metrics:
        ratio = m.ratio()
        rows.append(
            [
                m.name,
                *(fmt(m.median(n), m.unit) if m.values[n] or m.errors[n] else "-" for n in SERVER_NAMES),
                "-" if ratio is None else f"{ratio:.2f}x",
                target_text(m),
                met_text(m),
            ]
        )
    return rows


def render_table(metrics: list[Metric]) -> str:
    """Aligned plain-text table: text left, numbers right."""
    rows = table_rows(metrics)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.ljust(w) if i in (0, 4, 5) else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def results_json(metrics: list[Metric], meta: dict[str, Any]) -> dict[str, Any]:
    """Everything measured, per run, for bench/results.json."""
    return {
        "meta": meta,
        "metrics": [
            {
                "metric": m.name,
                "unit": m.unit,
                "portside": m.median("portside"),
                "reference": m.median("reference"),
                "ratio": m.ratio(),
                "target": target_text(m),
                "met": m.met(),
                "informational": m.info,
                "runs": m.values,
                "errors": m.errors,
            }
            for m in metrics
        ],
    }


def error_lines(metrics: list[Metric]) -> list[str]:
    """All recorded errors, for after the table."""
    return [f"{name}: {m.name}: {err}" for m in metrics for name in SERVER_NAMES for err in m.errors[name]]


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


PHASES = ("blob", "small", "scan", "portal")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=2, help="runs per measurement (median), default 2")
    p.add_argument("--blob-size-mib", type=int, default=1024, help="size of the big blob, default 1024")
    p.add_argument("--scan-image-mib", type=int, default=500, help="size of the scan phase's image, default 500")
    p.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}")
    p.add_argument("--out", type=Path, default=here / "results.json", help="JSON output path")
    p.add_argument("--tmp-dir", type=Path, default=None, help="parent directory for temporary files")
    p.add_argument(
        "--access-log",
        choices=("on", "off"),
        default="off",
        help="access logs of both servers (Portside --[no-]access-log, docker-registry accesslog), default off",
    )
    # dev only: Portside command template ({host} {port} {data_dir}), or 'reference' for a docker-registry
    p.add_argument("--portside-cmd", default=None, help=argparse.SUPPRESS)
    # Portside always authenticates (as Harbor does): start it with this admin password and send
    # an admin Bearer token; the reference registry runs without auth.
    p.add_argument("--portside-admin-password", default="Bench-Passw0rd-123",
                   help="admin password Portside is started with (its requests use an admin token)")
    args = p.parse_args(argv)
    args.access_log = args.access_log == "on"
    if args.portside_cmd is None:
        args.portside_cmd = PORTSIDE_CMD + PORTSIDE_FLAGS + PORTSIDE_LOG_FLAGS[args.access_log]
    if args.runs < 1 or args.blob_size_mib < 1 or args.scan_image_mib < 1:
        p.error("--runs, --blob-size-mib and --scan-image-mib must be >= 1")
    args.phases = tuple(name.strip() for name in args.phases.split(",") if name.strip())
    if not args.phases or set(args.phases) - set(PHASES):
        p.error(f"--phases: choose from {','.join(PHASES)}")
    return args


def tool_versions() -> dict[str, str]:
    """Versions of the external tools, for the JSON metadata."""
    versions = {}
    for name, argv in {
        "docker-registry": ["docker-registry", "--version"],
        "wrk": ["wrk", "--version"],
        "curl": ["curl", "--version"],
    }.items():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
            versions[name] = (proc.stdout or proc.stderr).strip().splitlines()[0]
    versions["python"] = sys.version.split()[0]
    return versions


@contextlib.contextmanager
def running_servers(args: argparse.Namespace, root: Path) -> Iterator[list[Server]]:
    """Start Portside and the reference side by side; always stop both."""
    servers: list[Server] = []
    try:
        password = args.portside_admin_password
        env = {"PORTSIDE_ADMIN_PASSWORD": password} if password else None
        servers.append(start_server("portside", args.portside_cmd, root / "portside", args.access_log, env))
        servers.append(start_server("reference", REFERENCE, root / "reference", args.access_log))
        repos = (BLOB_REPO, IMG_REPO, *(tags_repo(run) for run in range(args.runs)))
        for server in servers:
            wait_ready(server, password if server.name == "portside" else None, repos)
            log(f"{server.name} ready on port {server.port}: {shlex.join(server.command)}")
        yield servers
    finally:
        for server in servers:
            server.stop()


def run_bench(args: argparse.Namespace) -> tuple[list[Metric], dict[str, str]]:
    """Generate the blob, start both servers, run every phase; always clean up."""
    root = Path(tempfile.mkdtemp(prefix="portside-bench-", dir=args.tmp_dir))
    try:
        import portal_phase  # here, not at the top: these import from this module (``run``)
        import scan_phase

        blob_mib = args.blob_size_mib if "blob" in args.phases else 0
        log(f"generating {blob_mib} MiB random blob in {root}")
        blob = make_big_blob(root / "blob.bin", blob_mib)
        scan_image = scan_phase.prepare(args, root) if "scan" in args.phases else None  # before Portside starts
        with running_servers(args, root) as servers:
            bench = Bench(servers, args.runs, blob, root)
            if "blob" in args.phases:
                bench.blob_phases()
            if "small" in args.phases:
                bench.small_phases()
            if scan_image is not None:
                scan_phase.run_scan_phase(bench, args, scan_image)
            if "portal" in args.phases:
                portal_phase.run_portal_phase(bench, args)
            return list(bench.metrics.values()), {s.name: shlex.join(s.command) for s in servers}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report(args: argparse.Namespace, metrics: list[Metric], commands: dict[str, str]) -> list[str]:
    """Print the table (and errors), write the JSON; return the error lines."""
    print(f"Portside vs docker-registry: median of {args.runs} run(s), blob {args.blob_size_mib} MiB, "
          f"scan image {args.scan_image_mib} MiB, phases {','.join(args.phases)}")
    print(render_table(metrics))
    errors = error_lines(metrics)
    if errors:
        print("\nerrors:")
        print("\n".join(errors))
    sys.stdout.flush()
    meta = {
        "runs": args.runs,
        "blob_size_mib": args.blob_size_mib,
        "scan_image_mib": args.scan_image_mib,
        "phases": list(args.phases),
        "access_log": args.access_log,
        "portside_auth": "admin Bearer token" if args.portside_admin_password else "none",
        "commands": commands,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "tools": tool_versions(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results_json(metrics, meta), indent=2) + "\n")
    log(f"wrote {args.out}")
    return errors


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 0 if every measurement succeeded, 1 on errors, 2 if it could not run."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks on SIGTERM
    missing = [t for t in ("curl", "wrk", "hey", "docker-registry") if not shutil.which(t)]
    if missing:
        log(f"missing tools: {' '.join(missing)} (apt-get install -y {' '.join(missing)})")
        return 2
    try:
        metrics, commands = run_bench(args)
    except BenchError as exc:  # a server did not start
        log(f"benchmark aborted: {exc}")
        return 2
    return 1 if report(args, metrics, commands) else 0


if __name__ == "__main__":
    sys.modules.setdefault("run", sys.modules[__name__])  # so that bench/*_phase.py's ``from run import`` is us
    sys.exit(main())
