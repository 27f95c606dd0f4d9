"""What `poetflow init` infers from a repository: packages, styles, tag format, versioning."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from poetflow.init import (
    config_table,
    detect_tag_format,
    inspect_repository,
    is_placeholder_name,
    match_tag,
    settings_from,
)

DIAMOND = [
    ("packages/core", "acme-core", "1.2.0", "pep621"),
    ("packages/http", "acme_http", "0.4.1"),
    ("packages/app", "acme-app", "0.9.0"),
]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (("acme-core-v1.2.0", "acme_http-v0.4.1"), "{name}-v{version}"),
        (("acme-core@1.2.0", "acme-http@0.4.1", "acme-app@0.9.0"), "{name}@{version}"),
        (("acme-core/v1.2.0",), "{name}/v{version}"),
        (("v1.0.0", "v1.1.0", "acme-core-v1.2.0"), "v{version}"),
        (("1.0.0", "1.1.0rc1"), "{version}"),
    ],
)
def test_detects_the_tag_format_most_tags_follow(tags: tuple[str, ...], expected: str) -> None:
    guess = detect_tag_format(list(tags), ["acme-core", "acme_http", "acme-app"])
    assert guess is not None
    assert guess.tag_format == expected
    assert guess.total == len(tags)


def test_tags_naming_no_package_are_no_evidence() -> None:
    assert detect_tag_format(["release-2024", "other-pkg-v1.0"], ["acme-core"]) is None
    assert match_tag("acme_core-v1.2.0", "{name}-v{version}", ["acme-core"])
    assert not match_tag("acme-core-v1.2.0", "{name}@{version}", ["acme-core"])


def test_inspects_packages_styles_and_tags(make_monorepo: Callable[..., Path]) -> None:
    root = make_monorepo(DIAMOND, tags=("acme-core@1.2.0", "acme-http@0.4.1"))
    inspection = inspect_repository(root)
    assert [p.relpath for p in inspection.packages] == [
        "packages/app",
        "packages/core",
        "packages/http",
    ]
    assert inspection.package_globs == ("packages/*",)
    assert inspection.styles == ("pep621", "poetry")
    assert inspection.tag_format is not None
    assert inspection.tag_format.tag_format == "{name}@{version}"
    assert inspection.versioning == "independent"
    settings = settings_from(inspection)
    assert settings.tag_format == "{name}@{version}"


def test_equal_versions_without_tags_mean_synchronized(
    make_monorepo: Callable[..., Path],
) -> None:
    root = make_monorepo([("libs/a", "lib-a", "2.0.0"), ("libs/b", "lib-b", "2.0.0", "pep621")])
    inspection = inspect_repository(root)
    assert inspection.versioning == "synchronized"
    assert "2.0.0" in inspection.versioning_reason
    settings = settings_from(inspection)
    assert settings.packages == ("libs/*",)
    assert settings.tag_format == "v{version}"


def test_version_tags_naming_no_package_do_not_synchronize_different_versions(
    make_monorepo: Callable[..., Path],
) -> None:
    # langgraph's shape: bare "0.4.5" tags are one package's releases, and the members
    # are at versions of their own; synchronized versioning would move all of them to 0.4.5.
    root = make_monorepo(DIAMOND, tags=("1.0.0", "1.1.0", "1.2.0"))
    inspection = inspect_repository(root)
    assert inspection.versioning == "independent"
    assert "different versions" in inspection.versioning_reason
    assert settings_from(inspection).tag_format == "{name}-v{version}"


def test_version_tags_naming_no_package_synchronize_equal_versions(
    make_monorepo: Callable[..., Path],
) -> None:
    root = make_monorepo(
        [("libs/a", "lib-a", "2.0.0"), ("libs/b", "lib-b", "2.0.0")], tags=("v1.0.0", "v2.0.0")
    )
    inspection = inspect_repository(root)
    assert inspection.versioning == "synchronized"
    assert settings_from(inspection).tag_format == "v{version}"


def test_one_package_without_tags_is_left_to_ask(make_monorepo: Callable[..., Path]) -> None:
    inspection = inspect_repository(make_monorepo([("packages/solo", "solo", "0.1.0")]))
    assert inspection.versioning is None
    assert settings_from(inspection).versioning == "independent"
    assert settings_from(inspection, versioning="synchronized").tag_format == "v{version}"


def test_mixed_folders_are_listed_one_by_one(make_monorepo: Callable[..., Path]) -> None:
    root = make_monorepo([("packages/a", "a", "1.0.0"), ("tool", "tool", "0.1.0")])
    # A sibling that is not a Poetry package must not be swept in by a packages/* glob.
    (root / "packages" / "js").mkdir()
    (root / "packages" / "js" / "pyproject.toml").write_text(
        "[tool.black]\nline-length = 100\n", encoding="utf-8"
    )
    inspection = inspect_repository(root)
    assert inspection.package_globs == ("packages/a", "tool")


def test_python_version_for_ci_follows_the_strictest_package(
    make_monorepo: Callable[..., Path],
) -> None:
    root = make_monorepo([("packages/a", "a", "1.0.0")], python=">=3.13,<4")
    assert inspect_repository(root).python_version == "3.13"
    (root / ".python-version").write_text("3.14.1\n", encoding="utf-8")
    assert inspect_repository(root).python_version == "3.14"


def test_placeholder_names_are_skipped_and_excluded_from_a_wider_glob(
    make_monorepo: Callable[..., Path],
) -> None:
    root = make_monorepo(
        [
            ("packages/a", "pkg-a", "1.0.0"),
            ("packages/b", "pkg-b", "1.1.0"),
            ("packages/template", "{{ cookiecutter.project_slug }}", "0.1.0"),
        ]
    )
    inspection = inspect_repository(root)
    assert [p.relpath for p in inspection.packages] == ["packages/a", "packages/b"]
    assert [(s.relpath, s.reason) for s in inspection.skipped] == [
        ("packages/template", "a template's placeholder name")
    ]
    # Listed one by one, the template is left out without an exclude...
    assert inspection.package_globs == ("packages/a", "packages/b")
    assert settings_from(inspection).exclude == ()
    # ...but a glob that takes the whole folder proposes one.
    settings = settings_from(inspection, packages=["packages/*"])
    assert settings.exclude == ("packages/template",)
    assert config_table(settings)["exclude"] == ["packages/template"]


@pytest.mark.parametrize(
    ("name", "placeholder"),
    [
        ("__package_name__", True),
        ("{{ cookiecutter.name }}", True),
        ("{{cookiecutter.project_slug}}", True),
        ("${PROJECT}", True),
        ("<your-package>", True),
        ("{name}", True),
        ("acme-core", False),
        ("my__pkg", False),
    ],
)
def test_placeholder_names(name: str, placeholder: bool) -> None:
    assert is_placeholder_name(name) is placeholder
