"""A real package index for tests: pypiserver with htpasswd auth on 127.0.0.1, and a faulty proxy.

Reusable by any test area: ``start_index_server(tmp)`` returns a running server (call
``stop()``), ``FaultyProxy(upstream)`` sits in front of one and injects 503s, dropped
connections and stalls for a bounded share of requests.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "FaultPlan",
    "FaultyProxy",
    "IndexServer",
    "free_port",
    "start_index_server",
    "wait_for_http",
]

Route = Callable[[str, str, dict[str, str], bytes], tuple[int, bytes, dict[str, str]]]

INDEX_USER = "uploader"
INDEX_PASSWORD = "index-Pa55word-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(
    url: str, timeout: float = 30.0, process: subprocess.Popen[Any] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout}s")


@dataclass
class IndexServer:
    """A running pypiserver; uploads need ``username``/``password``, reads are open."""

    url: str
    packages_dir: Path
    username: str
    password: str
    log_file: Path
    process: subprocess.Popen[bytes]

    @property
    def simple_url(self) -> str:
        return self.url + "simple/"

    def files(self) -> list[str]:
        return sorted(path.name for path in self.packages_dir.iterdir() if path.is_file())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_index_server(
    base: Path,
    username: str = INDEX_USER,
    password: str = INDEX_PASSWORD,
    fallback_url: str | None = None,
) -> IndexServer:
    """Start pypiserver on a free port with one htpasswd user; uploads require auth.

    pypiserver redirects a project it does not hold to PyPI unless told otherwise; the
    tests never reach out, so that redirect goes to ``fallback_url`` or is off.
    """
    from passlib.apache import HtpasswdFile

    base.mkdir(parents=True, exist_ok=True)
    packages = base / "packages"
    packages.mkdir(exist_ok=True)
    htpasswd = HtpasswdFile(str(base / "htpasswd"), new=True)
    htpasswd.set_password(username, password)
    htpasswd.save()
    log_file = base / "server.log"
    for _attempt in range(3):
        port = free_port()
        command = [
            sys.executable, "-m", "pypiserver", "run",
            "-i", "127.0.0.1", "-p", str(port),
            "-P", str(base / "htpasswd"), "-a", "update",
            "--hash-algo", "sha256", "--server", "auto",
            *(["--fallback-url", fallback_url] if fallback_url else ["--disable-fallback"]),
            str(packages),
        ]  # fmt: skip
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
        url = f"http://127.0.0.1:{port}/"
        try:
            wait_for_http(url + "health", process=process)
        except RuntimeError:
            process.kill()
            process.wait()
            continue
        return IndexServer(url, packages, username, password, log_file, process)
    raise RuntimeError(f"pypiserver did not start; see {log_file}")


@dataclass
class FaultPlan:
    """Which faults to inject: each a share of requests, each request faulted at most
    ``max_faults_per_request`` times (keyed by method, path and upload filename) so that a
    client with bounded retries always gets through."""

    error_503: float = 0.0
    drop_before: float = 0.0
    drop_after: float = 0.0
    stall: float = 0.0
    stall_seconds: float = 3.0
    delay_seconds: float = 0.0
    max_faults_per_request: int = 2
    seed: int = 7


@dataclass
class FaultyProxy:
    """An HTTP proxy in front of ``upstream`` that misbehaves as ``plan`` says.

    ``upstream_successes`` counts uploads the upstream index answered 200 for, per file;
    ``faults`` counts the faults injected, by kind.
    """

    upstream: str
    plan: FaultPlan = field(default_factory=FaultPlan)
    upstream_successes: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    # Paths answered here instead of upstream (e.g. OIDC endpoints of a test double):
    # path -> handler(method, path with query, headers, body) -> (status, body, headers).
    routes: dict[str, Route] = field(default_factory=dict)
    # Every upload body (multipart) that reached the proxy, in arrival order.
    upload_bodies: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.plan.seed)
        self._lock = threading.Lock()
        self._per_request: Counter[str] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                proxy._handle(self, "GET")

            def do_POST(self) -> None:
                proxy._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _choose_fault(self, key: str) -> str | None:
        plan = self.plan
        with self._lock:
            # Roll first, always: the n-th request meets the n-th roll whatever was capped,
            # so a seed gives the same mix of faults from run to run.
            roll = self._rng.random()
            if self._per_request[key] >= plan.max_faults_per_request:
                return None
            fault = None
            for name, share in (
                ("503", plan.error_503),
                ("drop_before", plan.drop_before),
                ("drop_after", plan.drop_after),
                ("stall", plan.stall),
            ):
                if roll < share:
                    fault = name
                    break
                roll -= share
            if fault is not None:
                self._per_request[key] += 1
                self.faults[fault] += 1
            return fault

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        route = self.routes.get(urlsplit(handler.path).path)
        if route is not None:
            status, payload, headers = route(method, handler.path, dict(handler.headers), body)
            _reply(handler, status, payload, headers)
            return
        filename = _upload_filename(body) if method == "POST" else None
        if filename:
            with self._lock:
                self.upload_bodies.append(body)
        key = f"{method} {handler.path} {filename or ''}"
        fault = self._choose_fault(key)
        if self.plan.delay_seconds:
            time.sleep(self.plan.delay_seconds)
        if fault == "503":
            _reply(handler, 503, b"injected fault\n", {"Retry-After": "0"})
            return
        if fault == "drop_before":
            _drop(handler)
            return
        if fault == "stall":
            time.sleep(self.plan.stall_seconds)
            _drop(handler)
            return
        upstream = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        headers = {
            key: value
            for key, value in handler.headers.items()
            if key.lower() not in ("host", "connection", "keep-alive")
        }
        try:
            connection.request(method, handler.path, body=body, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
        finally:
            connection.close()
        if method == "POST" and filename and 200 <= answer.status < 300:
            with self._lock:
                self.upstream_successes[filename] += 1
        if fault == "drop_after":
            _drop(handler)
            return
        forwarded = {
            key: value
            for key, value in answer.getheaders()
            if key.lower() not in ("transfer-encoding", "connection", "content-length")
        }
        _reply(handler, answer.status, payload, forwarded)


def _upload_filename(body: bytes) -> str | None:
    marker = b'name="content"; filename="'
    start = body.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return body[start : body.find(b'"', start)].decode("utf-8", "replace")


def _reply(
    handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str]
) -> None:
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def _drop(handler: BaseHTTPRequestHandler) -> None:
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)
