"""The sign engine: the selected packages' files signed with one certificate, in order.

Used by ``poetflow sign``, the pipeline's sign stage and ``publish --sign``. Bad input (no
identity token, a bad trust configuration, a missing file, a hook whose program is
missing) stops it before anything is signed or any hook runs. Then every package's
pre-sign hooks run, one certificate is requested, the packages are signed dependencies
first (``jobs`` at a time: each file is a round trip to the transparency log), and the
post-sign hooks run for each package that was signed. A package that fails to sign blocks
its dependents, which are then not signed (nor published) either.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from poetflow.errors import PoetFlowError
from poetflow.hooks.stage import StageHooks
from poetflow.scheduler import Scheduler
from poetflow.signing.options import SigningOptions
from poetflow.signing.results import PackageSigning, SignReport
from poetflow.signing.sign import SigningSession, check_signable, signing_session
from poetflow.signing.tokens import describe_token, resolve_identity_token
from poetflow.signing.trust import load_trust
from poetflow.workspace import Package, Workspace

__all__ = ["sign_packages"]

logger = logging.getLogger("poetflow.signing")


def sign_packages(
    workspace: Workspace,
    files: Mapping[str, Sequence[Path]],
    options: SigningOptions,
    *,
    others: Sequence[Path] = (),
    dry_run: bool = False,
    jobs: int = 4,
    environ: Mapping[str, str] | None = None,
) -> SignReport:
    """Sign ``files`` (package name -> its files) and ``others`` (files of no package).

    Packages with no files are left out; with nothing at all to sign nothing is checked
    (no identity token is needed to sign nothing). A dry run checks everything a real run checks
    first (the identity token included) and signs nothing. A failure at the CA before
    any file is signed raises :class:`~poetflow.errors.SigningError` (exit 1); a failure
    signing one package's files is in the report (``report.ok`` is False).
    """
    started = time.monotonic()
    env = os.environ if environ is None else environ
    wanted = {name for name, paths in files.items() if paths}
    order = workspace.graph.order(sorted(wanted))
    packages = [workspace.by_name[name] for name in order]
    paths = {name: tuple(files[name]) for name in order}
    if not order and not others:
        return SignReport(options.instance, None, None, (), dry_run=dry_run)
    if not dry_run:
        check_signable([*(path for name in order for path in paths[name]), *others])
    # Hooks are checked (a missing program is exit 2) before anything runs.
    hooks = StageHooks(workspace, "sign", packages, dry_run=dry_run)
    token = resolve_identity_token(options, env)
    claims = describe_token(token)
    if dry_run:
        report = hooks.run_together(
            packages,
            lambda: SignReport(
                options.instance,
                claims.subject,
                claims.issuer,
                tuple(_would_sign(package, paths[package.name]) for package in packages),
                other_files=tuple(others),
                dry_run=True,
                duration=time.monotonic() - started,
            ),
            artifacts=paths,
        )
        hooks.finish(report, report.ok)
        return report
    trust = load_trust(options, for_signing=True)

    def sign_all() -> SignReport:
        with signing_session(options, env, token=token, trust=trust) as session:
            scheduler: Scheduler[PackageSigning] = Scheduler(
                order,
                {name: workspace.graph.dependencies_of(name) for name in order},
                jobs=jobs,
                name="poetflow-sign",
            )
            results = scheduler.run(
                lambda name: _sign_package(session, workspace.by_name[name], paths[name]),
                is_failure=lambda result: not result.ok,
                blocked=lambda name, by: _blocked(workspace.by_name[name], paths[name], by),
            )
            signed_others = tuple(session.sign(path) for path in others)
        signed = [item for result in results.values() for item in result.signed]
        signed += signed_others
        first = signed[0] if signed else None
        return SignReport(
            options.instance,
            first.identity if first else claims.subject,
            first.issuer if first else claims.issuer,
            tuple(results[name] for name in order),
            other_files=tuple(others),
            others=signed_others,
            duration=time.monotonic() - started,
        )

    report = hooks.run_together(
        packages,
        sign_all,
        artifacts=paths,
        succeeded=lambda done, name: bool((found := done.get(name)) and found.ok),
    )
    hooks.finish(report, report.ok)
    return report


def _would_sign(package: Package, paths: Sequence[Path]) -> PackageSigning:
    return PackageSigning(package.name, package.version or "", "would sign", tuple(paths))


def _sign_package(
    session: SigningSession, package: Package, paths: Sequence[Path]
) -> PackageSigning:
    """Sign one package's files; a failure is the package's result, not an exception."""
    started = time.monotonic()
    signed = []
    try:
        for path in paths:
            signed.append(session.sign(path))
    except PoetFlowError as exc:
        detail = str(exc)
    except Exception as exc:  # one package's crash must not take the others down
        logger.debug("signing %s crashed", package.name, exc_info=True)
        detail = f"unexpected {type(exc).__name__}: {exc}"
    else:
        return PackageSigning(
            package.name,
            package.version or "",
            "signed",
            tuple(paths),
            tuple(signed),
            duration=time.monotonic() - started,
        )
    return PackageSigning(
        package.name,
        package.version or "",
        "failed",
        tuple(paths),
        tuple(signed),
        detail,
        time.monotonic() - started,
    )


def _blocked(package: Package, paths: Sequence[Path], by: list[str]) -> PackageSigning:
    detail = f"not signed: its dependency {', '.join(by)} did not sign"
    return PackageSigning(package.name, package.version or "", "blocked", tuple(paths), (), detail)
