"""The README's main job: the whole PoetFlow pipeline on a fresh copy of examples/demo.

The example is copied into a temporary git repository (so versions, tags and dist/ never
touch this checkout), a local package index with authentication is started for the run
(pypiserver on 127.0.0.1, the same server the test suite uses), and `poetflow run` tests,
versions, writes changelogs, builds, commits, tags and publishes every package to it.
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
            _git(work, "add", "-A")
            _git(work, "commit", "-q", "-m", "feat: the Acme demo monorepo")
            print(f"Demo monorepo: {work}\nLocal package index: {index.url}")
            env = {
                **os.environ,
                **_GIT_IDENTITY,
                "PIP_CONFIG_FILE": os.devnull,
                "POETFLOW_REPOSITORY_DEMO_USERNAME": index.username,
                "POETFLOW_REPOSITORY_DEMO_PASSWORD": index.password,
            }
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
