"""``poetflow run --sign``: the pipeline signs every artifact it releases, then uploads it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sigstore_double import WORKFLOW_IDENTITY, GitHubOidcEndpoint, SigstoreDouble

from poetflow.signing.options import SigningOptions
from poetflow.signing.verify import verify_artifacts

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index_server import IndexServer, start_index_server

pytestmark = pytest.mark.slow


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    server = start_index_server(tmp_path / "index")
    yield server
    server.stop()


def test_run_sign_signs_and_publishes_the_release(
    demo_repo: Path,
    run_cli: Callable[..., Any],
    sigstore_double: SigstoreDouble,
    github_oidc: GitHubOidcEndpoint,
    index: IndexServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pyproject = demo_repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + f'\n[tool.poetflow.repositories.local]\nurl = "{index.url}"\n'
        + f'\n[tool.poetflow.signing]\ntrust-config = "{sigstore_double.trust_config}"\n'
    )
    (demo_repo / "packages" / "core" / "src" / "acme_core" / "tax.py").write_text("VAT = 21\n")
    subprocess.run(["git", "add", "-A"], cwd=demo_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "fix(core): VAT"], cwd=demo_repo, check=True)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", github_oidc.request_url)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", github_oidc.request_token)
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", index.username)
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", index.password)

    result = run_cli(
        "run", "--stages", "version,build,sign,release,publish", "-r", "local", "--sign",
        cwd=demo_repo,
    )  # fmt: skip

    assert result.exit_code == 0, result.stdout + result.stderr
    dist = demo_repo / "packages" / "core" / "dist"
    artifacts = sorted(p for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    assert [p.name for p in artifacts] == [
        "acme_core-1.2.1-py3-none-any.whl",
        "acme_core-1.2.1.tar.gz",
    ]
    for artifact in artifacts:
        assert Path(f"{artifact}.sigstore.json").is_file()
        assert artifact.name in index.files()
    results = verify_artifacts(
        artifacts,
        WORKFLOW_IDENTITY,
        sigstore_double.issuer.url,
        SigningOptions(trust_config=sigstore_double.trust_config),
    )
    assert [r.status for r in results] == ["verified", "verified"], results
