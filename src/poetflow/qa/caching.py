"""Test results in the task cache: the key of a package's QA, and its result replayed.

A passing package's result is stored as a record (every command, its output, counts and
duration) plus the JUnit XML each pytest command wrote. A later run with the same key
does not prepare an environment or run anything: the package is ``cached``, its commands
are reported as they ran, and the JUnit files are put back where the commands would have
written them, so the aggregated report and a CI's test tab look as after a real run.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poetflow.cache.keys import KeyBuilder
from poetflow.cache.settings import CacheSettings
from poetflow.cache.task import TaskCache
from poetflow.qa.junit import is_pytest, junit_argument
from poetflow.qa.results import CacheHit, CommandResult, InstallResult, PackageReport
from poetflow.qa.settings import EnvironmentKind
from poetflow.report import TestCounts
from poetflow.workspace import Package, Workspace

__all__ = ["TestResultCache", "junit_target"]

_RECORD = "result.json"


def junit_target(package: Package, argv: Sequence[str], index: int, results_dir: Path) -> Path:
    """Where command ``index`` of ``package`` writes its JUnit XML (its own
    ``--junitxml``, else PoetFlow's results folder)."""
    asked = junit_argument(argv)
    if asked is None:
        return results_dir / f"{package.name}-{index}.xml"
    return asked if asked.is_absolute() else package.path / asked


def _installed_distributions() -> str:
    """name==version of everything the current interpreter can import (``--env current``
    tests run against it, so it is an input of theirs)."""
    from importlib.metadata import distributions

    names = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in distributions()
        if dist.metadata["Name"]
    )
    return "\n".join(names)


@dataclass
class TestResultCache:
    """The cache as the test engine uses it, for the packages of one run."""

    __test__ = False

    workspace: Workspace
    cache: TaskCache
    settings: CacheSettings
    selected: tuple[Package, ...]

    def __post_init__(self) -> None:
        self._keys = KeyBuilder(self.workspace)
        self._current: str | None = None
        self._lock = threading.Lock()

    def _interpreter(self, kind: EnvironmentKind) -> list[str]:
        from poetflow.qa.environments import python_identity

        parts = [python_identity()]
        if kind == "current":
            with self._lock:
                if self._current is None:
                    self._current = _installed_distributions()
            parts += [sys.executable, self._current]
        return parts

    def key(self, package: Package, kind: EnvironmentKind) -> str:
        settings = package.config.test
        skip = []
        for argv in settings.commands:
            asked = junit_argument(argv)
            if asked is not None and not asked.is_absolute():
                skip.append(asked.as_posix().removeprefix("./"))
        parts: list[bytes | str] = [*self._interpreter(kind), kind]
        if kind == "poetry":
            parts.append(settings.installer)
        parts.append(json.dumps([list(argv) for argv in settings.commands]))
        parts.append(json.dumps(sorted(settings.env_vars.items())))
        for name in sorted(self.settings.env):
            parts += [name, os.environ.get(name, "\0unset")]
        hooks = self.workspace.config.hooks
        for when in ("pre-test", "post-test"):
            parts += [repr(hooks.get(when, ())), repr(package.config.hooks.get(when, ()))]
        parts.append(self._keys.shared_digest())
        parts.append(self._keys.member_digest(package, skip=skip))
        for member in self._keys.closure(package):
            parts += [member.name, self._keys.member_digest(member)]
        if kind == "shared":
            # What else the shared env holds changes what a package's tests import.
            for other in self.selected:
                parts += [other.name, other.pyproject.read_bytes()]
        return self._keys.key("test", parts)

    def replay(
        self, package: Package, kind: str, key: str, results_dir: Path
    ) -> PackageReport | None:
        """The package's cached result, its JUnit files restored; None on a miss."""
        started = time.monotonic()
        entry = self.cache.lookup(key)
        if entry is None:
            return None
        raw = self.cache.read(entry, _RECORD)
        if raw is None:
            return None
        try:
            record: dict[str, Any] = json.loads(raw)
            commands = [
                self._command(package, item, results_dir, entry) for item in record["commands"]
            ]
        except (ValueError, KeyError, TypeError):
            return None  # a record this version cannot read: run the tests instead
        if any(command is None for command in commands):
            return None
        original = float(record.get("duration", 0.0))
        return PackageReport(
            name=package.name,
            path=package.path,
            status="cached",
            env=kind,
            commands=tuple(c for c in commands if c is not None),
            install=InstallResult("none"),
            duration=time.monotonic() - started,
            cache=CacheHit(key, entry.origin, original),
        )

    def _command(
        self, package: Package, item: dict[str, Any], results_dir: Path, entry: Any
    ) -> CommandResult | None:
        argv = tuple(str(arg) for arg in item["command"])
        counts = item.get("counts")
        junit: Path | None = None
        stored = item.get("junit")
        if stored:
            index = int(item["index"])
            junit = junit_target(package, argv, index, results_dir)
            if not self.cache.restore(entry, stored, junit):
                return None
        return CommandResult(
            command=argv,
            status="passed",
            returncode=item.get("returncode"),
            output=str(item.get("output", "")),
            duration=float(item.get("duration", 0.0)),
            counts=None if counts is None else TestCounts(**counts),
            junit=junit,
        )

    def record(
        self, key: str, package: Package, kind: EnvironmentKind, report: PackageReport
    ) -> None:
        """Store a passing result (never a failure: it must run again next time).

        A run that created the package's poetry.lock ran with inputs the key computed
        before it did not have: the result is stored under the key of the files as they
        are now, which is what the next run computes.
        """
        if report.status != "passed":
            return
        if report.install.locked:
            self._keys.forget()
            key = self.key(package, kind)
        outputs: dict[str, bytes] = {}
        commands = []
        for index, command in enumerate(report.commands):
            stored = None
            if command.junit is not None and is_pytest(command.command):
                try:
                    outputs[f"junit/{index}.xml"] = command.junit.read_bytes()
                    stored = f"junit/{index}.xml"
                except OSError:
                    pass
            counts = command.counts
            commands.append(
                {
                    "index": index,
                    "command": list(command.command),
                    "returncode": command.returncode,
                    "output": command.output,
                    "duration": command.duration,
                    "counts": None
                    if counts is None
                    else {
                        "tests": counts.tests,
                        "failures": counts.failures,
                        "errors": counts.errors,
                        "skipped": counts.skipped,
                    },
                    "junit": stored,
                }
            )
        record = {
            "package": report.name,
            "env": report.env,
            "duration": report.duration,
            "commands": commands,
            "created": time.time(),
        }
        outputs[_RECORD] = json.dumps(record, indent=1).encode()
        self.cache.store(key, outputs)
