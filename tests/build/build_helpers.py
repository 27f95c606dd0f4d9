"""Helpers shared by the build tests: scenario workspaces and readers for built artifacts."""

from __future__ import annotations

import email.parser
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "fixtures" / "workspaces"
EXTRA = HERE / "fixtures" / "extra"


def dist_files(package_dir: Path) -> list[str]:
    """Names of the sdists and wheels in a package's dist/."""
    dist = package_dir / "dist"
    if not dist.is_dir():
        return []
    return sorted(p.name for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz")))


def wheel_of(package_dir: Path) -> Path:
    wheels = sorted((package_dir / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def sdist_of(package_dir: Path) -> Path:
    sdists = sorted((package_dir / "dist").glob("*.tar.gz"))
    assert len(sdists) == 1, sdists
    return sdists[0]


def wheel_metadata(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return archive.read(name).decode("utf-8")


def sdist_member(sdist: Path, member: str) -> str:
    with tarfile.open(sdist, "r:gz") as archive:
        top = archive.getnames()[0].split("/")[0]
        handle = archive.extractfile(f"{top}/{member}")
        assert handle is not None
        return handle.read().decode("utf-8")


def requires_dist(metadata: str) -> list[str]:
    return email.parser.Parser().parsestr(metadata).get_all("Requires-Dist") or []


def git_status(repo: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def add_hatch_package(root: Path) -> Path:
    """Put the hatchling-built member into a copy of the realshaped scenario."""
    target = root / "hatch" / "hatch-pkg"
    shutil.copytree(EXTRA / "hatch-pkg", target)
    return target


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def make_repo(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` and commit it to a fresh git repository."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("dist", "__pycache__"))
    git(target, "init", "-q", "-b", "main")
    git(target, "config", "commit.gpgsign", "false")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "chore: initial commit")
    return target


def committed_monorepo(root: Path, packages: int) -> Path:
    """``packages`` generated packages in layers of 4 (side by side), committed."""
    import sys

    sys.path.insert(0, str(HERE.parents[1] / "benchmarks"))
    from monorepo_gen import generate_monorepo

    generate_monorepo(root, packages, width=4)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    return root
