"""A package index as a publish target: simple-API lookups, legacy-API uploads with retries.

An upload whose answer was lost (dropped connection, 5xx from a proxy, a 409 on retry) is
resolved by looking the file up again: present with our sha256 means it landed, so a
retried upload never stores a file twice and never reports a landed file as failed.
Credentials come from the environment; trusted publishing exchanges the CI's identity
for an upload token when the target connects.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from poetflow.distributions import Distribution, upload_fields
from poetflow.index import HttpResponse, IndexClient, IndexTransportError, parse_project_page
from poetflow.publish.credentials import Credentials, TrustedPublishing, resolve_credentials
from poetflow.publish.repositories import Repository, resolve_repository
from poetflow.publish.retry import Retrying, RetryPolicy
from poetflow.publish.targets import Listing, RemoteCheck, TargetFailure, UploadAnswer

if TYPE_CHECKING:
    from poetflow.publish.results import PublishOptions
    from poetflow.publish.targets import TargetRequest
    from poetflow.workspace import Workspace

__all__ = ["IndexTarget", "find_attestations", "open_target"]


def find_attestations(path: Path) -> list[Any]:
    """PEP 740 attestations beside a file (``<file>.<name>.attestation``, as twine reads them)."""
    found = []
    for candidate in sorted(path.parent.glob(f"{path.name}.*.attestation")):
        found.append(json.loads(candidate.read_text(encoding="utf-8")))
    return found


def _explain(
    response: HttpResponse,
    distribution: Distribution,
    repository: Repository,
    credentials: Credentials,
) -> str:
    message = _index_message(response)
    project = distribution.project
    if response.status == 401:
        return (
            f"{repository.name} rejected the credentials from {credentials.source} (HTTP 401); "
            "check the token or password"
        )
    if response.status == 403:
        reason = f": {message}" if message else ""
        return (
            f"{repository.name} refused the credentials from {credentials.source} for {project} "
            f"(HTTP 403{reason}): they are wrong, expired, or lack upload rights for this "
            "project; use a token scoped to it or ask an owner to add you"
        )
    if response.status in (400, 409) and "already exists" in message.lower():
        # PyPI answers 200 to an identical re-upload, so this means other content.
        return (
            f"version {distribution.version} already published with different content: "
            f"bump the version ({repository.name} said: {message})"
        )
    if response.status == 413:
        return f"{distribution.filename} is larger than {repository.name} accepts (HTTP 413)"
    reason = message or "no reason given"
    return f"{repository.name} refused {distribution.filename} (HTTP {response.status}): {reason}"


def _index_message(response: HttpResponse) -> str:
    """The index's own explanation: warehouse puts it in the body's first line or title."""
    text = response.text.strip()
    if not text:
        return response.header("x-reason") or ""
    if "<" in text:
        import re

        title = re.search(r"<title>(.*?)</title>", text, re.S | re.I)
        body = re.sub(r"<[^>]+>", " ", text)
        text = title.group(1) if title and title.group(1).strip() else body
    return " ".join(text.split())[:300]


def open_target(
    request: TargetRequest,
    workspace: Workspace,
    options: PublishOptions,
    env: Mapping[str, str],
) -> IndexTarget:
    """The index named by the request (or ``--repository-url``), with its credentials."""
    repository = resolve_repository(workspace, request.name, options.repository_url, env)
    # Missing credentials must stop the run before anything is built or sent.
    resolved = resolve_credentials(repository, env)
    client = IndexClient(timeout=options.timeout, pool_size=max(2, options.jobs))
    return IndexTarget(client, repository, resolved, options.retry, env)


class IndexTarget:
    """Looks up and uploads the files of one repository with one set of credentials."""

    def __init__(
        self,
        client: IndexClient,
        repository: Repository,
        credentials: Credentials | TrustedPublishing,
        policy: RetryPolicy,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.client = client
        self.repository = repository
        self.policy = policy
        self._env = os.environ if env is None else env
        self._trusted = credentials if isinstance(credentials, TrustedPublishing) else None
        self.credentials = credentials if isinstance(credentials, Credentials) else None
        self._read_auth: tuple[str, str] | None = None
        self._set_read_auth()

    def _set_read_auth(self) -> None:
        same_host = (
            urlsplit(self.repository.url).netloc == urlsplit(self.repository.index_url).netloc
        )
        # Upload credentials go only to the host that takes uploads.
        if self.credentials is not None and same_host:
            self._read_auth = self.credentials.auth

    @property
    def credentials_source(self) -> str:
        if self.credentials is not None:
            return self.credentials.source
        assert self._trusted is not None
        return f"trusted publishing ({self._trusted.provider})"

    def connect(self) -> None:
        """With trusted publishing, exchange the CI's identity for an upload token now."""
        if self._trusted is None or self.credentials is not None:
            return
        from poetflow.publish.trusted import mint_upload_token

        self.credentials = mint_upload_token(self.repository, self._trusted, self._env, self.client)
        self._set_read_auth()

    def close(self) -> None:
        self.client.close()

    def project_url(self, project: str) -> str:
        return urljoin(self.repository.index_url.rstrip("/") + "/", f"{project}/")

    def listing(self, project: str) -> Listing:
        """The project's files on the index (empty when the project does not exist yet)."""
        retrying = Retrying(self.policy)
        while True:
            try:
                response = self.client.project_page(
                    self.repository.index_url, project, self._read_auth
                )
            except IndexTransportError as exc:
                if retrying.should_retry(None):
                    continue
                raise TargetFailure(
                    f"cannot read {self.project_url(project)}: {exc}", retrying.attempts_made
                ) from None
            if response.status == 404:
                return Listing({})
            if response.ok:
                return Listing(parse_project_page(response))
            if not retrying.should_retry(response):
                raise TargetFailure(
                    f"cannot read {self.project_url(project)} (HTTP {response.status}): "
                    f"{_index_message(response)}",
                    retrying.attempts_made,
                )

    def check(self, distribution: Distribution, listing: Listing) -> tuple[RemoteCheck, str | None]:
        """Is this exact file on the index already? Returns the verdict and its URL."""
        remote = listing.get(distribution.filename)
        if remote is None:
            return "absent", None
        digest = remote.sha256
        if digest is None:
            digest = self._download_sha256(remote.url)
        return ("same" if digest == distribution.sha256 else "different"), remote.url

    def _download_sha256(self, url: str) -> str:
        retrying = Retrying(self.policy)
        while True:
            try:
                return self.client.file_sha256(url, self._read_auth)
            except IndexTransportError as exc:
                if not retrying.should_retry(None):
                    raise TargetFailure(f"cannot download {url}: {exc}") from None

    def _landed(self, distribution: Distribution) -> tuple[RemoteCheck, str | None] | None:
        """Look again after an ambiguous answer; None when the index cannot be read now."""
        try:
            return self.check(distribution, self.listing(distribution.project))
        except TargetFailure:
            return None

    def upload(
        self, project: str, version: str, files: Sequence[Distribution]
    ) -> Iterator[UploadAnswer]:
        """Upload the files one by one; after a failure the rest are not tried."""
        for distribution in files:
            try:
                detail, attempts = self._upload_one(distribution)
            except TargetFailure as exc:
                yield UploadAnswer(distribution, "failed", str(exc), exc.attempts)
                return
            yield UploadAnswer(distribution, "uploaded", detail, attempts)

    def _upload_one(self, distribution: Distribution) -> tuple[str, int]:
        """POST the file; returns (detail, attempts). Raises TargetFailure when it cannot land."""
        assert self.credentials is not None, "upload needs credentials"
        fields = upload_fields(distribution)
        attestations = find_attestations(distribution.path)
        if attestations:
            fields.append(("attestations", json.dumps(attestations)))
        retrying = Retrying(self.policy)
        while True:
            try:
                response: HttpResponse | None = self.client.upload(
                    self.repository.url, fields, distribution.path, self.credentials.auth
                )
            except IndexTransportError as exc:
                response = None
                problem = str(exc)
            if response is not None and response.ok:
                return "", retrying.attempts_made + 1
            if response is not None:
                problem = f"HTTP {response.status}"
            # The answer was lost or refused in a way that may mean "already stored".
            ambiguous = response is None or response.status in (400, 409) or response.status >= 500
            if ambiguous:
                landed = self._landed(distribution)
                if landed is not None and landed[0] == "same":
                    return "landed despite a lost answer", retrying.attempts_made + 1
                if landed is not None and landed[0] == "different":
                    raise TargetFailure(
                        f"version {distribution.version} already published with different "
                        "content: bump the version",
                        retrying.attempts_made + 1,
                    )
            if retrying.should_retry(response):
                continue
            if response is None or response.status >= 500 or response.status == 429:
                raise TargetFailure(
                    f"{self.repository.name} kept failing for {distribution.filename} after "
                    f"{retrying.attempts_made} attempts ({problem})",
                    retrying.attempts_made,
                )
            raise TargetFailure(
                _explain(response, distribution, self.repository, self.credentials),
                retrying.attempts_made,
            )
