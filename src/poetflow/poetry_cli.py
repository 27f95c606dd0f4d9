"""The ``poetry`` command line, run as a subprocess: locate it, lock, install, env info."""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from poetflow.errors import PoetFlowError
from poetflow.process import CommandNotFoundError, ProcessResult, run_process

__all__ = [
    "MIN_POETRY_VERSION",
    "LockState",
    "PoetryCli",
    "PoetryNotFoundError",
    "locate_poetry",
    "poetry_environment",
]

# Poetry 2 reads PEP 621 [project] tables, which DESIGN.md makes first-class, and its
# `poetry lock` no longer upgrades every dependency as a side effect.
MIN_POETRY_VERSION = (2, 0)

_VERSION_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
# What `poetry check --lock` (and `poetry install`) print when pyproject.toml moved on
# since the lock was written; Poetry 2.x wording.
_OUTDATED_LOCK_RE = re.compile(r"changed significantly since poetry\.lock|Run `poetry lock`")

# Variables that make Poetry reuse an already active environment instead of the
# package's own one: PoetFlow itself often runs inside a virtualenv.
_ACTIVE_ENV_VARIABLES = ("VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "PYTHONHOME")


class PoetryNotFoundError(PoetFlowError):
    """Poetry is not installed, or too old for PoetFlow."""


def poetry_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a poetry subprocess: no active virtualenv leaks into it."""
    environment = {k: v for k, v in os.environ.items() if k not in _ACTIVE_ENV_VARIABLES}
    # Poetry would otherwise ask a keyring daemon (and wait for it) on every start.
    environment.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    environment.setdefault("POETRY_NO_INTERACTION", "1")
    if extra:
        environment.update(extra)
    return environment


def _parse_version(text: str) -> tuple[int, int, int] | None:
    match = _VERSION_RE.search(text)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def locate_poetry(
    *, path: str | None = None, python: str | None = None
) -> tuple[tuple[str, ...], tuple[int, int, int]]:
    """Find Poetry: ``poetry`` on PATH, else ``python -m poetry`` from this interpreter.

    Returns the argv prefix and the version; raises PoetryNotFoundError (exit 2) when
    Poetry is missing or older than MIN_POETRY_VERSION.
    """
    search_path = os.environ.get("PATH", "") if path is None else path
    interpreter = sys.executable if python is None else python
    candidates: list[tuple[str, ...]] = []
    found = shutil.which("poetry", path=search_path)
    if found:
        candidates.append((found,))
    candidates.append((interpreter, "-m", "poetry"))
    tried = []
    for prefix in candidates:
        try:
            result = run_process(
                [*prefix, "--version", "--no-ansi"],
                cwd=Path.cwd(),
                env=poetry_environment(),
                timeout=120,
            )
        except CommandNotFoundError:
            continue
        tried.append(" ".join(prefix))
        version = _parse_version(result.output) if result.ok else None
        if version is None:
            continue
        if version[:2] < MIN_POETRY_VERSION:
            shown = ".".join(map(str, version))
            raise PoetryNotFoundError(
                f"Poetry {shown} ({' '.join(prefix)}) is too old: PoetFlow needs Poetry "
                f"{'.'.join(map(str, MIN_POETRY_VERSION))} or later.",
                hint="Upgrade it: `pipx upgrade poetry` or `pip install -U poetry`.",
            )
        return prefix, version
    raise PoetryNotFoundError(
        "Poetry was not found: no `poetry` on PATH and `python -m poetry` does not work "
        f"with {interpreter}.",
        hint="Install Poetry 2 (`pipx install poetry`) or use --env current.",
    )


@dataclass(frozen=True)
class LockState:
    """Whether a package's poetry.lock matches its pyproject.toml."""

    fresh: bool
    output: str


class PoetryCli:
    """Runs ``poetry`` subcommands in a package directory.

    Poetry is located lazily and once: a run that installs nothing never starts it.
    """

    def __init__(self, prefix: Sequence[str] | None = None) -> None:
        self._prefix: tuple[str, ...] | None = tuple(prefix) if prefix else None
        self._lock = threading.Lock()
        self.version: tuple[int, int, int] | None = None

    @property
    def prefix(self) -> tuple[str, ...]:
        with self._lock:
            if self._prefix is None:
                self._prefix, self.version = locate_poetry()
            return self._prefix

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        timeout: float | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> ProcessResult:
        """``poetry <args>`` in ``cwd``; never raises for a non-zero exit."""
        return run_process(
            [*self.prefix, *args, "--no-ansi", "--no-interaction"],
            cwd=cwd,
            env=poetry_environment(extra_env),
            timeout=timeout,
        )

    def lock(self, project: Path, *, timeout: float | None = None) -> ProcessResult:
        return self.run(["lock"], cwd=project, timeout=timeout)

    def install(self, project: Path, *, timeout: float | None = None) -> ProcessResult:
        """Install the project with its non-optional dependency groups."""
        return self.run(["install"], cwd=project, timeout=timeout)

    def check_lock(self, project: Path, *, timeout: float | None = None) -> LockState:
        """Is poetry.lock up to date with pyproject.toml? Other check findings are ignored:
        ``poetry install`` reports them itself."""
        result = self.run(["check", "--lock"], cwd=project, timeout=timeout)
        fresh = result.ok or not _OUTDATED_LOCK_RE.search(result.output)
        return LockState(fresh=fresh, output=result.output)

    def env_path(self, project: Path, *, timeout: float | None = None) -> Path | None:
        """The virtualenv Poetry uses for ``project`` (None when it has none yet)."""
        result = self.run(["env", "info", "--path"], cwd=project, timeout=timeout)
        lines = [line.strip() for line in result.output.splitlines() if line.strip()]
        if not result.ok or not lines:
            return None
        candidate = Path(lines[-1])
        return candidate if candidate.is_dir() else None
