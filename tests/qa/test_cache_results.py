"""`poetflow test` with the local task cache: unchanged packages are `cached`, not run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliResult

Run = Callable[..., CliResult]

PASSING = """
def test_one():
    assert 1 + 1 == 2

def test_two():
    assert "a".upper() == "A"
"""
# Writes a marker each time it really runs, so a test can tell a run from a replay.
COUNTING = """
import os, pathlib

def test_counted():
    marker = pathlib.Path(os.environ["RUNS_LOG"])
    with marker.open("a") as handle:
        handle.write(os.path.basename(os.getcwd()) + "\\n")
"""
FAILING = """
def test_planted():
    assert 2 + 2 == 5, "PLANTED-FAILURE"
"""


def _statuses(result: CliResult) -> dict[str, str]:
    return {p["name"]: p["status"] for p in json.loads(result.stdout)["packages"]}


def _runs(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").split() if log.exists() else []


@pytest.fixture
def runs_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "runs.log"
    monkeypatch.setenv("RUNS_LOG", str(log))
    return log


def test_unchanged_packages_are_cached_with_their_junit_replayed(
    make_workspace: Callable[..., Path], run_cli: Run, tmp_path: Path, runs_log: Path
) -> None:
    root = make_workspace(
        {"alpha": ([], PASSING + COUNTING, None), "beta": (["alpha"], COUNTING, None)}
    )
    first_xml, second_xml = tmp_path / "first.xml", tmp_path / "second.xml"
    first = run_cli("test", "--junit-xml", first_xml, cwd=root)
    assert first.exit_code == 0, first.stderr
    assert sorted(_runs(runs_log)) == ["alpha", "beta"]

    second = run_cli("test", "--junit-xml", second_xml, "--json", cwd=root)
    assert second.exit_code == 0, second.stderr
    assert _statuses(second) == {"alpha": "cached", "beta": "cached"}
    assert sorted(_runs(runs_log)) == ["alpha", "beta"]  # nothing ran again
    payload = json.loads(second.stdout)
    assert payload["status"] == "passed"
    assert payload["cached"] == 2
    alpha = next(p for p in payload["packages"] if p["name"] == "alpha")
    assert alpha["cache"]["origin"] == "local"
    assert alpha["tests"]["tests"] == 3
    assert alpha["install"]["action"] == "none"
    # The replayed JUnit report holds the same test cases as the real run's.
    cases = [
        {(c.get("classname"), c.get("name")) for c in ET.parse(path).getroot().iter("testcase")}
        for path in (first_xml, second_xml)
    ]
    assert cases[0] == cases[1]
    assert len(cases[1]) == 4
    # The run report and the table say so too.
    report = json.loads((root / ".poetflow" / "poetflow-report.json").read_text())
    stages = {p["name"]: p["stages"][0]["status"] for p in report["packages"]}
    assert stages == {"alpha": "cached", "beta": "cached"}
    table = run_cli("test", cwd=root)
    assert "cached (local)" in table.stdout
    assert "2 cached" in table.stdout


def test_a_change_reruns_the_package_and_its_dependents_only(
    make_workspace: Callable[..., Path], run_cli: Run, runs_log: Path
) -> None:
    root = make_workspace(
        {
            "base": ([], COUNTING, None),
            "user": (["base"], COUNTING, None),
            "alone": ([], COUNTING, None),
        }
    )
    assert run_cli("test", cwd=root).exit_code == 0
    runs_log.unlink()
    module = root / "packages" / "base" / "src" / "base" / "__init__.py"
    module.write_text(module.read_text() + "EXTRA = 1\n", encoding="utf-8")
    result = run_cli("test", "--json", cwd=root)
    assert _statuses(result) == {"base": "passed", "user": "passed", "alone": "cached"}
    assert sorted(_runs(runs_log)) == ["base", "user"]

    runs_log.unlink()
    test_file = root / "packages" / "user" / "tests" / "test_user.py"
    test_file.write_text(test_file.read_text() + "\n# edited\n", encoding="utf-8")
    result = run_cli("test", "--json", cwd=root)
    assert _statuses(result) == {"base": "cached", "user": "passed", "alone": "cached"}
    assert _runs(runs_log) == ["user"]


def test_failures_are_never_cached(make_workspace: Callable[..., Path], run_cli: Run) -> None:
    root = make_workspace({"good": ([], PASSING, None), "bad": ([], FAILING, None)})
    for _ in range(2):
        result = run_cli("test", cwd=root)
        assert result.exit_code == 1
        assert "PLANTED-FAILURE" in result.stdout
    assert _statuses(run_cli("test", "--json", cwd=root)) == {"good": "cached", "bad": "failed"}


def test_commands_variables_and_no_cache_decide_what_runs(
    make_workspace: Callable[..., Path],
    run_cli: Run,
    runs_log: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = make_workspace({"pkg": ([], COUNTING, None)}, root_test={"commands": ["pytest -q"]})
    assert run_cli("test", cwd=root).exit_code == 0
    assert _statuses(run_cli("test", "--json", cwd=root)) == {"pkg": "cached"}
    assert _statuses(run_cli("test", "--no-cache", "--json", cwd=root)) == {"pkg": "passed"}
    monkeypatch.setenv("POETFLOW_NO_CACHE", "1")
    assert _statuses(run_cli("test", "--json", cwd=root)) == {"pkg": "passed"}
    monkeypatch.delenv("POETFLOW_NO_CACHE")

    # Another command line is another task.
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('commands = ["pytest -q"]', 'commands = ["pytest"]')
    )
    assert _statuses(run_cli("test", "--json", cwd=root)) == {"pkg": "passed"}
    assert _statuses(run_cli("test", "--json", cwd=root)) == {"pkg": "cached"}

    # Variables named in [tool.poetflow.cache] env are inputs; others are not.
    pyproject.write_text(pyproject.read_text() + '\n[tool.poetflow.cache]\nenv = ["FLAVOUR"]\n')
    monkeypatch.setenv("FLAVOUR", "vanilla")
    monkeypatch.setenv("UNRELATED", "1")
    assert _statuses(run_cli("test", "--json", cwd=root)) == {"pkg": "passed"}
    monkeypatch.setenv("UNRELATED", "2")
    assert _statuses(run_cli("test", "--json", cwd=root)) == {"pkg": "cached"}
    monkeypatch.setenv("FLAVOUR", "chocolate")
    assert _statuses(run_cli("test", "--json", cwd=root)) == {"pkg": "passed"}

    # enabled = false turns the cache off for everyone.
    pyproject.write_text(pyproject.read_text().replace('env = ["FLAVOUR"]', "enabled = false"))
    before = len(_runs(runs_log))
    assert _statuses(run_cli("test", "--json", cwd=root)) == {"pkg": "passed"}
    assert len(_runs(runs_log)) == before + 1


def test_the_local_store_stays_within_its_bound(
    make_workspace: Callable[..., Path], run_cli: Run
) -> None:
    root = make_workspace({"one": ([], PASSING, None), "two": ([], PASSING, None)})
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.poetflow.cache]\nmax-size-mb = 0.002\n")
    assert run_cli("test", cwd=root).exit_code == 0
    store = root / ".poetflow" / "cache"
    size = sum(
        p.stat().st_size for kind in ("ac", "cas") for p in (store / kind).rglob("*") if p.is_file()
    )
    assert size <= 0.002 * 1024 * 1024


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('url = "ftp://cache"', "tool.poetflow.cache.url must be an http:// or https:// URL"),
        ("max-size-mb = -1", "tool.poetflow.cache.max-size-mb must be a positive number"),
        ("enable = false", "unknown key 'enable'"),
    ],
)
def test_bad_cache_config_exits_2_naming_the_key(
    make_workspace: Callable[..., Path], run_cli: Run, table: str, expected: str
) -> None:
    root = make_workspace({"pkg": ([], PASSING, None)})
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f"\n[tool.poetflow.cache]\n{table}\n")
    result = run_cli("test", cwd=root)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert not (root / ".poetflow").exists()


def test_shared_paths_are_inputs_of_every_package(
    make_workspace: Callable[..., Path], run_cli: Run
) -> None:
    root = make_workspace({"one": ([], PASSING, None), "two": ([], PASSING, None)})
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'packages = ["packages/*"]', 'packages = ["packages/*"]\nshared-paths = ["common"]'
        )
    )
    (root / "common").mkdir()
    (root / "common" / "settings.cfg").write_text("level = 1\n")
    assert run_cli("test", cwd=root).exit_code == 0
    assert set(_statuses(run_cli("test", "--json", cwd=root)).values()) == {"cached"}
    (root / "common" / "settings.cfg").write_text("level = 2\n")
    assert set(_statuses(run_cli("test", "--json", cwd=root)).values()) == {"passed"}
