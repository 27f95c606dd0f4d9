"""``poetflow plugins`` and the mounting of ``poetflow.commands`` plugins, imported lazily."""

from __future__ import annotations

from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from poetflow.cli.options import current_options, examples, with_global_options
from poetflow.cli.output import print_json, print_table

__all__ = ["PluginCommandGroup", "register"]

_EXAMPLES = """
Examples:

  poetflow plugins

  poetflow plugins --json

  POETFLOW_STRICT_PLUGINS=1 poetflow plugins
"""


class _PlaceholderCommand(click.Command):
    """Stands in for a plugin command in ``--help``: the plugin module is not imported."""

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name=name, short_help=help_text, help=help_text)


class PluginCommandGroup(TyperGroup):
    """The top-level group: built-in commands, then ``poetflow.commands`` entry points.

    Listing reads entry-point metadata only; a plugin's module is imported when its
    command is run (or asked for its own ``--help``). A built-in name always wins.
    """

    _entries: dict[str, Any] | None = None
    _generation = -1

    def _plugin_entries(self) -> dict[str, Any]:
        # One scan of the installed distributions per process (it is most of the cost),
        # unless the plugins were forgotten since (a test installed some in-process).
        from poetflow.plugins import scan_generation

        if self._entries is None or self._generation != scan_generation():
            from poetflow.plugins import COMMANDS, available

            self._generation = scan_generation()

            entries: dict[str, Any] = {}
            for info, entry_point in available(COMMANDS):
                if info.name not in self.commands and info.name not in entries:
                    entries[info.name] = (info, entry_point)
            self._entries = entries
        return self._entries

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *sorted(self._plugin_entries())]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        entry = self._plugin_entries().get(cmd_name)
        if entry is None:
            return None
        info = entry[0]
        summary = info.summary.rstrip(".") or "A plugin command"
        return _PlaceholderCommand(
            cmd_name, f"{summary} (plugin from {info.distribution} {info.distribution_version})."
        )

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, _PlaceholderCommand) and name is not None:
            if ctx.params.get("strict_plugins"):
                from poetflow.plugins import set_strict

                set_strict(True)
            command = _loaded_or_failing(name, self._plugin_entries()[name])
        return name, command, rest


def _loaded_or_failing(name: str, entry: Any) -> click.Command:
    """The plugin's command, or one that raises its load error once logging is set up.

    Resolving happens before the global options are applied; raising there would log
    through whatever handler an earlier configuration left behind.
    """
    from poetflow.plugins import PluginError

    try:
        return load_plugin_command(name, entry)
    except PluginError as exc:
        error = exc

    def fail() -> None:
        raise error

    return click.Command(
        name,
        callback=fail,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )


def load_plugin_command(name: str, entry: Any) -> click.Command:
    """Import a ``poetflow.commands`` entry point and turn it into a click command."""
    from poetflow.plugins import PluginError, load_plugin, problem_message

    info, entry_point = entry
    loaded = load_plugin(info, entry_point)
    if loaded.status != "loaded":
        raise PluginError(
            problem_message(loaded).replace("was skipped", "cannot run"),
            hint=f"Reinstall or fix {info.distribution}, or uninstall it.",
        )
    obj = loaded.obj
    if isinstance(obj, typer.Typer):
        command = typer.main.get_command(obj)
    elif isinstance(obj, click.Command):
        command = obj
    elif callable(obj):
        wrapper = typer.Typer(add_completion=False)
        wrapper.command(name)(obj)
        command = typer.main.get_command(wrapper)
    else:
        raise PluginError(
            f"Plugin command {name!r} from {info.distribution} is a {type(obj).__name__}, "
            "not a typer app, a click command or a function.",
            hint="Point the poetflow.commands entry point at one of those.",
        )
    command.name = name
    return command


@with_global_options
def plugins(
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 2 when any plugin fails to load or targets another API version.",
        ),
    ] = False,
) -> None:
    """List installed plugins: group, name, distribution, and whether each loads."""
    from poetflow.plugins import (
        PLUGIN_API_VERSION,
        PluginError,
        describe_plugins,
        problem_message,
        strict_mode,
    )

    options = current_options()
    found = describe_plugins()
    broken = [plugin for plugin in found if plugin.status != "loaded"]
    if options.json:
        print_json(
            {"api_version": PLUGIN_API_VERSION, "plugins": [plugin.to_dict() for plugin in found]}
        )
    elif not found:
        typer.echo(f"No plugins installed (plugin API {PLUGIN_API_VERSION}).")
    else:
        rows = [
            [
                plugin.info.group.removeprefix("poetflow."),
                plugin.info.name,
                f"{plugin.info.distribution} {plugin.info.distribution_version}",
                plugin.api_version or "-",
                plugin.status if not plugin.error else f"{plugin.status}: {plugin.error}",
            ]
            for plugin in found
        ]
        print_table(
            f"{len(found)} plugins (PoetFlow plugin API {PLUGIN_API_VERSION})",
            ["group", "name", "distribution", "api", "status"],
            rows,
        )
    if broken and (strict or strict_mode()):
        raise PluginError(
            " ".join(problem_message(plugin) for plugin in broken),
            hint="Fix or uninstall the distributions named above.",
        )


def register(app: typer.Typer) -> None:
    app.command("plugins", epilog=examples(_EXAMPLES))(plugins)
