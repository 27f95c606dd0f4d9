"""Running hooks: the environment they see, the program check, the run, the message."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from poetflow.errors import ConfigError, PoetFlowError, StepFailedError
from poetflow.hooks.config import PIPELINE_HOOK_KEYS, Hook
from poetflow.masking import (
    is_credential_variable,
    mask,
    register_secret,
    registered_secrets,
)
from poetflow.process import run_process
from poetflow.workspace import Package, Workspace

__all__ = [
    "HookFailedError",
    "HookInvocation",
    "HookNotFoundError",
    "HookResult",
    "check_hook",
    "hook_environment",
    "hooks_for",
    "run_hook",
    "run_pipeline_hooks",
]

# Words /bin/sh runs itself: there is no program on PATH to check for them.
_SHELL_WORDS = frozenset(
    {
        ".",
        ":",
        "[",
        "alias",
        "break",
        "case",
        "cd",
        "command",
        "continue",
        "echo",
        "eval",
        "exec",
        "exit",
        "export",
        "false",
        "for",
        "getopts",
        "hash",
        "if",
        "printf",
        "pwd",
        "read",
        "readonly",
        "return",
        "set",
        "shift",
        "source",
        "test",
        "times",
        "trap",
        "true",
        "type",
        "ulimit",
        "umask",
        "unalias",
        "unset",
        "until",
        "wait",
        "while",
        "{",
        "(",
        "!",
    }
)
HookStatus = Literal["passed", "failed", "timed out", "would run"]


class HookNotFoundError(PoetFlowError):
    """A configured hook's program does not exist or is not executable; nothing was run."""


class HookFailedError(StepFailedError):
    """A hook (shell command or stage-hook plugin) failed for one package.

    ``result`` is what the stage itself returned when a post-hook failed (None otherwise).
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        hook: HookResult | None = None,
        result: object = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.hook = hook
        self.result = result


@dataclass(frozen=True)
class HookInvocation:
    """Where and for what a hook runs; becomes its ``POETFLOW_*`` environment."""

    stage: str
    root: Path
    package: Package | None = None
    version: str | None = None
    next_version: str | None = None
    artifacts: tuple[Path, ...] = ()
    dry_run: bool = False
    report: Path | None = None

    @property
    def directory(self) -> Path:
        return self.package.path if self.package is not None else self.root

    @property
    def owner(self) -> str:
        """How messages name what the hook belongs to."""
        return f"package {self.package.name!r}" if self.package else "the pipeline"


@dataclass(frozen=True)
class HookResult:
    """A hook that ran (or would run, under ``--dry-run``); ``output`` is masked."""

    key: str
    package: str | None
    command: str
    cwd: Path
    status: HookStatus
    returncode: int | None = None
    output: str = ""
    duration: float = 0.0
    continue_on_error: bool = False

    @property
    def ok(self) -> bool:
        """False only for a failure that stops what the hook guards."""
        return self.status in ("passed", "would run") or self.continue_on_error

    def to_dict(self) -> dict[str, Any]:
        return {
            "hook": self.key,
            "package": self.package,
            "command": self.command,
            "cwd": str(self.cwd),
            "status": self.status,
            "returncode": self.returncode,
            "duration": round(self.duration, 3),
            "continue_on_error": self.continue_on_error,
            "output": self.output,
        }


def _where(source: Path | None) -> str:
    return str(source) if source else "[tool.poetflow.hooks]"


def hooks_for(workspace: Workspace, key: str, package: Package | None = None) -> tuple[Hook, ...]:
    """The hooks configured for ``key``: the package's own list replaces the root's."""
    if package is not None and key in package.config.hooks:
        return package.config.hooks[key]
    return workspace.config.hooks.get(key, ())


def hook_environment(
    hook: Hook, invocation: HookInvocation, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a hook sees: ``base`` without credentials, its env, the POETFLOW_* facts."""
    source = os.environ if base is None else base
    allowed = set(hook.pass_env)
    # A credential handed over by name is still a credential: whatever the hook prints
    # of it is masked, whichever command runs the hook.
    for name in allowed:
        if is_credential_variable(name):
            register_secret(source.get(name))
            if name.endswith("_FILE") and source.get(name):
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    register_secret(Path(source[name]).read_text(encoding="utf-8").strip())
    secrets = registered_secrets()
    environment = {
        name: value
        for name, value in source.items()
        if name in allowed or not (is_credential_variable(name) or value in secrets)
    }
    environment.update(hook.env)
    package = invocation.package
    environment.update(
        {
            "POETFLOW_STAGE": invocation.stage,
            "POETFLOW_HOOK": hook.key,
            "POETFLOW_ROOT": str(invocation.root),
            "POETFLOW_PACKAGE": package.name if package else "",
            "POETFLOW_PACKAGE_PATH": str(package.path) if package else "",
            "POETFLOW_VERSION": invocation.version or "",
            "POETFLOW_NEXT_VERSION": invocation.next_version or "",
            "POETFLOW_ARTIFACTS": os.pathsep.join(str(path) for path in invocation.artifacts),
            "POETFLOW_DRY_RUN": "1" if invocation.dry_run else "0",
            "POETFLOW_REPORT": str(invocation.report) if invocation.report else "",
        }
    )
    return environment


def _hook_cwd(hook: Hook, invocation: HookInvocation) -> Path:
    base = invocation.directory
    return (base / hook.cwd).resolve() if hook.cwd else base


def _program(hook: Hook) -> str | None:
    """The program a command starts, or None when only the shell can know (``$CMD``)."""
    try:
        words = shlex.split(hook.run, comments=True)
    except ValueError as exc:
        raise ConfigError(
            f"{_where(hook.source)}: tool.poetflow.hooks.{hook.key} command {hook.run!r} "
            f"cannot be parsed: {exc}.",
            hint="Balance its quotes.",
        ) from exc
    for word in words:
        if "=" in word and word.split("=", 1)[0].isidentifier():
            continue  # a VAR=value prefix
        if word in _SHELL_WORDS or any(char in word for char in "$`*?;|&<>(){}"):
            return None
        return word
    return None


def check_hook(hook: Hook, invocation: HookInvocation) -> None:
    """Raise HookNotFoundError when the hook's folder or program is missing or not executable."""
    where = f"{hook.key} hook of {invocation.owner} ({_where(hook.source)})"
    cwd = _hook_cwd(hook, invocation)
    if not cwd.is_dir():
        raise HookNotFoundError(
            f"The {where} runs in {cwd}, which does not exist.",
            hint="Fix its cwd (relative to the package folder).",
        )
    program = _program(hook)
    if program is None:
        return
    if "/" in program:
        path = Path(program) if os.path.isabs(program) else cwd / program
        if not path.is_file():
            raise HookNotFoundError(
                f"The {where} runs {program!r}, which does not exist in {cwd}.",
                hint="Fix the path in [tool.poetflow.hooks] or create the script.",
            )
        if not os.access(path, os.X_OK):
            raise HookNotFoundError(
                f"The {where} runs {program!r}, which is not executable.",
                hint=f"Make it executable: chmod +x {path}",
            )
        return
    search_path = hook.env.get("PATH", os.environ.get("PATH", os.defpath))
    if shutil.which(program, path=search_path) is None:
        raise HookNotFoundError(
            f"The {where} runs {program!r}, which is not on PATH.",
            hint=f"Install {program} or fix the command in [tool.poetflow.hooks].",
        )


def run_hook(hook: Hook, invocation: HookInvocation) -> HookResult:
    """Run one hook with ``/bin/sh -c`` (or describe it under dry-run); never raises for exit."""
    cwd = _hook_cwd(hook, invocation)
    name = invocation.package.name if invocation.package else None
    if invocation.dry_run:
        return HookResult(
            hook.key,
            name,
            mask(hook.run),
            cwd,
            "would run",
            continue_on_error=hook.continue_on_error,
        )
    process = run_process(
        ["/bin/sh", "-c", hook.run],
        cwd=cwd,
        env=hook_environment(hook, invocation),
        timeout=hook.timeout,
    )
    status: HookStatus = "passed"
    if process.timed_out:
        status = "timed out"
    elif process.returncode != 0:
        status = "failed"
    return HookResult(
        key=hook.key,
        package=name,
        command=mask(hook.run),
        cwd=cwd,
        status=status,
        returncode=None if process.timed_out else process.returncode,
        output=process.output,
        duration=process.duration,
        continue_on_error=hook.continue_on_error,
    )


def failure_message(result: HookResult, invocation: HookInvocation, timeout: float) -> str:
    """One sentence for a failed hook, with the tail of its output."""
    if result.status == "timed out":
        what = f"timed out after {timeout:g} s"
    else:
        what = f"failed with exit code {result.returncode}"
    tail = "\n".join(result.output.rstrip().splitlines()[-20:])
    message = f"The {result.key} hook {result.command!r} of {invocation.owner} {what}."
    if tail:
        message += f"\n{tail}"
    return message


def run_pipeline_hooks(
    workspace: Workspace,
    key: str,
    *,
    dry_run: bool = False,
    report: Path | None = None,
    check_only: bool = False,
) -> tuple[HookResult, ...]:
    """Run the root's ``pre-run``/``post-run``/``on-failure`` hooks in the monorepo root.

    Raises HookFailedError at the first failure (that is not continue-on-error), and
    HookNotFoundError (exit 2) before running anything when a program is missing (for
    ``pre-run``: in any of the three pipeline hooks).
    """
    if key not in PIPELINE_HOOK_KEYS:
        raise ValueError(f"{key} is not a pipeline hook")
    hooks = hooks_for(workspace, key)
    invocation = HookInvocation(
        stage=key.split("-", 1)[1] if key != "on-failure" else "failure",
        root=workspace.root,
        dry_run=dry_run,
        report=report,
    )
    # pre-run checks the post-run and on-failure hooks too: a typo there must stop the
    # pipeline before it releases anything, not after.
    for checked in PIPELINE_HOOK_KEYS if key == "pre-run" else (key,):
        for hook in hooks_for(workspace, checked):
            check_hook(hook, invocation)
    if check_only:
        return ()
    results: list[HookResult] = []
    for hook in hooks:
        result = run_hook(hook, invocation)
        results.append(result)
        if not result.ok:
            raise HookFailedError(
                failure_message(result, invocation, hook.timeout),
                hint=f"Rerun it by hand: cd {shlex.quote(str(result.cwd))} && {result.command}",
                hook=result,
            )
    return tuple(results)
