"""`poetflow test` behaviour in the current interpreter: results, output, order, JUnit."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliResult, git

from poetflow.qa.engine import TestEvent, TestOptions, run_tests
from poetflow.workspace import load_workspace

Run = Callable[..., CliResult]

PASSING = """
def test_one():
    assert 1 + 1 == 2

def test_two():
    assert "a".upper() == "A"
"""

FAILING = """
def test_ok():
    assert True

def test_planted_failure():
    assert 2 + 2 == 5, "PLANTED-FAILURE"
"""

IMPORTS_OWN = """
import {module}

def test_name():
    assert {module}.NAME == "{name}"
"""


def _suite_counts(path: Path) -> dict[str, int]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    return {key: int(root.get(key, "-1")) for key in ("tests", "failures", "errors", "skipped")}


def test_all_packages_pass_with_summary_and_junit(
    make_workspace: Callable[..., Path], run_cli: Run, tmp_path: Path
) -> None:
    root = make_workspace(
        {
            "alpha": ([], PASSING, None),
            "beta": (["alpha"], IMPORTS_OWN.format(module="beta", name="beta"), None),
        }
    )
    junit = tmp_path / "reports" / "junit.xml"
    result = run_cli("test", "--junit-xml", junit, cwd=root)
    assert result.exit_code == 0, result.stderr
    assert "alpha" in result.stdout
    assert "beta" in result.stdout
    assert "passed" in result.stdout
    # Output of passing packages is not shown without -v.
    assert "test_one" not in result.stdout
    assert _suite_counts(junit) == {"tests": 3, "failures": 0, "errors": 0, "skipped": 0}
    names = {case.get("name") for case in ET.parse(junit).getroot().iter("testcase")}
    assert names == {"test_one", "test_two", "test_name"}


def test_planted_failure_exits_1_and_shows_that_packages_output(
    make_workspace: Callable[..., Path], run_cli: Run, tmp_path: Path
) -> None:
    root = make_workspace(
        {"good": ([], PASSING, None), "bad": ([], FAILING, None), "other": ([], PASSING, None)}
    )
    junit = tmp_path / "junit.xml"
    result = run_cli("test", "--all", "--junit-xml", junit, cwd=root)
    assert result.exit_code == 1
    assert "PLANTED-FAILURE" in result.stdout
    assert "bad: 'pytest' failed in bad" in result.stderr
    # Every package ran (keep going is the default) and passing output stays hidden.
    assert "1 passed" not in result.stdout.split("== bad")[0]
    counts = _suite_counts(junit)
    assert counts == {"tests": 6, "failures": 1, "errors": 0, "skipped": 0}
    failure = next(ET.parse(junit).getroot().iter("failure"))
    assert "PLANTED-FAILURE" in (failure.text or "") + (failure.get("message") or "")


def test_verbose_shows_every_packages_output_in_one_block_each(
    make_workspace: Callable[..., Path], run_cli: Run
) -> None:
    sleepy = "import time\n\ndef test_slow():\n    time.sleep(0.5)\n    print('OUT-{0}')\n"
    root = make_workspace(
        {
            "one": ([], sleepy.format("one"), None),
            "two": ([], sleepy.format("two"), None),
        },
        root_test={"commands": ["pytest -s -q"]},
    )
    result = run_cli("test", "-v", "--jobs", "2", cwd=root)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    blocks = [i for i, line in enumerate(lines) if line.startswith("== ")]
    assert len(blocks) == 2
    # Each block holds its own package's output: never interleaved.
    first, second = blocks
    first_name = lines[first].split()[1].rstrip(":")
    assert any(f"OUT-{first_name}" in line for line in lines[first:second])
    assert not any(f"OUT-{first_name}" in line for line in lines[second:])


def test_command_not_found_exits_2_naming_command_and_package(
    make_workspace: Callable[..., Path], run_cli: Run
) -> None:
    root = make_workspace(
        {
            "fine": ([], PASSING, None),
            "typo": ([], PASSING, {"commands": ["pytest -q", "definitely-not-a-linter ."]}),
        }
    )
    junit = root / "junit.xml"
    result = run_cli("test", "--junit-xml", junit, cwd=root)
    assert result.exit_code == 2
    assert "'definitely-not-a-linter'" in result.stderr
    assert "environment of typo" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    # Both packages' pytest cases, plus the missing command as an error case.
    assert _suite_counts(junit) == {"tests": 5, "failures": 0, "errors": 1, "skipped": 0}


def test_package_overrides_root_commands_and_non_pytest_commands_are_testcases(
    make_workspace: Callable[..., Path], run_cli: Run, tmp_path: Path
) -> None:
    lint_fails = "python -c \"import sys; print('LINT-PROBLEM'); sys.exit(3)\""
    root = make_workspace(
        {
            "plain": ([], PASSING, None),
            "linted": ([], PASSING, {"commands": ["pytest -q", "python -c pass", lint_fails]}),
        }
    )
    junit = tmp_path / "junit.xml"
    result = run_cli("test", "--junit-xml", junit, "--json", cwd=root)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    linted = next(p for p in payload["packages"] if p["name"] == "linted")
    assert [c["command"] for c in linted["commands"]] == [
        "pytest -q",
        "python -c pass",
        "python -c 'import sys; print('\"'\"'LINT-PROBLEM'\"'\"'); sys.exit(3)'",
    ]
    assert [c["status"] for c in linted["commands"]] == ["passed", "passed", "failed"]
    assert linted["commands"][2]["returncode"] == 3
    plain = next(p for p in payload["packages"] if p["name"] == "plain")
    assert [c["command"] for c in plain["commands"]] == ["pytest"]
    # 2 + 2 pytest cases, plus one case for each non-pytest command of "linted".
    counts = _suite_counts(junit)
    assert counts == {"tests": 6, "failures": 1, "errors": 0, "skipped": 0}
    failure = next(ET.parse(junit).getroot().iter("failure"))
    assert "LINT-PROBLEM" in (failure.text or "")


def test_fail_fast_starts_nothing_after_a_failure(
    make_workspace: Callable[..., Path], run_cli: Run
) -> None:
    root = make_workspace(
        {"a-bad": ([], FAILING, None), "b-next": ([], PASSING, None), "c-last": ([], PASSING, None)}
    )
    result = run_cli("test", "--fail-fast", "--jobs", "1", "--json", cwd=root)
    assert result.exit_code == 1
    statuses = {p["name"]: p["status"] for p in json.loads(result.stdout)["packages"]}
    assert statuses == {"a-bad": "failed", "b-next": "skipped", "c-last": "skipped"}


def test_dependent_of_a_failed_package_runs_and_says_so(
    make_workspace: Callable[..., Path], run_cli: Run
) -> None:
    root = make_workspace(
        {
            "base": ([], FAILING, None),
            "mid": (["base"], PASSING, None),
            "top": (["mid"], PASSING, None),
        }
    )
    result = run_cli("test", cwd=root)
    assert result.exit_code == 1
    assert "passed (dependency base failed)" in result.stdout
    as_json = run_cli("test", "--json", cwd=root)
    packages = {p["name"]: p for p in json.loads(as_json.stdout)["packages"]}
    # Unchanged since it passed: replayed from the cache, its failed dependency still named.
    assert packages["top"]["status"] == "cached"
    assert packages["top"]["failed_dependencies"] == ["base"]  # transitively, via mid
    assert packages["base"]["failed_dependencies"] == []


def test_packages_start_in_dependency_order_and_run_side_by_side(
    make_workspace: Callable[..., Path],
) -> None:
    slow = "import time\n\ndef test_slow():\n    time.sleep(0.3)\n"
    root = make_workspace(
        {
            "app": (["left", "right"], slow, None),
            "core": ([], slow, None),
            "left": (["core"], slow, None),
            "right": (["core"], slow, None),
        }
    )
    workspace = load_workspace(root)
    events: list[tuple[str, str]] = []

    def record(event: TestEvent) -> None:
        events.append((event.kind, event.package))

    serial = run_tests(workspace, workspace.packages, TestOptions(jobs=1), record)
    assert serial.exit_code == 0
    starts = [name for kind, name in events if kind == "started"]
    assert starts == ["core", "left", "right", "app"]
    assert [package.name for package in serial.packages] == starts

    events.clear()
    parallel = run_tests(workspace, workspace.packages, TestOptions(jobs=2), record)
    assert parallel.exit_code == 0
    # Tests are independent: the second job starts before the first finishes (timing
    # ratios are left to benchmarks/bench_test.py: this machine's CPUs are shared).
    assert events[:2] == [("started", "core"), ("started", "left")]
    assert sum(1 for kind, _ in events if kind == "started") == 4


def test_timeout_fails_the_command_and_says_so(
    make_workspace: Callable[..., Path], run_cli: Run
) -> None:
    root = make_workspace(
        {"hangs": ([], "", {"commands": ["python -c 'import time; time.sleep(30)'"], "timeout": 1})}
    )
    started = time.monotonic()
    result = run_cli("test", cwd=root)
    assert time.monotonic() - started < 20
    assert result.exit_code == 1
    assert "timed out after 1 s" in result.stdout


def test_package_without_tests_passes(make_workspace: Callable[..., Path], run_cli: Run) -> None:
    root = make_workspace({"empty": ([], "", None)})
    result = run_cli("test", cwd=root)
    assert result.exit_code == 0, result.stdout


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"commands": 5}, "tool.poetflow.test.commands must be a list"),
        ({"env": "conda"}, "tool.poetflow.test.env is 'conda'"),
        ({"timeout": -1}, "tool.poetflow.test.timeout must be a positive number"),
        ({"comands": ["pytest"]}, "unknown key 'comands'"),
    ],
)
def test_bad_test_config_exits_2_naming_the_file(
    make_workspace: Callable[..., Path], run_cli: Run, table: dict[str, object], expected: str
) -> None:
    root = make_workspace({"pkg": ([], PASSING, table)})
    result = run_cli("test", cwd=root)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "packages/pkg/pyproject.toml" in result.stderr


def test_selection_by_package_and_unknown_env(
    make_workspace: Callable[..., Path], run_cli: Run
) -> None:
    root = make_workspace({"one": ([], PASSING, None), "two": ([], FAILING, None)})
    result = run_cli("test", "-p", "one", "--json", cwd=root)
    assert result.exit_code == 0
    assert [p["name"] for p in json.loads(result.stdout)["packages"]] == ["one"]
    bad = run_cli("test", "--env", "docker", cwd=root)
    assert bad.exit_code == 2
    assert "docker" in bad.stderr


def test_dry_run_shows_the_plan_and_runs_nothing(
    make_workspace: Callable[..., Path], run_cli: Run
) -> None:
    root = make_workspace(
        {
            "top": (["base"], FAILING, {"commands": ["pytest -q", "ruff check ."]}),
            "base": ([], FAILING, None),
        }
    )
    result = run_cli("test", "--dry-run", "--json", cwd=root)
    assert result.exit_code == 0  # the failing tests did not run
    planned = json.loads(result.stdout)["packages"]
    assert [p["name"] for p in planned] == ["base", "top"]
    assert planned[1]["commands"] == ["pytest -q", "ruff check ."]
    assert planned[0]["env"] == "current"
    assert not (root / ".poetflow").exists()


def test_since_tests_changed_packages_and_their_dependents(
    make_workspace: Callable[..., Path], run_cli: Run
) -> None:
    root = make_workspace(
        {
            "base": ([], PASSING, None),
            "user": (["base"], PASSING, None),
            "alone": ([], PASSING, None),
        }
    )
    before = git(root, "rev-parse", "HEAD")
    (root / "packages" / "base" / "src" / "base" / "extra.py").write_text("X = 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feat: extra")
    result = run_cli("test", "--since", before, "--json", cwd=root)
    assert result.exit_code == 0, result.stderr
    assert [p["name"] for p in json.loads(result.stdout)["packages"]] == ["base", "user"]
