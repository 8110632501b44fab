"""Loading a registry: discovery, file structure, overrides, entries, whole-registry rules.

See docs/reference/yaml-kinds.md, "Files", "Identifiers and references", "Errors", "Node
configuration (orrery.yaml)", and docs/reference/cli.md for ``--override``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs
import yaml

from ._errors import Problem, RegistryError
from ._registry_checks import (
    NAME_RE,
    NAMESPACE_RE,
    Collector,
    FieldSpec,
    Scope,
    byte_size,
    did_you_mean,
    duration,
    expected,
    join_path,
    outside_root,
    read_fields,
    string,
)
from ._registry_graph import (
    check_cycles,
    check_references,
    check_task_queues,
    check_workflow_names,
)
from ._registry_kinds import KINDS, kind_problem
from ._registry_model import Entry, LuaEntry, NodeConfig, Registry
from ._registry_supervisor import check_supervisors
from ._registry_yaml import (
    AliasLimitError,
    YamlMap,
    describe,
    item_line,
    key_line,
    load_yaml,
    node_line,
    to_plain,
    yaml_error,
)

__all__ = ["load_registry"]

_CONFIG_FILE = "orrery.yaml"
_FILE_KEYS = ("version", "namespace", "entries")
_NODE_NAME_RE = re.compile(r"[A-Za-z0-9_.-]+")
_PLACEHOLDER = "${env:"


@attrs.define
class _RawEntry:
    """One entry mapping as read from a file, before validation."""

    scope: Scope
    raw: dict[Any, Any]
    entry_id: str | None


def _file_scope(collector: Collector, root: Path, path: Path) -> Scope:
    scope = Scope(collector, file=None, base_dir=path.parent, root=root)
    scope.file = scope.display(path)
    return scope


def _read_yaml(scope: Scope, path: Path) -> tuple[bool, Any]:
    """Reads and parses one YAML file; reports problems and returns ``(ok, data)``."""
    outside = outside_root(scope, path)
    if outside is not None:
        scope.report(None, f"file {outside}")
        return False, None
    try:
        data = path.read_bytes()
    except OSError as exc:
        scope.report(None, f"cannot read file: {exc.strerror or exc}")
        return False, None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        scope.report(
            None, f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        )
        return False, None
    try:
        value, duplicates = load_yaml(text)
    except yaml.YAMLError as exc:
        message, line = yaml_error(exc)
        prefix = "" if isinstance(exc, AliasLimitError) else "invalid YAML: "
        scope.report(None, prefix + message, line)
        return False, None
    for dup in duplicates:
        scope.report(
            None, f'duplicate key "{dup.key}" (first defined at line {dup.first_line})', dup.line
        )
    return True, value


def _discover(collector: Collector, roots: Sequence[Path]) -> list[tuple[Path, Path]]:
    """Every definition file as ``(root, path)``, in load order; config files excluded."""
    found: list[tuple[Path, Path]] = []
    seen: set[Path] = set()
    for root in roots:
        scope = Scope(collector, file=None, root=root)
        scope.file = scope.display(root)
        if not root.exists():
            scope.report(None, "source root does not exist")
            continue
        if not root.is_dir():
            scope.report(None, "source root is not a directory")
            continue
        files: list[tuple[str, Path]] = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith(".") or not name.endswith((".yaml", ".yml")):
                    continue
                path = Path(dirpath) / name
                relative = path.relative_to(root).as_posix()
                if relative != _CONFIG_FILE:
                    files.append((relative, path))
        for _, path in sorted(files):
            if path not in seen:
                seen.add(path)
                found.append((root, path))
    return found


def _parse_file(collector: Collector, root: Path, path: Path) -> list[_RawEntry]:
    """Checks the structure of one definition file and returns its entries.

    See docs/reference/yaml-kinds.md, "File structure".
    """
    scope = _file_scope(collector, root, path)
    ok, data = _read_yaml(scope, path)
    if not ok:
        return []
    if not isinstance(data, dict):
        scope.report(
            None,
            f'expected a mapping with "namespace" and "entries", got {describe(data)}',
            node_line(data) or 1,
        )
        return []
    if "entries" not in data and ("name" in data or "kind" in data):
        scope.report(
            None,
            "single-entry files are not supported by this orrery build "
            '(put the entry in an "entries" list)',
            1,
        )
        return []
    for key in data:
        if key not in _FILE_KEYS:
            hint = did_you_mean(str(key), _FILE_KEYS) or " (allowed: version, namespace, entries)"
            scope.report(str(key), "unknown top-level key" + hint, key_line(data, key))
    if "version" in data:
        version = data["version"]
        if not (version == "1.0" or (isinstance(version, float) and version == 1.0)):
            shown = f'"{version}"' if isinstance(version, str) else str(version)
            scope.report(
                "version",
                f'unsupported version {shown} (only "1.0" is supported)',
                key_line(data, "version"),
            )
    namespace = _check_namespace(scope, data)
    if "entries" not in data:
        scope.report("entries", "required field is missing", node_line(data))
        return []
    entries = data["entries"]
    if not isinstance(entries, list):
        expected(scope, "a list", entries, "entries", key_line(data, "entries"))
        return []
    if namespace is None:
        return []
    result = []
    for index, item in enumerate(entries):
        line = item_line(entries, index)
        if not isinstance(item, dict):
            scope.report(
                f"entries[{index}]", f"expected an entry mapping, got {describe(item)}", line
            )
            continue
        entry_scope = attrs.evolve(scope, line=line, namespace=namespace, count=0, blocked=set())
        name = item.get("name")
        valid = isinstance(name, str) and NAME_RE.fullmatch(name)
        result.append(_RawEntry(entry_scope, item, f"{namespace}:{name}" if valid else None))
    return result


def _check_namespace(scope: Scope, data: dict[Any, Any]) -> str | None:
    if "namespace" not in data:
        scope.report("namespace", "required field is missing", node_line(data))
        return None
    namespace = data["namespace"]
    line = key_line(data, "namespace")
    if not isinstance(namespace, str):
        expected(scope, "a string", namespace, "namespace", line)
        return None
    if not namespace:
        scope.report("namespace", "must not be empty", line)
        return None
    if not NAMESPACE_RE.fullmatch(namespace):
        scope.report(
            "namespace",
            f'invalid namespace "{namespace}" (dot-separated segments, '
            "each matching [A-Za-z_][A-Za-z0-9_-]*)",
            line,
        )
        return None
    if namespace == "orrery" or namespace.startswith("orrery."):
        scope.report("namespace", f'namespace "{namespace}" is reserved for built-in entries', line)
    return namespace


def _copy(mapping: dict[Any, Any]) -> dict[Any, Any]:
    return mapping.copy_with_lines() if isinstance(mapping, YamlMap) else dict(mapping)


def _apply_overrides(
    collector: Collector, entries: list[_RawEntry], overrides: Sequence[str]
) -> None:
    """Applies ``NS:ENTRY:FIELD=VALUE`` overrides to the raw entries (docs/reference/cli.md)."""
    by_id: dict[str, list[_RawEntry]] = {}
    for raw in entries:
        if raw.entry_id is not None:
            by_id.setdefault(raw.entry_id, []).append(raw)
    scope = Scope(collector, file=None)
    for text in overrides:
        target, eq, value_text = text.partition("=")
        parts = target.split(":")
        keys = parts[2].split(".") if len(parts) == 3 else []
        if not eq or len(parts) != 3 or not all(parts[:2]) or not all(keys):
            scope.entry = None
            scope.report(None, f'invalid override "{text}" (expected NS:ENTRY:FIELD=VALUE)')
            continue
        scope.entry = f"{parts[0]}:{parts[1]}"
        field = parts[2]
        matches = by_id.get(scope.entry)
        if not matches:
            hint = did_you_mean(scope.entry, by_id)
            scope.report(field, f'override "{text}": entry {scope.entry} does not exist{hint}')
            continue
        if keys[0] == "name":
            scope.report(field, f'override "{text}": the entry name cannot be overridden')
            continue
        try:
            # The loader of the files, so an override is bounded the same way.
            value = to_plain(load_yaml(value_text)[0])
        except yaml.YAMLError as exc:
            message, _ = yaml_error(exc)
            scope.report(field, f'override "{text}": invalid YAML value: {message}')
            continue
        for raw in matches:
            error = _set_path(raw, keys, value)
            if error:
                scope.report(field, f'override "{text}": {error}')
                break


def _set_path(raw: _RawEntry, keys: list[str], value: Any) -> str | None:
    """Sets a dotted field, copying the containers on the way (they may be YAML aliases)."""
    raw.raw = current = _copy(raw.raw)
    for depth, key in enumerate(keys[:-1]):
        child = current.get(key)
        if child is None:
            child = {}
        elif isinstance(child, dict):
            child = _copy(child)
        else:
            return f'"{".".join(keys[: depth + 1])}" is {describe(child)}, not a mapping'
        current[key] = child
        current = child
    current[keys[-1]] = value
    if isinstance(current, YamlMap):
        current.key_lines.pop(keys[-1], None)
    return None


def _scan_placeholders(scope: Scope, value: Any, path: str, line: int | None) -> None:
    """Reports ``${env:NAME}`` placeholders ([extended], not in this build) outside ``meta``."""
    if isinstance(value, str) and _PLACEHOLDER in value:
        scope.report(path, "${env:NAME} placeholders are not supported by this orrery build", line)
        scope.blocked.add(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not (path == "" and key == "meta"):
                _scan_placeholders(scope, item, join_path(path, key), key_line(value, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _scan_placeholders(scope, item, f"{path}[{index}]", item_line(value, index))


def _validate_entry(raw: _RawEntry) -> Entry | None:
    """Validates one entry; returns its model, or ``None`` after reporting problems."""
    scope, data = raw.scope, raw.raw
    kind = data.get("kind")
    if isinstance(kind, str):
        scope.kind = kind
    name = data.get("name")
    if "name" not in data:
        scope.report("name", "required field is missing")
    elif not isinstance(name, str):
        expected(scope, "a string", name, "name", key_line(data, "name"))
    elif not NAME_RE.fullmatch(name):
        scope.report(
            "name",
            f'invalid name "{name}" (letters, digits, "_", "." and "-"; '
            'not starting with "." or "-")',
            key_line(data, "name"),
        )
    scope.entry = raw.entry_id
    if "kind" not in data:
        scope.report("kind", "required field is missing")
        return None
    if not isinstance(kind, str):
        expected(scope, "a string", kind, "kind", key_line(data, "kind"))
        return None
    problem = kind_problem(kind)
    if problem is not None:
        scope.report("kind", problem, key_line(data, "kind"))
        return None
    _scan_placeholders(scope, data, "", scope.line)
    spec = KINDS[kind]
    values = read_fields(scope, data, spec.fields, skip=("name", "kind"))
    if spec.finish is not None:
        spec.finish(scope, values, data)
    if scope.count or raw.entry_id is None or not isinstance(name, str):  # (reported above)
        return None
    assert scope.file is not None  # entry scopes are copies of their file's scope
    values.setdefault("meta", MappingProxyType({}))
    return spec.model(
        id=raw.entry_id,
        namespace=scope.namespace,
        name=name,
        kind=kind,
        file=scope.file,
        line=scope.line,
        **values,
    )


_CONFIG_FIELDS = {
    "node_name": FieldSpec(string(nonempty=True)),
    "log_level": FieldSpec(string(choices=("debug", "info", "warn", "warning", "error"))),
    "shutdown_timeout": FieldSpec(duration(positive=True)),
    "lua_memory_limit": FieldSpec(byte_size()),
}


def _node_config(collector: Collector, roots: Sequence[Path]) -> NodeConfig:
    """Reads ``orrery.yaml`` from the first root.

    See docs/reference/yaml-kinds.md, "Node configuration (orrery.yaml)".
    """
    first = roots[0] if roots else None
    values: dict[str, Any] = {}
    for root in roots:
        path = root / _CONFIG_FILE
        if not path.is_file():
            continue
        scope = _file_scope(collector, root, path)
        if root != first:
            scope.report(
                None,
                f"only the first root's {_CONFIG_FILE} is read "
                "(node configuration must be in one place)",
            )
            continue
        ok, data = _read_yaml(scope, path)
        if not ok or data is None:
            continue
        if not isinstance(data, dict):
            scope.report(None, f"expected a mapping, got {describe(data)}", 1)
            continue
        values = read_fields(scope, data, _CONFIG_FIELDS)
        node_name = values.get("node_name")
        if node_name is not None and not _NODE_NAME_RE.fullmatch(node_name):
            scope.report(
                "node_name",
                f'invalid node name "{node_name}" (letters, digits, "_", "." and "-" only)',
                key_line(data, "node_name"),
            )
    if "node_name" not in values:
        env = os.environ.get("ORRERY_NODE")
        if env:
            if _NODE_NAME_RE.fullmatch(env):
                values["node_name"] = env
            else:
                Scope(collector, file=None).report(
                    "node_name",
                    f'invalid node name "{env}" in $ORRERY_NODE (letters, digits, '
                    '"_", "." and "-" only)',
                )
    if values.get("log_level") == "warning":
        values["log_level"] = "warn"
    return NodeConfig(root=first, **values)


def _sort(problems: list[Problem], files: Sequence[str | None]) -> list[Problem]:
    rank = {name: i for i, name in enumerate(files)}

    def key(problem: Problem) -> tuple[int, int]:
        if problem.file is None:
            return (-1, 0)
        return (rank.setdefault(problem.file, len(rank)), problem.line or 0)

    return sorted(problems, key=key)


def load_registry(
    roots: Sequence[str | os.PathLike[str]],
    overrides: Sequence[str] = (),
    lua_checker: Callable[[LuaEntry], list[Problem]] | None = None,
) -> Registry:
    """Loads and validates the registry of a node (docs/reference/yaml-kinds.md).

    Every ``*.yaml`` / ``*.yml`` file below each root is read, in order of root-relative path;
    ``orrery.yaml`` directly in the first root is the node configuration.

    Args:
        roots: the source roots (directories).
        overrides: ``NS:ENTRY:FIELD=VALUE`` strings; ``FIELD`` may be dotted, ``VALUE`` is YAML.
            They are applied to the entries before validation.
        lua_checker: called for each Lua entry that passed validation (with its source read);
            returns further problems, such as Lua syntax errors.

    Returns:
        The registry.

    Raises:
        RegistryError: listing every problem found.
    """
    collector = Collector()
    root_paths = [Path(os.path.abspath(os.fspath(root))) for root in roots]
    config = _node_config(collector, root_paths)
    files = _discover(collector, root_paths)
    raw_entries: list[_RawEntry] = []
    for root, path in files:
        raw_entries.extend(_parse_file(collector, root, path))
    _apply_overrides(collector, raw_entries, overrides)

    known: dict[str, str] = {}
    first: dict[str, _RawEntry] = {}
    entries: dict[str, Entry] = {}
    for raw in raw_entries:
        model = _validate_entry(raw)
        entry_id = raw.entry_id
        if entry_id is None:
            continue
        other = first.get(entry_id)
        if other is not None:
            where = f"{other.scope.file}:{other.scope.line}"
            raw.scope.report(
                "name",
                f"duplicate entry ID {entry_id} (first defined at {where})",
                key_line(raw.raw, "name"),
            )
            continue
        first[entry_id] = raw
        kind = raw.raw.get("kind")
        if isinstance(kind, str):
            known[entry_id] = kind
        if model is not None:
            entries[entry_id] = model

    problems = collector.problems
    problems.extend(check_references(collector.refs, known))
    problems.extend(check_cycles(collector.refs, known, list(first)))
    problems.extend(check_workflow_names(list(entries.values())))
    problems.extend(check_task_queues(list(entries.values())))
    problems.extend(check_supervisors(list(entries.values())))
    if lua_checker is not None:
        for entry in entries.values():
            if isinstance(entry, LuaEntry):
                problems.extend(lua_checker(entry))
    if problems:
        order = [None, *(_file_scope(collector, r, p).file for r, p in files)]
        raise RegistryError(_sort(problems, order))
    return Registry(entries=MappingProxyType(entries), config=config)
