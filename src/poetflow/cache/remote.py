"""The one module that speaks HTTP to the remote task cache (Bazel's HTTP cache protocol).

``GET``/``PUT {url}/ac/{key}`` carry action results and ``GET``/``HEAD``/``PUT
{url}/cas/{sha256}`` blobs, which is what bazel-remote, nginx with WebDAV ``PUT`` and S3
gateways serve. A cache is an optimisation, so no answer from it ever fails a job: the
first connection failure, timeout, refusal or server error is logged once as a warning and
the remote is left alone for the rest of the run (reads and writes alike), which bounds
what a dead or slow cache costs to one timeout per worker thread.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from poetflow import __version__
from poetflow.cache.protocol import Digest
from poetflow.masking import mask, register_secret

if TYPE_CHECKING:
    import requests

__all__ = ["RemoteCache", "display_url"]

logger = logging.getLogger("poetflow.cache")


def display_url(url: str) -> str:
    """``url`` without userinfo, as every message shows it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


class RemoteCache:
    """A remote cache at ``url``; ``token`` is sent as a Bearer token, userinfo in the URL
    as basic auth. ``read_only`` never writes (pull requests from forks)."""

    def __init__(
        self, url: str, *, token: str | None, timeout: float, read_only: bool = False
    ) -> None:
        parts = urlsplit(url)
        self.auth: tuple[str, str] | None = None
        if parts.username is not None:
            username, password = unquote(parts.username), unquote(parts.password or "")
            # The password, not the user name: URLs print as user:***@host everywhere.
            for secret in (password, f"{username}:{password}"):
                register_secret(secret)
            self.auth = (username, password)
        register_secret(token)
        self.base = display_url(url)
        self.token = token
        self.timeout = timeout
        self.read_only = read_only
        self._disabled = False
        self._writes_refused = False
        self._state = threading.Lock()
        self._local = threading.local()
        self._sessions: list[requests.Session] = []

    @property
    def available(self) -> bool:
        return not self._disabled

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = requests.Session()
            session.headers["User-Agent"] = f"poetflow/{__version__}"
            if self.token:
                session.headers["Authorization"] = f"Bearer {self.token}"
            session.auth = self.auth
            self._local.session = session
            with self._state:
                self._sessions.append(session)
        return session

    def _give_up(self, why: str) -> None:
        with self._state:
            if self._disabled:
                return
            self._disabled = True
        logger.warning(
            "remote cache %s %s: continuing without it for this run", self.base, mask(why)
        )

    def _request(self, method: str, path: str, data: bytes | None = None) -> Any:
        """The response, or None once the remote is given up (it then says why, once)."""
        if self._disabled:
            return None
        import requests

        try:
            response = self._session().request(
                method,
                f"{self.base}/{path}",
                data=data,
                timeout=(self.timeout, self.timeout),
                allow_redirects=False,
            )
        except requests.Timeout:
            self._give_up(f"did not answer within {self.timeout:g} s")
            return None
        except requests.RequestException as exc:
            self._give_up(f"cannot be reached ({type(exc).__name__})")
            return None
        if response.status_code in (401, 403):
            self._give_up(f"refused the credentials (HTTP {response.status_code})")
            return None
        if response.status_code >= 500:
            self._give_up(f"failed (HTTP {response.status_code})")
            return None
        return response

    def get_action(self, key: str) -> bytes | None:
        response = self._request("GET", f"ac/{key}")
        if response is None or response.status_code != 200:
            return None
        content: bytes = response.content
        return content

    def get_blob(self, digest: Digest) -> bytes | None:
        response = self._request("GET", f"cas/{digest.hash}")
        if response is None or response.status_code != 200:
            return None
        content: bytes = response.content
        if hashlib.sha256(content).hexdigest() != digest.hash:
            return None  # a damaged or truncated blob is a miss, never wrong bytes
        return content

    def has_blob(self, digest: Digest) -> bool:
        response = self._request("HEAD", f"cas/{digest.hash}")
        return response is not None and response.status_code == 200

    def _put(self, path: str, data: bytes) -> bool:
        if self.read_only or self._writes_refused:
            return False
        response = self._request("PUT", path, data)
        if response is None:
            return False
        if response.status_code not in (200, 201, 204):
            with self._state:
                refused, self._writes_refused = self._writes_refused, True
            if not refused:
                logger.warning(
                    "remote cache %s refused an upload (HTTP %s): results are not shared "
                    "from this run",
                    self.base,
                    response.status_code,
                )
            return False
        return True

    def put_blob(self, digest: Digest, data: bytes) -> bool:
        if self.read_only or self.has_blob(digest):
            return True
        return self._put(f"cas/{digest.hash}", data)

    def put_action(self, key: str, data: bytes) -> bool:
        return self._put(f"ac/{key}", data)

    def close(self) -> None:
        with self._state:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
