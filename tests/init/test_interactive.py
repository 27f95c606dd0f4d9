"""`poetflow init` in a real terminal: it asks only what it cannot infer."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect

from poetflow.tomlfile import read_toml

POETFLOW = [sys.executable, "-m", "poetflow"]


def _spawn(root: Path, *args: str) -> pexpect.spawn:
    env = {**os.environ, "COLUMNS": "200", "TERM": "dumb"}
    return pexpect.spawn(
        POETFLOW[0],
        [*POETFLOW[1:], "init", *args],
        cwd=str(root),
        env=env,
        encoding="utf-8",
        timeout=60,
    )


def test_asks_versioning_only_when_the_repository_does_not_tell(
    make_monorepo: Callable[..., Path],
) -> None:
    root = make_monorepo([("packages/solo", "solo", "0.1.0")])
    child = _spawn(root)
    child.expect("independently or synchronized")
    child.sendline("linked")
    child.expect("Please answer independent or synchronized")
    child.expect("independently or synchronized")
    child.sendline("synchronized")
    child.expect("Wrote pyproject.toml")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    table = read_toml(root / "pyproject.toml")["tool"]["poetflow"]
    assert table["versioning"] == "synchronized"
    assert table["tag-format"] == "v{version}"


def test_inferred_settings_ask_nothing(make_monorepo: Callable[..., Path]) -> None:
    root = make_monorepo(
        [("packages/a", "pkg-a", "1.0.0"), ("packages/b", "pkg-b", "2.0.0")],
        tags=("pkg-a-v1.0.0",),
    )
    child = _spawn(root)
    index = child.expect(["\\?", "Wrote pyproject.toml"])
    assert index == 1, "init asked a question although everything was inferred"
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_asks_before_replacing_an_existing_table(make_monorepo: Callable[..., Path]) -> None:
    existing = '[tool.poetflow]\npackages = ["packages/*"]\nversioning = "independent"\n'
    root = make_monorepo(
        [("packages/a", "pkg-a", "1.0.0"), ("packages/b", "pkg-b", "2.0.0")],
        root_pyproject=existing,
    )
    child = _spawn(root)
    child.expect(r"Replace its \[tool.poetflow\] table\? \[y/N\]")
    child.sendline("n")
    child.expect("Kept pyproject.toml as it is")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (root / "pyproject.toml").read_text(encoding="utf-8") == existing

    child = _spawn(root)
    child.expect(r"Replace its \[tool.poetflow\] table\? \[y/N\]")
    child.sendline("y")
    child.expect("Wrote pyproject.toml")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert read_toml(root / "pyproject.toml")["tool"]["poetflow"]["tag-format"] == (
        "{name}-v{version}"
    )


def test_asks_where_the_packages_are_when_none_were_found(tmp_path: Path) -> None:
    from tests.conftest import init_repo

    root = tmp_path / "empty"
    root.mkdir()
    (root / "README.md").write_text("# soon a monorepo\n", encoding="utf-8")
    init_repo(root)
    child = _spawn(root)
    child.expect(r"Where are your packages \(globs, comma separated\)\? \[packages/\*\]")
    child.sendline("libs/*, tools/cli")
    child.expect("independently or synchronized")
    child.sendline("")  # the default: independent
    child.expect("Wrote pyproject.toml")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    table = read_toml(root / "pyproject.toml")["tool"]["poetflow"]
    assert table["packages"] == ["libs/*", "tools/cli"]
    assert table["versioning"] == "independent"
    assert table["tag-format"] == "{name}-v{version}"
