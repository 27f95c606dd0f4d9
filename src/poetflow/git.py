"""Everything PoetFlow asks of git, through pygit2 (imported only by commands that need it)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poetflow.errors import GitError

__all__ = [
    "CommitRecord",
    "MainlineStep",
    "Repository",
    "TagRecord",
    "find_git_dir",
    "git_command",
    "ref_name_problem",
]

_SHALLOW_HINT = (
    "Fetch the full history (fetch-depth: 0 with actions/checkout, GIT_DEPTH: 0 in GitLab)."
)
_FALLBACK_NAME = "PoetFlow"
_FALLBACK_EMAIL = "poetflow@users.noreply.invalid"


_REF_FORBIDDEN = frozenset(" ~^:?*[\\\x7f")


def ref_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a git tag name (git check-ref-format's rules), or None."""
    if not name:
        return "it is empty"
    bad = sorted({char for char in name if char in _REF_FORBIDDEN or ord(char) < 32})
    if bad:
        return f"it contains {', '.join(repr(char) for char in bad)}"
    if ".." in name or "@{" in name or "//" in name:
        return "it contains '..', '@{' or '//'"
    if name == "@" or name.startswith("/") or name.endswith(("/", ".")):
        return "it starts with '/' or ends with '/' or '.'"
    for part in name.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            return "a part of it starts with '.' or ends with '.lock'"
    return None


def find_git_dir(start: Path) -> Path | None:
    """The git directory of the work tree holding ``start`` (``.git``, or the folder a
    ``.git`` file of a linked worktree names), found without opening the repository."""
    for directory in (start, *start.parents):
        dot_git = directory / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            try:
                line = dot_git.read_text(encoding="utf-8").strip()
            except OSError:
                return None
            if line.startswith("gitdir:"):
                target = Path(line.removeprefix("gitdir:").strip())
                return target if target.is_absolute() else (directory / target).resolve()
            return None
    return None


def git_command(
    args: Sequence[str],
    cwd: Path,
    *,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> str | None:
    """The output of ``git ARGS`` in ``cwd``; None when git is missing or the command fails.

    For what libgit2 does not offer or does slowly: listing ignored files the way
    ``.gitignore`` rules and git's own excludes say, batched ``git log`` queries over many
    folders, the status that honours every ignore rule, and the user's global config.
    """
    from poetflow.process import CommandNotFoundError, run_process

    # --no-optional-locks: a `git status` would otherwise rewrite .git/index to refresh
    # its stat cache, and reading commands (doctor, --dry-run) must write nothing.
    try:
        result = run_process(
            ["git", "--no-optional-locks", *args], cwd=cwd, timeout=timeout, env=env
        )
    except CommandNotFoundError:
        return None
    return result.output if result.ok else None


def _pygit2() -> Any:
    import pygit2

    # A Docker action's /github/workspace belongs to another uid; git's safe.directory
    # check would refuse it. PoetFlow only reads metadata, so owner validation is off.
    with contextlib.suppress(AttributeError, ValueError):  # older pygit2 lacks the option
        pygit2.option(pygit2.enums.Option.SET_OWNER_VALIDATION, 0)
    return pygit2


@dataclass(frozen=True)
class CommitRecord:
    """One commit: its id, message, commit time and the paths it changed vs its first parent."""

    id: str
    message: str
    time: int
    paths: frozenset[str]

    @property
    def short_id(self) -> str:
        return self.id[:7]


@dataclass(frozen=True)
class MainlineStep:
    """A commit on the first-parent line and every commit it brought in.

    ``introduced`` starts with the mainline commit itself; for a merge it continues with
    the merged branch's commits that the first parent did not have (newest first).
    """

    id: str
    introduced: tuple[CommitRecord, ...]


@dataclass(frozen=True)
class TagRecord:
    """A tag pointing (possibly through an annotated tag object) at a commit."""

    name: str
    commit: str
    time: int


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
            _refuse_unreadable(_git_entry(path))
            raise GitError(
                f"{path} is not inside a git repository.",
                hint="Run `git init` or point --root at a git checkout.",
            )
        repo = pygit2.Repository(found)
        if repo.workdir is None:
            raise GitError(f"{found} is a bare repository; PoetFlow needs a work tree.")
        return cls(Path(repo.workdir).resolve(), repo)

    @property
    def git_dir(self) -> Path:
        """The repository's git directory (per worktree: where its HEAD and index live)."""
        return Path(self._repo.path).resolve()

    @property
    def is_shallow(self) -> bool:
        return bool(self._repo.is_shallow)

    def require_full_history(self, purpose: str = "compute versions") -> None:
        """Refuse a shallow clone: the version computed from a cut history would be wrong."""
        if self.is_shallow:
            raise GitError(
                f"{self.workdir} is a shallow clone, so PoetFlow cannot {purpose} from its "
                "history; fetch the full history (fetch-depth: 0).",
                hint="With actions/checkout set fetch-depth: 0; in GitLab set GIT_DEPTH: 0; "
                "locally run `git fetch --unshallow --tags`.",
            )

    @property
    def has_commits(self) -> bool:
        return not bool(self._repo.head_is_unborn)

    def resolve(self, ref: str) -> Any:
        """The commit ``ref`` names; a clear error when it does not exist."""
        pygit2 = _pygit2()
        try:
            return self._repo.revparse_single(ref).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError) as exc:
            # libgit2 says "not found" for an object it may not read: name the real cause.
            _refuse_unreadable(Path(self._repo.path) / "objects")
            if ref == "HEAD" and not self.has_commits:
                self.head_id()
            hint = _SHALLOW_HINT if self.is_shallow else "Check the branch, tag or commit name."
            message = f"The git ref {ref!r} does not exist in {self.workdir}."
            raise GitError(message, hint=hint) from exc

    def head_id(self) -> str:
        if not self.has_commits:
            # An unborn HEAD names its branch but resolves to nothing.
            head = self._repo.references.get("HEAD")
            branch = str(head.target if head is not None else "HEAD").removeprefix("refs/heads/")
            if any(True for _ in self._repo.references.iterator()):
                raise GitError(
                    f"The branch {branch!r} of {self.workdir} has no commits yet (an orphan "
                    "branch), so there is no history to release from.",
                    hint="Commit your packages on it, or check out a branch with history.",
                )
            raise GitError(
                f"{self.workdir} has no commits yet.", hint="Commit your packages first."
            )
        return str(self._repo.head.target)

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

    def uncommitted(self, under: Sequence[str]) -> list[str]:
        """Tracked files changed (in the index or the work tree) under any of the POSIX
        path prefixes ``under`` ("" is the whole tree), sorted. Untracked files are left
        out: tools leave them behind (coverage data, lock files PoetFlow creates)."""
        prefixes = tuple(prefix.rstrip("/") for prefix in under)
        # Without untracked files, status lists only tracked ones (ignored ones never).
        changed = [
            path
            for path, flags in self._repo.status(untracked_files="no").items()
            if flags and any(not p or path == p or path.startswith(p + "/") for p in prefixes)
        ]
        return sorted(changed)

    # -- history -------------------------------------------------------------------------

    def tags(self) -> list[TagRecord]:
        """Every tag that points at a commit (lightweight or annotated)."""
        pygit2 = _pygit2()
        found = []
        for refname in self._repo.references.iterator(pygit2.enums.ReferenceFilter.TAGS):
            name = refname.name.removeprefix("refs/tags/")
            try:
                commit = refname.peel(pygit2.Commit)
            except (ValueError, pygit2.GitError, pygit2.InvalidSpecError):
                continue  # a tag of a tree or blob is no release
            found.append(TagRecord(name, str(commit.id), int(commit.commit_time)))
        return found

    def _paths(self, commit: Any) -> frozenset[str]:
        if commit.parents:
            diff = self._repo.diff(commit.parents[0].tree, commit.tree)
        else:
            diff = commit.tree.diff_to_tree(swap=True)
        paths: set[str] = set()
        for delta in diff.deltas:
            paths.add(delta.new_file.path)
            paths.add(delta.old_file.path)
        return frozenset(paths)

    def _record(self, commit: Any, watch: _Watch | None) -> CommitRecord:
        if watch is None:
            paths = self._paths(commit)
        else:
            old = commit.parents[0].tree_id if commit.parents else None
            paths = frozenset(watch.changed(old, commit.tree_id))
        return CommitRecord(str(commit.id), commit.message, int(commit.commit_time), paths)

    def mainline(
        self,
        stops: Iterable[str] = (),
        head: str = "HEAD",
        *,
        watch: Collection[str] | None = None,
    ) -> Iterator[MainlineStep]:
        """Walk the first-parent line from ``head`` until every id in ``stops`` was met.

        Each step yields the mainline commit and what its merge brought in, so a feature
        branch's conventional commits count although the walk follows first parents.
        The step that contains a stop is yielded too; the caller cuts it.

        With ``watch`` (folders and files relative to the work tree), each record's
        ``paths`` are the watched entries the commit changed, found by comparing tree ids
        level by level instead of a full diff: many times faster on long histories.
        """
        pygit2 = _pygit2()
        pending = set(stops)
        had_stops = bool(pending)
        if head == "HEAD":
            # No history is an error, not "nothing to release" (an empty repository, an
            # orphan branch).
            self.head_id()
        watcher = _Watch(self._repo, watch) if watch is not None and "" not in watch else None
        commit = self.resolve(head)
        while commit is not None:
            introduced = [self._record(commit, watcher)]
            if len(commit.parents) > 1:
                walker = self._repo.walk(commit.parents[1].id, pygit2.enums.SortMode.TOPOLOGICAL)
                walker.hide(commit.parents[0].id)
                for parent in commit.parents[2:]:
                    walker.push(parent.id)
                introduced.extend(self._record(side, watcher) for side in walker)
            yield MainlineStep(str(commit.id), tuple(introduced))
            if had_stops:
                pending.difference_update(record.id for record in introduced)
                if not pending:
                    return
            commit = commit.parents[0] if commit.parents else None

    def _signature(self) -> Any:
        pygit2 = _pygit2()
        name = os.environ.get("GIT_COMMITTER_NAME") or os.environ.get("GIT_AUTHOR_NAME")
        email = os.environ.get("GIT_COMMITTER_EMAIL") or os.environ.get("GIT_AUTHOR_EMAIL")
        if name and email:
            return pygit2.Signature(name, email)
        with contextlib.suppress(KeyError, pygit2.GitError):
            return self._repo.default_signature
        # A CI runner has no user.name; a release commit still needs an author.
        return pygit2.Signature(name or _FALLBACK_NAME, email or _FALLBACK_EMAIL)

    def commit_paths(self, paths: Sequence[Path], message: str) -> str:
        """Stage ``paths`` (files of the work tree) and commit them on HEAD; returns the id."""
        from poetflow.failpoints import failpoint

        index = self._repo.index
        index.read()
        for path in paths:
            relative = Path(path).resolve().relative_to(self.workdir).as_posix()
            if Path(path).exists():
                index.add(relative)
            else:
                with contextlib.suppress(OSError, KeyError):
                    index.remove(relative)
        index.write()
        failpoint("release:staged")
        tree = index.write_tree()
        signature = self._signature()
        parents = [] if self._repo.head_is_unborn else [self._repo.head.target]
        oid = self._repo.create_commit("HEAD", signature, signature, message, tree, parents)
        return str(oid)

    def commit_to_branch(
        self, files: Mapping[str, bytes], message: str, branch: str
    ) -> tuple[str, bool]:
        """A commit of HEAD's tree with ``files`` (POSIX paths in the work tree ->
        content) written in, HEAD as its parent, set as ``refs/heads/BRANCH`` (moved by
        force). HEAD, the index and the work tree stay as they are. Returns the id and
        whether it is new: the branch is kept when it holds that very commit already."""
        pygit2 = _pygit2()
        head = self._repo[self._repo.head.target]
        index = pygit2.Index()
        index.read_tree(head.tree)
        for path, data in sorted(files.items()):
            try:
                mode = index[path].mode
            except KeyError:
                mode = pygit2.enums.FileMode.BLOB
            index.add(pygit2.IndexEntry(path, self._repo.create_blob(data), mode))
        tree = index.write_tree(self._repo)
        name = f"refs/heads/{branch}"
        existing = self._repo.references.get(name)
        if existing is not None:
            current = existing.peel(pygit2.Commit)
            if (
                current.tree_id == tree
                and list(current.parent_ids) == [head.id]
                and current.message == message
            ):
                return str(current.id), False
        signature = self._signature()
        oid = self._repo.create_commit(None, signature, signature, message, tree, [head.id])
        self._repo.references.create(name, oid, force=True)
        return str(oid), True

    # -- what a release journal needs --------------------------------------------------

    def store_blob(self, data: bytes) -> str:
        """Put ``data`` in the object database (a rollback copy); returns its id."""
        return str(self._repo.create_blob(data))

    def read_blob(self, blob_id: str) -> bytes:
        return bytes(self._repo[blob_id].data)

    def head_commit(self) -> tuple[str, tuple[str, ...], str] | None:
        """HEAD's (id, parent ids, message); None on an unborn branch."""
        if not self.has_commits:
            return None
        commit = self._repo[self._repo.head.target]
        return str(commit.id), tuple(str(p) for p in commit.parent_ids), str(commit.message)

    def tag_commit(self, name: str) -> str | None:
        """The commit the tag ``name`` points at (None when there is no such tag)."""
        pygit2 = _pygit2()
        reference = self._repo.references.get(f"refs/tags/{name}")
        if reference is None:
            return None
        try:
            return str(reference.peel(pygit2.Commit).id)
        except (ValueError, pygit2.GitError):
            return None

    def reset_index_paths(self, paths: Sequence[str]) -> None:
        """Make the index entries of ``paths`` (relative, POSIX) match HEAD again, undoing
        a staging that a killed commit left behind; other entries stay as they are."""
        pygit2 = _pygit2()
        index = self._repo.index
        index.read()
        tree = None if self._repo.head_is_unborn else self._repo[self._repo.head.target].tree
        changed = False
        for path in paths:
            try:
                entry = tree[path] if tree is not None else None
            except KeyError:
                entry = None
            try:
                current = index[path]
            except KeyError:
                current = None
            if entry is None:
                if current is not None:
                    index.remove(path)
                    changed = True
            elif current is None or current.id != entry.id or current.mode != entry.filemode:
                index.add(pygit2.IndexEntry(path, entry.id, entry.filemode))
                changed = True
        if changed:
            index.write()

    def create_tag(self, name: str, message: str, target: str = "HEAD") -> None:
        """Create an annotated tag; an existing tag of that name is an error."""
        pygit2 = _pygit2()
        commit = self.resolve(target)
        if f"refs/tags/{name}" in self._repo.references:
            raise GitError(
                f"The tag {name!r} already exists in {self.workdir}.",
                hint="Delete it (`git tag -d`) or bump to a different version.",
            )
        self._repo.create_tag(
            name, commit.id, pygit2.enums.ObjectType.COMMIT, self._signature(), message
        )

    def current_branch(self) -> str | None:
        if self._repo.head_is_detached or self._repo.head_is_unborn:
            return None
        return str(self._repo.head.shorthand)

    def remote_url(self, name: str = "origin") -> str | None:
        try:
            url = self._repo.remotes[name].url
        except (KeyError, IndexError):
            return None
        return str(url) if url else None

    def push(self, refs: Sequence[str], remote: str = "origin") -> None:
        """Push ``refs`` atomically with the git command (its credential helpers and ssh)."""
        from poetflow.process import run_process

        if self.remote_url(remote) is None:
            raise GitError(
                f"{self.workdir} has no remote {remote!r} to push to.",
                hint=f"Add one with `git remote add {remote} URL` or drop --push.",
            )
        command = [
            "git",
            "-c",
            f"safe.directory={self.workdir}",
            "push",
            "--atomic",
            remote,
            *refs,
        ]
        result = run_process(command, cwd=self.workdir)
        if not result.ok:
            raise GitError(
                f"git push to {remote!r} failed in {self.workdir}: {result.output.strip()}",
                hint=f"Fix access to the remote and rerun: {result.rerun_hint}",
            )


def _git_entry(start: Path) -> Path | None:
    """The ``.git`` folder or file at or above ``start``, if there is one."""
    for directory in [start.resolve(), *start.resolve().parents]:
        if os.path.lexists(directory / ".git"):
            return directory / ".git"
    return None


def _refuse_unreadable(path: Path | None) -> None:
    """A GitError naming ``path`` when it exists but cannot be read."""
    if path is None or not path.is_dir():
        return
    try:
        with os.scandir(path):
            pass
    except OSError as exc:
        raise GitError(
            f"Cannot read the git repository at {path}: {exc.strerror or exc}.",
            hint="Give PoetFlow read access to the repository (check `ls -ld` of it).",
        ) from None


_Node = dict[str, tuple[bool, "_Node"]]


class _Watch:
    """Which watched paths differ between two trees, comparing entry ids level by level.

    Only the folders leading to a watched path are read, and each tree's entries are
    read once (the walk meets every tree as a child, then as a parent).
    """

    def __init__(self, repo: Any, paths: Collection[str]) -> None:
        self._repo = repo
        self._root: _Node = {}
        for path in paths:
            parts = [part for part in path.strip("/").split("/") if part]
            node = self._root
            for index, part in enumerate(parts):
                terminal, children = node.get(part, (False, {}))
                node[part] = (terminal or index == len(parts) - 1, children)
                node = children
        self._cache: dict[Any, dict[str, Any] | None] = {}

    def _entries(self, object_id: Any) -> dict[str, Any] | None:
        """name -> id of a tree's entries; None when ``object_id`` is no tree."""
        if object_id is None:
            return None
        if object_id in self._cache:
            return self._cache[object_id]
        # The walk needs a commit's tree and its parent's: a small cache suffices.
        if len(self._cache) > 512:
            self._cache.clear()
        tree = self._repo[object_id]
        found = {entry.name: entry.id for entry in tree} if tree.type_str == "tree" else None
        self._cache[object_id] = found
        return found

    def changed(self, old: Any, new: Any) -> set[str]:
        out: set[str] = set()
        self._compare(old, new, self._root, "", out, False)
        return out

    def _compare(
        self, old: Any, new: Any, node: _Node, prefix: str, out: set[str], need_other: bool
    ) -> bool:
        """Add changed watched paths under ``node``; True when an unwatched entry changed."""
        before = self._entries(old) or {}
        after = self._entries(new) or {}
        # Which names differ, from the two dicts' item views: one C-level operation.
        differing = {name for name, _id in before.items() ^ after.items()}
        for name in differing & node.keys():
            terminal, children = node[name]
            path = prefix + name
            if children:
                a, b = before.get(name), after.get(name)
                a_tree = a if self._entries(a) is not None else None
                b_tree = b if self._entries(b) is not None else None
                other = self._compare(a_tree, b_tree, children, path + "/", out, terminal)
                if terminal and (other or a_tree is None or b_tree is None):
                    out.add(path)
            elif terminal:
                out.add(path)
        return need_other and bool(differing - node.keys())
