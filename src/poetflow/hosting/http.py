"""HTTP for the code-host APIs: one session, rate limits waited out, ``Link`` pagination.

Built on requests, like :mod:`poetflow.index`. GitHub answers a spent rate limit with 429
or 403 and ``Retry-After`` or ``x-ratelimit-remaining: 0`` + ``x-ratelimit-reset`` (epoch
seconds); GitLab with 429 and ``Retry-After``/``RateLimit-Reset``. Both are waited out, up
to a bound, and so are the 5xx of an overloaded server. Every error message is masked:
a token never leaves this module in an exception.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from poetflow import __version__
from poetflow.errors import HostingError
from poetflow.masking import mask

if TYPE_CHECKING:
    import requests

__all__ = ["ApiResponse", "HostingError", "HostingHttp", "next_link", "rate_limit_wait"]

logger = logging.getLogger(__name__)

_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_LINK_RE = re.compile(r'<(?P<url>[^>]*)>\s*;\s*(?P<params>[^,]*(?:"[^"]*"[^,]*)*)')


@dataclass(frozen=True)
class ApiResponse:
    """One answer: status, headers (looked up without regard to case) and body."""

    status: int
    url: str
    content: bytes
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
        return json.loads(self.content.decode("utf-8")) if self.content else None

    def message(self) -> str:
        """What the server said went wrong, shortened (GitHub and GitLab put it in
        ``message``; GitHub's validation errors also in ``errors``)."""
        try:
            body = self.json()
        except (ValueError, UnicodeDecodeError):
            return self.content[:200].decode("utf-8", "replace").strip()
        if isinstance(body, dict):
            text = str(body.get("message") or body.get("error") or "")
            errors = body.get("errors")
            if isinstance(errors, list) and errors:
                codes = [
                    f"{e.get('field', '')} {e.get('code', '')}".strip()
                    if isinstance(e, dict)
                    else str(e)
                    for e in errors
                ]
                text += f" ({', '.join(codes)})"
            return text
        return str(body)[:200]


def next_link(value: str | None) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header (both hosts paginate so)."""
    if not value:
        return None
    for match in _LINK_RE.finditer(value):
        rels = re.findall(r'rel="?([^";]+)"?', match["params"])
        if any("next" in rel.split() for rel in rels):
            return match["url"]
    return None


def rate_limit_wait(response: ApiResponse, *, now: float | None = None) -> float | None:
    """Seconds to wait before asking again, when ``response`` is a rate-limit answer
    (None: it is not one). ``Retry-After`` wins; else the reset time of a spent limit."""
    if response.status not in (403, 429):
        return None
    current = time.time() if now is None else now
    retry_after = response.header("retry-after")
    if retry_after and retry_after.strip().isdigit():
        return float(retry_after.strip())
    remaining = response.header("x-ratelimit-remaining") or response.header("ratelimit-remaining")
    reset = response.header("x-ratelimit-reset") or response.header("ratelimit-reset")
    if remaining is not None and remaining.strip() == "0" and reset and reset.strip().isdigit():
        return max(0.0, float(reset.strip()) - current)
    # A 429 without any hint still means "slow down"; a bare 403 is a permission answer.
    return 1.0 if response.status == 429 else None


@dataclass
class HostingHttp:
    """Requests to one API with fixed headers (the credential among them).

    ``max_wait`` bounds a single rate-limit wait, ``attempts`` the tries per request: a
    limit that resets in an hour fails now, with the reset time, instead of hanging a job.
    """

    headers: Mapping[str, str]
    timeout: float = 30.0
    attempts: int = 5
    max_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    _session: requests.Session | None = field(default=None, init=False, repr=False)

    def _client(self) -> requests.Session:
        if self._session is None:
            import requests

            session = requests.Session()
            session.headers["User-Agent"] = f"poetflow/{__version__} requests"
            session.headers.update(self.headers)
            self._session = session
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        expect: tuple[int, ...] = (),
    ) -> ApiResponse:
        """One call, retried on rate limits and 5xx; raises HostingError unless the answer
        is a 2xx or one of ``expect`` (a 404 meaning "absent", a 422 meaning "exists")."""
        import requests

        for attempt in range(1, self.attempts + 1):
            try:
                answer = self._client().request(
                    method,
                    url,
                    json=json_body,
                    data=data,
                    headers=dict(headers or {}),
                    params=dict(params or {}),
                    timeout=(self.timeout, self.timeout),
                    # A redirect would drop the upload's body and maybe the credential.
                    allow_redirects=method == "GET",
                )
                response = ApiResponse(
                    answer.status_code, answer.url, answer.content, dict(answer.headers)
                )
            except requests.RequestException as exc:
                if attempt == self.attempts:
                    raise HostingError(
                        mask(f"{what} failed: no answer from {url} ({type(exc).__name__}).")
                    ) from None
                self.sleep(min(self.max_wait, 2.0**attempt / 4))
                continue
            if response.ok or response.status in expect:
                return response
            wait = rate_limit_wait(response)
            if wait is None and response.status in _RETRY_STATUSES:
                wait = min(self.max_wait, 2.0**attempt / 4)
            if wait is None or attempt == self.attempts:
                break
            if wait > self.max_wait:
                raise HostingError(
                    mask(
                        f"{what} failed: the API rate limit is spent for {wait:.0f} more seconds."
                    ),
                    hint="Rerun `poetflow announce` later: what is already there is kept.",
                )
            logger.info("%s: rate limited (%s), retrying in %.1fs", what, response.status, wait)
            self.sleep(wait)
        raise HostingError(
            mask(f"{what} failed: HTTP {response.status} {response.message()}".rstrip() + "."),
            hint=_hint(response.status),
        )

    def pages(
        self, url: str, *, what: str, params: Mapping[str, str] | None = None
    ) -> Iterator[Any]:
        """Every item of a paginated list, following ``Link: rel="next"``."""
        page_url: str | None = url
        first = True
        while page_url is not None:
            response = self.request("GET", page_url, what=what, params=params if first else None)
            first = False
            body = response.json()
            if not isinstance(body, list):
                raise HostingError(mask(f"{what} failed: the answer is not a list."))
            yield from body
            page_url = next_link(response.header("link"))


def _hint(status: int) -> str | None:
    if status == 401:
        return "Check the token: it is missing, expired or revoked."
    if status in (403, 404):
        return (
            "Check that the token may write releases of this repository (GitHub: "
            "`contents: write`; GitLab: the Developer role, docs/ci.md)."
        )
    return None
