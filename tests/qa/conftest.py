"""Fixtures for `poetflow test`: small workspaces and one warm Poetry cache per session."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from monorepo_gen import add_package_source  # noqa: E402
from tests.conftest import init_repo  # noqa: E402

PYPI_SIMPLE = "https://pypi.org/simple/"


@pytest.fixture(scope="session")
def poetry_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Poetry cache for the whole session: the first install downloads, later ones
    copy from it."""
    return tmp_path_factory.mktemp("poetry-cache")


@pytest.fixture
def poetry_settings(poetry_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Poetry with its cache and virtualenvs under tmp and the public index (no pip.conf)."""
    monkeypatch.setenv("POETRY_CACHE_DIR", str(poetry_cache))
    monkeypatch.setenv("POETRY_VIRTUALENVS_IN_PROJECT", "true")
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    return poetry_cache


@pytest.fixture
def indexed_demo(demo_repo: Path) -> Path:
    """The demo monorepo with PyPI's simple index as each package's Poetry source: this
    machine reaches PyPI's simple API only, which `poetry lock` then uses."""
    add_package_source(demo_repo, PYPI_SIMPLE)
    return demo_repo


def _package_toml(name: str, deps: list[str], test: Mapping[str, object] | None) -> str:
    module = name.replace("-", "_")
    paths = "".join(f'{dep} = {{ path = "../{dep}", develop = true }}\n' for dep in deps)
    text = f"""[tool.poetry]
name = "{name}"
version = "0.1.0"
description = "Test package {name}."
authors = ["Tests <tests@poetflow.invalid>"]
packages = [{{ include = "{module}", from = "src" }}]

[tool.poetry.dependencies]
python = ">=3.10"
{paths}
[build-system]
requires = ["poetry-core>=1.0.0"]
build-backend = "poetry.core.masonry.api"
"""
    if test:
        text += "\n[tool.poetflow.test]\n" + "".join(
            f"{key} = {_toml_value(value)}\n" for key, value in test.items()
        )
    return text


def _toml_value(value: object) -> str:
    import json

    if isinstance(value, Mapping):
        inner = ", ".join(f"{key} = {json.dumps(item)}" for key, item in value.items())
        return "{ " + inner + " }"
    return json.dumps(value)


WorkspaceFactory = Callable[..., Path]


@pytest.fixture
def make_workspace(tmp_path: Path) -> WorkspaceFactory:
    """Write a git-backed monorepo: ``packages`` maps a name to (deps, test source,
    own [tool.poetflow.test] or None); ``root_test`` is the root's test table."""

    def make(
        packages: Mapping[str, tuple[list[str], str, Mapping[str, object] | None]],
        root_test: Mapping[str, object] | None = None,
        name: str = "mono",
    ) -> Path:
        root = tmp_path / name
        root.mkdir()
        table = {"env": "current", "env-vars": {"PYTHONPATH": "src"}, **(root_test or {})}
        root_toml = '[tool.poetflow]\npackages = ["packages/*"]\n\n[tool.poetflow.test]\n'
        root_toml += "".join(f"{key} = {_toml_value(value)}\n" for key, value in table.items())
        (root / "pyproject.toml").write_text(root_toml, encoding="utf-8")
        for package, (deps, test_source, own) in packages.items():
            directory = root / "packages" / package
            module = directory / "src" / package.replace("-", "_")
            module.mkdir(parents=True)
            (module / "__init__.py").write_text(f"NAME = {package!r}\n", encoding="utf-8")
            (directory / "pyproject.toml").write_text(
                _package_toml(package, deps, own), encoding="utf-8"
            )
            if test_source:
                tests = directory / "tests"
                tests.mkdir()
                (tests / f"test_{module.name}.py").write_text(
                    textwrap.dedent(test_source), encoding="utf-8"
                )
        return init_repo(root)

    return make


def _poetry_lock(project: Path, cache: Path) -> None:
    import os
    import subprocess

    env = {
        **os.environ,
        "POETRY_CACHE_DIR": str(cache),
        "PIP_CONFIG_FILE": os.devnull,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(
        [sys.executable, "-m", "poetry", "lock", "--no-interaction"],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def locked_monorepo(tmp_path_factory: pytest.TempPathFactory, poetry_cache: Path) -> Path:
    """A git repository of three generated packages (a chain of path dependencies, both
    metadata styles, pytest and a third-party runtime dependency) with committed locks,
    made once per session: tests clone it, as CI checks a repository out."""
    from monorepo_gen import generate_monorepo

    root = tmp_path_factory.mktemp("locked") / "origin"
    generate_monorepo(root, 3, dependencies=("iniconfig>=2",))
    add_package_source(root, PYPI_SIMPLE)
    for project in sorted((root / "packages").iterdir()):
        _poetry_lock(project, poetry_cache)
    return init_repo(root)


@pytest.fixture
def clone(tmp_path: Path) -> Callable[[Path, str], Path]:
    """``clone(origin, name)``: a fresh clone, nothing but the committed files."""
    import subprocess

    def make(origin: Path, name: str) -> Path:
        target = tmp_path / name
        subprocess.run(
            ["git", "clone", "-q", str(origin), str(target)], check=True, capture_output=True
        )
        return target

    return make
