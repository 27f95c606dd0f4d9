"""A post-publish reporter: announce what `poetflow publish` released."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

from poetflow.plugins import ReportEvent


class ReleaseAnnouncer:
    """Announces released packages once the publish stage is over.

    ``HELLO_WEBHOOK_URL``: POST ``{"text": ...}`` there (Slack/Mattermost incoming webhooks
    accept it). ``HELLO_OUTBOX``: append one line per released package to this file.
    Dry runs and other stages are ignored.
    """

    name = "hello-announcer"
    api_version = "1.0"

    def report(self, event: ReportEvent) -> None:
        if event.kind != "stage-finished" or event.stage != "publish" or event.dry_run:
            return
        lines = [_line(package) for package in event.data.get("packages", [])]
        lines = [line for line in lines if line]
        if not lines:
            return
        outbox = os.environ.get("HELLO_OUTBOX")
        if outbox:
            with Path(outbox).open("a", encoding="utf-8") as handle:
                handle.write("".join(f"{line}\n" for line in lines))
        webhook = os.environ.get("HELLO_WEBHOOK_URL")
        if webhook:
            body = json.dumps({"text": "\n".join(lines)}).encode()
            request = urllib.request.Request(
                webhook, data=body, headers={"Content-Type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()


def _line(package: dict[str, Any]) -> str | None:
    """One line for a package that has something new on the index."""
    if package.get("status") != "published":
        return None
    files = [item.get("file", "") for item in package.get("files", [])]
    return f"released {package.get('name')} {package.get('version')}: {', '.join(files)}"
