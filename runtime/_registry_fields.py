"""Checks for the registry's composite fields.

They cover ``lifecycle``, Lua ``source``, ``modules``, ``input`` and ``meta.temporal``
(docs/reference/yaml-kinds.md, "Value types", "lifecycle", "meta.temporal", "Modules").
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ._durations import format_duration
from ._registry_checks import (
    INVALID,
    Check,
    FieldSpec,
    Scope,
    block,
    boolean,
    did_you_mean,
    duration,
    expected,
    ignored,
    integer,
    list_of,
    mapping,
    number,
    outside_root,
    read_fields,
    ref,
    string,
    unsupported,
)
from ._registry_model import (
    ALWAYS_AVAILABLE,
    IMPLEMENTED_MODULES,
    MODULES,
    SERVICE_KINDS,
    Lifecycle,
    LuaSource,
    RestartSpec,
)
from ._registry_yaml import describe, item_line, key_line, to_plain

__all__ = ["input_values", "lifecycle", "lua_meta", "lua_source", "modules"]

_INT64 = (-(2**63), 2**63 - 1)
_MAX_DEPTH = 128

_NO_LIFECYCLE_HINT = (
    '"{target}" is a {kind}, which has no lifecycle; depend on the process.service that runs it'
)


def _finish_restart(scope: Scope, values: dict[str, Any], raw: Any, path: str) -> Any:
    spec = RestartSpec(**values)
    if any((key in raw) != (key in values) for key in ("initial_delay", "max_delay")):
        return INVALID  # one of them is invalid and already reported
    if spec.max_delay < spec.initial_delay:
        given = "max_delay" in values
        key = "max_delay" if given else "initial_delay"
        return scope.report(
            f"{path}.{key}",
            f"max_delay ({format_duration(spec.max_delay)}{'' if given else ', the default'}) "
            f"must be at least initial_delay ({format_duration(spec.initial_delay)})",
            key_line(raw, key),
        )
    return spec


_RESTART_FIELDS: Mapping[str, FieldSpec] = {
    "initial_delay": FieldSpec(duration()),
    "max_delay": FieldSpec(duration()),
    "backoff_factor": FieldSpec(number(minimum=1.0)),
    "jitter": FieldSpec(number(minimum=0, maximum=1)),
    "max_attempts": FieldSpec(integer(minimum=0)),
}

_REQUIRES_HINTS = {
    kind: _NO_LIFECYCLE_HINT for kind in ("process.lua", "workflow.lua", "function.lua")
}


def _finish_lifecycle(scope: Scope, values: dict[str, Any], raw: Any, path: str) -> Any:
    requires = values.pop("requires", ()) + values.pop("depends_on", ())
    return Lifecycle(requires=tuple(dict.fromkeys(requires)), **values)


_LIFECYCLE_FIELDS: Mapping[str, FieldSpec] = {
    "auto_start": FieldSpec(boolean()),
    "requires": FieldSpec(list_of(ref(*SERVICE_KINDS, edge=True, hints=_REQUIRES_HINTS))),
    "depends_on": FieldSpec(list_of(ref(*SERVICE_KINDS, edge=True, hints=_REQUIRES_HINTS))),
    "start_timeout": FieldSpec(duration(positive=True)),
    "stop_timeout": FieldSpec(duration(positive=True)),
    "stable_threshold": FieldSpec(duration()),
    "startup": FieldSpec(
        unsupported(
            'startup mode "optional"',
            inner=string(choices=("required", "optional")),
            allowed=lambda value: value == "required",
        )
    ),
    "restart": FieldSpec(block(_RESTART_FIELDS, _finish_restart)),
    "security": FieldSpec(ignored(mapping())),
}

#: The ``lifecycle`` block (docs/reference/yaml-kinds.md, "lifecycle"); converted to a
#: :class:`Lifecycle`.
lifecycle: Check = block(_LIFECYCLE_FIELDS, _finish_lifecycle)


def _read_source(scope: Scope, target: Path) -> LuaSource | str:
    """Reads a Lua file; returns the source or the problem message."""
    display = scope.display(target)
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        return f"Lua file {display} does not exist"
    except IsADirectoryError:
        return f"{display} is a directory, not a Lua file"
    except OSError as exc:
        return f"cannot read Lua file {display}: {exc.strerror or exc}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (
            f"Lua file {display} is not valid UTF-8 "
            f"(byte 0x{data[exc.start]:02x} at offset {exc.start})"
        )
    return LuaSource(path=target, display=display, text=text)


def lua_source(scope: Scope, value: Any, path: str, line: int | None) -> Any:
    """``source: file://<path>``; converted to a :class:`LuaSource`.

    See docs/reference/yaml-kinds.md, "Lua entries: process.lua, workflow.lua, function.lua".
    """
    if not isinstance(value, str):
        return expected(scope, 'a string such as "file://main.lua"', value, path, line)
    if not value:
        return scope.report(path, "must not be empty", line)
    if not value.startswith("file://"):
        scope.report(
            path,
            'inline Lua source is not supported by this orrery build (write "file://<path>")',
            line,
        )
        scope.blocked.add(path)
        return INVALID
    relative = value[len("file://") :]
    if not relative:
        return scope.report(path, '"file://" must be followed by a path', line)
    target = Path(os.path.normpath(scope.base_dir / relative))
    if not target.is_relative_to(scope.root):
        return scope.report(
            path, f'"{relative}" is outside the source root {scope.display(scope.root)}', line
        )
    outside = outside_root(scope, target)
    if outside is not None:
        return scope.report(path, f'"{relative}" {outside}', line)
    cache = scope.collector.sources
    if target not in cache:
        cache[target] = _read_source(scope, target)
    result = cache[target]
    if isinstance(result, str):
        return scope.report(path, result, line)
    return result


def modules(kind: str) -> Check:
    """A ``modules`` list for a Lua entry of ``kind``; converted to a tuple.

    See docs/reference/yaml-kinds.md, "Modules".

    Always-available globals are dropped, duplicates removed.
    """
    known = [*MODULES, *ALWAYS_AVAILABLE]

    def item(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if not isinstance(value, str):
            return expected(scope, "a module name", value, path, line)
        if value in ALWAYS_AVAILABLE:
            return value
        kinds = MODULES.get(value)
        if kinds is None:
            return scope.report(
                path, f'unknown module "{value}"' + did_you_mean(value, known), line
            )
        if kind not in kinds:
            reason = " (workflow code must stay deterministic)" if kind == "workflow.lua" else ""
            return scope.report(
                path, f'module "{value}" is not allowed in {kind} entries{reason}', line
            )
        if value not in IMPLEMENTED_MODULES:
            return scope.report(
                path, f'module "{value}" is not supported by this orrery build', line
            )
        return value

    listed = list_of(item)

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        names = listed(scope, value, path, line)
        if names is INVALID:
            return INVALID
        return tuple(dict.fromkeys(n for n in names if n not in ALWAYS_AVAILABLE))

    return check


def _not_encodable(value: Any, depth: int) -> str | None:
    """Why ``value`` cannot be a process argument, or ``None``.

    See docs/reference/semantics.md, "Payloads".
    """
    if depth > _MAX_DEPTH:
        return f"nested deeper than {_MAX_DEPTH} levels"
    if value is None or isinstance(value, (bool, str, bytes, float)):
        return None
    if isinstance(value, int):
        return None if _INT64[0] <= value <= _INT64[1] else f"{value} does not fit in 64 bits"
    if isinstance(value, list):
        for item in value:
            reason = _not_encodable(item, depth + 1)
            if reason:
                return reason
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                return f"mapping key {describe(key)} is not a string or an integer"
            reason = _not_encodable(item, depth + 1)
            if reason:
                return reason
        return None
    return (
        f"{describe(value)} cannot be passed to a process "
        "(only null, booleans, numbers, strings, lists and mappings can)"
    )


def input_values(scope: Scope, value: Any, path: str, line: int | None) -> Any:
    """``process.service.input``: a list of encodable values; converted to a tuple."""
    if not isinstance(value, list):
        return expected(scope, "a list", value, path, line)
    ok = True
    for index, item in enumerate(value):
        reason = _not_encodable(item, 1)
        if reason:
            ok = False
            scope.report(f"{path}[{index}]", reason, item_line(value, index))
    return tuple(to_plain(value)) if ok else INVALID


def _only_on(field: str, kinds: str) -> Check:
    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        return scope.report(path, f"meta.temporal.{field} is only allowed on {kinds} entries", line)

    return check


_WORKFLOW_FIELDS: Mapping[str, FieldSpec] = {
    "worker": FieldSpec(ref("temporal.worker"), attr="workflow_worker"),
    "name": FieldSpec(string(nonempty=True), attr="workflow_name"),
}

_ACTIVITY_FIELDS: Mapping[str, FieldSpec] = {
    "worker": FieldSpec(ref("temporal.worker"), required=True, attr="activity_worker"),
    "local": FieldSpec(
        unsupported("local activities", inner=boolean(), allowed=lambda value: value is False)
    ),
}

_TEMPORAL_FIELDS: Mapping[str, Mapping[str, FieldSpec]] = {
    "workflow.lua": {
        "workflow": FieldSpec(block(_WORKFLOW_FIELDS), attr="*"),
        "activity": FieldSpec(_only_on("activity", "function.lua")),
    },
    "function.lua": {
        "activity": FieldSpec(block(_ACTIVITY_FIELDS), attr="*"),
        "workflow": FieldSpec(_only_on("workflow", "workflow.lua")),
    },
    "process.lua": {
        "activity": FieldSpec(
            unsupported("process activities (meta.temporal.activity on a process.lua entry)")
        ),
        "workflow": FieldSpec(_only_on("workflow", "workflow.lua")),
    },
}


def lua_meta(kind: str) -> Check:
    """``meta`` of a Lua entry: opaque except ``meta.temporal``.

    See docs/reference/yaml-kinds.md, "meta.temporal".

    Returns a mapping of model attributes: ``meta`` plus the ``workflow_*`` / ``activity_*``
    settings found under ``meta.temporal``.
    """
    fields = _TEMPORAL_FIELDS[kind]

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if not isinstance(value, dict):
            return expected(scope, "a mapping", value, path, line)
        out: dict[str, Any] = {"meta": MappingProxyType(to_plain(value))}
        if "temporal" not in value:
            return out
        temporal = value["temporal"]
        sub = f"{path}.temporal"
        if not isinstance(temporal, dict):
            return expected(scope, "a mapping", temporal, sub, key_line(value, "temporal"))
        before = scope.count
        out.update(read_fields(scope, temporal, fields, sub))
        return out if scope.count == before else INVALID

    return check
