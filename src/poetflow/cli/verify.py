"""``poetflow sign`` and ``poetflow verify``: Sigstore bundles for built artifacts, checked."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from poetflow.cli.options import (
    AllOption,
    OtelOption,
    PackageOption,
    ReportDirOption,
    SinceOption,
    current_options,
    examples,
    make_selection,
    with_global_options,
)
from poetflow.cli.output import print_json, print_table, print_text

if TYPE_CHECKING:
    from poetflow.signing.options import SigningOptions, SigningSettings
    from poetflow.signing.results import SignReport
    from poetflow.workspace import Workspace

__all__ = ["register"]

logger = logging.getLogger("poetflow.signing")

# Files signed at once: each is a round trip to the transparency log, not CPU work.
_SIGN_JOBS = 4

_SIGN_EXAMPLES = """
Examples:

  poetflow build && poetflow sign

  POETFLOW_SIGSTORE_IDENTITY_TOKEN_FILE=/run/secrets/oidc poetflow sign -p acme-core

  poetflow sign --trust-config sigstore/trust_config.json dist/tool-1.0.tar.gz
"""

_VERIFY_EXAMPLES = """
Examples:

  poetflow verify --issuer https://token.actions.githubusercontent.com \\
      --identity https://github.com/acme/mono/.github/workflows/release.yml@refs/heads/main

  poetflow verify -p acme-core --offline --json

  poetflow verify --trust-config trust_config.json --identity release@acme.test \\
      --issuer https://oidc.acme.test downloads/acme_core-1.0.0-py3-none-any.whl
"""

ArtifactsArgument = Annotated[
    Optional[list[Path]],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Argument(
        help="Files to sign or verify instead of the selected packages' dist/ files.",
        show_default=False,
    ),
]
TrustConfigOption = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--trust-config",
        help="ClientTrustConfig JSON of a private Sigstore instance (also "
        "POETFLOW_SIGSTORE_TRUST_CONFIG, [tool.poetflow.signing] trust-config). "
        "Default: the public-good instance.",
        show_default=False,
    ),
]
StagingOption = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--staging/--no-staging",
        envvar="POETFLOW_SIGSTORE_STAGING",
        help="Use Sigstore's staging instance (testing only).",
        show_default=False,
    ),
]
AttestationsOption = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--attestations/--no-attestations",
        envvar="POETFLOW_SIGN_ATTESTATIONS",
        help="Also write a PEP 740 attestation (<file>.publish.attestation) per sdist/wheel.",
        show_default=False,
    ),
]
IdentityOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--identity",
        envvar="POETFLOW_VERIFY_IDENTITY",
        help="Expected signer: the certificate's SAN (workflow URI or e-mail address).",
        show_default=False,
    ),
]
IssuerOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--issuer",
        envvar="POETFLOW_VERIFY_ISSUER",
        help="Expected OIDC issuer URL, e.g. https://token.actions.githubusercontent.com.",
        show_default=False,
    ),
]
OfflineOption = Annotated[
    bool,
    typer.Option(
        "--offline",
        envvar="POETFLOW_VERIFY_OFFLINE",
        help="Do not refresh the public trust root over the network (use the shipped copy).",
    ),
]


def _section_and_root() -> tuple[SigningSettings, Path | None, Any]:
    """``[tool.poetflow.signing]``, the root and the workspace, when there is a workspace."""
    from poetflow.errors import WorkspaceNotFoundError
    from poetflow.signing.options import SigningSettings
    from poetflow.workspace import find_root, load_workspace

    options = current_options()
    try:
        workspace = load_workspace(find_root(Path.cwd(), options.root))
    except WorkspaceNotFoundError:
        return SigningSettings(), None, None
    return workspace.config.signing, workspace.root, workspace


def _artifacts(
    workspace: Any,
    artifacts: list[Path] | None,
    all_: bool,
    package: list[str] | None,
    since: str | None,
) -> list[Path]:
    """The explicit files, else every selected package's sdist and wheels in dist/."""
    from poetflow.distributions import find_distributions
    from poetflow.errors import SigningSetupError, UsageError
    from poetflow.selection import select_packages

    if artifacts:
        if all_ or package or since:
            raise UsageError(
                "Give either files or a package selection (--all/--package/--since), not both."
            )
        return [path.resolve() for path in artifacts]
    if workspace is None:
        raise SigningSetupError(
            "No monorepo found here and no files given.",
            hint="Run inside a PoetFlow monorepo (or pass --root), or name the files.",
        )
    selected = select_packages(workspace, make_selection(all_, package, since))
    paths: list[Path] = []
    missing: list[str] = []
    for item in selected:
        found = (
            find_distributions(item.path / "dist", item.name, item.version) if item.version else []
        )
        if not found:
            missing.append(f"{item.name} ({item.relpath}/dist)")
        paths.extend(distribution.path for distribution in found)
    # Packages named on the command line must be built; with the default (every package),
    # the unbuilt ones are skipped so that `poetflow sign` after a partial build just works.
    strict = bool(package or since)
    if missing and (strict or not paths):
        raise SigningSetupError(
            f"No built sdist or wheel for the current version of {', '.join(missing)}.",
            hint="Run `poetflow build` first.",
        )
    if missing:
        logger.warning("Skipped (nothing built for the current version): %s", ", ".join(missing))
    return paths


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _options(
    section: SigningSettings,
    root: Path | None,
    trust_config: Path | None,
    staging: bool | None,
    offline: bool = False,
    attestations: bool | None = None,
) -> SigningOptions:
    from poetflow.signing.options import signing_options

    return signing_options(
        section,
        root=root,
        trust_config=trust_config,
        staging=staging,
        offline=offline,
        attestations=attestations,
    )


def _by_package(
    workspace: Workspace, paths: list[Path]
) -> tuple[dict[str, list[Path]], list[Path]]:
    """The files of each package (the innermost package folder holding them) and the others."""
    files: dict[str, list[Path]] = {}
    others: list[Path] = []
    for path in paths:
        owners = [p for p in workspace.packages if path.is_relative_to(p.path)]
        if not owners:
            others.append(path)
            continue
        owner = max(owners, key=lambda p: len(p.path.parts))
        files.setdefault(owner.name, []).append(path)
    return files, others


def _sign_outside_a_monorepo(paths: list[Path], signing: SigningOptions) -> None:
    """Named files with no monorepo around them: no packages, so no hooks and no report."""
    from poetflow.signing.sign import sign_artifacts
    from poetflow.signing.tokens import describe_token, resolve_identity_token

    options = current_options()
    if options.dry_run:
        token = describe_token(resolve_identity_token(signing, os.environ))
        _print_signed(signing.instance, token.subject, token.issuer, paths, None)
        return
    signed = sign_artifacts(paths, signing, os.environ)
    first = signed[0] if signed else None
    _print_signed(
        signing.instance,
        first.identity if first else None,
        first.issuer if first else None,
        paths,
        [item.to_dict() for item in signed],
    )


def _print_signed(
    instance: str,
    identity: str | None,
    issuer: str | None,
    paths: list[Path],
    signed: list[dict[str, str | None]] | None,
) -> None:
    """What was signed (``signed``), or what a dry run would sign (``signed`` None)."""
    options = current_options()
    if signed is None:
        if options.json:
            print_json(
                {
                    "dry_run": True,
                    "instance": instance,
                    "identity": identity,
                    "issuer": issuer,
                    "artifacts": [str(path) for path in paths],
                }
            )
        else:
            print_text(
                f"Would sign {len(paths)} file(s) with {instance} as {identity} ({issuer}):\n"
                + "\n".join(f"  {_shown(path)}" for path in paths)
            )
        return
    if options.json:
        print_json(
            {"instance": instance, "identity": identity, "issuer": issuer, "artifacts": signed}
        )
        return
    who = f" as {identity} ({issuer})" if signed else ""
    print_table(
        f"Signed {len(signed)} file(s) with {instance}{who}",
        ["artifact", "bundle", "attestation"],
        [
            [
                _shown(Path(str(item["artifact"]))),
                Path(str(item["bundle"])).name,
                Path(str(item["attestation"])).name if item["attestation"] else "-",
            ]
            for item in signed
        ],
    )


@with_global_options
def sign(
    artifacts: ArtifactsArgument = None,
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    trust_config: TrustConfigOption = None,
    staging: StagingOption = None,
    attestations: AttestationsOption = None,
    report_dir: ReportDirOption = None,
    otel: OtelOption = None,
) -> None:
    """Sign built artifacts with Sigstore: a .sigstore.json bundle and a PEP 740 attestation."""
    from poetflow.cli.reporting import finish_command, run_command
    from poetflow.errors import StepFailedError
    from poetflow.pipeline.runner import RunOptions
    from poetflow.pipeline.stages.sign import SignStage
    from poetflow.signing.results import SignReport

    options = current_options()
    section, root, workspace = _section_and_root()
    signing = _options(section, root, trust_config, staging, attestations=attestations)
    paths = _artifacts(workspace, artifacts, all_, package, since)
    if workspace is None:
        _sign_outside_a_monorepo(paths, signing)
        return
    files, others = _by_package(workspace, paths)
    run_options = RunOptions(
        dry_run=options.dry_run, jobs=_SIGN_JOBS, report_dir=report_dir, telemetry_endpoint=otel
    )
    stage = SignStage(signing=signing, files=files, others=others, requested=True)
    selected = [p for p in workspace.packages if p.name in files]
    result, _ctx = run_command("sign", [stage], workspace, selected, run_options)
    outcome = result.outcomes[0]
    report = outcome.report if isinstance(outcome.report, SignReport) else None
    ok = report.ok if report is not None else outcome.status != "failed"
    finish_command("sign", result, workspace, exit_code=0 if ok else 1, options=run_options)
    if report is None:
        if not ok:  # the certificate authority refused, or the engine crashed
            raise StepFailedError(outcome.summary)
        return
    _print_report(report)
    if not report.ok:
        for item in report.packages:
            if not item.ok:
                logger.error("%s: %s, %s", item.name, item.status, item.detail)
        failed = [item.name for item in report.packages if not item.ok]
        raise StepFailedError(
            f"Signing failed for {', '.join(failed)}.",
            hint="Fix the cause shown above and rerun: signing again is harmless.",
        )


def _print_report(report: SignReport) -> None:
    if report.dry_run:
        _print_signed(report.instance, report.identity, report.issuer, list(report.files), None)
    else:
        signed = [item.to_dict() for item in report.signed]
        _print_signed(report.instance, report.identity, report.issuer, list(report.files), signed)


@with_global_options
def verify(
    artifacts: ArtifactsArgument = None,
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    identity: IdentityOption = None,
    issuer: IssuerOption = None,
    trust_config: TrustConfigOption = None,
    staging: StagingOption = None,
    offline: OfflineOption = False,
) -> None:
    """Verify the Sigstore bundles (and PEP 740 attestations) of built artifacts."""
    from poetflow.errors import VerificationFailedError
    from poetflow.signing.verify import verify_artifacts

    options = current_options()
    section, root, workspace = _section_and_root()
    signing = _options(section, root, trust_config, staging, offline=offline)
    expected_identity = identity or section.identity or ""
    expected_issuer = issuer or section.issuer or ""
    paths = _artifacts(workspace, artifacts, all_, package, since)
    results = verify_artifacts(paths, expected_identity, expected_issuer, signing)
    if options.json:
        print_json(
            {
                "instance": signing.instance,
                "identity": expected_identity,
                "issuer": expected_issuer,
                "ok": all(result.ok for result in results),
                "artifacts": [
                    {
                        "artifact": str(result.artifact),
                        "bundle": str(result.bundle) if result.bundle else None,
                        "attestation": str(result.attestation) if result.attestation else None,
                        "status": result.status,
                        "detail": result.detail,
                        "signer": result.identity,
                        "signer_issuer": result.issuer,
                    }
                    for result in results
                ],
            }
        )
    else:
        print_table(
            f"Verified against {signing.instance}: {expected_identity} ({expected_issuer})",
            ["artifact", "status", "detail"],
            [
                [
                    _shown(result.artifact),
                    result.status,
                    result.detail or ("bundle + attestation" if result.attestation else "bundle"),
                ]
                for result in results
            ],
        )
    failed = [result for result in results if not result.ok]
    for result in failed:
        logger.error("%s: %s", result.artifact.name, result.detail)
    if failed:
        raise VerificationFailedError(
            f"{len(failed)} of {len(results)} artifact(s) failed verification: "
            + ", ".join(result.artifact.name for result in failed)
            + ".",
            hint="Do not install or publish them; re-sign only after finding out why.",
        )


def register(app: typer.Typer) -> None:
    app.command("sign", epilog=examples(_SIGN_EXAMPLES))(sign)
    app.command("verify", epilog=examples(_VERIFY_EXAMPLES))(verify)
