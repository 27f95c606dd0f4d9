"""`poetflow test` in real Poetry environments (and the shared one), against PyPI."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliResult, init_repo

from poetflow.poetry_cli import PoetryNotFoundError, locate_poetry

Run = Callable[..., CliResult]

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from monorepo_gen import add_package_source, generate_monorepo  # noqa: E402


def _junit_counts(path: Path) -> tuple[int, int, int]:
    root = ET.parse(path).getroot()
    return int(root.get("tests", -1)), int(root.get("failures", -1)), int(root.get("errors", -1))


def _packages(result: CliResult) -> dict[str, dict[str, object]]:
    return {p["name"]: p for p in json.loads(result.stdout)["packages"]}


@pytest.mark.slow
@pytest.mark.usefixtures("poetry_settings")
def test_demo_in_poetry_envs_installs_once_reports_failures_and_stale_locks(
    indexed_demo: Path, run_cli: Run, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"

    plan = run_cli("test", "--dry-run", cwd=indexed_demo)
    assert plan.exit_code == 0
    assert plan.stdout.count("poetry lock + uv install") == 4
    assert not (indexed_demo / "packages" / "core" / "poetry.lock").exists()

    first = run_cli(
        "test", "--all", "--jobs", "2", "--junit-xml", junit, "--json", cwd=indexed_demo
    )
    assert first.exit_code == 0, first.stdout + first.stderr
    packages = _packages(first)
    assert set(packages) == {"acme-core", "acme-http", "acme-storage", "acme-app"}
    for name, package in packages.items():
        install = package["install"]
        assert isinstance(install, dict)
        assert install["action"] == "installed", name
        assert install["locked"] is True
        assert any("poetry.lock was missing" in note for note in package["notes"])  # type: ignore[attr-defined]
        assert install["installer"] == "uv"
    for folder in ("core", "http", "storage", "app"):
        assert (indexed_demo / "packages" / folder / "poetry.lock").is_file()
    for name in packages:
        assert (indexed_demo / ".poetflow" / "venvs" / name / "bin" / "python").is_file()
    assert _junit_counts(junit) == (7, 0, 0)

    # Unchanged: every result comes from the task cache, nothing is prepared or run.
    cached = run_cli("test", "--all", "--json", cwd=indexed_demo)
    assert {p["status"] for p in json.loads(cached.stdout)["packages"]} == {"cached"}
    # Without the cache the environments are reused as they are.
    second = run_cli("test", "--all", "--jobs", "2", "--no-cache", "--json", cwd=indexed_demo)
    assert second.exit_code == 0, second.stderr
    payload = json.loads(second.stdout)
    assert {p["install"]["action"] for p in payload["packages"]} == {"skipped"}
    assert payload["install_seconds"] < 2

    # A planted failure: exit 1, that package's output in full, the rest still reported.
    test_file = indexed_demo / "packages" / "storage" / "tests" / "test_ledger.py"
    test_file.write_text(
        test_file.read_text(encoding="utf-8")
        + "\n\ndef test_planted():\n    assert 'ledger' == 'PLANTED-MISMATCH'\n",
        encoding="utf-8",
    )
    failed = run_cli("test", "--junit-xml", junit, cwd=indexed_demo)
    assert failed.exit_code == 1
    assert "PLANTED-MISMATCH" in failed.stdout
    assert "acme-storage: 'pytest -q' failed in acme-storage" in failed.stderr
    assert "passed (dependency acme-storage failed)" in failed.stdout  # app needs storage
    assert _junit_counts(junit) == (8, 1, 0)

    # A pyproject that moved on without its lock: a clear error, exit 2, no obscure install.
    core = indexed_demo / "packages" / "core" / "pyproject.toml"
    core.write_text(
        core.read_text(encoding="utf-8").replace(
            "dependencies = []", 'dependencies = ["iniconfig>=1"]'
        ),
        encoding="utf-8",
    )
    stale = run_cli("test", "-p", "acme-core", cwd=indexed_demo)
    assert stale.exit_code == 2
    assert "packages/core/poetry.lock is out of date with its pyproject.toml" in stale.stderr
    assert "run `poetry lock` in packages/core" in stale.stderr

    # After `poetry lock` the changed inputs trigger exactly one new install.
    subprocess.run(
        [sys.executable, "-m", "poetry", "lock", "--no-interaction"],
        cwd=core.parent,
        check=True,
        capture_output=True,
    )
    relocked = run_cli("test", "-p", "acme-core", "--json", cwd=indexed_demo)
    assert relocked.exit_code == 0, relocked.stdout
    assert _packages(relocked)["acme-core"]["install"]["action"] == "installed"  # type: ignore[index]


@pytest.mark.slow
@pytest.mark.usefixtures("poetry_settings")
def test_generated_monorepo_runs_in_poetry_envs(run_cli: Run, tmp_path: Path) -> None:
    root = tmp_path / "generated"
    names = generate_monorepo(root, 3)
    add_package_source(root)
    init_repo(root)
    junit = tmp_path / "junit.xml"
    result = run_cli("test", "--jobs", "2", "--junit-xml", junit, cwd=root)
    assert result.exit_code == 0, result.stdout + result.stderr
    for name in names:
        assert name in result.stdout
    assert _junit_counts(junit) == (3, 0, 0)


@pytest.mark.slow
@pytest.mark.usefixtures("poetry_settings")
def test_shared_env_holds_every_member_editable_and_is_reused(
    demo_repo: Path, run_cli: Run
) -> None:
    first = run_cli("test", "--env", "shared", "--jobs", "2", "--json", cwd=demo_repo)
    assert first.exit_code == 0, first.stdout + first.stderr
    actions = [p["install"]["action"] for p in json.loads(first.stdout)["packages"]]
    assert sorted(actions) == ["installed", "skipped", "skipped", "skipped"]
    venv = demo_repo / ".poetflow" / "venvs" / "_shared"
    assert (venv / "bin" / "pytest").is_file()
    # Editable: a change in core's source is seen by app's tests without reinstalling.
    init = demo_repo / "packages" / "core" / "src" / "acme_core" / "__init__.py"
    init.write_text(
        init.read_text(encoding="utf-8") + "\nraise RuntimeError('EDITED')\n", encoding="utf-8"
    )
    second = run_cli("test", "--env", "shared", "--no-cache", "--json", cwd=demo_repo)
    assert second.exit_code == 1
    packages = json.loads(second.stdout)["packages"]
    assert {p["install"]["action"] for p in packages} == {"skipped"}
    assert all(p["status"] == "failed" for p in packages)
    assert "EDITED" in packages[0]["commands"][0]["output"]


def _fake_program(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / name
    program.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program


def test_missing_poetry_is_a_clear_exit_2_error(tmp_path: Path) -> None:
    python = _fake_program(tmp_path / "bin", "python", "echo 'No module named poetry'; exit 1")
    with pytest.raises(PoetryNotFoundError) as caught:
        locate_poetry(path=str(tmp_path / "empty"), python=str(python))
    assert caught.value.exit_code == 2
    assert "Poetry was not found" in str(caught.value)
    assert "pipx install poetry" in str(caught.value)


def test_too_old_poetry_stops_poetflow_test_with_exit_2(
    indexed_demo: Path, run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "old-poetry"
    _fake_program(fake, "poetry", "echo 'Poetry (version 1.8.3)'")
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    result = run_cli("test", "-p", "acme-core", cwd=indexed_demo)
    assert result.exit_code == 2
    assert "Poetry 1.8.3" in result.stderr
    assert "too old" in result.stderr
    assert "Traceback" not in result.stderr


def _conflicting_pair(root: Path) -> Path:
    """Two packages whose test groups ask for pytest 7 and pytest 8."""
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.poetflow]\npackages = ["packages/*"]\n\n[tool.poetflow.test]\nenv = "shared"\n'
    )
    for name, pytest_range in (("old-tests", "^7.4"), ("new-tests", "^8.3")):
        folder = root / "packages" / name
        module = folder / "src" / name.replace("-", "_")
        module.mkdir(parents=True)
        (module / "__init__.py").write_text("")
        (folder / "tests").mkdir()
        (folder / "tests" / "test_it.py").write_text("def test_it():\n    assert True\n")
        (folder / "pyproject.toml").write_text(
            f'[tool.poetry]\nname = "{name}"\nversion = "0.1.0"\ndescription = ""\n'
            f'authors = []\npackages = [{{ include = "{module.name}", from = "src" }}]\n\n'
            '[tool.poetry.dependencies]\npython = ">=3.10"\n\n'
            f'[tool.poetry.group.test.dependencies]\npytest = "{pytest_range}"\n\n'
            '[build-system]\nrequires = ["poetry-core>=1.0.0"]\n'
            'build-backend = "poetry.core.masonry.api"\n'
        )
    return init_repo(root)


def test_shared_env_names_the_packages_whose_requirements_conflict(
    run_cli: Run, tmp_path: Path
) -> None:
    root = _conflicting_pair(tmp_path / "conflict")
    result = run_cli("test", "--json", cwd=root)
    assert result.exit_code == 2
    packages = _packages(result)
    error = str(packages["old-tests"]["error"])
    assert "old-tests (group test) requires pytest (>=7.4,<8.0)" in error
    assert "new-tests (group test) requires pytest (>=8.3,<9.0)" in error
    # Nothing was installed, and no table says it was.
    assert {p["install"]["action"] for p in packages.values()} == {"none"}  # type: ignore[index]
    table = run_cli("test", cwd=root)
    assert "installed" not in table.stdout
    assert "cannot hold these packages together" in table.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("poetry_settings")
def test_shared_env_holds_only_the_selected_packages_and_their_needs(
    run_cli: Run, tmp_path: Path
) -> None:
    root = _conflicting_pair(tmp_path / "conflict")
    result = run_cli("test", "-p", "new-tests", "--json", cwd=root)
    assert result.exit_code == 0, result.stdout + result.stderr
    venv = root / ".poetflow" / "venvs" / "_shared"
    listing = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import pytest, sys; print(pytest.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert listing.stdout.startswith("8.")
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import old_tests"], check=False, capture_output=True
    )
    assert probe.returncode != 0  # the package that was not selected is not in the env
