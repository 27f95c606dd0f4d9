"""Telemetry: spans and metrics reach a real OTLP/HTTP receiver; off means not even imported."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from otlp_receiver import OtlpReceiver

from poetflow.telemetry import Telemetry


def _attributes(item: Any) -> dict[str, Any]:
    values = {}
    for attribute in item.attributes:
        value = attribute.value
        values[attribute.key] = getattr(value, value.WhichOneof("value"))
    return values


def _pipeline(telemetry: Telemetry) -> None:
    with telemetry.stage("test"):
        for package in ("acme-core", "acme-http"):
            with telemetry.stage("test", package=package):
                telemetry.record_tested(package)
    with telemetry.stage("build"), telemetry.stage("build", package="acme-core"):
        telemetry.record_built("acme-core")
        telemetry.record_artifact("acme-core", 2048)
        telemetry.record_artifact("acme-core", 1024)
    with telemetry.stage("publish"), telemetry.stage("publish", package="acme-core") as span:
        telemetry.record_retry("publish", "acme-core")
        span.set_result("failure")


def test_spans_and_metrics_arrive_at_the_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=ci")
        telemetry = Telemetry.start(pipeline="poetflow run")
        assert telemetry.enabled
        _pipeline(telemetry)
        assert telemetry.shutdown(result="failure") is True

    assert receiver.content_types == {"application/x-protobuf"}
    resource = receiver.resource_attributes()
    assert resource["service.name"] == "poetflow"
    assert resource["deployment.environment"] == "ci"

    spans = {span.name: span for span in receiver.spans()}
    assert set(spans) == {
        "RUN poetflow run",
        "test",
        "test acme-core",
        "test acme-http",
        "build",
        "build acme-core",
        "publish",
        "publish acme-core",
    }
    run = spans["RUN poetflow run"]
    assert _attributes(run)["cicd.pipeline.result"] == "failure"
    assert spans["test"].parent_span_id == run.span_id
    assert spans["test acme-core"].parent_span_id == spans["test"].span_id
    assert {span.trace_id for span in spans.values()} == {run.trace_id}
    failed = _attributes(spans["publish acme-core"])
    assert failed["cicd.pipeline.task.run.result"] == "failure"
    assert failed["cicd.pipeline.task.type"] == "deploy"
    assert failed["poetflow.package.name"] == "acme-core"
    assert _attributes(spans["build"])["cicd.pipeline.task.run.result"] == "success"

    points = receiver.metric_points()
    assert {
        "cicd.pipeline.run.duration",
        "poetflow.stage.duration",
        "poetflow.package.duration",
        "poetflow.packages.tested",
        "poetflow.packages.built",
        "poetflow.artifact.size",
        "poetflow.retries",
    } <= set(points)
    assert sum(point.as_int for point in points["poetflow.packages.tested"]) == 2
    assert sum(point.as_int for point in points["poetflow.artifact.size"]) == 3072
    stage_counts = {
        _attributes(point)["cicd.pipeline.task.name"]: point.count
        for point in points["poetflow.stage.duration"]
    }
    assert stage_counts == {"test": 1, "build": 1, "publish": 1}
    package_points = points["poetflow.package.duration"]
    assert sum(point.count for point in package_points) == 4


def test_a_dead_collector_costs_at_most_two_seconds_and_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
    telemetry = Telemetry.start()
    _pipeline(telemetry)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="poetflow.telemetry"):
        delivered = telemetry.shutdown()
    elapsed = time.monotonic() - started
    assert delivered is False
    assert elapsed < 2.5, f"shutdown took {elapsed:.2f}s"
    assert "Telemetry was not delivered" in caplog.text
    assert "the run itself is unaffected" in caplog.text


def test_a_collector_that_never_answers_is_cut_off() -> None:
    with socket.socket() as silent:  # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        telemetry = Telemetry.start(endpoint=endpoint, env={})
        assert telemetry.enabled  # --otel alone switches it on
        _pipeline(telemetry)
        started = time.monotonic()
        assert telemetry.shutdown() is False
        assert time.monotonic() - started < 2.5


def test_off_without_an_endpoint_and_opentelemetry_is_not_imported() -> None:
    code = (
        "import sys, poetflow.telemetry as t\n"
        "tel = t.Telemetry.start()\n"
        "with tel.stage('build', package='x') as span: span.set_result('failure')\n"
        "tel.record_built('x'); assert tel.shutdown()\n"
        "assert not tel.enabled\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')]\n"
        "import poetflow.cli.app\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')]\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


def test_otel_sdk_disabled_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not Telemetry.start().enabled
