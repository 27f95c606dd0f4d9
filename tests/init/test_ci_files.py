"""`poetflow init --ci NAME` writes that CI's pipeline from ci-templates/, adapted."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from tests.conftest import REPO_ROOT, CliResult, git

PACKAGES = [("packages/a", "pkg-a", "1.0.0"), ("packages/b", "pkg-b", "2.0.0", "pep621")]


def test_github_workflows_follow_the_repository(
    make_monorepo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    root = make_monorepo(PACKAGES, tags=("pkg-a@1.0.0",), python=">=3.13")
    git(root, "branch", "-m", "main", "trunk")
    result = run_cli("init", "--yes", "--ci", "github", cwd=root)
    assert result.exit_code == 0, result.stderr
    workflows = root / ".github" / "workflows"
    assert sorted(path.name for path in workflows.iterdir()) == ["ci.yml", "release.yml"]
    ci = yaml.safe_load((workflows / "ci.yml").read_text(encoding="utf-8"))
    release = yaml.safe_load((workflows / "release.yml").read_text(encoding="utf-8"))
    # PyYAML reads the key `on` as True.
    assert ci[True]["push"]["branches"] == ["trunk"]
    assert release[True]["push"]["tags"] == ["*@*"]
    steps = ci["jobs"]["plan"]["steps"]
    assert any(step.get("with", {}).get("python-version") == "3.13" for step in steps)
    assert "'trunk'" in (workflows / "ci.yml").read_text(encoding="utf-8")


def test_gitlab_and_jenkins_land_where_those_ci_read_them(
    make_monorepo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    root = make_monorepo(PACKAGES)
    assert run_cli("init", "--yes", "--ci", "gitlab", cwd=root).exit_code == 0
    pipeline = yaml.safe_load((root / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert "release" in pipeline
    assert not (root / "templates").exists()  # the CI/CD component stays in PoetFlow's repo
    result = run_cli("init", "--yes", "--ci", "jenkins", cwd=root)
    assert result.exit_code == 0, result.stderr
    assert "Kept pyproject.toml as it is" in result.stdout
    assert "pipeline {" in (root / "Jenkinsfile").read_text(encoding="utf-8")


def test_azure_and_bitbucket_pipelines_follow_the_repository(
    make_monorepo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    root = make_monorepo(PACKAGES, tags=("pkg-a@1.0.0",))
    git(root, "branch", "-m", "main", "trunk")
    assert run_cli("init", "--yes", "--ci", "azure", cwd=root).exit_code == 0
    azure_text = (root / "azure-pipelines.yml").read_text(encoding="utf-8")
    azure = yaml.safe_load(azure_text)
    assert azure["trigger"]["branches"]["include"] == ["trunk"]
    assert azure["trigger"]["tags"]["include"] == ["*@*"]
    assert "refs/heads/trunk" in azure["jobs"][2]["condition"]
    result = run_cli("init", "--yes", "--ci", "bitbucket", cwd=root)
    assert result.exit_code == 0, result.stderr
    bitbucket = yaml.safe_load((root / "bitbucket-pipelines.yml").read_text(encoding="utf-8"))
    assert list(bitbucket["pipelines"]["branches"]) == ["trunk"]
    assert bitbucket["clone"]["depth"] == "full"


def test_an_existing_workflow_is_kept_unless_forced(
    make_monorepo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    root = make_monorepo(PACKAGES)
    mine = root / "Jenkinsfile"
    mine.write_text("// my own pipeline\n", encoding="utf-8")
    result = run_cli("init", "--yes", "--ci", "jenkins", cwd=root)
    assert result.exit_code == 0, result.stderr
    assert "Kept Jenkinsfile as it is (it exists; --force replaces it)" in result.stdout
    assert mine.read_text(encoding="utf-8") == "// my own pipeline\n"
    assert run_cli("init", "--yes", "--force", "--ci", "jenkins", cwd=root).exit_code == 0
    assert "pipeline {" in mine.read_text(encoding="utf-8")


@pytest.mark.slow
def test_ci_templates_work_from_an_installed_wheel(
    make_monorepo: Callable[..., Path], tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    built = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from poetry.core.masonry.api import build_wheel; print(build_wheel({str(dist)!r}))",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    dist.mkdir(exist_ok=True)
    wheel = dist / built.stdout.strip().splitlines()[-1]
    names = zipfile.ZipFile(wheel).namelist()
    assert "ci-templates/github/release.yml" in names
    # Installing a wheel is unpacking it into site-packages; this folder plays that part.
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)
    root = make_monorepo(PACKAGES)
    env = {**os.environ, "PYTHONPATH": str(site)}
    script = (
        "import poetflow, sys; from poetflow.cli.app import main; "
        "print(poetflow.__file__, file=sys.stderr); main(sys.argv[1:])"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, "init", "--yes", "--ci", "github"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert str(site) in completed.stderr  # the unpacked wheel, not this checkout
    assert (root / ".github" / "workflows" / "release.yml").is_file()


@pytest.mark.parametrize(("kind", "target"), [("github", ".github/workflows/release.yml"),
                                              ("gitlab", ".gitlab-ci.yml")])  # fmt: skip
def test_release_pr_writes_the_release_pull_request_flow_in_place_of_the_direct_one(
    make_monorepo: Callable[..., Path], run_cli: Callable[..., CliResult], kind: str, target: str
) -> None:
    root = make_monorepo(PACKAGES)
    git(root, "branch", "-m", "main", "trunk")
    result = run_cli("init", "--yes", "--ci", kind, "--release-pr", cwd=root)
    assert result.exit_code == 0, result.stderr
    text = (root / target).read_text(encoding="utf-8")
    assert "poetflow-action release-pr" in text or "command: release-pr" in text
    assert "poetflow/release" in text
    assert not list(root.rglob("release-pr"))  # the template folder is not copied
    if kind == "github":
        assert "branches: [trunk]" in text
        names = sorted(p.name for p in (root / ".github" / "workflows").iterdir())
        assert names == ["ci.yml", "release.yml"]


def test_release_pr_needs_a_ci_with_that_flow(
    make_monorepo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    root = make_monorepo(PACKAGES)
    for args in (["--release-pr"], ["--ci", "jenkins", "--release-pr"]):
        result = run_cli("init", "--yes", *args, cwd=root)
        assert result.exit_code == 2, result.stdout + result.stderr
        assert "--release-pr" in result.stderr
        assert "Traceback" not in result.stderr
