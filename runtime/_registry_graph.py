"""Whole-registry rules: references, dependency cycles, workflow type names.

See registry.md §3, §6, §7.1 and §10 rules 6, 8 and 9.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from ._errors import Problem
from ._registry_checks import PendingRef, did_you_mean
from ._registry_model import SERVICE_KINDS, Entry, LuaEntry, join_kinds

__all__ = ["check_cycles", "check_references", "check_workflow_names"]


def _problem(ref: PendingRef, message: str) -> Problem:
    return Problem(
        file=ref.file,
        line=ref.line,
        entry=ref.entry,
        kind=ref.kind,
        field=ref.field,
        message=message,
    )


def _reference_hint(ref: PendingRef, known: Mapping[str, str]) -> str:
    """A "did you mean" for an unknown reference: a close ID, or the same name elsewhere."""
    wanted = [entry_id for entry_id, kind in known.items() if kind in ref.kinds]
    hint = did_you_mean(ref.target, wanted) or did_you_mean(ref.target, known)
    if hint:
        return hint
    name = ref.target.partition(":")[2]
    for entry_id in wanted:
        if entry_id.partition(":")[2] == name:
            return f' (did you mean "{entry_id}"?)'
    return ""


def check_references(refs: Sequence[PendingRef], known: Mapping[str, str]) -> list[Problem]:
    """Checks that every reference names an existing entry of an accepted kind.

    Args:
        refs: the references recorded while validating entries.
        known: entry ID -> kind, for every entry defined (valid or not).

    Returns:
        One problem per bad reference.
    """
    problems = []
    for ref in refs:
        kind = known.get(ref.target)
        if kind is None:
            hint = _reference_hint(ref, known)
            problems.append(_problem(ref, f'"{ref.target}" does not exist{hint}'))
        elif kind not in ref.kinds:
            template = ref.hints.get(kind)
            if template is None:
                message = f'"{ref.target}" is a {kind}, expected {join_kinds(ref.kinds)}'
            else:
                message = template.format(target=ref.target, kind=kind)
            problems.append(_problem(ref, message))
    return problems


def _strongly_connected(
    order: Sequence[str], edges: Mapping[str, Sequence[str]]
) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components come out in reverse topological order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for start in order:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, pos = work.pop()
            if pos == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = edges.get(node, ())
            if pos < len(successors):
                work.append((node, pos + 1))
                nxt = successors[pos]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _shortest_cycle(start: str, members: set[str], edges: Mapping[str, Sequence[str]]) -> list[str]:
    """The shortest path ``start -> ... -> start`` inside one component."""
    parents: dict[str, str] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        following = []
        for node in frontier:
            for nxt in edges.get(node, ()):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if nxt in members and nxt not in seen:
                    seen.add(nxt)
                    parents[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError("a strongly connected component has a cycle")  # pragma: no cover


def check_cycles(
    refs: Sequence[PendingRef], known: Mapping[str, str], order: Sequence[str]
) -> list[Problem]:
    """Finds dependency cycles through explicit and implicit service edges (registry.md §6).

    A ``process.supervisor`` child that is a supervisor is an edge too; a cycle made only of
    such edges is reported as a supervisor nesting cycle.

    Args:
        refs: the references recorded while validating entries.
        known: entry ID -> kind.
        order: entry IDs in load order (cycles are reported from their first member).

    Returns:
        One problem per cycle, naming it (``app:a -> app:b -> app:a``).
    """
    edges: dict[str, list[str]] = {}
    first_ref: dict[tuple[str, str], PendingRef] = {}
    for ref in refs:
        if not ref.edge or known.get(ref.target) not in SERVICE_KINDS:
            continue
        if known.get(ref.entry) not in SERVICE_KINDS:
            continue
        targets = edges.setdefault(ref.entry, [])
        if ref.target not in targets:
            targets.append(ref.target)
            first_ref[(ref.entry, ref.target)] = ref
    rank = {entry_id: i for i, entry_id in enumerate(order)}
    problems = []
    for component in _strongly_connected([i for i in order if i in edges], edges):
        start = min(component, key=lambda i: rank.get(i, len(rank)))
        if len(component) == 1 and start not in edges.get(start, ()):
            continue
        cycle = _shortest_cycle(start, set(component), edges)
        ref = first_ref[(cycle[0], cycle[1])]
        nesting = all(
            first_ref[pair].field.endswith(".supervisor") for pair in itertools.pairwise(cycle)
        )
        label = "supervisor nesting cycle: " if nesting else "dependency cycle: "
        problems.append(_problem(ref, label + " -> ".join(cycle)))
    return problems


def check_workflow_names(entries: Sequence[Entry]) -> list[Problem]:
    """Finds two workflow types with the same name on one worker (registry.md §7.1).

    Args:
        entries: the valid entries, in load order.

    Returns:
        One problem per clashing entry after the first.
    """
    seen: dict[tuple[str, str], Entry] = {}
    problems = []
    for entry in entries:
        if not isinstance(entry, LuaEntry) or entry.kind != "workflow.lua":
            continue
        if entry.workflow_worker is None:
            continue
        type_name = entry.workflow_name or entry.id
        key = (entry.workflow_worker, type_name)
        other = seen.setdefault(key, entry)
        if other is entry:
            continue
        where = other.file if other.line is None else f"{other.file}:{other.line}"
        field = "name" if entry.workflow_name else "worker"
        problems.append(
            Problem(
                file=entry.file,
                line=entry.line,
                entry=entry.id,
                kind=entry.kind,
                field=f"meta.temporal.workflow.{field}",
                message=(
                    f'workflow type "{type_name}" is already registered on '
                    f"{entry.workflow_worker} by {other.id} ({where})"
                ),
            )
        )
    return problems
