"""The shipped GitHub workflows and the Action, run by act (nektos/act) against podman.

act runs each job in the ubuntu-latest stand-in and builds the Action's image from this
checkout's Dockerfile (``--local-repository poetflow/poetflow@v1=<checkout>``), as GitHub
builds a ``runs: using: docker`` action. Remote actions other than the checkout of the
repository itself are local stand-ins (tests/ci_runner/actions).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from monorepos import feature_branch, git, remote_tags
from runners import HERE, REPO, Act, RunnerResult

from index_server import IndexServer, start_index_server

pytestmark = [pytest.mark.ci_runner, pytest.mark.slow]

WORKFLOWS = REPO / "ci-templates" / "github"
ORIGIN = "https://github.com/acme/demo.git"


def _tail(result: RunnerResult, lines: int = 120) -> str:
    return "\n".join(result.log.splitlines()[-lines:])


def _outputs(result: RunnerResult, job: str) -> dict[str, str]:
    """The step outputs act reports for a job (``::set-output:: name=value`` lines)."""
    found = {}
    pattern = re.compile(rf"^\[[^\]]*{re.escape(job)}[^\]]*\]\s+⚙\s+::set-output:: ([\w-]+)=(.*)$")
    for line in result.log.splitlines():
        match = pattern.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def _stored(index: IndexServer) -> dict[str, tuple[int, int]]:
    """Each file on the index with its size and modification time: a new upload shows."""
    return {
        path.name: (path.stat().st_size, path.stat().st_mtime_ns)
        for path in index.packages_dir.iterdir()
    }


@pytest.fixture
def sigstore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, object]]:
    """The local Sigstore instance and GitHub's OIDC token endpoint in front of it."""
    from sigstore_double import WORKFLOW_IDENTITY, GitHubOidcEndpoint, SigstoreDouble

    double = SigstoreDouble.start(tmp_path_factory.mktemp("sigstore"))
    endpoint = GitHubOidcEndpoint(
        lambda audience: double.issuer.token(WORKFLOW_IDENTITY, audience=audience),
        request_token="ghs-oidc-request-" + secrets.token_hex(12),
    )
    yield double, endpoint
    endpoint.stop()
    double.stop()


def test_ci_workflow_fans_out_a_matrix_of_the_affected_packages(
    act: Act, monorepo: Callable[[str], Path], tmp_path: Path
) -> None:
    repo = monorepo(ORIGIN)
    branch = feature_branch(repo)
    payload = tmp_path / "pull_request.json"
    payload.write_text(
        json.dumps(
            {
                "action": "synchronize",
                "number": 7,
                "pull_request": {
                    "number": 7,
                    "head": {"ref": branch, "sha": git(repo, "rev-parse", "HEAD")},
                    "base": {"ref": "main", "sha": git(repo, "rev-parse", "main")},
                },
            }
        )
    )
    result = act(
        "pull_request", WORKFLOWS / "ci.yml", cwd=repo, payload=payload, log=tmp_path / "act.log"
    )
    assert result.returncode == 0, _tail(result)

    # The plan job: `poetflow plan` (pipx-installed from this checkout) names the packages
    # the pull request affects: acme-http and its dependent acme-app, not acme-core.
    matrix = json.loads(_outputs(result, "CI/plan")["matrix"])
    assert matrix == {
        "include": [
            {"package": "acme-http", "path": "packages/http"},
            {"package": "acme-app", "path": "packages/app"},
        ]
    }
    # One test job per package, each through the Action: tests pass, sdist + wheel built.
    for package, version in (("acme-http", "0.4.1"), ("acme-app", "0.9.0")):
        job = f"CI/test {package}"
        assert any(job in line and "Job succeeded" in line for line in result.log.splitlines())
        outputs = _outputs(result, job)
        assert json.loads(outputs["packages"]) == [package]
        assert outputs["released"] == "false"
        assert json.loads(outputs["versions"]) == {package: version}
        assert outputs["report"] == ".poetflow/poetflow-report.json"
        assert f"upload-artifact stand-in: poetflow-{package}: .poetflow/poetflow-report.json" in (
            result.log
        )
        wheel = f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
        row = rf"\| {package} \| {re.escape(version)} \| 1/1 passed \| [^|]*`{re.escape(wheel)}`"
        assert re.search(row, result.log), package  # the step summary's row
    assert "Summary - ## ✅ PoetFlow" in result.log
    assert "CI/test acme-core" not in result.log
    # uv's downloads and the task cache are kept between jobs (a miss on a first run).
    assert "cache stand-in: would save .poetflow/cache" in result.log


def test_release_workflow_signs_publishes_tags_and_a_rerun_uploads_nothing(
    act: Act,
    monorepo: Callable[[str], Path],
    tmp_path: Path,
    sigstore: tuple[object, object],
) -> None:
    double, oidc = sigstore
    repo = monorepo(ORIGIN)
    token = "pypi-canary-" + secrets.token_hex(16)  # must never show up in any log
    # pypiserver speaks basic auth: an API token is the password of user __token__.
    index = start_index_server(tmp_path / "index", "__token__", token)
    try:
        # Inside the work tree's .git: visible in the Action's container, never committed.
        trust = repo / ".git" / "sigstore-trust.json"
        shutil.copy(double.trust_config, trust)  # type: ignore[attr-defined]
        env = {
            # The workflow's `repository: pypi` is this machine's index (Poetry's variable).
            "POETRY_REPOSITORIES_PYPI_URL": index.url,
            # What GitHub gives a job with `id-token: write`, here the OIDC double's.
            "ACTIONS_ID_TOKEN_REQUEST_URL": oidc.request_url,  # type: ignore[attr-defined]
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": oidc.request_token,  # type: ignore[attr-defined]
            "POETFLOW_SIGSTORE_TRUST_CONFIG": str(trust),
        }

        def release(log: str) -> RunnerResult:
            return act(
                "push",
                WORKFLOWS / "release.yml",
                cwd=repo,
                bind=True,  # the release commit and tags are made in `repo`
                secrets={"PYPI_TOKEN": token},
                env=env,
                log=tmp_path / log,
            )

        first = release("release-1.log")
        assert first.returncode == 0, _tail(first)
        files = index.files()
        # acme-core's fix releases acme-core and, with compatible constraints, its dependents.
        assert "acme_core-1.2.1-py3-none-any.whl" in files, files
        assert "acme_core-1.2.1.tar.gz" in files, files
        stored = _stored(index)
        outputs = _outputs(first, "Release/release")
        assert outputs["released"] == "true"
        released = json.loads(outputs["released-packages"])
        assert "acme-core" in released
        assert len(files) == 2 * len(released)  # a wheel and an sdist of each, once
        assert json.loads(outputs["versions"])["acme-core"] == "1.2.1"
        assert "Released {" in first.log  # the workflow's last step read the outputs
        assert "| acme-core | 1.2.0 → **1.2.1** |" in first.log
        # Signed with the OIDC identity the job got, bundles next to the artifacts.
        assert (
            repo / "packages/core/dist/acme_core-1.2.1-py3-none-any.whl.sigstore.json"
        ).is_file()
        # The release commit and tags were pushed back (args: --push).
        assert "acme-core-v1.2.1" in remote_tags(repo)
        assert git(repo / ".git" / "origin.git", "rev-parse", "main") == git(
            repo, "rev-parse", "HEAD"
        )

        second = release("release-2.log")
        assert second.returncode == 0, _tail(second)
        assert _stored(index) == stored
        assert _outputs(second, "Release/release")["released"] == "false"
        for run in (first, second):
            assert token not in run.log
            assert token not in index.log_file.read_text()
    finally:
        index.stop()


def test_action_inputs_each_reach_poetflow(act: Act, tmp_path: Path) -> None:
    # The monorepo in a subfolder of the repository: every step sets working-directory.
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "demo", repo / "monorepo")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", ORIGIN)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feat: the monorepo")
    app = repo / "monorepo" / "packages" / "app" / "src" / "acme_app" / "__init__.py"
    app.write_text(app.read_text() + "\n# Exit codes follow sysexits.h.\n")
    git(repo, "commit", "-q", "-am", "fix(app): document the exit codes")

    result = act(
        "push", HERE / "workflows" / "action-inputs.yml", cwd=repo, bind=True,
        log=tmp_path / "act.log",
    )  # fmt: skip
    assert result.returncode == 0, _tail(result)
    log = result.log
    # packages: two names -> two --package options (the step summary names the command).
    assert "discover --package acme-core --package acme-http`: succeeded" in log
    # since: HEAD~1 changed only acme-app, a leaf: it alone would be tested (a dry run).
    assert "poetflow test --dry-run: 1 package, in this order" in log
    assert "PoetFlow `poetflow test` (dry run): succeeded" in log
    # stages + dry-run: only the build stage, and it builds nothing (the next step checks).
    assert "build: succeeded 1 would build" in log
    assert "PoetFlow `poetflow run` (dry run): succeeded" in log
    assert 'dry-run-versions={"acme-core": "1.2.0"}' in log
    # skip: every stage but build -> acme-core's sdist and wheel exist.
    assert "build: succeeded 1 built" in log
    assert log.count("Stages: build succeeded") == 2
    assert sorted(p.name for p in (repo / "monorepo/packages/core/dist").glob("acme_*")) == [
        "acme_core-1.2.0-py3-none-any.whl",
        "acme_core-1.2.0.tar.gz",
    ]
    assert 'skip-matrix={"include": [{"package": "acme-core", "path": "packages/core"}]}' in log
    # A bad boolean is an annotated usage error, and the step fails.
    assert "Action input 'dry-run' must be true or false, not 'yes'" in log
    assert "bad-outcome=failure" in log
    # Outputs name files relative to the workspace, where later steps find them.
    assert "skip-report=monorepo/.poetflow/poetflow-report.json" in log
