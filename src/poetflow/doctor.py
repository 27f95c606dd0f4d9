"""Health checks of a monorepo before a release: each finding says what is wrong and the fix."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from poetflow.errors import PoetFlowError
from poetflow.lockfile.freshness import lock_content_hash, lock_is_fresh

__all__ = [
    "CHECKS",
    "CredentialSource",
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
    "release",
    "working-tree",
    "tags",
    "path-dependencies",
    "cycles",
    "lock-files",
    "version-files",
    "credentials",
)


@dataclass(frozen=True)
class Finding:
    """One problem: ``blocker`` stops a release, ``warning`` is worth fixing."""

    check: str
    severity: Severity
    message: str
    fix: str
    package: str | None = None


@dataclass(frozen=True)
class CredentialSource:
    """Where the credentials of one publish target come from, in words (never the value)."""

    repository: str
    url: str
    source: str


@dataclass(frozen=True)
class DoctorReport:
    """Every check that ran, what it found, and where each publish target's credentials
    come from."""

    root: Path
    checks: tuple[str, ...]
    findings: tuple[Finding, ...]
    credentials: tuple[CredentialSource, ...] = ()

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
            "credentials": [
                {"repository": item.repository, "url": item.url, "source": item.source}
                for item in self.credentials
            ],
        }


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
        self.credentials: list[CredentialSource] = []

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
    from poetflow.lockfile.refresh import lock_state
    from poetflow.lockfile.release import LockOwner, lock_owners
    from poetflow.tomlfile import read_toml

    if ctx.workspace is not None:
        owners = lock_owners(ctx.workspace)
    elif (ctx.root / "poetry.lock").is_file() and (ctx.root / "pyproject.toml").is_file():
        try:
            owners = [LockOwner("", ctx.root, "", read_toml(ctx.root / "pyproject.toml"))]
        except PoetFlowError:
            return
    else:
        return
    for owner in owners:
        where = owner.lock.relative_to(ctx.root).as_posix()
        name = owner.name or None
        command = f"poetflow lock -p {owner.name}" if owner.name else "poetflow lock"
        try:
            state, detail, _fixed = lock_state(owner, ctx.workspace)
        except (PoetFlowError, OSError, UnicodeDecodeError) as exc:
            ctx.add(
                "lock-files",
                "blocker",
                f"{where} cannot be read ({exc}).",
                f"Run `{command}` (it runs `poetry lock`) and commit the lock file.",
                name,
            )
            continue
        if state == "stale":
            ctx.add(
                "lock-files",
                "blocker",
                f"{where} is out of date: pyproject.toml changed since it was locked, so "
                "`poetry install` refuses it.",
                f"Run `{command}` (it runs `poetry lock`, keeping every locked version) and "
                "commit the lock file.",
                name,
            )
        elif state == "behind":
            ctx.add(
                "lock-files",
                "warning",
                f"{where} {detail}: installs from it get the members' old metadata.",
                f"Run `{command}` (no resolver needed) and commit the lock file.",
                name,
            )


def _check_version_files(ctx: _Context) -> None:
    from poetflow.version_sources import unmanaged_version_sources

    if ctx.workspace is None:
        return
    for package in ctx.workspace.packages:
        if package.version is None or package.dynamic_version:
            continue
        for source in unmanaged_version_sources(package):
            ctx.add(
                "version-files",
                "warning",
                f"{package.relpath}/{source.path} holds the version {source.value!r} of "
                f"{package.name}, which a release does not update, so built packages would "
                "report a stale version.",
                f'Add version-files = ["{source.setting}"] to [tool.poetflow] in '
                f"{package.relpath}/pyproject.toml, or read the version at run time "
                "(importlib.metadata.version).",
                package.name,
            )


def _check_release(ctx: _Context) -> None:
    from poetflow.versioning.journal import read_journal

    if ctx.repo is None:
        return
    try:
        journal = read_journal(ctx.repo.git_dir)
    except (ValueError, KeyError, TypeError):
        ctx.add(
            "release",
            "blocker",
            f"{ctx.repo.git_dir}/poetflow/release.json is not a readable release journal.",
            "Check `git status` and `git log`, then delete that file.",
        )
        return
    if journal is None:
        return
    if journal.phase == "tagged":
        ctx.add(
            "release",
            "warning",
            f"The release of `{journal.command}` ({journal.started}) is tagged, but locks "
            "that wait for its members to be published are not relocked yet.",
            "Run `poetflow run` (its lock stage relocks them after publishing).",
        )
        return
    ctx.add(
        "release",
        "blocker",
        f"A release was interrupted (`{journal.command}`, pid {journal.pid}, started "
        f"{journal.started}) and its files may be half-written.",
        "Run any PoetFlow command (e.g. `poetflow discover`): it completes the release if "
        "its commit exists, or puts every file back if not.",
    )


def _check_credentials(ctx: _Context) -> None:
    """Each index a release publishes to: the default ones (a blocker without
    credentials), and those packages name in their own repositories (a warning)."""
    from poetflow.publish.credentials import Credentials, resolve_credentials
    from poetflow.publish.repositories import resolve_repository

    if ctx.workspace is None:
        return
    config = ctx.workspace.config
    defaults = list(config.publish.default_repositories)
    if config.pipeline.repository:
        defaults.append(config.pipeline.repository)
    named = [
        name
        for package in ctx.workspace.packages
        for name in package.config.publish.repositories or ()
    ]
    for name in dict.fromkeys([*defaults, *named]):
        severity: Severity = "blocker" if name in defaults else "warning"
        try:
            repository = resolve_repository(ctx.workspace, name, env=ctx.env)
            found = resolve_credentials(repository, ctx.env)
        except PoetFlowError as exc:
            ctx.add("credentials", severity, exc.message, exc.hint or "Set the credentials.")
            continue
        source = (
            found.source
            if isinstance(found, Credentials)
            else (f"trusted publishing ({found.provider}, {found.source})")
        )
        ctx.credentials.append(CredentialSource(repository.name, repository.url, source))


_RUNNERS: Mapping[str, Callable[[_Context], None]] = {
    "config": _check_config,
    "poetry": _check_poetry,
    "git-history": _check_git,
    "working-tree": _check_working_tree,
    "path-dependencies": _load_workspace,
    "cycles": _check_cycles,
    "tags": _check_tags,
    "lock-files": _check_locks,
    "version-files": _check_version_files,
    "release": _check_release,
    "credentials": _check_credentials,
}


def run_doctor(root: Path, env: Mapping[str, str] | None = None) -> DoctorReport:
    """Run every check against the monorepo at ``root``; never raises for what it finds."""
    ctx = _Context(root, os.environ if env is None else env)
    order = (
        "config",
        "poetry",
        "git-history",
        "release",
        "working-tree",
        "path-dependencies",
        "cycles",
        "tags",
        "lock-files",
        "version-files",
        "credentials",
    )
    for name in order:
        _RUNNERS[name](ctx)
    return DoctorReport(
        root=root,
        checks=CHECKS,
        findings=tuple(ctx.findings),
        credentials=tuple(ctx.credentials),
    )
