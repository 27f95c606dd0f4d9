"""Quality assurance of the packages: run each one's tests and linters in its environment."""

from __future__ import annotations

from poetflow.qa.report import (
    CommandResult,
    InstallResult,
    PackageReport,
    TestCounts,
    TestReport,
)
from poetflow.qa.runner import (
    PlannedPackage,
    TestEvent,
    TestOptions,
    plan_tests,
    run_package_qa,
    run_tests,
)
from poetflow.qa.settings import EnvironmentKind, TestSettings, package_settings

__all__ = [
    "CommandResult",
    "EnvironmentKind",
    "InstallResult",
    "PackageReport",
    "PlannedPackage",
    "TestCounts",
    "TestEvent",
    "TestOptions",
    "TestReport",
    "TestSettings",
    "package_settings",
    "plan_tests",
    "run_package_qa",
    "run_tests",
]
