"""Protocol-level doubles of the GitHub REST API and the GitLab REST API v4 on 127.0.0.1.

They answer the way the real services do for the endpoints PoetFlow calls: status codes
(404 for a missing release, GitHub's 422 ``already_exists``, GitLab's 409), ``Link``
pagination, rate-limit headers (and, on request, rate-limited answers that must be waited
out), the auth headers each host takes. Each double is an :class:`ApiDouble`, a small
router: a later feature adds its endpoints with one ``@route`` method each (pull requests,
merge requests, comments) and its state next to the releases.

    with GitHubDouble.running(token="ghs_...") as github:
        github.api_url, github.repository   # GITHUB_API_URL, GITHUB_REPOSITORY
        github.releases                      # what was made, by id
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

__all__ = ["ApiDouble", "GitHubDouble", "GitLabDouble", "Reply", "Request", "route"]


@dataclass(frozen=True)
class Request:
    """One request as the double saw it (``host``: which of its servers took it)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    host: str
    base_url: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[..., Reply]


def route(method: str, pattern: str, host: str = "api") -> Callable[[Handler], Handler]:
    """Mark a method of an :class:`ApiDouble` as the handler of ``method`` ``pattern``
    (``{name}`` matches one path segment, URL-decoded into the keyword ``name``)."""

    def mark(func: Handler) -> Handler:
        func._route = (method, pattern, host)  # type: ignore[attr-defined]
        return func

    return mark


def _compile(pattern: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern))
    return re.compile(f"^{regex}$")


class ApiDouble:
    """An HTTP API on 127.0.0.1: routes from ``@route`` methods, one server per host name,
    every request logged, and rate-limited answers on request (:meth:`throttle`)."""

    hosts: ClassVar[tuple[str, ...]] = ("api",)

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.log: list[Request] = []
        self._throttled: list[Callable[[Request], Reply]] = []
        self._lost: dict[str, int] = {}
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        for name in dir(type(self)):
            func = getattr(type(self), name)
            spec = getattr(func, "_route", None)
            if spec is not None:
                method, pattern, host = spec
                self._routes.append((method, _compile(pattern), host, getattr(self, name)))
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []

    # -- life cycle --------------------------------------------------------------------

    def serve(self) -> None:
        double = self
        for host in self.hosts:

            class _Handler(BaseHTTPRequestHandler):
                served_host = host

                def _any(self) -> None:
                    double._handle(self, self.served_host)

                do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

                def log_message(self, format: str, *args: Any) -> None:
                    pass

            server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            server.daemon_threads = True
            self._servers[host] = server
            # A short poll: stopping a double takes a twentieth of a second, not half.
            thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()

    def url(self, host: str = "api") -> str:
        port = self._servers[host].server_address[1]
        return f"http://127.0.0.1:{port}"

    # -- behaviour ---------------------------------------------------------------------

    def throttle(self, count: int = 1, style: str = "retry-after") -> None:
        """The next ``count`` requests are refused as rate-limited (``style``: a host's
        way of saying so); the client must wait and ask again."""
        with self.lock:
            self._throttled.extend([lambda request: self.rate_limited(request, style)] * count)

    def lose_answers(self, count: int = 1, method: str = "POST") -> None:
        """The next ``count`` ``method`` requests are carried out, but their answer is lost
        on the way back (a proxy's 502): the client's retry meets what it already did."""
        with self.lock:
            self._lost[method] = self._lost.get(method, 0) + count

    def rate_limited(self, request: Request, style: str) -> Reply:
        raise NotImplementedError

    def authorized(self, request: Request) -> Reply | None:
        """None when the request's credential is good; else the host's refusal."""
        return None

    def rate_headers(self) -> dict[str, str]:
        return {}

    def requests(self, method: str | None = None, path: str = "") -> list[Request]:
        with self.lock:
            return [
                r
                for r in self.log
                if (method is None or r.method == method) and r.path.startswith(path)
            ]

    def writes(self) -> list[Request]:
        return [r for r in self.requests() if r.method not in ("GET", "HEAD")]

    # -- dispatch ----------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, host: str) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(
            method=handler.command,
            path=split.path,
            query={k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            host=host,
            base_url=self.url(host),
        )
        with self.lock:
            self.log.append(request)
            throttled = self._throttled.pop(0) if self._throttled else None
        if throttled is not None:
            reply = throttled(request)
        else:
            reply = self.authorized(request) or self._dispatch(request)
            with self.lock:
                if self._lost.get(request.method, 0) > 0:
                    self._lost[request.method] -= 1
                    reply = Reply(502, {"message": "Bad Gateway"})
        payload = reply.body
        if isinstance(payload, bytes):
            data, content_type = payload, "application/octet-stream"
        elif payload is None:
            data, content_type = b"", "application/json"
        else:
            data, content_type = json.dumps(payload).encode(), "application/json; charset=utf-8"
        handler.send_response(reply.status)
        headers = {"Content-Type": content_type, **self.rate_headers(), **reply.headers}
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)

    def _dispatch(self, request: Request) -> Reply:
        allowed = False
        for method, pattern, host, func in self._routes:
            if host != request.host:
                continue
            match = pattern.match(request.path)
            if match is None:
                continue
            allowed = True
            if method == request.method:
                with self.lock:
                    return func(request, **{k: unquote(v) for k, v in match.groupdict().items()})
        return self.not_found() if not allowed else Reply(405, {"message": "Method Not Allowed"})

    def not_found(self) -> Reply:
        return Reply(404, {"message": "Not Found"})

    @classmethod
    @contextmanager
    def running(cls, **kwargs: Any) -> Iterator[Any]:
        double = cls(**kwargs)
        double.serve()
        try:
            yield double
        finally:
            double.stop()


def paginate(request: Request, items: list[Any], *, default: int = 30) -> Reply:
    """One page of ``items`` as both hosts serve lists: ``per_page`` (at most 100) and
    ``page``, with an RFC 8288 ``Link`` header (next, prev, first, last)."""
    per_page = min(100, max(1, int(request.query.get("per_page") or default)))
    page = max(1, int(request.query.get("page") or 1))
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]

    def link(number: int) -> str:
        query = {**request.query, "per_page": str(per_page), "page": str(number)}
        return f"<{request.base_url}{request.path}?{urlencode(query)}>"

    rels = []
    if page < last:
        rels.append(f'{link(page + 1)}; rel="next"')
        rels.append(f'{link(last)}; rel="last"')
    if page > 1:
        rels.append(f'{link(1)}; rel="first"')
        rels.append(f'{link(page - 1)}; rel="prev"')
    headers = {"Link": ", ".join(rels)} if rels else {}
    headers.update({"X-Total": str(len(items)), "X-Page": str(page), "X-Per-Page": str(per_page)})
    return Reply(200, chunk, headers)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class GitHubDouble(ApiDouble):
    """GitHub's releases REST API (2022-11-28) for one repository, with the uploads host.

    ``digests`` False: assets carry no ``digest`` (GitHub Enterprise before 2025), so a
    client has to download them to compare.
    """

    hosts = ("api", "uploads")
    DOCS = "https://docs.github.com/rest/releases/releases"

    def __init__(
        self, token: str = "ghs_double-token-000000", repository: str = "acme/demo",
        *, digests: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        self.token = token
        self.repository = repository
        self.digests = digests
        self.releases: dict[int, dict[str, Any]] = {}
        self.assets: dict[int, dict[str, Any]] = {}
        self.blobs: dict[int, bytes] = {}
        self._ids = iter(range(1, 1_000_000))
        self.remaining = 5000

    @property
    def api_url(self) -> str:
        return self.url("api")

    def environment(self) -> dict[str, str]:
        """What GitHub Actions gives a job that asks for the token."""
        return {
            "GITHUB_ACTIONS": "true",
            "GITHUB_API_URL": self.api_url,
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_TOKEN": self.token,
        }

    # -- the host's manners --------------------------------------------------------------

    def authorized(self, request: Request) -> Reply | None:
        value = request.header("authorization") or ""
        scheme, _, token = value.partition(" ")
        if scheme.lower() in ("bearer", "token") and token == self.token:
            return None
        return Reply(401, {"message": "Bad credentials", "documentation_url": self.DOCS})

    def rate_headers(self) -> dict[str, str]:
        with self.lock:
            self.remaining = max(0, self.remaining - 1)
            remaining = self.remaining
        return {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Resource": "core",
        }

    def rate_limited(self, request: Request, style: str) -> Reply:
        if style == "reset":  # the primary limit: 403 (or 429), nothing left until reset
            return Reply(
                403,
                {"message": "API rate limit exceeded", "documentation_url": self.DOCS},
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 1)},
            )
        # A secondary limit: 429 (or 403) with Retry-After.
        return Reply(
            429,
            {"message": "You have exceeded a secondary rate limit.", "documentation_url": ""},
            {"Retry-After": "1"},
        )

    def _repo(self, owner: str, repo: str) -> Reply | None:
        if f"{owner}/{repo}".lower() != self.repository.lower():
            return Reply(404, {"message": "Not Found", "documentation_url": self.DOCS})
        return None

    # -- views ---------------------------------------------------------------------------

    def _asset_view(self, asset: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in asset.items() if k != "release_id"}
        if not self.digests:
            view.pop("digest", None)
        return view

    def _release_view(self, release: dict[str, Any]) -> dict[str, Any]:
        rid = release["id"]
        api = f"{self.api_url}/repos/{self.repository}/releases/{rid}"
        assets = [self._asset_view(a) for a in self.assets.values() if a["release_id"] == rid]
        return {
            **release,
            "url": api,
            "assets_url": f"{api}/assets",
            "upload_url": f"{self.url('uploads')}/repos/{self.repository}/releases/{rid}/assets"
            "{?name,label}",
            "html_url": f"https://github.example/{self.repository}/releases/tag/"
            + quote(release["tag_name"]),
            "assets": assets,
        }

    def by_tag(self, tag: str) -> dict[str, Any] | None:
        return next((r for r in self.releases.values() if r["tag_name"] == tag), None)

    # -- endpoints -------------------------------------------------------------------------

    @route("GET", "/repos/{owner}/{repo}/releases/tags/{tag}")
    def get_release_by_tag(self, request: Request, owner: str, repo: str, tag: str) -> Reply:
        release = next(
            (r for r in self.releases.values() if r["tag_name"] == tag and not r["draft"]), None
        )  # GitHub: "Get a published release with the specified tag."
        if self._repo(owner, repo) or release is None:
            return Reply(404, {"message": "Not Found", "documentation_url": self.DOCS})
        return Reply(200, self._release_view(release))

    @route("GET", "/repos/{owner}/{repo}/releases")
    def list_releases(self, request: Request, owner: str, repo: str) -> Reply:
        refused = self._repo(owner, repo)
        if refused:
            return refused
        items = sorted(self.releases.values(), key=lambda r: -r["id"])
        return paginate(request, [self._release_view(r) for r in items])

    @route("POST", "/repos/{owner}/{repo}/releases")
    def create_release(self, request: Request, owner: str, repo: str) -> Reply:
        refused = self._repo(owner, repo)
        if refused:
            return refused
        payload = request.json() or {}
        tag = payload.get("tag_name")
        if not tag:
            return self._invalid("Release", "missing_field", "tag_name")
        if any(r["tag_name"] == tag and not r["draft"] for r in self.releases.values()):
            return self._invalid("Release", "already_exists", "tag_name")
        rid = next(self._ids)
        self.releases[rid] = {
            "id": rid,
            "tag_name": tag,
            "target_commitish": payload.get("target_commitish", "main"),
            "name": payload.get("name") or tag,
            "body": payload.get("body") or "",
            "draft": bool(payload.get("draft", False)),
            "prerelease": bool(payload.get("prerelease", False)),
        }
        return Reply(201, self._release_view(self.releases[rid]))

    @route("PATCH", "/repos/{owner}/{repo}/releases/{release_id}")
    def update_release(self, request: Request, owner: str, repo: str, release_id: str) -> Reply:
        release = self.releases.get(int(release_id)) if release_id.isdigit() else None
        if self._repo(owner, repo) or release is None:
            return Reply(404, {"message": "Not Found", "documentation_url": self.DOCS})
        payload = request.json() or {}
        for key in ("tag_name", "name", "body", "draft", "prerelease", "target_commitish"):
            if key in payload:
                release[key] = payload[key]
        return Reply(200, self._release_view(release))

    @route("GET", "/repos/{owner}/{repo}/releases/{release_id}/assets")
    def list_assets(self, request: Request, owner: str, repo: str, release_id: str) -> Reply:
        if self._repo(owner, repo) or int(release_id) not in self.releases:
            return Reply(404, {"message": "Not Found", "documentation_url": self.DOCS})
        items = [a for a in self.assets.values() if a["release_id"] == int(release_id)]
        return paginate(request, [self._asset_view(a) for a in items])

    @route("GET", "/repos/{owner}/{repo}/releases/assets/{asset_id}")
    def get_asset(self, request: Request, owner: str, repo: str, asset_id: str) -> Reply:
        asset = self.assets.get(int(asset_id))
        if self._repo(owner, repo) or asset is None:
            return Reply(404, {"message": "Not Found", "documentation_url": self.DOCS})
        if request.header("accept") == "application/octet-stream":
            return Reply(200, self.blobs[asset["id"]])
        return Reply(200, self._asset_view(asset))

    @route("DELETE", "/repos/{owner}/{repo}/releases/assets/{asset_id}")
    def delete_asset(self, request: Request, owner: str, repo: str, asset_id: str) -> Reply:
        if self._repo(owner, repo) or self.assets.pop(int(asset_id), None) is None:
            return Reply(404, {"message": "Not Found", "documentation_url": self.DOCS})
        self.blobs.pop(int(asset_id), None)
        return Reply(204)

    @route("POST", "/repos/{owner}/{repo}/releases/{release_id}/assets", host="uploads")
    def upload_asset(self, request: Request, owner: str, repo: str, release_id: str) -> Reply:
        rid = int(release_id)
        if self._repo(owner, repo) or rid not in self.releases:
            return Reply(404, {"message": "Not Found", "documentation_url": self.DOCS})
        name = request.query.get("name")
        if not name:
            return Reply(400, {"message": "name is required", "documentation_url": self.DOCS})
        if any(a["release_id"] == rid and a["name"] == name for a in self.assets.values()):
            return self._invalid("ReleaseAsset", "already_exists", "name")
        aid = next(self._ids)
        self.blobs[aid] = request.body
        self.assets[aid] = {
            "id": aid,
            "release_id": rid,
            "name": name,
            "label": request.query.get("label", ""),
            "content_type": request.header("content-type") or "application/octet-stream",
            "state": "uploaded",
            "size": len(request.body),
            "digest": f"sha256:{_sha256(request.body)}",
            "url": f"{self.api_url}/repos/{self.repository}/releases/assets/{aid}",
            "browser_download_url": f"https://github.example/{self.repository}/releases/"
            f"download/{quote(self.releases[rid]['tag_name'])}/{quote(name)}",
        }
        return Reply(201, self._asset_view(self.assets[aid]))

    def _invalid(self, resource: str, code: str, field_name: str) -> Reply:
        return Reply(
            422,
            {
                "message": "Validation Failed",
                "errors": [{"resource": resource, "code": code, "field": field_name}],
                "documentation_url": self.DOCS,
            },
        )

    # -- pull requests and their comments ------------------------------------------------

    @property
    def pulls(self) -> dict[int, dict[str, Any]]:
        """Pull requests by number (made on first use, so releases-only tests see none)."""
        found: dict[int, dict[str, Any]] = self.__dict__.setdefault("_pulls", {})
        return found

    @property
    def comments(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.__dict__.setdefault("_comments", [])
        return found

    def _pull_view(self, pull: dict[str, Any]) -> dict[str, Any]:
        owner = self.repository.split("/")[0]
        number = pull["number"]
        return {
            **pull,
            "url": f"{self.api_url}/repos/{self.repository}/pulls/{number}",
            "html_url": f"https://github.example/{self.repository}/pull/{number}",
            "head": {"ref": pull["head"], "label": f"{owner}:{pull['head']}"},
            "base": {"ref": pull["base"]},
        }

    def mark_merged(self, number: int) -> None:
        """What GitHub does when the pull request is merged (the merge itself is git's)."""
        with self.lock:
            self.pulls[number].update(state="closed", merged=True)

    @route("GET", "/repos/{owner}/{repo}/pulls")
    def list_pulls(self, request: Request, owner: str, repo: str) -> Reply:
        refused = self._repo(owner, repo)
        if refused:
            return refused
        state = request.query.get("state", "open")
        head = request.query.get("head")
        owner_name = self.repository.split("/")[0]
        items = [
            self._pull_view(p)
            for p in sorted(self.pulls.values(), key=lambda p: -p["number"])
            if (state == "all" or p["state"] == state)
            and (head is None or head == f"{owner_name}:{p['head']}")
        ]
        return paginate(request, items)

    @route("POST", "/repos/{owner}/{repo}/pulls")
    def create_pull(self, request: Request, owner: str, repo: str) -> Reply:
        refused = self._repo(owner, repo)
        if refused:
            return refused
        payload = request.json() or {}
        for key in ("title", "head", "base"):
            if not payload.get(key):
                return self._invalid("PullRequest", "missing_field", key)
        if any(p["head"] == payload["head"] and p["state"] == "open" for p in self.pulls.values()):
            owner_name = self.repository.split("/")[0]
            return Reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": "A pull request already exists for "
                            f"{owner_name}:{payload['head']}.",
                        }
                    ],
                },
            )
        number = len(self.pulls) + 1
        self.pulls[number] = {
            "number": number,
            "title": payload["title"],
            "body": payload.get("body") or "",
            "head": payload["head"],
            "base": payload["base"],
            "state": "open",
            "merged": False,
        }
        return Reply(201, self._pull_view(self.pulls[number]))

    @route("PATCH", "/repos/{owner}/{repo}/pulls/{number}")
    def update_pull(self, request: Request, owner: str, repo: str, number: str) -> Reply:
        pull = self.pulls.get(int(number)) if number.isdigit() else None
        if self._repo(owner, repo) or pull is None:
            return Reply(404, {"message": "Not Found", "documentation_url": self.DOCS})
        payload = request.json() or {}
        if payload.get("state") not in (None, "open", "closed"):
            return self._invalid("PullRequest", "invalid", "state")
        for key in ("title", "body", "state", "base"):
            if key in payload:
                pull[key] = payload[key]
        return Reply(200, self._pull_view(pull))

    @route("POST", "/repos/{owner}/{repo}/issues/{number}/comments")
    def create_comment(self, request: Request, owner: str, repo: str, number: str) -> Reply:
        if self._repo(owner, repo) or not number.isdigit() or int(number) not in self.pulls:
            return Reply(404, {"message": "Not Found", "documentation_url": self.DOCS})
        body = (request.json() or {}).get("body")
        if not body:
            return self._invalid("IssueComment", "missing_field", "body")
        comment = {"id": len(self.comments) + 1, "issue": int(number), "body": body}
        self.comments.append(comment)
        return Reply(201, comment)


class GitLabDouble(ApiDouble):
    """GitLab's REST API v4 for one project: releases, release links, the generic package
    registry and the packages API that lists its files (with their sha256)."""

    def __init__(
        self, token: str = "glpat-double-token-0000", job_token: str = "glcbt-double-job-0000",
        project_id: str = "1217", project_path: str = "acme/demo",
    ) -> None:  # fmt: skip
        super().__init__()
        self.token = token
        self.job_token = job_token
        self.project_id = project_id
        self.project_path = project_path
        self.releases: dict[str, dict[str, Any]] = {}
        self.links: dict[int, dict[str, Any]] = {}
        self.packages: dict[int, dict[str, Any]] = {}
        self.package_files: dict[int, dict[str, Any]] = {}
        self.blobs: dict[int, bytes] = {}
        self._ids = iter(range(1, 1_000_000))

    @property
    def api_url(self) -> str:
        return f"{self.url()}/api/v4"

    def environment(self, *, job: bool = True) -> dict[str, str]:
        """What a GitLab CI job sees (``job`` False: a personal token in GITLAB_TOKEN)."""
        env = {"GITLAB_CI": "true", "CI_API_V4_URL": self.api_url, "CI_PROJECT_ID": self.project_id}
        env.update({"CI_JOB_TOKEN": self.job_token} if job else {"GITLAB_TOKEN": self.token})
        return env

    def authorized(self, request: Request) -> Reply | None:
        if request.header("private-token") == self.token:
            return None
        if request.header("job-token") == self.job_token:
            return None
        return Reply(401, {"message": "401 Unauthorized"})

    def rate_headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": "2000",
            "RateLimit-Remaining": "1999",
            "RateLimit-Reset": str(int(time.time()) + 60),
        }

    def rate_limited(self, request: Request, style: str) -> Reply:
        reset = int(time.time()) + 1
        return Reply(
            429,
            {"message": "Retry later"},
            {"Retry-After": "1", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)},
        )

    def not_found(self) -> Reply:
        return Reply(404, {"message": "404 Not Found"})

    def _project(self, project: str) -> bool:
        return project in (self.project_id, self.project_path)

    def _release_view(self, release: dict[str, Any]) -> dict[str, Any]:
        tag = release["tag_name"]
        links = [self._link_view(link) for link in self.links.values() if link["tag"] == tag]
        web = f"https://gitlab.example/{self.project_path}/-/releases/{quote(tag, safe='')}"
        return {
            **release,
            "assets": {"count": len(links), "sources": [], "links": links},
            "_links": {"self": web},
        }

    def _link_view(self, link: dict[str, Any]) -> dict[str, Any]:
        direct = f"https://gitlab.example/{self.project_path}/-/releases/{quote(link['tag'])}"
        return {
            **{k: v for k, v in link.items() if k != "tag"},
            "direct_asset_url": f"{direct}/downloads{link.get('direct_asset_path') or ''}",
        }

    # -- releases -------------------------------------------------------------------------

    @route("GET", "/api/v4/projects/{project}/releases/{tag}")
    def get_release(self, request: Request, project: str, tag: str) -> Reply:
        release = self.releases.get(tag)
        if not self._project(project) or release is None:
            return self.not_found()
        return Reply(200, self._release_view(release))

    @route("POST", "/api/v4/projects/{project}/releases")
    def create_release(self, request: Request, project: str) -> Reply:
        if not self._project(project):
            return self.not_found()
        payload = request.json() or {}
        tag = payload.get("tag_name")
        if not tag:
            return Reply(400, {"error": "tag_name is missing"})
        if tag in self.releases:
            return Reply(409, {"message": "Release already exists"})
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        self.releases[tag] = {
            "tag_name": tag,
            "name": payload.get("name") or tag,
            "description": payload.get("description") or "",
            "created_at": now,
            "released_at": payload.get("released_at") or now,
            "upcoming_release": False,
        }
        for link in (payload.get("assets") or {}).get("links", []):
            self._add_link(tag, link)
        return Reply(201, self._release_view(self.releases[tag]))

    @route("PUT", "/api/v4/projects/{project}/releases/{tag}")
    def update_release(self, request: Request, project: str, tag: str) -> Reply:
        release = self.releases.get(tag)
        if not self._project(project) or release is None:
            return self.not_found()
        payload = request.json() or {}
        for key in ("name", "description", "released_at"):
            if key in payload:
                release[key] = payload[key]
        return Reply(200, self._release_view(release))

    # -- release links ----------------------------------------------------------------------

    def _add_link(self, tag: str, payload: dict[str, Any]) -> Reply:
        if not payload.get("name") or not payload.get("url"):
            return Reply(400, {"error": "name, url are missing"})
        for link in self.links.values():
            if link["tag"] != tag:
                continue
            if link["name"] == payload["name"] or link["url"] == payload["url"]:
                return Reply(400, {"message": {"name": ["has already been taken"]}})
            path = payload.get("direct_asset_path")
            if path and link.get("direct_asset_path") == path:
                return Reply(400, {"message": {"filepath": ["has already been taken"]}})
        lid = next(self._ids)
        self.links[lid] = {
            "id": lid,
            "tag": tag,
            "name": payload["name"],
            "url": payload["url"],
            "direct_asset_path": payload.get("direct_asset_path"),
            "link_type": payload.get("link_type", "other"),
            "external": not str(payload["url"]).startswith(self.url()),
        }
        return Reply(201, self._link_view(self.links[lid]))

    @route("GET", "/api/v4/projects/{project}/releases/{tag}/assets/links")
    def list_links(self, request: Request, project: str, tag: str) -> Reply:
        if not self._project(project) or tag not in self.releases:
            return self.not_found()
        items = [self._link_view(v) for v in self.links.values() if v["tag"] == tag]
        return paginate(request, items, default=20)

    @route("POST", "/api/v4/projects/{project}/releases/{tag}/assets/links")
    def create_link(self, request: Request, project: str, tag: str) -> Reply:
        if not self._project(project) or tag not in self.releases:
            return self.not_found()
        return self._add_link(tag, request.json() or {})

    @route("PUT", "/api/v4/projects/{project}/releases/{tag}/assets/links/{link_id}")
    def update_link(self, request: Request, project: str, tag: str, link_id: str) -> Reply:
        link = self.links.get(int(link_id))
        if not self._project(project) or link is None or link["tag"] != tag:
            return self.not_found()
        payload = request.json() or {}
        for key in ("name", "url", "direct_asset_path", "link_type"):
            if key in payload:
                link[key] = payload[key]
        return Reply(200, self._link_view(link))

    @route("DELETE", "/api/v4/projects/{project}/releases/{tag}/assets/links/{link_id}")
    def delete_link(self, request: Request, project: str, tag: str, link_id: str) -> Reply:
        link = self.links.get(int(link_id))
        if not self._project(project) or link is None or link["tag"] != tag:
            return self.not_found()
        del self.links[int(link_id)]
        return Reply(200, self._link_view(link))

    # -- the generic package registry and the packages API ---------------------------------

    _NAME_RE = re.compile(r"^[A-Za-z0-9._+-]+$")

    @route("PUT", "/api/v4/projects/{project}/packages/generic/{name}/{version}/{filename}")
    def put_generic(
        self, request: Request, project: str, name: str, version: str, filename: str
    ) -> Reply:
        if not self._project(project):
            return self.not_found()
        if not all(self._NAME_RE.match(part) for part in (name, version, filename)):
            return Reply(400, {"error": "package_name, package_version or file_name is invalid"})
        package = next(
            (p for p in self.packages.values() if p["name"] == name and p["version"] == version),
            None,
        )
        if package is None:
            pid = next(self._ids)
            package = self.packages[pid] = {
                "id": pid, "name": name, "version": version, "package_type": "generic",
                "status": "default",
            }  # fmt: skip
        fid = next(self._ids)
        self.blobs[fid] = request.body
        # Duplicates are allowed, as in a project with default settings: the newest wins.
        self.package_files[fid] = {
            "id": fid,
            "package_id": package["id"],
            "file_name": filename,
            "size": len(request.body),
            "file_md5": hashlib.md5(request.body).hexdigest(),
            "file_sha1": hashlib.sha1(request.body).hexdigest(),
            "file_sha256": _sha256(request.body),
        }
        if request.query.get("select") == "package_file":
            return Reply(201, self.package_files[fid])
        return Reply(201, {"message": "201 Created"})

    @route("GET", "/api/v4/projects/{project}/packages/generic/{name}/{version}/{filename}")
    def get_generic(
        self, request: Request, project: str, name: str, version: str, filename: str
    ) -> Reply:
        package = next(
            (p for p in self.packages.values() if p["name"] == name and p["version"] == version),
            None,
        )
        files = [
            f for f in self.package_files.values()
            if package is not None and f["package_id"] == package["id"]
            and f["file_name"] == filename
        ]  # fmt: skip
        if not self._project(project) or not files:
            return self.not_found()
        return Reply(200, self.blobs[max(files, key=lambda f: f["id"])["id"]])

    @route("GET", "/api/v4/projects/{project}/packages")
    def list_packages(self, request: Request, project: str) -> Reply:
        if not self._project(project):
            return self.not_found()
        query = request.query
        items = [
            p for p in self.packages.values()
            if query.get("package_type", p["package_type"]) == p["package_type"]
            and query.get("package_name", "") in p["name"]  # a fuzzy search, as GitLab's
            and query.get("package_version", p["version"]) == p["version"]
        ]  # fmt: skip
        return paginate(request, items, default=20)

    @route("GET", "/api/v4/projects/{project}/packages/{package_id}/package_files")
    def list_package_files(self, request: Request, project: str, package_id: str) -> Reply:
        if not self._project(project) or int(package_id) not in self.packages:
            return self.not_found()
        items = [f for f in self.package_files.values() if f["package_id"] == int(package_id)]
        return paginate(request, items, default=20)

    # -- merge requests and their notes ----------------------------------------------------

    @property
    def merge_requests(self) -> dict[int, dict[str, Any]]:
        """Merge requests by iid (made on first use)."""
        found: dict[int, dict[str, Any]] = self.__dict__.setdefault("_merge_requests", {})
        return found

    @property
    def notes(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.__dict__.setdefault("_notes", [])
        return found

    def _mr_view(self, mr: dict[str, Any]) -> dict[str, Any]:
        return {
            **mr,
            "project_id": int(self.project_id),
            "web_url": f"https://gitlab.example/{self.project_path}/-/merge_requests/{mr['iid']}",
        }

    def mark_merged(self, iid: int) -> None:
        with self.lock:
            self.merge_requests[iid]["state"] = "merged"

    @route("GET", "/api/v4/projects/{project}/merge_requests")
    def list_merge_requests(self, request: Request, project: str) -> Reply:
        if not self._project(project):
            return self.not_found()
        state = request.query.get("state", "all")
        source = request.query.get("source_branch")
        items = [
            self._mr_view(m)
            for m in sorted(self.merge_requests.values(), key=lambda m: -m["iid"])
            if (state == "all" or m["state"] == state)
            and (source is None or m["source_branch"] == source)
        ]
        return paginate(request, items, default=20)

    @route("POST", "/api/v4/projects/{project}/merge_requests")
    def create_merge_request(self, request: Request, project: str) -> Reply:
        if not self._project(project):
            return self.not_found()
        if request.header("job-token") is not None:
            # A CI job token may not write merge requests (GitLab's job token scope).
            return Reply(403, {"message": "403 Forbidden"})
        payload = request.json() or {}
        missing = [k for k in ("source_branch", "target_branch", "title") if not payload.get(k)]
        if missing:
            return Reply(400, {"message": f"{missing[0]} is missing", "error": "bad request"})
        source = payload["source_branch"]
        if any(
            m["source_branch"] == source and m["state"] == "opened"
            for m in self.merge_requests.values()
        ):
            return Reply(
                409,
                {
                    "message": [
                        "Another open merge request already exists for this source branch: "
                        f"!{next(m['iid'] for m in self.merge_requests.values())}"
                    ]
                },
            )
        iid = len(self.merge_requests) + 1
        self.merge_requests[iid] = {
            "id": next(self._ids),
            "iid": iid,
            "title": payload["title"],
            "description": payload.get("description") or "",
            "source_branch": source,
            "target_branch": payload["target_branch"],
            "state": "opened",
        }
        return Reply(201, self._mr_view(self.merge_requests[iid]))

    @route("PUT", "/api/v4/projects/{project}/merge_requests/{iid}")
    def update_merge_request(self, request: Request, project: str, iid: str) -> Reply:
        mr = self.merge_requests.get(int(iid)) if iid.isdigit() else None
        if not self._project(project) or mr is None:
            return self.not_found()
        payload = request.json() or {}
        event = payload.get("state_event")
        if event not in (None, "close", "reopen"):
            return Reply(400, {"message": "state_event does not have a valid value"})
        if event is not None:
            mr["state"] = "closed" if event == "close" else "opened"
        for key in ("title", "description", "target_branch"):
            if key in payload:
                mr[key] = payload[key]
        return Reply(200, self._mr_view(mr))

    @route("POST", "/api/v4/projects/{project}/merge_requests/{iid}/notes")
    def create_note(self, request: Request, project: str, iid: str) -> Reply:
        if not self._project(project) or not iid.isdigit() or int(iid) not in self.merge_requests:
            return self.not_found()
        body = (request.json() or {}).get("body")
        if not body:
            return Reply(400, {"message": "body is missing", "error": "bad request"})
        note = {"id": len(self.notes) + 1, "merge_request": int(iid), "body": body}
        self.notes.append(note)
        return Reply(201, note)
