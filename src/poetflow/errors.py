"""The exception tree: every error PoetFlow reports, with its exit code and a hint."""

from __future__ import annotations

__all__ = [
    "AnnounceError",
    "ConfigError",
    "DirtyWorkingTreeError",
    "DuplicatePackageError",
    "GitError",
    "HostingError",
    "IdentityTokenError",
    "MetadataError",
    "MissingPathDependencyError",
    "PoetFlowError",
    "ReleasePrError",
    "SigningError",
    "SigningSetupError",
    "StepFailedError",
    "UnknownPackageError",
    "UsageError",
    "VerificationFailedError",
    "WorkspaceCycleError",
    "WorkspaceNotFoundError",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class PoetFlowError(Exception):
    """Base of every error PoetFlow raises on purpose.

    ``message`` is one sentence naming the file or package and what went wrong;
    ``hint`` says what to do. Adapters (CLI, container entrypoint) turn it into
    ``exit_code`` and never show a traceback unless asked for debug output.
    """

    exit_code: int = EXIT_BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} {self.hint}"
        return self.message


class UsageError(PoetFlowError):
    """The command line asked for something impossible."""


class ConfigError(PoetFlowError):
    """A ``[tool.poetflow]`` setting is invalid."""


class MetadataError(PoetFlowError):
    """A pyproject.toml cannot be read or its metadata is invalid."""


class WorkspaceNotFoundError(PoetFlowError):
    """No monorepo root could be found."""


class DuplicatePackageError(PoetFlowError):
    """Two members share one normalised name."""


class MissingPathDependencyError(PoetFlowError):
    """A path dependency points at a folder that does not exist."""


class UnknownPackageError(PoetFlowError):
    """A package named on the command line is not a member of the workspace."""


class WorkspaceCycleError(PoetFlowError):
    """Runtime dependencies form a cycle where an order is needed."""

    def __init__(self, cycles: list[list[str]]) -> None:
        self.cycles = cycles
        shown = "; ".join(
            f"{cycle[0]} depends on itself"
            if len(cycle) == 1
            else f"{', '.join(cycle)} depend on each other"
            for cycle in cycles
        )
        super().__init__(
            f"Runtime dependency cycle between packages: {shown}.",
            hint="Break the cycle by moving one of these dependencies to a dependency group "
            "(or removing a path dependency of a package on its own folder).",
        )


class GitError(PoetFlowError):
    """The git repository cannot answer what is needed."""


class DirtyWorkingTreeError(GitError):
    """Uncommitted changes where a release would build and tag them (exit 2)."""


class StepFailedError(PoetFlowError):
    """A step (test, build, upload) failed for at least one package."""

    exit_code = EXIT_FAILED


class PublishError(PoetFlowError):
    """Publishing cannot start: an unknown repository, missing artifacts, a bad setting."""


class MissingCredentialsError(PublishError):
    """No credentials for the target repository (and no trusted publishing available)."""


class TrustedPublishingError(PublishError):
    """The OIDC token exchange for trusted publishing failed."""

    exit_code = EXIT_FAILED


class SigningError(StepFailedError):
    """Signing an artifact failed at the certificate authority or the transparency log."""


class SigningSetupError(PoetFlowError):
    """Signing or verification cannot start: a bad trust configuration or verify setting."""


class IdentityTokenError(SigningSetupError):
    """No usable OIDC identity token for Sigstore signing (missing, expired, wrong audience)."""


class VerificationFailedError(StepFailedError):
    """At least one artifact's signature did not verify."""


class VersionWriteError(PoetFlowError):
    """Writing release files (versions, constraints, changelogs) failed; all were restored."""

    exit_code = EXIT_FAILED


class AnnounceError(PoetFlowError):
    """Announcing cannot start: no code host to announce on, a missing token or file."""


class HostingError(StepFailedError):
    """A code-host API call failed (exit 1): the message names the call and the answer."""


class ReleasePrError(PoetFlowError):
    """A release pull request cannot be made: no code host or token, no base branch."""
