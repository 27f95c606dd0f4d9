"""The seam every CI system implements, and what crosses it.

A CI system is one module in ``poetflow.ci`` with a class implementing :class:`CiSystem`,
and one line in :mod:`poetflow.ci.registry`. Nothing outside ``poetflow.ci`` names a
system: the CLI, ``poetflow init``, ``poetflow plan`` and the container adapter ask the
registry, and every command hands its report over through :mod:`poetflow.ci.handover`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TextIO

if TYPE_CHECKING:
    from poetflow.report import RunReport

__all__ = [
    "Annotation",
    "CiFacts",
    "CiSystem",
    "CiTemplates",
    "HandOver",
    "PlanFormat",
    "failure_annotations",
    "first_set",
    "path_from",
    "path_in_workspace",
    "report_outputs",
    "secret_lines",
]

# A pyproject.toml named in an error message: the annotation points at that file.
_PYPROJECT_PATH = re.compile(r"(?P<path>(?:/|\.{0,2}/?)[\w./@+-]*pyproject\.toml)")


@dataclass(frozen=True)
class HandOver:
    """A finished command's results, as the CI system receives them.

    ``report_dir`` is the command's report folder (its JUnit XML is there);
    ``report_file`` where the report was written (None under ``--dry-run`` and for
    commands that write none); ``errors`` the error lines of a command that stopped
    before it had a report of its own: they become annotations.
    """

    report: RunReport
    report_dir: Path
    report_file: Path | None = None
    errors: tuple[str, ...] = ()

    @property
    def dry_run(self) -> bool:
        return self.report.dry_run


@dataclass(frozen=True)
class PlanFormat:
    """``poetflow plan --format NAME``: the plan rendered for one CI system's fan-out."""

    name: str
    help: str
    render: Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class CiTemplates:
    """``poetflow init --ci NAME``: the files in ``ci-templates/<folder>/`` and where each
    lands in the user's repository (``target`` formats the file's path in the folder);
    ``excluded`` are folders of the templates that are not copied."""

    folder: str
    target: str = "{file}"
    excluded: tuple[str, ...] = ()


@dataclass(frozen=True)
class Annotation:
    """An error the CI system shows next to the code: its message, title, file."""

    message: str
    title: str = "PoetFlow"
    file: str | None = None


class CiSystem(Protocol):
    """One CI system: detected from its environment, it records its facts in the run
    report, masks secrets on its side and receives every command's report.

    ``name`` is the registry key (``poetflow init --ci NAME``, the report's ``ci.system``).
    ``mask_commands`` returns the lines that make the system hide ``secret`` in its log,
    escaped and line by line (none when the system has no such command); they are
    written as soon as a secret is registered. ``hand_over`` receives the report of
    every command: outputs, job summary, annotations, report files; it writes workflow
    commands to ``stream`` (stderr: stdout is the command's own, JSON included) and must
    not write into the repository under ``--dry-run``.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    plan_formats: ClassVar[tuple[PlanFormat, ...]]
    templates: ClassVar[CiTemplates | None]

    @classmethod
    def detect(cls, env: Mapping[str, str]) -> CiSystem | None: ...

    @property
    def workspace(self) -> Path | None: ...

    def report_fields(self) -> dict[str, str]: ...

    def mask_commands(self, secret: str) -> list[str]: ...

    def hand_over(self, handover: HandOver, stream: TextIO) -> None: ...


@dataclass(frozen=True)
class CiFacts:
    """What most systems know about their run; a system's class extends this.

    The defaults: no plan formats, no templates, no runtime masking and nothing handed
    over (the report file in the report folder is all such a system gets).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    plan_formats: ClassVar[tuple[PlanFormat, ...]] = ()
    templates: ClassVar[CiTemplates | None] = None

    workspace: Path | None = None
    run_url: str | None = None
    ref: str | None = None
    sha: str | None = None

    def report_fields(self) -> dict[str, str]:
        """The report's ``ci`` object: the system and the values it knows."""
        values = {"system": self.name, "run_url": self.run_url, "ref": self.ref, "sha": self.sha}
        return {key: value for key, value in values.items() if value}

    def mask_commands(self, secret: str) -> list[str]:
        return []

    def hand_over(self, handover: HandOver, stream: TextIO) -> None:
        return None


def secret_lines(secret: str) -> list[str]:
    """The lines of ``secret`` a log can show: CI masks work line by line."""
    return [line for line in secret.splitlines() if line.strip()]


def path_in_workspace(path: Path | str, workspace: Path | None) -> str:
    """``path`` relative to the CI checkout when it is inside it (how CI names files)."""
    text = str(path)
    if workspace is not None:
        with contextlib.suppress(ValueError):
            return Path(text).relative_to(workspace).as_posix()
    return text


def failure_annotations(handover: HandOver, workspace: Path | None) -> list[Annotation]:
    """The failures to show next to the code: each failed stage of each package (on its
    pyproject.toml), then each error line (on the pyproject.toml it names, if any)."""
    from poetflow.masking import mask

    report = handover.report
    found: list[Annotation] = []
    for package in report.packages:
        for stage in package.stages:
            if stage.failed:
                file = f"{package.path}/pyproject.toml"
                if report.root:
                    file = path_in_workspace(Path(report.root) / file, workspace)
                message = f"{package.name}: {stage.name} {stage.status}. {stage.detail}"
                found.append(
                    Annotation(mask(message.strip()), title=f"PoetFlow {stage.name}", file=file)
                )
    for message in handover.errors:
        match = _PYPROJECT_PATH.search(message)
        named = path_in_workspace(match.group("path"), workspace) if match else None
        found.append(Annotation(mask(message), file=named))
    return found


def report_outputs(handover: HandOver, workspace: Path | None) -> dict[str, str]:
    """The step outputs of the report (names as in action.yml), the report file shown
    relative to the CI checkout."""
    from poetflow.report import ci_outputs

    shown = None
    if handover.report_file is not None:
        shown = Path(path_in_workspace(handover.report_file, workspace))
    return ci_outputs(handover.report, shown)


def first_set(env: Mapping[str, str], names: Sequence[str]) -> str | None:
    """The first of ``names`` that ``env`` sets to a non-empty value."""
    return next((env[name] for name in names if env.get(name)), None)


def path_from(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    return Path(value) if value else None
