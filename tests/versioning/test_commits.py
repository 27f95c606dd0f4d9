"""The conventional commit parser: the spec's examples, footers, reverts, and any text at all."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poetflow.commits import parse_commit_message


def test_type_scope_bang_and_subject() -> None:
    commit = parse_commit_message("feat(api)!: send an email when a product ships")
    assert commit.conventional
    assert (commit.type, commit.scope, commit.subject) == (
        "feat",
        "api",
        "send an email when a product ships",
    )
    assert commit.breaking
    assert commit.breaking_note == "send an email when a product ships"


@pytest.mark.parametrize("token", ["BREAKING CHANGE", "BREAKING-CHANGE"])
def test_breaking_footer_with_body(token: str) -> None:
    message = (
        "refactor: drop the old loader\n\nLong explanation\nover two lines.\n\n"
        f"Reviewed-by: Z\n{token}: the loader module is gone\n  use load() instead\nRefs #133\n"
    )
    commit = parse_commit_message(message)
    assert commit.breaking
    assert commit.type == "refactor"
    assert commit.body == "Long explanation\nover two lines."
    assert commit.breaking_note == "the loader module is gone\n  use load() instead"
    assert [f.token for f in commit.footers] == ["Reviewed-by", token, "Refs"]


def test_footer_like_line_inside_body_is_body() -> None:
    commit = parse_commit_message("fix: x\n\nNote: this is prose\nand more.\n\nThe end.")
    assert not commit.breaking
    assert commit.footers == ()
    assert "Note: this is prose" in commit.body


def test_revert() -> None:
    commit = parse_commit_message('Revert "feat(api): add x"\n\nThis reverts commit abc.')
    assert commit.conventional
    assert commit.type == "revert"
    assert commit.reverted == "feat(api): add x"


@pytest.mark.parametrize(
    "message",
    ["Update README", "Merge branch 'feature'", "feat:missing space", "(api): no type", "", "\n\n"],
)
def test_non_conventional_messages_are_data(message: str) -> None:
    commit = parse_commit_message(message)
    assert not commit.conventional
    assert not commit.breaking
    assert commit.raw == message


def test_type_is_case_insensitive() -> None:
    assert parse_commit_message("FEAT: shout").type == "feat"


_types = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
_scopes = st.none() | st.from_regex(r"[a-z0-9][a-z0-9 ,/_-]{0,10}", fullmatch=True)
_subjects = st.from_regex(r"[A-Za-z0-9][^\r\n]{0,40}", fullmatch=True).map(str.rstrip)
_bodies = st.lists(st.from_regex(r"[a-z][a-z ]{0,30}", fullmatch=True), max_size=3)


@given(_types, _scopes, st.booleans(), _subjects, _bodies, st.booleans())
def test_round_trip_of_generated_messages(
    kind: str, scope: str | None, bang: bool, subject: str, body: list[str], footer: bool
) -> None:
    header = f"{kind}{f'({scope})' if scope is not None else ''}{'!' if bang else ''}: {subject}"
    message = header
    if body:
        message += "\n\n" + "\n".join(body)
    if footer:
        message += "\n\nBREAKING CHANGE: it broke"
    commit = parse_commit_message(message)
    assert commit.conventional
    assert commit.type == kind
    assert commit.scope == (scope.strip() or None if scope is not None else None)
    assert commit.subject == subject.strip()
    assert commit.breaking == (bang or footer)
    if footer:
        assert commit.breaking_note == "it broke"
    assert commit.body == "\n".join(body).strip()


@given(st.text())
def test_any_text_parses_without_error(text: str) -> None:
    commit = parse_commit_message(text)
    assert commit.raw == text
    assert commit.conventional or not commit.breaking
