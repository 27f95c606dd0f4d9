"""Install exactly what a package's poetry.lock pins into a virtualenv, with uv.

The lock becomes two installs. First every distribution from an index, URL or file, as a
requirements file of ``name==version --hash=...`` lines (the lock's hashes, markers already
evaluated for this interpreter) installed with ``--require-hashes --no-deps``: nothing is
resolved, so the result is the lock and nothing else. Then what has no hash to check:
git revisions at their locked commit, path dependencies (editable when the lock says
``develop = true``) and the package itself, editable, with ``--no-deps``.

Both installs try uv's cache alone first (``--offline``): after a CI cache restore that
is all they need, and asking the index about twenty files costs more than installing
them. When something is missing they run again with the index.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poetflow.lockfile.selection import Lock, LockedPackage, select_packages, sources_needed
from poetflow.masking import secret_from_environment
from poetflow.process import ProcessResult
from poetflow.qa.editables import EditableWheels, is_poetry_core_project
from poetflow.uv import Index, UvCli, uv_index_name

__all__ = ["LockInstall", "LockInstallError", "plan_lock_install", "poetry_index"]


class LockInstallError(Exception):
    """An install step failed; ``output`` holds every step's command and output."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output


@dataclass(frozen=True)
class LockInstall:
    """What installing one lock takes: hash-pinned requirement lines, unpinned ones
    (git), local projects (``editable`` or not) and the indexes the files come from."""

    pinned: tuple[str, ...]
    unpinned: tuple[str, ...]
    directories: tuple[tuple[Path, bool], ...]
    indexes: tuple[Index, ...]
    distributions: tuple[tuple[str, str], ...]  # (name, version), for reports and tests

    def run(
        self,
        uv: UvCli,
        python: Path,
        workdir: Path,
        editables: EditableWheels,
        *,
        timeout: float | None,
    ) -> str:
        """Install everything into the env of ``python``; returns the combined output.

        Raises LockInstallError naming the step that failed.
        """
        outputs: list[str] = []
        if self.pinned:
            requirements = workdir / "requirements.txt"
            requirements.write_text("\n".join(self.pinned) + "\n", encoding="utf-8")
            self._install(
                uv,
                python,
                workdir,
                ["--require-hashes", "--no-deps", "-r", str(requirements)],
                outputs,
                pinned=True,
                timeout=timeout,
            )
        local: list[str] = list(self.unpinned)
        for path, editable in self.directories:
            if editable and is_poetry_core_project(path):
                try:
                    local.append(str(editables.wheel(path)))
                except Exception as exc:
                    outputs.append(f"poetry-core editable build of {path}:\n{exc}")
                    raise LockInstallError(
                        f"poetry-core could not build {path} editable", "\n".join(outputs)
                    ) from exc
            elif editable:
                local += ["-e", str(path)]
            else:
                local.append(str(path))
        if local:
            self._install(
                uv, python, workdir, ["--no-deps", *local], outputs, pinned=False, timeout=timeout
            )
        return "\n".join(outputs)

    def _install(
        self,
        uv: UvCli,
        python: Path,
        workdir: Path,
        arguments: list[str],
        outputs: list[str],
        *,
        pinned: bool,
        timeout: float | None,
    ) -> None:
        result: ProcessResult | None = None
        for offline in (True, False):
            result = uv.pip_install(
                python,
                arguments,
                cwd=workdir,
                indexes=self.indexes,
                offline=offline,
                pinned=pinned,
                timeout=timeout,
            )
            if result.ok:
                break
        assert result is not None
        outputs.append(f"$ uv pip install {' '.join(arguments)}\n{result.output}")
        if not result.ok:
            note = f"\n(timed out; rerun: {result.rerun_hint})" if result.timed_out else ""
            raise LockInstallError("uv pip install failed", "\n".join(outputs) + note)


def _git_requirement(package: LockedPackage) -> str:
    source = package.source
    url = source.url or ""
    revision = source.resolved_reference or source.reference
    line = f"{package.name} @ git+{url}" + (f"@{revision}" if revision else "")
    if source.subdirectory:
        line += f"#subdirectory={source.subdirectory}"
    return line


def _hashes(package: LockedPackage) -> str:
    return " ".join(f"--hash={digest}" for digest in package.hashes)


def poetry_index(reference: str, url: str, env: Mapping[str, str] | None = None) -> Index:
    """The Poetry source ``reference`` as a uv index, with the credentials Poetry itself
    reads (``POETRY_HTTP_BASIC_<NAME>_USERNAME`` / ``_PASSWORD``), so CI secrets keep working."""
    env = os.environ if env is None else env
    variable = re.sub(r"[^A-Z0-9]", "_", reference.upper())
    username = secret_from_environment(env, f"POETRY_HTTP_BASIC_{variable}_USERNAME")
    password = secret_from_environment(env, f"POETRY_HTTP_BASIC_{variable}_PASSWORD")
    return Index(uv_index_name(reference), url, username, password)


def plan_lock_install(
    lock: Lock,
    project: Path,
    groups: Sequence[str],
    environment: Mapping[str, Any],
    *,
    install_root: bool,
    env: Mapping[str, str] | None = None,
) -> LockInstall:
    """Translate ``lock`` (of ``project``) into the installs of :class:`LockInstall`."""
    selected = select_packages(lock, groups, environment)
    pinned: list[str] = []
    unpinned: list[str] = []
    directories: list[tuple[Path, bool]] = []
    base = lock.path.parent
    for package in selected:
        source = package.source
        if source.type == "directory":
            directories.append(((base / (source.url or ".")).resolve(), package.develop))
        elif source.type == "git":
            unpinned.append(_git_requirement(package))
        elif source.type in ("file", "url"):
            location = source.url or ""
            if source.type == "file":
                location = (base / location).resolve().as_uri()
            line = f"{package.name} @ {location}"
            (pinned if package.hashes else unpinned).append(f"{line} {_hashes(package)}".rstrip())
        elif package.hashes:
            pinned.append(f"{package.name}=={package.version} {_hashes(package)}")
        else:  # an index that published no hashes: pinned by version alone
            unpinned.append(f"{package.name}=={package.version}")
    if install_root:
        directories.append((project.resolve(), True))
    indexes = [poetry_index(reference, url, env) for reference, url in sources_needed(selected)]
    return LockInstall(
        pinned=tuple(pinned),
        unpinned=tuple(unpinned),
        directories=tuple(directories),
        indexes=tuple(indexes),
        distributions=tuple((p.name, p.version) for p in selected),
    )
