"""Pull requests (GitHub) and merge requests (GitLab) against the doubles: one per branch,
found across pages, updated, closed with a comment; a rate limit waited out."""

from __future__ import annotations

import pytest
from tests.hosting_doubles import GitHubDouble, GitLabDouble

from poetflow.hosting.github import GitHubClient
from poetflow.hosting.gitlab import GitLabClient
from poetflow.hosting.http import HostingError

BRANCH = "poetflow/release"


def test_github_pull_request_is_found_by_head_across_pages_updated_and_closed(
    github: GitHubDouble,
) -> None:
    client = GitHubClient(github.api_url, github.repository, github.token)
    for number in range(1, 121):  # other branches' pull requests, more than a page
        github.pulls[number] = {
            "number": number, "title": f"feature {number}", "body": "", "head": f"f{number}",
            "base": "main", "state": "open", "merged": False,
        }  # fmt: skip
    assert client.find_review(BRANCH) is None
    made = client.open_review(BRANCH, "main", "chore(release): a 1.1.0", "plan")
    assert made.number == 121
    assert made.url.endswith("/pull/121")
    github.throttle(1)
    found = client.find_review(BRANCH)
    assert found == made
    updated = client.update_review(made, "chore(release): a 1.2.0", "plan 2")
    assert (updated.title, updated.body) == ("chore(release): a 1.2.0", "plan 2")
    closed = client.close_review(updated, "Nothing to release.")
    assert closed.state == "closed"
    assert github.comments == [{"id": 1, "issue": 121, "body": "Nothing to release."}]
    assert client.find_review(BRANCH) is None
    client.close()


def test_github_refuses_a_second_open_pull_request_of_a_branch(github: GitHubDouble) -> None:
    client = GitHubClient(github.api_url, github.repository, github.token)
    client.open_review(BRANCH, "main", "t", "b")
    with pytest.raises(HostingError, match="422") as caught:
        client.open_review(BRANCH, "main", "t", "b")
    client.close()
    assert github.token not in str(caught.value)
    assert len(github.pulls) == 1


def test_gitlab_merge_request_is_found_by_source_branch_updated_and_closed(
    gitlab: GitLabDouble,
) -> None:
    client = GitLabClient(gitlab.api_url, gitlab.project_id, gitlab.token)
    assert client.find_review(BRANCH) is None
    made = client.open_review(BRANCH, "main", "chore(release): a 1.1.0", "plan")
    assert (made.number, made.state) == (1, "opened")
    assert gitlab.merge_requests[1]["target_branch"] == "main"
    assert client.find_review(BRANCH) == made
    updated = client.update_review(made, "chore(release): a 1.2.0", "plan 2")
    assert gitlab.merge_requests[1]["description"] == "plan 2"
    closed = client.close_review(updated, "Nothing to release.")
    assert closed.state == "closed"
    assert gitlab.notes == [{"id": 1, "merge_request": 1, "body": "Nothing to release."}]
    assert client.find_review(BRANCH) is None
    client.close()


def test_gitlab_job_token_may_not_open_a_merge_request(gitlab: GitLabDouble) -> None:
    client = GitLabClient(gitlab.api_url, gitlab.project_id, gitlab.job_token, "job")
    with pytest.raises(HostingError, match="403") as caught:
        client.open_review(BRANCH, "main", "t", "b")
    client.close()
    assert gitlab.job_token not in str(caught.value)
