"""JUnit XML: read pytest's counts and write one file aggregating every package."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from poetflow.files import atomic_write_bytes
from poetflow.qa.results import CommandResult, PackageReport
from poetflow.report import TestCounts

__all__ = ["is_pytest", "junit_argument", "read_counts", "write_junit"]

# Non-printable characters pytest output may carry are illegal in XML 1.0.
_ILLEGAL = {c: None for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)}
_MAX_OUTPUT = 200_000


def is_pytest(argv: Sequence[str]) -> bool:
    """``pytest ...``, ``py.test ...`` or ``python -m pytest ...``."""
    if not argv:
        return False
    program = os.path.basename(argv[0])
    if program in ("pytest", "py.test"):
        return True
    return program.startswith("python") and list(argv[1:3]) == ["-m", "pytest"]


def junit_argument(argv: Sequence[str]) -> Path | None:
    """The XML path the command already asks pytest for (``--junitxml``/``--junit-xml``)."""
    for index, arg in enumerate(argv):
        for flag in ("--junitxml", "--junit-xml"):
            if arg == flag and index + 1 < len(argv):
                return Path(argv[index + 1])
            if arg.startswith(flag + "="):
                return Path(arg.split("=", 1)[1])
    return None


def _suites(root: ET.Element) -> list[ET.Element]:
    return [root] if root.tag == "testsuite" else list(root.iter("testsuite"))


def _int(element: ET.Element, key: str) -> int:
    try:
        return int(element.get(key, "0"))
    except ValueError:
        return 0


def read_counts(path: Path) -> TestCounts | None:
    """Sum the counts of every ``<testsuite>`` in a JUnit file (None if unreadable)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    total = TestCounts()
    for suite in _suites(root):
        total = total + TestCounts(
            _int(suite, "tests"),
            _int(suite, "failures"),
            _int(suite, "errors"),
            _int(suite, "skipped"),
        )
    return total


def _clean(text: str) -> str:
    if len(text) > _MAX_OUTPUT:
        text = "[... output truncated ...]\n" + text[-_MAX_OUTPUT:]
    return text.translate(_ILLEGAL)


def _command_case(
    package: PackageReport, name: str, status: str, output: str, time: float, message: str
) -> ET.Element:
    case = ET.Element("testcase", {"classname": package.name, "name": name, "time": f"{time:.3f}"})
    if status == "failed":
        ET.SubElement(case, "failure", {"message": message}).text = _clean(output)
    elif status == "error":
        ET.SubElement(case, "error", {"message": message}).text = _clean(output)
    elif status == "skipped":
        ET.SubElement(case, "skipped", {"message": message})
    else:
        ET.SubElement(case, "system-out").text = _clean(output)
    return case


def _pytest_suites(package: PackageReport, command: CommandResult) -> list[ET.Element]:
    if command.junit is None:
        return []
    try:
        root = ET.parse(command.junit).getroot()
    except (OSError, ET.ParseError):
        return []
    suites = _suites(root)
    for suite in suites:
        # pytest names every suite "pytest"; a CI page listing twenty of those is useless.
        suite.set("name", f"{package.name}: {command.display}")
        for case in suite.iter("testcase"):
            case.set("classname", f"{package.name}.{case.get('classname', '')}".rstrip("."))
    return suites


def _summarise(suite: ET.Element) -> None:
    cases = list(suite.iter("testcase"))
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))


def _package_suites(package: PackageReport) -> list[ET.Element]:
    suites: list[ET.Element] = []
    own = ET.Element("testsuite", {"name": package.name, "time": f"{package.duration:.3f}"})
    if package.status == "skipped":
        own.append(_command_case(package, "skipped", "skipped", "", 0.0, package.error or ""))
    elif package.error and not package.commands:
        own.append(
            _command_case(
                package,
                "prepare environment",
                package.status,
                package.output,
                package.install.duration,
                package.error,
            )
        )
    for command in package.commands:
        merged = _pytest_suites(package, command)
        suites.extend(merged)
        counted = command.counts is not None and (command.counts.failures + command.counts.errors)
        # A command with its own XML gets a case of its own only when the XML does not
        # already explain the failure (pytest usage error, crash, timeout).
        if merged and (command.status == "passed" or counted):
            continue
        message = f"{command.display} exited with {command.returncode}"
        if command.timed_out:
            message = f"{command.display} timed out"
        own.append(
            _command_case(
                package, command.display, command.status, command.output, command.duration, message
            )
        )
    if len(own):
        suites.insert(0, own)
    for suite in suites:
        _summarise(suite)
    return suites


def write_junit(packages: Sequence[PackageReport], path: Path, duration: float) -> Path:
    """Write one ``<testsuites>`` document for every package (atomically) and return it."""
    root = ET.Element("testsuites", {"name": "poetflow test", "time": f"{duration:.3f}"})
    for package in packages:
        root.extend(_package_suites(package))
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(_int(suite, key) for suite in root.findall("testsuite"))))
    ET.indent(root)
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, ET.tostring(root, encoding="utf-8", xml_declaration=True))
    return path
