"""Test settings: ``[tool.poetflow.test]`` of the root, overridden by a package's own table."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

from poetflow.errors import ConfigError
from poetflow.workspace import Package, Workspace

__all__ = ["DEFAULT_COMMANDS", "EnvironmentKind", "TestSettings", "package_settings"]

EnvironmentKind = Literal["poetry", "shared", "current"]

DEFAULT_COMMANDS: tuple[str, ...] = ("pytest",)
_KEYS = ("commands", "env", "env-vars", "timeout")


@dataclass(frozen=True)
class TestSettings:
    """How one package is tested: its commands (each already split into argv), where
    they run, extra environment variables and a per-command timeout in seconds."""

    __test__ = False  # not a pytest test class despite the name

    commands: tuple[tuple[str, ...], ...] = tuple((c,) for c in DEFAULT_COMMANDS)
    env: EnvironmentKind = "poetry"
    env_vars: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None


def _where(source: Path | None, package: Package | None) -> str:
    if package is not None:
        return str(package.pyproject)
    return str(source) if source else "pyproject.toml"


def _parse_table(table: Mapping[str, Any], base: TestSettings, where: str) -> TestSettings:
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} in [tool.poetflow.test].",
            hint=f"Known keys: {', '.join(_KEYS)}.",
        )
    commands = base.commands
    if "commands" in table:
        raw = table["commands"]
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(c, str) and c.strip() for c in raw):
            raise ConfigError(
                f"{where}: tool.poetflow.test.commands must be a list of non-empty strings, "
                f"not {raw!r}.",
                hint='Write it like commands = ["pytest -q", "ruff check ."].',
            )
        try:
            commands = tuple(tuple(shlex.split(command)) for command in raw)
        except ValueError as exc:
            raise ConfigError(
                f"{where}: a test command cannot be parsed ({exc}).",
                hint="Check the quotes in tool.poetflow.test.commands.",
            ) from exc
    env = base.env
    if "env" in table:
        if table["env"] not in get_args(EnvironmentKind):
            raise ConfigError(
                f"{where}: tool.poetflow.test.env is {table['env']!r}; it must be one of "
                '"poetry", "shared", "current".'
            )
        env = cast(EnvironmentKind, table["env"])
    env_vars = dict(base.env_vars)
    if "env-vars" in table:
        raw_vars = table["env-vars"]
        if not isinstance(raw_vars, Mapping) or not all(
            isinstance(value, str) for value in raw_vars.values()
        ):
            raise ConfigError(
                f"{where}: tool.poetflow.test.env-vars must be a table of strings.",
                hint='Write it like env-vars = { DJANGO_SETTINGS = "test" }.',
            )
        env_vars.update(raw_vars)
    timeout = base.timeout
    if "timeout" in table:
        value = table["timeout"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(
                f"{where}: tool.poetflow.test.timeout must be a positive number of seconds, "
                f"not {value!r}."
            )
        timeout = float(value)
    return TestSettings(commands=commands, env=env, env_vars=env_vars, timeout=timeout)


def _test_table(settings: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    table = settings.get("test", {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: [tool.poetflow.test] must be a table.")
    return table


def workspace_settings(workspace: Workspace) -> TestSettings:
    """The root's ``[tool.poetflow.test]`` over the defaults."""
    where = _where(workspace.config.source, None)
    return _parse_table(_test_table(workspace.config.raw, where), TestSettings(), where)


def package_settings(
    workspace: Workspace, package: Package, base: TestSettings | None = None
) -> TestSettings:
    """A package's own ``[tool.poetflow.test]`` keys replace the root's, key by key."""
    root = base if base is not None else workspace_settings(workspace)
    where = _where(None, package)
    # A root project that is also a member carries the workspace table itself.
    if package.path == workspace.root:
        return root
    return _parse_table(_test_table(package.settings, where), root, where)
