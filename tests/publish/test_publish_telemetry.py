"""Every work command measures itself: build, test and publish send spans and metrics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from index_server import IndexServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "telemetry"))
from otlp_receiver import OtlpReceiver

pytestmark = pytest.mark.slow

POETFLOW = str(Path(sys.executable).with_name("poetflow"))


def _run(root: Path, endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "PIP_CONFIG_FILE": os.devnull,
    }
    return subprocess.run(
        [POETFLOW, *args, "--root", str(root)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _counted(receiver: OtlpReceiver, metric: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for point in receiver.metric_points().get(metric, []):
        attributes = {a.key: a.value.string_value for a in point.attributes}
        name = attributes["poetflow.package.name"]
        counts[name] = counts.get(name, 0) + point.as_int
    return counts


def _run_spans(receiver: OtlpReceiver) -> dict[str, Any]:
    return {span.name: span for span in receiver.spans() if span.name.startswith("RUN ")}


@pytest.mark.usefixtures("local_credentials")
def test_build_test_and_publish_each_send_their_metrics(
    diamond: Path, index_server: IndexServer
) -> None:
    with OtlpReceiver() as receiver:
        built = _run(diamond, receiver.endpoint, "build", "-p", "acme-core")
        assert built.returncode == 0, built.stderr
        assert set(_run_spans(receiver)) == {"RUN poetflow build"}
        assert _counted(receiver, "poetflow.packages.built") == {"acme-core": 1}
        assert "poetflow.artifact.size" in receiver.metric_points()

        tested = _run(diamond, receiver.endpoint, "test", "-p", "acme-core", "--env", "current")
        # The workspace's packages have no tests to run in this interpreter: what counts
        # is that the command measured what it did, whatever the result.
        assert tested.returncode in (0, 1), tested.stderr
        assert "RUN poetflow test" in _run_spans(receiver)
        stages = {span.name for span in receiver.spans()}
        assert {"build", "test"} <= stages

        published = _run(diamond, receiver.endpoint, "publish", "-r", "local", "-p", "acme-core")
        assert published.returncode == 0, published.stderr
        assert "RUN poetflow publish" in _run_spans(receiver)
        assert _counted(receiver, "poetflow.packages.published") == {"acme-core": 1}
    assert sorted(index_server.files()) == sorted(
        path.name for path in (diamond / "packages" / "acme-core" / "dist").iterdir()
        if path.name.endswith((".whl", ".tar.gz"))
    )  # fmt: skip
