"""Everything PoetFlow asks of git, through pygit2 (imported only by commands that need it)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poetflow.errors import GitError

__all__ = ["Repository"]

_SHALLOW_HINT = (
    "Fetch the full history (fetch-depth: 0 with actions/checkout, GIT_DEPTH: 0 in GitLab)."
)


def _pygit2() -> Any:
    import pygit2

    # A Docker action's /github/workspace belongs to another uid; git's safe.directory
    # check would refuse it. PoetFlow only reads metadata, so owner validation is off.
    with contextlib.suppress(AttributeError, ValueError):  # older pygit2 lacks the option
        pygit2.option(pygit2.enums.Option.SET_OWNER_VALIDATION, 0)
    return pygit2


@dataclass(frozen=True)
class Repository:
    """A git work tree holding the monorepo."""

    workdir: Path
    _repo: Any

    @classmethod
    def open(cls, path: Path) -> Repository:
        pygit2 = _pygit2()
        found = pygit2.discover_repository(str(path))
        if found is None:
            raise GitError(
                f"{path} is not inside a git repository.",
                hint="Run `git init` or point --root at a git checkout.",
            )
        repo = pygit2.Repository(found)
        if repo.workdir is None:
            raise GitError(f"{found} is a bare repository; PoetFlow needs a work tree.")
        return cls(Path(repo.workdir).resolve(), repo)

    @property
    def is_shallow(self) -> bool:
        return bool(self._repo.is_shallow)

    def resolve(self, ref: str) -> Any:
        """The commit ``ref`` names; a clear error when it does not exist."""
        pygit2 = _pygit2()
        try:
            return self._repo.revparse_single(ref).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError) as exc:
            hint = _SHALLOW_HINT if self.is_shallow else "Check the branch, tag or commit name."
            message = f"The git ref {ref!r} does not exist in {self.workdir}."
            raise GitError(message, hint=hint) from exc

    def changed_files(self, ref: str, head: str = "HEAD") -> set[str]:
        """Paths (relative to the work tree, POSIX) that differ between ``ref`` and ``head``."""
        old = self.resolve(ref)
        new = self.resolve(head)
        diff = self._repo.diff(old.tree, new.tree)
        paths: set[str] = set()
        for delta in diff.deltas:
            paths.add(delta.old_file.path)
            paths.add(delta.new_file.path)
        return paths
