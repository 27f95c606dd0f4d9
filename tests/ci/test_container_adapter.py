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
        "INPUT_REPORT-DIR": ".poetflow",  # GitHub passes defaults; discover has no such option
    }
    os.chdir(demo_repo)  # GitHub starts docker actions in the workspace
    assert run_container([], env) == 0
    captured = capsys.readouterr()
    assert "acme-core" in captured.out
    assert "does not apply" not in captured.err
    # discover does no work on packages and writes no report: the hand-over says so.
    outputs = parse_github_output(github_env["output"])
    assert outputs["released"] == "false"
    assert json.loads(outputs["packages"]) == []
    assert outputs["report"] == ""
    assert not (demo_repo / ".poetflow" / "poetflow-report.json").exists()
    summary = github_env["summary"].read_text()
    assert "PoetFlow `poetflow --log-level info discover --package acme-core`" in summary
    assert "writes no run report of its own" in summary


def test_every_command_takes_the_report_dir_input_github_always_passes(
    demo_repo: Path, github_env: dict[str, Path]
) -> None:
    # action.yml's report-dir default reaches every command; graph has no such option (and
    # writes no report of its own), so the input must not break it.
    env = {
        **os.environ,
        "GITHUB_WORKSPACE": str(demo_repo),
        "INPUT_COMMAND": "graph",
        "INPUT_REPORT-DIR": "ci-reports",
    }
    os.chdir(demo_repo)
    assert run_container([], env) == 0
    outputs = parse_github_output(github_env["output"])
    assert outputs["report"] == ""
    assert not (demo_repo / "ci-reports").exists()


def test_bad_usage_exits_2_with_an_annotation(
    demo_repo: Path, github_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**os.environ, "GITHUB_WORKSPACE": str(demo_repo), "INPUT_PACKAGES": "nope"}
    os.chdir(demo_repo)
    assert run_container(["build", "--package", "no-such-package"], env) == 2
    captured = capsys.readouterr()
    assert "::error title=PoetFlow::No package named 'no-such-package'" in captured.err
    assert "::error" not in captured.out
    outputs = parse_github_output(github_env["output"])
    assert outputs["report"] == ""
    assert json.loads(outputs["packages"]) == []
    summary = github_env["summary"].read_text()
    assert "exit code 2" in summary
    assert "It stopped before it had a report: No package named 'no-such-package'" in summary


def test_a_broken_pyproject_is_annotated_on_that_file(
    demo_repo: Path, github_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (demo_repo / "packages" / "core" / "pyproject.toml").write_text("[tool.poetry\n")
    env = {**os.environ, "GITHUB_WORKSPACE": str(demo_repo), "INPUT_COMMAND": "discover"}
    os.chdir(demo_repo)
    assert run_container([], env) == 2
    err = capsys.readouterr().err
    assert "::error file=packages/core/pyproject.toml,title=PoetFlow::" in err


def test_an_unknown_option_is_one_annotation_too(
    demo_repo: Path, github_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**os.environ, "GITHUB_WORKSPACE": str(demo_repo)}
    os.chdir(demo_repo)
    assert run_container(["graph", "--no-such-option"], env) == 2
    err = capsys.readouterr().err
    assert "::error title=PoetFlow::No such option '--no-such-option'" in err


def test_invalid_boolean_input_exits_2_before_running(
    github_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**os.environ, "INPUT_COMMAND": "discover", "INPUT_DRY-RUN": "yes"}
    assert run_container([], env) == 2
    captured = capsys.readouterr()
    assert "Action input 'dry-run' must be true or false, not 'yes'" in captured.err
    assert "::error title=PoetFlow::Action input 'dry-run' must be" in captured.err
    assert captured.out == ""
    outputs = parse_github_output(github_env["output"])
    assert outputs["released"] == "false"
    assert "poetflow-action" in github_env["summary"].read_text()


def test_an_input_the_command_lacks_is_left_out_with_a_warning(
    demo_repo: Path, github_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**os.environ, "INPUT_COMMAND": "graph", "INPUT_REPOSITORY": "internal"}
    os.chdir(demo_repo)
    assert run_container([], env) == 0
    err = capsys.readouterr().err
    assert "warning: Action input 'repository' does not apply to `poetflow graph`" in err


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
    lines = capsys.readouterr().err.splitlines()
    assert "::add-mask::pypi-direct-0123456789" in lines[:2]
    assert "::add-mask::pypi-from-a-file-0123456789" in lines[:2]


def test_gitlab_gets_a_dotenv_report(demo_repo: Path) -> None:
    env = {**os.environ, "GITLAB_CI": "true", "POETFLOW_COMMAND": "discover"}
    os.chdir(demo_repo)
    assert run_container([], env) == 0
    dotenv = (demo_repo / ".poetflow" / "poetflow.env").read_text().splitlines()
    assert "POETFLOW_RELEASED=false" in dotenv
    assert "POETFLOW_REPORT_FILE=" in dotenv  # discover writes no report


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
