"""The packaging-standard checks: the fast paths never accept what the real parsers refuse."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement
from poetry.core.constraints.version import parse_constraint

from poetflow.standards import (
    constraint_problem,
    name_problem,
    requirement_problem,
    version_problem,
)
from poetflow.urls import url_passwords, url_problem

# Short strings over the characters these grammars are made of.
_GRAMMAR = st.text(alphabet="ab1209.-_*^~=!<>, |[]()@;", max_size=14)


@settings(max_examples=400, deadline=None)
@given(_GRAMMAR)
def test_a_requirement_the_shortcut_accepts_parses(text: str) -> None:
    if requirement_problem(text) is None:
        Requirement(text)
    else:
        with pytest.raises(InvalidRequirement):
            Requirement(text)


@settings(max_examples=400, deadline=None)
@given(_GRAMMAR)
def test_a_constraint_the_shortcut_accepts_parses(text: str) -> None:
    if constraint_problem(text) is None:
        parse_constraint(text)
    else:
        with pytest.raises(ValueError, match=r"(?i)constraint|version"):
            parse_constraint(text)


@pytest.mark.parametrize(
    "requirement",
    [
        "acme-core>=1.2",
        "a[b,c] (>=1,<2)",
        "x @ https://example.com/x.whl",
        "y; python_version<'3.12'",
    ],
)
def test_valid_requirements_pass(requirement: str) -> None:
    assert requirement_problem(requirement) is None


@pytest.mark.parametrize("version", ["1.2.0", "1.0.0-beta", "2.0rc1", "1!2.0.post1.dev3", "v1.0"])
def test_valid_versions_pass(version: str) -> None:
    assert version_problem(version) is None


@pytest.mark.parametrize("version", ["latest", "", "1.0.0-beta_weird!", "1..0"])
def test_invalid_versions_say_pep_440(version: str) -> None:
    assert version_problem(version) == "it is not a PEP 440 version"


@pytest.mark.parametrize("name", ["a", "acme_core", "Acme.Core-2", "x" * 200])
def test_valid_names_pass(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["", "-a", "a-", "a b", "pkg;$(x)", "a\nb", "x" * 201])
def test_invalid_names_are_refused(name: str) -> None:
    assert name_problem(name) is not None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://pkgs.example.com/legacy/", None),
        ("http://user:secret@127.0.0.1:8080/", None),
        ("not a url", "space"),
        ("ftp://host/", "http"),
        ("https://", "no host"),
        ("https://host:99999/", "Port"),
    ],
)
def test_index_urls(url: str, problem: str | None) -> None:
    found = url_problem(url)
    assert found is None if problem is None else problem in (found or "")


def test_passwords_in_userinfo_are_found_as_written_and_decoded() -> None:
    texts = ["--repository-url=https://alice:p%40ss%3Aword@host/x", "https://bob@host/", "plain"]
    assert url_passwords(texts) == ["p%40ss%3Aword", "p@ss:word"]
    # A raw "@" in a password: the host starts after the last one, as urlsplit reads it.
    assert url_passwords(["https://u:pa@ss@host/"]) == ["pa@ss"]
