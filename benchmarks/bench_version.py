"""Benchmark: plan all 50 packages' next versions with PoetFlow vs python-semantic-release for one.

A generated monorepo (benchmarks/monorepo_gen.py) gets 20,000 conventional commits through
`git fast-import`; then, on the same repository and in the same run:

* PoetFlow:  `poetflow version bump --dry-run --json` (every package, dependents included)
* PSR:       `semantic-release --noop version --print` in ONE package configured with the
             `conventional-monorepo` parser (path_filters, scope_prefix, tag_format)

python-semantic-release is installed into its own venv under the temp dir (reused between
runs), never into PoetFlow's environment. Exit 1 when PoetFlow's time is not below PSR's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monorepo_gen import generate_monorepo

PACKAGES = 50
COMMITS = 20_000
_TYPES = ["feat", "fix", "fix", "perf", "docs", "chore", "refactor", "test", "fix", "feat"]
_ENV = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@poetflow.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@poetflow.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}
PSR_SPEC = "python-semantic-release>=10.4"  # 10.4 added the conventional-monorepo parser


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **_ENV},
        input=stdin,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().strip()


def _psr_config(name: str) -> str:
    return f"""
[tool.semantic_release]
commit_parser = "conventional-monorepo"
major_on_zero = false
allow_zero_version = true
commit_message = "chore(release): {name}@{{version}}"
tag_format = "{name}-v{{version}}"
version_toml = ["pyproject.toml:project.version"]

[tool.semantic_release.commit_parser_options]
path_filters = ["."]
scope_prefix = "{name}-"

[tool.semantic_release.branches.main]
match = "main"
"""


def _fast_import_stream(names: list[str], count: int, start: str, seed: int) -> bytes:
    """``count`` commits, each touching one package's file with a conventional message."""
    rng = random.Random(seed)
    chunks: list[bytes] = []
    moment = 1_700_000_000
    for number in range(1, count + 1):
        name = rng.choice(names)
        kind = rng.choice(_TYPES)
        bang = "!" if rng.random() < 0.002 else ""
        message = f"{kind}({name}){bang}: change {number}\n\nBody of change {number}.\n"
        if rng.random() < 0.001:
            message += "\nBREAKING CHANGE: the API moved\n"
        content = f"{number}\n".encode()
        path = f"packages/{name}/src/{name.replace('-', '_')}/changes_{number % 7}.txt"
        encoded = message.encode()
        chunks.append(
            b"commit refs/heads/main\n"
            + f"mark :{number}\n".encode()
            + f"committer Bench <bench@poetflow.invalid> {moment + number} +0000\n".encode()
            + f"data {len(encoded)}\n".encode()
            + encoded
            + (f"from {start}\n" if number == 1 else f"from :{number - 1}\n").encode()
            + f"M 100644 inline {path}\n".encode()
            + f"data {len(content)}\n".encode()
            + content
            + b"\n"
        )
    return b"".join(chunks)


def make_repository(root: Path, packages: int, commits: int, psr_package: str) -> list[str]:
    names = generate_monorepo(root, packages)
    pyproject = root / "packages" / psr_package / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + _psr_config(psr_package), encoding="utf-8")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "commit.gpgsign", "false")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "chore: initial commit")
    initial = _git(root, "rev-parse", "HEAD")
    for name in names:  # every package released once at the start
        _git(root, "tag", "-a", f"{name}-v0.1.0", "-m", f"{name} 0.1.0")
    _git(root, "fast-import", "--quiet", stdin=_fast_import_stream(names, commits, initial, 7))
    # fast-import moved the branch; bring the work tree along (this is our own temp repo).
    _git(root, "read-tree", "-m", "-u", initial, "HEAD")
    # PSR reads the origin URL even with --noop; a local bare remote is enough.
    _git(root, "init", "-q", "--bare", str(root.parent / "remote.git"))
    _git(root, "remote", "add", "origin", str(root.parent / "remote.git"))
    return names


def ensure_psr(venv: Path) -> Path:
    """python-semantic-release in its own venv; reused when it is already there."""
    executable = venv / "bin" / "semantic-release"
    if executable.exists():
        return executable
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", PSR_SPEC]
    done = subprocess.run(pip, check=False)
    if done.returncode != 0:  # local wheel folders may lack it: ask PyPI directly
        subprocess.run(pip, check=True, env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
    return executable


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packages", type=int, default=PACKAGES)
    parser.add_argument("--commits", type=int, default=COMMITS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated repository")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="poetflow-bench-version-"))
    psr_venv = Path(tempfile.gettempdir()) / "poetflow-bench-psr"
    repo = work / "mono"
    psr_package = "pkg-000"
    try:
        started = time.perf_counter()
        make_repository(repo, args.packages, args.commits, psr_package)
        print(
            f"generated {args.packages} packages, {args.commits} commits "
            f"in {time.perf_counter() - started:.1f}s ({repo})"
        )
        psr = ensure_psr(psr_venv)
        env = {**os.environ, **_ENV}
        env.pop("VIRTUAL_ENV", None)
        poetflow = [sys.executable, "-m", "poetflow", "version", "bump", "--dry-run", "--json"]
        pf_times, psr_times = [], []
        pf_out = psr_out = ""
        for _ in range(args.runs):
            elapsed, pf_out = _timed(poetflow, repo, env)
            pf_times.append(elapsed)
            elapsed, psr_out = _timed(
                [str(psr), "--noop", "version", "--print"], repo / "packages" / psr_package, env
            )
            psr_times.append(elapsed)
        plan = {p["name"]: p for p in json.loads(pf_out)["packages"]}
        ours = plan[psr_package]["next"]
        theirs = psr_out.strip().splitlines()[-1].strip() if psr_out.strip() else "?"
        pf, ps = statistics.median(pf_times), statistics.median(psr_times)
        released = sum(1 for p in plan.values() if p["next"] != p["current"])
        print(
            f"poetflow, all {len(plan)} packages ({released} releases): {pf:.2f}s (median of "
            f"{args.runs}: {', '.join(f'{t:.2f}' for t in pf_times)})"
        )
        print(
            f"semantic-release, {psr_package} only: {ps:.2f}s (median of {args.runs}: "
            f"{', '.join(f'{t:.2f}' for t in psr_times)})"
        )
        print(f"{psr_package} next version: poetflow {ours}, semantic-release {theirs}")
        print(f"ratio poetflow(all {len(plan)}) / semantic-release(one) = {pf / ps:.3f}")
        if pf >= ps:
            print("TARGET MISSED: poetflow planning all packages must be faster than PSR for one")
            return 1
        print("target met")
        return 0
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
