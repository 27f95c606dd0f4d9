"""Action inputs (``INPUT_<NAME>``) and ``POETFLOW_*`` variables turned into a poetflow argv."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from poetflow.errors import UsageError

__all__ = [
    "ACTION_INPUTS",
    "DEFAULT_COMMAND",
    "ActionInput",
    "InputError",
    "Invocation",
    "command_options",
    "invocation_from_env",
    "read_inputs",
]

DEFAULT_COMMAND = "run"

InputKind = Literal["command", "string", "list", "bool", "int", "args", "directory"]
Placement = Literal["global", "command"]


class InputError(UsageError):
    """An action input or POETFLOW_* variable has a value PoetFlow cannot use (exit 2)."""


@dataclass(frozen=True)
class ActionInput:
    """One input of action.yml, its default there, and the CLI option it becomes
    (``option`` empty: not argv)."""

    name: str
    kind: InputKind
    option: str = ""
    placement: Placement = "command"
    default: str = ""


# The inputs action.yml declares, in its order. Global options go before the command name
# (every command accepts them there); the others after it, when the command has them.
ACTION_INPUTS: tuple[ActionInput, ...] = (
    ActionInput("command", "command", default=DEFAULT_COMMAND),
    ActionInput("all", "bool", "--all", default="false"),
    ActionInput("packages", "list", "--package"),
    ActionInput("since", "string", "--since"),
    ActionInput("stages", "string", "--stages"),
    ActionInput("skip", "string", "--skip"),
    # Several indexes in one run: "internal, pypi" gives --repository once per name.
    ActionInput("repository", "list", "--repository"),
    ActionInput("repository-url", "string", "--repository-url"),
    ActionInput("sign", "bool", "--sign", default="false"),
    ActionInput("dry-run", "bool", "--dry-run", "global", default="false"),
    ActionInput("working-directory", "directory"),
    ActionInput("jobs", "int", "--jobs"),
    ActionInput("report-dir", "string", "--report-dir", default=".poetflow"),
    ActionInput("log-level", "string", "--log-level", "global", default="info"),
    ActionInput("log-format", "string", "--log-format", "global", default="text"),
    ActionInput("root", "string", "--root", "global"),
    ActionInput("otel", "string", "--otel"),
    ActionInput("args", "args"),
)
_BY_NAME = {spec.name: spec for spec in ACTION_INPUTS}
# POETFLOW_* variables the CLI does not read by itself (typer reads POETFLOW_ROOT,
# POETFLOW_LOG_LEVEL, POETFLOW_DRY_RUN, ... directly, so those are not repeated on argv).
_POETFLOW_VARIABLES = (
    "command", "all", "packages", "stages", "skip", "repository", "repository-url",
    "sign", "jobs", "report-dir", "otel", "working-directory", "args",
)  # fmt: skip
# GitHub's core.getBooleanInput accepts exactly the YAML 1.2 core schema spellings.
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
_CLICK_TRUE = ("1", "yes", "on", "y", "t")
_CLICK_FALSE = ("0", "no", "off", "n", "f")
_LIST_SPLIT = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class Invocation:
    """What the container runs: poetflow ``argv`` in ``cwd``, and where it came from."""

    argv: tuple[str, ...]
    cwd: Path
    source: Literal["argv", "inputs", "env", "default"]
    passthrough: bool = False  # argv names another program (a CI shell), not a poetflow command
    report_dir: str | None = None  # where the hand-over writes the report, when not on argv
    ignored: tuple[str, ...] = ()  # why inputs the command has no option for were left out


def read_inputs(env: Mapping[str, str]) -> dict[str, str]:
    """The non-empty action inputs; ``INPUT_DRY-RUN`` and ``INPUT_DRY_RUN`` both count.

    GitHub passes every input, defaults included, so an empty value means "not set".
    The hyphen spelling (the one GitHub writes) wins when both are present.
    """
    found: dict[str, str] = {}
    for spec in ACTION_INPUTS:
        upper = spec.name.upper()
        for key in (f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}"):
            value = env.get(key, "").strip()
            if value and spec.name not in found:
                found[spec.name] = value
    return found


def _read_poetflow_variables(env: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in _POETFLOW_VARIABLES:
        value = env.get("POETFLOW_" + name.upper().replace("-", "_"), "").strip()
        if value:
            found[name] = value
    return found


def _boolean(name: str, value: str, source: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if source == "env" and value.lower() in _CLICK_TRUE:
        return True
    if source == "env" and value.lower() in _CLICK_FALSE:
        return False
    raise InputError(
        f"{_describe(name, source)} must be true or false, not {value!r}.",
        hint="Write it as true or false (a quoted 'yes' or '1' is not a boolean here).",
    )


def _describe(name: str, source: str) -> str:
    if source == "inputs":
        return f"Action input '{name}'"
    return f"Environment variable POETFLOW_{name.upper().replace('-', '_')}"


def _arguments(
    values: Mapping[str, str], source: str
) -> tuple[list[str], list[str], list[str], list[str]]:
    """(global options, command words, command options, notes on inputs left out).

    A command option is given only to a command that has it (``discover`` has no
    ``--report-dir``): an input at its action.yml default is left out quietly, any other
    value with a note, and so is every POETFLOW_* variable (the CLI reads those itself).
    """
    globals_: list[str] = []
    command = shlex.split(values.get("command", DEFAULT_COMMAND)) or [DEFAULT_COMMAND]
    if command[0] == "poetflow":  # `command: poetflow plan` reads naturally too
        command = command[1:] or [DEFAULT_COMMAND]
    accepted = command_options(command)
    options: list[str] = []
    ignored: list[str] = []
    for spec in ACTION_INPUTS:
        value = values.get(spec.name)
        if value is None or spec.kind in ("command", "directory", "args"):
            continue
        target = globals_ if spec.placement == "global" else options
        words = _option_words(spec, value, source)
        if not words:
            continue
        if spec.placement == "command" and accepted is not None and spec.option not in accepted:
            if source == "inputs" and value != spec.default:
                ignored.append(
                    f"{_describe(spec.name, source)} does not apply to "
                    f"`poetflow {' '.join(command)}`; it was left out."
                )
            continue
        target.extend(words)
    if "args" in values:
        try:
            options.extend(shlex.split(values["args"]))
        except ValueError as exc:
            raise InputError(f"{_describe('args', source)} cannot be split: {exc}.") from exc
    return globals_, command, options, ignored


def _option_words(spec: ActionInput, value: str, source: str) -> list[str]:
    """The argv words of one input's value (none for a false boolean)."""
    if spec.kind == "bool":
        return [spec.option] if _boolean(spec.name, value, source) else []
    if spec.kind == "list":
        return [word for item in _LIST_SPLIT.split(value) if item for word in (spec.option, item)]
    if spec.kind == "int" and (not value.isdigit() or int(value) < 1):
        raise InputError(
            f"{_describe(spec.name, source)} must be a whole number of at least 1, not {value!r}."
        )
    return [spec.option, value]


def command_options(words: list[str]) -> frozenset[str] | None:
    """Every option the poetflow command named by ``words`` accepts, read from its click
    parameters (``version bump auto``: the options of ``version bump``); None when the
    words name no command (the CLI then says so itself)."""
    import click
    from typer.main import get_command

    from poetflow.cli.app import app

    command: click.Command = get_command(app)
    ctx = click.Context(command, info_name="poetflow")
    for word in words:
        if not isinstance(command, click.Group):
            break
        found = command.get_command(ctx, word)
        if found is None:
            return None
        command = found
        ctx = click.Context(command, info_name=word, parent=ctx)
    if isinstance(command, click.Group):
        return None
    params = command.params
    return frozenset(opt for param in params for opt in (*param.opts, *param.secondary_opts))


def _working_directory(values: Mapping[str, str], env: Mapping[str, str], source: str) -> Path:
    base = Path(env.get("GITHUB_WORKSPACE") or Path.cwd())
    given = values.get("working-directory")
    if not given:
        return Path.cwd()
    path = (base / given).resolve()
    if not path.is_dir():
        raise InputError(
            f"{_describe('working-directory', source)} is {given!r}, but {path} is not a "
            "directory.",
            hint="Give a path relative to the repository root.",
        )
    return path


def invocation_from_env(
    argv: list[str] | tuple[str, ...], env: Mapping[str, str] | None = None
) -> Invocation:
    """Decide what the container runs.

    1. Arguments from the container command, if any (``docker run image discover --json``).
       A first argument that is another program (``sh``, ``cat``: GitLab's and Jenkins'
       ways of keeping a container alive) is run as it is.
    2. Else the action inputs ``INPUT_<NAME>`` (GitHub Actions).
    3. Else the ``POETFLOW_*`` variables; with none of them, ``poetflow run``.
    """
    env = os.environ if env is None else env
    args = list(argv)
    if args and _is_args_input(args, env):
        args = []  # the `args` input, read below with the others
    if args:
        if args[0] == "poetflow":
            args = args[1:]
        elif _is_program(args[0]):
            return Invocation(tuple(args), Path.cwd(), "argv", passthrough=True)
        if args:
            return Invocation(tuple(args), Path.cwd(), "argv")
    inputs = read_inputs(env)
    source: Literal["inputs", "env", "default"]
    if inputs:
        values, source = inputs, "inputs"
    else:
        values = _read_poetflow_variables(env)
        source = "env" if values else "default"
    globals_, command, options, ignored = _arguments(values, source)
    cwd = _working_directory(values, env, source)
    return Invocation(
        (*globals_, *command, *options),
        cwd,
        source,
        ignored=tuple(ignored),
        report_dir=values.get("report-dir"),
    )


def _is_args_input(args: list[str], env: Mapping[str, str]) -> bool:
    """Whether the container's arguments are the action's ``args`` input.

    For a docker action GitHub (and act) also pass ``with: args:`` as the container's
    arguments, split like a shell would, besides ``INPUT_ARGS``: they are that input, not a
    poetflow command line (``--push`` alone is no command).
    """
    value = env.get("INPUT_ARGS", "").strip()
    if env.get("GITHUB_ACTIONS") != "true" or not value:
        return False
    try:
        return shlex.split(value) == args
    except ValueError:
        return False


def _is_program(word: str) -> bool:
    import shutil

    if word.startswith("-"):
        return False
    if "/" in word:
        return Path(word).is_file() and os.access(word, os.X_OK)
    # A poetflow command name never names a program in the image (there is no `discover`).
    return shutil.which(word) is not None and word not in _poetflow_commands()


def _poetflow_commands() -> frozenset[str]:
    from poetflow.cli.app import COMMAND_MODULES

    return frozenset(COMMAND_MODULES) | {"run", "plan"}
