"""GitHub Actions: step outputs, the job summary, masks, error annotations, a job matrix."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TextIO

from poetflow.ci.system import (
    CiFacts,
    CiTemplates,
    HandOver,
    PlanFormat,
    failure_annotations,
    path_from,
    report_outputs,
    secret_lines,
)

__all__ = [
    "GitHubActions",
    "add_mask_commands",
    "append_summary",
    "error_annotation",
    "format_output",
    "github_matrix",
    "write_outputs",
]

_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_output(name: str, value: str) -> str:
    """One ``$GITHUB_OUTPUT`` entry in the heredoc form, safe for any value.

    The delimiter is random (as actions/toolkit does), so a value can hold newlines or
    text that looks like a delimiter without ending the entry early.
    """
    if not _OUTPUT_NAME.match(name):
        raise ValueError(f"invalid output name {name!r}")
    while True:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        if delimiter not in value:
            break
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(path: Path, outputs: Mapping[str, str]) -> None:
    """Append ``outputs`` to the ``$GITHUB_OUTPUT`` file (other steps may have written to it)."""
    with path.open("a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            handle.write(format_output(name, value))


def append_summary(path: Path, markdown: str) -> None:
    """Append Markdown to ``$GITHUB_STEP_SUMMARY`` (one file per step, shared by its writers)."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(markdown if markdown.endswith("\n") else markdown + "\n")


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def error_annotation(
    message: str, *, file: str | None = None, line: int | None = None, title: str | None = None
) -> str:
    """An ``::error file=...,line=...,title=...::message`` workflow command."""
    properties = []
    if file:
        properties.append(f"file={_escape_property(file)}")
    if line is not None:
        properties.append(f"line={line}")
    if title:
        properties.append(f"title={_escape_property(title)}")
    head = "::error " + ",".join(properties) if properties else "::error"
    return f"{head}::{_escape_data(message)}"


def add_mask_commands(secrets: Iterable[str]) -> list[str]:
    """``::add-mask::`` commands; a multi-line secret is masked line by line, as GitHub needs
    (the runner masks within one log line, so a mask spanning lines would never match)."""
    return [f"::add-mask::{_escape_data(line)}" for s in secrets for line in secret_lines(s)]


def github_matrix(plan: Mapping[str, Any]) -> str:
    """``{"include": [{"package", "path"}, ...]}`` for ``strategy.matrix`` via fromJSON."""
    include = [{"package": p["package"], "path": p["path"]} for p in plan["packages"]]
    return json.dumps({"include": include})


@dataclass(frozen=True)
class GitHubActions(CiFacts):
    """GitHub Actions (``GITHUB_ACTIONS=true``): the step's output and summary files."""

    name: ClassVar[str] = "github"
    title: ClassVar[str] = "GitHub Actions"
    plan_formats: ClassVar[tuple[PlanFormat, ...]] = (
        PlanFormat(
            "github-matrix",
            'a job matrix, {"include": [{"package", "path"}]}, for fromJSON',
            github_matrix,
        ),
    )
    # release-pr/ holds the release pull request flow, an alternative to release.yml.
    templates: ClassVar[CiTemplates | None] = CiTemplates(
        "github", ".github/workflows/{file}", excluded=("release-pr/",)
    )

    output_file: Path | None = None
    summary_file: Path | None = None

    @classmethod
    def detect(cls, env: Mapping[str, str]) -> GitHubActions | None:
        if env.get("GITHUB_ACTIONS") != "true":
            return None
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        run_url = None
        if env.get("GITHUB_REPOSITORY") and env.get("GITHUB_RUN_ID"):
            run_url = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
        return cls(
            workspace=path_from(env, "GITHUB_WORKSPACE"),
            run_url=run_url,
            ref=env.get("GITHUB_REF_NAME") or env.get("GITHUB_REF"),
            sha=env.get("GITHUB_SHA"),
            output_file=path_from(env, "GITHUB_OUTPUT"),
            summary_file=path_from(env, "GITHUB_STEP_SUMMARY"),
        )

    def mask_commands(self, secret: str) -> list[str]:
        return add_mask_commands([secret])

    def hand_over(self, handover: HandOver, stream: TextIO) -> None:
        """Annotations on the log, outputs and summary to the runner's files (they are
        the runner's, outside the repository: written under ``--dry-run`` too)."""
        from poetflow.report import render_markdown

        for note in failure_annotations(handover, self.workspace):
            stream.write(error_annotation(note.message, file=note.file, title=note.title) + "\n")
        if self.output_file is not None:
            write_outputs(self.output_file, report_outputs(handover, self.workspace))
        if self.summary_file is not None:
            append_summary(self.summary_file, render_markdown(handover.report))
