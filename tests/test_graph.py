"""Topological order, levels, cycles and dependents of the dependency graph."""

from __future__ import annotations

import pytest

from poetflow.errors import WorkspaceCycleError
from poetflow.graph import DependencyGraph, Edge


def _graph(edges: list[tuple[str, str, str]], nodes: str = "abcd") -> DependencyGraph:
    return DependencyGraph(
        nodes=tuple(nodes),
        edges=tuple(Edge(s, t, k) for s, t, k in edges),  # type: ignore[arg-type]
    )


def test_dependencies_come_first() -> None:
    graph = _graph([("a", "b", "runtime"), ("b", "c", "runtime"), ("d", "c", "runtime")])
    order = graph.order()
    assert order.index("c") < order.index("b") < order.index("a")
    assert order.index("c") < order.index("d")
    assert graph.levels() == [["c"], ["b", "d"], ["a"]]


def test_order_of_a_subset_ignores_outside_edges() -> None:
    graph = _graph([("a", "b", "runtime"), ("b", "c", "runtime")])
    assert graph.order({"a", "c"}) == ["a", "c"]


def test_runtime_cycle_raises_naming_every_member() -> None:
    graph = _graph([("a", "b", "runtime"), ("b", "c", "runtime"), ("c", "a", "runtime")])
    with pytest.raises(WorkspaceCycleError) as info:
        graph.order()
    assert info.value.cycles == [["a", "b", "c"]]
    assert "a, b, c" in info.value.message
    assert info.value.exit_code == 2


def test_non_strict_order_lists_cycle_members_last() -> None:
    graph = _graph([("a", "b", "runtime"), ("b", "a", "runtime"), ("a", "c", "runtime")])
    assert graph.order(strict=False) == ["c", "d", "a", "b"]


def test_dev_edges_never_make_a_runtime_cycle() -> None:
    graph = _graph([("a", "b", "dev"), ("b", "a", "runtime")], nodes="ab")
    assert graph.order() == ["a", "b"]
    assert graph.cycles() == []


def test_dependents_are_transitive_over_runtime_edges() -> None:
    graph = _graph([("a", "b", "runtime"), ("b", "c", "runtime"), ("d", "c", "dev")])
    assert graph.dependents({"c"}) == {"a", "b"}
    assert graph.dependents({"c"}, kinds=("runtime", "dev")) == {"a", "b", "d"}


def test_large_chain_does_not_recurse() -> None:
    count = 5000
    nodes = tuple(f"p{i}" for i in range(count))
    edges = tuple(Edge(nodes[i], nodes[i - 1], "runtime") for i in range(1, count))
    graph = DependencyGraph(nodes=nodes, edges=edges)
    assert graph.cycles() == []
    assert graph.order()[0] == "p0"


def test_a_package_depending_on_itself_is_a_cycle_of_one() -> None:
    # A path dependency on the package's own folder: built, the wheel would require itself.
    graph = _graph([("a", "a", "runtime"), ("b", "a", "runtime")])
    assert graph.cycles() == [["a"]]
    with pytest.raises(WorkspaceCycleError, match="a depends on itself"):
        graph.order(["a", "b"])
    assert graph.order(["b"]) == ["b"]  # a selection without it still has an order
    dev = _graph([("a", "a", "dev")])
    assert dev.cycles() == []
    assert dev.cycles(("runtime", "dev")) == [["a"]]
