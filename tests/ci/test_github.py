"""GitHub workflow commands and files are written in the formats the runner parses."""

from __future__ import annotations

from pathlib import Path

from ci_helpers import parse_github_output

from poetflow.ci.github import add_mask_commands, error_annotation, write_outputs
from poetflow.ci.registry import detect_system


def test_outputs_survive_newlines_and_delimiter_lookalikes(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("earlier=step\n")
    tricky = 'line one\nEOF\nghadelimiter_x\n{"include": []}'
    write_outputs(target, {"report": tricky, "released": "true"})
    assert parse_github_output(target) == {
        "earlier": "step",
        "report": tricky,
        "released": "true",
    }


def test_error_annotation_escapes_properties_and_message() -> None:
    line = error_annotation(
        "tests failed: 2%\nsee log", file="packages/a,b/pyproject.toml", title="PoetFlow: test"
    )
    assert line == (
        "::error file=packages/a%2Cb/pyproject.toml,title=PoetFlow%3A test::"
        "tests failed: 2%25%0Asee log"
    )
    assert error_annotation("boom") == "::error::boom"


def test_multiline_secrets_are_masked_line_by_line() -> None:
    assert add_mask_commands(["-----BEGIN KEY-----\nabc%123\r\n\n"]) == [
        "::add-mask::-----BEGIN KEY-----",
        "::add-mask::abc%25123",
    ]


def test_github_detection() -> None:
    github = detect_system(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": "acme/mono",
            "GITHUB_RUN_ID": "7",
            "GITHUB_WORKSPACE": "/github/workspace",
        }
    )
    assert github.name == "github"
    assert github.report_fields() == {
        "system": "github",
        "run_url": "https://github.com/acme/mono/actions/runs/7",
    }
    assert github.workspace == Path("/github/workspace")
