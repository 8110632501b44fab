"""The registry's immutable records: entries, lifecycle settings, node config.

See docs/reference/yaml-kinds.md.

Every YAML entry becomes one frozen attrs record. Durations are float seconds, references are
resolved full entry IDs (``namespace:name``), lists are tuples and mappings are read-only views.
Values taken verbatim from YAML (``meta``, ``input``) are private deep copies made of plain
``dict`` / ``list`` / scalars; treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from ._errors import InvalidError, NotFound, Problem
from ._sizes import DEFAULT_LUA_MEMORY_LIMIT

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
    "entry_problem",
    "join_kinds",
]

#: Kinds whose entries are Lua code (docs/reference/yaml-kinds.md, "Lua entries: process.lua,
#: workflow.lua, function.lua").
LUA_KINDS: tuple[str, ...] = ("process.lua", "workflow.lua", "function.lua")

#: Kinds that take a ``lifecycle`` block and are run by the supervisor
#: (docs/reference/yaml-kinds.md, "lifecycle").
SERVICE_KINDS: tuple[str, ...] = (
    "process.host",
    "process.service",
    "process.supervisor",
    "temporal.client",
    "temporal.worker",
)

#: Default ``shutdown`` of a process child of a ``process.supervisor``, in seconds.
CHILD_SHUTDOWN = 5.0

_ALL_LUA = frozenset(LUA_KINDS)
_NOT_WORKFLOW = frozenset({"process.lua", "function.lua"})

#: The module table of docs/reference/yaml-kinds.md, "Modules": module name -> entry kinds that may
#: list it.
MODULES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "funcs": _ALL_LUA,
        "time": _ALL_LUA,
        "uuid": _ALL_LUA,
        "crypto": _ALL_LUA,
        "ctx": _ALL_LUA,
        "json": _ALL_LUA,
        "workflow": _ALL_LUA,
        "logger": _ALL_LUA,
        "base64": _ALL_LUA,
        "hash": _ALL_LUA,
        "yaml": _ALL_LUA,
        "text": _ALL_LUA,
        "registry": _NOT_WORKFLOW,
        "env": _NOT_WORKFLOW,
        "events": _NOT_WORKFLOW,
    }
)

#: Modules this build implements; the other names in :data:`MODULES` are [extended] and refused.
IMPLEMENTED_MODULES: frozenset[str] = frozenset(
    {"funcs", "time", "uuid", "crypto", "ctx", "json", "workflow", "logger"}
)

#: Globals that need no listing (docs/reference/yaml-kinds.md, "Modules"); listing them is allowed
#: and has no effect, so
#: the loader drops them from :attr:`LuaEntry.modules`.
ALWAYS_AVAILABLE: frozenset[str] = frozenset(
    {
        "process",
        "channel",
        "errors",
        "payload",
        "coroutine",
        "os",
        "string",
        "table",
        "math",
        "print",
    }
)

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def join_kinds(kinds: tuple[str, ...] | list[str]) -> str:
    """Joins kind names for a message: ``"a"``, ``"a or b"``, ``"a, b or c"``.

    Args:
        kinds: the kind names, in the order to show.

    Returns:
        The names joined with commas and a final "or".
    """
    if len(kinds) <= 1:
        return "".join(kinds)
    return ", ".join(kinds[:-1]) + " or " + kinds[-1]


@attrs.frozen
class LuaSource:
    """The Lua file of an entry, read and decoded at load time.

    Attributes:
        path: absolute path of the ``.lua`` file.
        display: the path for messages and chunk names (relative to the working directory when
            the file is below it, else absolute).
        text: the file content (valid UTF-8).
    """

    path: Path
    display: str
    text: str = attrs.field(repr=False)


@attrs.frozen
class RestartSpec:
    """``lifecycle.restart``: the backoff policy of a service.

    See docs/reference/yaml-kinds.md, "lifecycle".

    Attributes:
        initial_delay: seconds before the first restart of a failure series.
        max_delay: upper bound of the backoff delay, in seconds.
        backoff_factor: multiplier per consecutive failure (≥ 1).
        jitter: relative random spread in ``[0, 1]``; ``0`` disables jitter.
        max_attempts: maximum runs in one failure series, counting the first; ``0`` = unlimited.
    """

    initial_delay: float = 1.0
    max_delay: float = 90.0
    backoff_factor: float = 2.0
    jitter: float = 0.1
    max_attempts: int = 0


@attrs.frozen
class Lifecycle:
    """The ``lifecycle`` block of a service entry (docs/reference/yaml-kinds.md, "lifecycle").

    Attributes:
        auto_start: start the service when the node boots.
        requires: full IDs of the services that must run first: the union of ``requires`` and
            ``depends_on``, in the given order, without duplicates. Implicit edges
            (service → host, worker → client) are not included; see
            :meth:`Registry.dependencies`.
        start_timeout: seconds one start attempt may take.
        stop_timeout: seconds a graceful stop may take.
        stable_threshold: seconds after which a run resets the failure counter.
        restart: the restart policy.
    """

    auto_start: bool = False
    requires: tuple[str, ...] = ()
    start_timeout: float = 10.0
    stop_timeout: float = 10.0
    stable_threshold: float = 5.0
    restart: RestartSpec = RestartSpec()


@attrs.frozen(unsafe_hash=False)
class Entry:
    """Fields common to every entry (docs/reference/yaml-kinds.md, "Fields of every entry").

    Entries compare by value and hash by ID (their mappings are not hashable).

    Attributes:
        id: the entry ID, ``namespace:name``.
        namespace: the namespace of the file that defines the entry.
        name: the entry name.
        kind: the entry kind (``process.lua``, ``temporal.worker``, ...).
        meta: free-form metadata, unvalidated except ``meta.temporal``.
        file: display path of the YAML file that defines the entry.
        line: 1-based line of the entry in ``file``, when known.
    """

    id: str
    namespace: str
    name: str
    kind: str
    meta: Mapping[str, Any]
    file: str
    line: int | None

    def __hash__(self) -> int:
        return hash(self.id)


#: Overflow policies of a bounded mailbox (docs/mailboxes.md).
OVERFLOW_POLICIES: tuple[str, ...] = ("block", "drop_newest", "drop_oldest", "fail")


def entry_problem(entry: Entry, field: str, message: str, line: int | None = None) -> Problem:
    """A problem with ``field`` of a loaded entry, at its line unless ``line`` is given."""
    return Problem(
        file=entry.file,
        line=line if line is not None else entry.line,
        entry=entry.id,
        kind=entry.kind,
        field=field,
        message=message,
    )


@attrs.frozen
class MailboxBound:
    """One bound of a mailbox: how many messages may wait, and what happens beyond.

    Attributes:
        capacity: maximum messages queued and not yet received (at least 1).
        overflow: one of :data:`OVERFLOW_POLICIES`.
    """

    capacity: int
    overflow: str


@attrs.frozen
class MailboxSpec:
    """The ``mailbox`` block of a ``process.lua`` / ``workflow.lua`` entry ([extended]).

    Each message counts against its topic's bound when the topic is listed in ``topics``,
    else against the process bound (``capacity``); without either it is unbounded.

    Attributes:
        capacity: bound for messages of unlisted topics; ``None`` = unbounded.
        overflow: policy of that bound, and default policy of the topic bounds.
        topics: topic -> its own bound.
    """

    capacity: int | None = None
    overflow: str = "block"
    topics: Mapping[str, MailboxBound] = attrs.field(factory=lambda: MappingProxyType({}))

    def as_setting(self) -> dict[str, Any]:
        """The setting in the form a Lua spawn option takes (``process.with_options``)."""
        out: dict[str, Any] = {"overflow": self.overflow}
        if self.capacity is not None:
            out["capacity"] = self.capacity
        if self.topics:
            out["topics"] = {
                topic: {"capacity": bound.capacity, "overflow": bound.overflow}
                for topic, bound in self.topics.items()
            }
        return out


@attrs.frozen(unsafe_hash=False)
class LuaEntry(Entry):
    """A ``process.lua``, ``workflow.lua`` or ``function.lua`` entry.

    See docs/reference/yaml-kinds.md, "Lua entries: process.lua, workflow.lua, function.lua".

    Attributes:
        source: the Lua file.
        method: name of the function to run in the table the chunk returns.
        modules: modules the code may ``require``, in the given order, without duplicates and
            without the always-available globals.
        workflow_worker: ``meta.temporal.workflow.worker``, resolved to a full ID.
        workflow_name: ``meta.temporal.workflow.name``; ``None`` means the entry ID.
        activity_worker: ``meta.temporal.activity.worker``, resolved to a full ID.
        mailbox: the mailbox bounds of processes spawned from the entry; ``None`` =
            unbounded (``process.lua`` / ``workflow.lua`` only).
    """

    __hash__ = Entry.__hash__

    source: LuaSource
    method: str = "main"
    modules: tuple[str, ...] = ()
    workflow_worker: str | None = None
    workflow_name: str | None = None
    activity_worker: str | None = None
    mailbox: MailboxSpec | None = None


@attrs.frozen(unsafe_hash=False)
class HostEntry(Entry):
    """A ``process.host`` entry: a native host (docs/reference/yaml-kinds.md, "process.host").

    Attributes:
        max_processes: maximum live processes on the host; ``0`` = unlimited.
        lifecycle: service settings of the host.
    """

    __hash__ = Entry.__hash__

    max_processes: int = 0
    lifecycle: Lifecycle = Lifecycle()


@attrs.frozen(unsafe_hash=False)
class ServiceEntry(Entry):
    """A ``process.service`` entry: keeps one process running on a host.

    See docs/reference/yaml-kinds.md, "process.service".

    Attributes:
        process: full ID of the ``process.lua`` entry to run.
        host: full ID of the ``process.host`` to run it on.
        input: positional arguments passed to the process's method on every (re)start.
        lifecycle: start, stop and restart policy.
    """

    __hash__ = Entry.__hash__

    process: str
    host: str
    input: tuple[Any, ...] = ()
    lifecycle: Lifecycle = Lifecycle()


@attrs.frozen
class ChildSpec:
    """One child of a ``process.supervisor`` (docs/supervision.md).

    Exactly one of ``process`` and ``supervisor`` is set.

    Attributes:
        id: unique within the supervisor.
        process: full ID of the ``process.lua`` / ``workflow.lua`` entry to run.
        supervisor: full ID of the nested ``process.supervisor``.
        host: the ``process.host`` a process child runs on: its own ``host``, else the
            supervisor's; ``None`` for a supervisor child.
        input: positional arguments passed to the process on every (re)start.
        restart: ``permanent``, ``transient`` or ``temporary``.
        shutdown: seconds between the child's CANCEL and its termination when it is stopped;
            ``None`` for a supervisor child that does not set it (the nested supervisor's
            ``lifecycle.stop_timeout`` applies).
        line: line of the child in the YAML file, when known.
    """

    id: str
    process: str | None = None
    supervisor: str | None = None
    host: str | None = None
    input: tuple[Any, ...] = ()
    restart: str = "transient"
    shutdown: float | None = CHILD_SHUTDOWN
    line: int | None = None


@attrs.frozen(unsafe_hash=False)
class SupervisorEntry(Entry):
    """A ``process.supervisor`` entry: a group of children restarted together.

    Attributes:
        children: the children, in start order.
        host: the default ``process.host`` of the children, if given.
        strategy: ``one_for_one``, ``one_for_all`` or ``rest_for_one``.
        intensity: at most this many child restarts ...
        period: ... within this many seconds, else the group fails.
        lifecycle: start, stop and restart policy of the group as a whole (a nested supervisor
            only uses its ``stop_timeout``).
    """

    __hash__ = Entry.__hash__

    children: tuple[ChildSpec, ...] = ()
    host: str | None = None
    strategy: str = "one_for_one"
    intensity: int = 3
    period: float = 5.0
    lifecycle: Lifecycle = Lifecycle()


@attrs.frozen
class DevServerSpec:
    """``dev_server`` of a ``temporal.client``: the embedded development server.

    See docs/reference/yaml-kinds.md, "temporal.client".

    Attributes:
        enabled: whether the embedded server is used (always ``True`` on a loaded entry).
        ip: address the server listens on.
        port: frontend port; ``0`` picks a free port.
        ui: whether the Web UI is started (a non-zero ``ui_port`` turns it on).
        ui_port: the Web UI's port; ``0`` picks a free port.
        database_file: database file; ``""`` = the default file in the state dir,
            ``":memory:"`` = in memory.
        existing_path: path of a ``temporal`` CLI binary; ``""`` = the bundled one.
        log_level: the server's log level.
        extra_args: additional CLI arguments.
        search_attributes: search attribute name -> type, registered at start.
    """

    enabled: bool
    ip: str = "127.0.0.1"
    port: int = 0
    ui: bool = False
    ui_port: int = 0
    database_file: str = ""
    existing_path: str = ""
    log_level: str = "warn"
    extra_args: tuple[str, ...] = ()
    search_attributes: Mapping[str, str] = _EMPTY


@attrs.frozen
class ClientAuthSpec:
    """``auth`` of a ``temporal.client``: where the credentials come from.

    See docs/reference/yaml-kinds.md, "temporal.client".

    Only the sources are kept; files and environment variables are read when the
    client connects, so a rotated key is picked up by the next (re)start.

    Attributes:
        type: ``"api_key"`` or ``"mtls"``.
        api_key: a literal API key.
        api_key_env: an environment variable holding the API key.
        api_key_file: a file holding the API key (trailing whitespace trimmed).
        cert_file: the mTLS client certificate file.
        cert_pem: the mTLS client certificate as PEM text.
        key_file: the mTLS private key file.
        key_pem: the mTLS private key as PEM text.
        key_pem_env: an environment variable holding the mTLS private key.
    """

    type: str
    api_key: str | None = None
    api_key_env: str | None = None
    api_key_file: str | None = None
    cert_file: str | None = None
    cert_pem: str | None = None
    key_file: str | None = None
    key_pem: str | None = None
    key_pem_env: str | None = None


@attrs.frozen
class ClientTLSSpec:
    """``tls`` of a ``temporal.client``.

    Attributes:
        enabled: ``True``/``False`` as given; ``None`` when not given (TLS is then on
            exactly when ``auth`` is set).
        ca_file: a CA bundle to verify the server with (system roots otherwise).
        server_name: the name to verify the server certificate against.
    """

    enabled: bool | None = None
    ca_file: str | None = None
    server_name: str | None = None


@attrs.frozen(unsafe_hash=False)
class TemporalClientEntry(Entry):
    """A ``temporal.client`` entry: a connection to a Temporal server.

    See docs/reference/yaml-kinds.md, "temporal.client".

    Attributes:
        address: ``host:port`` of the frontend; ``None`` when the embedded server is used.
        temporal_namespace: the Temporal namespace (YAML field ``namespace``; renamed because
            :attr:`Entry.namespace` is the entry's own namespace).
        dev_server: the embedded server settings; set exactly when ``address`` is ``None``.
        connection_timeout: seconds to establish the connection at start.
        auth: API key or mTLS credentials; ``None`` for none.
        tls: TLS settings; ``None`` when the block is absent.
        keep_alive_time: gRPC keep-alive interval in seconds (``None``: the SDK's).
        keep_alive_timeout: gRPC keep-alive timeout in seconds (``None``: the SDK's).
        lifecycle: service settings of the client.
    """

    __hash__ = Entry.__hash__

    address: str | None
    temporal_namespace: str = "default"
    dev_server: DevServerSpec | None = None
    connection_timeout: float = 10.0
    auth: ClientAuthSpec | None = None
    tls: ClientTLSSpec | None = None
    keep_alive_time: float | None = None
    keep_alive_timeout: float | None = None
    lifecycle: Lifecycle = Lifecycle()


@attrs.frozen(unsafe_hash=False)
class TemporalWorkerEntry(Entry):
    """A ``temporal.worker`` entry: a durable host polling one task queue.

    See docs/reference/yaml-kinds.md, "temporal.worker".

    Attributes:
        client: full ID of the ``temporal.client`` to use.
        task_queue: the task queue name.
        worker_options: the ``worker_options`` given in YAML (docs/reference/yaml-kinds.md,
        "temporal.worker"), validated;
            durations are float seconds; absent keys are absent.
        lifecycle: service settings of the worker.
    """

    __hash__ = Entry.__hash__

    client: str
    task_queue: str
    worker_options: Mapping[str, Any] = _EMPTY
    lifecycle: Lifecycle = Lifecycle()


#: The models of the :data:`SERVICE_KINDS`, each with its ``lifecycle``.
ServiceModel = (
    HostEntry | ServiceEntry | SupervisorEntry | TemporalClientEntry | TemporalWorkerEntry
)


@attrs.frozen
class NodeConfig:
    """The node configuration from ``orrery.yaml``").

    See docs/reference/yaml-kinds.md, "Node configuration (orrery.yaml.

    Attributes:
        node_name: node component of native PIDs (``$ORRERY_NODE`` or ``"local"`` by default).
        log_level: ``debug``, ``info``, ``warn`` or ``error``.
        shutdown_timeout: seconds a whole-node graceful shutdown may take.
        lua_memory_limit: byte limit of the node's native Lua state (0 = none); a process
            whose allocation fails at the limit ends with ``Internal`` (docs/sandbox.md).
        root: the first source root (absolute), when there is one.
    """

    node_name: str = "local"
    log_level: str = "info"
    shutdown_timeout: float = 30.0
    lua_memory_limit: int = DEFAULT_LUA_MEMORY_LIMIT
    root: Path | None = None


@attrs.frozen
class Registry:
    """The validated, immutable set of entries a node runs from.

    Attributes:
        entries: entry ID -> entry, in load order.
        config: the node configuration.
    """

    entries: Mapping[str, Entry]
    config: NodeConfig = NodeConfig()

    def get(self, entry_id: str) -> Entry | None:
        """Returns the entry with this ID, or ``None``.

        Args:
            entry_id: a full entry ID (``namespace:name``).
        """
        return self.entries.get(entry_id)

    def require(self, entry_id: str, *kinds: str) -> Entry:
        """Returns the entry with this ID, checking its kind.

        Args:
            entry_id: a full entry ID.
            *kinds: the accepted kinds; none means any kind.

        Returns:
            The entry.

        Raises:
            NotFound: there is no such entry.
            InvalidError: the entry is of another kind.
        """
        entry = self.entries.get(entry_id)
        if entry is None:
            raise NotFound(f"entry {entry_id} not found")
        if kinds and entry.kind not in kinds:
            raise InvalidError(
                f"entry {entry_id} is a {entry.kind}, expected {join_kinds(list(kinds))}"
            )
        return entry

    def of_kind(self, *kinds: str) -> list[Entry]:
        """Returns the entries of the given kinds, in load order.

        Args:
            *kinds: the kinds wanted.
        """
        return [entry for entry in self.entries.values() if entry.kind in kinds]

    def workers(self) -> list[TemporalWorkerEntry]:
        """Returns the ``temporal.worker`` entries, in load order."""
        return [e for e in self.of_kind("temporal.worker") if isinstance(e, TemporalWorkerEntry)]

    def worker(self, entry_id: str) -> TemporalWorkerEntry:
        """Returns the ``temporal.worker`` entry with this ID (raises as :meth:`require`)."""
        entry = self.require(entry_id, "temporal.worker")
        assert isinstance(entry, TemporalWorkerEntry)  # the model of its kind (_registry_kinds)
        return entry

    def client(self, entry_id: str) -> TemporalClientEntry:
        """Returns the ``temporal.client`` entry with this ID (raises as :meth:`require`)."""
        entry = self.require(entry_id, "temporal.client")
        assert isinstance(entry, TemporalClientEntry)  # the model of its kind (_registry_kinds)
        return entry

    def services(self) -> list[ServiceModel]:
        """Returns every entry the node supervisor runs, in load order.

        These are the entries that take a lifecycle (:data:`SERVICE_KINDS`), except nested
        supervisors: a ``process.supervisor`` that is the child of another one is run by its
        parent.
        """
        nested = {
            child.supervisor
            for entry in self.entries.values()
            if isinstance(entry, SupervisorEntry)
            for child in entry.children
            if child.supervisor is not None
        }
        return [
            e
            for e in self.of_kind(*SERVICE_KINDS)
            if e.id not in nested and isinstance(e, ServiceModel)  # (the kinds' models)
        ]

    def supervisor_parent(self, entry_id: str) -> tuple[str, str] | None:
        """The supervisor that has ``entry_id`` as a child, and the child's id, or ``None``.

        Args:
            entry_id: a full entry ID.
        """
        for entry in self.entries.values():
            if isinstance(entry, SupervisorEntry):
                for child in entry.children:
                    if child.supervisor == entry_id:
                        return entry.id, child.id
        return None

    def dependencies(self, entry_id: str) -> tuple[str, ...]:
        """Returns the services ``entry_id`` depends on (docs/reference/yaml-kinds.md, "lifecycle").

        These are ``lifecycle.requires`` (with ``depends_on``) followed by the implicit edges
        (a ``process.service`` depends on its host, a ``temporal.worker`` on its client, a
        ``process.supervisor`` on its host and the hosts of every child in its tree, nested
        supervisors included), without duplicates. Entries without a lifecycle have no
        dependencies.

        Args:
            entry_id: a full entry ID.

        Raises:
            NotFound: there is no such entry.
        """
        entry = self.require(entry_id)
        lifecycle = getattr(entry, "lifecycle", None)
        deps: list[str] = list(lifecycle.requires) if isinstance(lifecycle, Lifecycle) else []
        if isinstance(entry, ServiceEntry):
            deps.append(entry.host)
        elif isinstance(entry, TemporalWorkerEntry):
            deps.append(entry.client)
        elif isinstance(entry, SupervisorEntry):
            deps.extend(self._tree_hosts(entry, set()))
        return tuple(dict.fromkeys(deps))

    def _tree_hosts(self, entry: SupervisorEntry, seen: set[str]) -> list[str]:
        """The hosts a supervisor's tree runs on, nested supervisors included."""
        seen.add(entry.id)
        hosts = [entry.host] if entry.host is not None else []
        for child in entry.children:
            if child.host is not None:
                hosts.append(child.host)
            nested = self.entries.get(child.supervisor) if child.supervisor else None
            if isinstance(nested, SupervisorEntry) and nested.id not in seen:
                hosts.extend(self._tree_hosts(nested, seen))
        return hosts
