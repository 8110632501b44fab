"""The registry: YAML entries turned into validated, immutable records.

See docs/reference/yaml-kinds.md.

This module is the one entry point of the registry; the work is done in ``_registry_*.py``:
``_model`` (the records), ``_yaml`` (line-aware safe loading), ``_checks`` / ``_fields`` /
``_temporal`` / ``_kinds`` (validation by field tables), ``_graph`` (references, cycles) and
``_loader`` (files, overrides, the whole load).
"""

from __future__ import annotations

from ._registry_loader import load_registry
from ._registry_model import (
    ALWAYS_AVAILABLE,
    CHILD_SHUTDOWN,
    IMPLEMENTED_MODULES,
    LUA_KINDS,
    MODULES,
    SERVICE_KINDS,
    ChildSpec,
    DevServerSpec,
    Entry,
    HostEntry,
    Lifecycle,
    LuaEntry,
    LuaSource,
    NodeConfig,
    Registry,
    RestartSpec,
    ServiceEntry,
    SupervisorEntry,
    TemporalClientEntry,
    TemporalWorkerEntry,
)

__all__ = [
    "ALWAYS_AVAILABLE",
    "CHILD_SHUTDOWN",
    "IMPLEMENTED_MODULES",
    "LUA_KINDS",
    "MODULES",
    "SERVICE_KINDS",
    "ChildSpec",
    "DevServerSpec",
    "Entry",
    "HostEntry",
    "Lifecycle",
    "LuaEntry",
    "LuaSource",
    "NodeConfig",
    "Registry",
    "RestartSpec",
    "ServiceEntry",
    "SupervisorEntry",
    "TemporalClientEntry",
    "TemporalWorkerEntry",
    "load_registry",
]
