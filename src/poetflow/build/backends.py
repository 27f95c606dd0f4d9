"""The three ways a staged package becomes an sdist and a wheel.

``core``: poetry-core's own builders, in this process (what ``poetry build`` runs, minus
Poetry's start-up). ``poetry``: the ``poetry build`` command line, for projects that need
a Poetry plugin at build time. ``pep517``: any other build backend (setuptools, hatchling,
maturin...) through the ``build`` front end in an isolated environment.
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from poetflow.build.staging import is_staging_path
from poetflow.errors import PoetFlowError
from poetflow.process import ProcessResult, run_process

if TYPE_CHECKING:
    from poetflow.poetry_cli import PoetryCli

__all__ = [
    "POETRY_CORE_BACKEND",
    "BackendError",
    "BackendKind",
    "backend_kind",
    "build_with_core",
    "build_with_pep517",
    "build_with_poetry",
]

logger = logging.getLogger(__name__)

POETRY_CORE_BACKEND = "poetry.core.masonry.api"
BackendKind = Literal["core", "poetry", "pep517"]

# poetry-core's Factory fills class-level caches (JSON schemas) lazily; creating projects
# under a lock keeps concurrent threads from racing on them (it is a few milliseconds).
_FACTORY_LOCK = threading.Lock()
_POETRY_LOCK = threading.Lock()


class BackendError(PoetFlowError):
    """A build backend failed; ``output`` holds what it printed."""

    def __init__(self, message: str, *, output: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.output = output


@dataclass(frozen=True)
class _Built:
    sdist: Path
    wheel: Path


def backend_kind(build_backend: str | None, requested: Literal["core", "poetry"]) -> BackendKind:
    """poetry-core projects (and legacy ones with no [build-system]) use the requested
    builder; every other backend goes through PEP 517."""
    if build_backend in (None, POETRY_CORE_BACKEND):
        return requested
    return "pep517"


def _skip_vcs_probe_in_staging() -> None:
    """Stop poetry-core from asking git about staging folders.

    Each poetry-core builder runs two git processes to find VCS-ignored files. A staging
    copy lives outside any repository and already lacks ignored files (SourceTree left
    them out), so the answer is always "none": two thirds of a small package's build
    time would go to learning it. Other paths keep poetry-core's own behaviour.
    """
    from poetry.core import vcs

    with _FACTORY_LOCK:
        original = vcs.get_vcs
        if getattr(original, "_poetflow_staging_aware", False):
            return

        def get_vcs(directory: Path) -> Any:
            if is_staging_path(Path(directory)):
                return None
            return original(directory)

        get_vcs._poetflow_staging_aware = True  # type: ignore[attr-defined]
        vcs.get_vcs = get_vcs


def build_with_core(project: Path, out: Path, epoch: int | None) -> _Built:
    """Build with poetry-core in-process; ``epoch`` fixes every archive timestamp.

    SOURCE_DATE_EPOCH is read by poetry-core from os.environ, which threads share; the
    builders cache the value per instance, so it is given to each instance instead.
    """
    from poetry.core.factory import Factory
    from poetry.core.masonry.builders.sdist import SdistBuilder
    from poetry.core.masonry.builders.wheel import WheelBuilder

    _skip_vcs_probe_in_staging()
    try:
        with _FACTORY_LOCK:
            poetry = Factory().create_poetry(project, with_groups=False)
        sdist_builder = SdistBuilder(poetry)
        wheel_builder = WheelBuilder(poetry)
        if epoch is not None:
            # poetry-core's own rules: wheels cannot hold dates before 1980.
            import time

            date_time = time.gmtime(epoch)[:6]
            sdist_builder.__dict__["_archive_mtime"] = epoch
            if date_time[0] >= 1980:
                wheel_builder.__dict__["_zipfile_date_time"] = date_time
        sdist = sdist_builder.build(out)
        wheel = wheel_builder.build(out)
    except (RuntimeError, ValueError, OSError, KeyError) as exc:
        raise BackendError(f"poetry-core could not build it: {exc}") from exc
    except Exception as exc:  # poetry-core raises its own bases (PoetryCoreError, ...)
        raise BackendError(f"poetry-core could not build it: {type(exc).__name__}: {exc}") from exc
    return _Built(Path(sdist), Path(wheel))


def _epoch_env(epoch: int | None) -> dict[str, str]:
    return {} if epoch is None else {"SOURCE_DATE_EPOCH": str(epoch)}


def _collect(out: Path, result: ProcessResult, what: str) -> _Built:
    if not result.ok:
        reason = "timed out" if result.timed_out else f"exited with {result.returncode}"
        tail = "\n".join(result.output.strip().splitlines()[-20:])
        raise BackendError(
            f"{what} {reason}: {tail}",
            output=result.output,
            hint=f"Run {what} in the package folder to see its whole output.",
        )
    sdists = sorted(out.glob("*.tar.gz"))
    wheels = sorted(out.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        found = ", ".join(path.name for path in sorted(out.iterdir())) or "nothing"
        raise BackendError(f"{what} was expected to write one sdist and one wheel, wrote {found}.")
    return _Built(sdists[0], wheels[0])


_POETRY: list[PoetryCli] = []


def _poetry_cli() -> PoetryCli:
    """One PoetryCli per process: it locates Poetry once (a ``poetry --version`` run)."""
    from poetflow.poetry_cli import PoetryCli

    with _POETRY_LOCK:
        if not _POETRY:
            _POETRY.append(PoetryCli())
        return _POETRY[0]


def build_with_poetry(project: Path, out: Path, epoch: int | None, timeout: float) -> _Built:
    """Run ``poetry build --output OUT`` in the staged project."""
    result = _poetry_cli().run(
        ["build", "--output", str(out)], cwd=project, timeout=timeout, extra_env=_epoch_env(epoch)
    )
    return _collect(out, result, "`poetry build`")


def build_with_pep517(project: Path, out: Path, epoch: int | None, timeout: float) -> _Built:
    """Run the ``build`` front end: an isolated environment with the declared
    build requirements, the sdist first and the wheel built from it."""
    result = run_process(
        [sys.executable, "-m", "build", "--outdir", str(out), str(project)],
        cwd=project,
        timeout=timeout,
        extra_env=_epoch_env(epoch),
    )
    return _collect(out, result, "`python -m build`")
