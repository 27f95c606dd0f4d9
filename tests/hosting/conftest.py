"""The code-host doubles, one per test, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.hosting_doubles import GitHubDouble, GitLabDouble


@pytest.fixture
def github() -> Iterator[GitHubDouble]:
    with GitHubDouble.running(token="ghs_" + "k3y" * 8) as double:
        yield double


@pytest.fixture
def gitlab() -> Iterator[GitLabDouble]:
    with GitLabDouble.running(
        token="glpat-" + "s3cr" * 5, job_token="glcbt-" + "j0b" * 6
    ) as double:
        yield double
