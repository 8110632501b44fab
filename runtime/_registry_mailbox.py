"""The ``mailbox`` block of ``process.lua`` / ``workflow.lua`` entries ([extended]).

```yaml
mailbox:
  capacity: 1000          # messages of unlisted topics queued at most
  overflow: drop_oldest   # block | drop_newest | drop_oldest | fail (default block)
  topics:
    metrics: {capacity: 10}               # its own bound; overflow inherited
    jobs: {capacity: 100, overflow: fail}
```

The same setting is accepted at spawn time as ``process.with_options({mailbox = {...}})``,
validated by the kernel (``K.mailbox_config``) with the same rules. See docs/mailboxes.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ._registry_checks import (
    INVALID,
    Check,
    FieldSpec,
    Scope,
    expected,
    integer,
    read_fields,
    string,
)
from ._registry_model import OVERFLOW_POLICIES, MailboxBound, MailboxSpec
from ._registry_yaml import key_line

__all__ = ["mailbox", "no_mailbox"]

_BOUND_FIELDS: Mapping[str, FieldSpec] = {
    "capacity": FieldSpec(integer(minimum=1), required=True),
    "overflow": FieldSpec(string(choices=OVERFLOW_POLICIES)),
}

_MAILBOX_FIELDS: Mapping[str, FieldSpec] = {
    "capacity": FieldSpec(integer(minimum=1)),
    "overflow": FieldSpec(string(choices=OVERFLOW_POLICIES)),
}


def _topics(scope: Scope, value: Any, path: str, line: int | None) -> Any:
    """``mailbox.topics``: topic -> ``{capacity, overflow}``; overflow may be missing."""
    if not isinstance(value, dict):
        return expected(scope, "a mapping of topic -> {capacity, overflow}", value, path, line)
    before = scope.count
    out: dict[str, dict[str, Any]] = {}
    for topic, raw in value.items():
        sub = f"{path}.{topic}"
        where = key_line(value, topic)
        if not isinstance(topic, str) or not topic or topic.startswith("@"):
            scope.report(sub, "topics are non-empty strings that do not start with @", where)
            continue
        if not isinstance(raw, dict):
            expected(scope, "a mapping such as {capacity: 100}", raw, sub, where)
            continue
        out[topic] = read_fields(scope, raw, _BOUND_FIELDS, sub)
    return out if scope.count == before else INVALID


def mailbox(scope: Scope, value: Any, path: str, line: int | None) -> Any:
    """Checks a ``mailbox`` block; converts it to a :class:`MailboxSpec`."""
    if not isinstance(value, dict):
        return expected(
            scope, "a mapping such as {capacity: 1000, overflow: block}", value, path, line
        )
    before = scope.count
    values = read_fields(scope, value, {**_MAILBOX_FIELDS, "topics": FieldSpec(_topics)}, path)
    if scope.count != before:
        return INVALID
    overflow = values.get("overflow", "block")
    topics = values.get("topics", {})
    if "capacity" not in values and not topics:
        return scope.report(
            path,
            "needs a capacity or topics; leave the mailbox block out for an unbounded mailbox",
            line,
        )
    bounds = {
        topic: MailboxBound(capacity=raw["capacity"], overflow=raw.get("overflow", overflow))
        for topic, raw in topics.items()
    }
    return MailboxSpec(
        capacity=values.get("capacity"), overflow=overflow, topics=MappingProxyType(bounds)
    )


def no_mailbox(kind: str) -> Check:
    """``mailbox`` on a kind whose frames live for one call (``function.lua``)."""

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        return scope.report(
            path,
            f"{kind} entries have no mailbox setting (a function frame lives for one call); "
            "bound the mailbox of the process.lua or workflow.lua entry that receives messages",
            line,
        )

    return check
