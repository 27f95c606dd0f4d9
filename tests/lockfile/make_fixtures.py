"""Regenerate the locked sample monorepos under tests/fixtures/workspaces (run by hand).

    .venv/bin/python tests/lockfile/make_fixtures.py

Each package's poetry.lock is written by real Poetry (`poetry lock` against PyPI's simple
index, the only PyPI API this machine reaches), so the tests start from locks exactly as
Poetry writes them. The outputs are committed; the tests never need Poetry to lock.

- ``locked30``: 30 packages in a layered graph, both metadata styles. Legacy packages
  require members by version in their main dependencies (``pkg-003 = "^0.1.0"``) and by
  path in a dev group; PEP 621 packages list ``pkg-003>=0.1`` with a path source. Every
  package also locks a small third-party package.
- ``langchain-style``: the shape of langchain's libs/: langchain-core, text-splitters,
  langchain, a partner package and standard-tests, members required by caret ranges in
  main dependencies and by path in the test group.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "workspaces"
POETRY = Path(sys.executable).parent / "poetry"
SOURCE = (
    '\n[[tool.poetry.source]]\nname = "pypi-simple"\nurl = "https://pypi.org/simple/"\n'
    'priority = "primary"\n'
)
THIRD_PARTY = ("six>=1.16", "idna>=3.4", "iniconfig>=2.0")
BACKEND = 'build-backend = "poetry.core.masonry.api"\n'
BUILD_LEGACY = '\n[build-system]\nrequires = ["poetry-core>=1.0.0"]\n' + BACKEND
BUILD_PEP621 = '\n[build-system]\nrequires = ["poetry-core>=2.0"]\n' + BACKEND


def _closure(name: str, deps: dict[str, list[str]]) -> list[str]:
    seen: list[str] = []
    stack = list(deps[name])
    while stack:
        dep = stack.pop()
        if dep not in seen:
            seen.append(dep)
            stack.extend(deps[dep])
    return sorted(seen)


def _legacy(
    name: str, version: str, main: dict[str, str], paths: dict[str, str], extra: str
) -> str:
    module = name.replace("-", "_")
    lines = [
        "[tool.poetry]",
        f'name = "{name}"',
        f'version = "{version}"',
        f'description = "Sample package {name}."',
        'authors = ["Samples <samples@poetflow.invalid>"]',
        f'packages = [{{ include = "{module}", from = "src" }}]',
        "",
        "[tool.poetry.dependencies]",
        'python = ">=3.10"',
        *(f'{dep} = "{spec}"' for dep, spec in main.items()),
    ]
    third, _, spec = extra.partition(">=")
    lines.append(f'{third} = ">={spec}"')
    if paths:
        lines += ["", "[tool.poetry.group.test.dependencies]"]
        lines += [f'{dep} = {{ path = "{path}", develop = true }}' for dep, path in paths.items()]
    return "\n".join(lines) + "\n" + SOURCE + BUILD_LEGACY


def _pep621(
    name: str,
    version: str,
    main: dict[str, str],
    paths: dict[str, str],
    extra: str,
    direct: list[str],
) -> str:
    module = name.replace("-", "_")
    requirements = ", ".join([f'"{dep}{spec}"' for dep, spec in main.items()] + [f'"{extra}"'])
    lines = [
        "[project]",
        f'name = "{name}"',
        f'version = "{version}"',
        f'description = "Sample package {name}."',
        'requires-python = ">=3.10"',
        f"dependencies = [{requirements}]",
        "",
        "[tool.poetry]",
        f'packages = [{{ include = "{module}", from = "src" }}]',
    ]
    sources = {dep: path for dep, path in paths.items() if dep in direct}
    others = {dep: path for dep, path in paths.items() if dep not in direct}
    if sources:
        lines += ["", "[tool.poetry.dependencies]"]
        lines += [f'{dep} = {{ path = "{path}", develop = true }}' for dep, path in sources.items()]
    if others:
        lines += ["", "[tool.poetry.group.test.dependencies]"]
        lines += [f'{dep} = {{ path = "{path}", develop = true }}' for dep, path in others.items()]
    return "\n".join(lines) + "\n" + SOURCE + BUILD_PEP621


def _write_package(root: Path, relpath: str, name: str, text: str) -> None:
    folder = root / relpath
    module = folder / "src" / name.replace("-", "_")
    module.mkdir(parents=True, exist_ok=True)
    (module / "__init__.py").write_text(f'"""Sample package {name}."""\n', encoding="utf-8")
    (folder / "pyproject.toml").write_text(text, encoding="utf-8")


def locked30(root: Path) -> list[Path]:
    names = [f"pkg-{i:03d}" for i in range(30)]
    deps = {
        name: [names[j] for j in range(max(0, i - 3), i) if (i + j) % 2 == 0 or j == i - 1]
        for i, name in enumerate(names)
    }
    (root / "pyproject.toml").write_text('[tool.poetflow]\npackages = ["packages/*"]\n')
    for i, name in enumerate(names):
        closure = _closure(name, deps)
        paths = {dep: f"../{dep}" for dep in closure}
        extra = THIRD_PARTY[i % len(THIRD_PARTY)]
        if i % 2:
            text = _legacy(name, "0.1.0", {dep: "^0.1.0" for dep in deps[name]}, paths, extra)
        else:
            main = {dep: ">=0.1" for dep in deps[name]}
            text = _pep621(name, "0.1.0", main, paths, extra, deps[name])
        _write_package(root, f"packages/{name}", name, text)
    return [root / "packages" / name for name in names]


def langchain_style(root: Path) -> list[Path]:
    (root / "pyproject.toml").write_text(
        '[tool.poetflow]\npackages = ["libs/*", "libs/partners/*"]\n'
    )
    core = {"langchain-core": "../core"}
    packages = [
        ("libs/core", "langchain-core", "0.3.21", {}, {}),
        (
            "libs/text-splitters",
            "langchain-text-splitters",
            "0.3.2",
            {"langchain-core": "^0.3.15"},
            core,
        ),
        (
            "libs/langchain",
            "langchain",
            "0.3.9",
            {"langchain-core": "^0.3.21", "langchain-text-splitters": "^0.3.0"},
            {"langchain-core": "../core", "langchain-text-splitters": "../text-splitters"},
        ),
        (
            "libs/partners/openai",
            "langchain-openai",
            "0.2.10",
            {"langchain-core": "^0.3.21"},
            {"langchain-core": "../../core"},
        ),
        ("libs/standard-tests", "langchain-tests", "0.3.4", {"langchain-core": "^0.3.19"}, core),
    ]
    folders = []
    for index, (relpath, name, version, main, paths) in enumerate(packages):
        extra = THIRD_PARTY[index % len(THIRD_PARTY)]
        _write_package(root, relpath, name, _legacy(name, version, main, paths, extra))
        folders.append(root / relpath)
    return folders


def _lock(folder: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(PIP_CONFIG_FILE=os.devnull, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    subprocess.run(
        [str(POETRY), "lock", "--no-interaction"],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
    )


def main() -> None:
    for name, build in (("locked30", locked30), ("langchain-style", langchain_style)):
        root = FIXTURES / name
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        folders = build(root)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(_lock, folders))
        print(f"{root}: {len(folders)} packages locked")


if __name__ == "__main__":
    main()
