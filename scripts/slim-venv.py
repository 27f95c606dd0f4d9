"""Slim the runner image's virtualenv: no test suites, stubs or symbols; little byte code.

Usage (the Dockerfile's builder stage): ``python3 slim-venv.py /opt/poetflow``

Removed: test folders inside packages, type stubs (``*.pyi``: for type checkers, never
imported), the symbol tables of extension modules (``strip --strip-unneeded``; every one is
imported again afterwards to prove it still loads), and rapidfuzz's AVX2 builds (cleo's
"did you mean" matcher; rapidfuzz falls back to the portable build next to each one).

Byte code is a trade-off: compiling the whole environment adds about a third to its size,
compiling nothing makes every container start compile the CLI's imports again (the image
sets PYTHONDONTWRITEBYTECODE, its files may not be writable). So the modules that a
``poetflow-action`` run of ``discover`` imports are compiled (hash-checked .pyc files, valid
whatever the file times after COPY), and the rest is compiled in memory on the rare runs
that import it (signing, telemetry, Poetry itself).
"""

from __future__ import annotations

import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Imports every start needs: the CI hand-over, the CLI, discovery of a workspace.
_PROBE = """
import json, os, sys
from poetflow.ci.container import run_container
code = run_container(["discover", "--json"], dict(os.environ))
site = sys.argv[1]
files = sorted({m.__file__ for m in list(sys.modules.values())
                if getattr(m, "__file__", None) and m.__file__.startswith(site)})
sys.stderr.write(json.dumps({"code": code, "files": files}) + "\\n")
"""
_WORKSPACE = {
    "pyproject.toml": '[tool.poetflow]\npackages = ["packages/*"]\n',
    "packages/a/pyproject.toml": (
        '[project]\nname = "a"\nversion = "1.0.0"\n\n[build-system]\n'
        'requires = ["poetry-core>=2.0"]\nbuild-backend = "poetry.core.masonry.api"\n'
    ),
}


def _site_packages(venv: Path) -> Path:
    (site,) = venv.glob("lib/python3*/site-packages")
    return site


def remove_test_suites(site: Path) -> int:
    """Test folders inside installed packages (certifi/tests, dulwich/tests, ...)."""
    removed = 0
    for top in site.iterdir():
        if not top.is_dir() or top.name.endswith((".dist-info", ".data")):
            continue
        for folder, dirs, _files in os.walk(top):
            for name in [d for d in dirs if d in _TEST_FOLDERS]:
                shutil.rmtree(Path(folder) / name)
                dirs.remove(name)
                removed += 1
    return removed


_TEST_FOLDERS = ("tests", "test", "test_data")


def remove_stubs_and_avx2_builds(site: Path) -> int:
    removed = 0
    for path in [*site.rglob("*.pyi"), *(site / "rapidfuzz").rglob("*_avx2.*.so")]:
        path.unlink()
        removed += 1
    return removed


def strip_extensions(site: Path) -> list[str]:
    """``strip --strip-unneeded`` every shared object; the extension modules' import names."""
    modules = []
    for path in sorted(site.rglob("*.so*")):
        if not path.is_file() or path.is_symlink():
            continue
        subprocess.run(["strip", "--strip-unneeded", str(path)], check=True)
        relative = path.relative_to(site)
        # Libraries vendored by auditwheel (pygit2.libs/) load with the module that needs them.
        if path.name.endswith(".so") and not relative.parts[0].endswith(".libs"):
            modules.append(".".join([*relative.parts[:-1], path.name.split(".")[0]]))
    return modules


def check_imports(venv: Path, modules: list[str]) -> None:
    script = "import importlib, sys\nfor name in sys.argv[1:]: importlib.import_module(name)"
    subprocess.run([str(venv / "bin" / "python"), "-c", script, *modules], check=True)


def remove_byte_code(root: Path) -> None:
    for cache in list(root.rglob("__pycache__")):
        shutil.rmtree(cache)
    for stray in root.rglob("*.py[co]"):
        stray.unlink()


def startup_modules(venv: Path, site: Path) -> list[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in _WORKSPACE.items():
            target = Path(tmp) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        completed = subprocess.run(
            [str(venv / "bin" / "python"), "-c", _PROBE, str(site)],
            cwd=tmp,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            check=False,
        )
    if completed.returncode != 0:  # its own output says why; a bare exit status would not
        raise SystemExit(f"the start-up probe crashed:\n{completed.stdout}\n{completed.stderr}")
    result = json.loads(completed.stderr.strip().splitlines()[-1])
    if result["code"] != 0:
        raise SystemExit(f"the start-up probe failed:\n{completed.stdout}\n{completed.stderr}")
    return [Path(file) for file in result["files"] if file.endswith(".py")]


def main(venv: Path) -> int:
    site = _site_packages(venv)
    tests = remove_test_suites(site)
    stubs = remove_stubs_and_avx2_builds(site)
    extensions = strip_extensions(site)
    check_imports(venv, extensions)
    remove_byte_code(venv)
    modules = startup_modules(venv, site)
    for module in modules:
        py_compile.compile(
            str(module),
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    print(
        f"slim-venv: removed {tests} test folders and {stubs} stubs/AVX2 builds, stripped "
        f"{len(extensions)} extension modules, compiled {len(modules)} start-up modules"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
