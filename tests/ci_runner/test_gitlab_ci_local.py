"""The shipped GitLab CI pipeline and CI/CD component, run by gitlab-ci-local.

Jobs run in the host's shell (``--force-shell-executor``: the image they name is this
checkout's, installed here), where ``poetflow`` and ``poetflow-action`` are the console
scripts of the test environment, as on a GitLab shell executor. The pipeline files are
copied into the monorepo unchanged, where GitLab reads them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from monorepos import feature_branch, git, remote_tags
from runners import BIN, GIT_IDENTITY, REPO, RunnerResult, node_env, run_logged

from index_server import start_index_server

pytestmark = [pytest.mark.ci_runner, pytest.mark.slow]

TEMPLATES = REPO / "ci-templates" / "gitlab"
ORIGIN = "git@gitlab.com:acme/demo.git"  # gitlab-ci-local: CI_SERVER_FQDN and CI_PROJECT_PATH


def _tail(result: RunnerResult, lines: int = 120) -> str:
    return "\n".join(result.log.splitlines()[-lines:])


@pytest.fixture
def gitlab(node_tools: Path, poetry_cache: Path, tmp_path: Path) -> Callable[..., RunnerResult]:
    """``gitlab-ci-local`` in a repository, with a scratch HOME and CI/CD variables."""
    home = tmp_path / "gcl-home"
    home.mkdir()

    def run(
        repo: Path, *args: str, log: str, variables: dict[str, str] | None = None
    ) -> RunnerResult:
        command = ["gitlab-ci-local", "--force-shell-executor", "--shell-executor-no-image"]
        # gitlab-ci-local sets GITLAB_CI=false for its jobs; GitLab's runners set true, which
        # is how poetflow-action knows to write the dotenv report.
        command += ["--variable", "GITLAB_CI=true"]
        if variables:
            # A variables file, not --variable: argv is visible to every process here.
            file = tmp_path / f"{log}.variables.yml"
            file.write_text(yaml.safe_dump(variables))
            file.chmod(0o600)
            command += ["--variables-file", str(file)]
        env = node_env(
            {
                **GIT_IDENTITY,
                "HOME": str(home),
                "NO_COLOR": "1",
                "GCL_IGNORE_PREDEFINED_VARS": "GITLAB_CI,CI_PIPELINE_SOURCE",
                "FORCE_COLOR": "0",
                # The jobs' poetflow and poetflow-action: this checkout's console scripts.
                "PATH": f"{BIN}:{os.environ['PATH']}",
                "POETRY_CACHE_DIR": str(poetry_cache),
            }
        )
        return run_logged(
            [*command, *args], cwd=repo, env=env, timeout=900, log=tmp_path / f"{log}.log"
        )

    return run


def _with_pipeline(repo: Path) -> None:
    shutil.copy(TEMPLATES / ".gitlab-ci.yml", repo / ".gitlab-ci.yml")
    shutil.copytree(TEMPLATES / "templates", repo / "templates")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "ci: PoetFlow's GitLab pipeline")
    git(repo, "push", "-q", "origin", "main")


def test_merge_request_pipeline_tests_and_builds_the_affected_packages_in_a_child_pipeline(
    gitlab: Callable[..., RunnerResult], monorepo: Callable[[str], Path]
) -> None:
    repo = monorepo(ORIGIN)
    _with_pipeline(repo)
    feature_branch(repo)
    result = gitlab(
        repo,
        "--variable", "CI_PIPELINE_SOURCE=merge_request_event",
        "--variable", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main",
        log="merge-request",
    )  # fmt: skip
    assert result.returncode == 0, _tail(result)
    # plan wrote the child pipeline; `affected` triggered it (strategy: depend).
    child = yaml.safe_load(
        (repo / ".gitlab-ci-local/artifacts/plan/poetflow-pipeline.yml").read_text()
    )
    assert set(child) - {"stages"} == {"release-acme-http", "release-acme-app"}
    for job in (
        "plan",
        "affected",
        "[affected] -> release-acme-http",
        "[affected] -> release-acme-app",
    ):
        assert re.search(rf"PASS\s+{re.escape(job)}\s*$", result.log, re.MULTILINE), job
    assert "release-acme-core" not in result.log
    assert "release" not in re.findall(r"PASS\s+(\S+)\s*$", result.log, re.MULTILINE)
    for package, folder in (("acme_http", "http"), ("acme_app", "app")):
        built = sorted(p.name for p in (repo / "packages" / folder / "dist").iterdir())
        assert any(name.startswith(package) and name.endswith(".whl") for name in built), built
    assert not (repo / "packages" / "core" / "dist").exists()


@pytest.fixture
def sigstore_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """What GitLab's ``id_tokens: SIGSTORE_ID_TOKEN`` gives a job, from the local Sigstore."""
    from sigstore_double import SigstoreDouble

    double = SigstoreDouble.start(tmp_path_factory.mktemp("sigstore"))
    token = double.issuer.token(
        "https://gitlab.com/acme/demo//.gitlab-ci.yml@refs/heads/main", audience="sigstore",
        lifetime=900,
    )  # fmt: skip
    yield token, double.trust_config
    double.stop()


def test_default_branch_pipeline_releases_to_the_index(
    gitlab: Callable[..., RunnerResult],
    monorepo: Callable[[str], Path],
    tmp_path: Path,
    sigstore_token: tuple[str, Path],
) -> None:
    repo = monorepo(ORIGIN)
    _with_pipeline(repo)
    token = "pypi-canary-" + secrets.token_hex(16)
    index = start_index_server(tmp_path / "index", "__token__", token)
    id_token, trust = sigstore_token
    try:
        result = gitlab(
            repo,
            log="release",
            variables={
                "POETFLOW_TOKEN": token,  # a masked CI/CD variable in GitLab
                "POETRY_REPOSITORIES_PYPI_URL": index.url,
                "SIGSTORE_ID_TOKEN": id_token,
                "POETFLOW_SIGSTORE_TRUST_CONFIG": str(trust),
            },
        )
        assert result.returncode == 0, _tail(result)
        assert re.search(r"PASS\s+release\s*$", result.log, re.MULTILINE)
        assert "plan" not in re.findall(r"PASS\s+(\S+)\s*$", result.log, re.MULTILINE)
        files = index.files()
        assert "acme_core-1.2.1-py3-none-any.whl" in files, files
        assert (repo / "packages/core/dist/acme_core-1.2.1.tar.gz.sigstore.json").is_file()
        assert "acme-core-v1.2.1" in remote_tags(repo)
        dotenv = (repo / ".poetflow" / "poetflow.env").read_text().splitlines()
        assert "POETFLOW_RELEASED=true" in dotenv
        versions = next(v for v in dotenv if v.startswith("POETFLOW_RELEASED_VERSIONS="))
        assert json.loads(versions.split("=", 1)[1])["acme-core"] == "1.2.1"
        assert token not in result.log
        assert id_token not in result.log
    finally:
        index.stop()


def _component_pipeline(repo: Path, includes: list[dict[str, object]]) -> None:
    shutil.copytree(TEMPLATES / "templates", repo / "templates")
    (repo / ".gitlab-ci.yml").write_text(
        yaml.safe_dump({"stages": ["test", "build"], "include": includes}, sort_keys=False)
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "ci: the PoetFlow component")


COMPONENT = "$CI_SERVER_FQDN/$CI_PROJECT_PATH/poetflow@$CI_COMMIT_SHA"


def test_component_runs_with_its_inputs(
    gitlab: Callable[..., RunnerResult], monorepo: Callable[[str], Path]
) -> None:
    repo = monorepo(ORIGIN)
    _component_pipeline(
        repo,
        [
            {"component": COMPONENT, "inputs": {"job-name": "graph", "command": "graph"}},
            {
                "component": COMPONENT,
                "inputs": {
                    "job-name": "build-core",
                    "stage": "build",
                    "command": "run",
                    "packages": "acme-core",
                    "stages": "build",
                },
            },
        ],
    )
    listed = gitlab(repo, "--list-json", log="component-list")
    assert listed.returncode == 0, _tail(listed)
    jobs = json.loads(listed.log[listed.log.index("[\n") :])  # log lines come first
    assert {job["name"]: job["stage"] for job in jobs} == {"graph": "test", "build-core": "build"}

    result = gitlab(repo, log="component")
    assert result.returncode == 0, _tail(result)
    assert re.search(r"PASS\s+graph\s*$", result.log, re.MULTILINE)
    assert re.search(r"PASS\s+build-core\s*$", result.log, re.MULTILINE)
    built = sorted(p.name for p in (repo / "packages" / "core" / "dist").glob("acme_core-*"))
    assert built == ["acme_core-1.2.0-py3-none-any.whl", "acme_core-1.2.0.tar.gz"]
    report = json.loads((repo / ".poetflow" / "poetflow-report.json").read_text())
    assert report["ci"]["system"] == "gitlab"


def test_component_rejects_an_input_of_the_wrong_type(
    gitlab: Callable[..., RunnerResult], monorepo: Callable[[str], Path]
) -> None:
    repo = monorepo(ORIGIN)
    _component_pipeline(repo, [{"component": COMPONENT, "inputs": {"sign": "maybe"}}])
    result = gitlab(repo, "--preview", log="component-invalid")
    assert result.returncode != 0
    assert "This GitLab CI configuration is invalid" in result.log
    assert re.search(r"`sign` input: provided value is not a boolean", result.log), _tail(result)
