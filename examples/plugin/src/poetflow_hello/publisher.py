"""A publisher that copies each package's files into a local folder (an artifact store)."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from poetflow.plugins import PublishedFile, PublishRequest, StoredFile


class FolderStore:
    """``poetflow.publishers``: copy sdists and wheels into ``$POETFLOW_HELLO_STORE/<package>/``.

    ``lookup`` tells PoetFlow what the folder holds: a rerun skips what is stored, and a file
    stored with other content fails the package (bump the version) before anything of it
    is copied, as with a package index. ``publish`` checks again, so it is safe on its own.
    """

    name = "hello-store"
    api_version = "1.1"

    def lookup(self, package: str, options: Mapping[str, Any]) -> Sequence[StoredFile]:
        folder = _folder(options, package)
        if folder is None or not folder.is_dir():
            return []
        return [
            StoredFile(path.name, _digest(path), path.as_uri())
            for path in sorted(folder.iterdir())
            if path.is_file() and not path.name.startswith(".")
        ]

    def publish(self, request: PublishRequest) -> Sequence[PublishedFile]:
        folder = _folder(request.options, request.package)
        if folder is None:
            detail = "set POETFLOW_HELLO_STORE to the folder to publish into"
            return [PublishedFile(path, "failed", detail=detail) for path in request.files]
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
                # Copied under a hidden name first: a half-copied file is never "stored".
                partial = folder / f".{path.name}.partial"
                shutil.copy2(path, partial)
                partial.replace(target)
                answers.append(PublishedFile(path, "uploaded", url))
        return answers


def _folder(options: Mapping[str, Any], package: str) -> Path | None:
    root = os.environ.get("POETFLOW_HELLO_STORE") or options.get("store")
    if not root:
        return None
    return Path(str(root)).expanduser().resolve() / package


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
