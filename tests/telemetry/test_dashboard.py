"""docs/grafana's dashboard queries exactly the metrics PoetFlow sends (a real OTLP receiver)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from otlp_receiver import OtlpReceiver

from poetflow.telemetry import Telemetry

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "poetflow-dashboard.json"
# The unit suffixes of the OTLP -> Prometheus translation (Collector and Prometheus alike).
_UNITS = {"s": "seconds", "By": "bytes", "ms": "milliseconds"}
# PromQL words that are not series names.
_PROMQL = {
    "sum", "by", "rate", "increase", "histogram_quantile", "topk", "le", "without", "avg",
    "max", "min", "count",
}  # fmt: skip


def _prometheus(name: str, unit: str, kind: str) -> str:
    base = name.replace(".", "_")
    suffix = _UNITS.get(unit, "")  # "{package}"-style annotations are dropped
    if suffix and not base.endswith(suffix):
        base += f"_{suffix}"
    return base + "_total" if kind == "sum" else base


def _sent(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, set[str]], set[str]]:
    """Every series a run sends: Prometheus name -> its histogram/counter series names,
    and every attribute key (as a Prometheus label)."""
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        telemetry = Telemetry.start(pipeline="poetflow run")
        with telemetry.stage("build"), telemetry.stage("build", package="acme-core"):
            telemetry.record_tested("acme-core")
            telemetry.record_built("acme-core")
            telemetry.record_artifact("acme-core", 1024)
        with telemetry.stage("publish"), telemetry.stage("publish", package="acme-core"):
            telemetry.record_retry("publish", "acme-core")
            telemetry.record_published("acme-core")
        assert telemetry.shutdown() is True
    series: dict[str, set[str]] = {}
    labels: set[str] = set()
    for request in receiver.metrics:
        for resource in request.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    kind = metric.WhichOneof("data")
                    name = _prometheus(metric.name, metric.unit, kind)
                    if kind == "histogram":
                        series[name] = {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
                    else:
                        series[name] = {name}
                    for point in getattr(metric, kind).data_points:
                        labels |= {a.key.replace(".", "_") for a in point.attributes}
    return series, labels


def _exprs(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", ())]
    exprs += [v["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return exprs


def test_the_dashboard_matches_the_metrics_poetflow_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    series, labels = _sent(monkeypatch)
    assert len(series) == 8  # every instrument of poetflow.telemetry reached the receiver
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    known = set().union(*series.values())
    used: set[str] = set()
    for expr in _exprs(dashboard):
        without_strings = re.sub(r'"[^"]*"', '""', expr)
        names = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*[{\[]", without_strings))
        names |= set(re.findall(r"label_values\(([a-z0-9_]+)", without_strings))
        metrics = {n for n in names - _PROMQL if n.startswith(("poetflow_", "cicd_pipeline_run"))}
        assert metrics, f"no PoetFlow series in {expr}"
        unknown = metrics - known
        assert not unknown, f"{expr}: PoetFlow sends no {sorted(unknown)}"
        used |= metrics
        grouped = re.findall(r"by \(([^)]*)\)", without_strings)
        matched = re.findall(r"([a-z_]+)\s*=~?", without_strings)
        by = [name.strip() for group in grouped for name in group.split(",")]
        for label in [*by, *matched]:
            assert label == "le" or label in labels, f"{expr}: no attribute {label}"
    unused = [name for name, names in series.items() if not names & used]
    assert not unused, f"metrics without a panel: {unused}"


def test_every_panel_has_a_title_a_unit_and_the_data_source_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "poetflow-releases"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["title"]
        assert panel["fieldConfig"]["defaults"]["unit"]
        assert panel["datasource"]["uid"] == "${datasource}"
