"""Rendering the dependency graph as JSON, Mermaid or Graphviz dot."""

from __future__ import annotations

from typing import Any, Literal

from poetflow.graph import ALL_EDGES, DependencyGraph

__all__ = ["GraphFormat", "graph_as_dict", "render_graph"]

GraphFormat = Literal["json", "mermaid", "dot", "text"]


def graph_as_dict(graph: DependencyGraph) -> dict[str, Any]:
    """The JSON shape: order (non-strict), edges and runtime cycles."""
    return {
        "order": graph.order(strict=False),
        "edges": [
            {"from": edge.source, "to": edge.target, "kind": edge.kind} for edge in graph.edges
        ],
        "cycles": graph.cycles(),
        "dev_cycles": [c for c in graph.cycles(ALL_EDGES) if c not in graph.cycles()],
    }


def _mermaid_id(name: str) -> str:
    return "n_" + "".join(ch if ch.isalnum() else "_" for ch in name)


def _mermaid(graph: DependencyGraph) -> str:
    lines = ["graph TD"]
    for node in graph.order(strict=False):
        lines.append(f'    {_mermaid_id(node)}["{node}"]')
    for edge in graph.edges:
        arrow = "-->" if edge.kind == "runtime" else "-.->|dev|"
        lines.append(f"    {_mermaid_id(edge.source)} {arrow} {_mermaid_id(edge.target)}")
    return "\n".join(lines) + "\n"


def _dot(graph: DependencyGraph) -> str:
    lines = ["digraph poetflow {", "    rankdir=LR;"]
    for node in graph.order(strict=False):
        lines.append(f'    "{node}";')
    for edge in graph.edges:
        style = "" if edge.kind == "runtime" else ' [style=dashed, label="dev"]'
        lines.append(f'    "{edge.source}" -> "{edge.target}"{style};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _text(graph: DependencyGraph) -> str:
    lines = []
    cycles = graph.cycles()
    for number, node in enumerate(graph.order(strict=False), start=1):
        runtime = graph.dependencies_of(node)
        dev = [d for d in graph.dependencies_of(node, ALL_EDGES) if d not in runtime]
        detail = ", ".join(runtime) if runtime else "-"
        if dev:
            detail += f"  (dev: {', '.join(dev)})"
        lines.append(f"{number:>3}. {node} <- {detail}")
    for cycle in cycles:
        lines.append("cycle: " + ", ".join(cycle))
    return "\n".join(lines) + "\n"


def render_graph(graph: DependencyGraph, fmt: GraphFormat) -> str:
    if fmt == "json":
        import json

        return json.dumps(graph_as_dict(graph), indent=2) + "\n"
    if fmt == "mermaid":
        return _mermaid(graph)
    if fmt == "dot":
        return _dot(graph)
    return _text(graph)
