"""Options shared by every command: global ones (--root, --json, ...) and package selection."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer

from poetflow.logs import LogFormat, LogLevel, configure_logging
from poetflow.selection import Selection

__all__ = [
    "AllOption",
    "ChangedOrAllOption",
    "GlobalOptions",
    "OtelOption",
    "PackageOption",
    "ReportDirOption",
    "SinceOption",
    "current_options",
    "examples",
    "make_selection",
    "with_global_options",
]

F = TypeVar("F", bound=Callable[..., Any])


def examples(text: str) -> str:
    """An Examples epilog that click prints as written.

    Click re-wraps every paragraph of an epilog to the terminal width, which breaks a long
    command line (or its trailing comment) in the middle; a paragraph that starts with
    click's ``\\b`` marker is left alone.
    """
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join("\b\n" + paragraph for paragraph in paragraphs)


@dataclass(frozen=True)
class GlobalOptions:
    """Options that every command accepts, before or after the command name."""

    root: Path | None = None
    json: bool = False
    log_level: LogLevel = "info"
    log_format: LogFormat = "text"
    dry_run: bool = False


RootOption = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Option(
        "--root",
        envvar="POETFLOW_ROOT",
        help="Monorepo root. Default: the first folder upwards whose pyproject.toml has "
        "[tool.poetflow], else the git top level.",
        show_default=False,
    ),
]
JsonOption = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--json/--no-json",
        envvar="POETFLOW_JSON",
        help="Machine-readable JSON on stdout; logs stay on stderr.",
        show_default=False,
    ),
]
LogLevelOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--log-level",
        envvar="POETFLOW_LOG_LEVEL",
        help="debug, info, warning or error. Tracebacks are shown at debug only.",
        show_default=False,
    ),
]
LogFormatOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--log-format",
        envvar="POETFLOW_LOG_FORMAT",
        help="text or json (one JSON object per line on stderr).",
        show_default=False,
    ),
]
DryRunOption = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--dry-run/--no-dry-run",
        envvar="POETFLOW_DRY_RUN",
        help="Show what would change; write and upload nothing.",
        show_default=False,
    ),
]

RepositoryOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--repository",
        "-r",
        envvar="POETFLOW_REPOSITORY",
        help="Repository name: pypi, testpypi, [tool.poetflow.repositories.NAME] or a Poetry "
        "repository. Repeat it to publish to several indexes in one run (POETFLOW_REPOSITORY: "
        "names separated by spaces). Default: [tool.poetflow.publish] repositories / "
        "repository, else pypi.",
        show_default=False,
    ),
]
RepositoryUrlOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--repository-url",
        envvar="POETFLOW_REPOSITORY_URL",
        help="Upload URL of an index not configured by name. Its credentials: "
        "POETFLOW_REPOSITORY_URL_TOKEN, or POETFLOW_REPOSITORY_URL_USERNAME and "
        "POETFLOW_REPOSITORY_URL_PASSWORD (the repository is named 'url'), else POETFLOW_TOKEN.",
        show_default=False,
    ),
]

ReportDirOption = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--report-dir",
        envvar="POETFLOW_REPORT_DIR",
        help="Where poetflow-report.json and its Markdown summary go (also JUnit XML for "
        "run). Default: .poetflow",
        show_default=False,
    ),
]
OtelOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--otel",
        envvar="POETFLOW_OTEL",
        help="OTLP/HTTP endpoint for metrics and traces (else the OTEL_* variables).",
        show_default=False,
    ),
]

AllOption = Annotated[
    bool, typer.Option("--all", help="Every package (the default when nothing is selected).")
]
# run and plan default to the packages with unreleased commits, not to every package.
ChangedOrAllOption = Annotated[
    bool,
    typer.Option(
        "--all",
        help="Every package. Default: the packages with commits since their last release, "
        "and their dependents.",
    ),
]
PackageOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--package",
        "-p",
        help="A package by name (repeatable). Any PEP 503 spelling works.",
        show_default=False,
    ),
]
SinceOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--since",
        envvar="POETFLOW_SINCE",
        help="The packages changed since this git ref, plus everything that depends on them.",
        show_default=False,
    ),
]

_GLOBAL_PARAMETERS = (
    ("root", RootOption),
    ("json", JsonOption),
    ("log_level", LogLevelOption),
    ("log_format", LogFormatOption),
    ("dry_run", DryRunOption),
)
_LOG_LEVELS = ("debug", "info", "warning", "error")
_LOG_FORMATS = ("text", "json")


def _checked(value: str, allowed: tuple[str, ...], option: str) -> str:
    lowered = value.lower()
    if lowered not in allowed:
        choices = ", ".join(allowed)
        raise typer.BadParameter(f"{value!r} is not one of {choices}.", param_hint=option)
    return lowered


def apply_global_options(ctx: typer.Context, values: dict[str, Any]) -> GlobalOptions:
    """Merge options given at this level over those given earlier; reconfigure logging."""
    current = ctx.find_object(GlobalOptions) or GlobalOptions()
    changes: dict[str, Any] = {}
    for name, given in values.items():
        if given is None:
            continue
        if name == "log_level":
            changes[name] = _checked(given, _LOG_LEVELS, "--log-level")
        elif name == "log_format":
            changes[name] = _checked(given, _LOG_FORMATS, "--log-format")
        else:
            changes[name] = given
    options = replace(current, **changes)
    ctx.obj = options
    configure_logging(options.log_level, options.log_format)
    return options


def current_options() -> GlobalOptions:
    from click import get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None:
        return GlobalOptions()
    return ctx.find_object(GlobalOptions) or GlobalOptions()


def with_global_options(func: F) -> F:
    """Let a command accept the global options after its name too (``discover --json``)."""
    # Resolve string annotations (from __future__ import annotations) here: typer reads
    # the typer.Option metadata from the signature we hand it.
    hints = typing.get_type_hints(func, include_extras=True)
    signature = inspect.signature(func)
    own = [
        parameter.replace(annotation=hints.get(parameter.name, parameter.annotation))
        for parameter in signature.parameters.values()
    ]
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        for name, annotation in _GLOBAL_PARAMETERS
    ]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from click import get_current_context

        ctx = get_current_context()
        values = {name: kwargs.pop(name, None) for name, _ in _GLOBAL_PARAMETERS}
        apply_global_options(ctx, values)  # type: ignore[arg-type]
        return func(*args, **kwargs)

    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*own, *extra], return_annotation=None
    )
    wrapper.__annotations__ = {
        **hints,
        **{name: annotation for name, annotation in _GLOBAL_PARAMETERS},
    }
    return wrapper  # type: ignore[return-value]


def make_selection(all_: bool, packages: list[str] | None, since: str | None) -> Selection:
    return Selection(names=tuple(packages or ()), all=all_, since=since)
