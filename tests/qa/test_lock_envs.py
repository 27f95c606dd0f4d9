"""Test environments from poetry.lock with uv agree with Poetry: the same distributions as
``poetry install --sync`` from the same lock, path dependencies editable, stale locks refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliResult, init_repo

from poetflow.lockfile.selection import lock_matches, read_lock
from poetflow.tomlfile import read_toml

Run = Callable[..., CliResult]

PYPI = 'url = "https://pypi.org/simple/"'
SOURCE = f'\n[[tool.poetry.source]]\nname = "pypi-simple"\n{PYPI}\npriority = "primary"\n'

# PEP 621 metadata, a runtime dependency with a marker that holds and one that does not.
LIB = (
    """[project]
name = "lib"
version = "1.0.0"
requires-python = ">=3.10"
dependencies = ["iniconfig>=2", "colorama>=0.4; sys_platform == 'win32'"]

[tool.poetry]
packages = [{ include = "lib", from = "src" }]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""
    + SOURCE
)

# Legacy metadata: a path dependency, a default group, an optional group, an extra.
APP = (
    """[tool.poetry]
name = "app"
version = "0.3.0"
description = "The app."
authors = ["Tests <tests@poetflow.invalid>"]
packages = [{ include = "app", from = "src" }]

[tool.poetry.dependencies]
python = ">=3.10"
lib = { path = "../lib", develop = true }
six = { version = ">=1.16", optional = true }

[tool.poetry.extras]
legacy = ["six"]

[tool.poetry.group.test.dependencies]
pytest = ">=7"

[tool.poetry.group.docs]
optional = true

[tool.poetry.group.docs.dependencies]
markdown = ">=3"

[tool.poetry.scripts]
app-hello = "app:main"

[build-system]
requires = ["poetry-core>=1.0.0"]
build-backend = "poetry.core.masonry.api"
"""
    + SOURCE
)

APP_TEST = """
import pathlib, shutil
import lib, app

def test_path_dependency_is_the_workspace_source():
    assert pathlib.Path(lib.__file__).resolve().is_relative_to(pathlib.Path(app.ROOT))
    assert lib.VALUE == "{value}"

def test_entry_point_is_installed():
    assert shutil.which("app-hello")
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def _workspace(root: Path) -> Path:
    _write(root / "pyproject.toml", '[tool.poetflow]\npackages = ["packages/*"]\n')
    _write(root / "packages/lib/pyproject.toml", LIB)
    _write(root / "packages/lib/src/lib/__init__.py", 'VALUE = "one"\n')
    _write(root / "packages/app/pyproject.toml", APP)
    root_dir = repr(str(root.resolve()))
    _write(
        root / "packages/app/src/app/__init__.py",
        f"ROOT = {root_dir}\n\ndef main():\n    print('hello')\n",
    )
    _write(root / "packages/app/tests/test_app.py", APP_TEST.format(value="one"))
    return root


def _poetry(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return subprocess.run(
        [sys.executable, "-m", "poetry", *args, "--no-interaction"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _distributions(python: Path) -> dict[str, str]:
    listing = subprocess.run(
        [
            str(python),
            "-c",
            "import json, importlib.metadata as m; print(json.dumps({d.metadata['Name'].lower()"
            ".replace('_', '-'): d.version for d in m.distributions()}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, str] = json.loads(listing.stdout)
    return found


@pytest.mark.slow
@pytest.mark.usefixtures("poetry_settings")
def test_uv_env_holds_what_poetry_install_sync_installs(run_cli: Run, tmp_path: Path) -> None:
    root = _workspace(tmp_path / "mono")
    for project in ("lib", "app"):
        locked = _poetry(root / "packages" / project, "lock")
        assert locked.returncode == 0, locked.stdout + locked.stderr
    init_repo(root)
    app = root / "packages" / "app"
    # PoetFlow's freshness test agrees with Poetry's for both metadata styles.
    for project in ("lib", "app"):
        folder = root / "packages" / project
        assert lock_matches(read_lock(folder / "poetry.lock"), read_toml(folder / "pyproject.toml"))

    result = run_cli("test", "-p", "app", "--json", cwd=root)
    assert result.exit_code == 0, result.stdout + result.stderr
    package = json.loads(result.stdout)["packages"][0]
    assert package["install"]["action"] == "installed"
    assert package["install"]["installer"] == "uv"
    ours = _distributions(root / ".poetflow" / "venvs" / "app" / "bin" / "python")

    synced = _poetry(app, "install", "--sync")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    poetrys = _distributions(app / ".venv" / "bin" / "python")
    # Poetry leaves the pip its virtualenv came with; the lock does not pin it.
    poetrys.pop("pip", None)
    assert ours == poetrys
    assert {"app", "lib", "iniconfig", "pytest"} <= set(ours)
    assert not {"colorama", "six", "markdown"} & set(ours)  # marker, extra, optional group

    # Editable: a change to the path dependency is seen without installing anything.
    (root / "packages/lib/src/lib/__init__.py").write_text('VALUE = "two"\n')
    _write(app / "tests/test_app.py", APP_TEST.format(value="two"))
    again = run_cli("test", "-p", "app", "--no-cache", "--json", cwd=root)
    assert again.exit_code == 0, again.stdout
    assert json.loads(again.stdout)["packages"][0]["install"]["action"] == "skipped"

    # An install killed midway leaves no stamp: the next run makes the env again.
    (root / ".poetflow" / "venvs" / "app" / ".poetflow-env.json").unlink()
    redone = run_cli("test", "-p", "app", "--no-cache", "--json", cwd=root)
    assert json.loads(redone.stdout)["packages"][0]["install"]["action"] == "installed"
    assert _distributions(root / ".poetflow" / "venvs" / "app" / "bin" / "python") == ours

    # A pyproject that moved on without its lock: exit 2, the file and the fix named.
    pyproject = app / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('pytest = ">=7"', 'pytest = ">=8"'))
    stale = run_cli("test", "-p", "app", "--no-cache", cwd=root)
    assert stale.exit_code == 2
    assert "packages/app/poetry.lock is out of date with its pyproject.toml" in stale.stderr
    assert "run `poetry lock` in packages/app" in stale.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("poetry_settings")
def test_a_lock_without_groups_and_markers_is_installed_by_poetry(
    run_cli: Run, tmp_path: Path
) -> None:
    root = _workspace(tmp_path / "mono")
    lib = root / "packages" / "lib"
    assert _poetry(lib, "lock").returncode == 0
    lock = lib / "poetry.lock"
    lock.write_text(lock.read_text().replace('lock-version = "2.1"', 'lock-version = "2.0"'))
    init_repo(root)
    result = run_cli("test", "-p", "lib", "--json", cwd=root)
    assert result.exit_code == 0, result.stdout + result.stderr
    package = json.loads(result.stdout)["packages"][0]
    assert package["install"]["installer"] == "poetry"
    assert any("lock-version 2.0" in note for note in package["notes"])


def test_lock_selection_follows_groups_and_per_group_markers(tmp_path: Path) -> None:
    from poetflow.lockfile.selection import install_groups, marker_environment, select_packages

    lock = tmp_path / "poetry.lock"
    lock.write_text(
        textwrap.dedent(
            """
            [[package]]
            name = "Always"
            version = "1.0"
            groups = ["main"]
            files = [{file = "always-1.0.whl", hash = "sha256:aa"}]

            [[package]]
            name = "windows-only"
            version = "1.0"
            groups = ["main"]
            markers = "sys_platform == \\"win32\\""
            files = []

            [[package]]
            name = "docs-tool"
            version = "2.0"
            groups = ["docs"]
            files = []

            [[package]]
            name = "split"
            version = "3.0"
            groups = ["main", "test"]
            markers = {main = "python_version < \\"3.0\\"", test = "python_version >= \\"3.0\\""}
            files = []

            [metadata]
            lock-version = "2.1"
            python-versions = ">=3.10"
            content-hash = "0"
            """
        ),
        encoding="utf-8",
    )
    pyproject = {
        "tool": {
            "poetry": {
                "group": {
                    "test": {"dependencies": {}},
                    "docs": {"optional": True, "dependencies": {}},
                }
            }
        }
    }
    groups = install_groups(pyproject)
    assert groups == {"main", "test"}
    names = [p.name for p in select_packages(read_lock(lock), groups, marker_environment())]
    assert names == ["always", "split"]  # split: needed by test, whose marker holds
    only_main = select_packages(read_lock(lock), {"main"}, marker_environment())
    assert [p.name for p in only_main] == ["always"]
