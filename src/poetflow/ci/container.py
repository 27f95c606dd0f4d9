"""The container adapter: one poetflow run from container argv, action inputs or env vars.

``entrypoint.py`` (``poetflow-action``) only calls :func:`run_container`. It prepares what
CI containers lack (a writable HOME, git's trust in a workspace owned by another uid) and
runs the CLI in-process inside a CI session (:mod:`poetflow.ci.handover`): every secret
is masked first, and a command that builds a run report hands it to the CI system
itself. For a command that builds none (discover, graph, plan, doctor) or one that
stopped before it had one (exit 2), the adapter hands over a minimal report saying so,
its error lines as annotations.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import sys
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any, TextIO, cast

from poetflow.ci.handover import CiSession, ci_session, minimal_report
from poetflow.ci.inputs import InputError, invocation_from_env
from poetflow.errors import EXIT_BAD_INPUT

__all__ = ["prepare_container_environment", "run_container"]

logger = logging.getLogger(__name__)

# What the CLI prints for errors: our log format and click's usage errors.
_ERROR_LINE = re.compile(r"^(?:error|Error): (?P<message>.+)$")
_TRUE = ("1", "true", "yes", "on", "y", "t")


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


def _report_dir(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, given: str | None = None
) -> Path:
    """Where the report goes: ``--report-dir`` on argv, else the ``report-dir`` input (left
    off argv for commands without that option), else POETFLOW_REPORT_DIR, else .poetflow."""
    from poetflow.report import DEFAULT_REPORT_DIR

    for index, word in enumerate(argv):
        if word == "--report-dir" and index + 1 < len(argv):
            return cwd / argv[index + 1]
        if word.startswith("--report-dir="):
            return cwd / word.split("=", 1)[1]
    return cwd / (given or env.get("POETFLOW_REPORT_DIR") or DEFAULT_REPORT_DIR)


def _dry_run(argv: Sequence[str], env: Mapping[str, str]) -> bool:
    """Whether the command line asks for a dry run (the last flag wins, as in click)."""
    flags = [word for word in argv if word in ("--dry-run", "--no-dry-run")]
    if flags:
        return flags[-1] == "--dry-run"
    return env.get("POETFLOW_DRY_RUN", "").strip().lower() in _TRUE


def run_container(
    argv: Sequence[str],
    env: MutableMapping[str, str] | None = None,
    *,
    main: Callable[[list[str]], None] | None = None,
) -> int:
    """Run one poetflow command the way the container does; returns the exit code."""
    environ: MutableMapping[str, str] = os.environ if env is None else env
    # The session registers (and has the CI system mask) every secret before anything runs.
    with ci_session(environ) as session:
        return _run(argv, environ, session, main)


def _run(
    argv: Sequence[str],
    environ: MutableMapping[str, str],
    session: CiSession,
    main: Callable[[list[str]], None] | None,
) -> int:
    started = time.monotonic()
    try:
        invocation = invocation_from_env(list(argv), environ)
    except InputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        report = minimal_report(
            "poetflow-action",
            EXIT_BAD_INPUT,
            duration=time.monotonic() - started,
            dry_run=False,
            errors=[str(exc)],
        )
        session.hand_over(report, _report_dir((), environ, Path.cwd()), errors=[str(exc)])
        return EXIT_BAD_INPUT
    for note in invocation.ignored:
        sys.stderr.write(f"warning: {note}\n")
    if invocation.passthrough:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execvp(invocation.argv[0], list(invocation.argv))
    from poetflow.masking import register_process_secrets

    # The command line may carry a URL password (--repository-url): registered, the
    # session's CI system masks it before the command can print it.
    register_process_secrets(invocation.argv, environ)
    if environ.get("POETFLOW_CONTAINER") == "1":
        prepare_container_environment(environ)
    os.chdir(invocation.cwd)
    if main is None:
        from poetflow.cli.app import main as cli_main

        main = cli_main
    collector = _ErrorCollector(sys.stderr)
    previous_stderr = sys.stderr
    sys.stderr = cast(TextIO, collector)
    try:
        try:
            main(list(invocation.argv))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if session.report is None:
            # The command built no report: say so, with its errors as annotations.
            report = minimal_report(
                "poetflow " + shlex.join(invocation.argv),
                code,
                duration=time.monotonic() - started,
                dry_run=_dry_run(invocation.argv, environ),
                errors=collector.errors,
            )
            directory = _report_dir(invocation.argv, environ, invocation.cwd, invocation.report_dir)
            session.hand_over(report, directory, errors=collector.errors)
    finally:
        sys.stderr = previous_stderr
    sys.stdout.flush()
    return code
