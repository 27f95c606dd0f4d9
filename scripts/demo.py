"""The README's main job: the whole PoetFlow pipeline on a fresh copy of examples/demo.

The example is copied into a temporary git repository (so versions, tags and dist/ never
touch this checkout) and given a history to decide from: the four packages as last
released, a docs-only commit (which releases nothing), a fix, a feature and a breaking
change in the core package that its dependents follow. A local package index with
authentication is started for the run (pypiserver on 127.0.0.1, the same server the test
suite uses), and `poetflow run` tests, versions, writes changelogs, builds, commits, tags
and publishes every package to it.
Then a published package is installed from that index and run, and the summary printed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.index_server import start_index_server  # noqa: E402 - the suite's real index

POETFLOW = [sys.executable, "-m", "poetflow"]
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "PoetFlow Demo",
    "GIT_AUTHOR_EMAIL": "demo@poetflow.invalid",
    "GIT_COMMITTER_NAME": "PoetFlow Demo",
    "GIT_COMMITTER_EMAIL": "demo@poetflow.invalid",
}


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, **_GIT_IDENTITY}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


Edit = tuple[str, str, str]  # a file, the text to find ("" appends), its replacement


def _commit(work: Path, message: str, *edits: Edit) -> None:
    """One commit of the demo history, made of ``edits`` to the temporary copy."""
    for relative, old, new in edits:
        path = work / relative
        text = path.read_text(encoding="utf-8")
        if old and old not in text:
            raise SystemExit(f"demo history: {old!r} is not in {relative} any more")
        path.write_text(text.replace(old, new, 1) if old else text + new, encoding="utf-8")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", message)


def _log(work: Path, title: str, *revisions: str) -> None:
    print(f"\n$ {' '.join(['git log --oneline', *revisions])}    # {title}", flush=True)
    log = subprocess.run(
        ["git", "log", "--format=%h %s", *revisions],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    )
    print(log.stdout, end="", flush=True)


def _last_releases(work: Path) -> None:
    """The packages as last released (a tag each), then a docs-only commit."""
    _commit(work, "chore: the Acme demo monorepo at its last releases")
    for name, version in (
        ("acme-core", "1.2.0"),
        ("acme-http", "0.4.1"),
        ("acme-storage", "2.0.3"),
        ("acme-app", "0.9.0"),
    ):
        _git(work, "tag", "-a", f"{name}-v{version}", "-m", f"{name} {version}")
    _commit(
        work,
        "docs(core): say that amounts are whole cents",
        ("packages/core/README.md", "", "\nAmounts are whole cents: `Money(1205)` is 12.05.\n"),
    )


def _changes(work: Path) -> None:
    """What the release is made of: a fix in acme-http, a feature in acme-storage and a
    breaking change in acme-core, which its dependents follow."""
    core = "packages/core/src/acme_core/__init__.py"
    _commit(
        work,
        "fix(http): no stray spaces in the X-Price header",
        (
            "packages/http/src/acme_http/__init__.py",
            '("X-Price", str(amount))',
            '("X-Price", str(amount).strip())',
        ),
    )
    _commit(
        work,
        "feat(storage): Ledger.entries() lists what was recorded",
        (
            "packages/storage/src/acme_storage/__init__.py",
            "",
            "\n    def entries(self) -> tuple[Money, ...]:\n        return tuple(self._entries)\n",
        ),
    )
    _commit(
        work,
        "feat(core)!: Money takes its currency by keyword only\n\n"
        'BREAKING CHANGE: write Money(100, currency="USD"), not Money(100, "USD").',
        (core, "from dataclasses import dataclass\n", "from dataclasses import dataclass, field\n"),
        (
            core,
            '    currency: str = "EUR"\n',
            '    currency: str = field(default="EUR", kw_only=True)\n',
        ),
        (
            core,
            "Money(self.cents + other.cents, self.currency)",
            "Money(self.cents + other.cents, currency=self.currency)",
        ),
        ("packages/core/tests/test_money.py", 'Money(1, "USD")', 'Money(1, currency="USD")'),
    )


def _step(title: str, *args: str, cwd: Path, env: dict[str, str]) -> None:
    print(f"\n$ poetflow {' '.join(args)}    # {title}", flush=True)
    completed = subprocess.run([*POETFLOW, *args], cwd=cwd, env=env, check=False)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poetflow-demo-") as tmp:
        base = Path(tmp)
        work = base / "demo"
        shutil.copytree(REPO / "examples" / "demo", work)
        index = start_index_server(base / "index", "acme-uploader", "acme-s3cret-password")
        try:
            with (work / "pyproject.toml").open("a", encoding="utf-8") as handle:
                handle.write(f'\n[tool.poetflow.repositories.demo]\nurl = "{index.url}"\n')
            _git(work, "init", "-q", "-b", "main")
            print(f"Demo monorepo: {work}\nLocal package index: {index.url}")
            env = {
                **os.environ,
                **_GIT_IDENTITY,
                "PIP_CONFIG_FILE": os.devnull,
                "POETFLOW_REPOSITORY_DEMO_USERNAME": index.username,
                "POETFLOW_REPOSITORY_DEMO_PASSWORD": index.password,
            }
            _last_releases(work)
            _log(work, "the packages as last released, then a docs-only commit")
            _step("a docs-only commit releases nothing", "plan", cwd=work, env=env)
            _changes(work)
            _log(work, "a fix, a feature, a breaking change", "HEAD~3..")
            _step("the packages", "discover", cwd=work, env=env)
            _step("the dependency graph", "graph", cwd=work, env=env)
            _step("what run will do, and why", "plan", cwd=work, env=env)
            release = ("run", "--repository", "demo", "--env", "shared")
            _step(
                "test, version, changelog, build, commit + tag, publish",
                *release,
                cwd=work,
                env=env,
            )
            summary = (work / ".poetflow" / "poetflow-summary.md").read_text(encoding="utf-8")
            rerun = "a rerun: nothing new to release, every file already on the index"
            _step(rerun, *release, cwd=work, env=env)

            print("\n$ pip install acme-app from the local index, then run it", flush=True)
            venv = base / "consumer"
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [
                    str(venv / "bin" / "pip"),
                    "install",
                    "--quiet",
                    "--no-cache-dir",
                    "--index-url",
                    index.simple_url,
                    "acme-app",
                ],
                check=True,
                env=env,
            )
            subprocess.run([str(venv / "bin" / "acme-app")], check=True)
            print("\nFiles on the index:", ", ".join(index.files()))
            print("\nCHANGELOG of acme-core:\n")
            print((work / "packages" / "core" / "CHANGELOG.md").read_text(encoding="utf-8"))
            print("Summary of the first run (.poetflow/poetflow-summary.md):\n")
            print(summary)
        finally:
            index.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
