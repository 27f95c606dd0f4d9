"""Health checks of a monorepo before a release: each finding says what is wrong and the fix."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from poetflow.errors import PoetFlowError

__all__ = [
    "CHECKS",
    "DoctorReport",
    "Finding",
    "Severity",
    "lock_content_hash",
    "lock_is_fresh",
    "run_doctor",
]

Severity = Literal["blocker", "warning"]

CHECKS: tuple[str, ...] = (
    "config",
    "poetry",
    "git-history",
    "working-tree",
    "tags",
    "path-dependencies",
    "cycles",
    "lock-files",
    "credentials",
)

# Poetry's Locker hashes these keys of a pyproject.toml into poetry.lock's content-hash
# (poetry/packages/locker.py); the same selection here tells a stale lock without Poetry.
_LEGACY_POETRY_KEYS = ("dependencies", "source", "extras", "dev-dependencies")
_POETRY_KEYS = (*_LEGACY_POETRY_KEYS, "group")
_PROJECT_KEYS = ("requires-python", "dependencies", "optional-dependencies")
_GENERATED_BY_RE = re.compile(r"Poetry ([0-9][^ ]*)")


@dataclass(frozen=True)
class Finding:
    """One problem: ``blocker`` stops a release, ``warning`` is worth fixing."""

    check: str
    severity: Severity
    message: str
    fix: str
    package: str | None = None


@dataclass(frozen=True)
class DoctorReport:
    """Every check that ran and what it found."""

    root: Path
    checks: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.severity == "blocker")

    @property
    def ok(self) -> bool:
        return not self.blocking

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "ok": self.ok,
            "blockers": len(self.blocking),
            "warnings": len(self.findings) - len(self.blocking),
            "checks": list(self.checks),
            "findings": [
                {
                    "check": finding.check,
                    "severity": finding.severity,
                    "package": finding.package,
                    "message": finding.message,
                    "fix": finding.fix,
                }
                for finding in self.findings
            ],
        }


# -- lock files ---------------------------------------------------------------------------


def lock_content_hash(pyproject: Mapping[str, Any], *, with_dependency_groups: bool = True) -> str:
    """The content-hash Poetry writes into poetry.lock for this pyproject.toml data."""
    project = pyproject.get("project", {})
    groups = pyproject.get("dependency-groups", {}) if with_dependency_groups else {}
    poetry = pyproject.get("tool", {}).get("poetry", {})
    relevant_project = {key: project[key] for key in _PROJECT_KEYS if project.get(key) is not None}
    relevant_poetry: dict[str, Any] = {}
    for key in _POETRY_KEYS:
        value = poetry.get(key)
        # Legacy keys are hashed even when absent (as null), unless [project] or
        # [dependency-groups] carry relevant content: Poetry's backwards compatibility.
        if value is None and (key not in _LEGACY_POETRY_KEYS or relevant_project or groups):
            continue
        relevant_poetry[key] = value
    relevant: dict[str, Any] = {}
    if relevant_project:
        relevant["project"] = relevant_project
    if groups:
        relevant["dependency-groups"] = groups
    content: Any = relevant_poetry
    if relevant:
        content = {**relevant, "tool": {"poetry": relevant_poetry}}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def lock_is_fresh(pyproject: Mapping[str, Any], lock_file: Path) -> bool:
    """Would ``poetry check --lock`` accept this lock file? (without starting Poetry)"""
    from poetflow.tomlfile import read_toml

    lock = read_toml(lock_file)
    recorded = lock.get("metadata", {}).get("content-hash")
    if not isinstance(recorded, str):
        return False
    if recorded == lock_content_hash(pyproject):
        return True
    # Locks written before Poetry 2.3 did not hash [dependency-groups].
    with lock_file.open(encoding="utf-8") as handle:
        match = _GENERATED_BY_RE.search(handle.readline())
    if match is None:
        return False
    from packaging.version import InvalidVersion, Version

    try:
        old = Version(match.group(1)) < Version("2.3.0")
    except InvalidVersion:
        return False
    return old and recorded == lock_content_hash(pyproject, with_dependency_groups=False)


# -- checks ---------------------------------------------------------------------------------


class _Context:
    """What the checks share: the root, the parsed config and workspace when they load."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.root = root
        self.env = env
        self.findings: list[Finding] = []
        self.config: Any = None
        self.workspace: Any = None
        self.repo: Any = None

    def add(
        self, check: str, severity: Severity, message: str, fix: str, package: str | None = None
    ) -> None:
        self.findings.append(Finding(check, severity, message, fix, package))


def _check_config(ctx: _Context) -> None:
    from poetflow.config import Config, parse_config
    from poetflow.tomlfile import read_toml

    pyproject = ctx.root / "pyproject.toml"
    if not pyproject.is_file():
        ctx.config = Config()
        ctx.add(
            "config",
            "warning",
            f"{ctx.root} has no pyproject.toml, so PoetFlow runs on its defaults.",
            "Run `poetflow init` to write a [tool.poetflow] configuration.",
        )
        return
    try:
        data = read_toml(pyproject)
        tool = data.get("tool", {})
        table = tool.get("poetflow") if isinstance(tool, dict) else None
        ctx.config = parse_config(table or {}, pyproject)
    except PoetFlowError as exc:
        ctx.add("config", "blocker", exc.message, exc.hint or "Fix the file.")
        return
    if table is None:
        ctx.add(
            "config",
            "warning",
            f"{pyproject} has no [tool.poetflow] table, so PoetFlow runs on its defaults.",
            "Run `poetflow init` to write one.",
        )


def _check_poetry(ctx: _Context) -> None:
    from poetflow.poetry_cli import locate_poetry

    try:
        locate_poetry()
    except PoetFlowError as exc:
        # Builds run in-process on poetry-core; only Poetry test environments need Poetry.
        env = ctx.config.test.env if ctx.config else "poetry"
        severity: Severity = "warning" if env == "current" else "blocker"
        ctx.add("poetry", severity, exc.message, exc.hint or "Install Poetry 2.")


def _check_git(ctx: _Context) -> None:
    from poetflow.git import Repository

    try:
        ctx.repo = Repository.open(ctx.root)
    except PoetFlowError as exc:
        ctx.add("git-history", "blocker", exc.message, exc.hint or "Run PoetFlow in a git clone.")
        return
    if ctx.repo.is_shallow:
        ctx.add(
            "git-history",
            "blocker",
            f"{ctx.repo.workdir} is a shallow clone: versions and changelogs computed from a "
            "cut history are wrong.",
            "Fetch the whole history: `git fetch --unshallow --tags`; in CI set fetch-depth: 0 "
            "(actions/checkout) or GIT_DEPTH: 0 (GitLab).",
        )
    if not ctx.repo.has_commits:
        ctx.add(
            "git-history",
            "blocker",
            f"{ctx.repo.workdir} has no commits yet.",
            "Commit your packages: `git add -A && git commit -m 'chore: initial commit'`.",
        )


def _check_working_tree(ctx: _Context) -> None:
    from poetflow.git import git_command

    if ctx.repo is None:
        return
    # git itself answers: its status honours every ignore rule.
    output = git_command(
        ["-c", f"safe.directory={ctx.repo.workdir}", "status", "--porcelain"],
        ctx.repo.workdir,
        timeout=60,
    )
    if output is None:
        return
    lines = [line for line in output.splitlines() if line.strip()]
    changed = [line[3:] for line in lines if not line.startswith("??")]
    untracked = [line[3:] for line in lines if line.startswith("??")]
    if changed:
        ctx.add(
            "working-tree",
            "blocker",
            f"The working tree has uncommitted changes ({_some(changed)}); a release commit "
            "would mix them in, or artifacts would be built from files that are not in git.",
            "Commit or stash them (`git status` lists them) before releasing.",
        )
    if untracked:
        ctx.add(
            "working-tree",
            "warning",
            f"Untracked files ({_some(untracked)}) may end up in source distributions.",
            "Commit them, delete them, or add them to .gitignore (e.g. dist/).",
        )


def _some(paths: list[str], limit: int = 5) -> str:
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more


def _load_workspace(ctx: _Context) -> None:
    """Load the members, collecting every missing path dependency instead of the first."""
    from poetflow.errors import MissingPathDependencyError
    from poetflow.metadata import read_project_metadata
    from poetflow.tomlfile import read_toml
    from poetflow.workspace import load_workspace

    if ctx.config is None:
        return
    try:
        ctx.workspace = load_workspace(ctx.root)
        return
    except MissingPathDependencyError:
        pass
    except PoetFlowError as exc:
        ctx.add("config", "blocker", exc.message, exc.hint or "Fix the file.")
        return
    for pattern in ctx.config.packages:
        for directory in sorted(ctx.root.glob(pattern)):
            pyproject = directory / "pyproject.toml"
            if not pyproject.is_file():
                continue
            try:
                metadata = read_project_metadata(read_toml(pyproject), pyproject)
            except PoetFlowError:
                continue
            if metadata is None:
                continue
            for dep in metadata.dependencies:
                if dep.path and not (directory / dep.path).is_dir():
                    ctx.add(
                        "path-dependencies",
                        "blocker",
                        f"{pyproject.relative_to(ctx.root)}: dependency {dep.name!r} in "
                        f"[{dep.declared_in}] points at {dep.path!r}, which does not exist.",
                        "Fix the path, restore the folder, or remove the dependency.",
                        metadata.name,
                    )


def _check_cycles(ctx: _Context) -> None:
    if ctx.workspace is None:
        return
    for cycle in ctx.workspace.graph.cycles():
        members = (
            f"{cycle[0]} depends on itself"
            if len(cycle) == 1
            else (f"{', '.join(cycle)} depend on each other")
        )
        ctx.add(
            "cycles",
            "blocker",
            f"Runtime dependency cycle: {members}, so there is no order to build and "
            "publish them in.",
            "Move one of these dependencies to a dependency group (a dev edge) or merge "
            "the packages.",
            cycle[0],
        )


def _check_tags(ctx: _Context) -> None:
    from poetflow.init import detect_tag_format, match_tag

    if ctx.repo is None or ctx.workspace is None:
        return
    tag_format = ctx.workspace.config.tag_format
    names = [package.display_name for package in ctx.workspace.packages]
    tags = [tag.name for tag in ctx.repo.tags()]
    versioned = [tag for tag in tags if re.search(r"\d+\.\d+", tag)]
    stray = [tag for tag in versioned if not match_tag(tag, tag_format, names)]
    if not stray:
        return
    guess = detect_tag_format(versioned, names)
    matching = len(versioned) - len(stray)
    shown = ", ".join(stray[:5]) + (f" and {len(stray) - 5} more" if len(stray) > 5 else "")
    if guess is not None and guess.tag_format != tag_format and guess.matched > matching:
        ctx.add(
            "tags",
            "blocker",
            f"{len(stray)} release tags ({shown}) do not follow tag-format "
            f"{tag_format!r}, so PoetFlow cannot see those releases; most tags follow "
            f"{guess.tag_format!r}.",
            f'Set tag-format = "{guess.tag_format}" in [tool.poetflow].',
        )
    else:
        ctx.add(
            "tags",
            "warning",
            f"{len(stray)} tags ({shown}) look like versions but do not follow tag-format "
            f"{tag_format!r}; PoetFlow ignores them.",
            "Nothing to do if they are not releases of these packages; otherwise retag "
            f"them in the {tag_format!r} form.",
        )


def _check_locks(ctx: _Context) -> None:
    from poetflow.tomlfile import read_toml

    folders: list[tuple[Path, str | None]] = [(ctx.root, None)]
    if ctx.workspace is not None:
        folders.extend((package.path, package.name) for package in ctx.workspace.packages)
    for folder, name in folders:
        lock_file = folder / "poetry.lock"
        pyproject = folder / "pyproject.toml"
        if not lock_file.is_file() or not pyproject.is_file():
            continue
        try:
            fresh = lock_is_fresh(read_toml(pyproject), lock_file)
        except PoetFlowError as exc:
            ctx.add("lock-files", "blocker", exc.message, "Run `poetry lock` there.", name)
            continue
        if not fresh:
            where = lock_file.relative_to(ctx.root).as_posix()
            ctx.add(
                "lock-files",
                "blocker",
                f"{where} is out of date: pyproject.toml changed since it was locked, so "
                "`poetry install` refuses it.",
                f"Run `poetry lock` in {folder.relative_to(ctx.root).as_posix() or '.'} and "
                "commit the lock file.",
                name,
            )


def _check_credentials(ctx: _Context) -> None:
    from poetflow.publish.credentials import resolve_credentials
    from poetflow.publish.repositories import resolve_repository

    if ctx.workspace is None:
        return
    try:
        repository = resolve_repository(ctx.workspace, None, env=ctx.env)
        resolve_credentials(repository, ctx.env)
    except PoetFlowError as exc:
        ctx.add("credentials", "blocker", exc.message, exc.hint or "Set the credentials.")


_RUNNERS: Mapping[str, Callable[[_Context], None]] = {
    "config": _check_config,
    "poetry": _check_poetry,
    "git-history": _check_git,
    "working-tree": _check_working_tree,
    "path-dependencies": _load_workspace,
    "cycles": _check_cycles,
    "tags": _check_tags,
    "lock-files": _check_locks,
    "credentials": _check_credentials,
}


def run_doctor(root: Path, env: Mapping[str, str] | None = None) -> DoctorReport:
    """Run every check against the monorepo at ``root``; never raises for what it finds."""
    ctx = _Context(root, os.environ if env is None else env)
    order = (
        "config",
        "poetry",
        "git-history",
        "working-tree",
        "path-dependencies",
        "cycles",
        "tags",
        "lock-files",
        "credentials",
    )
    for name in order:
        _RUNNERS[name](ctx)
    return DoctorReport(root=root, checks=CHECKS, findings=tuple(ctx.findings))
