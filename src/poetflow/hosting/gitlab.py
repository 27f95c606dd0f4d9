"""GitLab's REST API v4 (gitlab.com and self-managed): releases, their links, package files.

The API root is ``CI_API_V4_URL``, the project ``CI_PROJECT_ID`` (a number or the
URL-encoded path). A release's files go to the project's generic package registry
(``PUT /projects/:id/packages/generic/:name/:version/:file``, which a CI job token may
write, unlike ``/uploads``) and the release links to them; the registry keeps each file's
sha256, so a rerun uploads only what changed. A ``PRIVATE-TOKEN`` header carries
GITLAB_TOKEN, ``JOB-TOKEN`` a CI job token. New endpoints (merge requests, notes) are one
method each on :class:`GitLabClient`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from poetflow.hosting.http import HostingError, HostingHttp
from poetflow.hosting.model import (
    ReleaseFile,
    ReleaseResult,
    ReleaseSpec,
    ReleaseStatus,
    ReviewRequest,
)

__all__ = ["GitLabClient", "TokenKind"]

TokenKind = Literal["private", "job"]
_PER_PAGE = "100"


def _enc(value: str) -> str:
    return quote(value, safe="")


@dataclass
class GitLabClient:
    """One project on one GitLab, with a personal/project access token or a job token."""

    api_url: str
    project: str
    token: str = field(repr=False)
    token_kind: TokenKind = "private"
    http: HostingHttp | None = field(default=None, repr=False)
    name: str = "gitlab"

    def __post_init__(self) -> None:
        self.api_url = self.api_url.rstrip("/")
        if self.http is None:
            header = "JOB-TOKEN" if self.token_kind == "job" else "PRIVATE-TOKEN"
            self.http = HostingHttp({header: self.token, "Accept": "application/json"})

    @property
    def _http(self) -> HostingHttp:
        assert self.http is not None
        return self.http

    def _project_url(self, path: str) -> str:
        return f"{self.api_url}/projects/{_enc(self.project)}/{path}"

    def close(self) -> None:
        self._http.close()

    # -- endpoints ---------------------------------------------------------------------

    def release(self, tag: str) -> dict[str, Any] | None:
        response = self._http.request(
            "GET",
            self._project_url(f"releases/{_enc(tag)}"),
            what=f"Looking up the GitLab release of {tag}",
            expect=(404,),
        )
        return None if response.status == 404 else dict(response.json())

    def create_release(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The new release; None when the tag has one already (GitLab's 409)."""
        response = self._http.request(
            "POST",
            self._project_url("releases"),
            what=f"Creating the GitLab release of {payload.get('tag_name')}",
            json_body=payload,
            expect=(409,),
        )
        return None if response.status == 409 else dict(response.json())

    def update_release(self, tag: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = self._http.request(
            "PUT",
            self._project_url(f"releases/{_enc(tag)}"),
            what=f"Updating the GitLab release of {tag}",
            json_body=payload,
        )
        return dict(response.json())

    def release_links(self, tag: str) -> list[dict[str, Any]]:
        return list(
            self._http.pages(
                self._project_url(f"releases/{_enc(tag)}/assets/links"),
                what=f"Listing the links of the GitLab release of {tag}",
                params={"per_page": _PER_PAGE},
            )
        )

    def create_link(self, tag: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The new link; None when the release has that link already (GitLab's 400 "has
        already been taken": e.g. a retry whose first answer was lost)."""
        what = f"Linking {payload.get('name')} to the GitLab release of {tag}"
        response = self._http.request(
            "POST",
            self._project_url(f"releases/{_enc(tag)}/assets/links"),
            what=what,
            json_body=payload,
            expect=(400,),
        )
        if response.status == 400:
            if "already been taken" in response.content.decode("utf-8", "replace"):
                return None
            raise HostingError(f"{what} failed: HTTP 400 {response.message()}.")
        return dict(response.json())

    def update_link(self, tag: str, link_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        response = self._http.request(
            "PUT",
            self._project_url(f"releases/{_enc(tag)}/assets/links/{link_id}"),
            what=f"Updating link {link_id} of the GitLab release of {tag}",
            json_body=payload,
        )
        return dict(response.json())

    def generic_file_url(self, package: str, version: str, filename: str) -> str:
        return self._project_url(
            f"packages/generic/{_enc(package)}/{_enc(version)}/{_enc(filename)}"
        )

    def upload_generic(self, file: ReleaseFile) -> dict[str, Any]:
        response = self._http.request(
            "PUT",
            self.generic_file_url(file.package, file.version, file.name),
            what=f"Uploading {file.name} to the GitLab package registry",
            data=file.path.read_bytes(),
            headers={"Content-Type": "application/octet-stream"},
            params={"select": "package_file"},
        )
        body = response.json()
        return dict(body) if isinstance(body, dict) else {}

    def generic_files(self, package: str, version: str) -> dict[str, str]:
        """The files the registry holds for ``package`` ``version``: name -> sha256 (the
        newest upload of a name wins, as it does for downloads)."""
        found: dict[str, str] = {}
        packages = self._http.pages(
            self._project_url("packages"),
            what=f"Listing the GitLab packages of {package}",
            params={
                "package_type": "generic",
                "package_name": package,
                "package_version": version,
                "per_page": _PER_PAGE,
            },
        )
        for entry in packages:
            # package_name is a fuzzy filter: keep exactly this name and version.
            if entry.get("name") != package or entry.get("version") != version:
                continue
            files = self._http.pages(
                self._project_url(f"packages/{entry['id']}/package_files"),
                what=f"Listing the files of GitLab package {package} {version}",
                params={"per_page": _PER_PAGE},
            )
            for item in sorted(files, key=lambda f: int(f.get("id", 0))):
                if item.get("file_sha256"):
                    found[str(item["file_name"])] = str(item["file_sha256"]).lower()
        return found

    # -- the release, idempotently -----------------------------------------------------

    def publish_release(self, spec: ReleaseSpec, *, dry_run: bool) -> ReleaseResult:
        existing = self.release(spec.tag)
        stored: dict[str, str] = {}
        for package, version in sorted({(f.package, f.version) for f in spec.files}):
            for name, digest in self.generic_files(package, version).items():
                stored[f"{package}/{version}/{name}"] = digest
        stale = [f for f in spec.files if stored.get(_key(f)) != f.sha256]
        if dry_run:
            if existing is None:
                return ReleaseResult(
                    spec.tag, "would create", uploaded=tuple(f.name for f in spec.files)
                )
            links = {link.get("name") for link in self.release_links(spec.tag)}
            missing = [f.name for f in spec.files if f in stale or f.name not in links]
            kept = tuple(f.name for f in spec.files if f.name not in missing)
            changed = bool(missing) or bool(_changes(existing, spec))
            status: ReleaseStatus = "would update" if changed else "up to date"
            return ReleaseResult(spec.tag, status, _web_url(existing), tuple(missing), kept)
        # Files first: a release that links to them is never left pointing at nothing.
        for file in stale:
            self.upload_generic(file)
        if existing is None:
            payload = {"tag_name": spec.tag, "name": spec.name, "description": spec.body}
            if spec.commit:
                payload["ref"] = spec.commit  # used only where GitLab lacks the tag
            created = self.create_release(payload)
            if created is None:  # made by someone else between the look-up and now
                existing = self.release(spec.tag)
                if existing is None:
                    raise HostingError(
                        f"GitLab says a release of {spec.tag} exists, but it cannot be read."
                    )
            else:
                release, status = created, "created"
        if existing is not None:
            changes = _changes(existing, spec)
            release = self.update_release(spec.tag, changes) if changes else existing
            status = "updated" if changes else "up to date"
        linked = self._sync_links(spec)
        if (linked or stale) and status == "up to date":
            status = "updated"
        uploaded = tuple(f.name for f in spec.files if f in stale)
        kept = tuple(f.name for f in spec.files if f not in stale)
        return ReleaseResult(spec.tag, status, _web_url(release), uploaded, kept)

    def _sync_links(self, spec: ReleaseSpec) -> list[str]:
        links = {str(link.get("name")): link for link in self.release_links(spec.tag)}
        changed = []
        for file in spec.files:
            url = self.generic_file_url(file.package, file.version, file.name)
            payload = {
                "name": file.name,
                "url": url,
                "direct_asset_path": f"/{file.name}",
                "link_type": "package",
            }
            link = links.get(file.name)
            if link is None:
                if self.create_link(spec.tag, payload) is None:
                    link = next(
                        (x for x in self.release_links(spec.tag) if x.get("name") == file.name),
                        None,
                    )
                    if link is not None and link.get("url") != url:
                        self.update_link(spec.tag, int(link["id"]), {"url": url})
            elif link.get("url") != url:
                self.update_link(spec.tag, int(link["id"]), {"url": url})
            else:
                continue
            changed.append(file.name)
        return changed

    # -- merge requests (``poetflow release-pr``) --------------------------------------

    def open_merge_requests(self, branch: str) -> list[dict[str, Any]]:
        """The open merge requests from ``branch``."""
        return list(
            self._http.pages(
                self._project_url("merge_requests"),
                what=f"Listing the GitLab merge requests of {branch}",
                params={"source_branch": branch, "state": "opened", "per_page": _PER_PAGE},
            )
        )

    def create_merge_request(self, payload: dict[str, Any]) -> dict[str, Any]:
        response = self._http.request(
            "POST",
            self._project_url("merge_requests"),
            what=f"Opening the GitLab merge request of {payload.get('source_branch')}",
            json_body=payload,
        )
        return dict(response.json())

    def update_merge_request(self, iid: int, payload: dict[str, Any]) -> dict[str, Any]:
        """Change a merge request's title, description or state (``state_event``)."""
        response = self._http.request(
            "PUT",
            self._project_url(f"merge_requests/{iid}"),
            what=f"Updating GitLab merge request !{iid}",
            json_body=payload,
        )
        return dict(response.json())

    def comment_merge_request(self, iid: int, body: str) -> dict[str, Any]:
        response = self._http.request(
            "POST",
            self._project_url(f"merge_requests/{iid}/notes"),
            what=f"Commenting on GitLab merge request !{iid}",
            json_body={"body": body},
        )
        return dict(response.json())

    def find_review(self, branch: str) -> ReviewRequest | None:
        found = self.open_merge_requests(branch)
        return _merge_request_view(found[0]) if found else None

    def open_review(self, branch: str, base: str, title: str, body: str) -> ReviewRequest:
        payload = {
            "source_branch": branch,
            "target_branch": base,
            "title": title,
            "description": body,
            "remove_source_branch": True,
        }
        return _merge_request_view(self.create_merge_request(payload))

    def update_review(self, review: ReviewRequest, title: str, body: str) -> ReviewRequest:
        payload = {"title": title, "description": body}
        return _merge_request_view(self.update_merge_request(review.number, payload))

    def close_review(self, review: ReviewRequest, comment: str) -> ReviewRequest:
        self.comment_merge_request(review.number, comment)
        payload = {"state_event": "close"}
        return _merge_request_view(self.update_merge_request(review.number, payload))


def _key(file: ReleaseFile) -> str:
    return f"{file.package}/{file.version}/{file.name}"


def _changes(existing: dict[str, Any], spec: ReleaseSpec) -> dict[str, Any]:
    wanted = {"name": spec.name, "description": spec.body}
    return {key: value for key, value in wanted.items() if existing.get(key) != value}


def _merge_request_view(request: dict[str, Any]) -> ReviewRequest:
    return ReviewRequest(
        number=int(request["iid"]),
        url=str(request.get("web_url") or ""),
        title=str(request.get("title") or ""),
        body=str(request.get("description") or ""),
        state=str(request.get("state") or "opened"),
    )


def _web_url(release: dict[str, Any]) -> str | None:
    links = release.get("_links")
    if isinstance(links, dict) and links.get("self"):
        return str(links["self"])
    return None
