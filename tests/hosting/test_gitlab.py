"""The GitLab client against the GitLab double: releases, links, package files, limits."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tests.hosting_doubles import GitLabDouble

from poetflow.hosting.gitlab import GitLabClient
from poetflow.hosting.http import HostingError, HostingHttp
from poetflow.hosting.model import ReleaseFile, ReleaseSpec


def _file(tmp_path: Path, name: str, content: bytes, version: str = "1.3.0") -> ReleaseFile:
    path = tmp_path / name
    path.write_bytes(content)
    return ReleaseFile(path, "acme-core", version, hashlib.sha256(content).hexdigest())


@pytest.mark.parametrize("job", [True, False], ids=["job-token", "private-token"])
def test_a_release_links_its_files_in_the_package_registry(
    gitlab: GitLabDouble, tmp_path: Path, job: bool
) -> None:
    token = gitlab.job_token if job else gitlab.token
    client = GitLabClient(gitlab.api_url, gitlab.project_id, token, "job" if job else "private")
    files = (
        _file(tmp_path, "acme_core-1.3.0.tar.gz", b"sdist"),
        _file(tmp_path, "acme_core-1.3.0-py3-none-any.whl", b"wheel"),
    )
    spec = ReleaseSpec("acme-core-v1.3.0", "acme-core-v1.3.0", "## 1.3.0\n", files)
    first = client.publish_release(spec, dry_run=False)
    assert first.status == "created"
    assert len(first.uploaded) == 2
    header = "job-token" if job else "private-token"
    assert all(r.header(header) == token for r in gitlab.requests())
    release = gitlab.releases["acme-core-v1.3.0"]
    assert release["description"] == "## 1.3.0\n"
    links = sorted(link["name"] for link in gitlab.links.values())
    assert links == sorted(f.name for f in files)
    link = next(iter(gitlab.links.values()))
    assert link["url"].startswith(
        f"{gitlab.api_url}/projects/1217/packages/generic/acme-core/1.3.0/"
    )
    assert link["link_type"] == "package"

    writes = len(gitlab.writes())
    again = client.publish_release(spec, dry_run=False)
    assert (again.status, len(again.kept)) == ("up to date", 2)
    assert len(gitlab.writes()) == writes


def test_a_changed_file_is_uploaded_again_and_the_link_kept(
    gitlab: GitLabDouble, tmp_path: Path
) -> None:
    client = GitLabClient(gitlab.api_url, gitlab.project_path, gitlab.token)
    client.publish_release(
        ReleaseSpec("v1", "v1", "a", (_file(tmp_path, "x.whl", b"1"),)), dry_run=False
    )
    result = client.publish_release(
        ReleaseSpec("v1", "v1", "b", (_file(tmp_path, "x.whl", b"2"),)), dry_run=False
    )
    assert (result.status, result.uploaded) == ("updated", ("x.whl",))
    assert len(gitlab.links) == 1
    assert gitlab.releases["v1"]["description"] == "b"
    # The project's path works as its id, URL-encoded as GitLab wants it.
    assert all("/projects/acme%2Fdemo/" in r.path for r in gitlab.requests())


def test_a_release_made_meanwhile_answers_409_and_is_updated(gitlab: GitLabDouble) -> None:
    client = GitLabClient(gitlab.api_url, gitlab.project_id, gitlab.token)
    assert client.create_release({"tag_name": "v2", "description": "theirs"}) is not None
    assert client.create_release({"tag_name": "v2"}) is None
    assert (
        client.publish_release(ReleaseSpec("v2", "v2", "ours"), dry_run=False).status == "updated"
    )


def test_link_lists_are_followed_across_pages(gitlab: GitLabDouble) -> None:
    client = GitLabClient(gitlab.api_url, gitlab.project_id, gitlab.token)
    client.create_release({"tag_name": "v3"})
    for number in range(25):
        client.create_link("v3", {"name": f"f{number}", "url": f"https://example.invalid/{number}"})
    pages = client._http.pages(
        f"{gitlab.api_url}/projects/1217/releases/v3/assets/links",
        what="links",
        params={"per_page": "10"},
    )
    assert len(list(pages)) == 25


def test_rate_limits_are_waited_out(gitlab: GitLabDouble) -> None:
    client = GitLabClient(gitlab.api_url, gitlab.project_id, gitlab.token)
    gitlab.throttle(1)
    assert client.release("v9") is None
    assert len(gitlab.requests("GET")) == 2


def test_a_bad_token_is_refused_with_a_hint(gitlab: GitLabDouble) -> None:
    client = GitLabClient(gitlab.api_url, gitlab.project_id, "glpat-wrong-0000000000")
    with pytest.raises(HostingError, match="401 Unauthorized") as caught:
        client.release("v1")
    assert "token" in str(caught.value)


def test_a_link_whose_answer_was_lost_is_not_duplicated(
    gitlab: GitLabDouble, tmp_path: Path
) -> None:
    client = GitLabClient(gitlab.api_url, gitlab.project_id, gitlab.token)
    client.http = HostingHttp({"PRIVATE-TOKEN": gitlab.token}, sleep=lambda _seconds: None)
    client.create_release({"tag_name": "v7"})
    gitlab.lose_answers(1, "POST")  # the link is made, its 201 does not come back
    spec = ReleaseSpec("v7", "v7", "", (_file(tmp_path, "x.whl", b"1"),))
    assert client.publish_release(spec, dry_run=False).status == "updated"
    assert [link["name"] for link in gitlab.links.values()] == ["x.whl"]
