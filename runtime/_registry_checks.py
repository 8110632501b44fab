"""Field checks for registry validation: one small function per value type.

See docs/reference/yaml-kinds.md, "Value types", "Errors".

A *check* takes the :class:`Scope` of the entry being validated, a raw YAML value, the dotted
path of the field and its line. It returns the converted value, :data:`INVALID` after reporting
a problem, or :data:`OMIT` when the value is valid but nothing is stored. Checks are combined
into field tables (``name -> FieldSpec``) that :func:`read_fields` applies to a mapping, so a
kind is described by data: see ``_registry_kinds.py``.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from ._durations import parse_duration
from ._errors import Problem
from ._registry_model import LuaSource
from ._registry_yaml import describe, item_line, key_line, node_line, to_plain
from ._sizes import parse_bytes

__all__ = [
    "INVALID",
    "NAMESPACE_RE",
    "NAME_RE",
    "OMIT",
    "Check",
    "Collector",
    "FieldSpec",
    "PendingRef",
    "Scope",
    "block",
    "boolean",
    "did_you_mean",
    "duration",
    "expected",
    "forbidden",
    "ignored",
    "integer",
    "join_path",
    "list_of",
    "map_of",
    "mapping",
    "number",
    "outside_root",
    "read_fields",
    "ref",
    "string",
    "suggest",
    "unsupported",
]

log = logging.getLogger("orrery.registry")

#: A namespace: dot-separated segments (docs/reference/yaml-kinds.md, "Identifiers and references").
NAMESPACE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*")
#: An entry name (docs/reference/yaml-kinds.md, "Identifiers and references").
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class _Sentinel:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: Returned by a check that reported a problem.
INVALID: Any = _Sentinel("INVALID")
#: Returned by a check whose value is valid but not stored in the model.
OMIT: Any = _Sentinel("OMIT")


@attrs.frozen
class PendingRef:
    """A reference to resolve once every entry is known.

    Attributes:
        file: YAML file of the referencing entry.
        line: line of the reference.
        entry: referencing entry ID.
        kind: referencing entry kind.
        field: dotted path of the reference.
        target: the full ID referred to.
        kinds: the accepted kinds.
        edge: whether the reference is a service dependency edge (docs/reference/yaml-kinds.md,
        "lifecycle").
        hints: target kind -> message used instead of the generic wrong-kind message.
    """

    file: str
    line: int | None
    entry: str
    kind: str
    field: str
    target: str
    kinds: tuple[str, ...]
    edge: bool = False
    hints: Mapping[str, str] = attrs.field(factory=dict)


@attrs.define
class Collector:
    """Shared state of one load: problems, pending references, Lua sources read so far."""

    problems: list[Problem] = attrs.field(factory=list)
    refs: list[PendingRef] = attrs.field(factory=list)
    sources: dict[Path, LuaSource | str] = attrs.field(factory=dict)
    cwd: Path = attrs.field(factory=Path.cwd)


@attrs.define
class Scope:
    """Where the problems of one entry (or file) go, and what checks need to know about it.

    Attributes:
        collector: the load's shared state.
        file: display path of the YAML file.
        line: line of the entry (fallback for problems without a line).
        entry: the entry ID, when known.
        kind: the entry kind, when known.
        namespace: namespace used to resolve bare references.
        base_dir: directory of the YAML file (for ``file://`` paths).
        root: the source root the file was found in.
        count: number of problems reported through this scope.
        blocked: field paths already reported as unsupported; nothing more is said about them.
    """

    collector: Collector
    file: str | None
    line: int | None = None
    entry: str | None = None
    kind: str | None = None
    namespace: str = ""
    base_dir: Path = attrs.field(factory=Path.cwd)
    root: Path = attrs.field(factory=Path.cwd)
    count: int = 0
    blocked: set[str] = attrs.field(factory=set)

    def report(self, field: str | None, message: str, line: int | None = None) -> Any:
        """Records a problem for ``field`` and returns :data:`INVALID`."""
        if field is not None and any(
            field == path or field.startswith((path + ".", path + "[")) for path in self.blocked
        ):
            return INVALID
        self.count += 1
        self.collector.problems.append(
            Problem(
                file=self.file,
                line=line if line is not None else self.line,
                entry=self.entry,
                kind=self.kind,
                field=field,
                message=message,
            )
        )
        return INVALID

    def display(self, path: Path) -> str:
        """The display form of ``path``: relative to the working directory when below it."""
        try:
            return path.relative_to(self.collector.cwd).as_posix()
        except ValueError:
            return str(path)


def outside_root(scope: Scope, target: Path) -> str | None:
    """Why ``target`` may not be read, when a symlink takes it out of the source root.

    ``target`` is already inside the root as written; this follows symlinks
    (``Path.resolve``) on both sides, so a link to a file elsewhere on the machine
    cannot be read through the app (docs/sandbox.md, "Inputs the node does not trust").

    Returns:
        ``None`` when the resolved file is inside the resolved root, else the end of a
        problem message ("lies outside ...").
    """
    root = scope.root.resolve()
    try:
        resolved = target.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        return f"cannot be resolved ({getattr(exc, 'strerror', None) or exc})"
    if resolved.is_relative_to(root):
        return None
    return (
        f"lies outside the source root {scope.display(scope.root)} "
        f"(a symlink leads to {resolved}; links must stay inside the root)"
    )


Check = Callable[[Scope, Any, str, int | None], Any]


@attrs.frozen
class FieldSpec:
    """One field of a mapping.

    Attributes:
        check: validates and converts the value.
        required: whether a missing field is a problem.
        attr: model attribute receiving the value (default: the field name); ``"*"`` merges the
            mapping the check returns into the result.
    """

    check: Check
    required: bool = False
    attr: str | None = None


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (edits and adjacent transpositions)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate nearest to ``word`` within edit distance 2, or ``None``.

    Args:
        word: what the user wrote.
        candidates: the valid spellings.
    """
    best: tuple[int, str] | None = None
    for candidate in sorted(set(candidates)):
        if candidate == word:
            continue
        dist = _distance(word, candidate)
        if dist <= 2 and (best is None or dist < best[0]):
            best = (dist, candidate)
    return best[1] if best else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``' (did you mean "x"?)'`` when a candidate is close to ``word``, else ``""``."""
    close = suggest(word, candidates)
    return f' (did you mean "{close}"?)' if close else ""


def join_path(prefix: str, key: object) -> str:
    """Dotted field path of ``key`` inside ``prefix``."""
    return f"{prefix}.{key}" if prefix else str(key)


def read_fields(
    scope: Scope,
    raw: Mapping[Any, Any],
    fields: Mapping[str, FieldSpec],
    prefix: str = "",
    *,
    skip: Iterable[str] = (),
    unknown: Callable[[Scope, str, str, int | None], None] | None = None,
) -> dict[str, Any]:
    """Checks every field of ``raw`` against ``fields``.

    Unknown fields and missing required fields are reported; invalid values are left out.

    Args:
        scope: where problems go.
        raw: the YAML mapping.
        fields: the accepted fields.
        prefix: dotted path of ``raw`` itself.
        skip: field names handled elsewhere.
        unknown: reports an unknown field instead of the default message.

    Returns:
        Model attribute -> converted value, for the valid fields present.
    """
    out: dict[str, Any] = {}
    skipped = set(skip)
    for key, value in raw.items():
        if key in skipped:
            continue
        path = join_path(prefix, key)
        line = key_line(raw, key)
        spec = fields.get(key) if isinstance(key, str) else None
        if spec is None:
            if unknown is not None:
                unknown(scope, str(key), path, line)
            else:
                _unknown_field(scope, str(key), path, line, [*fields, *skipped])
            continue
        result = spec.check(scope, value, path, line)
        if result is INVALID or result is OMIT:
            continue
        if spec.attr == "*":
            out.update(result)
        else:
            out[spec.attr or key] = result
    for key, spec in fields.items():
        if spec.required and key not in raw:
            scope.report(join_path(prefix, key), "required field is missing", node_line(raw))
    return out


def _unknown_field(scope: Scope, key: str, path: str, line: int | None, known: list[str]) -> None:
    hint = did_you_mean(key, known)
    if not hint:
        hint = f" (known fields: {', '.join(sorted(set(known)))})"
    scope.report(path, f"unknown field{hint}", line)


def expected(scope: Scope, what: str, value: Any, path: str, line: int | None) -> Any:
    """Reports a type mismatch and returns :data:`INVALID`."""
    return scope.report(path, f"expected {what}, got {describe(value)}", line)


def string(*, nonempty: bool = False, choices: Iterable[str] | None = None) -> Check:
    """A string; optionally non-empty or one of ``choices``."""
    allowed = tuple(choices) if choices is not None else None

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if not isinstance(value, str):
            return expected(scope, "a string", value, path, line)
        if nonempty and not value:
            return scope.report(path, "must not be empty", line)
        if allowed is not None and value not in allowed:
            names = ", ".join(f'"{c}"' for c in allowed)
            hint = did_you_mean(value, allowed)
            return scope.report(
                path, f'invalid value "{value}"{hint}; expected one of {names}', line
            )
        return value

    return check


def boolean() -> Check:
    """``true`` or ``false``."""

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if not isinstance(value, bool):
            return expected(scope, "a boolean", value, path, line)
        return value

    return check


def _in_range(
    scope: Scope,
    value: float,
    path: str,
    line: int | None,
    bounds: tuple[float | None, float | None],
) -> Any:
    minimum, maximum = bounds
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        return scope.report(path, f"must be between {minimum} and {maximum} (got {value})", line)
    if minimum is not None and not value >= minimum:
        return scope.report(path, f"must be at least {minimum} (got {value})", line)
    if maximum is not None and not value <= maximum:
        return scope.report(path, f"must be at most {maximum} (got {value})", line)
    return value


def integer(*, minimum: int | None = None, maximum: int | None = None) -> Check:
    """An integer scalar within optional bounds."""

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            return expected(scope, "an integer", value, path, line)
        return _in_range(scope, value, path, line, (minimum, maximum))

    return check


def number(*, minimum: float | None = None, maximum: float | None = None) -> Check:
    """An integer or float scalar, finite, within optional bounds; converted to float."""

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return expected(scope, "a number", value, path, line)
        if not math.isfinite(value):
            return scope.report(path, f"must be a finite number (got {value})", line)
        result = _in_range(scope, value, path, line, (minimum, maximum))
        return result if result is INVALID else float(value)

    return check


def duration(*, positive: bool = False) -> Check:
    """A Go duration string; converted to float seconds.

    See docs/reference/yaml-kinds.md, "Value types".
    """

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return scope.report(
                path,
                f'invalid duration {value} (durations must be strings such as "5s")',
                line,
            )
        if not isinstance(value, str):
            return expected(scope, 'a duration string such as "5s"', value, path, line)
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            return scope.report(path, str(exc), line)
        if positive and seconds <= 0:
            return scope.report(path, f'must be greater than 0 (got "{value}")', line)
        return seconds

    return check


def byte_size() -> Check:
    """A size in bytes: a non-negative integer or a string such as ``"64MiB"``; to int."""

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                return scope.report(path, f"must be at least 0 (got {value})", line)
            return value
        if not isinstance(value, str):
            return expected(scope, 'a size such as "512MiB"', value, path, line)
        try:
            return parse_bytes(value)
        except ValueError as exc:
            return scope.report(path, str(exc), line)

    return check


def list_of(item: Check) -> Check:
    """A sequence whose items all pass ``item``; converted to a tuple."""

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if not isinstance(value, list):
            return expected(scope, "a list", value, path, line)
        out = []
        ok = True
        for index, element in enumerate(value):
            result = item(scope, element, f"{path}[{index}]", item_line(value, index))
            if result is INVALID:
                ok = False
            elif result is not OMIT:
                out.append(result)
        return tuple(out) if ok else INVALID

    return check


def map_of(item: Check) -> Check:
    """A mapping with string keys whose values pass ``item``; converted to a read-only view."""

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if not isinstance(value, dict):
            return expected(scope, "a mapping", value, path, line)
        out = {}
        ok = True
        for key, element in value.items():
            sub = join_path(path, key)
            if not isinstance(key, str):
                ok = False
                expected(scope, "string keys", key, sub, key_line(value, key))
                continue
            result = item(scope, element, sub, key_line(value, key))
            if result is INVALID:
                ok = False
            elif result is not OMIT:
                out[key] = result
        return MappingProxyType(out) if ok else INVALID

    return check


def mapping() -> Check:
    """Any mapping, kept verbatim (a plain deep copy behind a read-only view)."""

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if not isinstance(value, dict):
            return expected(scope, "a mapping", value, path, line)
        return MappingProxyType(to_plain(value))

    return check


def block(
    fields: Mapping[str, FieldSpec],
    finish: Callable[[Scope, dict[str, Any], Any, str], Any] | None = None,
) -> Check:
    """A nested mapping with its own fields; ``finish`` turns the values into the result.

    ``finish(scope, values, raw, path)`` may report cross-field problems. It is called even when
    some fields were invalid (those are missing from ``values``), so that every problem is
    reported; its result is then discarded.
    """

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if not isinstance(value, dict):
            return expected(scope, "a mapping", value, path, line)
        before = scope.count
        result: Any = read_fields(scope, value, fields, path)
        if finish is not None:
            result = finish(scope, result, value, path)
        return result if scope.count == before else INVALID

    return check


def ref(*kinds: str, edge: bool = False, hints: Mapping[str, str] | None = None) -> Check:
    """A reference to an entry of one of ``kinds``; converted to the full ID.

    See docs/reference/yaml-kinds.md, "Identifiers and references".

    The target is checked once every entry is known (see ``_registry_graph.py``).
    """

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if not isinstance(value, str):
            return expected(
                scope, 'an entry reference ("name" or "namespace:name")', value, path, line
            )
        if not value:
            return scope.report(path, "must not be empty", line)
        namespace, sep, name = value.partition(":")
        if not sep:
            namespace, name = scope.namespace, value
        if (sep and not NAMESPACE_RE.fullmatch(namespace)) or not NAME_RE.fullmatch(name):
            return scope.report(
                path, f'invalid reference "{value}" (expected "name" or "namespace:name")', line
            )
        target = f"{namespace}:{name}"
        if scope.entry is not None and scope.kind is not None and scope.file is not None:
            scope.collector.refs.append(
                PendingRef(
                    file=scope.file,
                    line=line,
                    entry=scope.entry,
                    kind=scope.kind,
                    field=path,
                    target=target,
                    kinds=kinds,
                    edge=edge,
                    hints=dict(hints or {}),
                )
            )
        return target

    return check


def unsupported(
    feature: str, inner: Check | None = None, allowed: Callable[[Any], bool] | None = None
) -> Check:
    """An [extended] feature this build does not implement.

    ``inner`` validates the value first; values for which ``allowed`` is true mean "feature
    unused" and are accepted (and not stored).
    """

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if inner is not None and inner(scope, value, path, line) is INVALID:
            return INVALID
        if allowed is not None and allowed(value):
            return OMIT
        scope.report(path, f"{feature} is not supported by this orrery build", line)
        scope.blocked.add(path)
        return INVALID

    return check


def ignored(inner: Check) -> Check:
    """A Wippy field accepted for compatibility and ignored, with one info log line."""

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        if inner(scope, value, path, line) is INVALID:
            return INVALID
        log.info(
            "%s: entry %s: field %s is accepted for Wippy compatibility and ignored",
            scope.file,
            scope.entry,
            path,
        )
        return OMIT

    return check


def forbidden(message: str) -> Check:
    """A field that must not be given; ``message`` says why."""

    def check(scope: Scope, value: Any, path: str, line: int | None) -> Any:
        return scope.report(path, message, line)

    return check
