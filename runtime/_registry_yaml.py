"""Safe YAML loading that remembers line numbers and reports duplicate keys.

See docs/reference/yaml-kinds.md, "Files".

Mappings load as :class:`YamlMap` and sequences as :class:`YamlSeq`: ordinary ``dict`` and
``list`` objects that also carry the 1-based line of the node and of each key or item, so
validation problems can point at the offending line. Everything else follows
``yaml.safe_load``: no Python tags; anchors, aliases and merge keys are allowed.

Aliases are bounded: a document whose aliases would repeat more than
:data:`MAX_ALIAS_NODES` nodes (a "billion laughs" bomb of a few hundred bytes expands
to millions) or that refers to an anchor from inside itself is refused while it is
composed, before anything is expanded (docs/sandbox.md, "Inputs the node does not
trust").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterator
from typing import Any, cast

import attrs
import yaml

__all__ = [
    "MAX_ALIAS_NODES",
    "AliasLimitError",
    "DuplicateKey",
    "YamlMap",
    "YamlSeq",
    "describe",
    "item_line",
    "key_line",
    "load_yaml",
    "node_line",
    "to_plain",
    "yaml_error",
]


class YamlMap(dict[Any, Any]):
    """A YAML mapping that knows its line and the line of each key.

    Attributes:
        line: 1-based line where the mapping starts, or ``None``.
        key_lines: key -> 1-based line of the key.
    """

    __slots__ = ("key_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line: int | None = line
        self.key_lines: dict[Any, int] = {}

    def copy_with_lines(self) -> YamlMap:
        """A shallow copy that keeps the line information."""
        other = YamlMap(self.line)
        other.update(self)
        other.key_lines.update(self.key_lines)
        return other


class YamlSeq(list[Any]):
    """A YAML sequence that knows its line and the line of each item.

    Attributes:
        line: 1-based line where the sequence starts, or ``None``.
        item_lines: 1-based line of each item, by index.
    """

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line: int | None = line
        self.item_lines: list[int] = []


@attrs.frozen
class DuplicateKey:
    """A key given twice in one mapping.

    Attributes:
        key: the key.
        line: 1-based line of the second occurrence.
        first_line: 1-based line of the first occurrence.
    """

    key: Any
    line: int
    first_line: int


def node_line(value: Any) -> int | None:
    """The line where a loaded mapping or sequence starts, if known."""
    return getattr(value, "line", None) if isinstance(value, (YamlMap, YamlSeq)) else None


def key_line(mapping: Any, key: Any) -> int | None:
    """The line of ``key`` in a loaded mapping, falling back to the mapping's own line."""
    if isinstance(mapping, YamlMap):
        return mapping.key_lines.get(key, mapping.line)
    return None


def item_line(seq: Any, index: int) -> int | None:
    """The line of item ``index`` of a loaded sequence, falling back to the sequence's line."""
    if isinstance(seq, YamlSeq):
        if 0 <= index < len(seq.item_lines):
            return seq.item_lines[index]
        return seq.line
    return None


#: Most nodes the aliases of one YAML document may repeat, counted after expansion.
MAX_ALIAS_NODES = 100_000


class AliasLimitError(yaml.composer.ComposerError):
    """A document's aliases repeat too much, or an alias refers to its own anchor."""


def _mark(event: yaml.Event) -> yaml.error.Mark | None:
    # The loader is SafeLoader, whose pure-Python parser makes every mark a yaml.error.Mark;
    # the stubs also allow the C parser's marks, which MarkedYAMLError's annotation does not.
    return cast("yaml.error.Mark | None", event.start_mark)


class _Loader(yaml.SafeLoader):
    """A SafeLoader building :class:`YamlMap` / :class:`YamlSeq` and recording duplicates.

    While composing it counts, for every node, how many nodes it stands for once every
    alias inside it is expanded (``_sizes``), and adds the size of each alias's target
    to ``_repeated``. That sum is exactly the number of nodes the aliases add to the
    expanded document, so checking it at each alias refuses a bomb in linear time,
    before the constructor or any later walk over the data expands it.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[DuplicateKey] = []
        self._sizes: dict[int, int] = {}
        self._repeated = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Composes one node, counting what aliases repeat (see the class docstring)."""
        if self.check_event(yaml.AliasEvent):
            # PyYAML's stubs leave Parser.peek_event unannotated (the event is the alias)
            event: yaml.AliasEvent = self.peek_event()  # type: ignore[no-untyped-call]
            target = self.anchors.get(event.anchor)
            if target is not None:
                self._count_alias(event, target)
            return super().compose_node(parent, index)
        node = super().compose_node(parent, index)
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._sizes.get(id(child), 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                size += self._sizes.get(id(key), 1) + self._sizes.get(id(value), 1)
        self._sizes[id(node)] = size
        return node

    def _count_alias(self, event: yaml.AliasEvent, target: yaml.Node) -> None:
        size = self._sizes.get(id(target))
        if size is None:  # the anchor's node is still being composed
            raise AliasLimitError(
                None,
                None,
                f"alias *{event.anchor} refers to its own anchor "
                "(recursive YAML structures are not allowed)",
                _mark(event),
            )
        self._repeated += size
        if self._repeated > MAX_ALIAS_NODES:
            raise AliasLimitError(
                None,
                None,
                f"YAML aliases repeat more than {MAX_ALIAS_NODES} nodes in this document "
                f"(limit reached at *{event.anchor}); anchors and aliases are allowed, "
                "but not an expansion this large",
                _mark(event),
            )


def _hashable_key(loader: _Loader, node: yaml.Node) -> Any:
    key = loader.construct_object(node, deep=True)
    if not isinstance(key, Hashable):
        raise yaml.constructor.ConstructorError(
            "while constructing a mapping", None, "found an unhashable key", node.start_mark
        )
    return key


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[YamlMap]:
    data = YamlMap(node.start_mark.line + 1)
    yield data
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = _hashable_key(loader, key_node)
        line = key_node.start_mark.line + 1
        if key in seen:
            loader.duplicates.append(DuplicateKey(key, line, seen[key]))
        else:
            seen[key] = line
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = _hashable_key(loader, key_node)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterator[YamlSeq]:
    data = YamlSeq(node.start_mark.line + 1)
    yield data
    for child in node.value:
        data.append(loader.construct_object(child, deep=True))
        data.item_lines.append(child.start_mark.line + 1)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def load_yaml(text: str) -> tuple[Any, list[DuplicateKey]]:
    """Loads one YAML document with safe-loader semantics.

    Args:
        text: the document.

    Returns:
        The loaded value (``None`` for an empty document) and the duplicate keys found.

    Raises:
        AliasLimitError: the aliases repeat more than :data:`MAX_ALIAS_NODES` nodes, or one
            refers to its own anchor.
        yaml.YAMLError: the text is not valid YAML or holds more than one document.
    """
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    return data, loader.duplicates


def to_plain(value: Any, _memo: dict[int, Any] | None = None) -> Any:
    """A deep copy of a loaded value made of plain ``dict`` and ``list`` (aliases kept shared).

    Args:
        value: a value returned by :func:`load_yaml` or built from such values.

    Returns:
        The copy.
    """
    memo = {} if _memo is None else _memo
    if isinstance(value, dict):
        if id(value) in memo:
            return memo[id(value)]
        out: dict[Any, Any] = {}
        memo[id(value)] = out
        for key, item in value.items():
            out[key] = to_plain(item, memo)
        return out
    if isinstance(value, list):
        if id(value) in memo:
            return memo[id(value)]
        seq: list[Any] = []
        memo[id(value)] = seq
        seq.extend(to_plain(item, memo) for item in value)
        return seq
    return value


def describe(value: Any) -> str:
    """Names the YAML type of ``value`` for a message (``"an integer (5)"``, ``"a list"``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a float ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'a string ("{shown}")' if value else "an empty string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"a timestamp ({value.isoformat()})"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, set):
        return "a set"
    return f"a {type(value).__name__}"


def yaml_error(exc: yaml.YAMLError) -> tuple[str, int | None]:
    """A one-line message and the 1-based line of a YAML parse error."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem is None:
        message = " ".join(str(exc).split())
    elif context and not context.startswith("while "):
        message = f"{context}, {problem}"
    else:
        message = problem
    return message, (mark.line + 1 if mark is not None else None)
