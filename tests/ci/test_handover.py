"""Every CI system receives the report of what the command did, from the command itself.

`poetflow-action build` with one package selected reports that package's artifacts
(with their sha256) and no package it did not touch, in each system's own format.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ci_helpers import ci_environment, parse_azure_commands, parse_github_output

from poetflow.ci.container import run_container

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = {"acme_core-1.2.0.tar.gz", "acme_core-1.2.0-py3-none-any.whl"}


@pytest.fixture(autouse=True)
def _keep_cwd() -> object:
    previous = Path.cwd()
    yield
    os.chdir(previous)


def _digests(root: Path) -> dict[str, str]:
    dist = root / "packages" / "core" / "dist"
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in dist.iterdir()
        if path.name in ARTIFACTS
    }


def _assert_only_core(report: dict[str, object], root: Path) -> None:
    """The report lists acme-core alone, with its two artifacts and their true sha256."""
    packages = report["packages"]
    assert isinstance(packages, list)
    assert [package["name"] for package in packages] == ["acme-core"]
    artifacts = {Path(a["path"]).name: a["sha256"] for a in packages[0]["artifacts"]}
    assert artifacts == _digests(root)
    assert set(artifacts) == ARTIFACTS
    assert report["command"] == "poetflow build"


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> int:
    os.chdir(cwd)
    return run_container(argv, {**os.environ, **env})


def test_github_gets_outputs_and_a_summary_of_what_build_did(
    demo_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = ci_environment("github", demo_repo, tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    inputs = {
        "INPUT_COMMAND": "build",
        "INPUT_PACKAGES": "acme-core",
        "INPUT_REPORT-DIR": ".poetflow",
    }
    assert _run([], {**env, **inputs}, demo_repo) == 0
    outputs = parse_github_output(Path(env["GITHUB_OUTPUT"]))
    assert json.loads(outputs["packages"]) == ["acme-core"]
    assert json.loads(outputs["matrix"]) == {
        "include": [{"package": "acme-core", "path": "packages/core"}]
    }
    digests = _digests(demo_repo)
    assert {Path(a["path"]).name: a["sha256"] for a in json.loads(outputs["artifacts"])} == digests
    assert outputs["report"] == ".poetflow/poetflow-report.json"
    _assert_only_core(json.loads((demo_repo / outputs["report"]).read_text()), demo_repo)
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "| acme-core |" in summary
    assert "acme-app" not in summary
    assert "acme_core-1.2.0-py3-none-any.whl" in summary


def test_gitlab_gets_a_dotenv_naming_the_report_of_what_build_did(
    demo_repo: Path, tmp_path: Path
) -> None:
    env = ci_environment("gitlab", demo_repo, tmp_path)
    assert _run(["build", "--package", "acme-core"], env, demo_repo) == 0
    dotenv = dict(
        line.split("=", 1)
        for line in (demo_repo / ".poetflow" / "poetflow.env").read_text().splitlines()
    )
    assert dotenv["POETFLOW_RELEASED"] == "false"
    assert dotenv["POETFLOW_REPORT_FILE"] == ".poetflow/poetflow-report.json"
    report = json.loads((demo_repo / dotenv["POETFLOW_REPORT_FILE"]).read_text())
    _assert_only_core(report, demo_repo)
    assert report["ci"] == {
        "system": "gitlab",
        "run_url": "https://gitlab.example/acme/monorepo/-/jobs/42",
    }


def test_azure_gets_output_variables_and_an_uploaded_summary(
    demo_repo: Path, tmp_path: Path
) -> None:
    # The console entry point, as the image and `poetflow-action` in a script step run it.
    env = {**os.environ, **ci_environment("azure", demo_repo, tmp_path)}
    completed = subprocess.run(
        [sys.executable, str(REPO / "entrypoint.py"), "build", "--package", "acme-core"],
        cwd=demo_repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "##vso[" not in completed.stdout  # commands go where they cannot corrupt output
    commands = parse_azure_commands(completed.stderr)
    variables = {
        props["variable"]: message
        for command, props, message in commands
        if command == "task.setvariable" and props.get("isoutput") == "true"
    }
    assert json.loads(variables["packages"]) == ["acme-core"]
    assert json.loads(variables["released_packages"]) == []
    artifacts = json.loads(variables["artifacts"])
    assert {Path(a["path"]).name: a["sha256"] for a in artifacts} == _digests(demo_repo)
    _assert_only_core(json.loads((demo_repo / variables["report"]).read_text()), demo_repo)
    (summary,) = [message for command, _, message in commands if command == "task.uploadsummary"]
    assert Path(summary).is_relative_to(tmp_path / "agent-temp")
    text = Path(summary).read_text()
    assert "| acme-core |" in text
    assert "acme-app" not in text
    report = json.loads((demo_repo / variables["report"]).read_text())
    assert report["ci"] == {
        "system": "azure",
        "run_url": "https://dev.azure.com/acme/monorepo/_build/results?buildId=42",
        "ref": "main",
        "sha": "0123abc",
    }


def test_bitbucket_gets_the_report_where_its_test_reporter_looks(
    demo_repo: Path, tmp_path: Path
) -> None:
    env = ci_environment("bitbucket", demo_repo, tmp_path)
    assert _run(["build", "--package", "acme-core"], env, demo_repo) == 0
    results = demo_repo / "test-results" / "poetflow"
    report = json.loads((results / "poetflow-report.json").read_text())
    _assert_only_core(report, demo_repo)
    assert report["ci"]["run_url"] == "https://bitbucket.org/acme/monorepo/pipelines/results/42"
    assert "| acme-core |" in (results / "poetflow-summary.md").read_text()
    # Kept out of git, like the report folder.
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=demo_repo, capture_output=True, text=True, check=True
    )
    assert "test-results" not in status.stdout


@pytest.mark.parametrize("system", ["github", "gitlab", "azure", "bitbucket"])
def test_a_dry_run_writes_nothing_into_the_repository(
    system: str, demo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = ci_environment(system, demo_repo, tmp_path)
    before = sorted(str(path) for path in demo_repo.rglob("*") if ".git" not in path.parts)
    assert _run(["--dry-run", "build", "--package", "acme-core"], env, demo_repo) == 0
    after = sorted(str(path) for path in demo_repo.rglob("*") if ".git" not in path.parts)
    assert after == before
    err = capsys.readouterr().err
    # The CI system's own files (outside the repository) still get the results.
    if system == "github":
        outputs = parse_github_output(Path(env["GITHUB_OUTPUT"]))
        assert json.loads(outputs["packages"]) == ["acme-core"]
        assert outputs["report"] == ""
        assert "(dry run)" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    if system == "azure":
        commands = parse_azure_commands(err)
        (summary,) = [m for c, _, m in commands if c == "task.uploadsummary"]
        assert "(dry run)" in Path(summary).read_text()


def test_a_failed_build_is_annotated_on_the_package_it_failed_for(
    demo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = demo_repo / "packages" / "core" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('readme = "README.md"', "") + "\n")
    (demo_repo / "packages" / "core" / "src").rename(demo_repo / "packages" / "core" / "gone")
    env = ci_environment("azure", demo_repo, tmp_path)
    assert _run(["build", "--package", "acme-core"], env, demo_repo) == 1
    commands = parse_azure_commands(capsys.readouterr().err)
    issues = [(props, message) for cmd, props, message in commands if cmd == "task.logissue"]
    assert issues, commands
    props, message = issues[0]
    assert props == {"type": "error", "sourcepath": "packages/core/pyproject.toml"}
    assert message.startswith("acme-core: build failed.")


def test_a_hand_over_that_fails_never_changes_the_outcome(
    demo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = ci_environment("github", demo_repo, tmp_path)
    env["GITHUB_OUTPUT"] = str(tmp_path)  # a folder: the runner's file cannot be written
    assert _run(["build", "--package", "acme-core"], env, demo_repo) == 0
    err = capsys.readouterr().err
    assert "warning: Could not hand the results to GitHub Actions:" in err
    assert (demo_repo / ".poetflow" / "poetflow-report.json").is_file()
