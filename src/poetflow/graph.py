"""The dependency graph between members: topological order, cycles, dependents.

Runtime edges (main dependencies, extras) decide build and publish order; development
edges (groups) are kept apart so the common "A tests against B, B depends on A" shape
never blocks anything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from poetflow.errors import WorkspaceCycleError

if TYPE_CHECKING:
    from poetflow.workspace import Package

__all__ = ["ALL_EDGES", "RUNTIME", "DependencyGraph", "Edge", "EdgeKind"]

EdgeKind = Literal["runtime", "dev"]

RUNTIME: tuple[EdgeKind, ...] = ("runtime",)
ALL_EDGES: tuple[EdgeKind, ...] = ("runtime", "dev")


@dataclass(frozen=True)
class Edge:
    """``source`` depends on ``target``."""

    source: str
    target: str
    kind: EdgeKind


@dataclass(frozen=True)
class DependencyGraph:
    """Members (canonical names, in discovery order) and the edges between them."""

    nodes: tuple[str, ...]
    edges: tuple[Edge, ...]

    @classmethod
    def from_packages(cls, packages: Iterable[Package]) -> DependencyGraph:
        packages = list(packages)
        edges = tuple(
            Edge(package.name, dep.name, dep.kind)
            for package in packages
            for dep in package.dependencies
        )
        return cls(nodes=tuple(package.name for package in packages), edges=edges)

    def dependencies_of(self, name: str, kinds: Collection[EdgeKind] = RUNTIME) -> list[str]:
        return [edge.target for edge in self.edges if edge.source == name and edge.kind in kinds]

    def _adjacency(self, kinds: Collection[EdgeKind]) -> dict[str, list[str]]:
        adjacency: dict[str, list[str]] = {node: [] for node in self.nodes}
        for edge in self.edges:
            if edge.kind in kinds:
                adjacency[edge.source].append(edge.target)
        return adjacency

    def cycles(self, kinds: Collection[EdgeKind] = RUNTIME) -> list[list[str]]:
        """Strongly connected components with more than one member, and packages that
        depend on themselves (a cycle of one), found with Tarjan's algorithm, iteratively."""
        adjacency = self._adjacency(kinds)
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        on_stack: set[str] = set()
        stack: list[str] = []
        components: list[list[str]] = []
        counter = 0
        for start in self.nodes:
            if start in index:
                continue
            work: list[tuple[str, int]] = [(start, 0)]
            while work:
                node, child = work.pop()
                if child == 0:
                    index[node] = low[node] = counter
                    counter += 1
                    stack.append(node)
                    on_stack.add(node)
                successors = adjacency[node]
                if child < len(successors):
                    work.append((node, child + 1))
                    successor = successors[child]
                    if successor not in index:
                        work.append((successor, 0))
                    elif successor in on_stack:
                        low[node] = min(low[node], index[successor])
                    continue
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in adjacency[node]:
                        components.append(sorted(component))
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
        return sorted(components)

    def order(
        self,
        subset: Iterable[str] | None = None,
        *,
        kinds: Collection[EdgeKind] = RUNTIME,
        strict: bool = True,
    ) -> list[str]:
        """Dependencies before dependents; ties keep discovery order.

        With ``strict`` a cycle raises WorkspaceCycleError; otherwise the members of a
        cycle follow the rest in discovery order (good enough for listing).
        """
        levels = self.levels(subset, kinds=kinds, strict=strict)
        return [name for level in levels for name in level]

    def levels(
        self,
        subset: Iterable[str] | None = None,
        *,
        kinds: Collection[EdgeKind] = RUNTIME,
        strict: bool = True,
    ) -> list[list[str]]:
        """Batches that can run in parallel: every package after all its dependencies."""
        wanted = set(self.nodes if subset is None else subset)
        adjacency = self._adjacency(kinds)
        position = {node: i for i, node in enumerate(self.nodes)}
        pending = {
            node: {dep for dep in adjacency[node] if dep in wanted}
            for node in self.nodes
            if node in wanted
        }
        levels: list[list[str]] = []
        while pending:
            ready = [node for node, deps in pending.items() if not deps]
            ready.sort(key=position.__getitem__)
            if not ready:
                if strict:
                    cycles = [c for c in self.cycles(kinds) if set(c) <= wanted]
                    raise WorkspaceCycleError(cycles or [sorted(pending)])
                levels.append(sorted(pending, key=position.__getitem__))
                break
            levels.append(ready)
            for node in ready:
                del pending[node]
            for deps in pending.values():
                deps.difference_update(ready)
        return levels

    def dependents(
        self, names: Iterable[str], *, kinds: Collection[EdgeKind] = RUNTIME
    ) -> set[str]:
        """Every package that depends on any of ``names``, transitively (not ``names``)."""
        reverse: dict[str, list[str]] = {node: [] for node in self.nodes}
        for edge in self.edges:
            if edge.kind in kinds:
                reverse[edge.target].append(edge.source)
        seen: set[str] = set()
        queue: Sequence[str] = list(names)
        while queue:
            nxt: list[str] = []
            for name in queue:
                for dependent in reverse.get(name, ()):
                    if dependent not in seen:
                        seen.add(dependent)
                        nxt.append(dependent)
            queue = nxt
        return seen - set(names)
