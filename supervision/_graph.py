"""The dependency graph of services: validation, start order and closures.

See docs/reference/services.md, "Start order and boot".

The registry loader rejects bad graphs with file and field positions; the checks here repeat
the essentials so that a supervisor built by hand (tests, embedding code) cannot loop forever
on a cycle or wait on a service that does not exist.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ..runtime._errors import InvalidError

__all__ = ["check_graph", "dependency_closure", "topological_order"]


def check_graph(requires: Mapping[str, Sequence[str]]) -> None:
    """Check that every dependency exists and that the graph has no cycle.

    Args:
        requires: for each service ID, the IDs it depends on.

    Raises:
        InvalidError: naming the first unknown dependency, or the first cycle found (as
            ``app:a -> app:b -> app:a``, searching from the lexicographically smallest ID).
    """
    for service_id in sorted(requires):
        for needed in requires[service_id]:
            if needed not in requires:
                raise InvalidError(f"service {service_id} requires unknown service {needed}")
    # Iterative depth-first search with white/grey/black colouring.
    colour: dict[str, int] = dict.fromkeys(requires, 0)
    for root in sorted(requires):
        if colour[root]:
            continue
        path: list[str] = [root]
        stack: list[Iterator[str]] = [iter(sorted(set(requires[root])))]
        colour[root] = 1
        while stack:
            dep = next(stack[-1], None)
            if dep is None:
                colour[path.pop()] = 2
                stack.pop()
                continue
            if colour[dep] == 1:
                cycle = [*path[path.index(dep) :], dep]
                raise InvalidError("dependency cycle: " + " -> ".join(cycle))
            if colour[dep] == 0:
                colour[dep] = 1
                path.append(dep)
                stack.append(iter(sorted(set(requires[dep]))))


def topological_order(requires: Mapping[str, Sequence[str]]) -> list[str]:
    """All service IDs, every dependency before its dependents, ties broken lexicographically.

    Args:
        requires: for each service ID, the IDs it depends on (a valid graph, see
            :func:`check_graph`).

    Returns:
        The IDs in start order.
    """
    missing = {sid: len(set(deps)) for sid, deps in requires.items()}
    dependents: dict[str, list[str]] = {sid: [] for sid in requires}
    for sid, deps in requires.items():
        for dep in set(deps):
            dependents[dep].append(sid)
    ready = [sid for sid, count in missing.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        sid = heapq.heappop(ready)
        order.append(sid)
        for dependent in dependents[sid]:
            missing[dependent] -= 1
            if missing[dependent] == 0:
                heapq.heappush(ready, dependent)
    return order


def dependency_closure(roots: Iterable[str], requires: Mapping[str, Sequence[str]]) -> set[str]:
    """The roots plus, transitively, everything they depend on.

    Args:
        roots: the service IDs to start from.
        requires: for each service ID, the IDs it depends on.

    Returns:
        The set of IDs.
    """
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        sid = todo.pop()
        if sid not in seen:
            seen.add(sid)
            todo.extend(requires[sid])
    return seen
