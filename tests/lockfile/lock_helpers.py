"""Helpers for lock tests: real Poetry, in a subprocess or in-process, and lock entries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

POETRY = str(Path(sys.executable).parent / "poetry")


def poetry_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring", PIP_CONFIG_FILE=os.devnull)
    return env


def poetry(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``poetry`` command in ``folder``."""
    return subprocess.run(
        [POETRY, *args, "--no-interaction", "--no-ansi"],
        cwd=folder,
        env=poetry_env(),
        capture_output=True,
        text=True,
        check=False,
    )


def poetry_says_fresh(folder: Path) -> bool:
    """Poetry's own answer to ``poetry check --lock``, asked in-process (its Locker), so
    thirty packages take a second instead of thirty Poetry start-ups."""
    import warnings

    with warnings.catch_warnings():
        # Poetry's own imports use APIs newer Pythons deprecate; not what is tested here.
        warnings.simplefilter("ignore", DeprecationWarning)
        from poetry.factory import Factory

        locker = Factory().create_poetry(folder).locker
        return bool(locker.is_locked() and locker.is_fresh())


def lock_entries(lock: Path) -> dict[str, str]:
    """Each [[package]] block of a lock, by name, as text."""
    blocks = lock.read_text(encoding="utf-8").split("\n[[package]]\n")
    found = {}
    for block in blocks[1:]:
        body = block.split("\n[metadata]\n", 1)[0]
        name = body.split("\n", 1)[0].removeprefix('name = "').rstrip('"')
        found[name] = body
    return found


def third_party_entries(root: Path, members: set[str]) -> dict[str, dict[str, str]]:
    return {
        str(lock.relative_to(root)): {
            name: body for name, body in lock_entries(lock).items() if name not in members
        }
        for lock in sorted(root.rglob("poetry.lock"))
    }
