"""Workflow start options and retry policies ("Retry policy").

See docs/reference/yaml-kinds.md, "Workflow start options".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import temporalio.common
import temporalio.workflow

from ...runtime._durations import parse_option_duration
from ...runtime._errors import InvalidError

_TOP = "top"
_CHILD = "child"

# option -> scopes
_SCOPES: dict[str, set[str]] = {
    "id": {_TOP, _CHILD},
    "task_queue": {_TOP, _CHILD},
    "execution_timeout": {_TOP, _CHILD},
    "run_timeout": {_TOP, _CHILD},
    "task_timeout": {_TOP, _CHILD},
    "id_conflict_policy": {_TOP, _CHILD},
    "id_reuse_policy": {_TOP, _CHILD},
    "execution_error_when_already_started": {_TOP},
    "retry_policy": {_TOP, _CHILD},
    "cron_schedule": {_TOP, _CHILD},
    "memo": {_TOP, _CHILD},
    "search_attributes": {_TOP, _CHILD},
    "typed_search_attributes": {_TOP, _CHILD},
    "enable_eager_start": {_TOP},
    "start_delay": {_TOP},
    "parent_close_policy": {_CHILD},
    "wait_for_cancellation": {_CHILD},
    "namespace": {_TOP, _CHILD},
}


def normalise(options: dict[str, Any] | None, scope: str) -> dict[str, Any]:
    """Strips the ``temporal.workflow.`` / ``workflow.`` prefixes; canonical spelling wins."""
    out: dict[str, Any] = {}
    legacy: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if key.startswith("temporal.workflow."):
            legacy[key[len("temporal.workflow.") :]] = value
        elif key.startswith("workflow."):
            out[key[len("workflow.") :]] = value
        elif key == "mailbox":
            continue  # a workflow's mailbox is its history: unbounded (docs/mailboxes.md)
        else:
            raise InvalidError(f"unknown spawn option {key!r}")
    merged = {**legacy, **out}
    for key in merged:
        if key not in _SCOPES:
            raise InvalidError(f"unknown workflow option {key!r}")
        if scope not in _SCOPES[key]:
            where = (
                "a child workflow" if scope == _CHILD else "a workflow started outside a workflow"
            )
            raise InvalidError(f"workflow option {key!r} cannot be used for {where}")
    return merged


def _enum_name(value: Any, prefix: str) -> str:
    if not isinstance(value, str):
        raise InvalidError(f"expected a string for {prefix.lower()}, got {type(value).__name__}")
    name = value.strip().upper().replace("-", "_")
    return name.removeprefix(prefix)


def duration(value: Any, what: str) -> timedelta:
    """A duration option: a string or a number of milliseconds."""
    try:
        return timedelta(seconds=parse_option_duration(value))
    except (ValueError, TypeError) as exc:
        raise InvalidError(f"{what}: {exc}") from None


_RETRY_FIELDS = {
    "initial_interval": "initial_interval",
    "initialInterval": "initial_interval",
    "backoff_coefficient": "backoff_coefficient",
    "backoffCoefficient": "backoff_coefficient",
    "maximum_interval": "maximum_interval",
    "maximumInterval": "maximum_interval",
    "maximum_attempts": "maximum_attempts",
    "maximumAttempts": "maximum_attempts",
    "non_retryable_error_types": "non_retryable_error_types",
    "nonRetryableErrorTypes": "non_retryable_error_types",
}


def retry_policy(value: Any) -> temporalio.common.RetryPolicy:
    """A retry policy table (docs/reference/yaml-kinds.md, "Retry policy")."""
    if not isinstance(value, dict):
        raise InvalidError("retry_policy must be a table")
    kwargs: dict[str, Any] = {}
    for key, v in value.items():
        name = _RETRY_FIELDS.get(key)
        if name is None:
            raise InvalidError(f"unknown retry_policy field {key!r}")
        if name in ("initial_interval", "maximum_interval"):
            kwargs[name] = duration(v, f"retry_policy.{key}")
        elif name == "non_retryable_error_types":
            kwargs[name] = [v] if isinstance(v, str) else list(v or [])
        elif name == "maximum_attempts":
            kwargs[name] = int(v)
        else:
            kwargs[name] = float(v)
    return temporalio.common.RetryPolicy(**kwargs)


def search_attributes(value: Any) -> temporalio.common.TypedSearchAttributes:
    """Typed search attributes inferred from Lua values.

    See docs/reference/yaml-kinds.md, "Workflow start options".
    """
    if not isinstance(value, dict):
        raise InvalidError("search_attributes must be a table")
    pairs = []
    for name, raw_value in value.items():
        key: Any
        v = raw_value
        if isinstance(v, bool):
            key = temporalio.common.SearchAttributeKey.for_bool(name)
        elif isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
            key, v = temporalio.common.SearchAttributeKey.for_int(name), int(v)
        elif isinstance(v, float):
            key = temporalio.common.SearchAttributeKey.for_float(name)
        elif isinstance(v, str):
            key = temporalio.common.SearchAttributeKey.for_keyword(name)
        elif isinstance(v, list) and all(isinstance(s, str) for s in v):
            key = temporalio.common.SearchAttributeKey.for_keyword_list(name)
        else:
            raise InvalidError(f"search attribute {name!r} has an unsupported type")
        pairs.append(temporalio.common.SearchAttributePair(key, v))
    return temporalio.common.TypedSearchAttributes(pairs)


def conflict_policy(opts: dict[str, Any], id_given: bool) -> str:
    """The effective ID conflict policy name (docs/reference/temporal.md, "ID conflicts")."""
    policy = opts.get("id_conflict_policy")
    legacy = opts.get("execution_error_when_already_started")
    if policy is not None:
        name = _enum_name(policy, "WORKFLOW_ID_CONFLICT_POLICY_")
        if name not in ("USE_EXISTING", "FAIL", "TERMINATE_EXISTING"):
            raise InvalidError(f"unknown id_conflict_policy {policy!r}")
        if name == "USE_EXISTING" and legacy is True:
            raise InvalidError(
                "id_conflict_policy use_existing contradicts execution_error_when_already_started"
            )
        return name
    if legacy is True:
        return "FAIL"
    if legacy is False:
        return "USE_EXISTING"
    return "USE_EXISTING" if id_given else "FAIL"


def common_kwargs(opts: dict[str, Any], default_namespace: str) -> dict[str, Any]:
    """SDK keyword arguments shared by client starts and child starts."""
    kwargs: dict[str, Any] = {}
    for key in ("execution_timeout", "run_timeout", "task_timeout"):
        if key in opts:
            kwargs[key] = duration(opts[key], key)
    if "id_reuse_policy" in opts:
        name = _enum_name(opts["id_reuse_policy"], "WORKFLOW_ID_REUSE_POLICY_")
        try:
            kwargs["id_reuse_policy"] = temporalio.common.WorkflowIDReusePolicy[name]
        except KeyError:
            raise InvalidError(f"unknown id_reuse_policy {opts['id_reuse_policy']!r}") from None
    if "retry_policy" in opts:
        kwargs["retry_policy"] = retry_policy(opts["retry_policy"])
    if "cron_schedule" in opts:
        kwargs["cron_schedule"] = str(opts["cron_schedule"])
    if "memo" in opts:
        if not isinstance(opts["memo"], dict):
            raise InvalidError("memo must be a table")
        kwargs["memo"] = opts["memo"]
    sa = opts.get("search_attributes", opts.get("typed_search_attributes"))
    if sa is not None:
        kwargs["search_attributes"] = search_attributes(sa)
    ns = opts.get("namespace")
    if ns is not None and ns != default_namespace:
        raise InvalidError(
            f"namespace {ns!r} differs from the client's namespace {default_namespace!r}; "
            "use a temporal.client for the other namespace"
        )
    return kwargs


def child_kwargs(opts: dict[str, Any], default_namespace: str) -> dict[str, Any]:
    """Keyword arguments for ``workflow.start_child_workflow``."""
    kwargs = common_kwargs(opts, default_namespace)
    if "parent_close_policy" in opts:
        name = _enum_name(opts["parent_close_policy"], "PARENT_CLOSE_POLICY_")
        try:
            kwargs["parent_close_policy"] = temporalio.workflow.ParentClosePolicy[name]
        except KeyError:
            raise InvalidError(
                f"unknown parent_close_policy {opts['parent_close_policy']!r}"
            ) from None
    wait = opts.get("wait_for_cancellation", False)
    kwargs["cancellation_type"] = (
        temporalio.workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED
        if wait
        else temporalio.workflow.ChildWorkflowCancellationType.TRY_CANCEL
    )
    policy = opts.get("id_conflict_policy")
    if policy is not None and _enum_name(policy, "WORKFLOW_ID_CONFLICT_POLICY_") != "FAIL":
        raise InvalidError("a child workflow only accepts id_conflict_policy fail")
    return kwargs


_ACTIVITY_KEYS = {
    "retry_policy",
    "start_to_close_timeout",
    "schedule_to_close_timeout",
    "schedule_to_start_timeout",
    "heartbeat_timeout",
    "task_queue",
    "id",
    "wait_for_cancellation",
    "summary",
}


def activity_kwargs(options: dict[str, Any] | None) -> dict[str, Any]:
    """Keyword arguments for ``workflow.execute_activity`` from ``activity.*`` options."""
    kwargs: dict[str, Any] = {"start_to_close_timeout": timedelta(minutes=10)}
    merged: dict[str, Any] = {}
    canonical: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if key.startswith("temporal.activity."):
            merged[key[len("temporal.activity.") :]] = value
        elif key.startswith("activity."):
            canonical[key[len("activity.") :]] = value
    merged.update(canonical)
    for key, value in merged.items():
        if key not in _ACTIVITY_KEYS:
            raise InvalidError(f"unknown activity option {key!r}")
        if key == "retry_policy":
            kwargs["retry_policy"] = retry_policy(value)
        elif key.endswith("_timeout"):
            kwargs[key] = duration(value, f"activity.{key}")
        elif key == "task_queue":
            kwargs["task_queue"] = str(value)
        elif key == "id":
            kwargs["activity_id"] = str(value)
        elif key == "wait_for_cancellation":
            kwargs["cancellation_type"] = (
                temporalio.workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
                if value
                else temporalio.workflow.ActivityCancellationType.TRY_CANCEL
            )
        elif key == "summary":
            kwargs["summary"] = str(value)
    return kwargs
