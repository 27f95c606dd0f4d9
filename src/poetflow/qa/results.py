"""Results of a test run: per command, per package, and the whole run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from poetflow.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from poetflow.report import TestCounts

__all__ = [
    "CacheHit",
    "CommandResult",
    "CommandStatus",
    "InstallResult",
    "PackageReport",
    "PackageStatus",
    "TestCounts",
    "TestReport",
]

CommandStatus = Literal["passed", "failed", "error"]
# error: bad configuration (command not found, outdated lock): exit 2, not a test failure.
# cached: not run, because a passing result for exactly these inputs was found.
PackageStatus = Literal["passed", "cached", "failed", "error", "skipped"]


@dataclass(frozen=True)
class CommandResult:
    """One QA command of one package. ``junit`` is pytest's own XML when there is one."""

    command: tuple[str, ...]
    status: CommandStatus
    returncode: int | None
    output: str
    duration: float
    counts: TestCounts | None = None
    junit: Path | None = None
    timed_out: bool = False

    @property
    def display(self) -> str:
        import shlex

        return shlex.join(self.command)


@dataclass(frozen=True)
class InstallResult:
    """What preparing the environment did: ``installed``, ``skipped`` (inputs unchanged),
    ``failed`` (the install did not complete) or ``none`` (nothing to install, e.g. the
    current interpreter); ``installer`` is what installed it (``uv`` or ``poetry``)."""

    action: Literal["installed", "skipped", "failed", "none"]
    duration: float = 0.0
    locked: bool = False
    output: str = ""
    installer: str = ""


@dataclass(frozen=True)
class CacheHit:
    """Where a ``cached`` package's result came from: its key, the local store or the
    remote cache, and how long the run that produced it took."""

    key: str
    origin: str
    original_duration: float


@dataclass(frozen=True)
class PackageReport:
    """One package's QA: its status, every command, the captured output, notes (a lock
    file created) and the runtime dependencies (transitive) whose QA failed."""

    name: str
    path: Path
    status: PackageStatus
    env: str
    commands: tuple[CommandResult, ...] = ()
    install: InstallResult = field(default_factory=lambda: InstallResult("none"))
    duration: float = 0.0
    notes: tuple[str, ...] = ()
    error: str | None = None
    failed_dependencies: tuple[str, ...] = ()
    cache: CacheHit | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "cached")

    @property
    def counts(self) -> TestCounts:
        total = TestCounts()
        for command in self.commands:
            if command.counts is not None:
                total = total + command.counts
        return total

    @property
    def output(self) -> str:
        """Everything the package printed, in order, each command under a header."""
        parts = []
        if self.install.output:
            parts.append(self.install.output)
        for command in self.commands:
            parts.append(f"$ {command.display}\n{command.output}")
        if self.error:
            parts.append(f"error: {self.error}")
        return "\n".join(part.rstrip("\n") for part in parts) + ("\n" if parts else "")

    @property
    def failed_command(self) -> CommandResult | None:
        return next((c for c in self.commands if c.status != "passed"), None)

    def to_dict(self) -> dict[str, Any]:
        counts = self.counts
        return {
            "name": self.name,
            "path": str(self.path),
            "status": self.status,
            "env": self.env,
            "duration": round(self.duration, 3),
            "install": {
                "action": self.install.action,
                "installer": self.install.installer or None,
                "duration": round(self.install.duration, 3),
                "locked": self.install.locked,
            },
            "tests": {
                "tests": counts.tests,
                "failures": counts.failures,
                "errors": counts.errors,
                "skipped": counts.skipped,
            },
            "notes": list(self.notes),
            "error": self.error,
            "cache": None
            if self.cache is None
            else {
                "key": self.cache.key,
                "origin": self.cache.origin,
                "original_duration": round(self.cache.original_duration, 3),
            },
            "failed_dependencies": list(self.failed_dependencies),
            "commands": [
                {
                    "command": command.display,
                    "status": command.status,
                    "returncode": command.returncode,
                    "duration": round(command.duration, 3),
                    "timed_out": command.timed_out,
                    "tests": None
                    if command.counts is None
                    else {
                        "tests": command.counts.tests,
                        "failures": command.counts.failures,
                        "errors": command.counts.errors,
                        "skipped": command.counts.skipped,
                    },
                    "output": command.output,
                }
                for command in self.commands
            ],
        }


@dataclass(frozen=True)
class TestReport:
    """The whole run, packages in the order they were scheduled."""

    __test__ = False

    packages: tuple[PackageReport, ...]
    duration: float
    junit_xml: Path | None = None

    @property
    def status(self) -> PackageStatus:
        statuses = {package.status for package in self.packages}
        if "error" in statuses:
            return "error"
        if "failed" in statuses:
            return "failed"
        return "passed"

    @property
    def exit_code(self) -> int:
        """0 all passed, 1 a test failed, 2 bad configuration in some package."""
        return {"error": EXIT_BAD_INPUT, "failed": EXIT_FAILED}.get(self.status, EXIT_OK)

    @property
    def install_seconds(self) -> float:
        return sum(package.install.duration for package in self.packages)

    @property
    def cached(self) -> int:
        return sum(1 for package in self.packages if package.status == "cached")

    def get(self, name: str) -> PackageReport:
        return next(package for package in self.packages if package.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "exit_code": self.exit_code,
            "duration": round(self.duration, 3),
            "install_seconds": round(self.install_seconds, 3),
            "cached": self.cached,
            "junit_xml": str(self.junit_xml) if self.junit_xml else None,
            "packages": [package.to_dict() for package in self.packages],
        }
