"""Where QA commands run: each package's env from its lock, one shared env, or this Python."""

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
from typing import TYPE_CHECKING, Any, Literal, Protocol

from poetflow.files import atomic_write_text, private_directory
from poetflow.poetry_cli import PoetryCli
from poetflow.process import ProcessResult
from poetflow.qa.results import InstallResult
from poetflow.workspace import Package, Workspace

if TYPE_CHECKING:
    from poetflow.lockfile.selection import Lock
    from poetflow.qa.editables import EditableWheels
    from poetflow.uv import UvCli

__all__ = [
    "SHARED_VENV",
    "CurrentEnvironment",
    "EnvironmentFailure",
    "PoetryEnvironment",
    "PreparedEnvironment",
    "SharedEnvironment",
    "TestEnvironment",
    "python_identity",
    "state_dir",
]

# Canonical package names never contain "_", so no member's venv can take this folder.
SHARED_VENV = "_shared"
# Written into a venv after its last successful install: the inputs it was made from.
_STAMP = ".poetflow-env.json"


def state_dir(root: Path, *, create: bool = True) -> Path:
    """The root's ``.poetflow/`` folder for caches and results, ignored by git."""
    directory = root / ".poetflow"
    if not create:
        return directory
    return private_directory(directory)


def python_identity() -> str:
    """The interpreter test environments are made from: version, implementation, platform."""
    import platform
    import sysconfig

    version = ".".join(map(str, sys.version_info[:3]))
    return f"{sys.implementation.name}-{version}-{sysconfig.get_platform()}-{platform.machine()}"


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


def _venv_python(venv: Path) -> Path:
    return _bin_dir(venv) / ("python.exe" if os.name == "nt" else "python")


def _venv_python_version(venv: Path) -> str | None:
    """The interpreter version recorded in ``pyvenv.cfg`` (virtualenv, venv and uv)."""
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


def _read_stamp(venv: Path) -> str | None:
    try:
        return str(json.loads((venv / _STAMP).read_text(encoding="utf-8"))["inputs"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_stamp(venv: Path, inputs: str) -> None:
    atomic_write_text(venv / _STAMP, json.dumps({"inputs": inputs}) + "\n")


def _failure_output(result: ProcessResult) -> str:
    note = f"\n(timed out; rerun: {result.rerun_hint})" if result.timed_out else ""
    return result.output + note


def _this_python() -> str:
    return ".".join(map(str, sys.version_info[:3]))


def _load_toml(path: Path) -> dict[str, Any]:
    from poetflow.tomlfile import read_toml

    return dict(read_toml(path))


class PoetryEnvironment:
    """Each package in its own virtualenv holding exactly what its poetry.lock pins.

    ``installer = "uv"`` (the default) translates the lock and installs it with uv into
    ``.poetflow/venvs/<name>`` (``venvs = "poetry"``: where Poetry keeps the package's
    env); ``installer = "poetry"`` runs ``poetry install``. Either way the env is made
    again only when its inputs (lock, pyproject.toml, Python) changed since it was made.
    """

    name = "poetry"

    def __init__(
        self, workspace: Workspace, poetry: PoetryCli, uv: UvCli, editables: EditableWheels
    ) -> None:
        self.workspace = workspace
        self.poetry = poetry
        self.uv = uv
        self.editables = editables
        self.venvs = state_dir(workspace.root, create=False) / "venvs"

    # -- planning -------------------------------------------------------------------

    def _own_venv(self, package: Package) -> Path:
        return self.venvs / package.name

    def plan(self, package: Package) -> str:
        settings = package.config.test
        if not (package.path / "poetry.lock").is_file():
            return f"poetry lock + {'uv' if settings.installer == 'uv' else 'poetry'} install"
        if settings.installer == "uv" and settings.venvs == "poetflow":
            from poetflow.lockfile.selection import LockError, read_lock

            venv = self._own_venv(package)
            try:
                inputs = self._uv_inputs(package, read_lock(package.path / "poetry.lock"))
            except LockError:
                inputs = None
            if inputs is not None and venv.is_dir() and _read_stamp(venv) == inputs:
                return "reuse (inputs unchanged)"
            return "uv install from poetry.lock"
        return "uv install from poetry.lock" if settings.installer == "uv" else "poetry install"

    def _uv_inputs(self, package: Package, lock: Lock) -> str:
        """What a uv-made env depends on: the lock, the package's and every locked local
        project's pyproject.toml (an editable's metadata and entry points), the Python."""
        parts: list[bytes | str] = [
            "uv",
            lock.path.read_bytes(),
            package.pyproject.read_bytes(),
            python_identity(),
        ]
        for locked in lock.packages:
            if locked.source.type == "directory":
                folder = (lock.path.parent / (locked.source.url or ".")).resolve()
                parts += [str(folder), str(locked.develop)]
                try:
                    parts.append((folder / "pyproject.toml").read_bytes())
                except OSError:
                    parts.append("")
        return _digest(*parts)

    # -- preparing ------------------------------------------------------------------

    def prepare(self, package: Package, *, timeout: float | None) -> PreparedEnvironment:
        started = time.monotonic()
        notes: list[str] = []
        locked = False
        if not (package.path / "poetry.lock").is_file():
            result = self.poetry.lock(package.path, timeout=timeout)
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
        if package.config.test.installer == "poetry":
            return self._with_poetry(package, started, locked, notes, timeout)
        from poetflow.lockfile.selection import LockError, read_lock

        try:
            lock = read_lock(package.path / "poetry.lock")
        except LockError as exc:
            raise EnvironmentFailure(
                f"{package.relpath}/poetry.lock cannot be read: {exc}.",
                status="error",
                notes=[f"run `poetry lock` in {package.relpath} and commit poetry.lock"],
            ) from None
        if not lock.records_groups:
            # Poetry re-resolves such locks itself; only it can say what they install.
            shown = ".".join(map(str, lock.version))
            notes.append(
                f"{package.relpath}/poetry.lock has lock-version {shown}, which records no "
                "groups or markers: installed with `poetry install`; re-lock with Poetry 2 "
                "for the fast uv install"
            )
            return self._with_poetry(package, started, locked, notes, timeout)
        if not locked:
            self._check_fresh(package, lock, timeout)
        return self._with_uv(package, lock, started, locked, notes, timeout)

    def _check_fresh(self, package: Package, lock: Lock, timeout: float | None) -> None:
        """The lock's content hash against pyproject.toml; Poetry decides a mismatch."""
        from poetflow.lockfile.selection import lock_matches

        if lock_matches(lock, _load_toml(package.pyproject)):
            return
        state = self.poetry.check_lock(package.path, timeout=timeout)
        if not state.fresh:
            raise EnvironmentFailure(
                f"{package.relpath}/poetry.lock is out of date with its pyproject.toml.",
                status="error",
                output=f"$ poetry check --lock\n{state.output}",
                notes=[f"run `poetry lock` in {package.relpath} and commit poetry.lock"],
            )

    def _location(self, package: Package, timeout: float | None) -> Path:
        if package.config.test.venvs == "poetflow":
            return self._own_venv(package)
        env = self.poetry.env_path(package.path, timeout=timeout)
        if env is None:
            # Poetry names (and creates) its env; uv then fills it, so `poetry run` and
            # IDEs pointed at Poetry's env see what PoetFlow tested.
            result = self.poetry.run(["env", "use", sys.executable], cwd=package.path)
            env = self.poetry.env_path(package.path, timeout=timeout)
            if not result.ok or env is None:
                raise EnvironmentFailure(
                    f"Poetry reports no virtualenv for {package.name} "
                    "(is virtualenvs.create false?).",
                    status="error",
                    output=f"$ poetry env use {sys.executable}\n{result.output}",
                    notes=['set [tool.poetflow.test] venvs = "poetflow" or use --env current'],
                )
        return env

    def _with_uv(
        self,
        package: Package,
        lock: Lock,
        started: float,
        locked: bool,
        notes: list[str],
        timeout: float | None,
    ) -> PreparedEnvironment:
        from poetflow.lockfile.selection import (
            install_groups,
            marker_environment,
            python_allowed,
        )
        from poetflow.qa.lock_install import LockInstallError, plan_lock_install

        if not python_allowed(lock, _this_python()):
            raise EnvironmentFailure(
                f"{package.name} needs Python {lock.python_versions} (its poetry.lock), "
                f"but PoetFlow runs on Python {_this_python()}.",
                status="error",
                notes=["run PoetFlow with a Python the package supports, or use --env current"],
            )
        pyproject = _load_toml(package.pyproject)
        # package-mode = false: a project only for its dependencies, nothing to install.
        package_mode = bool(pyproject.get("tool", {}).get("poetry", {}).get("package-mode", True))
        plan = plan_lock_install(
            lock,
            package.path,
            sorted(install_groups(pyproject)),
            marker_environment(),
            install_root=package_mode,
        )
        venv = self._location(package, timeout)
        inputs = self._uv_inputs(package, lock)
        variables = {"VIRTUAL_ENV": str(venv)}
        if venv.is_dir() and _read_stamp(venv) == inputs:
            return PreparedEnvironment(
                bin_dirs=(_bin_dir(venv),),
                variables=variables,
                install=InstallResult("skipped", time.monotonic() - started, locked, "", "uv"),
                notes=tuple(notes),
            )
        state_dir(self.workspace.root)
        venv.parent.mkdir(parents=True, exist_ok=True)
        made = self.uv.venv(venv, python=sys.executable, seed=False, timeout=timeout)
        output = f"$ uv venv {venv}\n{_failure_output(made)}"
        if not made.ok:
            raise EnvironmentFailure(
                f"`uv venv` failed for {package.name}.",
                status="failed",
                output=output,
                install=InstallResult("failed", time.monotonic() - started, locked, output, "uv"),
                notes=notes,
            )
        try:
            output += "\n" + plan.run(
                self.uv, _venv_python(venv), venv, self.editables, timeout=timeout
            )
        except LockInstallError as exc:
            failed = f"{output}\n{exc.output}"
            raise EnvironmentFailure(
                f"Installing {package.relpath}/poetry.lock with uv failed ({exc}).",
                status="failed",
                output=failed,
                install=InstallResult("failed", time.monotonic() - started, locked, failed, "uv"),
                notes=notes,
            ) from None
        _write_stamp(venv, inputs)
        return PreparedEnvironment(
            bin_dirs=(_bin_dir(venv),),
            variables=variables,
            install=InstallResult("installed", time.monotonic() - started, locked, output, "uv"),
            notes=tuple(notes),
        )

    def _with_poetry(
        self,
        package: Package,
        started: float,
        locked: bool,
        notes: list[str],
        timeout: float | None,
    ) -> PreparedEnvironment:
        """Today's ``poetry install`` path, for ``installer = "poetry"`` and old locks."""
        env = self.poetry.env_path(package.path, timeout=timeout)
        inputs = _digest(
            "poetry",
            (package.path / "poetry.lock").read_bytes(),
            package.pyproject.read_bytes(),
            python_identity(),
        )
        if env is not None and _read_stamp(env) == inputs:
            return PreparedEnvironment(
                bin_dirs=(_bin_dir(env),),
                variables={"VIRTUAL_ENV": str(env)},
                install=InstallResult("skipped", time.monotonic() - started, locked, "", "poetry"),
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
        output = f"$ poetry install\n{result.output}"
        if not result.ok:
            failed = f"$ poetry install\n{_failure_output(result)}"
            raise EnvironmentFailure(
                f"`poetry install` failed in {package.relpath}.",
                status="failed",
                output=failed,
                install=InstallResult(
                    "failed", time.monotonic() - started, locked, failed, "poetry"
                ),
                notes=notes,
            )
        env = self.poetry.env_path(package.path, timeout=timeout)
        if env is None or _venv_python_version(env) is None:
            raise EnvironmentFailure(
                f"Poetry installed {package.name} but reports no virtualenv for it "
                "(is virtualenvs.create false?).",
                status="error",
                output=output,
                notes=["use --env current to test in the interpreter PoetFlow runs in"],
            )
        _write_stamp(env, inputs)
        return PreparedEnvironment(
            bin_dirs=(_bin_dir(env),),
            variables={"VIRTUAL_ENV": str(env)},
            install=InstallResult(
                "installed", time.monotonic() - started, locked, output, "poetry"
            ),
            notes=tuple(notes),
        )


class CurrentEnvironment:
    """The interpreter PoetFlow runs in; its scripts folder comes first on PATH."""

    name = "current"

    def plan(self, package: Package) -> str:
        return f"none ({sys.executable})"

    def prepare(self, package: Package, *, timeout: float | None) -> PreparedEnvironment:
        return PreparedEnvironment(bin_dirs=(Path(sys.executable).parent,))


class SharedEnvironment:
    """One virtualenv at ``.poetflow/venvs/_shared`` for the selected packages: each of
    them and every member they depend on installed editable, and their third-party
    requirements (main and non-optional groups of the selected; main of the others)
    resolved together by uv. Two packages asking for versions that cannot coexist are
    named before anything is installed. Rebuilt when the selection, any of those
    pyproject.toml files or the Python changes.
    """

    name = "shared"

    def __init__(
        self,
        workspace: Workspace,
        uv: UvCli,
        editables: EditableWheels,
        selected: Sequence[Package],
    ) -> None:
        self.workspace = workspace
        self.uv = uv
        self.editables = editables
        self.selected = tuple(selected)
        self.members = _member_closure(workspace, self.selected)
        self.venv = state_dir(workspace.root, create=False) / "venvs" / SHARED_VENV
        self._lock = threading.Lock()
        self._ready: PreparedEnvironment | None = None
        self._failure: EnvironmentFailure | None = None

    def _inputs(self) -> str:
        parts: list[bytes | str] = ["shared", python_identity()]
        chosen = {package.name for package in self.selected}
        for package in self.members:
            parts += [package.name, str(package.name in chosen), package.pyproject.read_bytes()]
        return _digest(*parts)

    def _up_to_date(self) -> bool:
        return self.venv.is_dir() and _read_stamp(self.venv) == self._inputs()

    def plan(self, package: Package) -> str:
        if self._up_to_date():
            return "reuse the shared env (inputs unchanged)"
        return f"build the shared env for {len(self.selected)} packages (uv)"

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
        from poetflow.qa.shared_requirements import SharedRequirements

        started = time.monotonic()
        variables = {"VIRTUAL_ENV": str(self.venv)}
        bin_dirs = (_bin_dir(self.venv),)
        inputs = self._inputs()
        if self._up_to_date():
            return PreparedEnvironment(
                bin_dirs, variables, InstallResult("skipped", time.monotonic() - started)
            )
        requirements = SharedRequirements.collect(self.workspace, self.selected, self.members)
        conflict = requirements.conflict()
        if conflict is not None:
            raise EnvironmentFailure(
                f"The shared environment cannot hold these packages together: {conflict}.",
                status="error",
                notes=[
                    "test them with --env poetry (each from its own lock), or align "
                    "the requirements"
                ],
            )
        state_dir(self.workspace.root)
        self.venv.parent.mkdir(parents=True, exist_ok=True)
        outputs: list[str] = []

        def failed(message: str) -> EnvironmentFailure:
            text = "\n".join(outputs)
            duration = time.monotonic() - started
            return EnvironmentFailure(
                message,
                status="failed",
                output=text,
                install=InstallResult("failed", duration, output=text, installer="uv"),
            )

        made = self.uv.venv(self.venv, python=sys.executable, seed=False, timeout=timeout)
        outputs.append(f"$ uv venv {self.venv}\n{_failure_output(made)}")
        if not made.ok:
            raise failed("Creating the shared environment with `uv venv` failed.")
        python = _venv_python(self.venv)
        if requirements.lines:
            listing = self.venv / "requirements.txt"
            listing.write_text("\n".join(requirements.lines) + "\n", encoding="utf-8")
            result = self.uv.pip_install(
                python,
                ["-r", str(listing)],
                cwd=self.workspace.root,
                indexes=requirements.indexes,
                timeout=timeout,
            )
            outputs.append(f"$ uv pip install -r {listing}\n{_failure_output(result)}")
            if not result.ok:
                names = ", ".join(package.name for package in self.selected)
                raise failed(
                    f"uv found no set of versions satisfying the requirements of {names} "
                    "together (see its explanation below)"
                    if "No solution found" in result.output
                    else f"Installing the requirements of {names} with uv failed."
                )
        local: list[str] = []
        for package in self.members:
            if _is_core(package):
                local.append(str(self.editables.wheel(package.path)))
            else:
                local += ["-e", str(package.path)]
        result = self.uv.pip_install(
            python, ["--no-deps", *local], cwd=self.workspace.root, offline=True, timeout=timeout
        )
        if not result.ok:  # a non-poetry-core member whose build backend is not cached yet
            result = self.uv.pip_install(
                python, ["--no-deps", *local], cwd=self.workspace.root, timeout=timeout
            )
        outputs.append(f"$ uv pip install --no-deps <members>\n{_failure_output(result)}")
        if not result.ok:
            raise failed("Installing the members into the shared environment failed.")
        _write_stamp(self.venv, inputs)
        return PreparedEnvironment(
            bin_dirs,
            variables,
            InstallResult(
                "installed", time.monotonic() - started, output="\n".join(outputs), installer="uv"
            ),
        )


def _is_core(package: Package) -> bool:
    from poetflow.qa.editables import is_poetry_core_project

    return is_poetry_core_project(package.path)


def _member_closure(workspace: Workspace, selected: Sequence[Package]) -> tuple[Package, ...]:
    """The selected packages and every member they need: all their own internal
    dependencies (tests import dev ones too), then those members' runtime ones."""
    from poetflow.graph import ALL_EDGES

    graph = workspace.graph
    needed: dict[str, None] = {package.name: None for package in selected}
    stack = [dep for package in selected for dep in graph.dependencies_of(package.name, ALL_EDGES)]
    while stack:
        name = stack.pop()
        if name in needed or name not in workspace.by_name:
            continue
        needed[name] = None
        stack.extend(graph.dependencies_of(name))
    return tuple(p for p in workspace.packages if p.name in needed)
