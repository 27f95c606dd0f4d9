"""Generate the reference pages (CLI, errors, report schema) from PoetFlow itself.

Used two ways: as an MkDocs hook (``hooks:`` in mkdocs.yml; pages are generated at build
time and never committed) and as a script (``python docs/gen_cli_reference.py OUT_DIR``)
to look at the Markdown it produces.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any

import click

GENERATED_PAGES = ("reference/cli.md", "reference/errors.md", "reference/report-schema.md")
_SCHEMA = Path(__file__).resolve().parents[1] / "src/poetflow/schemas/report.schema.json"


def _root_command() -> click.Command:
    import typer.main

    from poetflow.cli.app import app

    return typer.main.get_command(app)


def _walk(
    command: click.Command, path: tuple[str, ...]
) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1])
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                found.extend(_walk(sub, (*path, name)))
    return found


def commands() -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command of the CLI, the root first, as (name path, click command)."""
    return _walk(_root_command(), ("poetflow",))


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _option_row(param: click.Parameter) -> str:
    names = ", ".join(f"`{opt}`" for opt in [*param.opts, *param.secondary_opts])
    help_text = getattr(param, "help", None) or ""
    envvar = param.envvar if isinstance(param.envvar, str) else None
    if envvar:
        help_text += f" (env: `{envvar}`)"
    default = param.default
    if isinstance(param, click.Option) and not param.is_flag and default not in (None, (), []):
        help_text += f" Default: `{default}`."
    return f"| {names} | {_escape(help_text)} |"


def _usage(path: tuple[str, ...], command: click.Command) -> str:
    ctx = click.Context(command, info_name=" ".join(path))
    return " ".join([*path, *command.collect_usage_pieces(ctx)])


def _epilog(text: str | None) -> list[str]:
    if not text:
        return []
    lines = [line.rstrip() for line in inspect.cleandoc(text).splitlines()]
    # "\b" is click's do-not-rewrap marker (see poetflow.cli.options.examples), not text.
    body = [line for line in lines if line.strip() not in ("", "\b", "Examples:")]
    return ["**Examples**", "", "```text", *(line.strip() for line in body), "```", ""]


def cli_reference_markdown() -> str:
    """The CLI reference: usage, description, options and examples of every command."""
    out = [
        "# CLI reference",
        "",
        "Generated from the CLI itself when the documentation is built "
        "(`docs/gen_cli_reference.py`), so it always matches `poetflow COMMAND --help`.",
        "Global options (`--root`, `--json`, `--log-level`, `--log-format`, `--dry-run`) work "
        "before or after the command name.",
        "",
    ]
    found = commands()
    shared = {param.name for param in found[0][1].params} - {"version", "strict_plugins"}
    for path, command in found:
        level = "#" * min(len(path) + 1, 4)
        out += [f"{level} `{' '.join(path)}`", ""]
        if command.help:
            out += [inspect.cleandoc(command.help), ""]
        out += ["```text", _usage(path, command), "```", ""]
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        options = [
            p
            for p in command.params
            if isinstance(p, click.Option)
            and not p.hidden
            and (len(path) == 1 or p.name not in shared)
        ]
        if arguments:
            out += ["| argument | required |", "| --- | --- |"]
            out += [
                f"| `{arg.human_readable_name}` | {'yes' if arg.required else 'no'} |"
                for arg in arguments
            ]
            out.append("")
        if options:
            out += ["| option | description |", "| --- | --- |"]
            out += [_option_row(option) for option in options]
            out.append("")
        out += _epilog(command.epilog)
    return "\n".join(out) + "\n"


def error_classes() -> list[type[Exception]]:
    """Every PoetFlowError subclass defined anywhere in the poetflow package."""
    import poetflow
    from poetflow.errors import PoetFlowError

    for module in pkgutil.walk_packages(poetflow.__path__, "poetflow."):
        if module.name.startswith("poetflow.cli") or module.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(module.name)
        except Exception:  # an optional extra (sigstore, opentelemetry) is not installed
            continue
    found: list[type[Exception]] = []
    queue: list[type[Exception]] = [PoetFlowError]
    while queue:
        cls = queue.pop(0)
        found.append(cls)
        queue.extend(cls.__subclasses__())
    return [found[0], *sorted(set(found[1:]), key=lambda cls: cls.__name__)]


def errors_markdown() -> str:
    """Every error class with its exit code, where it is defined and what it means."""
    out = [
        "# Error reference",
        "",
        "Generated from the exception classes when the documentation is built. Every error "
        "PoetFlow reports on purpose is one of these; the message names the file or package "
        "and the hint says what to do. See [Troubleshooting](../troubleshooting.md) for the "
        "usual causes and fixes.",
        "",
        "| error | exit code | defined in | means |",
        "| --- | --- | --- | --- |",
    ]
    for cls in error_classes():
        doc = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0]
        code = getattr(cls, "exit_code", 2)
        out.append(f"| `{cls.__name__}` | {code} | `{cls.__module__}` | {_escape(doc)} |")
    return "\n".join(out) + "\n"


def _schema_type(spec: dict[str, Any]) -> str:
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    if "enum" in spec:
        return "one of " + ", ".join(f"`{json.dumps(item)}`" for item in spec["enum"])
    if "$ref" in spec:
        return str(spec["$ref"]).rsplit("/", 1)[-1]
    kind = spec.get("type", "")
    if kind == "array" and isinstance(spec.get("items"), dict):
        return f"array of {_schema_type(spec['items'])}"
    if isinstance(kind, list):
        return " or ".join(kind)
    if "oneOf" in spec or "anyOf" in spec:
        return " or ".join(_schema_type(item) for item in spec.get("oneOf", spec.get("anyOf")))
    return str(kind)


def _schema_rows(schema: dict[str, Any], prefix: str, depth: int = 0) -> list[str]:
    rows = []
    required = set(schema.get("required", []))
    for name, spec in schema.get("properties", {}).items():
        kind = _schema_type(spec)
        where = f"{prefix}{name}"
        mark = " (required)" if name in required else ""
        rows.append(f"| `{where}` | {kind}{mark} | {_escape(spec.get('description', ''))} |")
        if depth < 3:
            if isinstance(spec.get("items"), dict):
                rows += _schema_rows(spec["items"], f"{where}[].", depth + 1)
            rows += _schema_rows(spec, f"{where}.", depth + 1)
            extra = spec.get("additionalProperties")
            if isinstance(extra, dict):
                rows += _schema_rows(extra, f"{where}.*.", depth + 1)
    return rows


def report_schema_markdown(schema_path: Path = _SCHEMA) -> str:
    """The report JSON schema: a field table and the schema itself."""
    out = [
        "# Report JSON schema",
        "",
        "Every pipeline run writes `poetflow-report.json` to the report directory for any CI "
        "to archive: per package its versions, artifacts, hashes, test/build/publish status "
        "and durations.",
        "",
    ]
    if not schema_path.is_file():
        out += [
            "The schema file `src/poetflow/schemas/report.schema.json` is not part of this "
            "build of PoetFlow.",
        ]
        return "\n".join(out) + "\n"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    if schema.get("description"):
        out += [_escape(schema["description"]), ""]
    defs = schema.get("$defs", schema.get("definitions", {}))
    out += ["| field | type | description |", "| --- | --- | --- |"]
    out += _schema_rows(schema, "")
    for name, spec in defs.items():
        out += _schema_rows(spec, f"{name}.")
    out += [
        "",
        "The schema (`src/poetflow/schemas/report.schema.json`, JSON Schema):",
        "",
        "```json",
        json.dumps(schema, indent=2),
        "```",
    ]
    return "\n".join(out) + "\n"


def generate() -> dict[str, str]:
    return {
        "reference/cli.md": cli_reference_markdown(),
        "reference/errors.md": errors_markdown(),
        "reference/report-schema.md": report_schema_markdown(),
    }


def on_files(files: Any, config: Any) -> Any:
    """MkDocs hook: add the generated pages to the build (nothing is written to docs/)."""
    from mkdocs.structure.files import File

    for uri, content in generate().items():
        existing = files.get_file_from_path(uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, uri, content=content))
    return files


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "site-generated")
    for uri, content in generate().items():
        (target / uri).parent.mkdir(parents=True, exist_ok=True)
        (target / uri).write_text(content, encoding="utf-8")
        print(target / uri)
