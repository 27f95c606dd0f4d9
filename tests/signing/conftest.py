"""Fixtures for signing tests: a local Sigstore instance, GitHub's OIDC endpoint, real bundles."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sigstore_double import WORKFLOW_IDENTITY, GitHubOidcEndpoint, SigstoreDouble

# Real bundles published by sigstore-python (Apache-2.0 test data; see its README.md).
PUBLISHED = Path(__file__).resolve().parent / "fixtures" / "published"
WHEEL_NAME = "rfc8785-0.1.2-py3-none-any.whl"


@pytest.fixture(scope="session")
def sigstore_double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigstoreDouble]:
    """One local Sigstore instance (OIDC issuer, CA + CT log, transparency log) per session."""
    double = SigstoreDouble.start(tmp_path_factory.mktemp("sigstore"))
    yield double
    double.stop()


@pytest.fixture
def github_oidc(sigstore_double: SigstoreDouble) -> Iterator[GitHubOidcEndpoint]:
    endpoint = GitHubOidcEndpoint(
        lambda audience: sigstore_double.issuer.token(WORKFLOW_IDENTITY, audience=audience),
        request_token="ghs-request-token-for-tests-0123456789",
    )
    yield endpoint
    endpoint.stop()


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """A writable copy of the real, published sigstore bundles (read-only in the share)."""
    target = tmp_path / "published"
    shutil.copytree(PUBLISHED, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """A real wheel (rfc8785 0.1.2) to sign, under its proper file name."""
    target = tmp_path / "dist" / WHEEL_NAME
    target.parent.mkdir()
    shutil.copyfile(PUBLISHED / "bundle_v3_github.whl", target)
    return target
