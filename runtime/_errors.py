"""The one exception hierarchy of orrery.

Every failure a user can meet, from Python or from Lua, has a *kind* (the
same CamelCase strings Lua sees behind the ``errors.*`` constants), a
message, a ``retryable`` flag that may be ``None`` (unspecified) and
optional ``details``. Python code raises the subclass that matches the kind,
so ``except orrery.errors.NotFound`` works as well as ``err.kind == "NotFound"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

UNKNOWN = "Unknown"
INVALID = "Invalid"
NOT_FOUND = "NotFound"
ALREADY_EXISTS = "AlreadyExists"
PERMISSION_DENIED = "PermissionDenied"
UNAVAILABLE = "Unavailable"
INTERNAL = "Internal"
CANCELED = "Canceled"
CONFLICT = "Conflict"
TIMEOUT = "Timeout"
RATE_LIMITED = "RateLimited"

#: Every kind orrery itself produces, in the order of docs/reference/lua-modules.md, "errors".
KINDS: tuple[str, ...] = (
    UNKNOWN,
    INVALID,
    NOT_FOUND,
    ALREADY_EXISTS,
    PERMISSION_DENIED,
    UNAVAILABLE,
    INTERNAL,
    CANCELED,
    CONFLICT,
    TIMEOUT,
    RATE_LIMITED,
)


class OrreryError(Exception):
    """Base of every error orrery raises on purpose.

    Attributes:
        kind: the error kind (``"NotFound"``, ``"Internal"``, ... or any string
            a Lua program chose).
        message: the human-readable message, without the kind.
        retryable: ``True``, ``False`` or ``None`` when unspecified.
        details: extra encodable data (may be empty).
    """

    default_kind: ClassVar[str] = UNKNOWN

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        retryable: bool | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: str = kind or self.default_kind
        self.message: str = message
        self.retryable: bool | None = retryable
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, message={self.message!r})"


class InvalidError(OrreryError, ValueError):
    """Bad arguments, or an operation that is not supported where it was used."""

    default_kind = INVALID


class NotFound(OrreryError, LookupError):
    """An unknown entry, name, host or PID, or a process that is no longer alive."""

    default_kind = NOT_FOUND


class AlreadyExists(OrreryError):
    """A name is taken, or a workflow ID conflicts under policy ``fail``."""

    default_kind = ALREADY_EXISTS


class PermissionDenied(OrreryError, PermissionError):
    """Raised only by user code: orrery has no security model of its own."""

    default_kind = PERMISSION_DENIED


class Unavailable(OrreryError):
    """A host or client is not running, or a capacity limit was reached."""

    default_kind = UNAVAILABLE


class NodeNotRunning(Unavailable):
    """No node answers on the control socket of a state dir (``orrery ps`` and friends)."""


class InternalError(OrreryError):
    """A Lua runtime error, a string error, or a failure inside a process."""

    default_kind = INTERNAL


class Canceled(OrreryError):
    """The process was terminated, its cancel deadline passed, or its host stopped."""

    default_kind = CANCELED


class Conflict(OrreryError):
    """Raised only by user code."""

    default_kind = CONFLICT


class Timeout(OrreryError, TimeoutError):
    """A call, activity or workflow did not finish in time."""

    default_kind = TIMEOUT


class RateLimited(OrreryError):
    """Raised only by user code."""

    default_kind = RATE_LIMITED


class NondeterminismError(OrreryError):
    """Replayed workflow code issued commands that do not match its history.

    A replay (:func:`orrery.testing.replay_histories`) sets ``entry``, the workflow's entry
    ID (``None`` when the history does not say), and ``lua_location``, where the Lua code
    issued its last command (``"?"`` when it issued none).
    """

    default_kind = INTERNAL
    entry: str | None
    lua_location: str


class ExpectationFailed(OrreryError, AssertionError):
    """A test expectation of :mod:`orrery.testing` was not met.

    It is an :class:`AssertionError` too, so pytest reports it as a plain test
    failure; the message says what was expected and what arrived instead.
    """

    default_kind = UNKNOWN


_BY_KIND: dict[str, type[OrreryError]] = {
    cls.default_kind: cls
    for cls in (
        InvalidError,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        Unavailable,
        InternalError,
        Canceled,
        Conflict,
        Timeout,
        RateLimited,
    )
}


def error_for(
    kind: str,
    message: str,
    *,
    retryable: bool | None = None,
    details: Mapping[str, Any] | None = None,
) -> OrreryError:
    """Build the exception class that matches ``kind``.

    Kinds a Lua program invented (``errors.new{kind = "Payment"}``) become a
    plain :class:`OrreryError` that keeps the kind string.
    """
    cls = _BY_KIND.get(kind, OrreryError)
    return cls(message, kind=kind, retryable=retryable, details=details)


@attrs.frozen
class Problem:
    """One problem found in the registry (docs/reference/yaml-kinds.md, "Errors").

    Attributes:
        file: the YAML (or Lua) file, as given on the command line.
        line: 1-based line in ``file`` when known.
        entry: the entry ID (``ns:name``) when the problem belongs to an entry.
        kind: the entry kind when known.
        field: dotted path of the field at fault, when there is one.
        message: what is wrong, phrased so a user can fix it.
    """

    file: str | None
    line: int | None
    entry: str | None
    kind: str | None
    field: str | None
    message: str

    def render(self) -> str:
        """One line in the format of docs/reference/yaml-kinds.md, "Errors"."""
        where = self.file or "<registry>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        parts = [f"{where}:"]
        if self.entry is not None:
            kind = f" ({self.kind})" if self.kind else ""
            parts.append(f' entry "{self.entry}"{kind}:')
        if self.field is not None:
            parts.append(f' field "{self.field}":')
        parts.append(f" {self.message}")
        return "".join(parts)


class RegistryError(OrreryError, ValueError):
    """The registry could not be loaded; ``problems`` lists every problem found."""

    default_kind = INVALID

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"registry has {count} {noun}:"]
        lines.extend("  " + p.render() for p in self.problems)
        super().__init__("\n".join(lines))


class UsageError(OrreryError, ValueError):
    """A command-line or API call was used wrongly (unknown entry, bad JSON, ...)."""

    default_kind = INVALID


class OrreryInternalError(Exception):
    """A bug in orrery itself, like trio's ``TrioInternalError``. Please report it."""
