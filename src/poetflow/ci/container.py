"""The container adapter: one poetflow run from container argv, action inputs or env vars.

``entrypoint.py`` only calls :func:`run_container`. It prepares what CI containers lack
(a writable HOME, git's trust in a workspace owned by another uid), runs the CLI, then
hands the run report to the CI system: step outputs, job summary, annotations, dotenv.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any, TextIO, cast

from poetflow.ci.environment import CiEnvironment, detect_environment
from poetflow.ci.inputs import InputError, Invocation, invocation_from_env
from poetflow.errors import EXIT_BAD_INPUT, EXIT_FAILED, PoetFlowError

__all__ = ["prepare_container_environment", "run_container"]

logger = logging.getLogger(__name__)

# What the CLI prints for errors: our log format and click's usage errors.
_ERROR_LINE = re.compile(r"^(?:error|Error): (?P<message>.+)$")
_PYPROJECT_PATH = re.compile(r"(?P<path>(?:/|\.{0,2}/?)[\w./@+-]*pyproject\.toml)")


def prepare_container_environment(env: MutableMapping[str, str]) -> None:
    """Make an arbitrary uid in a CI container able to run Poetry and git.

    Jenkins runs docker agents as ``-u uid:gid`` with no passwd entry (HOME is ``/``,
    unwritable): Poetry's cache and git's config then need a HOME of their own. GitHub
    mounts the workspace owned by the runner's uid while the container runs as root:
    git and libgit2 refuse such a repository unless ``safe.directory`` trusts it.
    """
    home = env.get("HOME", "")
    if not home or not os.access(home, os.W_OK) or not Path(home).is_dir():
        fallback = Path("/tmp") / f"poetflow-home-{os.getuid()}"
        fallback.mkdir(mode=0o700, exist_ok=True)
        env["HOME"] = str(fallback)
    from poetflow.git import git_command

    cwd = Path(env["HOME"])
    trusted = git_command(["config", "--global", "--get-all", "safe.directory"], cwd, env=env)
    if "*" not in (trusted or "").split():
        git_command(["config", "--global", "--add", "safe.directory", "*"], cwd, env=env)


class _ErrorCollector:
    """stderr passed through, remembering the error lines for CI annotations."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._partial = ""
        self.errors: list[str] = []

    def write(self, text: str) -> int:
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            match = _ERROR_LINE.match(line.strip())
            if match:
                self.errors.append(match.group("message"))
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _report_dir(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> Path:
    from poetflow.report import DEFAULT_REPORT_DIR

    for index, word in enumerate(argv):
        if word == "--report-dir" and index + 1 < len(argv):
            return cwd / argv[index + 1]
        if word.startswith("--report-dir="):
            return cwd / word.split("=", 1)[1]
    return cwd / (env.get("POETFLOW_REPORT_DIR") or DEFAULT_REPORT_DIR)


def _command_name(argv: Sequence[str]) -> str:
    return " ".join(argv)


def _workspace_report(invocation: Invocation, code: int, started: float, ci: CiEnvironment) -> Any:
    """The report of a command that writes none itself: the workspace's packages as found."""
    from poetflow.report import PackageRecord, RunReport

    packages: list[PackageRecord] = []
    root = ""
    try:
        from poetflow.workspace import find_root, load_workspace

        workspace = load_workspace(find_root(invocation.cwd, None))
        root = str(workspace.root)
        for package in workspace.packages:
            packages.append(
                PackageRecord(package.name, package.relpath, package.version, package.version)
            )
    except PoetFlowError:
        pass  # the command already said what is wrong with the workspace
    status = "succeeded" if code == 0 else ("error" if code == EXIT_BAD_INPUT else "failed")
    return RunReport(
        command=_command_name(invocation.argv),
        status=status,  # type: ignore[arg-type]
        exit_code=code,
        packages=tuple(packages),
        duration=time.monotonic() - started,
        root=root,
        ci=ci.report_fields(),
    )


def _annotations(report: Any, errors: Sequence[str], workspace: Path | None) -> list[str]:
    from poetflow.ci.github import error_annotation

    lines = []
    for package in report.packages:
        for stage in package.stages:
            if stage.failed:
                lines.append(
                    error_annotation(
                        f"{package.name}: {stage.name} {stage.status}. {stage.detail}".strip(),
                        file=f"{package.path}/pyproject.toml",
                        title=f"PoetFlow {stage.name}",
                    )
                )
    for message in errors:
        match = _PYPROJECT_PATH.search(message)
        file = None
        if match:
            file = match.group("path")
            if workspace is not None and file.startswith(str(workspace) + "/"):
                file = file[len(str(workspace)) + 1 :]
        lines.append(error_annotation(message, file=file, title="PoetFlow"))
    return lines


def run_container(
    argv: Sequence[str],
    env: MutableMapping[str, str] | None = None,
    *,
    main: Callable[[list[str]], None] | None = None,
) -> int:
    """Run one poetflow command the way the container does; returns the exit code."""
    environ: MutableMapping[str, str] = os.environ if env is None else env
    ci = detect_environment(environ)
    try:
        invocation = invocation_from_env(list(argv), environ)
    except InputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        if ci.kind == "github":
            from poetflow.ci.github import error_annotation

            sys.stdout.write(error_annotation(str(exc), title="PoetFlow action input") + "\n")
        return EXIT_BAD_INPUT
    if invocation.passthrough:
        sys.stdout.flush()
        os.execvp(invocation.argv[0], list(invocation.argv))
    from poetflow.masking import register_process_secrets

    # The same registration as the CLI entry's, so the runner masks URL passwords too.
    secrets = register_process_secrets(invocation.argv, environ)
    if ci.kind == "github" and secrets:
        from poetflow.ci.github import add_mask_commands

        sys.stdout.write("".join(line + "\n" for line in add_mask_commands(secrets)))
    if environ.get("POETFLOW_CONTAINER") == "1":
        prepare_container_environment(environ)
    os.chdir(invocation.cwd)
    # Tells `poetflow run` that this adapter hands its results to the CI system afterwards.
    environ["POETFLOW_ENTRYPOINT"] = "1"
    if main is None:
        from poetflow.cli.app import main as cli_main

        main = cli_main
    started = time.monotonic()
    wall_start = time.time()
    collector = _ErrorCollector(sys.stderr)
    previous_stderr = sys.stderr
    sys.stderr = cast(TextIO, collector)
    try:
        try:
            main(list(invocation.argv))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stderr = previous_stderr
    sys.stdout.flush()
    _hand_over(invocation, code, started, wall_start, ci, collector.errors, environ)
    return code


def _hand_over(
    invocation: Invocation,
    code: int,
    started: float,
    wall_start: float,
    ci: CiEnvironment,
    errors: Sequence[str],
    env: Mapping[str, str],
) -> None:
    """Give the run's results to the CI system; a failure here never changes the exit code."""
    from poetflow.report import (
        REPORT_FILENAME,
        ReportError,
        ci_outputs,
        read_report,
        render_markdown,
        write_report,
    )

    directory = _report_dir(invocation.argv, env, invocation.cwd)
    report_file: Path | None = directory / REPORT_FILENAME
    assert report_file is not None
    report = None
    try:
        if report_file.is_file() and report_file.stat().st_mtime >= wall_start - 1:
            report = read_report(report_file)  # the command wrote its own (poetflow run)
    except ReportError as exc:
        logger.warning("%s", exc)
    if report is None:
        report = _workspace_report(invocation, code, started, ci)
        try:
            write_report(report, directory)
        except ReportError as exc:
            logger.warning("%s", exc)
            report_file = None
    shown = report_file
    if report_file is not None and ci.workspace is not None:
        # The host sees the workspace elsewhere (/github/workspace is the runner's checkout).
        with contextlib.suppress(ValueError):
            shown = report_file.relative_to(ci.workspace)
    outputs = ci_outputs(report, shown)
    try:
        if ci.kind == "github":
            from poetflow.ci.github import append_summary, write_outputs

            for line in _annotations(report, errors, ci.workspace):
                sys.stdout.write(line + "\n")
            if ci.output_file is not None:
                write_outputs(ci.output_file, outputs)
            if ci.summary_file is not None:
                append_summary(ci.summary_file, render_markdown(report))
        elif ci.kind == "gitlab":
            from poetflow.ci.gitlab import DOTENV_FILENAME, write_dotenv

            write_dotenv(
                directory / DOTENV_FILENAME,
                {
                    "POETFLOW_RELEASED": outputs["released"],
                    "POETFLOW_RELEASED_PACKAGES": outputs["released-packages"],
                    "POETFLOW_RELEASED_VERSIONS": outputs["versions"],
                    "POETFLOW_REPORT_FILE": outputs["report"],
                },
            )
    except OSError as exc:
        logger.warning("Could not hand the results to %s: %s.", ci.kind, exc)
    sys.stdout.flush()
    if code not in (0, EXIT_BAD_INPUT, EXIT_FAILED):
        logger.debug("poetflow exited with %s", code)
