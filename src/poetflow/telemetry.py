"""OpenTelemetry metrics and traces of a run; the one module that imports opentelemetry.

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or a signal-specific endpoint) is set or an
endpoint is passed (``--otel``): then exported with OTLP/HTTP and configured by the
standard ``OTEL_*`` variables. Names follow the OpenTelemetry CI/CD semantic conventions
where they apply (``cicd.pipeline.*``); PoetFlow's own measurements are ``poetflow.*``.
Telemetry never fails a release: a dead collector costs at most ~2 s and one warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any, Literal

__all__ = ["SHUTDOWN_BUDGET", "StageSpan", "TaskResult", "Telemetry", "telemetry_enabled"]

logger = logging.getLogger(__name__)

# cicd.pipeline.task.run.result values from the semantic conventions.
TaskResult = Literal["success", "failure", "error", "timeout", "cancellation", "skip"]
SHUTDOWN_BUDGET = 2.0  # seconds the final export may take before PoetFlow moves on
_EXPORT_TIMEOUT = 0.8  # per export request, so that traces + metrics fit in the budget
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
)
_STAGE_TASK_TYPES = {"test": "test", "build": "build", "publish": "deploy"}


def telemetry_enabled(env: Mapping[str, str], endpoint: str | None = None) -> bool:
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(endpoint) or any(env.get(name) for name in _ENDPOINT_VARIABLES)


class StageSpan:
    """A stage (or a stage of one package) in progress; set its result before it ends."""

    def __init__(self, span: Any = None) -> None:
        self._span = span
        self.result: TaskResult | None = None

    def set_result(self, result: TaskResult) -> None:
        self.result = result

    def set_attribute(self, key: str, value: str | int | float | bool) -> None:
        if self._span is not None:
            self._span.set_attribute(key, value)


class Telemetry:
    """The telemetry of one run. This base class is the no-op used when telemetry is off.

    Usage::

        telemetry = Telemetry.start(pipeline="poetflow run")
        with telemetry.stage("build"):
            with telemetry.stage("build", package="acme-core") as span:
                ...
                telemetry.record_built("acme-core")
        telemetry.shutdown(result="success")
    """

    enabled = False

    @staticmethod
    def start(
        *,
        pipeline: str = "poetflow",
        endpoint: str | None = None,
        env: Mapping[str, str] | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> Telemetry:
        """Telemetry for one run: real when an endpoint is configured, else the no-op."""
        env = os.environ if env is None else env
        if not telemetry_enabled(env, endpoint):
            return Telemetry()
        try:
            return _OtelTelemetry(pipeline, endpoint, env, dict(attributes or {}))
        except Exception as exc:  # a broken OTel install must not stop a release
            logger.warning("Telemetry is off: OpenTelemetry could not start (%s).", exc)
            return Telemetry()

    @contextlib.contextmanager
    def stage(self, name: str, package: str | None = None) -> Iterator[StageSpan]:
        yield StageSpan()

    def record_tested(self, package: str, count: int = 1) -> None:
        """A package's tests ran."""

    def record_built(self, package: str, count: int = 1) -> None:
        """A package was built."""

    def record_published(self, package: str, count: int = 1) -> None:
        """A package was uploaded."""

    def record_artifact(self, package: str, size: int) -> None:
        """A built artifact of ``size`` bytes."""

    def record_retry(self, stage: str, package: str | None = None) -> None:
        """A request or step was retried."""

    def shutdown(self, result: TaskResult = "success") -> bool:
        """End the run: export what is left. False when the collector did not take it."""
        return True


class _OtelTelemetry(Telemetry):
    enabled = True

    def __init__(
        self,
        pipeline: str,
        endpoint: str | None,
        env: Mapping[str, str],
        attributes: dict[str, str],
    ) -> None:
        from opentelemetry import trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from poetflow import __version__

        # The exporters log every failed attempt with a traceback; one warning at the end
        # says it better.
        logging.getLogger("opentelemetry.exporter.otlp").setLevel(logging.CRITICAL)
        self._failures: list[str] = []
        self._lock = threading.Lock()
        self._endpoint = endpoint or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "(per signal)"
        # Resource.create merges OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES over these.
        resource = Resource.create(
            {"service.name": "poetflow", "service.version": __version__, **attributes}
        )
        span_exporter, metric_exporter = _exporters(endpoint, env, self._failures)
        self._tracer_provider = TracerProvider(resource=resource)
        self._tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
        # Exported once, at shutdown (a run is short); the interval only guards long runs.
        reader = PeriodicExportingMetricReader(metric_exporter, export_interval_millis=60_000)
        self._meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
        self._tracer = self._tracer_provider.get_tracer("poetflow", __version__)
        meter = self._meter_provider.get_meter("poetflow", __version__)
        buckets = list(_DURATION_BUCKETS)
        self._run_duration = meter.create_histogram(
            "cicd.pipeline.run.duration", "s", "Duration of a PoetFlow run.",
            explicit_bucket_boundaries_advisory=buckets,
        )  # fmt: skip
        self._stage_duration = meter.create_histogram(
            "poetflow.stage.duration", "s", "Duration of a pipeline stage.",
            explicit_bucket_boundaries_advisory=buckets,
        )  # fmt: skip
        self._package_duration = meter.create_histogram(
            "poetflow.package.duration", "s", "Duration of one stage for one package.",
            explicit_bucket_boundaries_advisory=buckets,
        )  # fmt: skip
        self._tested = meter.create_counter("poetflow.packages.tested", "{package}")
        self._built = meter.create_counter("poetflow.packages.built", "{package}")
        self._published = meter.create_counter("poetflow.packages.published", "{package}")
        self._artifact_bytes = meter.create_counter(
            "poetflow.artifact.size", "By", "Bytes of built artifacts."
        )
        self._retries = meter.create_counter("poetflow.retries", "{retry}", "Retried requests.")
        self._pipeline = pipeline
        self._base = {"cicd.pipeline.name": pipeline}
        self._started = time.monotonic()
        self._run_span = self._tracer.start_span(
            f"RUN {pipeline}",
            kind=trace.SpanKind.SERVER,
            attributes={**self._base, "cicd.pipeline.action.name": "RUN"},
        )
        self._stage_spans: dict[str, Any] = {}
        self._closed = False

    @contextlib.contextmanager
    def stage(self, name: str, package: str | None = None) -> Iterator[StageSpan]:
        from opentelemetry import trace

        # Packages run on worker threads, where the current context is empty: the parent
        # is the open span of the stage, else the run.
        with self._lock:
            parent_span = self._stage_spans.get(name) if package else None
        parent = trace.set_span_in_context(parent_span or self._run_span)
        attributes: dict[str, str] = {**self._base, "cicd.pipeline.task.name": name}
        if name in _STAGE_TASK_TYPES:
            attributes["cicd.pipeline.task.type"] = _STAGE_TASK_TYPES[name]
        if package:
            attributes["poetflow.package.name"] = package
        span = self._tracer.start_span(
            f"{name} {package}" if package else name, context=parent, attributes=attributes
        )
        if not package:
            with self._lock:
                self._stage_spans[name] = span
        handle = StageSpan(span)
        started = time.monotonic()
        try:
            yield handle
        except BaseException as exc:
            handle.result = handle.result or "error"
            span.record_exception(exc)
            raise
        finally:
            result = handle.result or "success"
            span.set_attribute("cicd.pipeline.task.run.result", result)
            if result in ("failure", "error", "timeout"):
                span.set_status(trace.Status(trace.StatusCode.ERROR))
            span.end()
            if not package:
                with self._lock:
                    self._stage_spans.pop(name, None)
            measured = {
                "cicd.pipeline.task.name": name,
                "cicd.pipeline.task.run.result": result,
                **self._base,
            }
            if package:
                measured["poetflow.package.name"] = package
                self._package_duration.record(time.monotonic() - started, measured)
            else:
                self._stage_duration.record(time.monotonic() - started, measured)

    def record_tested(self, package: str, count: int = 1) -> None:
        self._tested.add(count, {**self._base, "poetflow.package.name": package})

    def record_built(self, package: str, count: int = 1) -> None:
        self._built.add(count, {**self._base, "poetflow.package.name": package})

    def record_published(self, package: str, count: int = 1) -> None:
        self._published.add(count, {**self._base, "poetflow.package.name": package})

    def record_artifact(self, package: str, size: int) -> None:
        self._artifact_bytes.add(size, {**self._base, "poetflow.package.name": package})

    def record_retry(self, stage: str, package: str | None = None) -> None:
        attributes = {**self._base, "cicd.pipeline.task.name": stage}
        if package:
            attributes["poetflow.package.name"] = package
        self._retries.add(1, attributes)

    def shutdown(self, result: TaskResult = "success") -> bool:
        if self._closed:
            return True
        self._closed = True
        from opentelemetry import trace

        self._run_span.set_attribute("cicd.pipeline.result", result)
        if result != "success":
            self._run_span.set_status(trace.Status(trace.StatusCode.ERROR))
        self._run_span.end()
        self._run_duration.record(
            time.monotonic() - self._started, {**self._base, "cicd.pipeline.result": result}
        )
        # Export on a daemon thread with a hard budget: a collector that accepts the
        # connection and never answers cannot hold the release up either.
        worker = threading.Thread(target=self._export, name="poetflow-telemetry", daemon=True)
        worker.start()
        worker.join(SHUTDOWN_BUDGET)
        if worker.is_alive():
            self._failures.append(f"no answer within {SHUTDOWN_BUDGET:.0f} s")
        if self._failures:
            logger.warning(
                "Telemetry was not delivered to %s (%s); the run itself is unaffected.",
                self._endpoint,
                self._failures[0],
            )
            return False
        return True

    def _export(self) -> None:
        try:
            self._tracer_provider.shutdown()
            self._meter_provider.shutdown(timeout_millis=SHUTDOWN_BUDGET * 1000)
        except Exception as exc:
            self._failures.append(f"{type(exc).__name__}: {exc}")


def _exporters(
    endpoint: str | None, env: Mapping[str, str], failures: list[str]
) -> tuple[Any, Any]:
    """OTLP/HTTP exporters that note failures instead of logging tracebacks."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    # Explicit timeouts only when the user set none: OTEL_EXPORTER_OTLP_*TIMEOUT wins.
    has_timeout = any(
        key.startswith("OTEL_EXPORTER_OTLP") and key.endswith("TIMEOUT") for key in env
    )
    timeout = None if has_timeout else _EXPORT_TIMEOUT
    base = endpoint.rstrip("/") if endpoint else None
    spans = OTLPSpanExporter(endpoint=f"{base}/v1/traces" if base else None, timeout=timeout)
    metrics = OTLPMetricExporter(endpoint=f"{base}/v1/metrics" if base else None, timeout=timeout)

    class _Spans(SpanExporter):
        def export(self, batch: Any) -> Any:
            try:
                outcome = spans.export(batch)
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                return SpanExportResult.FAILURE
            if outcome != SpanExportResult.SUCCESS:
                failures.append("the trace export failed")
            return outcome

        def shutdown(self) -> None:
            spans.shutdown()  # type: ignore[no-untyped-call]

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    class _Metrics(MetricExporter):
        def __init__(self) -> None:
            super().__init__(
                preferred_temporality=metrics._preferred_temporality,
                preferred_aggregation=metrics._preferred_aggregation,
            )

        def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> Any:
            try:
                outcome = metrics.export(metrics_data, timeout_millis=timeout_millis)
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                return MetricExportResult.FAILURE
            if outcome != MetricExportResult.SUCCESS:
                failures.append("the metrics export failed")
            return outcome

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            return True

        def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
            metrics.shutdown()

    return _Spans(), _Metrics()
