"""Test settings: ``[tool.poetflow.test]`` of the root, overridden by a package's own table."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast, get_args

from poetflow.tables import Table

__all__ = [
    "DEFAULT_COMMANDS",
    "EnvironmentKind",
    "Installer",
    "TestSettings",
    "VenvLocation",
    "parse_test",
]

EnvironmentKind = Literal["poetry", "shared", "current"]
# What fills a package's own env from its lock: uv (fast, exact) or `poetry install`.
Installer = Literal["uv", "poetry"]
# Where that env lives: .poetflow/venvs/<name>, or where Poetry keeps the package's env.
VenvLocation = Literal["poetflow", "poetry"]

DEFAULT_COMMANDS: tuple[str, ...] = ("pytest",)
KEYS = ("commands", "env", "env-vars", "timeout", "installer", "venvs")


@dataclass(frozen=True)
class TestSettings:
    """How one package is tested: its commands (each already split into argv), where
    they run, extra environment variables and a per-command timeout in seconds."""

    __test__ = False  # not a pytest test class despite the name

    commands: tuple[tuple[str, ...], ...] = tuple((c,) for c in DEFAULT_COMMANDS)
    env: EnvironmentKind = "poetry"
    env_vars: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    installer: Installer = "uv"
    venvs: VenvLocation = "poetflow"


def parse_test(table: Table, base: TestSettings | None = None) -> TestSettings:
    """Validate a ``[tool.poetflow.test]`` table; its keys replace ``base``'s one by one
    (a package's own table over the root's)."""
    base = base or TestSettings()
    table.only(KEYS)
    commands = base.commands
    raw = table.strings("commands", None, example='commands = ["pytest -q", "ruff check ."]')
    if raw is not None:
        if not all(command.strip() for command in raw):
            raise table.error(
                "commands",
                "must be a list of non-empty strings.",
                'Write it like commands = ["pytest -q", "ruff check ."].',
            )
        try:
            commands = tuple(tuple(shlex.split(command)) for command in raw)
        except ValueError as exc:
            raise table.error(
                "commands", f"has a command that cannot be parsed ({exc}).", "Check its quotes."
            ) from exc
    env = cast(EnvironmentKind, table.choice("env", get_args(EnvironmentKind), base.env))
    env_vars = dict(base.env_vars)
    if "env-vars" in table:
        raw_vars = table.mapping("env-vars")
        if not all(isinstance(value, str) for value in raw_vars.values()):
            raise table.error(
                "env-vars",
                "must be a table of strings.",
                'Write it like env-vars = { DJANGO_SETTINGS = "test" }.',
            )
        env_vars.update(raw_vars)
    timeout = table.number("timeout", base.timeout)
    installer = cast(Installer, table.choice("installer", get_args(Installer), base.installer))
    venvs = cast(VenvLocation, table.choice("venvs", get_args(VenvLocation), base.venvs))
    return TestSettings(
        commands=commands,
        env=env,
        env_vars=env_vars,
        timeout=timeout,
        installer=installer,
        venvs=venvs,
    )
