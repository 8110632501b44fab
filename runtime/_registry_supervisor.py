"""The ``process.supervisor`` kind: its fields, its children and the rules of supervision trees.

See docs/supervision.md. Field rules run per entry (through
:data:`SUPERVISOR_FIELDS` and :func:`finish_supervisor`); the tree rules need every entry and run
once the whole registry is read (:func:`check_supervisors`). Nesting cycles are found with the
dependency cycles (``_registry_graph.check_cycles``), because a ``supervisor`` child reference is
a dependency edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._errors import Problem
from ._registry_checks import (
    INVALID,
    NAME_RE,
    Check,
    FieldSpec,
    Scope,
    duration,
    expected,
    integer,
    read_fields,
    ref,
    string,
)
from ._registry_fields import input_values, lifecycle
from ._registry_model import (
    CHILD_SHUTDOWN,
    ChildSpec,
    Entry,
    Lifecycle,
    SupervisorEntry,
    entry_problem,
)
from ._registry_yaml import item_line, key_line, node_line

__all__ = [
    "RESTART_TYPES",
    "STRATEGIES",
    "SUPERVISOR_FIELDS",
    "check_supervisors",
    "finish_supervisor",
]

#: The values of ``strategy``; the first is the default.
STRATEGIES = ("one_for_one", "one_for_all", "rest_for_one")
#: The values of a child's ``restart``.
RESTART_TYPES = ("permanent", "transient", "temporary")

_HOST: Check = ref(
    "process.host",
    edge=True,
    hints={
        "temporal.worker": (
            '"{target}" is a temporal.worker; supervised children run only on a process.host '
            "(workflows are supervised by Temporal, not by orrery)"
        )
    },
)

_CHILD_FIELDS: Mapping[str, FieldSpec] = {
    "id": FieldSpec(string(nonempty=True), required=True),
    "process": FieldSpec(ref("process.lua", "workflow.lua")),
    "supervisor": FieldSpec(ref("process.supervisor", edge=True)),
    "host": FieldSpec(_HOST),
    "input": FieldSpec(input_values),
    "restart": FieldSpec(string(choices=RESTART_TYPES)),
    "shutdown": FieldSpec(duration()),
}


def _child(scope: Scope, value: Any, path: str, line: int | None) -> Any:
    """One item of ``children``; converted to a :class:`ChildSpec` (without the default host)."""
    if not isinstance(value, dict):
        return expected(scope, "a child mapping", value, path, line)
    before = scope.count
    values = read_fields(scope, value, _CHILD_FIELDS, path)
    child_id = values.get("id")
    if child_id is not None and not NAME_RE.fullmatch(child_id):
        scope.report(
            f"{path}.id",
            f'invalid child id "{child_id}" (letters, digits, "_", "." and "-"; '
            'not starting with "." or "-")',
            key_line(value, "id"),
        )
    if "process" in value and "supervisor" in value:
        scope.report(
            f"{path}.supervisor",
            "a child runs either a process or a supervisor, not both",
            key_line(value, "supervisor"),
        )
    elif "process" not in value and "supervisor" not in value:
        scope.report(
            f"{path}.process",
            "required field is missing (a child needs either process or supervisor)",
            node_line(value) or line,
        )
    elif "supervisor" in value:
        for key in ("host", "input"):
            if key in value:
                scope.report(
                    f"{path}.{key}",
                    f"not allowed on a supervisor child (the nested supervisor's own "
                    f"children have their {key})",
                    key_line(value, key),
                )
    if scope.count != before or child_id is None:  # a missing id was reported
        return INVALID
    is_process = "process" in values
    return ChildSpec(
        id=child_id,
        process=values.get("process"),
        supervisor=values.get("supervisor"),
        host=values.get("host"),
        input=values.get("input", ()),
        restart=values.get("restart", "transient"),
        shutdown=values.get("shutdown", CHILD_SHUTDOWN if is_process else None),
        line=line,
    )


def _children(scope: Scope, value: Any, path: str, line: int | None) -> Any:
    """``children``: a non-empty list of children with unique ids; converted to a tuple."""
    if not isinstance(value, list):
        return expected(scope, "a list", value, path, line)
    if not value:
        return scope.report(path, "must not be empty (a supervisor needs at least one child)", line)
    out: list[ChildSpec] = []
    ok = True
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        sub = f"{path}[{index}]"
        child = _child(scope, item, sub, item_line(value, index))
        ok = ok and child is not INVALID
        child_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(child_id, str) and child_id in seen:
            ok = False
            scope.report(
                f"{sub}.id",
                f'duplicate child id "{child_id}" (also {path}[{seen[child_id]}])',
                key_line(item, "id"),
            )
        elif isinstance(child_id, str):
            seen[child_id] = index
        if child is not INVALID:
            out.append(child)
    return tuple(out) if ok else INVALID


#: The fields of a ``process.supervisor`` entry (``meta`` is added by the kind table).
SUPERVISOR_FIELDS: Mapping[str, FieldSpec] = {
    "host": FieldSpec(_HOST),
    "strategy": FieldSpec(string(choices=STRATEGIES)),
    "intensity": FieldSpec(integer(minimum=0)),
    "period": FieldSpec(duration(positive=True)),
    "children": FieldSpec(_children, required=True),
    "lifecycle": FieldSpec(lifecycle),
}


def finish_supervisor(scope: Scope, values: dict[str, Any], raw: Mapping[str, Any]) -> None:
    """Give each process child its host: its own, else the supervisor's (which must be set)."""
    children = values.get("children")
    if children is None or ("host" in raw and "host" not in values):
        return  # invalid, already reported
    host = values.get("host")
    resolved = []
    for index, child in enumerate(children):
        if child.process is None or child.host is not None:
            resolved.append(child)
            continue
        if host is None:
            scope.report(
                f"children[{index}].host",
                "required field is missing (the child has no host, and the supervisor has "
                "no host for its children)",
                child.line,
            )
        resolved.append(attrs.evolve(child, host=host))
    values["children"] = tuple(resolved)


_NESTED_IGNORED = ("requires", "start_timeout", "stable_threshold", "restart")


def check_supervisors(entries: Sequence[Entry]) -> list[Problem]:
    """The tree rules: one parent per nested supervisor, which is not a service of its own.

    * a ``process.supervisor`` is the child of at most one supervisor (and only once);
    * a nested supervisor is not ``auto_start`` (its parent starts it), and sets no lifecycle
      field that only a service uses (``requires``, ``start_timeout``, ``stable_threshold``,
      ``restart``): only ``stop_timeout`` is used, as the default ``shutdown`` of its child;
    * no service ``requires`` a nested supervisor (it would never be a running service).

    Args:
        entries: the valid entries, in load order.

    Returns:
        The problems found.
    """
    by_id = {entry.id: entry for entry in entries}
    parents: dict[str, tuple[SupervisorEntry, ChildSpec]] = {}
    problems = []
    for sup in entries:
        if not isinstance(sup, SupervisorEntry):
            continue
        for index, child in enumerate(sup.children):
            if child.supervisor is None:
                continue
            first = parents.get(child.supervisor)
            if first is None:
                parents[child.supervisor] = (sup, child)
                continue
            problems.append(
                entry_problem(
                    sup,
                    f"children[{index}].supervisor",
                    f'"{child.supervisor}" is already the child "{first[1].id}" of '
                    f"{first[0].id}; a supervisor has at most one parent",
                    child.line,
                )
            )

    def root_of(entry_id: str) -> str:
        seen = {entry_id}
        while entry_id in parents:
            entry_id = parents[entry_id][0].id
            if entry_id in seen:
                break
            seen.add(entry_id)
        return entry_id

    for nested_id, (parent, child) in parents.items():
        nested = by_id.get(nested_id)
        if not isinstance(nested, SupervisorEntry):
            continue
        where = f'the child "{child.id}" of supervisor {parent.id}'
        if nested.lifecycle.auto_start:
            problems.append(
                entry_problem(
                    nested,
                    "lifecycle.auto_start",
                    f"{nested.id} is {where}, which starts it; it cannot be auto_start on its own",
                )
            )
        default = Lifecycle()
        for name in _NESTED_IGNORED:
            if getattr(nested.lifecycle, name) != getattr(default, name):
                problems.append(
                    entry_problem(
                        nested,
                        f"lifecycle.{name}",
                        f"has no effect on a nested supervisor ({nested.id} is {where}, which "
                        "starts, restarts and stops it); remove it",
                    )
                )
    for entry in entries:
        requires = getattr(entry, "lifecycle", Lifecycle()).requires
        if entry.id in parents:
            continue  # reported above
        for target in requires:
            if target in parents:
                parent, child = parents[target]
                problems.append(
                    entry_problem(
                        entry,
                        "lifecycle.requires",
                        f'"{target}" is a nested supervisor (the child "{child.id}" of '
                        f"{parent.id}), not a service of its own; require {root_of(target)}",
                    )
                )
    return problems
