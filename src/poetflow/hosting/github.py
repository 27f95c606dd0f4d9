"""GitHub's REST API (github.com and GitHub Enterprise): releases and their assets.

Endpoints as GitHub documents them for API version 2022-11-28; the API root comes from
``GITHUB_API_URL`` (Enterprise: ``https://HOST/api/v3``) and uploads go wherever the
release's ``upload_url`` template points (``uploads.github.com`` on github.com). New
endpoints (pull requests, comments) are one method each on :class:`GitHubClient`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from poetflow.hosting.http import HostingError, HostingHttp
from poetflow.hosting.model import (
    ReleaseFile,
    ReleaseResult,
    ReleaseSpec,
    ReleaseStatus,
    ReviewRequest,
)

__all__ = ["DEFAULT_API_URL", "GitHubClient", "expand_upload_url"]

DEFAULT_API_URL = "https://api.github.com"
_API_VERSION = "2022-11-28"
_PER_PAGE = "100"
_TEMPLATE_RE = re.compile(r"\{[?&][^}]*\}")


def expand_upload_url(template: str, name: str) -> str:
    """The upload URL of ``name`` from GitHub's RFC 6570 template
    (``.../assets{?name,label}`` -> ``.../assets?name=NAME``)."""
    base = _TEMPLATE_RE.sub("", template)
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}{urlencode({'name': name}, quote_via=quote)}"


@dataclass
class GitHubClient:
    """One repository (``owner/name``) on one GitHub, with a token."""

    api_url: str
    repository: str
    token: str = field(repr=False)
    http: HostingHttp | None = field(default=None, repr=False)
    name: str = "github"

    def __post_init__(self) -> None:
        self.api_url = self.api_url.rstrip("/")
        if self.http is None:
            self.http = HostingHttp(
                {
                    "Authorization": f"Bearer {self.token}",
                    "Accept": "application/vnd.github+json",
                    "X-GitHub-Api-Version": _API_VERSION,
                }
            )

    @property
    def _http(self) -> HostingHttp:
        assert self.http is not None
        return self.http

    def _repo_url(self, path: str) -> str:
        return f"{self.api_url}/repos/{self.repository}/{path}"

    def close(self) -> None:
        self._http.close()

    # -- endpoints ---------------------------------------------------------------------

    def release_by_tag(self, tag: str) -> dict[str, Any] | None:
        """The published release of ``tag`` (GitHub hides drafts here), or None."""
        response = self._http.request(
            "GET",
            self._repo_url(f"releases/tags/{quote(tag, safe='')}"),
            what=f"Looking up the GitHub release of {tag}",
            expect=(404,),
        )
        return None if response.status == 404 else dict(response.json())

    def releases(self) -> Iterator[dict[str, Any]]:
        """Every release, drafts included (for a token that may push), newest first."""
        yield from self._http.pages(
            self._repo_url("releases"),
            what="Listing the GitHub releases",
            params={"per_page": _PER_PAGE},
        )

    def create_release(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The new release; None when one for that tag exists already (GitHub's 422)."""
        response = self._http.request(
            "POST",
            self._repo_url("releases"),
            what=f"Creating the GitHub release of {payload.get('tag_name')}",
            json_body=payload,
            expect=(422,),
        )
        if response.status == 422:
            if "already_exists" in response.message():
                return None
            raise HostingError(
                f"Creating the GitHub release of {payload.get('tag_name')} failed: "
                f"HTTP 422 {response.message()}."
            )
        return dict(response.json())

    def update_release(self, release_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        response = self._http.request(
            "PATCH",
            self._repo_url(f"releases/{release_id}"),
            what=f"Updating GitHub release {release_id}",
            json_body=payload,
        )
        return dict(response.json())

    def release_assets(self, release_id: int) -> list[dict[str, Any]]:
        return list(
            self._http.pages(
                self._repo_url(f"releases/{release_id}/assets"),
                what=f"Listing the assets of GitHub release {release_id}",
                params={"per_page": _PER_PAGE},
            )
        )

    def upload_asset(self, upload_url: str, file: ReleaseFile) -> dict[str, Any] | None:
        """The new asset; None when the release has one of that name already (GitHub's
        422: e.g. a retried upload whose first answer was lost)."""
        response = self._http.request(
            "POST",
            expand_upload_url(upload_url, file.name),
            what=f"Uploading {file.name} to GitHub",
            data=file.path.read_bytes(),
            headers={"Content-Type": _content_type(file.name)},
            expect=(422,),
        )
        if response.status == 422:
            if "already_exists" in response.message():
                return None
            raise HostingError(
                f"Uploading {file.name} to GitHub failed: HTTP 422 {response.message()}."
            )
        return dict(response.json())

    def delete_asset(self, asset_id: int) -> None:
        self._http.request(
            "DELETE",
            self._repo_url(f"releases/assets/{asset_id}"),
            what=f"Deleting GitHub release asset {asset_id}",
        )

    def asset_sha256(self, asset: dict[str, Any]) -> str:
        """An asset's sha256: its ``digest`` ("sha256:...") where GitHub computed one, else
        the hash of its content (older GitHub Enterprise servers)."""
        digest = str(asset.get("digest") or "")
        if digest.startswith("sha256:"):
            return digest.removeprefix("sha256:").lower()
        response = self._http.request(
            "GET",
            str(asset["url"]),
            what=f"Downloading GitHub release asset {asset.get('name')}",
            headers={"Accept": "application/octet-stream"},
        )
        return hashlib.sha256(response.content).hexdigest()

    # -- the release, idempotently -----------------------------------------------------

    def find_release(self, tag: str, *, drafts: bool) -> dict[str, Any] | None:
        found = self.release_by_tag(tag)
        if found is None and drafts:
            found = next((r for r in self.releases() if r.get("tag_name") == tag), None)
        return found

    def publish_release(self, spec: ReleaseSpec, *, dry_run: bool) -> ReleaseResult:
        existing = self.find_release(spec.tag, drafts=spec.draft)
        if dry_run:
            return self._preview(spec, existing)
        status: ReleaseStatus
        if existing is None:
            payload: dict[str, Any] = {
                "tag_name": spec.tag,
                "name": spec.name,
                "body": spec.body,
                "draft": spec.draft,
                "prerelease": spec.prerelease,
            }
            if spec.commit:
                payload["target_commitish"] = spec.commit
            created = self.create_release(payload)
            if created is None:  # made by someone else between the look-up and now
                existing = self.find_release(spec.tag, drafts=True)
                if existing is None:
                    raise HostingError(
                        f"GitHub says a release of {spec.tag} exists, but it cannot be read."
                    )
            else:
                release, status = created, "created"
        if existing is not None:
            changes = _changes(existing, spec)
            release = self.update_release(existing["id"], changes) if changes else existing
            status = "updated" if changes else "up to date"
        uploaded, kept = self._sync_assets(release, spec.files)
        if uploaded and status == "up to date":
            status = "updated"
        return ReleaseResult(
            spec.tag,
            status,
            release.get("html_url"),
            tuple(uploaded),
            tuple(kept),
        )

    def _preview(self, spec: ReleaseSpec, existing: dict[str, Any] | None) -> ReleaseResult:
        if existing is None:
            return ReleaseResult(
                spec.tag, "would create", uploaded=tuple(f.name for f in spec.files)
            )
        assets = {a["name"]: a for a in self.release_assets(existing["id"])}
        missing = [
            f.name
            for f in spec.files
            if f.name not in assets or self.asset_sha256(assets[f.name]) != f.sha256
        ]
        kept = tuple(f.name for f in spec.files if f.name not in missing)
        changed = bool(missing) or bool(_changes(existing, spec))
        status: ReleaseStatus = "would update" if changed else "up to date"
        return ReleaseResult(spec.tag, status, existing.get("html_url"), tuple(missing), kept)

    def _sync_assets(
        self, release: dict[str, Any], files: tuple[ReleaseFile, ...]
    ) -> tuple[list[str], list[str]]:
        assets = {a["name"]: a for a in self.release_assets(release["id"])}
        uploaded, kept = [], []
        for file in files:
            asset = assets.get(file.name)
            if asset is not None and self.asset_sha256(asset) == file.sha256:
                kept.append(file.name)
                continue
            if asset is not None:  # same name, other bytes: GitHub refuses a second one
                self.delete_asset(asset["id"])
            if self.upload_asset(str(release["upload_url"]), file) is None:
                # Uploaded meanwhile (a retry whose first attempt got through): keep it
                # if it holds these bytes, else replace it once.
                again = {a["name"]: a for a in self.release_assets(release["id"])}
                there = again.get(file.name)
                if there is None or self.asset_sha256(there) != file.sha256:
                    if there is not None:
                        self.delete_asset(there["id"])
                    if self.upload_asset(str(release["upload_url"]), file) is None:
                        raise HostingError(f"Uploading {file.name} to GitHub failed twice.")
            uploaded.append(file.name)
        return uploaded, kept

    # -- pull requests (``poetflow release-pr``) ---------------------------------------

    def open_pulls(self, branch: str) -> list[dict[str, Any]]:
        """The open pull requests whose head is ``branch`` of this repository."""
        owner = self.repository.split("/", 1)[0]
        return list(
            self._http.pages(
                self._repo_url("pulls"),
                what=f"Listing the GitHub pull requests of {branch}",
                params={"head": f"{owner}:{branch}", "state": "open", "per_page": _PER_PAGE},
            )
        )

    def create_pull(self, payload: dict[str, Any]) -> dict[str, Any]:
        response = self._http.request(
            "POST",
            self._repo_url("pulls"),
            what=f"Opening the GitHub pull request of {payload.get('head')}",
            json_body=payload,
        )
        return dict(response.json())

    def update_pull(self, number: int, payload: dict[str, Any]) -> dict[str, Any]:
        """Change a pull request's title, body or ``state`` ("closed" closes it)."""
        response = self._http.request(
            "PATCH",
            self._repo_url(f"pulls/{number}"),
            what=f"Updating GitHub pull request #{number}",
            json_body=payload,
        )
        return dict(response.json())

    def comment_issue(self, number: int, body: str) -> dict[str, Any]:
        """A comment on an issue or pull request (they share the issue comments API)."""
        response = self._http.request(
            "POST",
            self._repo_url(f"issues/{number}/comments"),
            what=f"Commenting on GitHub pull request #{number}",
            json_body={"body": body},
        )
        return dict(response.json())

    def find_review(self, branch: str) -> ReviewRequest | None:
        found = self.open_pulls(branch)
        return _pull_view(found[0]) if found else None

    def open_review(self, branch: str, base: str, title: str, body: str) -> ReviewRequest:
        payload = {"title": title, "head": branch, "base": base, "body": body}
        return _pull_view(self.create_pull(payload))

    def update_review(self, review: ReviewRequest, title: str, body: str) -> ReviewRequest:
        return _pull_view(self.update_pull(review.number, {"title": title, "body": body}))

    def close_review(self, review: ReviewRequest, comment: str) -> ReviewRequest:
        self.comment_issue(review.number, comment)
        return _pull_view(self.update_pull(review.number, {"state": "closed"}))


def _changes(existing: dict[str, Any], spec: ReleaseSpec) -> dict[str, Any]:
    """The fields to PATCH: a published release is never turned back into a draft."""
    wanted: dict[str, Any] = {"name": spec.name, "body": spec.body, "prerelease": spec.prerelease}
    if existing.get("draft") and not spec.draft:
        wanted["draft"] = False
    return {key: value for key, value in wanted.items() if existing.get(key) != value}


def _pull_view(pull: dict[str, Any]) -> ReviewRequest:
    return ReviewRequest(
        number=int(pull["number"]),
        url=str(pull.get("html_url") or ""),
        title=str(pull.get("title") or ""),
        body=str(pull.get("body") or ""),
        state=str(pull.get("state") or "open"),
    )


def _content_type(name: str) -> str:
    if name.endswith(".json"):
        return "application/json"
    if name.endswith(".tar.gz"):
        return "application/gzip"
    if name.endswith(".whl"):
        return "application/zip"
    return "application/octet-stream"
