"""Benchmark: a release of 30 locked packages vs a `poetry check --lock` loop over them.

Targets (issue: release integrity): on the 30-package sample monorepo whose locks real
Poetry wrote (tests/fixtures/workspaces/locked30), the lock step of a release — every
poetry.lock updated for the new versions and constraints, without a resolver — takes
well under a second, and the whole release (`poetflow version bump --all --changelog
--commit --tag`, a whole process: plan, pyprojects, locks, changelogs, commit, tags)
takes less time than merely asking Poetry whether each lock is fresh
(`for p in packages/*; do (cd $p && poetry check --lock); done`), measured in the same
run. Afterwards every lock must be fresh.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "workspaces" / "locked30"
TARGET_LOCK_SECONDS = 1.0
TARGET_RATIO = 1.0

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@poetflow.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@poetflow.invalid",
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(_GIT_ENV)
    env["PIP_CONFIG_FILE"] = os.devnull
    env.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return env


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=_env())


def _repository(base: Path) -> Path:
    root = base / "locked30"
    shutil.copytree(FIXTURE, root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "chore: initial commit")
    # A feature at the bottom of the graph: every package is released (29 as dependents),
    # and every legacy package's "^0.1.0" range on pkg-000 moves to "^0.2.0".
    init = root / "packages/pkg-000/src/pkg_000/__init__.py"
    init.write_text(init.read_text() + "FEATURE = 1\n")
    _git(root, "commit", "-q", "-am", "feat(pkg-000): a feature")
    return root


def _poetry_loop(root: Path) -> float:
    poetry = shutil.which("poetry") or str(Path(sys.executable).with_name("poetry"))
    started = time.perf_counter()
    for folder in sorted(root.glob("packages/*")):
        done = subprocess.run(
            [poetry, "check", "--lock", "--no-interaction"],
            cwd=folder,
            capture_output=True,
            env=_env(),
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"poetry check --lock failed in {folder}: {done.stdout!r}")
    return time.perf_counter() - started


def _lock_step(root: Path) -> tuple[float, int]:
    """The lock edits of the release, timed alone (in-process, nothing written)."""
    from poetflow.lockfile.release import plan_lock_edits
    from poetflow.versioning.edits import package_edits
    from poetflow.versioning.plan import plan_versions
    from poetflow.workspace import load_workspace

    workspace = load_workspace(root)
    plan = plan_versions(workspace)
    mode = plan.settings.dependents_constraint
    changes, pyprojects = {}, {}
    for entry in plan.touched:
        package = workspace.by_name[entry.name]
        edits, moved = package_edits(package, entry, mode)
        changes[entry.name] = moved
        pyprojects[entry.name] = next(e.new for e in edits if e.path == package.pyproject)
    versions = {e.name: e.next for e in plan.releases if e.next}
    started = time.perf_counter()
    locks = plan_lock_edits(workspace, versions, changes, pyprojects)
    return time.perf_counter() - started, len(locks.edits)


def main() -> int:
    argparse.ArgumentParser(description=__doc__).parse_args()
    with tempfile.TemporaryDirectory(prefix="poetflow-bench-lock-") as tmp:
        root = _repository(Path(tmp))
        baseline = _poetry_loop(root)
        lock_seconds, edited = _lock_step(root)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "poetflow", "version", "bump", "--all", "--changelog",
             "--commit", "--tag"],
            cwd=root, check=True, capture_output=True, env=_env(),
        )  # fmt: skip
        release = time.perf_counter() - started

        from poetflow.lockfile.freshness import lock_is_fresh
        from poetflow.tomlfile import read_toml

        stale = [
            lock.parent.name
            for lock in sorted(root.glob("packages/*/poetry.lock"))
            if not lock_is_fresh(read_toml(lock.parent / "pyproject.toml"), lock)
        ]
    ratio = release / baseline
    print(f"lock step, {edited} locks edited:      {lock_seconds * 1000:8.1f} ms")
    print(f"whole release, 30 packages:        {release:8.2f} s")
    print(f"`poetry check --lock` loop, 30:    {baseline:8.2f} s")
    print(f"ratio release / loop:              {ratio:8.3f} (target < {TARGET_RATIO})")
    missed = []
    if stale:
        missed.append(f"stale locks after the release: {', '.join(stale)}")
    if lock_seconds >= TARGET_LOCK_SECONDS:
        missed.append(f"lock step {lock_seconds:.2f} s >= {TARGET_LOCK_SECONDS} s")
    if ratio >= TARGET_RATIO:
        missed.append(f"release / loop {ratio:.3f} >= {TARGET_RATIO}")
    for line in missed:
        print(f"MISSED: {line}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
