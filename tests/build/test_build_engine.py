"""The build engine API: constraint policies, reproducibility, staleness, events, verification."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from build_helpers import git, requires_dist, sdist_of, wheel_metadata, wheel_of

from poetflow.build.constraints import internal_constraint
from poetflow.build.engine import build_packages
from poetflow.build.results import BuildEvent, BuildOptions
from poetflow.build.verify import verify_artifact
from poetflow.errors import MetadataError
from poetflow.workspace import load_workspace


def _build(root: Path, *names: str, **options: object):
    workspace = load_workspace(root)
    packages = [workspace.get(name) for name in names] if names else workspace.packages
    events: list[BuildEvent] = []
    report = build_packages(workspace, packages, BuildOptions(**options), events.append)
    return report, events


@pytest.mark.parametrize(
    ("version", "policy", "expected"),
    [
        ("1.2.0", "compatible", ">=1.2.0,<2.0.0"),
        ("0.4.1", "compatible", ">=0.4.1,<0.5.0"),
        ("0.0.3", "compatible", ">=0.0.3,<0.1.0"),
        ("2.0.0rc1", "compatible", ">=2.0.0rc1,<3.0.0"),
        ("1.2.0", "exact", "==1.2.0"),
        ("1.2.0", "minimum", ">=1.2.0"),
    ],
)
def test_internal_constraint_policies(version, policy, expected):
    assert internal_constraint(version, policy) == expected


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("exact", "acme-core (==1.2.0)"), ("minimum", "acme-core (>=1.2.0)")],
)
def test_internal_constraint_setting_reaches_the_metadata(demo_repo, policy, expected):
    root_pyproject = demo_repo / "pyproject.toml"
    root_pyproject.write_text(
        root_pyproject.read_text().replace(
            'internal-constraint = "compatible"', f'internal-constraint = "{policy}"'
        )
    )

    report, _events = _build(demo_repo, "acme-storage")

    assert report.ok
    assert requires_dist(wheel_metadata(wheel_of(demo_repo / "packages" / "storage"))) == [expected]


def test_two_builds_of_one_tree_are_byte_identical(demo_repo):
    first, _ = _build(demo_repo)
    saved = {a.path: a.path.read_bytes() for p in first.packages for a in p.artifacts}
    time.sleep(1.1)  # a clock-dependent timestamp would now differ

    second, _ = _build(demo_repo, force=True)

    assert [p.status for p in second.packages] == ["built"] * 4
    for package in second.packages:
        for artifact in package.artifacts:
            assert artifact.path.read_bytes() == saved[artifact.path], artifact.path.name


def _zip_time(epoch: int) -> tuple[int, ...]:
    stamp = time.gmtime(epoch)
    return (*stamp[:5], stamp[5] - stamp[5] % 2)


def test_timestamps_come_from_source_date_epoch_or_the_last_commit(demo_repo, monkeypatch):
    core = demo_repo / "packages" / "core"
    commit_time = int(git(demo_repo, "log", "-1", "--format=%ct"))
    _build(demo_repo, "acme-core")
    with zipfile.ZipFile(wheel_of(core)) as archive:
        # Zip stores seconds in 2-second steps.
        assert {info.date_time for info in archive.infolist()} == {_zip_time(commit_time)}

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    report, _ = _build(demo_repo, "acme-core")
    assert report.packages[0].status == "built"  # an explicit epoch is a build input
    with zipfile.ZipFile(wheel_of(core)) as archive:
        assert {info.date_time for info in archive.infolist()} == {_zip_time(1700000000)}
    import tarfile

    with tarfile.open(sdist_of(core)) as archive:
        assert {member.mtime for member in archive.getmembers()} == {1700000000}


def test_a_new_dependency_version_makes_dependents_stale(demo_repo):
    _build(demo_repo)
    core = demo_repo / "packages" / "core" / "pyproject.toml"
    core.write_text(core.read_text().replace('version = "1.2.0"', 'version = "1.3.0"'))

    report, _ = _build(demo_repo)

    statuses = {p.name: (p.status, p.reason) for p in report.packages}
    assert statuses["acme-core"] == ("built", "version changed from 1.2.0")
    assert statuses["acme-http"] == ("built", "inputs changed")
    assert statuses["acme-storage"] == ("built", "inputs changed")
    assert statuses["acme-app"][0] == "up to date"  # its own dependencies kept their versions
    http_metadata = wheel_metadata(wheel_of(demo_repo / "packages" / "http"))
    assert requires_dist(http_metadata) == ["acme-core (>=1.3.0,<2.0.0)"]


def test_a_tampered_or_missing_artifact_is_rebuilt(demo_repo):
    _build(demo_repo, "acme-core")
    wheel = wheel_of(demo_repo / "packages" / "core")
    wheel.write_bytes(b"not a wheel")

    report, _ = _build(demo_repo, "acme-core")
    assert (report.packages[0].status, report.packages[0].reason) == (
        "built",
        "artifacts missing or modified",
    )
    assert zipfile.is_zipfile(wheel)

    sdist_of(demo_repo / "packages" / "core").unlink()
    report, _ = _build(demo_repo, "acme-core")
    assert report.packages[0].status == "built"


def test_a_failed_rebuild_leaves_no_stale_artifact(demo_repo):
    _build(demo_repo, "acme-core")
    core = demo_repo / "packages" / "core"
    module = core / "src" / "acme_core" / "__init__.py"
    module.write_text(module.read_text() + "\n# new content\n")
    pyproject = core / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('include = "acme_core"', 'include = "gone"'))

    report, _ = _build(demo_repo, "acme-core")

    assert report.packages[0].status == "failed"
    assert not list((core / "dist").glob("*.whl"))
    assert not list((core / "dist").glob("*.tar.gz"))


def test_events_respect_dependency_order_with_parallel_jobs(demo_repo):
    report, events = _build(demo_repo, jobs=2)

    assert report.ok
    assert events[0].kind == "planned"
    assert events[0].total == 4
    seen = [(event.kind, event.package) for event in events[1:]]

    def at(kind: str, name: str) -> int:
        return seen.index((kind, name))

    for dependent, dependency in [
        ("acme-http", "acme-core"),
        ("acme-storage", "acme-core"),
        ("acme-app", "acme-http"),
        ("acme-app", "acme-storage"),
    ]:
        assert at("finished", dependency) < at("started", dependent)
    finished = [event.result for event in events if event.kind == "finished"]
    assert {result.status for result in finished if result is not None} == {"built"}


def test_a_path_dependency_outside_the_workspace_is_refused_before_building(demo_repo, tmp_path):
    # Built, the wheel would require `outside @ file://...`, which no index accepts: the
    # workspace refuses the path when it loads, before any build starts.
    outside = tmp_path / "outside"
    (outside / "src" / "outside").mkdir(parents=True)
    (outside / "src" / "outside" / "__init__.py").write_text("")
    (outside / "pyproject.toml").write_text(
        '[project]\nname = "outside"\nversion = "1.0.0"\n'
        '[tool.poetry]\npackages = [{ include = "outside", from = "src" }]\n'
        '[build-system]\nrequires = ["poetry-core>=2.0"]\n'
        'build-backend = "poetry.core.masonry.api"\n'
    )
    pyproject = demo_repo / "packages" / "http" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'python = ">=3.10"\n', f'python = ">=3.10"\noutside = {{ path = "{outside}" }}\n'
        )
    )

    with pytest.raises(MetadataError, match="outside the monorepo") as info:
        _build(demo_repo, "acme-http", "acme-app")
    assert "packages/http/pyproject.toml" in info.value.message
    assert not list((demo_repo / "packages" / "http").glob("dist/*.whl"))


def _rewrite_wheel(source: Path, target: Path, edit) -> Path:
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for info in original.infolist():
            copy.writestr(info, edit(info.filename, original.read(info.filename)))
    return target


def test_verify_catches_unpinned_requirements_and_bad_record(demo_repo, tmp_path):
    _build(demo_repo, "acme-http")
    wheel = wheel_of(demo_repo / "packages" / "http")
    assert verify_artifact(wheel, "wheel", "acme_http", "0.4.1", {"acme-core"}) == []

    def unpin(name: str, data: bytes) -> bytes:
        if name.endswith("METADATA"):
            return data.replace(b"acme-core (>=0.4.1,<0.5.0)", b"acme-core").replace(
                b"acme-core (>=1.2.0,<2.0.0)", b"acme-core"
            )
        return data

    unpinned = _rewrite_wheel(wheel, tmp_path / wheel.name, unpin)
    problems = verify_artifact(unpinned, "wheel", "acme_http", "0.4.1", {"acme-core"})
    assert any("'acme-core' without a version constraint" in p for p in problems)
    assert any("RECORD hash or size of acme_http-0.4.1.dist-info/METADATA" in p for p in problems)

    def corrupt(name: str, data: bytes) -> bytes:
        return data + b"\n# tampered\n" if name.endswith("__init__.py") else data

    (tmp_path / "c").mkdir()
    tampered = _rewrite_wheel(wheel, tmp_path / "c" / wheel.name, corrupt)
    problems = verify_artifact(tampered, "wheel", "acme_http", "0.4.1", {"acme-core"})
    expected = f"{wheel.name}: RECORD hash or size of acme_http/__init__.py does not match"
    assert problems == [expected]


def test_git_ignored_files_stay_out_and_untracked_ones_ship_as_with_poetry(demo_repo):
    core = demo_repo / "packages" / "core"
    (demo_repo / ".gitignore").write_text("*.secret\n")
    module = core / "src" / "acme_core"
    (module / "token.secret").write_text("do not ship")
    (module / "data.json").write_text("{}")
    (module / ".hidden").mkdir()
    (module / ".hidden" / "schema.txt").write_text("inside the module")
    (core / ".venv" / "lib").mkdir(parents=True)
    (core / ".venv" / "lib" / "site.py").write_text("")

    report, _ = _build(demo_repo, "acme-core")

    assert report.ok
    with zipfile.ZipFile(wheel_of(core)) as archive:
        names = archive.namelist()
    assert "acme_core/data.json" in names
    assert "acme_core/.hidden/schema.txt" in names
    assert "acme_core/token.secret" not in names
    assert not any(".venv" in name for name in names)


def test_a_plugin_set_version_asks_for_the_poetry_builder(demo_repo):
    pyproject = demo_repo / "packages" / "core" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('version = "1.2.0"', 'version = "0.0.0"')
        + "\n[tool.poetry-dynamic-versioning]\nenable = true\n"
    )

    report, _ = _build(demo_repo, "acme-core")

    assert report.packages[0].status == "failed"
    assert "--builder poetry" in (report.packages[0].error or "")
    assert not (demo_repo / "packages" / "core" / "dist").exists()


def test_the_sdist_rebuilds_elsewhere_into_the_same_wheel_metadata(demo_repo, tmp_path):
    import subprocess
    import sys
    import tarfile

    _build(demo_repo, "acme-app")
    app = demo_repo / "packages" / "app"
    with tarfile.open(sdist_of(app)) as archive:
        archive.extractall(tmp_path / "elsewhere", filter="data")
    (project,) = (tmp_path / "elsewhere").iterdir()

    built = subprocess.run(
        [
            sys.executable,
            "-c",
            "from poetry.core.masonry import api; print(api.build_wheel('out'))",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

    assert built.returncode == 0, built.stderr
    rebuilt = project / "out" / built.stdout.strip().splitlines()[-1]
    assert requires_dist(wheel_metadata(rebuilt)) == requires_dist(wheel_metadata(wheel_of(app)))


def test_a_rebuild_drops_signatures_of_the_old_bytes(demo_repo):
    # A bundle or attestation left beside a rebuilt wheel would be uploaded with it and
    # fail verification on the index: they go together with the artifact they sign.
    _build(demo_repo, "acme-core")
    core = demo_repo / "packages" / "core"
    wheel = wheel_of(core)
    bundle = wheel.with_name(wheel.name + ".sigstore.json")
    attestation = wheel.with_name(wheel.name + ".publish.attestation")
    bundle.write_text("{}")
    attestation.write_text("{}")
    module = core / "src" / "acme_core" / "__init__.py"
    module.write_text(module.read_text() + "\n# changed\n")

    report, _ = _build(demo_repo, "acme-core")

    assert report.packages[0].status == "built"
    assert wheel.is_file()
    assert not bundle.exists()
    assert not attestation.exists()
