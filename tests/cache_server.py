"""A real remote task cache for the tests: Debian's nginx serving Bazel's HTTP cache
protocol with WebDAV PUT on 127.0.0.1 (``scripts/cache-setup.sh`` installs nginx)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CacheServer", "nginx_binary", "start_cache_server"]

_CONFIG = """
user root;
daemon off;
worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {base}/access.log;
    client_body_temp_path {base}/tmp/body;
    proxy_temp_path {base}/tmp/proxy;
    fastcgi_temp_path {base}/tmp/fastcgi;
    uwsgi_temp_path {base}/tmp/uwsgi;
    scgi_temp_path {base}/tmp/scgi;
    client_max_body_size 256m;
    server {{
        listen 127.0.0.1:{port};
        root {base}/data;
        location / {{
{auth}
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class CacheServer:
    """A running nginx; ``url`` is the cache root (``/ac/``, ``/cas/`` below it)."""

    base: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data(self) -> Path:
        return self.base / "data"

    def requests(self, method: str | None = None) -> list[str]:
        """Request lines of the access log (``"PUT /ac/... HTTP/1.1"``), optionally by method."""
        try:
            lines = (self.base / "access.log").read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        found = [line.split('"')[1] for line in lines if line.count('"') >= 2]
        return [line for line in found if method is None or line.startswith(f"{method} ")]

    def entries(self, kind: str) -> list[Path]:
        folder = self.data / kind
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def start_cache_server(
    base: Path, *, token: str | None = None, basic: tuple[str, str] | None = None
) -> Iterator[CacheServer]:
    """nginx on a free loopback port; with ``token`` it answers 401 to any request without
    ``Authorization: Bearer <token>``, with ``basic`` it wants that user and password."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed: run scripts/cache-setup.sh as root")
    for folder in ("data", "tmp"):
        (base / folder).mkdir(parents=True, exist_ok=True)
    auth = ""
    if token is not None:
        auth = f'            if ($http_authorization != "Bearer {token}") {{ return 401; }}'
    elif basic is not None:
        users = base / "users"
        users.write_text(f"{basic[0]}:{{PLAIN}}{basic[1]}\n", encoding="utf-8")
        auth = f'            auth_basic "cache";\n            auth_basic_user_file {users};'
    port = _free_port()
    config = base / "nginx.conf"
    config.write_text(_CONFIG.format(base=base, port=port, auth=auth), encoding="utf-8")
    process = subprocess.Popen(
        [binary, "-p", str(base), "-c", str(config), "-e", str(base / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = CacheServer(base, port, process)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                log = (base / "error.log").read_text(encoding="utf-8", errors="replace")
                raise RuntimeError(f"nginx exited: {log}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start listening") from None
                time.sleep(0.05)
        yield server
    finally:
        server.stop()
