"""The one module that speaks HTTP to a package index: simple-API reads, uploads, OIDC exchange.

Built on requests: it is what twine and Poetry themselves upload with, so every index that
works with them works here, and it is already installed wherever Poetry is. It is imported
lazily so that ``poetflow --help`` never pays for it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin, urlsplit

from poetflow import __version__
from poetflow.masking import mask

if TYPE_CHECKING:
    import requests

__all__ = [
    "JSON_ACCEPT",
    "HttpResponse",
    "IndexClient",
    "IndexFile",
    "IndexTransportError",
    "parse_project_page",
]

# PEP 691 content negotiation: JSON preferred, the PEP 503 HTML page accepted as a fallback.
JSON_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.1"
)
_JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10
_HASH_FRAGMENT = re.compile(r"^(?P<algo>[a-z0-9_]+)=(?P<value>[0-9a-fA-F]+)$")


class IndexTransportError(Exception):
    """No HTTP answer at all: connection refused or dropped, timeout, TLS failure."""


@dataclass(frozen=True)
class HttpResponse:
    """An HTTP answer reduced to what PoetFlow looks at (unmasked: print it masked)."""

    status: int
    url: str
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass(frozen=True)
class IndexFile:
    """One file listed on a project's simple page; ``sha256`` is None when the index omits it."""

    filename: str
    url: str
    sha256: str | None


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def _sha256_from_fragment(fragment: str) -> str | None:
    match = _HASH_FRAGMENT.match(fragment)
    if match and match.group("algo") == "sha256":
        return match.group("value").lower()
    return None


def parse_project_page(response: HttpResponse) -> dict[str, IndexFile]:
    """The files of a project page, by filename, whether the index answered JSON or HTML."""
    content_type = (response.header("content-type") or "").split(";")[0].strip()
    files: dict[str, IndexFile] = {}
    if content_type == _JSON_TYPE:
        for entry in response.json().get("files", []):
            url = urljoin(response.url, entry["url"])
            digest = entry.get("hashes", {}).get("sha256")
            files[entry["filename"]] = IndexFile(
                entry["filename"], url, digest.lower() if digest else None
            )
        return files
    parser = _LinkParser()
    parser.feed(response.text)
    for href, text in parser.links:
        url, fragment = urldefrag(urljoin(response.url, href))
        filename = url.rstrip("/").rsplit("/", 1)[-1] or text
        files[filename] = IndexFile(filename, url, _sha256_from_fragment(fragment))
    return files


class IndexClient:
    """HTTP to indexes: one connection pool per thread, so parallel uploads reuse connections.

    Every method raises IndexTransportError when no answer arrives, and otherwise returns
    the answer whatever its status: deciding what a status means is the caller's job.
    """

    def __init__(self, *, timeout: float = 30.0, pool_size: int = 8) -> None:
        self.timeout = timeout
        self.pool_size = pool_size
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            import requests
            from requests.adapters import HTTPAdapter

            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=self.pool_size, pool_maxsize=self.pool_size)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = f"poetflow/{__version__} requests"
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def _send(self, method: str, url: str, **kwargs: Any) -> HttpResponse:
        import requests

        try:
            answer = self._session().request(
                method, url, timeout=(self.timeout, self.timeout), **kwargs
            )
        except requests.RequestException as exc:
            raise IndexTransportError(mask(f"{type(exc).__name__}: {exc}")) from None
        try:
            text = answer.text
        except requests.RequestException as exc:
            raise IndexTransportError(mask(f"{type(exc).__name__}: {exc}")) from None
        # Not masked here: a body may carry a token that is registered already (a second mint
        # in one process); every output path masks what it prints.
        return HttpResponse(answer.status_code, answer.url, text, dict(answer.headers))

    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> HttpResponse:
        return self._send("GET", url, headers=dict(headers or {}), auth=auth)

    def project_page(
        self, index_url: str, project: str, auth: tuple[str, str] | None = None
    ) -> HttpResponse:
        """GET ``<index>/<project>/`` asking for PEP 691 JSON, accepting PEP 503 HTML.

        Redirects within the index are followed (e.g. to the normalized name). A redirect
        to another host answers 404: pypiserver and proxies send a project they do not hold
        to their fallback (usually pypi.org), and that index's files with the same name are
        not on this one, so they must not count as "already published".
        """
        url = urljoin(index_url.rstrip("/") + "/", f"{project}/")
        origin = urlsplit(url)[:2]
        for _hop in range(_MAX_REDIRECTS):
            response = self._send(
                "GET", url, headers={"Accept": JSON_ACCEPT}, auth=auth, allow_redirects=False
            )
            location = response.header("Location")
            if response.status not in _REDIRECTS or not location:
                return response
            url = urljoin(url, location)
            if urlsplit(url)[:2] != origin:
                return HttpResponse(404, url, "", {"X-PoetFlow-Fallback": url})
        return response

    def file_sha256(self, url: str, auth: tuple[str, str] | None = None) -> str:
        """Download a file and hash it (for indexes whose links carry no sha256)."""
        import requests

        digest = hashlib.sha256()
        try:
            with self._session().get(
                url, stream=True, auth=auth, timeout=(self.timeout, self.timeout)
            ) as answer:
                answer.raise_for_status()
                for chunk in answer.iter_content(chunk_size=1 << 16):
                    digest.update(chunk)
        except requests.RequestException as exc:
            raise IndexTransportError(mask(f"{type(exc).__name__}: {exc}")) from None
        return digest.hexdigest()

    def post_json(self, url: str, payload: Mapping[str, Any]) -> HttpResponse:
        return self._send("POST", url, json=dict(payload))

    def upload(
        self,
        url: str,
        fields: Sequence[tuple[str, str]],
        path: Path,
        auth: tuple[str, str],
    ) -> HttpResponse:
        """POST one distribution file the way twine does (legacy upload API, multipart)."""
        with path.open("rb") as content:
            return self._send(
                "POST",
                url,
                data=list(fields),
                files={"content": (path.name, content, "application/octet-stream")},
                auth=auth,
                # A redirect would turn the POST into a GET and lose the file.
                allow_redirects=False,
            )
