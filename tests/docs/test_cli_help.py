"""Every command explains itself: a description, help on every option, and examples."""

from __future__ import annotations

import re
import shlex

import click
import pytest

from poetflow.cli.app import _command

# `poetflow ...`, possibly after VAR=value assignments.
_INVOCATION_RE = re.compile(r"^\s*(?:[A-Z_][A-Z0-9_]*=\S+\s+)*poetflow\b")


def _commands() -> list[tuple[str, click.Command]]:
    # The command main() runs (typer's, with PoetFlow's help fixes applied).
    root = _command()
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


WIDTHS = (80, 120)


def _help(command: click.Command, path: str, width: int) -> str:
    ctx = click.Context(command, info_name=path, terminal_width=width, max_content_width=width)
    return command.get_help(ctx)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path for path, _ in COMMANDS])
def test_help_shows_no_escaped_brackets(path: str, command: click.Command, width: int) -> None:
    # typer escapes "[env var: ...]" for rich even when the help is plain click: users
    # saw "\\[env var: POETFLOW_ROOT]" in every --help.
    shown = _help(command, path, width)
    assert "\\[" not in shown, f"`{path} --help` at {width} columns: {shown}"
    assert "[env var:" in shown or not any(
        isinstance(p, click.Option) and p.envvar for p in command.params
    )


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path for path, _ in COMMANDS])
def test_every_argument_is_explained(path: str, command: click.Command) -> None:
    for width in WIDTHS:
        shown = _help(command, path, width)
        for param in command.params:
            if isinstance(param, click.Argument):
                assert param.help, f"`{path}`: the argument {param.name} has no help"
                assert param.help.split()[0] in shown


def _closed_sets() -> dict[tuple[str, str], tuple[str, ...]]:
    """Options that take one of a closed set of values, with the values from the code
    that checks them: the help must name every one."""
    from poetflow.ci.registry import plan_formats, template_systems
    from poetflow.cli.build import _BUILDERS
    from poetflow.cli.options import _LOG_FORMATS, _LOG_LEVELS
    from poetflow.pipeline.stages import STAGE_NAMES

    sets: dict[tuple[str, str], tuple[str, ...]] = {}
    for path, _leaf in LEAVES:
        sets[(path, "log_level")] = _LOG_LEVELS
        sets[(path, "log_format")] = _LOG_FORMATS
    sets[("poetflow run", "stages")] = STAGE_NAMES
    sets[("poetflow run", "skip")] = STAGE_NAMES
    sets[("poetflow run", "test_env")] = ("poetry", "shared", "current")
    sets[("poetflow test", "env")] = ("poetry", "shared", "current")
    sets[("poetflow build", "builder")] = _BUILDERS
    sets[("poetflow plan", "fmt")] = ("text", "json", *plan_formats())
    sets[("poetflow graph", "fmt")] = ("text", "json", "mermaid", "dot")
    sets[("poetflow changelog", "format_")] = ("markdown", "json")
    sets[("poetflow init", "ci")] = tuple(template_systems())
    sets[("poetflow version bump", "level")] = ("auto", "major", "minor", "patch", "prerelease")
    sets[("poetflow version bump", "pre")] = ("rc", "a", "b")
    return sets


def test_every_closed_set_of_values_is_listed() -> None:
    by_path = dict(COMMANDS)
    missing = []
    checked = 0
    for (path, name), values in _closed_sets().items():
        command = by_path[path]
        params = {param.name: param for param in command.params}
        assert name in params, f"`{path}` has no parameter {name}"
        record = params[name].get_help_record(click.Context(command))
        text = " ".join(record or ())
        words = set(re.findall(r"[\w-]+", text))
        missing += [f"{path} {name}: {value}" for value in values if value not in words]
        checked += 1
    assert checked > 20
    assert not missing, f"closed sets not listed in --help: {missing}"


def _examples_of(command: click.Command) -> list[str]:
    """The example command lines, continuation lines joined, `a && b` as two commands."""
    text = (command.epilog or "").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if _INVOCATION_RE.match(line)]
    return [part.strip() for line in lines for part in line.split("&&")]


def _parse(argv: list[str]) -> click.Command:
    """Parse a command line as `poetflow` would, without running anything."""
    root = _command()
    ctx = root.make_context("poetflow", list(argv))
    command: click.Command = root
    rest = [*ctx._protected_args, *ctx.args]
    while isinstance(command, click.Group):
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None
        assert name is not None
        ctx = sub.make_context(name, rest, parent=ctx)
        command = sub
        rest = [*ctx._protected_args, *ctx.args]
    return command


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[path for path, _ in LEAVES])
def test_every_example_still_parses(
    path: str, command: click.Command, monkeypatch: pytest.MonkeyPatch
) -> None:
    for example in _examples_of(command):
        words = shlex.split(example, comments=True)
        # What the shell does with the output is not PoetFlow's to parse.
        cut = [i for i, word in enumerate(words) if word in (">", ">>", "|", "2>&1")]
        words = words[: cut[0]] if cut else words
        while "=" in words[0]:
            name, _, value = words.pop(0).partition("=")
            monkeypatch.setenv(name, value)
        assert words[0] == "poetflow"
        try:
            _parse(words[1:])
        except click.UsageError as exc:
            pytest.fail(f"`{example}` (in `{path} --help`) no longer parses: {exc}")


@pytest.mark.parametrize("path", ["poetflow run", "poetflow plan"])
def test_run_and_plan_say_one_thing_about_their_default(path: str) -> None:
    # Both default to the packages with unreleased commits; --all said it was the default.
    shown = " ".join(_help(dict(COMMANDS)[path], path, 120).split())
    assert "the default when nothing is selected" not in shown
    assert "Default: the packages with commits since their last release" in shown
