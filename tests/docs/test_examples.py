"""Every shell example in docs/ and README.md runs against a fresh git copy of examples/demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES, REPO_ROOT, copy_tree, init_repo
from tests.docs.doc_examples import page_examples

PAGES = [*sorted((REPO_ROOT / "docs").rglob("*.md")), REPO_ROOT / "README.md"]

# Pages owned by other engineers whose network/credential examples do not carry the
# `<!-- docs-test: skip -->` marker yet: (page, command prefix). Remove an entry once the
# page marks its block.
_UNMARKED: frozenset[tuple[str, str]] = frozenset(
    {
        ("signing.md", "poetflow sign"),  # needs an OIDC identity and Sigstore
        ("signing.md", "poetflow publish --sign"),  # the same, and an index
        ("signing.md", "poetflow verify"),  # needs signed downloads
    }
)


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # `poetflow` must be this checkout's CLI, whatever the caller's PATH holds.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "160"
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_convention_finds_examples() -> None:
    commands = [example.command for page in PAGES for example in page_examples(page)]
    assert any(command.startswith("poetflow init") for command in commands)
    assert any(command.startswith("poetflow doctor") for command in commands)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO_ROOT)) for p in PAGES])
def test_page_examples_run(page: Path, tmp_path: Path) -> None:
    examples = [
        example
        for example in page_examples(page)
        if example.runnable
        and not example.skipped
        and not any(
            page.name == name and example.command.startswith(prefix) for name, prefix in _UNMARKED
        )
    ]
    if not examples:
        pytest.skip(f"{page.name} has no runnable poetflow/git example")
    repo = init_repo(copy_tree(EXAMPLES / "demo", tmp_path / "demo"))
    failures = []
    for example in examples:
        result = _run(example.command, repo)
        if result.returncode != example.expected_exit:
            output = (result.stdout + result.stderr).strip().splitlines()[-15:]
            failures.append(
                f"{example.where}: `{example.command}` exited {result.returncode}, "
                f"expected {example.expected_exit}:\n    " + "\n    ".join(output)
            )
    assert not failures, "\n".join(failures)
