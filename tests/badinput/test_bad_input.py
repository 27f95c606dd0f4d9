"""Bad input is refused before anything happens: every case of the table (tests/badinput/
cases.py) x every command that reads it exits 2 with one error line naming the file and
the key or the package, shows no traceback, and leaves the repository exactly as it was
(``git status --porcelain --ignored`` and every file's size and time, ``.git`` included).

The ids count: ``w07-tag-format-unknown-field|build --dry-run`` is the 7th workspace case
run by ``build --dry-run``. In-process (``run_cli``), except the unreadable files, which
need a process without root's permission override.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.badinput.cases import CASES, CLI_CASES, GIT_CASES, UNREADABLE_CASES, Case
from tests.conftest import (
    FIXTURE_WORKSPACES,
    REPO_ROOT,
    CliResult,
    copy_tree,
    git,
    init_repo,
    tree_state,
)

Scenario = Callable[[Case], Path]


def _params(prefix: str, cases: tuple[Case, ...]) -> list[object]:
    return [
        pytest.param(case, command, id=f"{prefix}{number:02d}-{case.name}|{command}")
        for number, case in enumerate(cases, start=1)
        for command in case.commands
    ]


def assert_refused(result: CliResult, case: Case, command: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    shown = f"`poetflow {command}` on {case.name}:\n{result.stderr}{result.stdout}"
    assert result.exit_code == 2, shown
    assert "Traceback" not in result.stderr, shown
    assert "unexpectedly" not in result.stderr, shown
    assert len(lines) == 1, shown
    assert lines[0].startswith("error: "), shown
    for piece in case.expect:
        assert piece in lines[0], f"{piece!r} missing: {shown}"
    assert result.stdout == "", shown


def test_every_case_has_its_own_name() -> None:
    # The scenarios are made once per name: two cases sharing one would share a repository.
    names = [case.name for case in (*CASES, *CLI_CASES, *GIT_CASES)]
    names += [case.name for case, _locked in UNREADABLE_CASES]
    assert len(names) == len(set(names))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """Each case's repository, made once: the commands must not change it, and each test
    checks that they did not."""
    made: dict[str, Path] = {}

    def make(case: Case) -> Path:
        if case.name not in made:
            root = copy_tree(FIXTURE_WORKSPACES / "chain", tmp_path_factory.mktemp(case.name) / "w")
            case.mutate(root)
            if case.name == "no-commits":
                git(root, "init", "-q", "-b", "main")
            else:
                init_repo(root)
            if case.name == "orphan-branch":
                git(root, "checkout", "-q", "--orphan", "fresh")
            made[case.name] = root
        return made[case.name]

    return make


def _refused_in_process(
    case: Case,
    command: str,
    scenario: Scenario,
    run_cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = scenario(case)
    # Credentials are there: a refusal must come from the bad input, not from them.
    monkeypatch.setenv("POETFLOW_TOKEN", "pypi-not-a-real-token")
    home = Path(os.environ["HOME"])
    before, home_before = tree_state(root), sorted(home.rglob("*"))
    result = run_cli(*shlex.split(command), cwd=root)
    assert_refused(result, case, command)
    assert tree_state(root) == before, f"`poetflow {command}` changed the repository"
    assert sorted(home.rglob("*")) == home_before, f"`poetflow {command}` wrote to HOME"


@pytest.mark.parametrize(("case", "command"), _params("w", CASES))
def test_bad_workspace_input_is_refused(
    case: Case,
    command: str,
    scenario: Scenario,
    run_cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _refused_in_process(case, command, scenario, run_cli, monkeypatch)


@pytest.mark.parametrize(("case", "command"), _params("c", CLI_CASES))
def test_bad_command_line_input_is_refused(
    case: Case,
    command: str,
    scenario: Scenario,
    run_cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _refused_in_process(case, command, scenario, run_cli, monkeypatch)


@pytest.mark.parametrize(("case", "command"), _params("g", GIT_CASES))
def test_a_repository_without_history_is_a_git_error(
    case: Case,
    command: str,
    scenario: Scenario,
    run_cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _refused_in_process(case, command, scenario, run_cli, monkeypatch)


def _without_root_override() -> list[str]:
    """A command prefix under which even root obeys file permissions."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        reason = "running as root without setpriv: permissions cannot be enforced"
        if os.environ.get("CI") == "true":  # scripts/test.sh installs it (util-linux)
            pytest.fail(f"{reason}; CI must run the unreadable-path cases", pytrace=False)
        pytest.skip(reason)
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


@pytest.mark.parametrize(
    ("case", "command", "locked"),
    [
        pytest.param(case, command, locked, id=f"u{number:02d}-{case.name}|{command}")
        for number, (case, locked) in enumerate(UNREADABLE_CASES, start=1)
        for command in case.commands
    ],
)
def test_unreadable_folders_and_files_are_named(
    case: Case, command: str, locked: str, scenario: Scenario
) -> None:
    root = scenario(case)
    target = root / locked
    mode = target.stat().st_mode
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POETFLOW_", "GITHUB_", "GITLAB_"))
    }
    env.update(POETFLOW_TOKEN="pypi-not-a-real-token", PYTHONPATH=str(REPO_ROOT / "src"))
    target.chmod(0)
    try:
        before = tree_state(root)
        completed = subprocess.run(
            [*_without_root_override(), sys.executable, "-m", "poetflow", *shlex.split(command)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        after = tree_state(root)
    finally:
        target.chmod(mode)
    assert_refused(
        CliResult(completed.returncode, completed.stdout, completed.stderr), case, command
    )
    assert after == before
