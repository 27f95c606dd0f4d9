"""The bad-input table: each case is a small mutation of the ``chain`` workspace (three
packages, both metadata styles: chain-a <- chain-b <- chain-c) and the commands that must
refuse it with exit 2, one error line naming what is wrong, and nothing written.

``expect`` holds the pieces that line must contain (the file, the key, the value or the
package), so a refusal for another reason (missing credentials, say) does not pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CASES",
    "CLI_CASES",
    "GIT_CASES",
    "ORDERED",
    "READERS",
    "UNREADABLE_CASES",
    "Case",
]

Mutation = Callable[[Path], None]

# Every command that loads the workspace, as the issue measured them, plus test.
READERS: tuple[str, ...] = (
    "discover",
    "graph",
    "build --dry-run",
    "version bump --dry-run",
    "publish --dry-run",
    "run --dry-run",
    "test --dry-run",
)
# The commands that need a dependency order (a cycle is refused only by them).
# (run releases only what changed: --all makes it build, and order, everything.)
ORDERED: tuple[str, ...] = ("build --dry-run", "publish --dry-run", "run --dry-run --all")
# The commands that read the git history.
HISTORY: tuple[str, ...] = (
    "discover --status",
    "version bump --dry-run",
    "changelog --dry-run",
    "run --dry-run",
    "plan",
    "release-pr --dry-run",
)

ROOT = "pyproject.toml"
A = "packages/a/pyproject.toml"
B = "packages/b/pyproject.toml"
C = "packages/c/pyproject.toml"
A_DEPS = 'python = ">=3.10"\n'
B_PATH = 'chain-a = { path = "../a", develop = true }'
C_PATH = 'chain-b = { path = "../b", develop = true }'
C_REQUIREMENTS = 'dependencies = ["chain-b>=1.1"]'


@dataclass(frozen=True)
class Case:
    """One bad input: how to make it, what the error line names, who must refuse it."""

    name: str
    mutate: Mutation
    expect: tuple[str, ...]
    commands: tuple[str, ...] = READERS


def edit(relpath: str, old: str, new: str) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / relpath
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relpath}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return mutate


def append(relpath: str, text: str) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / relpath
        path.write_text(path.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")

    return mutate


def write_bytes(relpath: str, data: bytes) -> Mutation:
    def mutate(root: Path) -> None:
        (root / relpath).write_bytes(data)

    return mutate


def make_folder(relpath: str) -> Mutation:
    def mutate(root: Path) -> None:
        (root / relpath).mkdir(parents=True)
        (root / relpath / "README.md").write_text("not a package\n", encoding="utf-8")

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(root: Path) -> None:
        for mutation in mutations:
            mutation(root)

    return mutate


def setting(line: str) -> Mutation:
    """A line added to the root's [tool.poetflow] table (the last table of the file)."""
    return append(ROOT, line)


def packages(value: str) -> Mutation:
    return edit(ROOT, 'packages = ["packages/*"]', f"packages = {value}")


def a_dependency(line: str) -> Mutation:
    """A line added to chain-a's [tool.poetry.dependencies]."""
    return edit(A, A_DEPS, A_DEPS + line + "\n")


def a_field(old: str, new: str) -> Mutation:
    return edit(A, old, new)


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return "x = " + opener * depth + closer * depth


_WORKSPACE_CASES = [
    # -- [tool.poetflow] in the root pyproject.toml --------------------------------------
    Case("unknown-key", setting('colour = "blue"'), (ROOT, "unknown key 'colour'")),
    Case("misspelt-key", setting('versoning = "independent"'), ("'versoning'", "`versioning`")),
    Case("versioning-value", setting('versioning = "lockstep"'), ("versioning", "'lockstep'")),
    Case("tag-format-unknown-field", setting('tag-format = "{name}-v{ver}"'), ("{ver}",)),
    Case("tag-format-stray-open-brace", setting('tag-format = "{name}-v{version"'), ("{version",)),
    Case("tag-format-stray-close-brace", setting('tag-format = "{name}-v{version}}"'), ("}}'",)),
    Case("tag-format-positional", setting('tag-format = "{name}-v{}"'), ("tag-format", "{}")),
    Case("tag-format-without-name", setting('tag-format = "v{version}"'), ("{name}",)),
    Case("tag-format-without-version", setting('tag-format = "{name}"'), ("{version}",)),
    Case("tag-format-space", setting('tag-format = "{name} v{version}"'), ("git tag name",)),
    Case("tag-format-not-a-string", setting("tag-format = 5"), ("tag-format", "5")),
    Case("packages-not-a-list", packages("5"), ("tool.poetflow.packages", "list of strings")),
    Case("packages-absolute", packages('["/tmp/*"]'), ("tool.poetflow.packages", "absolute")),
    Case("packages-parent", packages('["../*"]'), ("tool.poetflow.packages", "'..'")),
    Case("packages-parent-inside", packages('["packages/../../*"]'), ("packages", "'..'")),
    Case("packages-bad-double-star", packages('["packages/**x"]'), ("packages", "'**'")),
    Case("packages-empty-string", packages('[""]'), ("packages", "empty")),
    Case("packages-control-character", packages('["packages/\\n*"]'), ("control character",)),
    Case("exclude-parent", setting('exclude = ["../x"]'), ("tool.poetflow.exclude", "'..'")),
    Case("exclude-absolute", setting('exclude = ["/etc"]'), ("tool.poetflow.exclude", "absolute")),
    Case("shared-paths-absolute", setting('shared-paths = ["/etc/passwd"]'), ("shared-paths",)),
    Case("internal-constraint", setting('internal-constraint = "loose"'), ("'loose'",)),
    Case("test-not-a-table", setting('test = "pytest"'), ("tool.poetflow.test", "table")),
    Case("test-env-docker", setting('[tool.poetflow.test]\nenv = "docker"'), ("'docker'",)),
    Case(
        "hook-unknown-key",
        setting('[tool.poetflow.hooks]\npre-biuld = ["true"]'),
        ("'pre-biuld'", "pre-build"),
    ),
    Case("hook-not-a-list", setting("[tool.poetflow.hooks]\npre-build = 5"), ("pre-build",)),
    Case(
        "repository-url-not-a-url",
        setting('[tool.poetflow.repositories.internal]\nurl = "not a url"'),
        ("repositories.internal.url", "'not a url'"),
    ),
    Case(
        "repository-url-ftp",
        setting('[tool.poetflow.repositories.internal]\nurl = "ftp://pkgs.example.com/"'),
        ("repositories.internal.url", "http"),
    ),
    Case(
        "repository-url-no-host",
        setting('[tool.poetflow.repositories.internal]\nurl = "https://"'),
        ("repositories.internal.url", "no host"),
    ),
    Case(
        "repository-url-bad-port",
        setting('[tool.poetflow.repositories.internal]\nurl = "https://pkgs.example.com:99999/"'),
        ("repositories.internal.url", "99999"),
    ),
    Case(
        "repository-url-space",
        setting('[tool.poetflow.repositories.internal]\nurl = "https://pkgs example.com/"'),
        ("repositories.internal.url", "space"),
    ),
    Case(
        "repository-index-url-relative",
        setting(
            '[tool.poetflow.repositories.internal]\nurl = "https://pkgs.example.com/legacy/"\n'
            'index-url = "simple/"'
        ),
        ("repositories.internal.index-url", "'simple/'"),
    ),
    Case(
        "repository-without-url",
        setting('[tool.poetflow.repositories.internal]\nindex-url = "https://x.example/simple/"'),
        ("repositories.internal.url", "missing"),
    ),
    Case(
        "changelog-format",
        setting('[tool.poetflow.changelog]\nformats = ["pdf"]'),
        ("changelog", "pdf"),
    ),
    Case(
        "pipeline-stage-unknown-key",
        setting('[tool.poetflow.pipeline]\nstgaes = ["test"]'),
        ("'stgaes'", "stages"),
    ),
    Case(
        "publish-unknown-key",
        setting('[tool.poetflow.publish]\nrepostory = "internal"'),
        ("'repostory'", "repository"),
    ),
    Case(
        "version-unknown-key",
        setting("[tool.poetflow.version]\nmajor-on-zeros = true"),
        ("'major-on-zeros'",),
    ),
    Case("signing-unknown-key", setting("[tool.poetflow.signing]\nstagin = true"), ("'stagin'",)),
    Case(
        "channel-unknown-key",
        setting('[tool.poetflow.channels]\nnext = { branch = "next", prerelase = "rc" }'),
        (ROOT, "tool.poetflow.channels.next", "'prerelase'", "prerelease"),
    ),
    Case(
        "channel-semver-label",
        setting('[tool.poetflow.channels]\nbeta = { branch = "beta/*", prerelease = "beta" }'),
        (ROOT, "tool.poetflow.channels.beta.prerelease", "'beta'"),
    ),
    Case(
        "poetflow-not-a-table",
        write_bytes(ROOT, b"[tool]\npoetflow = 5\n"),
        ("[tool.poetflow] must be a table",),
    ),
    Case(
        "root-invalid-toml",
        append(ROOT, "versioning = ["),
        (ROOT, "is not valid TOML"),
    ),
    Case(
        "root-not-utf8",
        write_bytes(ROOT, b'[tool.poetflow]\npackages = ["packages/*"]\n# \xff\xfe\n'),
        (ROOT, "UTF-8"),
    ),
    Case("root-nested-500-deep", append(ROOT, "[tool.other]\n" + nested(500)), (ROOT, "100")),
    Case("root-nested-150-deep", append(ROOT, "[tool.other]\n" + nested(150)), (ROOT, "100")),
    Case(
        "root-nested-tables-150-deep",
        append(ROOT, "[tool.other]\n" + nested(150, "{a = ", "}").replace("{a = }", "{a = 1}")),
        (ROOT, "100"),
    ),
    # -- a member's metadata ----------------------------------------------------------------
    Case(
        "version-latest",
        a_field('version = "1.0.0"', 'version = "latest"'),
        (A, "tool.poetry.version", "'latest'", "PEP 440"),
    ),
    Case("version-empty", a_field('version = "1.0.0"', 'version = ""'), (A, "version", "''")),
    Case(
        "version-weird",
        a_field('version = "1.0.0"', 'version = "1.0.0-beta_weird!"'),
        (A, "'1.0.0-beta_weird!'"),
    ),
    Case("version-number", a_field('version = "1.0.0"', "version = 1"), (A, "version", "1")),
    Case("version-missing", a_field('version = "1.0.0"\n', ""), (A, "no version")),
    Case(
        "pep621-version-latest",
        edit(C, 'version = "2.0.0"', 'version = "latest"'),
        (C, "project.version", "'latest'"),
    ),
    Case(
        "name-5000-characters",
        a_field('name = "chain-a"', f'name = "{"a" * 5000}"'),
        (A, "tool.poetry.name", "5000 characters"),
    ),
    Case(
        "name-shell",
        a_field('name = "chain-a"', 'name = "pkg;$(touch pwned)"'),
        (A, "name", "'pkg;$(touch pwned)'"),
    ),
    Case(
        "name-newline",
        a_field('name = "chain-a"', 'name = "chain-a\\nx"'),
        (A, "name", "'chain-a\\nx'"),
    ),
    Case("name-empty", a_field('name = "chain-a"', 'name = ""'), (A, "name", "''")),
    Case("name-number", a_field('name = "chain-a"', "name = 5"), (A, "name", "5")),
    Case("name-leading-dash", a_field('name = "chain-a"', 'name = "-chain-a"'), (A, "'-chain-a'")),
    Case(
        "pep621-name-placeholder",
        edit(C, 'name = "chain-c"', 'name = "{{ cookiecutter.name }}"'),
        (C, "project.name"),
    ),
    Case(
        "requirement-unparsable",
        edit(C, '"chain-b>=1.1"', '"pkg_002 >>= 1 ;;"'),
        (C, "project.dependencies", "'pkg_002 >>= 1 ;;'", "PEP 508"),
    ),
    Case(
        "requirement-bad-marker",
        edit(C, '"chain-b>=1.1"', "\"chain-b>=1.1; python_version >> '3'\""),
        (C, "project.dependencies", "PEP 508"),
    ),
    Case(
        "requirement-wildcard-with-ge",
        edit(C, '"chain-b>=1.1"', '"chain-b>=1.*"'),
        (C, "'chain-b>=1.*'"),
    ),
    Case(
        "requirements-not-a-list",
        edit(C, C_REQUIREMENTS, 'dependencies = "chain-b>=1.1"'),
        (C, "project.dependencies", "list of strings"),
    ),
    Case(
        "requirement-not-a-string",
        edit(C, C_REQUIREMENTS, "dependencies = [5]"),
        (C, "project.dependencies", "5"),
    ),
    Case(
        "optional-requirements-not-a-list",
        append(C, '[project.optional-dependencies]\nextra = "chain-b"'),
        (C, "project.optional-dependencies.extra"),
    ),
    Case(
        "optional-requirement-unparsable",
        append(C, '[project.optional-dependencies]\nextra = ["???"]'),
        (C, "project.optional-dependencies.extra", "'???'"),
    ),
    Case(
        "poetry-dependencies-not-a-table",
        both(
            edit(A, "[tool.poetry.dependencies]\n" + A_DEPS, ""),
            edit(A, 'authors = ["T <t@example.invalid>"]', "authors = []\ndependencies = 5"),
        ),
        (A, "tool.poetry.dependencies", "table"),
    ),
    Case(
        "poetry-constraint-unparsable",
        a_dependency('requests = ">>= 1 ;;"'),
        (A, "tool.poetry.dependencies.requests", "'>>= 1 ;;'"),
    ),
    Case("poetry-constraint-number", a_dependency("requests = 5"), (A, "requests", "5")),
    Case(
        "poetry-constraint-latest",
        a_dependency('requests = { version = "latest" }'),
        (A, "tool.poetry.dependencies.requests.version", "'latest'"),
    ),
    Case(
        "poetry-constraints-list-of-strings",
        a_dependency('requests = ["^2.0"]'),
        (A, "tool.poetry.dependencies.requests", "'^2.0'", "each of several constraints"),
    ),
    Case(
        "poetry-dependency-bad-name",
        a_dependency('"bad name!" = "*"'),
        (A, "tool.poetry.dependencies has a dependency named 'bad name!'"),
    ),
    Case(
        "path-not-a-string",
        edit(B, B_PATH, "chain-a = { path = 5 }"),
        (B, "tool.poetry.dependencies.chain-a.path", "5"),
    ),
    Case(
        "group-dependencies-not-a-table",
        append(A, "[tool.poetry.group.dev]\ndependencies = 5"),
        (A, "tool.poetry.group.dev.dependencies", "table"),
    ),
    Case(
        "groups-not-a-table",
        a_field('authors = ["T <t@example.invalid>"]', 'authors = []\ngroup = "dev"'),
        (A, "tool.poetry.group", "table"),
    ),
    Case(
        "group-constraint-unparsable",
        append(A, '[tool.poetry.group.test.dependencies]\npytest = "=>7"'),
        (A, "tool.poetry.group.test.dependencies.pytest", "'=>7'"),
    ),
    Case(
        "dev-dependency-unparsable",
        append(A, '[tool.poetry.dev-dependencies]\npytest = ">>1"'),
        (A, "tool.poetry.dev-dependencies.pytest", "'>>1'"),
    ),
    Case(
        "extras-not-a-list",
        append(A, '[tool.poetry.extras]\nfast = "chain-a"'),
        (A, "tool.poetry.extras.fast", "list of strings"),
    ),
    # -- path dependencies ------------------------------------------------------------------
    Case(
        "path-outside-the-repository",
        edit(B, B_PATH, 'chain-a = { path = "../../.." }'),
        (B, "'chain-a'", "outside the monorepo"),
    ),
    Case(
        "path-missing",
        edit(B, B_PATH, 'chain-a = { path = "../ghost" }'),
        (B, "'../ghost'", "does not exist"),
    ),
    Case(
        "path-to-a-folder-that-is-no-member",
        both(
            make_folder("tools/helper"),
            edit(B, B_PATH, 'chain-a = { path = "../../tools/helper" }'),
        ),
        (B, "'../../tools/helper'", "not a member"),
    ),
    Case(
        "path-key-names-another-member",
        edit(C, C_PATH, 'chain-b = { path = "../a", develop = true }'),
        (C, "'chain-b'", "'../a'", "member 'chain-a'"),
    ),
    Case(
        "self-dependency",
        a_dependency('chain-a = { path = "." }'),
        ("chain-a depends on itself",),
        ORDERED,
    ),
    Case(
        "self-dependency-pep621",
        both(
            edit(C, C_REQUIREMENTS, 'dependencies = ["chain-b>=1.1", "chain-c"]'),
            edit(C, C_PATH, C_PATH + '\nchain-c = { path = "." }'),
        ),
        ("chain-c depends on itself",),
        ORDERED,
    ),
    Case(
        "two-package-cycle",
        a_dependency('chain-b = { path = "../b" }'),
        ("chain-a, chain-b depend on each other",),
        ORDERED,
    ),
    Case(
        "duplicate-names",
        edit(C, 'name = "chain-c"', 'name = "Chain_B"'),
        ("Two packages are named 'chain-b'", "packages/b", "packages/c"),
    ),
    # -- the file itself --------------------------------------------------------------------
    Case("member-nested-500-deep", append(A, "[tool.other]\n" + nested(500)), (A, "100")),
    Case("member-nested-150-deep", append(A, "[tool.other]\n" + nested(150)), (A, "100")),
    Case("member-invalid-toml", append(A, "[tool.poetry"), (A, "not valid TOML")),
    Case("member-not-utf8", write_bytes(A, b'[tool.poetry]\nname = "\xff"\n'), (A, "UTF-8")),
    # -- a member's own [tool.poetflow] ------------------------------------------------------
    Case(
        "member-unknown-key",
        append(A, "[tool.poetflow]\ncolour = 1"),
        (A, "unknown key 'colour'"),
    ),
    Case(
        "member-workspace-key",
        append(A, '[tool.poetflow]\nversioning = "synchronized"'),
        (A, "versioning", "workspace setting"),
    ),
    Case(
        "member-hook-not-a-list",
        append(A, "[tool.poetflow.hooks]\npre-build = 5"),
        (A, "pre-build"),
    ),
    Case(
        "member-test-commands-number",
        append(A, "[tool.poetflow.test]\ncommands = 5"),
        (A, "commands"),
    ),
    Case(
        "member-version-file-outside",
        append(A, '[tool.poetflow]\nversion-files = ["../../../etc/passwd:x"]'),
        (A, "version-files", "outside the repository"),
    ),
]

CASES: tuple[Case, ...] = tuple(_WORKSPACE_CASES)

# Bad input on the command line, each with the commands it applies to.
CLI_CASES: tuple[Case, ...] = (
    Case(
        "unknown-package",
        lambda root: None,
        ("No package named 'chain-z'",),
        tuple(f"{command} --package chain-z" for command in READERS),
    ),
    Case(
        "unknown-since-ref",
        lambda root: None,
        ("'no-such-ref'",),
        tuple(f"{command} --since no-such-ref" for command in READERS),
    ),
    Case(
        "option-repository-url-not-a-url",
        lambda root: None,
        ("--repository-url", "'not a url'"),
        (
            "publish --dry-run --repository-url 'not a url'",
            "run --dry-run --repository-url 'not a url'",
        ),
    ),
    Case(
        "option-repository-url-ftp",
        lambda root: None,
        ("--repository-url", "http"),
        (
            "publish --dry-run --repository-url ftp://pkgs.example.com/",
            "run --dry-run --repository-url ftp://pkgs.example.com/",
        ),
    ),
    Case(
        "unknown-repository",
        lambda root: None,
        ("Unknown repository 'nowhere'",),
        ("publish --dry-run --repository nowhere", "run --dry-run --repository nowhere"),
    ),
    Case(
        "unknown-stage",
        lambda root: None,
        ("Unknown pipeline stage 'tset'",),
        ("run --dry-run --stages tset", "run --dry-run --skip tset"),
    ),
)

# A repository without history: every command that reads it must say so (exit 2).
GIT_CASES: tuple[Case, ...] = (
    Case("no-commits", lambda root: None, ("has no commits yet",), HISTORY),
    Case("orphan-branch", lambda root: None, ("orphan branch",), HISTORY),
)

# Folders and files PoetFlow may not read (run in a process without root's override).
UNREADABLE_CASES: tuple[tuple[Case, str], ...] = (
    (Case("member-folder", lambda root: None, ("Cannot read", "packages/b")), "packages/b"),
    (Case("packages-folder", lambda root: None, ("Cannot read", "packages")), "packages"),
    (Case("member-pyproject", lambda root: None, ("Cannot read", B)), B),
    (
        Case(
            "git-objects",
            lambda root: None,
            ("Cannot read the git repository", ".git/objects"),
            ("discover --status", "version bump --dry-run", "run --dry-run"),
        ),
        ".git/objects",
    ),
)
