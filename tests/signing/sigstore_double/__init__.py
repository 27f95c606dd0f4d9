"""A local Sigstore instance for tests: OIDC issuer, Fulcio-like CA with CT log, Rekor-like log.

``SigstoreDouble.start(directory)`` runs all three on 127.0.0.1 (random ports) and writes
``trust_config.json``, the ClientTrustConfig an unmodified sigstore client signs and verifies
with. Built on ``cryptography`` and the standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .ca import CertificateAuthority
from .ctlog import CtLog
from .github import GitHubOidcEndpoint
from .oidc import OidcIssuer
from .tlog import TransparencyLog
from .trust import client_trust_config

__all__ = ["WORKFLOW_IDENTITY", "GitHubOidcEndpoint", "SigstoreDouble"]

# The identity the tests sign as: a GitHub Actions release workflow, as Fulcio certifies it.
WORKFLOW_IDENTITY = "https://github.com/acme/demo/.github/workflows/release.yml@refs/heads/main"


@dataclass
class SigstoreDouble:
    issuer: OidcIssuer
    ca: CertificateAuthority
    tlog: TransparencyLog
    trust_config: Path

    @classmethod
    def start(cls, directory: Path) -> SigstoreDouble:
        issuer = OidcIssuer()
        ctlog = CtLog()
        ca = CertificateAuthority([issuer.url], ctlog)
        tlog = TransparencyLog()
        config = client_trust_config(
            ca_url=ca.url,
            root=ca.root,
            tlog_url=tlog.url,
            tlog_key=tlog.key.public_key(),
            tlog_id=tlog.log_id,
            ct_url=f"{ca.url}/ct",
            ct_key=ctlog.key.public_key(),
            ct_id=ctlog.log_id,
            oidc_url=issuer.url,
        )
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "trust_config.json"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return cls(issuer=issuer, ca=ca, tlog=tlog, trust_config=path)

    def stop(self) -> None:
        for service in (self.issuer, self.ca, self.tlog):
            service.stop()
