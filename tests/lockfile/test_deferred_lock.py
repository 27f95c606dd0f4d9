"""A lock that resolves a member from an index waits for it to be published, in one run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lock_helpers import lock_entries, poetry
from tests.conftest import CliResult, git, init_repo
from tests.index_server import IndexServer, start_index_server

RunCli = Callable[..., CliResult]


def _package(root: Path, name: str, version: str, body: str) -> None:
    folder = root / "packages" / name
    (folder / name).mkdir(parents=True)
    (folder / name / "__init__.py").write_text(f"NAME = {name!r}\n")
    (folder / "pyproject.toml").write_text(
        f'[tool.poetry]\nname = "{name}"\nversion = "{version}"\ndescription = "{name}"\n'
        f'authors = ["T <t@example.invalid>"]\npackages = [{{ include = "{name}" }}]\n\n'
        f'[tool.poetry.dependencies]\npython = ">=3.10"\n{body}\n'
        '[build-system]\nrequires = ["poetry-core>=1.0.0"]\n'
        'build-backend = "poetry.core.masonry.api"\n'
    )


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    server = start_index_server(tmp_path / "index")
    yield server
    server.stop()


@pytest.mark.slow
def test_a_lock_resolving_a_member_from_the_index_is_relocked_after_publishing(
    tmp_path: Path,
    index: IndexServer,
    run_cli: RunCli,
    poetry_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", index.username)
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", index.password)
    root = tmp_path / "mono"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.poetflow]\npackages = ["packages/*"]\n\n'
        f'[tool.poetflow.repositories.local]\nurl = "{index.url}"\n'
    )
    _package(root, "lib", "1.0.0", "")
    # app uses lib as released, from the index (no path dependency): its lock says so.
    source = f'\n[[tool.poetry.source]]\nname = "local"\nurl = "{index.simple_url}"\n'
    _package(root, "app", "0.1.0", f'lib = "^1.0.0"\n{source}priority = "primary"\n')
    init_repo(root)
    first = run_cli("run", "--stages", "build,publish", "-p", "lib", "--repository", "local",
                    cwd=root)  # fmt: skip
    assert first.exit_code == 0, first.stdout + first.stderr
    locked = poetry(root / "packages/app", "lock")
    assert locked.returncode == 0, locked.stdout + locked.stderr
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "build: lock app on lib 1.0.0 from the index")
    git(root, "tag", "lib-v1.0.0")
    git(root, "tag", "app-v0.1.0")
    (root / "packages/lib/lib/api.py").write_text("API = 2\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feat(lib)!: a new api")
    head = git(root, "rev-parse", "HEAD")

    # lib 2.0.0 falls outside ^1.0.0; app's lock could only name it once it is published,
    # so a release that does not publish stops before writing anything.
    for dry in ((), ("--dry-run",)):
        refused = run_cli("version", "bump", "--commit", "--tag", *dry, cwd=root)
        assert refused.exit_code == 2, refused.stderr
        assert "packages/app/poetry.lock resolves lib 2.0.0 from a package index" in (
            refused.stderr
        )
        assert "Release with `poetflow run`" in refused.stderr
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "status", "--porcelain") == ""

    # `poetflow run` releases, publishes, then relocks app against the new lib.
    released = run_cli("run", "--stages", "version,build,release,publish", "--repository",
                       "local", cwd=root)  # fmt: skip
    assert released.exit_code == 0, released.stdout + released.stderr
    assert "relocked after publishing" in released.stdout
    assert 'lib = "^2.0.0"' in (root / "packages/app/pyproject.toml").read_text()
    assert 'version = "2.0.0"' in lock_entries(root / "packages/app/poetry.lock")["lib"]
    checked = poetry(root / "packages/app", "check", "--lock")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    log = git(root, "log", "--format=%s", "-2").splitlines()
    assert log[0] == "chore(release): relock app on the released versions"
    assert log[1].startswith("chore(release): lib 2.0.0")
    assert "lib-v2.0.0" in git(root, "tag", "--points-at", "HEAD~1").split()
    assert git(root, "status", "--porcelain") == ""
    assert not (root / ".git/poetflow/release.json").exists()
    assert "lib-2.0.0-py3-none-any.whl" in index.files()
