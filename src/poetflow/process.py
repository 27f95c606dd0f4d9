"""The one way PoetFlow runs subprocesses: captured output, timeouts, secrets masked."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from poetflow.errors import PoetFlowError
from poetflow.masking import mask

__all__ = ["CommandNotFoundError", "ProcessResult", "run_process"]


class CommandNotFoundError(PoetFlowError):
    """The program to run does not exist on PATH."""


@dataclass(frozen=True)
class ProcessResult:
    """A finished subprocess; ``output`` is stdout and stderr interleaved, secrets masked."""

    command: tuple[str, ...]
    cwd: Path
    returncode: int
    output: str
    duration: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def rerun_hint(self) -> str:
        """How a person reruns this command by hand."""
        return f"cd {shlex.quote(str(self.cwd))} && {shlex.join(self.command)}"


def run_process(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> ProcessResult:
    """Run ``command`` in ``cwd``, capturing its output; never raises for a non-zero exit.

    ``env`` replaces the environment, ``extra_env`` is added to it (or to os.environ).
    """
    environment = dict(os.environ if env is None else env)
    if extra_env:
        environment.update(extra_env)
    started = time.monotonic()
    try:
        completed = subprocess.run(
            list(command),
            cwd=cwd,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise CommandNotFoundError(
            f"Cannot run {command[0]!r} in {cwd}: command not found.",
            hint=f"Install {command[0]} or fix the command.",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        output = exc.output.decode("utf-8", "replace") if isinstance(exc.output, bytes) else ""
        return ProcessResult(
            tuple(command), cwd, -1, mask(output), time.monotonic() - started, timed_out=True
        )
    return ProcessResult(
        command=tuple(command),
        cwd=cwd,
        returncode=completed.returncode,
        output=mask(completed.stdout.decode("utf-8", "replace")),
        duration=time.monotonic() - started,
    )
