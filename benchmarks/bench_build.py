"""Benchmark: cold `poetflow build --all` vs a `poetry build` loop over 50 packages.

Targets (issue: poetflow build): on a generated 50-package monorepo with path dependencies,
a cold `poetflow build --all` (no dist/) takes at most 1/30 of the time of
`for p in packages/*; do (cd $p && poetry build); done` with a warm Poetry (one build run
first), measured in the same run; a second `poetflow build --all` with nothing changed
takes under 1 s. Both are whole processes started from the shell, as a user would.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monorepo_gen import generate_monorepo

TARGET_COLD_RATIO = 30.0
TARGET_NOOP_SECONDS = 1.0

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@poetflow.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@poetflow.invalid",
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "SOURCE_DATE_EPOCH")}
    env.update(_GIT_ENV)
    env["PIP_CONFIG_FILE"] = os.devnull
    env.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return env


def _run(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, env=_env())
    return time.perf_counter() - started


def _poetry() -> list[str]:
    found = shutil.which("poetry") or str(Path(sys.executable).with_name("poetry"))
    return [found]


def _clean_dists(root: Path) -> None:
    for dist in root.glob("packages/*/dist"):
        shutil.rmtree(dist)


def _file_refs(root: Path) -> int:
    """Count wheels whose METADATA holds a direct file reference."""
    import zipfile

    count = 0
    for wheel in root.glob("packages/*/dist/*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            if b"@ file:" in archive.read(metadata):
                count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packages", type=int, default=50)
    args = parser.parse_args()
    poetry = _poetry()
    poetflow = [sys.executable, "-m", "poetflow"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mono"
        names = generate_monorepo(root, args.packages)
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=_env())
        subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=_env())
        subprocess.run(["git", "commit", "-qm", "init"], cwd=root, check=True, env=_env())
        packages = [root / "packages" / name for name in names]

        # Warm Poetry: its first start compiles and caches; not counted.
        _run([*poetry, "build"], packages[0])
        _clean_dists(root)
        loop = 0.0
        for package in packages:
            loop += _run([*poetry, "build"], package)
        poetry_refs = _file_refs(root)
        _clean_dists(root)

        cold = _run([*poetflow, "build", "--all"], root)
        noop = _run([*poetflow, "build", "--all"], root)
        built = len(list(root.glob("packages/*/dist/*.whl")))
        poetflow_refs = _file_refs(root)

    cold_ratio = loop / cold
    print(f"packages:                          {args.packages}")
    print(f"poetry build loop (warm Poetry):   {loop:8.2f} s")
    print(f"poetflow build --all (cold):       {cold:8.2f} s")
    print(f"poetflow build --all (no change):  {noop:8.2f} s (target < {TARGET_NOOP_SECONDS} s)")
    print(f"speed-up, cold:                    {cold_ratio:8.1f}x (target >= {TARGET_COLD_RATIO}x)")
    print(f"speed-up, no change:               {loop / noop:8.1f}x")
    print(f"wheels with '@ file:' requirements: poetry {poetry_refs}, poetflow {poetflow_refs}")
    ok = (
        cold_ratio >= TARGET_COLD_RATIO
        and noop < TARGET_NOOP_SECONDS
        and built == args.packages
        and poetflow_refs == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
