"""The GitHub client against the GitHub double: releases by tag, 422, pagination, limits."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.hosting_doubles import GitHubDouble

from poetflow.hosting.github import GitHubClient, expand_upload_url
from poetflow.hosting.http import HostingError, HostingHttp
from poetflow.hosting.model import ReleaseFile, ReleaseSpec


def _client(github: GitHubDouble, token: str | None = None) -> GitHubClient:
    return GitHubClient(github.api_url, github.repository, token or github.token)


def _file(tmp_path: Path, name: str, content: bytes) -> ReleaseFile:
    import hashlib

    path = tmp_path / name
    path.write_bytes(content)
    return ReleaseFile(path, "acme-core", "1.3.0", hashlib.sha256(content).hexdigest())


def test_upload_url_template_is_expanded() -> None:
    template = "https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}"
    assert expand_upload_url(template, "a b+c.tar.gz") == (
        "https://uploads.github.com/repos/o/r/releases/1/assets?name=a%20b%2Bc.tar.gz"
    )


def test_a_release_is_created_then_found_by_its_tag_and_left_alone(
    github: GitHubDouble, tmp_path: Path
) -> None:
    client = _client(github)
    files = (_file(tmp_path, "acme_core-1.3.0.tar.gz", b"sdist"),)
    spec = ReleaseSpec("acme-core-v1.3.0", "acme-core-v1.3.0", "## 1.3.0\n", files)
    first = client.publish_release(spec, dry_run=False)
    assert (first.status, first.uploaded) == ("created", ("acme_core-1.3.0.tar.gz",))
    # The asset went to the uploads host the release's upload_url names, not the API host.
    assert [r.host for r in github.requests("POST", "/repos/acme/demo/releases/")] == ["uploads"]
    writes = len(github.writes())
    again = client.publish_release(spec, dry_run=False)
    assert (again.status, again.kept) == ("up to date", ("acme_core-1.3.0.tar.gz",))
    assert len(github.writes()) == writes
    assert len(github.releases) == 1


def test_changed_notes_and_files_update_the_release(github: GitHubDouble, tmp_path: Path) -> None:
    client = _client(github)
    spec = ReleaseSpec("v1", "v1", "old", (_file(tmp_path, "a.whl", b"one"),))
    client.publish_release(spec, dry_run=False)
    changed = ReleaseSpec("v1", "v1", "new", (_file(tmp_path, "a.whl", b"two"),))
    result = client.publish_release(changed, dry_run=False)
    assert (result.status, result.uploaded) == ("updated", ("a.whl",))
    (release,) = github.releases.values()
    assert release["body"] == "new"
    (asset,) = github.assets.values()
    assert github.blobs[asset["id"]] == b"two"  # replaced, not a second asset
    assert github.requests("DELETE")


def test_without_digests_the_assets_are_downloaded_to_compare(tmp_path: Path) -> None:
    with GitHubDouble.running(digests=False) as github:
        client = _client(github)
        spec = ReleaseSpec("v1", "v1", "", (_file(tmp_path, "a.whl", b"one"),))
        client.publish_release(spec, dry_run=False)
        assert client.publish_release(spec, dry_run=False).status == "up to date"
        assert github.requests("GET", "/repos/acme/demo/releases/assets/")


def test_a_release_made_meanwhile_is_updated_not_duplicated(github: GitHubDouble) -> None:
    client = _client(github)
    other = GitHubClient(github.api_url, github.repository, github.token)
    assert other.create_release({"tag_name": "v2", "body": "theirs"}) is not None
    # Answered 422 already_exists: the client reads it back.
    assert client.create_release({"tag_name": "v2"}) is None
    result = client.publish_release(ReleaseSpec("v2", "v2", "ours"), dry_run=False)
    assert result.status == "updated"
    assert [r["body"] for r in github.releases.values()] == ["ours"]


def test_drafts_are_found_in_the_list_since_the_tag_endpoint_hides_them(
    github: GitHubDouble,
) -> None:
    client = _client(github)
    spec = ReleaseSpec("v3", "v3", "draft notes", draft=True)
    assert client.publish_release(spec, dry_run=False).status == "created"
    assert client.release_by_tag("v3") is None
    assert client.publish_release(spec, dry_run=False).status == "up to date"
    assert len(github.releases) == 1


def test_asset_lists_are_followed_across_pages(github: GitHubDouble, tmp_path: Path) -> None:
    client = _client(github)
    release = client.create_release({"tag_name": "v4"})
    assert release is not None
    for number in range(7):
        client.upload_asset(release["upload_url"], _file(tmp_path, f"f{number}.txt", b"x"))
    client.http = HostingHttp(dict(client._http.headers))
    pages = client._http.pages(
        f"{github.api_url}/repos/acme/demo/releases/{release['id']}/assets",
        what="listing",
        params={"per_page": "3"},
    )
    assert sorted(a["name"] for a in pages) == [f"f{n}.txt" for n in range(7)]
    assert len(github.requests("GET", f"/repos/acme/demo/releases/{release['id']}/assets")) == 3


@pytest.mark.parametrize("style", ["retry-after", "reset"])
def test_rate_limits_are_waited_out(github: GitHubDouble, style: str) -> None:
    client = _client(github)
    github.throttle(2, style)
    started = time.monotonic()
    assert client.release_by_tag("v9") is None
    assert time.monotonic() - started >= 1.0
    assert len(github.requests("GET")) == 3


def test_a_bad_token_fails_without_showing_it(github: GitHubDouble) -> None:
    from poetflow.masking import register_secret

    wrong = "ghs_wrong-" + "x" * 20
    register_secret(wrong)
    with pytest.raises(HostingError) as caught:
        _client(github, wrong).release_by_tag("v1")
    assert "401" in str(caught.value)
    assert "Bad credentials" in str(caught.value)
    assert wrong not in str(caught.value)


def test_a_dry_run_only_reads(github: GitHubDouble, tmp_path: Path) -> None:
    client = _client(github)
    spec = ReleaseSpec("v5", "v5", "notes", (_file(tmp_path, "a.whl", b"1"),))
    assert client.publish_release(spec, dry_run=True).status == "would create"
    client.publish_release(spec, dry_run=False)
    changed = ReleaseSpec("v5", "v5", "notes", (_file(tmp_path, "a.whl", b"2"),))
    preview = client.publish_release(changed, dry_run=True)
    assert (preview.status, preview.uploaded) == ("would update", ("a.whl",))
    assert [r.method for r in github.writes()] == ["POST", "POST"]  # the real run's only


def test_an_upload_whose_answer_was_lost_is_not_duplicated(
    github: GitHubDouble, tmp_path: Path
) -> None:
    client = _client(github)
    client.http = HostingHttp(dict(client._http.headers), sleep=lambda _seconds: None)
    release = client.create_release({"tag_name": "v6"})
    assert release is not None
    github.lose_answers(1, "POST")  # the upload lands, its 201 does not come back
    spec = ReleaseSpec("v6", "v6", "", (_file(tmp_path, "a.whl", b"bytes"),))
    result = client.publish_release(spec, dry_run=False)
    assert result.uploaded == ("a.whl",)
    assert [a["name"] for a in github.assets.values()] == ["a.whl"]
    uploads = github.requests("POST", f"/repos/acme/demo/releases/{release['id']}/assets")
    assert len(uploads) == 2  # the retry met the 422 and kept what was there
