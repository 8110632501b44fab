"""Field tables of ``temporal.client`` and ``temporal.worker``.

See docs/reference/yaml-kinds.md, "temporal.client", "temporal.worker" and
docs/reference/temporal.md, "Clients and workers".
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ._registry_checks import (
    INVALID,
    OMIT,
    Check,
    FieldSpec,
    Scope,
    block,
    boolean,
    duration,
    expected,
    integer,
    list_of,
    map_of,
    number,
    read_fields,
    ref,
    string,
    unsupported,
)
from ._registry_fields import lifecycle
from ._registry_model import ClientAuthSpec, ClientTLSSpec, DevServerSpec
from ._registry_yaml import key_line, node_line

__all__ = ["CLIENT_FIELDS", "WORKER_FIELDS", "finish_client"]

_SEARCH_ATTRIBUTE_TYPES = ("keyword", "text", "int", "double", "bool", "datetime", "keyword_list")

_DEV_SERVER_FIELDS: Mapping[str, FieldSpec] = {
    "enabled": FieldSpec(boolean()),
    "ip": FieldSpec(string(nonempty=True)),
    "port": FieldSpec(integer(minimum=0, maximum=65535)),
    "ui": FieldSpec(boolean()),
    "ui_port": FieldSpec(integer(minimum=0, maximum=65535)),
    "database_file": FieldSpec(string()),
    "existing_path": FieldSpec(string()),
    "log_level": FieldSpec(string(choices=("debug", "info", "warn", "error", "never"))),
    "extra_args": FieldSpec(list_of(string())),
    "search_attributes": FieldSpec(map_of(string(choices=_SEARCH_ATTRIBUTE_TYPES))),
}

_CREDENTIALS = (
    "api_key",
    "api_key_env",
    "api_key_file",
    "cert_file",
    "cert_pem",
    "key_file",
    "key_pem",
    "key_pem_env",
)

_AUTH_FIELDS: Mapping[str, FieldSpec] = {
    "type": FieldSpec(string(choices=("none", "api_key", "mtls"))),
    **{name: FieldSpec(string()) for name in _CREDENTIALS},
}


def _auth(scope: Scope, value: Any, path: str, line: int | None) -> Any:
    """``auth``: the credential sources, with their exactly-one rules.

    See docs/reference/yaml-kinds.md, "temporal.client".
    """
    if not isinstance(value, dict):
        return expected(scope, "a mapping", value, path, line)
    before = scope.count
    values = read_fields(scope, value, _AUTH_FIELDS, path)
    if scope.count != before:
        return INVALID
    auth_type = values.pop("type", "none")

    def exactly_one(names: tuple[str, ...], what: str) -> None:
        given = [n for n in names if n in values]
        if len(given) != 1:
            scope.report(
                path,
                f'auth.type "{auth_type}" needs exactly one {what} ('
                + ", ".join(names)
                + (f"; {len(given)} given: " + ", ".join(given) if given else "; none given")
                + ")",
                line,
            )

    allowed: tuple[str, ...] = ()
    if auth_type == "api_key":
        allowed = ("api_key", "api_key_env", "api_key_file")
        exactly_one(allowed, "API key source")
    elif auth_type == "mtls":
        exactly_one(("cert_file", "cert_pem"), "certificate source")
        exactly_one(("key_file", "key_pem", "key_pem_env"), "key source")
        allowed = ("cert_file", "cert_pem", "key_file", "key_pem", "key_pem_env")
    for name in _CREDENTIALS:
        if name in values and name not in allowed:
            scope.report(
                f"{path}.{name}",
                f'must not be set when auth.type is "{auth_type}"',
                key_line(value, name),
            )
    if scope.count != before:
        return INVALID
    if auth_type == "none":
        return OMIT
    return ClientAuthSpec(type=auth_type, **values)


_TLS_FIELDS: Mapping[str, FieldSpec] = {
    "enabled": FieldSpec(boolean()),
    "ca_file": FieldSpec(string(nonempty=True)),
    "server_name": FieldSpec(string(nonempty=True)),
    "insecure_skip_verify": FieldSpec(boolean()),
}


def _tls(scope: Scope, value: Any, path: str, line: int | None) -> Any:
    """``tls``: server verification settings; ``insecure_skip_verify: true`` is refused."""
    if not isinstance(value, dict):
        return expected(scope, "a mapping", value, path, line)
    before = scope.count
    values = read_fields(scope, value, _TLS_FIELDS, path)
    if values.pop("insecure_skip_verify", False) is True:
        scope.report(
            f"{path}.insecure_skip_verify",
            "true is not supported: the Python SDK always verifies the server certificate",
            key_line(value, "insecure_skip_verify"),
        )
    if scope.count != before:
        return INVALID
    return ClientTLSSpec(**values)


_HEALTH_FIELDS: Mapping[str, FieldSpec] = {
    "enabled": FieldSpec(
        unsupported("health checks", inner=boolean(), allowed=lambda v: v is False)
    ),
    "interval": FieldSpec(duration(positive=True)),
}


def _omitted(check: Check) -> Check:
    def wrapped(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        result = check(scope, value, path, line)
        return INVALID if result is INVALID else OMIT

    return wrapped


#: Fields of ``temporal.client`` besides ``name``, ``kind`` and ``meta``.
CLIENT_FIELDS: Mapping[str, FieldSpec] = {
    "address": FieldSpec(string(nonempty=True)),
    "namespace": FieldSpec(string(nonempty=True), attr="temporal_namespace"),
    "dev_server": FieldSpec(block(_DEV_SERVER_FIELDS)),
    "connection_timeout": FieldSpec(duration(positive=True)),
    "tq_prefix": FieldSpec(unsupported("tq_prefix", inner=string(), allowed=lambda v: v == "")),
    "keep_alive_time": FieldSpec(duration(positive=True)),
    "keep_alive_timeout": FieldSpec(duration(positive=True)),
    "auth": FieldSpec(_auth),
    "tls": FieldSpec(_tls),
    "health_check": FieldSpec(_omitted(block(_HEALTH_FIELDS))),
    "lifecycle": FieldSpec(lifecycle),
}


def finish_client(scope: Scope, values: dict[str, Any], raw: Mapping[str, Any]) -> None:
    """Cross-field rules of ``temporal.client``: ``address`` versus ``dev_server``.

    Sets ``values["dev_server"]`` to a :class:`DevServerSpec` when the embedded server is
    used and to ``None`` otherwise.
    """
    has_address = "address" in raw
    dev_raw = raw.get("dev_server")
    dev = values.pop("dev_server", None)
    if "dev_server" in raw and not isinstance(dev_raw, dict):
        return  # already reported as a type error
    explicit = dev_raw.get("enabled") if isinstance(dev_raw, dict) else None
    # A client that names no address uses the embedded dev server (the default);
    # only an explicit `dev_server: {enabled: false}` turns it off.
    enabled = explicit if isinstance(explicit, bool) else not has_address
    if has_address:
        if enabled:
            scope.report(
                "address",
                "must not be set when dev_server is enabled "
                "(use either a server address or the embedded dev server)",
                key_line(raw, "address"),
            )
        values["dev_server"] = None
        return
    if not enabled:
        scope.report(
            "address",
            "required field is missing (dev_server is disabled; set address or enable dev_server)",
            node_line(raw),
        )
        return
    auth, tls = values.get("auth"), values.get("tls")
    if (tls is not None and tls.enabled) or (
        auth is not None and not (tls and tls.enabled is False)
    ):
        field = "tls" if tls is not None and tls.enabled else "auth"
        scope.report(
            field,
            "the embedded dev server does not serve TLS; set address to use TLS or credentials",
            key_line(raw, field),
        )
        return
    dev = dict(dev or {})
    dev.pop("enabled", None)
    if dev.get("ui_port"):
        if dev.get("ui") is False:
            scope.report(
                "dev_server.ui_port",
                "is set but dev_server.ui is false (remove ui_port, or set ui: true)",
                key_line(dev_raw, "ui_port") if isinstance(dev_raw, dict) else None,
            )
            return
        dev["ui"] = True  # a UI port asks for the UI
    values["dev_server"] = DevServerSpec(enabled=True, **dev)
    values["address"] = None


def _workflow_pollers(scope: Scope, value: Any, path: str, line: int | None) -> Any:
    result = integer(minimum=1)(scope, value, path, line)
    if result == 1:
        return scope.report(path, "must not be 1 (use 2 or more workflow task pollers)", line)
    return result


def _no_sessions(scope: Scope, value: Any, path: str, line: int | None) -> Any:
    result = boolean()(scope, value, path, line)
    if result is True:
        return scope.report(
            path, "true is not supported: the Python SDK has no session worker", line
        )
    return result


_WORKER_OPTION_FIELDS: Mapping[str, FieldSpec] = {
    "identity": FieldSpec(string()),
    "max_concurrent_activity_execution_size": FieldSpec(integer(minimum=1)),
    "max_concurrent_workflow_task_execution_size": FieldSpec(integer(minimum=1)),
    "max_concurrent_local_activity_execution_size": FieldSpec(integer(minimum=1)),
    "max_concurrent_session_execution_size": FieldSpec(integer(minimum=0)),
    "max_concurrent_eager_activity_execution_size": FieldSpec(integer(minimum=0)),
    "max_concurrent_activity_task_pollers": FieldSpec(integer(minimum=1)),
    "max_concurrent_workflow_task_pollers": FieldSpec(_workflow_pollers),
    "worker_activities_per_second": FieldSpec(number(minimum=0)),
    "worker_local_activities_per_second": FieldSpec(number(minimum=0)),
    "task_queue_activities_per_second": FieldSpec(number(minimum=0)),
    "sticky_schedule_to_start_timeout": FieldSpec(duration(positive=True)),
    "worker_stop_timeout": FieldSpec(duration()),
    "deadlock_detection_timeout": FieldSpec(duration()),
    "max_heartbeat_throttle_interval": FieldSpec(duration()),
    "default_heartbeat_throttle_interval": FieldSpec(duration()),
    "enable_logging_in_replay": FieldSpec(boolean()),
    "enable_session_worker": FieldSpec(_no_sessions),
    "disable_workflow_worker": FieldSpec(boolean()),
    "local_activity_worker_only": FieldSpec(boolean()),
    "disable_eager_activities": FieldSpec(boolean()),
    "disable_registration_aliasing": FieldSpec(boolean()),
    "deployment_name": FieldSpec(string()),
    "build_id": FieldSpec(string()),
    "use_versioning": FieldSpec(boolean()),
    "default_versioning_behavior": FieldSpec(string(choices=("", "pinned", "auto_upgrade"))),
}


def _finish_worker_options(scope: Scope, values: dict[str, Any], raw: Any, path: str) -> Any:
    if values.get("disable_workflow_worker") and values.get("local_activity_worker_only"):
        return scope.report(
            f"{path}.local_activity_worker_only",
            "cannot be combined with disable_workflow_worker (the worker would run nothing)",
            key_line(raw, "local_activity_worker_only"),
        )
    return MappingProxyType(values)


#: Fields of ``temporal.worker`` besides ``name``, ``kind`` and ``meta``.
WORKER_FIELDS: Mapping[str, FieldSpec] = {
    "client": FieldSpec(ref("temporal.client", edge=True), required=True),
    "task_queue": FieldSpec(string(nonempty=True), required=True),
    "worker_options": FieldSpec(block(_WORKER_OPTION_FIELDS, _finish_worker_options)),
    "lifecycle": FieldSpec(lifecycle),
}
