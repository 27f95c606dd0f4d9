"""Editable wheels of Poetry projects, built once in this process and reused by every env.

A test environment installs its package and its path dependencies editable. Asking uv to
do it runs the build backend in a fresh isolated environment per project and per
environment (seconds each, again in every job); poetry-core's own editable builder makes
the same wheel (a ``.pth`` pointing at the sources, the metadata, the entry points) in
milliseconds. A wheel depends only on the project's pyproject.toml and its location, so it
is kept under ``.poetflow/cache/editables/`` and rebuilt when either changes.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["EditableWheels", "is_poetry_core_project"]

_POETRY_CORE_BACKEND = "poetry.core.masonry.api"
_LOCK = threading.Lock()


def is_poetry_core_project(project: Path) -> bool:
    """Built by poetry-core: its backend, or a legacy [tool.poetry] project without one."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    backend = data.get("build-system", {}).get("build-backend")
    if backend is None:
        return "poetry" in data.get("tool", {}) and "build-system" not in data
    return bool(backend == _POETRY_CORE_BACKEND)


def _core_version() -> str:
    from importlib.metadata import version

    return version("poetry-core")


class EditableWheels:
    """Builds (or finds) the editable wheel of a poetry-core project; thread-safe."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._built: dict[str, Path] = {}

    def _key(self, project: Path) -> str:
        digest = hashlib.sha256()
        for part in (_core_version(), str(project.resolve())):
            digest.update(part.encode() + b"\0")
        digest.update((project / "pyproject.toml").read_bytes())
        return digest.hexdigest()[:32]

    def wheel(self, project: Path) -> Path:
        """The editable wheel of ``project``; raises the builder's error when it fails."""
        key = self._key(project)
        with _LOCK:
            if key in self._built and self._built[key].is_file():
                return self._built[key]
            folder = self.cache_dir / key
            found = sorted(folder.glob("*.whl")) if folder.is_dir() else []
            if found:
                self._built[key] = found[0]
                return found[0]
            self._built[key] = self._build(project, folder)
            return self._built[key]

    def _build(self, project: Path, folder: Path) -> Path:
        from poetry.core.factory import Factory
        from poetry.core.masonry.builders.wheel import WheelBuilder

        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # Built beside the final folder and renamed into place: an interrupted build
        # leaves no half wheel for the next run to install.
        scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=self.cache_dir))
        try:
            poetry = Factory().create_poetry(project.resolve())
            name = WheelBuilder.make_in(poetry, scratch, editable=True)
            shutil.rmtree(folder, ignore_errors=True)
            scratch.rename(folder)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        return folder / name
