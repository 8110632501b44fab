"""The kind table: for every supported kind, its fields and its model class.

See docs/reference/yaml-kinds.md, "Value types".

Adding a kind means adding one :class:`KindSpec` to :data:`KINDS` (and, for a kind that takes a
lifecycle, its name to ``SERVICE_KINDS``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._registry_checks import (
    Check,
    FieldSpec,
    Scope,
    block,
    did_you_mean,
    forbidden,
    ignored,
    integer,
    mapping,
    ref,
    string,
    unsupported,
)
from ._registry_fields import input_values, lifecycle, lua_meta, lua_source, modules
from ._registry_mailbox import mailbox, no_mailbox
from ._registry_model import (
    Entry,
    HostEntry,
    LuaEntry,
    ServiceEntry,
    SupervisorEntry,
    TemporalClientEntry,
    TemporalWorkerEntry,
)
from ._registry_supervisor import SUPERVISOR_FIELDS, finish_supervisor
from ._registry_temporal import CLIENT_FIELDS, WORKER_FIELDS, finish_client

__all__ = ["KINDS", "KindSpec", "kind_problem"]


@attrs.frozen
class KindSpec:
    """How one kind is validated and built.

    Attributes:
        model: the record class built from the entry.
        fields: the kind's fields besides ``name`` and ``kind`` (``meta`` included).
        finish: cross-field rules, called with the valid field values (it may change them)
            and the raw entry mapping.
    """

    model: type[Entry]
    fields: Mapping[str, FieldSpec]
    finish: Callable[[Scope, dict[str, Any], Mapping[str, Any]], None] | None = None


def _lua_fields(kind: str) -> dict[str, FieldSpec]:
    if kind == "process.lua":
        hint = (
            "process.lua entries have no lifecycle (they run only when spawned); "
            "use a process.service entry to keep this process running"
        )
    else:
        hint = f"{kind} entries have no lifecycle (they run only when spawned or called)"
    fields = {
        "source": FieldSpec(lua_source, required=True),
        "method": FieldSpec(string(nonempty=True)),
        "modules": FieldSpec(modules(kind)),
        "imports": FieldSpec(
            unsupported("imports", inner=mapping(), allowed=lambda value: not value)
        ),
        "meta": FieldSpec(lua_meta(kind), attr="*"),
        "lifecycle": FieldSpec(forbidden(hint)),
    }
    if kind == "function.lua":
        fields["pool"] = FieldSpec(ignored(mapping()))
        fields["mailbox"] = FieldSpec(no_mailbox(kind))
    else:
        fields["mailbox"] = FieldSpec(mailbox)
    return fields


_META = FieldSpec(mapping())

_HOST_BLOCK: Mapping[str, FieldSpec] = {
    "workers": FieldSpec(ignored(integer(minimum=1))),
    "queue_size": FieldSpec(ignored(integer(minimum=1))),
    "local_queue_size": FieldSpec(ignored(integer(minimum=1))),
    "max_processes": FieldSpec(integer(minimum=0)),
}

_SERVICE_HOST: Check = ref(
    "process.host",
    edge=True,
    hints={
        "temporal.worker": (
            '"{target}" is a temporal.worker; a process.service runs only on a process.host '
            "(workflows are supervised by Temporal, not by orrery services)"
        )
    },
)

#: Supported kinds -> their specs.
KINDS: Mapping[str, KindSpec] = {
    "process.lua": KindSpec(LuaEntry, _lua_fields("process.lua")),
    "workflow.lua": KindSpec(LuaEntry, _lua_fields("workflow.lua")),
    "function.lua": KindSpec(LuaEntry, _lua_fields("function.lua")),
    "process.host": KindSpec(
        HostEntry,
        {
            "host": FieldSpec(block(_HOST_BLOCK), attr="*"),
            "lifecycle": FieldSpec(lifecycle),
            "meta": _META,
        },
    ),
    "process.service": KindSpec(
        ServiceEntry,
        {
            "process": FieldSpec(ref("process.lua"), required=True),
            "host": FieldSpec(_SERVICE_HOST, required=True),
            "input": FieldSpec(input_values),
            "lifecycle": FieldSpec(lifecycle),
            "meta": _META,
        },
    ),
    "process.supervisor": KindSpec(
        SupervisorEntry, {**SUPERVISOR_FIELDS, "meta": _META}, finish_supervisor
    ),
    "temporal.client": KindSpec(
        TemporalClientEntry, {**CLIENT_FIELDS, "meta": _META}, finish_client
    ),
    "temporal.worker": KindSpec(TemporalWorkerEntry, {**WORKER_FIELDS, "meta": _META}),
}

# Kinds of Wippy (and orrery [extended] proposals) that this build knows but does not run.
_UNSUPPORTED_KINDS = frozenset(
    {
        "library.lua",
        "registry.entry",
        "process.wasm",
        "function.wasm",
        "exec.native",
        "terminal.host",
    }
)
_UNSUPPORTED_PREFIXES = (
    "http.",
    "db.",
    "store.",
    "queue.",
    "fs.",
    "cloudstorage.",
    "env.",
    "security.",
    "contract.",
    "template.",
    "ns.",
    "exec.",
    "websocket.",
    "config.",
)
_UNSUPPORTED_SUFFIXES = (".bc", ".wasm")


def kind_problem(kind: str) -> str | None:
    """Why ``kind`` cannot be loaded, or ``None`` when it is supported.

    Args:
        kind: the ``kind`` field of an entry.
    """
    if kind in KINDS:
        return None
    if (
        kind in _UNSUPPORTED_KINDS
        or kind.startswith(_UNSUPPORTED_PREFIXES)
        or kind.endswith(_UNSUPPORTED_SUFFIXES)
    ):
        return f'kind "{kind}" is not supported by orrery'
    return (
        f'unknown kind "{kind}"{did_you_mean(kind, KINDS)}; '
        f"supported kinds: {', '.join(sorted(KINDS))}"
    )
