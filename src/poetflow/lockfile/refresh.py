"""``poetflow lock``: which packages' poetry.lock files are stale, and refreshing them.

A lock is *stale* when its content-hash no longer matches its pyproject.toml (``poetry
check --lock`` fails), and *behind* when it is fresh but a member it holds from its folder
has moved on (an entry still at the member's old version). A behind lock is brought up to
date in-process, the way a release does it; only a stale one needs ``poetry lock``, which
Poetry 2 runs keeping every locked version. Packages are handled in dependency order,
``jobs`` at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from poetflow.lockfile.entries import LockText
from poetflow.lockfile.freshness import text_is_fresh
from poetflow.lockfile.release import LOCK_FILENAME, LockOwner, lock_owners

if TYPE_CHECKING:
    from poetflow.poetry_cli import PoetryCli
    from poetflow.workspace import Workspace

__all__ = ["LockReport", "LockResult", "LockState", "lock_state", "refresh_locks"]

LockState = Literal["fresh", "behind", "stale"]
Action = Literal[
    "fresh", "updated", "relocked", "would update", "would relock", "out of date", "failed"
]


@dataclass(frozen=True)
class LockResult:
    """What happened to one package's lock; ``output`` is Poetry's, on failure."""

    package: str
    path: str
    state: LockState
    action: Action
    detail: str = ""
    output: str = ""
    duration: float = 0.0

    @property
    def failed(self) -> bool:
        """Failed, or found out of date by ``--check``: either way the command exits 1."""
        return self.action in ("failed", "out of date")

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "path": self.path,
            "state": self.state,
            "action": self.action,
            "detail": self.detail,
            "duration": round(self.duration, 3),
        }


@dataclass(frozen=True)
class LockReport:
    """Every selected lock, in dependency order."""

    results: tuple[LockResult, ...]
    check: bool
    dry_run: bool
    duration: float = 0.0
    files: tuple[Path, ...] = field(default=())

    @property
    def out_of_date(self) -> tuple[LockResult, ...]:
        return tuple(r for r in self.results if r.state != "fresh")

    @property
    def failed(self) -> tuple[LockResult, ...]:
        return tuple(r for r in self.results if r.failed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "dry_run": self.dry_run,
            "locks": [result.to_dict() for result in self.results],
            "out_of_date": [r.package for r in self.out_of_date],
            "failed": [r.package for r in self.failed],
            "duration": round(self.duration, 3),
        }


def _where(owner: LockOwner) -> str:
    return f"{owner.relpath}/{LOCK_FILENAME}" if owner.relpath else LOCK_FILENAME


def _behind(owner: LockOwner, workspace: Workspace, text: str) -> tuple[str, list[str]]:
    """The lock's text with every member held from its folder at its current version,
    and which members moved."""
    import os

    lock = LockText(text)
    moved = []
    for name in lock.entries:
        member = workspace.by_name.get(name)
        if member is None or member.name == owner.name or member.version is None:
            continue
        source = lock.source(name)
        url = source.get("url")
        if source.get("type") != "directory" or not isinstance(url, str):
            continue
        if os.path.normpath(owner.folder / url) != os.path.normpath(member.path):
            continue
        locked = (lock.entry(name) or {}).get("version")
        if locked != member.version:
            lock.set_version(name, member.version)
            moved.append(f"{name} at {locked} (now {member.version})")
    return lock.text, moved


def lock_state(owner: LockOwner, workspace: Workspace | None) -> tuple[LockState, str, str]:
    """(state, detail, the in-process fix's text for a behind lock); without a workspace
    only Poetry's own question (is the content-hash current?) is answered."""
    text = owner.lock.read_text(encoding="utf-8")
    if not text_is_fresh(owner.data, text):
        return "stale", "pyproject.toml changed since it was locked", text
    if workspace is None:
        return "fresh", "", text
    try:
        fixed, moved = _behind(owner, workspace, text)
    except ValueError:
        return "stale", "not in the layout Poetry writes", text
    if moved:
        return "behind", "holds " + ", ".join(moved), fixed
    return "fresh", "", text


def refresh_locks(
    workspace: Workspace,
    packages: Sequence[str] | None = None,
    *,
    check: bool = False,
    jobs: int = 1,
    dry_run: bool = False,
    no_cache: bool = False,
    force: Sequence[str] = (),
    poetry: PoetryCli | None = None,
    on_done: Callable[[LockResult], None] | None = None,
) -> LockReport:
    """Check (``check``) or refresh the locks of ``packages`` (default: every member with
    a poetry.lock, and the root project's). ``force``: relock these with Poetry even when
    fresh (a lock that waited for a member to be published)."""
    from poetflow.files import atomic_write_text
    from poetflow.poetry_cli import PoetryCli
    from poetflow.scheduler import Scheduler

    started = time.monotonic()
    owners = {owner.name: owner for owner in lock_owners(workspace)}
    wanted = list(owners) if packages is None else [name for name in packages if name in owners]
    order = [n for n in workspace.graph.order(strict=False) if n in wanted]
    order = ([""] if "" in wanted else []) + order
    cli = poetry or PoetryCli()
    written: list[Path] = []

    def work(name: str) -> LockResult:
        owner = owners[name]
        began = time.monotonic()
        state, detail, fixed = lock_state(owner, workspace)
        label = owner.name or "(root)"
        if name in force and state == "fresh":
            state, detail = "stale", "waits for a released member from the index"
        if state == "fresh" or check:
            action: Action = "fresh" if state == "fresh" else "out of date"
            return LockResult(label, _where(owner), state, action, detail)
        if dry_run:
            verb: Action = "would update" if state == "behind" else "would relock"
            return LockResult(label, _where(owner), state, verb, detail)
        if state == "behind":
            atomic_write_text(owner.lock, fixed)
            written.append(owner.lock)
            duration = time.monotonic() - began
            return LockResult(label, _where(owner), state, "updated", detail, "", duration)
        args = ["lock", "--no-cache"] if no_cache else ["lock"]
        result = cli.run(args, cwd=owner.folder)
        duration = time.monotonic() - began
        if not result.ok:
            return LockResult(
                label,
                _where(owner),
                state,
                "failed",
                f"`poetry lock` failed: rerun it with {result.rerun_hint}",
                result.output,
                duration,
            )
        written.append(owner.lock)
        return LockResult(label, _where(owner), state, "relocked", detail, "", duration)

    def skip(name: str) -> LockResult:
        owner = owners[name]
        return LockResult(owner.name or "(root)", _where(owner), "stale", "failed", "skipped")

    scheduler: Scheduler[LockResult] = Scheduler(
        order, jobs=jobs, wait=False, fail_fast=False, name="poetflow-lock"
    )
    results = scheduler.run(
        work,
        is_failure=lambda result: result.failed,
        skip=skip,
        on_done=(lambda _name, result: on_done(result)) if on_done else None,
    )
    return LockReport(
        tuple(results[name] for name in order),
        check,
        dry_run,
        time.monotonic() - started,
        tuple(written),
    )
