"""A publisher that copies each package's files into a local folder (an artifact store)."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from poetflow.plugins import PublishedFile, PublishRequest


class FolderStore:
    """``poetflow.publishers``: copy sdists and wheels into ``$POETFLOW_HELLO_STORE/<package>/``.

    Re-running is safe: a file already stored with the same content is skipped; one stored
    with other content fails (the version must be bumped), like a package index.
    """

    name = "hello-store"
    api_version = "1.0"

    def publish(self, request: PublishRequest) -> Sequence[PublishedFile]:
        root = os.environ.get("POETFLOW_HELLO_STORE") or request.options.get("store")
        if not root:
            detail = "set POETFLOW_HELLO_STORE to the folder to publish into"
            return [PublishedFile(path, "failed", detail=detail) for path in request.files]
        folder = Path(str(root)).expanduser().resolve() / request.package
        answers = []
        for path in request.files:
            target = folder / path.name
            url = target.as_uri()
            if target.exists():
                if _digest(target) == _digest(path):
                    answers.append(PublishedFile(path, "skipped", url, "already stored"))
                else:
                    detail = f"{target} holds other content: bump the version"
                    answers.append(PublishedFile(path, "failed", url, detail))
            elif request.dry_run:
                answers.append(PublishedFile(path, "would upload", url))
            else:
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                answers.append(PublishedFile(path, "uploaded", url))
        return answers


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
