"""Setting a repository up: inspect it, propose ``[tool.poetflow]``, write config and CI files."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from poetflow.config import InternalConstraint, Versioning
from poetflow.errors import MetadataError, UsageError
from poetflow.files import atomic_write_text
from poetflow.metadata import MetadataStyle, canonical_name, read_project_metadata
from poetflow.release_tools import AdoptedSettings, read_release_tools
from poetflow.tables import relative_path_problem
from poetflow.tomlfile import read_toml

__all__ = [
    "TAG_FORMATS",
    "FoundPackage",
    "InitSettings",
    "Inspection",
    "PlannedFile",
    "SkippedProject",
    "TagFormatGuess",
    "ci_template_dir",
    "config_table",
    "detect_tag_format",
    "existing_settings",
    "find_packages",
    "inspect_repository",
    "is_placeholder_name",
    "match_tag",
    "plan_ci_files",
    "plan_config_file",
    "plan_version_files",
    "proposed_exclude",
    "settings_from",
    "write_files",
]

# The tag formats seen in the wild, most common first: ties in detection go to the earlier one.
TAG_FORMATS: tuple[str, ...] = (
    "{name}-v{version}",
    "{name}@{version}",
    "{name}@v{version}",
    "{name}/v{version}",
    "{name}/{version}",
    "{name}-{version}",
    "{name}_v{version}",
    "v{version}",
    "{version}",
)
DEFAULT_PYTHON = "3.12"

# Folders no package lives in: walking into them would be slow and find vendored copies.
_SKIPPED_DIRS = frozenset(
    {"node_modules", "__pycache__", "dist", "build", "site-packages", "venv", "env", "site"}
)
_VERSION_RE = r"\d+(?:\.\d+)*(?:(?:a|b|rc|\.post|\.dev|-?alpha|-?beta|-?rc)\.?\d*)*"
_REQUIRES_PYTHON_RE = re.compile(r">=?\s*(\d+)\.(\d+)")
_REMOTE_RE = re.compile(r"[:/](?P<slug>[^:/]+/[^/]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class FoundPackage:
    """A Poetry package found below the root."""

    name: str
    version: str | None
    relpath: str
    style: MetadataStyle
    requires_python: str | None


@dataclass(frozen=True)
class SkippedProject:
    """A Poetry project below the root that must not become a member, and why."""

    relpath: str
    name: str
    reason: str


@dataclass(frozen=True)
class TagFormatGuess:
    """The tag format most existing tags follow, and how many tags it explains."""

    tag_format: str
    matched: int
    total: int


@dataclass(frozen=True)
class Inspection:
    """What ``poetflow init`` learned from the repository.

    ``None`` in ``versioning`` or ``tag_format`` means the repository does not say; the
    caller asks or takes the default.
    """

    root: Path
    packages: tuple[FoundPackage, ...]
    package_globs: tuple[str, ...]
    styles: tuple[MetadataStyle, ...]
    versioning: Versioning | None
    versioning_reason: str
    tag_format: TagFormatGuess | None
    tag_count: int
    python_version: str
    repository_slug: str | None
    default_branch: str
    existing_config: Mapping[str, Any] | None
    # The settings of the release tool the repository already uses (commitizen, ...).
    release_tool: AdoptedSettings = field(default_factory=AdoptedSettings)
    # Projects inside another package's folder or with a template's placeholder name.
    skipped: tuple[SkippedProject, ...] = ()

    @property
    def pyproject(self) -> Path:
        return self.root / "pyproject.toml"


@dataclass(frozen=True)
class InitSettings:
    """The answers: what goes into ``[tool.poetflow]``."""

    packages: tuple[str, ...]
    versioning: Versioning
    tag_format: str
    internal_constraint: InternalConstraint = "compatible"
    test_commands: tuple[str, ...] = ("pytest -q",)
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedFile:
    """A file ``poetflow init`` wants to write; ``exists`` means writing replaces something."""

    path: Path
    content: str
    exists: bool
    description: str
    replaces_config: bool = False

    @property
    def unchanged(self) -> bool:
        """Writing would leave the file exactly as it is."""
        return self.exists and self.path.read_text(encoding="utf-8") == self.content


# -- inspecting ---------------------------------------------------------------------------


def _walk_pyprojects(root: Path) -> Iterable[Path]:
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            name for name in dirnames if not name.startswith(".") and name not in _SKIPPED_DIRS
        )
        if "pyproject.toml" in filenames and Path(directory) != root:
            yield Path(directory) / "pyproject.toml"


def _is_poetry_project(data: Mapping[str, Any]) -> bool:
    backend = data.get("build-system", {}).get("build-backend", "")
    tool = data.get("tool", {})
    return (isinstance(backend, str) and backend.startswith("poetry")) or (
        isinstance(tool, dict) and "poetry" in tool
    )


# Names a project template writes for its generator to fill in: cookiecutter and copier
# ({{ cookiecutter.name }}), langchain's __package_name__, ${name}, <name>, {name}.
_PLACEHOLDER_RE = re.compile(r"\A__\w+__\Z|\{\{|\}\}|\{%|\$\{|\A<.*>\Z|\{\w*\}")


def is_placeholder_name(name: str) -> bool:
    """Is ``name`` a template's placeholder rather than a package's name?"""
    return _PLACEHOLDER_RE.search(name) is not None


def _raw_name(data: Mapping[str, Any]) -> str:
    project = data.get("project", {})
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    name = (project.get("name") if isinstance(project, dict) else None) or (
        poetry.get("name") if isinstance(poetry, dict) else None
    )
    return name if isinstance(name, str) else ""


def find_packages(root: Path) -> tuple[list[FoundPackage], list[SkippedProject]]:
    """Every Poetry package below ``root`` (not the root itself), sorted by path, and the
    Poetry projects that are no members: inside another package's folder (a project
    template, a test fixture) or named with a template's placeholder."""
    found: list[FoundPackage] = []
    skipped: list[SkippedProject] = []
    # Sorted by path, a package's folder comes before everything inside it.
    for pyproject in sorted(_walk_pyprojects(root), key=lambda path: path.parent.as_posix()):
        relpath = pyproject.parent.relative_to(root).as_posix()
        try:
            data = read_toml(pyproject)
        except MetadataError:
            continue  # doctor reports broken files; init only proposes from what reads
        if not _is_poetry_project(data):
            continue
        name = _raw_name(data)
        outer = next((p for p in found if relpath.startswith(p.relpath + "/")), None)
        if outer is not None:
            skipped.append(SkippedProject(relpath, name, f"inside the package {outer.name}"))
            continue
        if is_placeholder_name(name):
            skipped.append(SkippedProject(relpath, name, "a template's placeholder name"))
            continue
        try:
            metadata = read_project_metadata(data, pyproject)
        except MetadataError:
            continue
        if metadata is None:
            continue
        project = data.get("project", {})
        poetry_python = data.get("tool", {}).get("poetry", {}).get("dependencies", {})
        requires = project.get("requires-python") or (
            poetry_python.get("python") if isinstance(poetry_python, dict) else None
        )
        found.append(
            FoundPackage(
                name=metadata.name,
                version=metadata.version,
                relpath=relpath,
                style=metadata.style,
                requires_python=requires if isinstance(requires, str) else None,
            )
        )
    return found, skipped


def package_globs(root: Path, relpaths: Sequence[str]) -> tuple[str, ...]:
    """Globs covering ``relpaths``: ``parent/*`` when every sibling folder with a
    pyproject.toml is a package, else the folders themselves."""
    members = set(relpaths)
    by_parent: dict[str, list[str]] = {}
    for relpath in relpaths:
        parent = relpath.rsplit("/", 1)[0] if "/" in relpath else ""
        by_parent.setdefault(parent, []).append(relpath)
    globs: list[str] = []
    for parent, children in sorted(by_parent.items()):
        siblings = [
            path.relative_to(root).as_posix()
            for path in (root / parent).iterdir()
            if path.is_dir() and (path / "pyproject.toml").is_file()
        ]
        if parent and all(sibling in members for sibling in siblings):
            globs.append(f"{parent}/*")
        else:
            globs.extend(sorted(children))
    return tuple(sorted(globs))


def _format_regex(tag_format: str, names: Iterable[str]) -> re.Pattern[str]:
    pattern = re.escape(tag_format)
    alternatives = "|".join(sorted((re.escape(name) for name in names), key=len, reverse=True))
    pattern = pattern.replace(re.escape("{name}"), f"(?P<name>{alternatives or '(?!)'})", 1)
    pattern = pattern.replace(re.escape("{version}"), f"(?P<version>{_VERSION_RE})", 1)
    return re.compile(f"^{pattern}$", re.IGNORECASE)


def _spellings(names: Iterable[str]) -> set[str]:
    spellings: set[str] = set()
    for name in names:
        canonical = canonical_name(name)
        spellings.update({name, canonical, canonical.replace("-", "_")})
    return spellings


def match_tag(tag: str, tag_format: str, names: Iterable[str]) -> bool:
    """Does ``tag`` follow ``tag_format`` for one of ``names`` (any PEP 503 spelling)?"""
    return _format_regex(tag_format, _spellings(names)).match(tag) is not None


def detect_tag_format(tags: Sequence[str], names: Iterable[str]) -> TagFormatGuess | None:
    """The format from TAG_FORMATS that explains the most tags; None when none does."""
    spellings = _spellings(names)
    best: TagFormatGuess | None = None
    for tag_format in TAG_FORMATS:
        regex = _format_regex(tag_format, spellings)
        matched = sum(1 for tag in tags if regex.match(tag))
        if matched and (best is None or matched > best.matched):
            best = TagFormatGuess(tag_format, matched, len(tags))
    return best


def _python_version(root: Path, packages: Sequence[FoundPackage]) -> str:
    pinned = root / ".python-version"
    if pinned.is_file():
        match = re.match(r"\s*(\d+\.\d+)", pinned.read_text(encoding="utf-8"))
        if match:
            return match.group(1)
    floors = []
    for package in packages:
        match = _REQUIRES_PYTHON_RE.search(package.requires_python or "")
        if match:
            floors.append((int(match.group(1)), int(match.group(2))))
    if not floors:
        return DEFAULT_PYTHON
    # CI must run a Python every package accepts: the highest floor, never below the default.
    floor = max(floors)
    default = tuple(int(part) for part in DEFAULT_PYTHON.split("."))
    chosen = max(floor, default)
    return f"{chosen[0]}.{chosen[1]}"


def _default_branch(repo: Any) -> str:
    """The release branch: ``main`` or ``master`` when one exists, else the current one."""
    from poetflow.errors import GitError

    for candidate in ("main", "master"):
        try:
            repo.resolve(f"refs/heads/{candidate}")
        except GitError:
            continue
        return candidate
    return str(repo.current_branch() or "main")


def _git_facts(root: Path) -> tuple[list[str], str | None, str]:
    """Tag names, the ``owner/name`` of origin, and the current branch (``main`` unknown)."""
    from poetflow.errors import GitError
    from poetflow.git import Repository

    try:
        repo = Repository.open(root)
    except GitError:
        return [], None, "main"
    tags = [tag.name for tag in repo.tags()]
    remote = repo.remote_url()
    match = _REMOTE_RE.search(remote) if remote else None
    return tags, match.group("slug") if match else None, _default_branch(repo)


def _infer_versioning(
    packages: Sequence[FoundPackage], guess: TagFormatGuess | None
) -> tuple[Versioning | None, str]:
    if guess is not None:
        if "{name}" in guess.tag_format:
            return "independent", f"existing tags follow {guess.tag_format}"
        versions = {package.version for package in packages if package.version}
        if len(versions) > 1:
            # Tags that name no package belong to one of them (langgraph's "0.4.5" is
            # langgraph's): synchronized versioning would move every package to it.
            return "independent", (
                f"the packages have different versions; the {guess.tag_format} tags name "
                "no package, so they cannot tell the packages' releases apart"
            )
        return "synchronized", f"existing tags follow {guess.tag_format} (no package name)"
    versions = {package.version for package in packages if package.version}
    if len(packages) > 1 and len(versions) == 1:
        return "synchronized", f"every package is at version {versions.pop()}"
    if len(versions) > 1:
        return "independent", "the packages have different versions"
    return None, "one package and no release tags"


def inspect_repository(root: Path) -> Inspection:
    """Look at ``root``: packages, metadata styles, tags and their format, Python version."""
    root = root.resolve()
    packages, skipped = find_packages(root)
    tags, slug, branch = _git_facts(root)
    guess = detect_tag_format(tags, [package.name for package in packages])
    versioning, reason = _infer_versioning(packages, guess)
    adopted = read_release_tools(root, packages)
    if guess is None and adopted.tag_format:
        independent = "{name}" in adopted.tag_format
        versioning = "independent" if independent else "synchronized"
        reason = f"the {adopted.tools[0]} setup tags releases {adopted.tag_format}"
    existing = None
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        tool = read_toml(pyproject).get("tool", {})
        if isinstance(tool, dict) and isinstance(tool.get("poetflow"), dict):
            existing = tool["poetflow"]
    return Inspection(
        root=root,
        packages=tuple(packages),
        package_globs=package_globs(root, [package.relpath for package in packages]),
        styles=tuple(sorted({package.style for package in packages})),
        versioning=versioning,
        versioning_reason=reason,
        tag_format=guess,
        tag_count=len(tags),
        python_version=_python_version(root, packages),
        repository_slug=slug,
        default_branch=branch,
        existing_config=existing,
        release_tool=adopted,
        skipped=tuple(skipped),
    )


def default_tag_format(versioning: Versioning) -> str:
    return "{name}-v{version}" if versioning == "independent" else "v{version}"


def settings_from(
    inspection: Inspection,
    *,
    packages: Sequence[str] | None = None,
    versioning: Versioning | None = None,
    tag_format: str | None = None,
) -> InitSettings:
    """Inferred values, overridden by answers; defaults where the repository said nothing."""
    chosen_versioning = versioning or inspection.versioning or "independent"
    guessed = (
        inspection.tag_format.tag_format
        if inspection.tag_format
        else inspection.release_tool.tag_format
    )
    if guessed and ("{name}" in guessed) != (chosen_versioning == "independent"):
        guessed = None  # an answer contradicting the tags wins over them
    chosen_format = tag_format or guessed or default_tag_format(chosen_versioning)
    if chosen_versioning == "independent" and "{name}" not in chosen_format:
        raise UsageError(
            f"The tag format {chosen_format!r} has no {{name}}, so independent versions of "
            "different packages would share tags.",
            hint='Use a format such as "{name}-v{version}" or choose synchronized versioning.',
        )
    if "{version}" not in chosen_format:
        raise UsageError(
            f"The tag format {chosen_format!r} has no {{version}}.",
            hint='Use a format such as "{name}-v{version}".',
        )
    globs = tuple(packages) if packages else inspection.package_globs or ("packages/*",)
    return InitSettings(
        packages=globs,
        versioning=chosen_versioning,
        tag_format=chosen_format,
        exclude=proposed_exclude(inspection, globs),
    )


def proposed_exclude(inspection: Inspection, globs: Sequence[str]) -> tuple[str, ...]:
    """The skipped projects that ``globs`` would make members: each becomes an exclude."""
    matched: set[str] = set()
    for raw in globs:
        pattern = raw.rstrip("/") or "."
        if pattern == "." or relative_path_problem(pattern):
            continue
        matched.update(
            path.relative_to(inspection.root).as_posix() for path in inspection.root.glob(pattern)
        )
    return tuple(
        sorted(project.relpath for project in inspection.skipped if project.relpath in matched)
    )


def existing_settings(inspection: Inspection) -> InitSettings | None:
    """The settings of the ``[tool.poetflow]`` table already there (None when there is none)."""
    from poetflow.config import parse_config

    if inspection.existing_config is None:
        return None
    config = parse_config(inspection.existing_config, inspection.pyproject)
    import shlex

    test = [shlex.join(argv) for argv in config.test.commands]
    return InitSettings(
        packages=config.packages,
        versioning=config.versioning,
        tag_format=config.tag_format,
        internal_constraint=config.internal_constraint,
        test_commands=tuple(test) if isinstance(test, list) else ("pytest -q",),
        exclude=config.exclude,
    )


# -- writing ------------------------------------------------------------------------------


def config_table(settings: InitSettings) -> dict[str, Any]:
    """The ``[tool.poetflow]`` keys ``poetflow init`` owns, as plain data."""
    table: dict[str, Any] = {"packages": list(settings.packages)}
    if settings.exclude:
        table["exclude"] = list(settings.exclude)
    table.update(
        {
            "versioning": settings.versioning,
            "tag-format": settings.tag_format,
            "internal-constraint": settings.internal_constraint,
        }
    )
    return table


def plan_config_file(inspection: Inspection, settings: InitSettings) -> PlannedFile:
    """The root pyproject.toml with ``[tool.poetflow]`` set; everything else kept as it was.

    Keys ``init`` does not own (test commands, hooks, repositories...) survive a rewrite.
    """
    import tomlkit

    from poetflow.tomlfile import load_document

    path = inspection.pyproject
    exists = path.is_file()
    document = load_document(path) if exists else tomlkit.document()
    tool = document.get("tool")
    if tool is None:
        tool = tomlkit.table(is_super_table=True)
        document["tool"] = tool
    current = tool.get("poetflow")
    if current is None:
        table = tomlkit.table()
        for key, value in config_table(settings).items():
            table[key] = value
        test = tomlkit.table()
        test["commands"] = list(settings.test_commands)
        table["test"] = test
        tool["poetflow"] = table
    else:
        for key, value in config_table(settings).items():
            current[key] = value
    return PlannedFile(
        path=path,
        content=tomlkit.dumps(document),
        exists=exists,
        description="[tool.poetflow] in pyproject.toml",
        replaces_config=current is not None,
    )


def plan_version_files(inspection: Inspection) -> list[PlannedFile]:
    """Each package's ``version-files``, carried over from the release tool it used
    (a package that already lists its own keeps them)."""
    import tomlkit

    from poetflow.tomlfile import load_document

    planned = []
    for relpath, entries in inspection.release_tool.version_files.items():
        path = inspection.root / relpath / "pyproject.toml"
        if not path.is_file():
            continue
        document = load_document(path)
        tool = document.setdefault("tool", tomlkit.table(is_super_table=True))
        own = tool.get("poetflow")
        if own is None:
            own = tomlkit.table()
            tool["poetflow"] = own
        elif "version-files" in own:
            continue
        own["version-files"] = list(entries)
        planned.append(
            PlannedFile(
                path=path,
                content=tomlkit.dumps(document),
                exists=True,
                description=f"version-files of {relpath}",
            )
        )
    return planned


def ci_template_dir() -> Path:
    """Where the CI templates are: inside the installed wheel, or the source checkout."""
    import poetflow

    package_dir = Path(poetflow.__file__).resolve().parent
    # A wheel carries ci-templates/ next to the poetflow package (a [tool.poetry] include);
    # a source checkout has it at the repository root, two levels above src/poetflow.
    for candidate in (package_dir.parent / "ci-templates", package_dir.parents[1] / "ci-templates"):
        if candidate.is_dir():
            return candidate
    raise UsageError(
        f"The CI templates are not installed next to {package_dir}.",
        hint="Reinstall PoetFlow from a wheel built with its ci-templates/ folder.",
    )


# The values the shipped templates are written with, replaced by the repository's own.
_TEMPLATE_BRANCH = "main"
_TEMPLATE_REPOSITORY = "pypi"
_TEMPLATE_TAG_GLOB = "*-v*"


@dataclass(frozen=True)
class _CiContext:
    python_version: str
    repository_slug: str | None
    default_branch: str
    package_globs: tuple[str, ...]
    tag_format: str
    publish_repository: str | None


# The release pull request flow of a CI system: files that take the place of the
# same-named ones of its direct release flow (``init --ci NAME --release-pr``).
RELEASE_PR_FOLDER = "release-pr/"


def _template_files(kind: str, release_pr: bool = False) -> list[tuple[Path, str]]:
    """(template file, target relative path) for one CI system (where it reads them)."""
    from poetflow.ci.registry import template_system

    templates = template_system(kind).templates
    assert templates is not None  # template_system() knows only systems with templates
    base = ci_template_dir() / templates.folder
    if not base.is_dir():
        raise UsageError(
            f"No CI templates for {kind!r} in {ci_template_dir()}.",
            hint="Reinstall PoetFlow from a wheel built with its ci-templates/ folder.",
        )
    files = []
    for template in sorted(base.rglob("*")):
        relative = template.relative_to(base).as_posix()
        if not template.is_file() or template.name.startswith("README"):
            continue
        if relative.startswith(templates.excluded):
            continue
        files.append((template, templates.target.format(file=relative)))
    if release_pr:
        folder = base / RELEASE_PR_FOLDER
        replacements = [
            (path, templates.target.format(file=path.relative_to(folder).as_posix()))
            for path in sorted(folder.rglob("*") if folder.is_dir() else ())
            if path.is_file()
        ]
        if not replacements:
            raise UsageError(
                f"There is no release pull request template for {kind}.",
                hint="Use --release-pr with --ci github or --ci gitlab.",
            )
        targets = {target for _path, target in replacements}
        files = [item for item in files if item[1] not in targets] + replacements
    return files


def _tag_glob(tag_format: str) -> str:
    return tag_format.replace("{name}", "*").replace("{version}", "*")


def adapt_template(text: str, context: _CiContext) -> str:
    """Fill a CI template for one repository.

    Placeholders ``{{ python_version }}``, ``{{ repository }}``, ``{{ default_branch }}``,
    ``{{ packages }}`` and ``{{ tag_glob }}`` are replaced, and so are the concrete values
    the shipped templates are written with: the Python version (``python-version:``,
    ``versionSpec:``, ``python:X.Y`` images), the ``main`` branch (in branch lists and
    keys, ``refs/heads/main``, ``origin/main``), the quoted ``"*-v*"`` release tag
    pattern and the ``pypi`` repository.
    """
    values = {
        "python_version": context.python_version,
        "repository": context.repository_slug or "OWNER/REPOSITORY",
        "default_branch": context.default_branch,
        "packages": " ".join(context.package_globs),
        "tag_glob": _tag_glob(context.tag_format),
    }
    for key, value in values.items():
        text = re.sub(r"\{\{\s*" + key + r"\s*\}\}", value, text)
    version = context.python_version
    python_key = r"((?:python-version|PYTHON_VERSION|versionSpec):\s*[\"']?)\d+\.\d+"
    text = re.sub(python_key, rf"\g<1>{version}", text)
    text = re.sub(r"(image:\s*[\"']?python:)\d+\.\d+", rf"\g<1>{version}", text)
    for quote in "\"'":
        text = text.replace(
            f"{quote}{_TEMPLATE_TAG_GLOB}{quote}", f"{quote}{values['tag_glob']}{quote}"
        )
    branch = context.default_branch
    if branch != _TEMPLATE_BRANCH:
        for pattern in (
            r"((?:branches|include):\s*\[)main(\])",
            r"(\|\|\s*')main(')",
            r"(origin/)main()\b",
            r"(refs/heads/)main()\b",
            r"(branch\s*')main(')",
            r"(?m)(^[ \t]+)main(:[ \t]*$)",  # a branch as a mapping key
        ):
            text = re.sub(pattern, rf"\g<1>{branch}\g<2>", text)
    repository = context.publish_repository
    if repository and repository != _TEMPLATE_REPOSITORY:
        text = re.sub(r"(--repository\s+)pypi\b", rf"\g<1>{repository}", text)
        text = re.sub(r"(\brepository:\s*)pypi\b", rf"\g<1>{repository}", text)
    return text


def plan_ci_files(
    inspection: Inspection,
    kind: str,
    settings: InitSettings | None = None,
    *,
    release_pr: bool = False,
) -> list[PlannedFile]:
    """The CI files for ``kind`` adapted to the repository (not written yet); with
    ``release_pr`` the release pull request flow instead of releasing on every push."""
    files = _template_files(kind, release_pr)
    existing = inspection.existing_config or {}
    publish = existing.get("publish", {})
    configured = publish.get("repository") if isinstance(publish, Mapping) else None
    context = _CiContext(
        python_version=inspection.python_version,
        repository_slug=inspection.repository_slug,
        default_branch=inspection.default_branch,
        package_globs=settings.packages if settings else inspection.package_globs,
        tag_format=settings.tag_format if settings else default_tag_format("independent"),
        publish_repository=configured if isinstance(configured, str) else None,
    )
    planned = []
    for template, target in files:
        path = inspection.root / target
        planned.append(
            PlannedFile(
                path=path,
                content=adapt_template(template.read_text(encoding="utf-8"), context),
                exists=path.exists(),
                description=f"{kind} CI",
            )
        )
    return planned


def write_files(files: Sequence[PlannedFile], *, force: bool, allowed: Iterable[Path] = ()) -> None:
    """Write ``files``; an existing file is replaced only with ``force`` or when ``allowed``.

    Checks every file before writing any, so a refusal leaves the repository unchanged.
    """
    permitted = {Path(path) for path in allowed}
    blocked = [
        planned
        for planned in files
        if planned.exists
        and not force
        and planned.path not in permitted
        and (planned.replaces_config or planned.path.name != "pyproject.toml")
    ]
    if blocked:
        names = ", ".join(
            f"{planned.path} (it already has [tool.poetflow])"
            if planned.replaces_config
            else f"{planned.path} (it already exists)"
            for planned in blocked
        )
        raise UsageError(
            f"Not overwriting {names}; nothing was written.",
            hint="Rerun with --force to replace it, or answer the question in a terminal.",
        )
    for planned in files:
        planned.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(planned.path, planned.content)
