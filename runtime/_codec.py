"""The Python side of the payload codec and the CLI's JSON rendering.

See docs/reference/semantics.md, "Payloads".

Lua values leave a Lua state as msgpack written by ``runtime/lua/codec.lua``; this module reads
and writes the same bytes for Python values:

=========================  =====================================  ==============================
Python (encode)            msgpack                                Python (decode)
=========================  =====================================  ==============================
``None``, ``bool``         nil, bool                              ``None``, ``bool``
``int`` (int64 range)      smallest int format                    ``int``
``float``                  float64                                ``float``
``str``                    str                                    ``str``
``bytes``, ``bytearray``   bin                                    ``str`` if valid UTF-8, else
                                                                  ``bytes`` (str alike)
``list``, ``tuple``        array                                  ``list``
``dict``                   map, keys sorted (integers ascending,  ``dict``
                           then strings bytewise)
:class:`ErrorValue`        ext type 1 holding the map             :class:`ErrorValue`
                           ``{kind, message, retryable, details}``
=========================  =====================================  ==============================

Lua has one string type, so a Lua ``bin`` (a string that is not valid UTF-8) and a ``str`` both
decode to ``str`` when they can; only bytes that are not UTF-8 stay ``bytes``. ``None`` inside a
list becomes a hole in the Lua table, and an empty ``dict`` and an empty ``list`` both become the
empty Lua table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import attrs
import msgpack

from ._errors import InvalidError, OrreryError, UsageError, error_for

__all__ = [
    "MAX_DEPTH",
    "ErrorValue",
    "decode",
    "encode",
    "from_json_text",
    "to_json_text",
]

#: Maximum nesting depth of tables and error objects (docs/reference/semantics.md, "Payloads").
MAX_DEPTH = 128

_ERROR_EXT = 1
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_MSG_DEPTH = f"value is nested deeper than {MAX_DEPTH} levels"
_MSG_CYCLE = "cannot send a value that contains itself"


@attrs.frozen
class ErrorValue:
    """A Lua error object as plain data (msgpack ext type 1).

    Attributes:
        kind: the error kind (``"NotFound"``, ... or any string a program chose).
        message: the message, including any wrap prefixes.
        retryable: ``True``, ``False`` or ``None`` (unspecified).
        details: the details table, or ``None``. A Lua table is always a ``dict`` here, even
            when its keys are ``1..n``, so that ``details`` has one type.

    .. versionadded:: 0.1
    """

    kind: str
    message: str
    retryable: bool | None = None
    details: dict[Any, Any] | None = None

    def to_exception(self) -> OrreryError:
        """The exception of :mod:`orrery.errors` that matches this error's kind."""
        return error_for(self.kind, self.message, retryable=self.retryable, details=self.details)

    @classmethod
    def from_exception(cls, exc: OrreryError) -> ErrorValue:
        """The error value of an orrery exception (details become ``None`` when empty)."""
        return cls(exc.kind, exc.message, exc.retryable, dict(exc.details) or None)


# ---------------------------------------------------------------------------------------------
# encode
# ---------------------------------------------------------------------------------------------


def _key_order(key: int | str | bytes) -> tuple[int, int | bytes]:
    if isinstance(key, int):
        return (0, key)
    if isinstance(key, str):
        return (1, key.encode("utf-8", "surrogatepass"))
    return (1, key)


def _check_int(value: int) -> int:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise InvalidError(f"integer {value} does not fit in 64 signed bits")
    return int(value)


def _prepare(value: Any, depth: int, path: set[int]) -> Any:
    """Checks ``value`` and returns what msgpack should pack for it (dicts with sorted keys)."""
    if value is None or isinstance(value, bool | float | str):
        return value
    if isinstance(value, int):
        return _check_int(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, ErrorValue | list | tuple | Mapping):
        if depth > MAX_DEPTH:
            raise InvalidError(_MSG_CYCLE if id(value) in path else _MSG_DEPTH)
        path.add(id(value))
        try:
            if isinstance(value, ErrorValue):
                return _prepare_error(value, depth, path)
            if isinstance(value, list | tuple):
                return [_prepare(item, depth + 1, path) for item in value]
            return _prepare_map(value, depth, path)
        finally:
            path.discard(id(value))
    raise InvalidError(f"value of type {type(value).__name__} cannot be sent")


def _prepare_map(
    value: Mapping[Any, Any], depth: int, path: set[int]
) -> dict[Any, Any] | list[Any]:
    if not value:
        return []  # the empty table is an empty array, as the Lua encoder writes it
    keys: list[int | str | bytes] = []
    for key in value:
        if isinstance(key, bool) or not isinstance(key, int | str | bytes):
            raise InvalidError(f"table keys must be strings or integers (got {type(key).__name__})")
        keys.append(_check_int(key) if isinstance(key, int) else key)
    keys.sort(key=_key_order)
    return {key: _prepare(value[key], depth + 1, path) for key in keys}


def _prepare_error(value: ErrorValue, depth: int, path: set[int]) -> msgpack.ExtType:
    if not isinstance(value.kind, str) or not isinstance(value.message, str):
        raise InvalidError("error object needs a string kind and a string message")
    if value.retryable is not None and not isinstance(value.retryable, bool):
        raise InvalidError("error object has a retryable flag that is not a boolean")
    fields: dict[str, Any] = {}  # in encoder key order
    if value.details is not None:
        if not isinstance(value.details, Mapping):
            raise InvalidError("error object has details that are not a table")
        fields["details"] = _prepare(value.details, depth + 1, path)
    fields["kind"] = value.kind
    fields["message"] = value.message
    if value.retryable is not None:
        fields["retryable"] = value.retryable
    return msgpack.ExtType(_ERROR_EXT, _pack(fields))


def _pack(prepared: Any) -> bytes:
    try:
        packed: bytes = msgpack.packb(prepared, use_bin_type=True)
    except UnicodeEncodeError as exc:
        raise InvalidError(f"string is not encodable as UTF-8: {exc.reason}") from exc
    return packed


def encode(value: Any) -> bytes:
    """Encode a Python value as the msgpack a Lua state decodes.

    See docs/reference/semantics.md, "Payloads".

    Equal values always give equal bytes: map keys are written integers first (ascending), then
    strings in byte order, which is the order the Lua encoder uses.

    Raises:
        InvalidError: the value (or something inside it) cannot be sent: an unsupported type,
            an integer outside int64, a key that is neither a string nor an integer, nesting
            deeper than :data:`MAX_DEPTH`, or a container that contains itself.
    """
    return _pack(_prepare(value, 1, set()))


# ---------------------------------------------------------------------------------------------
# decode
# ---------------------------------------------------------------------------------------------


def _text(raw: bytes) -> str | bytes:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _finish(value: Any) -> Any:
    """Turns the raw unpacked structure into the documented Python values."""
    if isinstance(value, bytes):
        return _text(value)
    if isinstance(value, list):
        return [_finish(item) for item in value]
    if isinstance(value, dict):
        return {_finish(key): _finish(item) for key, item in value.items()}
    return value


def _as_table(value: Any) -> dict[Any, Any] | None:
    """A decoded Lua table as a dict (arrays keyed ``1..n``, holes left out)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {i: item for i, item in enumerate(value, 1) if item is not None}
    return None


def _ext_hook(code: int, data: bytes) -> ErrorValue:
    if code != _ERROR_EXT:
        raise InvalidError(f"malformed payload: unknown msgpack extension type {code}")
    fields = decode(data)
    if not isinstance(fields, dict):
        raise InvalidError("malformed payload: error object is not a map")
    kind, message = fields.get("kind"), fields.get("message")
    retryable, details = fields.get("retryable"), fields.get("details")
    table = _as_table(details)
    if (
        not isinstance(kind, str)
        or not isinstance(message, str)
        or (retryable is not None and not isinstance(retryable, bool))
        or (details is not None and table is None)
        or not set(fields) <= {"kind", "message", "retryable", "details"}
    ):
        raise InvalidError("malformed payload: bad error object")
    return ErrorValue(kind, message, retryable, table)


def decode(data: bytes) -> Any:
    """Decode msgpack written by a Lua state (or by :func:`encode`) into Python values.

    Strings (``str`` and ``bin``) become ``str`` when they are valid UTF-8 and ``bytes``
    otherwise; maps become dicts (integer keys stay integers), arrays lists (a Lua hole is
    ``None``), ext type 1 an :class:`ErrorValue`.

    Raises:
        InvalidError: the bytes are not well-formed msgpack of a payload.
    """
    try:
        raw = msgpack.unpackb(
            data, raw=True, strict_map_key=False, use_list=True, ext_hook=_ext_hook
        )
    except InvalidError:
        raise
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise InvalidError(f"malformed payload: {exc}") from exc
    return _finish(raw)


# ---------------------------------------------------------------------------------------------
# JSON for the command line (docs/reference/cli.md)
# ---------------------------------------------------------------------------------------------

_MSG_BINARY = "result contains a binary string that is not valid UTF-8"


def _json_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _json_key(key: Any) -> str:
    if isinstance(key, bool) or not isinstance(key, int | str | bytes):
        raise InvalidError(f"result contains a table key of type {type(key).__name__}")
    if isinstance(key, int):
        return _json_string(str(key))
    if isinstance(key, bytes):
        text = _text(key)
        if isinstance(text, bytes):
            raise InvalidError(_MSG_BINARY)
        key = text
    return _json_string(key)


def _render_key_order(key: Any) -> tuple[int, Any]:
    if isinstance(key, int):
        return (0, key)
    if isinstance(key, bytes):
        return (1, key)
    return (1, str(key).encode("utf-8", "surrogatepass"))


def _render_table(items: dict[Any, Any], out: list[str]) -> None:
    count = len(items)
    if count == 0:
        out.append("{}")
        return
    if all(isinstance(k, int) and not isinstance(k, bool) for k in items) and (
        min(items) == 1 and max(items) == count
    ):
        out.append("[")
        for i in range(1, count + 1):
            if i > 1:
                out.append(",")
            _render(items[i], out)
        out.append("]")
        return
    out.append("{")
    first = True
    for key in sorted(items, key=_render_key_order):
        if not first:
            out.append(",")
        first = False
        out.append(_json_key(key))
        out.append(":")
        _render(items[key], out)
    out.append("}")


def _render(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        # float.__repr__ always keeps a fraction or an exponent: 2.0, 1e+16.
        out.append(repr(float(value)) if math.isfinite(value) else "null")
    elif isinstance(value, str):
        out.append(_json_string(value))
    elif isinstance(value, bytes):
        text = _text(value)
        if isinstance(text, bytes):
            raise InvalidError(_MSG_BINARY)
        out.append(_json_string(text))
    elif isinstance(value, ErrorValue):
        out.append(f'{{"kind":{_json_string(value.kind)},"message":{_json_string(value.message)}}}')
    elif isinstance(value, list | tuple):
        _render_table({i: v for i, v in enumerate(value, 1) if v is not None}, out)
    elif isinstance(value, Mapping):
        _render_table({k: v for k, v in value.items() if v is not None}, out)
    else:
        raise InvalidError(f"result contains a value of type {type(value).__name__}")


def to_json_text(value: Any) -> str:
    """Render a decoded Lua value as the one-line JSON the CLI prints (docs/reference/cli.md).

    The value is read the way Lua sees it: a list is a table keyed ``1..n`` whose ``None``
    elements are holes, and ``None`` members of a dict are absent. Then:

    * a table whose keys are exactly ``1..n`` (n ≥ 1) is an array; the empty table is ``{}``;
      any other table is an object whose keys are sorted like the encoder's (integers
      ascending, written as decimal strings, then strings in byte order);
    * integers stay integers; floats keep a fraction or an exponent (``2.0``); NaN and
      infinities are ``null``;
    * an :class:`ErrorValue` is ``{"kind": ..., "message": ...}``.

    The text is compact (``","`` and ``":"`` without spaces) and keeps non-ASCII characters
    as they are.

    Raises:
        InvalidError: a string is not valid UTF-8 (``bytes``), or the value holds something
            that is not a decoded Lua value.
    """
    out: list[str] = []
    _render(value, out)
    return "".join(out)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range for a 64-bit float")
    return value


def from_json_text(text: str, *, source: str | None = None) -> Any:
    """Parse a JSON argument of the CLI (``--input``, ``call`` arguments) into Python values.

    Standard JSON only: ``NaN`` and ``Infinity`` are refused. Integers stay ``int``, numbers
    with a fraction or exponent become ``float``.

    Args:
        text: the JSON text.
        source: what the text is (``"--input"``, ``"argument 2"``), to prefix the message.

    Raises:
        UsageError: the text is not valid JSON (the message gives line and column), or
            holds a value Lua cannot receive (an integer beyond 64 bits, a number that
            overflows a float, a string with lone surrogates, nesting beyond the limit).
    """
    prefix = f"{source}: " if source else ""
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
        encode(value)  # what Lua cannot receive is refused here, before a node boots
    except InvalidError as exc:
        raise UsageError(f"{prefix}{exc.message}") from exc
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{prefix}invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{prefix}invalid JSON: {exc}") from exc
    return value
