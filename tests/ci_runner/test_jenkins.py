"""The shipped Jenkinsfile: parsed by Groovy 2.4, linted by npm-groovy-lint, and each `sh`
step run in stage order against the demo monorepo, as Jenkins would for a branch.

No Jenkins runs here. jenkins/pipeline_steps.groovy evaluates the Jenkinsfile with its
keywords recorded, decides `when` for the branch and prints the `sh` steps with their
environment; the steps then run in the monorepo with this checkout's console scripts.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from monorepos import feature_branch, remote_tags
from runners import BIN, GIT_IDENTITY, HERE, REPO, node_env, run_logged

from index_server import start_index_server

pytestmark = [pytest.mark.ci_runner, pytest.mark.slow]

JENKINSFILE = REPO / "ci-templates" / "jenkins" / "Jenkinsfile"
ORIGIN = "https://git.example.com/acme/demo.git"


def _pipeline(branch: str) -> dict[str, Any]:
    completed = subprocess.run(
        ["groovy", str(HERE / "jenkins" / "pipeline_steps.groovy"), str(JENKINSFILE), branch],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def _run_steps(
    repo: Path,
    branch: str,
    credentials: dict[str, str],
    log: Path,
    extra: dict[str, str],
    poetry_cache: Path,
) -> list[tuple[str, str]]:
    """Run each `sh` step like Jenkins' docker agent would; returns (stage, log) of each."""
    done = []
    for index, step in enumerate(_pipeline(branch)["steps"]):
        env = {
            **os.environ,
            **GIT_IDENTITY,
            **extra,
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "POETRY_CACHE_DIR": str(poetry_cache),
            "JENKINS_URL": "https://jenkins.example.invalid/",
            "BRANCH_NAME": branch,
            "WORKSPACE": str(repo),
            "BUILD_URL": "https://jenkins.example.invalid/job/demo/1/",
        }
        for key, value in step["env"].items():
            env[key] = credentials[value["credentials"][0]] if isinstance(value, dict) else value
        # Jenkins runs each `sh` script with `sh -xe`.
        result = run_logged(
            ["sh", "-xe", "-c", step["sh"]],
            cwd=repo,
            env=env,
            timeout=600,
            log=log.with_suffix(f".{index}.log"),
        )
        assert result.returncode == 0, f"{step['stage']}: {step['sh']}\n{result.log[-4000:]}"
        done.append((step["stage"], result.log))
    return done


def test_jenkinsfile_parses_and_passes_npm_groovy_lint(node_tools: Path, tmp_path: Path) -> None:
    # Groovy 2.4 (the pipeline_steps script) parses and evaluates it for both kinds of branch.
    assert _pipeline("main")["agent"] == "ghcr.io/poetflow/poetflow:latest"
    result = run_logged(
        ["npm-groovy-lint", "--noserver", "--failon", "error", "--files", "**/Jenkinsfile"],
        cwd=JENKINSFILE.parent,
        env=node_env({"HOME": str(tmp_path)}),
        timeout=300,
        log=tmp_path / "lint.log",
    )
    assert result.returncode == 0, result.log[-4000:]


def test_jenkins_branch_build_tests_and_builds_what_changed(
    monorepo: Callable[[str], Path], tmp_path: Path, poetry_cache: Path
) -> None:
    repo = monorepo(ORIGIN)
    branch = feature_branch(repo)
    steps = _run_steps(repo, branch, {}, tmp_path / "branch", {}, poetry_cache)
    assert [stage for stage, _ in steps] == ["Plan", "Test and build"]
    assert "acme-http" in steps[0][1]
    report = json.loads((repo / ".poetflow" / "poetflow-report.json").read_text())
    assert report["ci"]["system"] == "jenkins"
    assert {p["name"] for p in report["packages"]} == {"acme-http", "acme-app"}
    assert report["status"] == "succeeded"
    assert list((repo / "packages" / "app" / "dist").glob("acme_app-0.9.0*.whl"))


def test_jenkins_main_build_releases_and_pushes(
    monorepo: Callable[[str], Path], tmp_path: Path, poetry_cache: Path
) -> None:
    repo = monorepo(ORIGIN)
    token = "pypi-canary-" + secrets.token_hex(16)
    index = start_index_server(tmp_path / "index", "__token__", token)
    try:
        # Jenkins checks out a detached commit.
        subprocess.run(["git", "checkout", "-q", "--detach"], cwd=repo, check=True)
        steps = _run_steps(
            repo,
            "main",
            {"pypi-token": token},
            tmp_path / "main",
            {"POETRY_REPOSITORIES_PYPI_URL": index.url},
            poetry_cache,
        )
        assert [stage for stage, _ in steps] == ["Plan", "Release"]
        assert "acme_core-1.2.1-py3-none-any.whl" in index.files()
        assert "acme-core-v1.2.1" in remote_tags(repo)
        for _, output in steps:
            assert token not in output
    finally:
        index.stop()
