"""Every command explains itself: a description, help on every option, and examples."""

from __future__ import annotations

import re

import click
import pytest
import typer.main

from poetflow.cli.app import app

# `poetflow ...`, possibly after VAR=value assignments.
_INVOCATION_RE = re.compile(r"^\s*(?:[A-Z_][A-Z0-9_]*=\S+\s+)*poetflow\b")


def _commands() -> list[tuple[str, click.Command]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, click.Command]] = []

    def walk(command: click.Command, path: str) -> None:
        if isinstance(command, click.Group):
            ctx = click.Context(command, info_name=path)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    found.append((f"{path} {name}", sub))
                    walk(sub, f"{path} {name}")

    walk(root, "poetflow")
    return found


COMMANDS = _commands()
LEAVES = [(path, command) for path, command in COMMANDS if not isinstance(command, click.Group)]


def test_the_documented_commands_are_registered() -> None:
    names = {path for path, _ in COMMANDS}
    for expected in ("poetflow init", "poetflow doctor", "poetflow discover", "poetflow build"):
        assert expected in names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path for path, _ in COMMANDS])
def test_command_has_a_description(path: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"`{path}` has no docstring"
    assert command.get_short_help_str(limit=200).strip()


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path for path, _ in COMMANDS])
def test_every_option_is_explained(path: str, command: click.Command) -> None:
    missing = [
        "/".join(param.opts)
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden and not (param.help or "").strip()
    ]
    assert not missing, f"`{path}` options without help: {', '.join(missing)}"


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[path for path, _ in LEAVES])
def test_command_has_examples(path: str, command: click.Command) -> None:
    epilog = command.epilog or ""
    assert "Examples" in epilog, f"`{path} --help` has no Examples epilog"
    examples = [line for line in epilog.splitlines() if _INVOCATION_RE.match(line)]
    assert len(examples) >= 2, f"`{path} --help` shows fewer than two `poetflow ...` examples"


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[path for path, _ in LEAVES])
def test_examples_are_printed_as_written(path: str, command: click.Command) -> None:
    # On an 80-column terminal click re-wraps epilog paragraphs unless told not to,
    # which split long example lines (and their comments) in two.
    ctx = click.Context(command, info_name=path, terminal_width=80, max_content_width=80)
    shown = {line.strip() for line in command.get_help(ctx).splitlines()}
    written = [
        line.strip()
        for line in (command.epilog or "").splitlines()
        if line.strip() not in ("", "\b", "Examples:")
    ]
    assert written
    broken = [line for line in written if line not in shown]
    assert not broken, f"`{path} --help` re-wraps: {broken}"
