"""The container adapter in-process: inputs in, outputs, summary, annotations and dotenv out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ci_helpers import parse_github_output

from poetflow.ci.container import run_container

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _keep_cwd() -> object:
    previous = Path.cwd()
    yield
    os.chdir(previous)


def test_github_inputs_drive_discover_and_fill_outputs_and_summary(
    demo_repo: Path, github_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    env = {
        **os.environ,
        "GITHUB_WORKSPACE": str(demo_repo),
        "INPUT_COMMAND": "discover",
        "INPUT_PACKAGES": "acme-core",
        "INPUT_DRY-RUN": "false",
        "INPUT_LOG-LEVEL": "info",
    }
    os.chdir(demo_repo)  # GitHub starts docker actions in the workspace
    assert run_container([], env) == 0
    assert "acme-core" in capsys.readouterr().out
    outputs = parse_github_output(github_env["output"])
    assert outputs["released"] == "false"
    assert set(json.loads(outputs["packages"])) == {
        "acme-app",
        "acme-core",
        "acme-http",
        "acme-storage",
    }
    assert outputs["report"] == ".poetflow/poetflow-report.json"
    report = json.loads((demo_repo / outputs["report"]).read_text())
    assert report["command"] == "--log-level info discover --package acme-core"
    assert report["ci"]["run_url"] == "https://github.com/acme/monorepo/actions/runs/42"
    summary = github_env["summary"].read_text()
    assert "PoetFlow `--log-level info discover --package acme-core`" in summary
    assert "| acme-core |" in summary


def test_every_command_takes_the_report_dir_input_github_always_passes(
    demo_repo: Path, github_env: dict[str, Path]
) -> None:
    # action.yml's report-dir default reaches every command; only `run` has the option.
    env = {
        **os.environ,
        "GITHUB_WORKSPACE": str(demo_repo),
        "INPUT_COMMAND": "graph",
        "INPUT_REPORT-DIR": "ci-reports",
    }
    os.chdir(demo_repo)
    assert run_container([], env) == 0
    outputs = parse_github_output(github_env["output"])
    assert outputs["report"] == "ci-reports/poetflow-report.json"
    assert (demo_repo / "ci-reports" / "poetflow-report.json").is_file()


def test_bad_usage_exits_2_with_an_annotation(
    demo_repo: Path, github_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**os.environ, "GITHUB_WORKSPACE": str(demo_repo), "INPUT_PACKAGES": "nope"}
    os.chdir(demo_repo)
    assert run_container(["discover", "--package", "no-such-package"], env) == 2
    captured = capsys.readouterr()
    assert "::error title=PoetFlow::" in captured.out
    assert "no-such-package" in captured.out
    outputs = parse_github_output(github_env["output"])
    report = json.loads((demo_repo / outputs["report"]).read_text())
    assert report["status"] == "error"
    assert report["exit_code"] == 2
    assert "exit code 2" in github_env["summary"].read_text()


def test_a_broken_pyproject_is_annotated_on_that_file(
    demo_repo: Path, github_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (demo_repo / "packages" / "core" / "pyproject.toml").write_text("[tool.poetry\n")
    env = {**os.environ, "GITHUB_WORKSPACE": str(demo_repo), "INPUT_COMMAND": "discover"}
    os.chdir(demo_repo)
    assert run_container([], env) == 2
    out = capsys.readouterr().out
    assert "::error file=packages/core/pyproject.toml,title=PoetFlow::" in out


def test_invalid_boolean_input_exits_2_before_running(
    github_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**os.environ, "INPUT_COMMAND": "discover", "INPUT_DRY-RUN": "yes"}
    assert run_container([], env) == 2
    captured = capsys.readouterr()
    assert "Action input 'dry-run' must be true or false, not 'yes'" in captured.err
    assert "::error title=PoetFlow action input::" in captured.out
    assert github_env["output"].read_text() == ""


def test_secrets_are_masked_before_anything_else(
    demo_repo: Path, github_env: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("pypi-from-a-file-0123456789\n")
    env = {
        **os.environ,
        "GITHUB_WORKSPACE": str(demo_repo),
        "INPUT_COMMAND": "discover",
        "POETFLOW_TOKEN": "pypi-direct-0123456789",
        "POETRY_PYPI_TOKEN_INTERNAL_FILE": str(token_file),
    }
    os.chdir(demo_repo)
    assert run_container([], env) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "::add-mask::pypi-direct-0123456789" in lines[:2]
    assert "::add-mask::pypi-from-a-file-0123456789" in lines[:2]


def test_gitlab_gets_a_dotenv_report(demo_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "GITLAB_CI": "true", "POETFLOW_COMMAND": "discover"}
    os.chdir(demo_repo)
    assert run_container([], env) == 0
    dotenv = (demo_repo / ".poetflow" / "poetflow.env").read_text().splitlines()
    assert "POETFLOW_RELEASED=false" in dotenv
    assert any(line.startswith("POETFLOW_REPORT_FILE=") for line in dotenv)


def test_entrypoint_script_runs_a_shell_command_as_given(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "entrypoint.py"), "sh", "-c", "echo kept alive"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert completed.returncode == 0
    assert completed.stdout == "kept alive\n"
