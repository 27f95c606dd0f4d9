"""Hook settings: ``[tool.poetflow.hooks]`` of the root and of each package, parsed at load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from poetflow.errors import ConfigError
from poetflow.pipeline.stages import HOOK_STAGES
from poetflow.tables import Table, closest

__all__ = [
    "DEFAULT_TIMEOUT",
    "HOOK_KEYS",
    "PACKAGE_HOOK_KEYS",
    "PIPELINE_HOOK_KEYS",
    "Hook",
    "Hooks",
    "parse_hooks",
]

PACKAGE_HOOK_KEYS: tuple[str, ...] = tuple(
    f"{when}-{stage}" for stage in HOOK_STAGES for when in ("pre", "post")
)
PIPELINE_HOOK_KEYS: tuple[str, ...] = ("pre-run", "post-run", "on-failure")
HOOK_KEYS = PACKAGE_HOOK_KEYS + PIPELINE_HOOK_KEYS
_HOOK_FIELDS = ("run", "cwd", "env", "timeout", "continue-on-error", "pass-env")
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Hook:
    """One configured command; ``key`` is where it runs (``pre-build``, ``post-run``, ...)."""

    key: str
    run: str
    source: Path | None = None
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    continue_on_error: bool = False
    pass_env: tuple[str, ...] = ()


# Hook key -> the commands configured for it.
Hooks = Mapping[str, tuple[Hook, ...]]


def _parse_hook(table: Table, key: str, value: Any, source: Path | None) -> Hook:
    where = f"{table.where}: {table.key(key)}"
    if isinstance(value, str):
        if not value.strip():
            raise ConfigError(f"{where} has an empty command.", hint="Remove it or fill it in.")
        return Hook(key=key, run=value, source=source)
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{where} must be a command string or a table, not {value!r}.",
            hint='Write it like ["make docs"] or [{run = "make docs", timeout = 120}].',
        )
    unknown = sorted(set(value) - set(_HOOK_FIELDS))
    if unknown:
        guess = closest(unknown[0], _HOOK_FIELDS)
        raise ConfigError(
            f"{where} has unknown field(s) {', '.join(unknown)}.",
            hint=f"Did you mean `{guess}`?"
            if guess
            else f"Hook fields are: {', '.join(_HOOK_FIELDS)}.",
        )
    fields = Table(value, table.where, table.key(key))
    run = value.get("run")
    if not isinstance(run, str) or not run.strip():
        raise ConfigError(f'{where} needs run = "<shell command>".')
    cwd = value.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise ConfigError(f"{where}: cwd must be a path string, not {cwd!r}.")
    env = value.get("env", {})
    if not isinstance(env, Mapping) or not all(
        isinstance(k, str) and isinstance(v, (str, int, float, bool)) for k, v in env.items()
    ):
        raise ConfigError(f"{where}: env must be a table of strings, not {env!r}.")
    timeout = fields.number("timeout", DEFAULT_TIMEOUT)
    continue_on_error = fields.boolean("continue-on-error", False)
    pass_env = value.get("pass-env", [])
    if isinstance(pass_env, str):
        pass_env = [pass_env]
    if not isinstance(pass_env, list) or not all(isinstance(item, str) for item in pass_env):
        raise ConfigError(
            f"{where}: pass-env must be a list of variable names.",
            hint='For example pass-env = ["SLACK_WEBHOOK"].',
        )
    return Hook(
        key=key,
        run=run,
        source=source,
        cwd=cwd,
        env={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in env.items()},
        timeout=timeout,
        continue_on_error=continue_on_error,
        pass_env=tuple(pass_env),
    )


def parse_hooks(table: Table, source: Path | None, *, package: bool = False) -> Hooks:
    """Validate a ``[tool.poetflow.hooks]`` table; each problem names the file and the key.

    A package's table holds stage hooks only: the pipeline hooks run once per run.
    """
    allowed = PACKAGE_HOOK_KEYS if package else HOOK_KEYS
    parsed: dict[str, tuple[Hook, ...]] = {}
    for key, value in table.data.items():
        if key not in allowed:
            if key in HOOK_KEYS:
                raise ConfigError(
                    f"{table.where}: {table.key(key)} runs once per pipeline and belongs in "
                    "the root pyproject.toml, not in a package.",
                    hint="Move it to [tool.poetflow.hooks] of the monorepo root.",
                )
            guess = closest(key, allowed)
            raise ConfigError(
                f"{table.where}: {table.path} has an unknown hook {key!r}.",
                hint=f"Did you mean `{guess}`?" if guess else f"Known hooks: {', '.join(allowed)}.",
            )
        items = value if isinstance(value, list) else [value]
        parsed[key] = tuple(_parse_hook(table, key, item, source) for item in items)
    return parsed
