"""The docs-example convention: what counts as a command, its expected exit, and skips."""

from __future__ import annotations

from pathlib import Path

from tests.docs.doc_examples import page_examples

PAGE = """# A page

```console
$ poetflow doctor          # exit 1: no credentials
some output line
$ POETFLOW_TOKEN=x poetflow publish \\
    --dry-run
$ pip install poetflow
```

<!-- docs-test: skip (uploads) -->
```console
$ poetflow publish
```

```bash
# a comment
git tag v1.0.0
poetflow graph --format dot
```

```toml
[tool.poetflow]
```
"""


def test_convention(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    examples = page_examples(page)
    assert [(e.command, e.expected_exit, e.skipped, e.runnable) for e in examples] == [
        ("poetflow doctor          # exit 1: no credentials", 1, False, True),
        ("POETFLOW_TOKEN=x poetflow publish --dry-run", 0, False, True),
        ("pip install poetflow", 0, False, False),
        ("poetflow publish", 0, True, True),
        ("git tag v1.0.0", 0, False, True),
        ("poetflow graph --format dot", 0, False, True),
    ]
    assert examples[0].where == "page.md:4"
