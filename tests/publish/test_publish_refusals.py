"""How refusals and endless faults end: 4xx explained and not retried, 5xx retried within bounds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from publish_fixtures import write_workspace

from index_server import FaultyProxy, IndexServer
from poetflow.publish.engine import publish_packages
from poetflow.publish.results import PublishOptions
from poetflow.publish.retry import RetryPolicy
from poetflow.workspace import load_workspace

pytestmark = pytest.mark.slow


def _publish_through(
    proxy: FaultyProxy, server: IndexServer, root: Path, policy: RetryPolicy
) -> object:
    workspace = load_workspace(root)
    env = {
        "POETFLOW_REPOSITORY_LOCAL_USERNAME": server.username,
        "POETFLOW_REPOSITORY_LOCAL_PASSWORD": server.password,
    }
    options = PublishOptions(repository="local", build=False, retry=policy, env=env, timeout=5)
    return publish_packages(workspace, workspace.packages, options)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, "400 Invalid value for classifiers. Error: 'Foo :: Bar' is not valid.",
         "refused acme_core-0.1.0.tar.gz (HTTP 400): 400 Invalid value for classifiers"),
        (400, "400 File already exists ('acme_core-0.1.0.tar.gz', with blake2_256 hash 'ab').",
         "version 0.1.0 already published with different content: bump the version"),
        (403, "403 The user 'x' isn't allowed to upload to project 'acme-core'.",
         "lack upload rights for this project"),
    ],
)  # fmt: skip
def test_index_refusals_are_explained_and_not_retried(
    tmp_path: Path, index_server: IndexServer, status: int, body: str, expected: str
) -> None:
    posts: list[str] = []

    def refuse(method: str, path: str, headers: dict[str, str], data: bytes):  # type: ignore[no-untyped-def]
        posts.append(method)
        return status, body.encode(), {"Content-Type": "text/plain"}

    proxy = FaultyProxy(index_server.url, routes={"/": refuse})
    try:
        root = write_workspace(tmp_path / "mono", {"acme-core": [], "acme-app": ["acme-core"]},
                               proxy.url)  # fmt: skip
        report = _publish_through(proxy, index_server, root, RetryPolicy(base=0.01))
    finally:
        proxy.stop()
    assert not report.ok  # type: ignore[attr-defined]
    core, app = report.packages  # type: ignore[attr-defined]
    assert core.status == "failed"
    assert expected in core.detail
    assert app.status == "blocked"
    assert posts == ["POST"], "a refusal must not be retried"


def test_an_index_that_keeps_failing_is_given_up_on_within_bounds(
    tmp_path: Path, index_server: IndexServer
) -> None:
    posts: list[str] = []

    def unavailable(method: str, path: str, headers: dict[str, str], data: bytes):  # type: ignore[no-untyped-def]
        posts.append(method)
        return 503, b"maintenance", {"Retry-After": "1"}

    proxy = FaultyProxy(index_server.url, routes={"/": unavailable})
    started = time.monotonic()
    try:
        root = write_workspace(tmp_path / "mono", {"acme-core": []}, proxy.url)
        policy = RetryPolicy(attempts=4, base=0.05, max_delay=0.2, deadline=30)
        report = _publish_through(proxy, index_server, root, policy)
    finally:
        proxy.stop()
    assert not report.ok  # type: ignore[attr-defined]
    assert "kept failing" in report.packages[0].detail  # type: ignore[attr-defined]
    assert len(posts) == 4
    # Retry-After (1 s) was honoured up to the policy's cap (0.2 s) between the attempts.
    assert time.monotonic() - started < 10
