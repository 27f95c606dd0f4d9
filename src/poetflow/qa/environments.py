"""Where QA commands run: the package's Poetry env, one shared env, or this interpreter."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from poetflow.files import atomic_write_text, private_directory
from poetflow.poetry_cli import PoetryCli
from poetflow.process import ProcessResult, run_process
from poetflow.qa.results import InstallResult
from poetflow.workspace import Package, Workspace

__all__ = [
    "CurrentEnvironment",
    "EnvironmentFailure",
    "PoetryEnvironment",
    "PreparedEnvironment",
    "SharedEnvironment",
    "TestEnvironment",
    "state_dir",
]


def state_dir(root: Path, *, create: bool = True) -> Path:
    """The root's ``.poetflow/`` folder for caches and results, ignored by git."""
    directory = root / ".poetflow"
    if not create:
        return directory
    return private_directory(directory)


@dataclass(frozen=True)
class PreparedEnvironment:
    """How to run a command in the environment: folders put first on PATH and
    variables set (VIRTUAL_ENV), plus what the preparation did."""

    bin_dirs: tuple[Path, ...]
    variables: Mapping[str, str] = field(default_factory=dict)
    install: InstallResult = field(default_factory=lambda: InstallResult("none"))
    notes: tuple[str, ...] = ()

    def command_environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        environment = dict(os.environ)
        if "VIRTUAL_ENV" in self.variables:
            # The environment PoetFlow runs in must not shadow the package's own.
            for key in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONHOME"):
                environment.pop(key, None)
        environment.update(self.variables)
        environment.update(extra)
        path = [str(directory) for directory in self.bin_dirs]
        environment["PATH"] = os.pathsep.join([*path, environment.get("PATH", "")])
        return environment


class EnvironmentFailure(Exception):
    """The environment of one package could not be prepared.

    ``status`` is ``error`` for bad input the user must fix (an outdated lock) and
    ``failed`` for a step that failed (an install).
    """

    def __init__(
        self,
        message: str,
        *,
        status: Literal["failed", "error"],
        output: str = "",
        install: InstallResult | None = None,
        notes: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.output = output
        self.install = install or InstallResult("none", output=output)
        self.notes = tuple(notes)


class TestEnvironment(Protocol):
    """An environment kind; ``prepare`` may be called from several threads at once."""

    name: str

    def prepare(self, package: Package, *, timeout: float | None) -> PreparedEnvironment: ...

    def plan(self, package: Package) -> str:
        """What ``prepare`` would do, without doing it (for --dry-run)."""
        ...


def _bin_dir(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def _venv_python_version(venv: Path) -> str | None:
    """The interpreter version recorded in ``pyvenv.cfg`` (virtualenv and venv both)."""
    try:
        lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    values = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values.get("version_info") or values.get("version")


def _digest(*parts: bytes | str) -> str:
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        sha.update(len(data).to_bytes(8, "big"))
        sha.update(data)
    return sha.hexdigest()


@dataclass(frozen=True)
class _Stamp:
    """The inputs of the last successful install and the environment it went into."""

    inputs: str
    env: Path
    python: str

    @classmethod
    def read(cls, path: Path) -> _Stamp | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(data["inputs"]), Path(data["env"]), str(data["python"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"inputs": self.inputs, "env": str(self.env), "python": self.python}
        atomic_write_text(path, json.dumps(payload, indent=2) + "\n")


def _failure_output(result: ProcessResult) -> str:
    note = f"\n(timed out; rerun: {result.rerun_hint})" if result.timed_out else ""
    return result.output + note


class PoetryEnvironment:
    """Each package in its own Poetry environment, installed only when its inputs
    (poetry.lock, pyproject.toml, Python version) changed since the last install."""

    name = "poetry"

    def __init__(self, workspace: Workspace, poetry: PoetryCli) -> None:
        self.workspace = workspace
        self.poetry = poetry
        self._stamps = state_dir(workspace.root, create=False) / "cache" / "test-env"

    def _inputs(self, package: Package, python: str) -> str:
        lock = (package.path / "poetry.lock").read_bytes()
        return _digest(lock, package.pyproject.read_bytes(), python)

    def _reusable(self, package: Package) -> _Stamp | None:
        """The stamp of the last install when its inputs still hold, else None."""
        stamp = _Stamp.read(self._stamps / f"{package.name}.json")
        if stamp is None or not stamp.env.is_dir():
            return None
        python = _venv_python_version(stamp.env)
        if python != stamp.python or self._inputs(package, python) != stamp.inputs:
            return None
        return stamp

    def plan(self, package: Package) -> str:
        if not (package.path / "poetry.lock").is_file():
            return "poetry lock + poetry install"
        if self._reusable(package) is not None:
            return "reuse (inputs unchanged)"
        return "poetry install"

    def prepare(self, package: Package, *, timeout: float | None) -> PreparedEnvironment:
        started = time.monotonic()
        notes: list[str] = []
        locked = False
        lock_output = ""
        if not (package.path / "poetry.lock").is_file():
            result = self.poetry.lock(package.path, timeout=timeout)
            lock_output = f"$ poetry lock\n{result.output}"
            if not result.ok:
                raise EnvironmentFailure(
                    f"{package.name} has no poetry.lock and `poetry lock` failed.",
                    status="failed",
                    output=f"$ poetry lock\n{_failure_output(result)}",
                )
            locked = True
            notes.append(
                f"{package.relpath}/poetry.lock was missing: created it with `poetry lock`"
            )
        stamp = self._reusable(package)
        if stamp is not None:
            return PreparedEnvironment(
                bin_dirs=(_bin_dir(stamp.env),),
                variables={"VIRTUAL_ENV": str(stamp.env)},
                install=InstallResult("skipped", time.monotonic() - started, locked),
                notes=tuple(notes),
            )
        if not locked:
            state = self.poetry.check_lock(package.path, timeout=timeout)
            if not state.fresh:
                raise EnvironmentFailure(
                    f"{package.relpath}/poetry.lock is out of date with its pyproject.toml.",
                    status="error",
                    output=f"$ poetry check --lock\n{state.output}",
                    notes=[f"run `poetry lock` in {package.relpath} and commit poetry.lock"],
                )
        result = self.poetry.install(package.path, timeout=timeout)
        output = f"{lock_output}$ poetry install\n{result.output}"
        if not result.ok:
            failed = f"{lock_output}$ poetry install\n{_failure_output(result)}"
            raise EnvironmentFailure(
                f"`poetry install` failed in {package.relpath}.",
                status="failed",
                output=failed,
                install=InstallResult("installed", time.monotonic() - started, locked, failed),
                notes=notes,
            )
        env = self.poetry.env_path(package.path, timeout=timeout)
        python = _venv_python_version(env) if env is not None else None
        if env is None or python is None:
            raise EnvironmentFailure(
                f"Poetry installed {package.name} but reports no virtualenv for it "
                "(is virtualenvs.create false?).",
                status="error",
                output=output,
                notes=["use --env current to test in the interpreter PoetFlow runs in"],
            )
        state_dir(self.workspace.root)
        _Stamp(self._inputs(package, python), env, python).write(
            self._stamps / f"{package.name}.json"
        )
        return PreparedEnvironment(
            bin_dirs=(_bin_dir(env),),
            variables={"VIRTUAL_ENV": str(env)},
            install=InstallResult("installed", time.monotonic() - started, locked, output),
            notes=tuple(notes),
        )


class CurrentEnvironment:
    """The interpreter PoetFlow runs in; its scripts folder comes first on PATH."""

    name = "current"

    def plan(self, package: Package) -> str:
        return f"none ({sys.executable})"

    def prepare(self, package: Package, *, timeout: float | None) -> PreparedEnvironment:
        return PreparedEnvironment(bin_dirs=(Path(sys.executable).parent,))


def _external_requirements(packages: Sequence[Package], members: set[str]) -> list[str]:
    """PEP 508 requirements of every member, main and all groups, members left out."""
    from poetry.core.factory import Factory

    from poetflow.metadata import canonical_name

    requirements: dict[str, None] = {}
    for package in packages:
        poetry = Factory().create_poetry(package.path)
        for dependency in poetry.package.all_requires:
            if canonical_name(dependency.name) in members:
                continue
            requirements[dependency.to_pep_508()] = None
    return sorted(requirements)


class SharedEnvironment:
    """One virtualenv at ``.poetflow/venvs/shared`` with every member installed editable
    (without resolving members from an index) and all their dependency groups.

    Built with this interpreter's venv and pip once; rebuilt when any member's
    pyproject.toml or the Python version changes.
    """

    name = "shared"

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.venv = state_dir(workspace.root, create=False) / "venvs" / "shared"
        self._stamp = state_dir(workspace.root, create=False) / "cache" / "shared-env.json"
        self._lock = threading.Lock()
        self._ready: PreparedEnvironment | None = None
        self._failure: EnvironmentFailure | None = None

    def _inputs(self, python: str) -> str:
        parts: list[bytes | str] = [python]
        for package in sorted(self.workspace.packages, key=lambda p: p.name):
            parts += [package.name, package.pyproject.read_bytes()]
        return _digest(*parts)

    def _up_to_date(self) -> bool:
        python = ".".join(map(str, sys.version_info[:3]))
        stamp = _Stamp.read(self._stamp)
        if stamp is None or stamp.inputs != self._inputs(python) or not stamp.env.is_dir():
            return False
        return (_venv_python_version(self.venv) or "").startswith(python)

    def plan(self, package: Package) -> str:
        if self._up_to_date():
            return "reuse the shared env (inputs unchanged)"
        return "build the shared env (venv + pip install)"

    def prepare(self, package: Package, *, timeout: float | None) -> PreparedEnvironment:
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._ready is not None:
                return PreparedEnvironment(
                    self._ready.bin_dirs, self._ready.variables, InstallResult("skipped")
                )
            try:
                self._ready = self._build(timeout)
            except EnvironmentFailure as failure:
                self._failure = failure
                raise
            return self._ready

    def _build(self, timeout: float | None) -> PreparedEnvironment:
        started = time.monotonic()
        python = ".".join(map(str, sys.version_info[:3]))
        variables = {"VIRTUAL_ENV": str(self.venv)}
        bin_dirs = (_bin_dir(self.venv),)
        if self._up_to_date():
            return PreparedEnvironment(
                bin_dirs, variables, InstallResult("skipped", time.monotonic() - started)
            )
        inputs = self._inputs(python)
        state_dir(self.workspace.root)
        root = self.workspace.root
        outputs: list[str] = []

        def step(command: list[str]) -> None:
            result = run_process(command, cwd=root, timeout=timeout)
            outputs.append(f"$ {' '.join(command)}\n{result.output}")
            if not result.ok:
                raise EnvironmentFailure(
                    f"Building the shared environment failed: {' '.join(command[:4])} ...",
                    status="failed",
                    output="\n".join(outputs),
                    install=InstallResult(
                        "installed", time.monotonic() - started, output="\n".join(outputs)
                    ),
                )

        step([sys.executable, "-m", "venv", "--clear", str(self.venv)])
        venv_python = str(_bin_dir(self.venv) / "python")
        members = {package.name for package in self.workspace.packages}
        requirements = _external_requirements(self.workspace.packages, members)
        # poetry-core builds the editable members below without an isolated build env.
        step([venv_python, "-m", "pip", "install", "-q", "poetry-core>=1.0", *requirements])
        editables = [arg for p in self.workspace.packages for arg in ("-e", str(p.path))]
        step(
            [
                venv_python,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--no-build-isolation",
                *editables,
            ]
        )
        _Stamp(inputs, self.venv, python).write(self._stamp)
        return PreparedEnvironment(
            bin_dirs,
            variables,
            InstallResult("installed", time.monotonic() - started, output="\n".join(outputs)),
        )
