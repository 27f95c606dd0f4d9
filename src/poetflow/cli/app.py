"""The typer application: global options, command registration, errors to exit codes."""

from __future__ import annotations

import functools
import gc
import importlib
import logging
import sys
from typing import Any

import click
import typer
import typer.core
import typer.main

from poetflow import __version__
from poetflow.cli.options import (
    DryRunOption,
    JsonOption,
    LogFormatOption,
    LogLevelOption,
    RootOption,
    apply_global_options,
)
from poetflow.cli.plugins import PluginCommandGroup
from poetflow.errors import EXIT_FAILED, PoetFlowError

__all__ = ["app", "main"]

logger = logging.getLogger("poetflow")

# Help is plain click (rich_markup_mode=None), but typer still escapes the "[env var: ...]"
# and "[default: ...]" notes for rich whenever rich is installed, and click prints the
# escape: "\\[env var: POETFLOW_ROOT]". Without rich in the picture it leaves them alone.
typer.core.HAS_RICH = False


def _keep_argument_help() -> None:
    # click 8.2+ takes an Argument's help itself and resets it to None when typer does not
    # pass it on, so `version bump --help` would show `[LEVEL]` with no word about levels.
    original = typer.core.TyperArgument.__init__
    if getattr(original, "_poetflow_keeps_help", False):
        return

    @functools.wraps(original)
    def init(self: typer.core.TyperArgument, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.help = kwargs.get("help")

    init._poetflow_keeps_help = True  # type: ignore[attr-defined]
    typer.core.TyperArgument.__init__ = init  # type: ignore[method-assign]


_keep_argument_help()

# Each module exposes register(app). Commands import their heavy dependencies
# inside the command body so that `poetflow --help` stays fast.
COMMAND_MODULES: tuple[str, ...] = (
    "announce",
    "build",
    "changelog",
    "discover",
    "doctor",
    "graph",
    "init",
    "lock",
    "plan",
    "plugins",
    "publish",
    "release_pr",
    "run",
    "test",
    "verify",
    "version",
)

app = typer.Typer(
    name="poetflow",
    # Lists `poetflow.commands` plugins next to the built-ins; imports one only to run it.
    cls=PluginCommandGroup,
    help="Release pipelines for monorepos of Poetry packages: discover, test, version, "
    "changelog, build, sign and publish, in dependency order.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"poetflow {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    root: RootOption = None,
    json: JsonOption = None,
    log_level: LogLevelOption = None,
    log_format: LogFormatOption = None,
    dry_run: DryRunOption = None,
    strict_plugins: bool = typer.Option(
        False,
        "--strict-plugins",
        envvar="POETFLOW_STRICT_PLUGINS",
        help="A plugin that fails to load is an error (exit 2) instead of a warning.",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version."
    ),
) -> None:
    """Release pipelines for monorepos of Poetry packages."""
    if strict_plugins:
        from poetflow.plugins import set_strict

        set_strict(True)
    apply_global_options(
        ctx,
        {
            "root": root,
            "json": json,
            "log_level": log_level,
            "log_format": log_format,
            "dry_run": dry_run,
        },
    )


for _name in COMMAND_MODULES:
    importlib.import_module(f"poetflow.cli.{_name}").register(app)


@functools.cache
def _command() -> click.Command:
    # typer builds the click command anew on every call, a fifth of a second; one
    # process (the tests, a container running several commands) needs it built once.
    return typer.main.get_command(app)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app, turn PoetFlowError into its exit code.

    The whole command runs in a CI session: the CI system is told of every secret before
    anything can print it, and a command's report is handed to it in-process.
    """
    try:
        _run(argv)
    finally:
        if argv is None:  # the console script: this process ends here
            # The interpreter's last act would be a collection over every object the
            # command made (about a tenth of a second after a build); the OS takes the
            # memory back anyway (standard streams are still flushed at exit).
            gc.freeze()


def _run(argv: list[str] | None) -> None:
    from poetflow.ci.handover import ci_session

    # Before anything can print: every credential PoetFlow reads, from any variable or a
    # URL's userinfo, is masked in every log line, table, report and hook output.
    with ci_session(argv=sys.argv[1:] if argv is None else argv):
        try:
            _command()(args=argv, prog_name="poetflow")
        except PoetFlowError as exc:
            logger.error("%s", exc, exc_info=logger.isEnabledFor(logging.DEBUG))
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            logger.error("Interrupted.")
            sys.exit(130)
        except Exception as exc:
            logger.error(
                "PoetFlow failed unexpectedly: %s: %s. Rerun with --log-level debug for the "
                "traceback and report it.",
                type(exc).__name__,
                exc,
                exc_info=True,
            )
            sys.exit(EXIT_FAILED)


if __name__ == "__main__":  # pragma: no cover
    main()
