"""The ``uv`` command line, run as a subprocess: virtualenvs and installs into them.

uv is a declared dependency (the ``uv`` wheel ships the binary), so the binary next to
this interpreter is used first; a ``uv`` on PATH is the fallback for installs that leave
the wheel's scripts out. Every call goes through :func:`poetflow.process.run_process`.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from poetflow.errors import PoetFlowError
from poetflow.process import ProcessResult, run_process

__all__ = ["Index", "UvCli", "UvNotFoundError", "locate_uv", "uv_index_name"]

# Variables that would point uv at PoetFlow's own virtualenv instead of the target one.
_ACTIVE_ENV_VARIABLES = ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONHOME")


class UvNotFoundError(PoetFlowError):
    """The uv binary is missing (it comes with PoetFlow's ``uv`` dependency)."""


def locate_uv() -> str:
    """The uv binary: the one the ``uv`` package installed, else ``uv`` on PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found:
        return found
    raise UvNotFoundError(
        "uv was not found: PoetFlow installs test environments with it.",
        hint="Reinstall PoetFlow (it depends on uv), or set [tool.poetflow.test] "
        'installer = "poetry".',
    )


def uv_index_name(name: str) -> str:
    """An index name uv accepts, and the NAME of its ``UV_INDEX_<NAME>_*`` variables."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "index"


@dataclass(frozen=True)
class Index:
    """A package index for uv; ``username``/``password`` travel in the environment only."""

    name: str
    url: str
    username: str | None = None
    password: str | None = None


class UvCli:
    """Runs uv; located lazily and once (a run that installs nothing never looks)."""

    def __init__(self, binary: str | None = None) -> None:
        self._binary = binary
        self._lock = threading.Lock()

    @property
    def binary(self) -> str:
        with self._lock:
            if self._binary is None:
                self._binary = locate_uv()
            return self._binary

    def _environment(self, indexes: Sequence[Index]) -> dict[str, str]:
        environment = {k: v for k, v in os.environ.items() if k not in _ACTIVE_ENV_VARIABLES}
        # Never fetch an interpreter behind the user's back: the venv uses the one named.
        environment.setdefault("UV_PYTHON_DOWNLOADS", "never")
        environment.setdefault("UV_NO_PROGRESS", "1")
        for index in indexes:
            variable = "UV_INDEX_" + re.sub(r"[^A-Z0-9]", "_", index.name.upper())
            if index.username is not None:
                environment[f"{variable}_USERNAME"] = index.username
            if index.password is not None:
                environment[f"{variable}_PASSWORD"] = index.password
        return environment

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        indexes: Sequence[Index] = (),
        timeout: float | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> ProcessResult:
        """``uv <args>``; never raises for a non-zero exit."""
        environment = self._environment(indexes)
        if extra_env:
            environment.update(extra_env)
        return run_process([self.binary, *args], cwd=cwd, env=environment, timeout=timeout)

    def venv(
        self, path: Path, *, python: str, seed: bool, timeout: float | None = None
    ) -> ProcessResult:
        """A fresh virtualenv at ``path`` (whatever was there is replaced)."""
        args = ["venv", "--clear", "--quiet", "--python", python, "--no-project"]
        if seed:
            args.append("--seed")
        return self.run([*args, str(path)], cwd=path.parent, timeout=timeout)

    def pip_install(
        self,
        python: Path,
        arguments: Sequence[str],
        *,
        cwd: Path,
        indexes: Sequence[Index] = (),
        offline: bool = False,
        pinned: bool = False,
        timeout: float | None = None,
    ) -> ProcessResult:
        """``uv pip install --python PYTHON ...``; the first index is the default one.

        ``pinned``: every file is pinned by hash, so any index may serve it.
        """
        args = ["pip", "install", "--python", str(python), "--no-config"]
        args += _index_arguments(indexes, any_index=pinned)
        if offline:
            args.append("--offline")
        return self.run([*args, *arguments], cwd=cwd, indexes=indexes, timeout=timeout)

    def pip_compile(
        self,
        requirements: Path,
        output: Path,
        *,
        python: Path,
        cwd: Path,
        indexes: Sequence[Index] = (),
        timeout: float | None = None,
    ) -> ProcessResult:
        """Resolve ``requirements`` for ``python`` into pinned ``output`` (nothing installed)."""
        args = ["pip", "compile", "--python", str(python), "--no-config", "--quiet"]
        args += ["--no-header", "--no-annotate", "-o", str(output), str(requirements)]
        args += _index_arguments(indexes, any_index=False)
        return self.run(args, cwd=cwd, indexes=indexes, timeout=timeout)


def _index_arguments(indexes: Sequence[Index], *, any_index: bool) -> list[str]:
    if not indexes:
        return []
    first, *rest = indexes
    args = ["--default-index", f"{first.name}={first.url}"]
    for index in rest:
        args += ["--index", f"{index.name}={index.url}"]
    if rest and any_index:
        # Files are pinned by hash, so taking each from whichever index has it is safe;
        # uv's default (the first index that knows a name) guards resolutions instead.
        args += ["--index-strategy", "unsafe-best-match"]
    return args
