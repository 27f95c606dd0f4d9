"""Shared by the CI and container tests: CI environments, and their files and commands
read the way each runner reads them."""

from __future__ import annotations

from pathlib import Path


def parse_github_output(path: Path) -> dict[str, str]:
    """Parse ``name=value`` and ``name<<DELIMITER`` entries, as the Actions runner does."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def parse_azure_commands(text: str) -> list[tuple[str, dict[str, str], str]]:
    """(command, properties, message) of every ``##vso[...]`` line, unescaped the way the
    Azure Pipelines agent does: the first ``]`` ends the properties, ``;`` splits them."""

    def unescape(value: str) -> str:
        for token, escaped in ((";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D")):
            value = value.replace(escaped, token)
        return value.replace("%AZP25", "%")

    found = []
    for line in text.splitlines():
        start = line.find("##vso[")
        if start < 0:
            continue
        body = line[start + len("##vso[") :]
        head, _, message = body.partition("]")
        command, _, props = head.partition(" ")
        properties = {}
        for pair in props.split(";"):
            if "=" in pair:
                key, value = pair.split("=", 1)
                properties[key.strip()] = unescape(value)
        found.append((command, properties, unescape(message)))
    return found


def ci_environment(system: str, workspace: Path, scratch: Path) -> dict[str, str]:
    """The variables each CI system sets for a job whose checkout is ``workspace``
    (the runner's own files go into ``scratch``)."""
    if system == "github":
        output, summary = scratch / "github_output", scratch / "step_summary"
        output.touch()
        summary.touch()
        return {
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_REPOSITORY": "acme/monorepo",
            "GITHUB_RUN_ID": "42",
        }
    if system == "gitlab":
        return {
            "GITLAB_CI": "true",
            "CI_PROJECT_DIR": str(workspace),
            "CI_JOB_URL": "https://gitlab.example/acme/monorepo/-/jobs/42",
        }
    if system == "azure":
        temp = scratch / "agent-temp"
        temp.mkdir(exist_ok=True)
        return {
            "TF_BUILD": "True",
            "BUILD_SOURCESDIRECTORY": str(workspace),
            "AGENT_TEMPDIRECTORY": str(temp),
            "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/",
            "SYSTEM_TEAMPROJECT": "monorepo",
            "BUILD_BUILDID": "42",
            "BUILD_SOURCEBRANCH": "refs/heads/main",
            "BUILD_SOURCEVERSION": "0123abc",
        }
    if system == "bitbucket":
        return {
            "BITBUCKET_BUILD_NUMBER": "42",
            "BITBUCKET_CLONE_DIR": str(workspace),
            "BITBUCKET_REPO_FULL_NAME": "acme/monorepo",
            "BITBUCKET_BRANCH": "main",
            "BITBUCKET_COMMIT": "0123abc",
        }
    raise ValueError(system)
