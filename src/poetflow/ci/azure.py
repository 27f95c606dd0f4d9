"""Azure Pipelines: logging commands for outputs, masks, the summary and error issues.

The agent reads ``##vso[area.action property=value;...]message`` lines from the step's
output (stderr as well as stdout). Values are escaped as the agent unescapes them: in
the message ``%``, CR and LF (``%AZP25``, ``%0D``, ``%0A``); in a property value also
``;`` and ``]`` (``%3B``, ``%5D``), which would otherwise end the property or the command.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
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
    "AzurePipelines",
    "azure_matrix",
    "escape_data",
    "escape_property",
    "logging_command",
    "output_variable",
]

SUMMARY_NAME = "PoetFlow.md"
_JOB_NAME = re.compile(r"[^A-Za-z0-9_]")


def escape_data(value: str) -> str:
    """A logging command's message, escaped."""
    return value.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A logging command's property value, escaped."""
    return escape_data(value).replace(";", "%3B").replace("]", "%5D")


def logging_command(command: str, message: str = "", **properties: str) -> str:
    """``##vso[command name=value;...]message`` with every part escaped."""
    props = ";".join(f"{name}={escape_property(value)}" for name, value in properties.items())
    head = f"{command} {props}" if props else command
    return f"##vso[{head}]{escape_data(message)}"


def output_variable(name: str) -> str:
    """An output name as an Azure variable name (letters, digits, ``_`` and ``.``)."""
    return name.replace("-", "_")


def _matrix_key(package: str) -> str:
    key = _JOB_NAME.sub("_", package)
    return key if key[:1].isalpha() else f"pkg_{key}"


def azure_matrix(plan: Mapping[str, Any]) -> str:
    """``{"acme_core": {"package": "acme-core", "path": ...}}`` for ``strategy: matrix:``
    (Azure names each job after its key, which may hold only letters, digits and ``_``)."""
    matrix = {
        _matrix_key(p["package"]): {"package": p["package"], "path": p["path"]}
        for p in plan["packages"]
    }
    return json.dumps(matrix)


@dataclass(frozen=True)
class AzurePipelines(CiFacts):
    """Azure Pipelines (``TF_BUILD=True``): everything is a logging command on the log."""

    name: ClassVar[str] = "azure"
    title: ClassVar[str] = "Azure Pipelines"
    plan_formats: ClassVar[tuple[PlanFormat, ...]] = (
        PlanFormat(
            "azure-matrix",
            'a job matrix, {"<job>": {"package", "path"}}, for strategy: matrix',
            azure_matrix,
        ),
    )
    templates: ClassVar[CiTemplates | None] = CiTemplates("azure")

    temp_dir: Path | None = None

    @classmethod
    def detect(cls, env: Mapping[str, str]) -> AzurePipelines | None:
        if env.get("TF_BUILD", "").lower() != "true":
            return None
        run_url = None
        collection, project = env.get("SYSTEM_COLLECTIONURI"), env.get("SYSTEM_TEAMPROJECT")
        if collection and project and env.get("BUILD_BUILDID"):
            run_url = (
                f"{collection.rstrip('/')}/{project}/_build/results?buildId={env['BUILD_BUILDID']}"
            )
        branch = env.get("BUILD_SOURCEBRANCH", "")
        return cls(
            workspace=path_from(env, "BUILD_SOURCESDIRECTORY"),
            run_url=run_url,
            ref=branch.removeprefix("refs/heads/").removeprefix("refs/tags/") or None,
            sha=env.get("BUILD_SOURCEVERSION"),
            temp_dir=path_from(env, "AGENT_TEMPDIRECTORY"),
        )

    def mask_commands(self, secret: str) -> list[str]:
        return [logging_command("task.setsecret", line) for line in secret_lines(secret)]

    def hand_over(self, handover: HandOver, stream: TextIO) -> None:
        """Issues, output variables (``isoutput``: other jobs read them as
        ``dependencies.JOB.outputs['STEP.NAME']``) and the summary, uploaded from the
        agent's temporary folder: nothing lands in the repository."""
        from poetflow.report import render_markdown

        lines = []
        for note in failure_annotations(handover, self.workspace):
            issue = {"type": "error"} | ({"sourcepath": note.file} if note.file else {})
            lines.append(logging_command("task.logissue", note.message, **issue))
        for name, value in report_outputs(handover, self.workspace).items():
            lines.append(
                logging_command(
                    "task.setvariable", value, variable=output_variable(name), isoutput="true"
                )
            )
        summary = self._summary_file()
        summary.write_text(render_markdown(handover.report), encoding="utf-8")
        lines.append(logging_command("task.uploadsummary", str(summary)))
        stream.write("".join(line + "\n" for line in lines))

    def _summary_file(self) -> Path:
        # The agent uploads the file while the job runs and empties its temporary folder
        # after the job; a folder of its own keeps two PoetFlow steps from sharing one.
        base = self.temp_dir if self.temp_dir is not None and self.temp_dir.is_dir() else None
        folder = Path(tempfile.mkdtemp(prefix="poetflow-", dir=base))
        os.chmod(folder, 0o755)  # the agent may run as another user than a container step
        return folder / SUMMARY_NAME
