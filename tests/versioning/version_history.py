"""Helpers that build a generated monorepo history with known answers (versions, changelogs)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from textwrap import dedent

GIT_ENV = {
    "GIT_AUTHOR_NAME": "PoetFlow Tests",
    "GIT_AUTHOR_EMAIL": "tests@poetflow.invalid",
    "GIT_COMMITTER_NAME": "PoetFlow Tests",
    "GIT_COMMITTER_EMAIL": "tests@poetflow.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}

# The answers `version bump auto` must give for the history built below.
EXPECTED = {
    "core": ("1.2.0", "1.3.0"),  # feat since core-v1.2.0 (plus a non-conventional commit)
    "http": ("0.3.0", "0.4.0"),  # breaking change on 0.x -> minor
    "storage": ("1.0.0", "2.0.0"),  # feat! on a merged feature branch
    "tools": ("0.1.0", "0.2.0"),  # never released: every commit since the root counts
    "beta": ("1.3.0rc1", "1.3.0"),  # fix after 1.3.0-rc.1 (semver-style tag) finishes 1.3.0
    "quiet": ("2.0.0", "2.0.0"),  # docs only: nothing to release
    "app": ("0.5.0", "0.5.1"),  # no commits of its own; depends on storage -> patch
}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text).lstrip("\n"), encoding="utf-8")


def _pep621(name: str, version: str, deps: dict[str, str] | None = None) -> str:
    deps = deps or {}
    requirements = ", ".join(f'"{dep}{spec}"' for dep, spec in deps.items())
    paths = "".join(f'{dep} = {{ path = "../{dep}", develop = true }}\n' for dep in deps)
    return (
        f'[project]\nname = "{name}"\nversion = "{version}"  # managed by poetflow\n'
        f'description = "{name} package"\nrequires-python = ">=3.10"\n'
        f"dependencies = [{requirements}]\n\n"
        f'[tool.poetry]\npackages = [{{ include = "{name}", from = "src" }}]\n\n'
        f"[tool.poetry.dependencies]\n{paths}\n"
        '[build-system]\nrequires = ["poetry-core>=2.0"]\n'
        'build-backend = "poetry.core.masonry.api"\n'
    )


def _poetry(name: str, version: str, deps: dict[str, str] | None = None) -> str:
    deps = deps or {}
    lines = "".join(
        f'{dep} = {{ version = "{spec}", path = "../{dep}", develop = true }}\n'
        for dep, spec in deps.items()
    )
    return (
        "# hand-written comment that must survive\n"
        f'[tool.poetry]\nname = "{name}"\nversion = "{version}"\n'
        f'description = "{name} package"\nauthors = ["T <t@example.invalid>"]\n'
        f'packages = [{{ include = "{name}", from = "src" }}]\n\n'
        f'[tool.poetry.dependencies]\npython = ">=3.10"\n{lines}\n'
        '[build-system]\nrequires = ["poetry-core>=1.0"]\n'
        'build-backend = "poetry.core.masonry.api"\n'
    )


def commit_file(repo: Path, relative: str, text: str, message: str) -> str:
    path = repo / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text + "\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def build_history(repo: Path) -> Path:
    """Seven packages, tags, merges and pre-releases; see EXPECTED."""
    _write(repo / "pyproject.toml", '[tool.poetflow]\npackages = ["packages/*"]\n')
    packages = {
        "core": _pep621("core", "1.2.0"),
        "http": _poetry("http", "0.3.0", {"core": "^1.2"}),
        "storage": _pep621("storage", "1.0.0", {"core": ">=1.2,<2"}),
        "tools": _poetry("tools", "0.1.0"),
        "beta": _pep621("beta", "1.3.0rc1"),
        "quiet": _pep621("quiet", "2.0.0"),
        "app": _poetry("app", "0.5.0", {"storage": "^1.0", "http": ">=0.3"}),
    }
    for name, text in packages.items():
        _write(repo / "packages" / name / "pyproject.toml", text)
        _write(repo / "packages" / name / "src" / name / "__init__.py", '__version__ = "x"\n')
    _write(repo / "packages/core/src/core/__init__.py", '__version__ = "1.2.0"\n')
    core = repo / "packages/core/pyproject.toml"
    core.write_text(
        core.read_text() + '\n[tool.poetflow]\nversion-files = ["src/core/__init__.py"]\n'
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "commit.gpgsign", "false")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "chore: initial commit")
    for name in ("core", "http", "storage", "quiet", "app"):
        version = packages[name].split('version = "', 1)[1].split('"', 1)[0]
        git(repo, "tag", "-a", f"{name}-v{version}", "-m", f"{name} {version}")
    git(repo, "tag", "beta-v1.2.0")
    commit_file(repo, "packages/beta/src/beta/a.py", "x = 1", "feat(beta): new api")
    git(repo, "tag", "beta-v1.3.0-rc.1")

    commit_file(repo, "packages/core/src/core/a.py", "a = 1", "feat(core): add a")
    commit_file(repo, "packages/core/README.md", "notes", "Update the readme")
    commit_file(repo, "packages/http/src/http/a.py", "b = 1", "fix(http): retry")
    commit_file(
        repo,
        "packages/http/src/http/b.py",
        "c = 1",
        "refactor(http): new client\n\nBREAKING CHANGE: the Client class is gone",
    )
    commit_file(repo, "packages/tools/src/tools/a.py", "t = 1", "feat(tools): first tool")
    commit_file(repo, "packages/beta/src/beta/b.py", "y = 1", "fix(beta): edge case")
    commit_file(repo, "packages/quiet/README.md", "doc", "docs(quiet): explain")
    # A feature branch merged with a merge commit: its commits count for storage.
    git(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "packages/storage/src/storage/a.py", "s = 1", "fix(storage): flush")
    commit_file(repo, "packages/storage/src/storage/b.py", "s = 2", "feat(storage)!: new format")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "packages/core/src/core/b.py", "d = 1", "test(core): more tests")
    git(repo, "merge", "-q", "--no-ff", "feature", "-m", "Merge branch 'feature'")
    return repo
