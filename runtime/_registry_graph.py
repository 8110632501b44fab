"""Whole-registry rules: references, dependency cycles, workflow type names, task queues.

See docs/reference/yaml-kinds.md, "Identifiers and references", "lifecycle", "meta.temporal",
"Errors" rules 6, 8 and 9, and docs/reference/temporal.md, "Clients and workers" (task queues).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from ._errors import Problem
from ._registry_checks import PendingRef, did_you_mean
from ._registry_model import (
    SERVICE_KINDS,
    Entry,
    LuaEntry,
    TemporalWorkerEntry,
    entry_problem,
    join_kinds,
)

__all__ = ["check_cycles", "check_references", "check_task_queues", "check_workflow_names"]


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
    """Finds dependency cycles through explicit and implicit service edges.

    See docs/reference/yaml-kinds.md, "lifecycle".

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
    """Finds two Lua entries that would register one workflow type name.

    See docs/reference/yaml-kinds.md, "meta.temporal".

    Every ``temporal.worker`` registers every ``workflow.lua`` and ``process.lua`` entry of
    the registry (host switching: any worker runs any entry spawned on it), under
    ``meta.temporal.workflow.name`` or else the entry ID. So a type name must be unique in
    the whole registry, not only among the entries that name the same
    ``meta.temporal.workflow.worker`` (the spec's wording): otherwise one of the two
    entries could never run, whichever worker it names. Entry IDs never clash with each
    other, so each clash involves a custom name; it is reported on the entry with the
    custom name (the later one in load order when both have one).

    Args:
        entries: the valid entries, in load order.

    Returns:
        One problem per clashing entry.
    """
    workflows = [
        entry
        for entry in entries
        if isinstance(entry, LuaEntry) and entry.kind in ("workflow.lua", "process.lua")
    ]
    owners: dict[str, LuaEntry] = {e.id: e for e in workflows if not e.workflow_name}
    problems = []
    for entry in workflows:
        type_name = entry.workflow_name
        if not type_name:
            continue
        other = owners.setdefault(type_name, entry)
        if other is entry:
            continue
        problems.append(
            _clash(
                entry,
                other,
                "meta.temporal.workflow.name",
                f'workflow type "{type_name}" is already used by {{other}}; every worker runs '
                "every workflow.lua and process.lua entry, so type names must be unique in "
                "the registry",
            )
        )
    return problems


def _clash(entry: Entry, other: Entry, field: str, message: str) -> Problem:
    """A problem on ``entry`` for ``field``; ``{other}`` in the message names the other entry."""
    where = other.file if other.line is None else f"{other.file}:{other.line}"
    return entry_problem(entry, field, message.replace("{other}", f"{other.id} ({where})"))


def check_task_queues(entries: Sequence[Entry]) -> list[Problem]:
    """Finds two workflow-running workers of one client on one task queue.

    See docs/reference/temporal.md, "Clients and workers".

    Two such workers would take each other's workflow tasks, and a workflow started on
    one would run as a process of the other (with the other's PID). Workers of different
    clients (other servers or namespaces) may use the same queue name, and an activity-only
    worker (``worker_options.disable_workflow_worker``) may share a queue: every worker
    serves the same activities.

    Args:
        entries: the valid entries, in load order.

    Returns:
        One problem per clashing worker after the first.
    """
    seen: dict[tuple[str, str], TemporalWorkerEntry] = {}
    problems = []
    for entry in entries:
        if not isinstance(entry, TemporalWorkerEntry):
            continue
        if entry.worker_options.get("disable_workflow_worker"):
            continue
        other = seen.setdefault((entry.client, entry.task_queue), entry)
        if other is entry:
            continue
        problems.append(
            _clash(
                entry,
                other,
                "task_queue",
                f'task queue "{entry.task_queue}" of {entry.client} is already polled by '
                "{other}; two workers of one client on one queue would take each other's "
                "workflows",
            )
        )
    return problems
